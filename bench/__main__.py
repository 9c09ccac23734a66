"""`make bench`: what changing an avatar costs, printed as one table and written to results.md.

Starts its own local stack on free ports, unless BENCH_APP_URL (and
BENCH_EMULATOR_URL, default http://127.0.0.1:5000) name one that `make run`
started. Exits 1 if a target is not met.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .bucket_view import measure_bucket_view
from .call_counts import count_calls
from .calls import CallRecorder
from .cold_start import measure_cold_start
from .finalize_overhead import compare_finalize
from .image_processing import measure_image_processing
from .load import run_load, users_label
from .metrics_library import compare_metrics_libraries
from .photo_bytes import measure_photo_bytes
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
    parser.add_argument("--image-runs", type=int, default=20, help="timed runs per image")
    parser.add_argument(
        "--worst-case-megapixels",
        type=float,
        help="size of the worst-case images (default: the stage's MAX_IMAGE_PIXELS)",
    )
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
            title = f"{users_label(users)} at once"
            figures += step(title, run_load, stack, users, options.load_seconds)
        figures += step("bytes of a 12 MP photo: picked, sent, served", measure_photo_bytes, stack)
        settings = stack.settings
    # With the stack stopped, so that its processes take no CPU from the timings.
    worst_case_pixels = (
        int(options.worst_case_megapixels * 1_000_000) if options.worst_case_megapixels else None
    )
    figures += step(
        "image processing, Pillow and libvips",
        measure_image_processing,
        settings,
        options.image_runs,
        worst_case_pixels,
    )
    figures += step("cold start", measure_cold_start, options.import_runs)
    figures += step(
        "metrics library: Powertools and aws-embedded-metrics",
        compare_metrics_libraries,
        options.import_runs,
    )
    return figures


def step(title, measure, *arguments) -> list:
    """Run one part of the benchmark, saying what it is and how long it took."""
    started = time.perf_counter()
    print(f"- {title} ...", end="", flush=True)
    figures = measure(*arguments)
    print(f" {time.perf_counter() - started:.1f} s", flush=True)
    return figures


def describe_run(options):
    """How this run was made, for results.md; and whether it is a reference run
    (the defaults, on a stack of its own), the only kind README quotes."""
    defaults = vars(parse_arguments([]))
    changed = {
        name: value
        for name, value in vars(options).items()
        if name != "output" and value != defaults[name]
    }
    running = os.environ.get("BENCH_APP_URL")
    stack = (
        f"the running stack at {running}"
        if running
        else "started by the benchmark, the emulator in a process of its own"
    )
    lines = [
        f"- stack: {stack}",
        "- options: "
        + (
            ", ".join(f"--{name.replace('_', '-')} {value}" for name, value in changed.items())
            or "the defaults"
        ),
        f"- code: {code_version()}",
    ]
    return "\n".join(lines), not changed and not running


def code_version() -> str:
    """The commit measured, and whether the code differs from it."""

    def git(*arguments):
        return subprocess.run(
            ["git", *arguments], cwd=README.parent, capture_output=True, text=True
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown (not a git checkout)"
    # What this run writes (and the screenshot every test run writes) is not
    # a change to what it measures.
    changed = git(
        "status",
        "--porcelain",
        "--",
        ".",
        ":(exclude)bench/results.md",
        ":(exclude)README.md",
        ":(exclude)docs",
    )
    return f"commit {commit}" + (", with uncommitted changes" if changed else "")


def main(argv=None) -> int:
    options = parse_arguments(argv)
    how, reference_run = describe_run(options)
    started = time.perf_counter()
    figures = run(options)
    elapsed = time.perf_counter() - started
    print()
    print(table(figures))
    write_results(options.output, figures, elapsed, how)
    print(f"\nWritten to {options.output} ({elapsed:.0f} s).")
    if options.output == RESULTS and reference_run:
        quote_in_readme(README, figures)
    else:
        print("README not updated: it quotes only a run with the defaults on a stack of its own.")
    failures = missed(figures)
    for figure in failures:
        print(
            f"NOT MET: {figure.name}: {figure.measured} (target {figure.target})", file=sys.stderr
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
