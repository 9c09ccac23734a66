"""Start the real local stack (moto server + the app as `chalice local` serves it) for a test."""

import contextlib
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 60


@contextlib.contextmanager
def running_stack(module="devtools.local_stack"):
    """Run `python -m <module>` on free ports; yield its base URL and its output lines."""
    environ = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environ.update(MOTO_PORT="0", PORT="0", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    try:
        yield {"url": _wait_for_url(process, lines), "lines": lines}
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_url(process, lines):
    deadline = time.monotonic() + STARTUP_SECONDS
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        match = re.search(r"App:\s+(http://127\.0\.0\.1:\d+/)", line)
        if match:
            return match.group(1)
    raise AssertionError("the local stack did not start:\n" + "".join(seen[-30:]))


def post_file(form, content, content_type="image/png"):
    """Step 2 as the browser does it: the form's fields, then the file, last."""
    return requests.post(
        form["url"],
        data={**form["fields"], "Content-Type": content_type},
        files={"file": ("upload", content, content_type)},
        timeout=10,
    )
