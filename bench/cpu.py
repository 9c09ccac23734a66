"""CPU time used by the processes the benchmark started, from /proc (Linux)."""

import os
from pathlib import Path
from typing import Dict, Optional


def cpu_seconds(pid: int) -> Optional[float]:
    """User plus system CPU seconds of every thread of `pid`, or None if unknown."""
    try:
        # The command name (field 2) may hold spaces; the fields after it do not.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    user_ticks, system_ticks = int(fields[11]), int(fields[12])  # utime, stime
    return (user_ticks + system_ticks) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Each process's CPU use between start() and shares(), as a share of one core."""

    def __init__(self, process_ids: Dict[str, int]):
        self._process_ids = dict(process_ids, benchmark=os.getpid())
        self._started = {}
        self._wall = 0.0

    def start(self, wall_seconds: float) -> None:
        self._wall = wall_seconds
        self._started = {role: cpu_seconds(pid) for role, pid in self._process_ids.items()}

    def shares(self, wall_seconds: float) -> Dict[str, float]:
        elapsed = wall_seconds - self._wall
        shares = {}
        for role, pid in self._process_ids.items():
            now, before = cpu_seconds(pid), self._started.get(role)
            if now is not None and before is not None and elapsed > 0:
                shares[role] = (now - before) / elapsed
        return shares
