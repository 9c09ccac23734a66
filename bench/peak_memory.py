"""A process's peak resident memory around one call (Linux).

The kernel's high-water mark (VmHWM) is reset to the current size just
before the call, so the peak read after it is that call's. `ru_maxrss` cannot
be reset, and a child process starts with its parent's.
"""

import re
from pathlib import Path


def reset_peak() -> bool:
    """Reset this process's high-water mark to its current RSS (Linux 4.0+);
    False where /proc/self/clear_refs is missing."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def status_bytes(field: str) -> int:
    """A size field of /proc/self/status (VmRSS, VmHWM...), in bytes."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE).group(1)) * 1024
