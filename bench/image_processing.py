"""What making an avatar costs the server: make_avatar (Pillow) beside libvips doing the same work.

Each input is timed in this process, the two libraries alternating run by run.
Each library's peak memory is measured apart, in a fresh interpreter per input
(bench/image_worker.py). Then the worst case finalize accepts, an image at the
pixel limit in each of the modes that cost the most to decode, is measured the
same way: what the Lambda's memory must hold.
"""

import io
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from PIL import Image

from chalicelib.images import AvatarRules

from .child import run_python
from .image_worker import LIBVIPS_SAVERS, avatar_maker
from .photos import (
    TWO_MEGAPIXEL_SIZE,
    phone_photo,
    prepared_like_the_page,
    warm_up_image,
    worst_case_images,
    worst_case_size,
)
from .report import Figure
from .stack import ROOT, stage_environment
from .stats import alternate, ms, summarize, timing

SECTION = "Server-side image processing: make_avatar (Pillow) beside libvips"
WORST_CASE_SECTION = "Worst case allowed, for the Lambda memory setting"
TARGETED_INPUT = "12 MP phone JPEG"
TARGET_SECONDS = 0.300
TARGET_RATIO = 1.5  # Pillow's median over libvips'
WARMUP_RUNS = 3
WORST_CASE_RUNS = 3
MIB = 1024 * 1024  # Lambda's "MB" of memory are these


def measure_image_processing(settings, runs: int, worst_case_pixels=None) -> list:
    """`worst_case_pixels` defaults to the stage's limit (MAX_IMAGE_PIXELS)."""
    rules = AvatarRules.from_settings(settings)
    photo = phone_photo()
    inputs = [
        (TARGETED_INPUT, photo, "JPEG"),
        ("2 MP JPEG", phone_photo(TWO_MEGAPIXEL_SIZE), "JPEG"),
        ("the page's 1024 px WebP, modelled with Pillow", prepared_like_the_page(photo), "WebP"),
    ]
    figures = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, data, kind in inputs:
            figures += _compare_libraries(Path(scratch), rules, name, data, kind, runs)
        figures += _worst_cases(
            Path(scratch),
            rules,
            worst_case_pixels or rules.max_pixels,
            settings.max_upload_bytes,
            min(runs, WORST_CASE_RUNS),
        )
    return figures


def _compare_libraries(scratch, rules, name, data, kind, runs) -> list:
    makers = {library: avatar_maker(library, asdict(rules)) for library in ("Pillow", "libvips")}
    outputs, cpu = {}, {library: [] for library in makers}

    def timed(library):
        def measure():
            started, started_cpu = time.perf_counter(), time.process_time()
            outputs[library] = makers[library](data)
            cpu[library].append(time.process_time() - started_cpu)
            return time.perf_counter() - started

        return measure

    seconds = alternate({library: timed(library) for library in makers}, runs, WARMUP_RUNS)
    label = f"{name} ({_dimensions(data)}, {_megabytes(len(data))})"
    figures, medians, cpu_medians = [], {}, {}
    for library, work in (
        ("Pillow", "make_avatar"),
        ("libvips", f"thumbnail_buffer + {LIBVIPS_SAVERS[rules.output_format][0]}"),
    ):
        summary = summarize(seconds[library])
        medians[library] = summary.median
        cpu_medians[library] = summarize(cpu[library][-runs:]).median
        memory = run_worker(scratch, library, rules, data, warm_up_image(kind), runs=0)
        figures.append(
            Figure(
                SECTION,
                f"{label}: {library} {work}, {runs} runs",
                f"{timing(summary)}, CPU {ms(cpu_medians[library])}; "
                f"peak memory {_growth(memory, digits=1)}; "
                f"out {len(outputs[library]):,} bytes {_dimensions(outputs[library])}",
            )
        )
    if name == TARGETED_INPUT:
        pillow = medians["Pillow"]
        ratio = pillow / medians["libvips"]
        cpu_ratio = cpu_medians["Pillow"] / cpu_medians["libvips"]
        figures += [
            Figure(
                SECTION,
                f"{name}: make_avatar, median",
                ms(pillow),
                f"<= {ms(TARGET_SECONDS)}",
                pillow <= TARGET_SECONDS,
            ),
            Figure(
                SECTION,
                f"{name}: Pillow / libvips, medians",
                f"{ratio:.2f} (CPU time: {cpu_ratio:.2f})",
                f"<= {TARGET_RATIO}",
                ratio <= TARGET_RATIO,
            ),
        ]
    return figures


