"""GET /debug/bucket over a fuller bucket: its calls and how long it takes.

The view needs one HEAD per object (Content-Type, metadata and expiry are not
in a listing), so it is the one request whose cost grows with the data.
"""

import time

from .calls import CallRecorder
from .client import AvatarClient
from .fixtures import delete_keys, listed_keys, put_pending
from .images import png_of_size
from .report import Figure
from .stats import summarize, timing

SECTION = "GET /debug/bucket"
FILLER_OWNER = "bench-filler"
TARGET_SECONDS = 3.0


def measure_bucket_view(stack, recorder: CallRecorder, object_count: int, runs: int) -> list:
    """Fill `pending/` up to `object_count` listed objects, measure, remove the filler."""
    content = png_of_size(2_000, seed=2)
    filler = []
    try:
        for _ in range(object_count - len(listed_keys(stack))):
            filler.append(stack.settings.pending_prefix + put_pending(stack, FILLER_OWNER, content))
        with AvatarClient(stack.app_url) as client:
            with recorder.recording() as recording:
                view = _view(client)
            seconds = []
            for _ in range(runs):
                started = time.perf_counter()
                _view(client)
                seconds.append(time.perf_counter() - started)
    finally:
        delete_keys(stack, filler)
    heads = recording.operations.count("HeadObject")
    calls = len(recording.operations)
    label = f"GET /debug/bucket, {view['total']} objects"
    if len(view["objects"]) < view["total"]:
        label += f" ({len(view['objects'])} described)"
    summary = summarize(seconds)
    return [
        Figure(
            SECTION, f"{label}: AWS calls", f"{calls} ({heads} HeadObject, {calls - heads} other)"
        ),
        Figure(
            SECTION,
            f"{label}: time, {runs} requests",
            timing(summary),
            f"p95 <= {TARGET_SECONDS:.0f} s",
            summary.p95 <= TARGET_SECONDS,
        ),
    ]


def _view(client) -> dict:
    answer = client.request("GET", "debug/bucket")
    if answer.status_code != 200:
        raise RuntimeError(f"GET /debug/bucket answered {answer.status_code}")
    return answer.json()
