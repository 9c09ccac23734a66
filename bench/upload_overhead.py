"""A whole three-phase change against one bare POST of the same file.

The bare POST is the cheapest way to put a file in the bucket: a form the
benchmark signs itself, posted to the same bucket and prefix, with no check and
no database. On loopback the upload costs almost nothing, so the ratio is also
given for a modelled client link, adding the file's transfer time to both sides.
"""

import functools
import secrets
import time

import requests

from .client import AvatarClient, post_form
from .fixtures import delete_keys, ensure_user, wait_for_event_bridge
from .images import png_of_size
from .report import Figure
from .stats import alternate, ms, summarize

SECTION = "Three-phase change / bare POST of the same file"
USER = "bench-upload"
SIZES = (50_000, 500_000, 1_000_000)
LINK_BITS_PER_SECOND = 10_000_000
TARGETED_SIZE = 500_000
TARGET_RATIO = 1.2
WARMUP_RUNS = 1


def compare_uploads(stack, runs: int) -> list:
    ensure_user(stack, USER)
    bare_keys = []
    figures = []
    with AvatarClient(stack.app_url).sign_in(USER) as client, requests.Session() as bare_http:
        try:
            for size in SIZES:
                content = png_of_size(size, seed=size)
                seconds = alternate(
                    {
                        "change": functools.partial(_change, stack, client, content),
                        "bare": functools.partial(_bare_post, stack, bare_http, content, bare_keys),
                    },
                    runs,
                    WARMUP_RUNS,
                )
                change, bare = summarize(seconds["change"]), summarize(seconds["bare"])
                figures.extend(_figures(size, change, bare))
        finally:
            delete_keys(stack, bare_keys)
    return figures


def _change(stack, client, content) -> float:
    wait_for_event_bridge(stack)
    return client.change_avatar(content).seconds


def _bare_post(stack, http, content, keys) -> float:
    key = stack.settings.pending_prefix + secrets.token_hex(16)
    form = stack.s3.generate_presigned_post(Bucket=stack.settings.bucket_name, Key=key)
    keys.append(key)
    wait_for_event_bridge(stack)
    started = time.perf_counter()
    post_form(http, form, content)
    return time.perf_counter() - started


def modelled_ratio(change: float, bare: float, transfer: float, round_trip: float = 0.0) -> float:
    """Three-phase over bare when a slow link adds `transfer` to each upload
    and `round_trip` to each request: three requests against one."""
    return (change + transfer + 3 * round_trip) / (bare + transfer + round_trip)


def break_even_round_trip(change: float, bare: float, transfer: float, ratio: float) -> float:
    """The round-trip time up to which `modelled_ratio` stays within `ratio`."""
    return max((ratio * (bare + transfer) - (change + transfer)) / (3 - ratio), 0.0)


def _figures(size, change, bare):
    transfer = size * 8 / LINK_BITS_PER_SECOND
    loopback = change.median / bare.median
    modelled = modelled_ratio(change.median, bare.median, transfer)
    label = f"{size // 1_000_000} MB" if size >= 1_000_000 else f"{size // 1000} KB"
    label += f", {change.count} runs"
    measured = (
        f"three-phase {ms(change.median)} / bare {ms(bare.median)} = {loopback:.2f} on loopback; "
        f"{modelled:.2f} at 10 Mbit/s (+{ms(transfer)} each)"
    )
    if size != TARGETED_SIZE:
        return [Figure(SECTION, f"{label}: three-phase / bare, medians", measured)]
    break_even = break_even_round_trip(change.median, bare.median, transfer, TARGET_RATIO)
    return [
        Figure(SECTION, f"{label}: three-phase / bare, medians", measured),
        Figure(
            SECTION,
            f"{label}: three-phase / bare, modelled 10 Mbit/s link, medians",
            f"{modelled:.2f} (transfer time only; <= {TARGET_RATIO} while a round trip "
            f"takes under {ms(break_even)})",
            f"<= {TARGET_RATIO}",
            modelled <= TARGET_RATIO,
        ),
    ]
