"""The local stack, or the emulator alone, in a child process on free ports.

For the tests and the benchmark: each yields the URLs the child prints when it
is ready, and stops the child on exit. The helpers below also serve
devtools/localstack.py and the children's own wait for a stop signal.
"""

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 60
_EMULATOR_LINE = re.compile(r"Emulator:\s+(http://\S+)")
_APP_LINE = re.compile(r"App:\s+(http://127\.0\.0\.1:\d+/)")


@contextlib.contextmanager
def running_stack(module="devtools.local_stack", extra_environ=None):
    """Run `python -m <module>`; yield its app URL, emulator URL and output lines.

    The child gets none of this process's AWS_* variables, so it starts its own
    emulator unless `extra_environ` names one (AWS_ENDPOINT_URL).
    """
    with _running(module, extra_environ) as (process, lines):
        emulator = wait_for_line(_EMULATOR_LINE, process, lines)
        app = wait_for_line(_APP_LINE, process, lines)
        yield {"url": app, "emulator": emulator, "lines": lines, "pid": process.pid}


@contextlib.contextmanager
def running_emulator(extra_environ=None):
    """Run `python -m devtools.emulator`; yield its URL and process id."""
    with _running("devtools.emulator", extra_environ) as (process, lines):
        yield {"url": wait_for_line(_EMULATOR_LINE, process, lines), "pid": process.pid}


@contextlib.contextmanager
def _running(module, extra_environ):
    environ = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environ.update(MOTO_PORT="0", PORT="0", PYTHONUNBUFFERED="1", **(extra_environ or {}))
    process, lines = start_with_output([sys.executable, "-m", module], cwd=ROOT, env=environ)
    try:
        yield process, lines
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()  # never leave it holding its ports
            process.wait()


def start_with_output(command, **popen):
    """Start `command` with its output and errors merged; return the process
    and a queue that a daemon thread fills with its lines."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen
    )
    lines = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    return process, lines


def wait_until_stopped():
    """Block until SIGTERM or Ctrl-C: how a child started here is told to stop."""
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass


def wait_for_line(pattern, process, lines, name=None) -> str:
    """The first group of the first line of `lines` (a child's output) that
    matches `pattern`; RuntimeError with its last lines if it never comes."""
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
        match = pattern.search(line)
        if match:
            return match.group(1)
    raise RuntimeError(f"{name or process.args[-1]} did not start:\n" + "".join(seen[-30:]))
