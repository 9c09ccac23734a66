"""`make bench`: what changing an avatar costs, printed as one table and written to results.md.

Starts its own local stack on free ports, unless BENCH_APP_URL (and
BENCH_EMULATOR_URL, default http://127.0.0.1:5000) name one that `make run`
started. Exits 1 if a target is not met.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

from .bucket_view import measure_bucket_view
from .call_counts import count_calls
from .calls import CallRecorder
from .cold_start import measure_cold_start
from .finalize_overhead import compare_finalize
from .load import run_load
from .report import missed, quote_in_readme, table, write_results
from .stack import open_stack
from .upload_overhead import compare_uploads

RESULTS = Path(__file__).resolve().parent / "results.md"
README = RESULTS.parent.parent / "README.md"
BUCKET_VIEW_RUNS = 5


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="timed runs per comparison")
    parser.add_argument("--upload-runs", type=int, default=30, help="timed runs per upload size")
    parser.add_argument(
        "--load-seconds", type=float, default=20, help="seconds per concurrency level"
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--bucket-objects", type=int, default=200)
    parser.add_argument("--import-runs", type=int, default=15)
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the table")
    return parser.parse_args(argv)


def run(options) -> list:
    figures = []
    with (
        tempfile.TemporaryDirectory() as scratch,
        open_stack(Path(scratch) / "moto-recording.jsonl") as stack,
    ):
        recorder = CallRecorder(stack.emulator_url)
        figures += step("AWS calls per request", count_calls, stack, recorder)
        figures += step(
            f"GET /debug/bucket with {options.bucket_objects} objects",
            measure_bucket_view,
            stack,
            recorder,
            options.bucket_objects,
            BUCKET_VIEW_RUNS,
        )
        figures += step(
            "finalize: through the API and direct", compare_finalize, stack, options.runs
        )
        figures += step(
            "three-phase change and bare POST", compare_uploads, stack, options.upload_runs
        )
        for users in options.concurrency:
            title = f"{users} concurrent user{'s' if users > 1 else ''}"
            figures += step(title, run_load, stack, users, options.load_seconds)
    figures += step("cold start", measure_cold_start, options.import_runs)
    return figures


def step(title, measure, *arguments) -> list:
    """Run one part of the benchmark, saying what it is and how long it took."""
    started = time.perf_counter()
    print(f"- {title} ...", end="", flush=True)
    figures = measure(*arguments)
    print(f" {time.perf_counter() - started:.1f} s", flush=True)
    return figures


def main(argv=None) -> int:
    options = parse_arguments(argv)
    started = time.perf_counter()
    figures = run(options)
    elapsed = time.perf_counter() - started
    print()
    print(table(figures))
    write_results(options.output, figures, elapsed)
    print(f"\nWritten to {options.output} ({elapsed:.0f} s).")
    if options.output == RESULTS:
        quote_in_readme(README, figures)
    failures = missed(figures)
    for figure in failures:
        print(
            f"NOT MET: {figure.name}: {figure.measured} (target {figure.target})", file=sys.stderr
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
