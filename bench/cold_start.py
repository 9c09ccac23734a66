"""The Lambda's cold start, as far as the code decides it: importing `app`.

Each run is a fresh interpreter that imports boto3 and then the app, timing
each: the second figure is what the app adds on top of boto3, which any
Python Lambda that calls AWS pays anyway. Fresh interpreters importing only
one or the other are timed as well, alternately, as a cross-check.
"""

import json
import subprocess
import sys

from .report import Figure
from .stack import ROOT, stage_environment
from .stats import ms, summarize

SECTION = "Cold start (import in a fresh interpreter)"
TARGET_SECONDS = 0.060

_TIMED_IMPORTS = """
import json, time
times = []
for name in {names!r}:
    started = time.perf_counter()
    __import__(name)
    times.append(time.perf_counter() - started)
print(json.dumps(times))
"""


def measure_cold_start(runs: int) -> list:
    # app.py reads the stage's bucket name at import, as `chalice deploy` does.
    environment = stage_environment()
    # A first run writes the .pyc files, so that every timed run reads them.
    _import_times(["boto3", "app"], environment)
    boto3_then_app = [_import_times(["boto3", "app"], environment) for _ in range(runs)]
    app_alone, boto3_alone = [], []
    for _ in range(runs):
        app_alone.extend(_import_times(["app"], environment))
        boto3_alone.extend(_import_times(["boto3"], environment))
    added = summarize([times[1] for times in boto3_then_app])
    app_median, boto3_median = summarize(app_alone).median, summarize(boto3_alone).median
    return [
        Figure(SECTION, f"import boto3 alone, {runs} runs", f"median {ms(boto3_median)}"),
        Figure(SECTION, f"import app alone, {runs} runs", f"median {ms(app_median)}"),
        Figure(
            SECTION,
            "app alone minus boto3 alone, medians (noisy: see method.md)",
            ms(app_median - boto3_median),
        ),
        Figure(
            SECTION,
            f"import app after boto3 (app minus boto3), {runs} runs",
            f"median {ms(added.median)}, p95 {ms(added.p95)}",
            f"<= {ms(TARGET_SECONDS)}",
            added.median <= TARGET_SECONDS,
        ),
    ]


def _import_times(names, environment) -> list:
    completed = subprocess.run(
        [sys.executable, "-c", _TIMED_IMPORTS.format(names=names)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"importing {names} failed:\n{completed.stderr}")
    return json.loads(completed.stdout)
