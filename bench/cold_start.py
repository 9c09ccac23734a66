"""The Lambda's cold start, as far as the code decides it: importing `app`.

Each run is a fresh interpreter that imports boto3, then the app, then the
image module, timing each: the second figure is what the app adds on top of
boto3, which any Python Lambda that calls AWS pays anyway; the third is what
the first finalize of a fresh Lambda adds (Pillow is imported there, not with
the app, so the other routes never pay it). Fresh interpreters importing only
boto3 or only the app are timed as well, alternately, as a cross-check.
"""

from .child import run_python
from .report import Figure
from .stack import stage_environment
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
    in_order = ["boto3", "app", "chalicelib.images"]
    _import_times(in_order, environment)
    boto3_then_app = [_import_times(in_order, environment) for _ in range(runs)]
    app_alone, boto3_alone = [], []
    for _ in range(runs):
        app_alone.extend(_import_times(["app"], environment))
        boto3_alone.extend(_import_times(["boto3"], environment))
    added = summarize([times[1] for times in boto3_then_app])
    images = summarize([times[2] for times in boto3_then_app])
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
        Figure(
            SECTION,
            f"the first finalize's import of chalicelib.images (Pillow), after the app, {runs} runs",
            f"median {ms(images.median)}, p95 {ms(images.p95)}",
        ),
    ]


def _import_times(names, environment) -> list:
    return run_python(["-c", _TIMED_IMPORTS.format(names=names)], f"importing {names}", environment)
