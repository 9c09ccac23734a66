"""A Python child of the benchmark, measured apart from it: its answer is the JSON it prints."""

import json
import subprocess
import sys

from .stack import ROOT


def run_python(args, what: str, environment=None):
    """What `python <args>` prints, as JSON; RuntimeError naming `what` if it fails."""
    completed = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{completed.stderr}")
    return json.loads(completed.stdout)