def _worst_cases(scratch, rules, pixels, max_upload_bytes, runs) -> list:
    width, height = worst_case_size(pixels)
    figures = [
        Figure(
            WORST_CASE_SECTION,
            "the app's process before any upload: Python, boto3, the app, its clients, Pillow",
            f"{app_process_bytes() / MIB:.0f} MB resident",
        )
    ]
    for kind, data in worst_case_images(pixels).items():
        if len(data) > max_upload_bytes:
            raise RuntimeError(f"the worst-case {kind} is {len(data)} bytes, over the upload limit")
        pillow = run_worker(scratch, "Pillow", rules, data, warm_up_image(kind), runs)
        # Beside it for comparison only: one timed run.
        libvips = run_worker(scratch, "libvips", rules, data, warm_up_image(kind), min(runs, 1))
        figures.append(
            Figure(
                WORST_CASE_SECTION,
                f"{width}x{height} {kind} ({_megabytes(len(data))}): make_avatar, {runs} runs",
                f"median {_seconds(pillow)}; peak memory {_growth(pillow)} "
                f"over the process holding the upload; "
                f"libvips: {_seconds(libvips)}, {_growth(libvips)}",
            )
        )
    return figures


# What a warm Lambda holds before a finalize: the app imported, both clients
# built, and Pillow's codecs loaded by one small avatar.
_APP_PROCESS = """
import io
import re
from PIL import Image
import app
from chalicelib import aws
from chalicelib.images import AvatarRules, make_avatar
aws.s3_client(), aws.dynamodb_client()
for kind in ("PNG", "JPEG", "WEBP"):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buffer, format=kind)
    make_avatar(buffer.getvalue(), AvatarRules())
status = open("/proc/self/status").read()
print(int(re.search(r"VmRSS:\\s+(\\d+) kB", status).group(1)) * 1024)
"""


def app_process_bytes() -> int:
    """Resident memory of a fresh interpreter set up as a warm Lambda of the app is."""
    completed = subprocess.run(
        [sys.executable, "-c", _APP_PROCESS],
        cwd=ROOT,
        env=stage_environment(),
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"setting up the app's process failed:\n{completed.stderr}")
    return int(completed.stdout)


def run_worker(scratch: Path, library: str, rules, data: bytes, warm_up: bytes, runs: int) -> dict:
    """bench/image_worker.py's answer for `library` on `data`, in a fresh interpreter."""
    (scratch / "input").write_bytes(data)
    (scratch / "warm-up").write_bytes(warm_up)
    spec = {
        "library": library,
        "rules": asdict(rules),
        "input": str(scratch / "input"),
        "warm_up": str(scratch / "warm-up"),
        "runs": runs,
    }
    return run_python(["-m", "bench.image_worker", json.dumps(spec)], f"the {library} worker")


def _growth(result, digits=0) -> str:
    shown = f"+{result['growth_bytes'] / MIB:.{digits}f} MB"
    if result["peak_method"] != "VmHWM":
        shown += " (from ru_maxrss, which may read low)"
    return shown


def _seconds(result) -> str:
    return ms(summarize(result["seconds"]).median) if result["seconds"] else "not timed"


def _dimensions(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as image:
        return f"{image.width}x{image.height}"


def _megabytes(size: int) -> str:
    return f"{size / MIB:.2f} MB" if size >= MIB else f"{size / 1024:.0f} KB"
