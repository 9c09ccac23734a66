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
from .fixtures import delete_keys, ensure_user
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
    client = AvatarClient(stack.app_url).sign_in(USER)
    bare_http = requests.Session()
    bare_keys = []
    figures = []
    try:
        for size in SIZES:
            content = png_of_size(size, seed=size)
            seconds = alternate(
                {
                    "change": functools.partial(_change, client, content),
                    "bare": functools.partial(_bare_post, stack, bare_http, content, bare_keys),
                },
                runs,
                WARMUP_RUNS,
            )
            figures.extend(_figures(size, summarize(seconds["change"]), summarize(seconds["bare"])))
    finally:
        delete_keys(stack, bare_keys)
    return figures


def _change(client, content) -> float:
    return client.change_avatar(content).seconds


def _bare_post(stack, http, content, keys) -> float:
    key = stack.settings.pending_prefix + secrets.token_hex(16)
    form = stack.s3.generate_presigned_post(Bucket=stack.settings.bucket_name, Key=key)
    keys.append(key)
    started = time.perf_counter()
    post_form(http, form, content)
    return time.perf_counter() - started


def _figures(size, change, bare):
    transfer = size * 8 / LINK_BITS_PER_SECOND
    loopback = change.median / bare.median
    modelled = (change.median + transfer) / (bare.median + transfer)
    label = f"{size // 1_000_000} MB" if size >= 1_000_000 else f"{size // 1000} KB"
    measured = (
        f"three-phase {ms(change.median)} / bare {ms(bare.median)} = {loopback:.2f} on loopback; "
        f"{modelled:.2f} at 10 Mbit/s (+{ms(transfer)} each)"
    )
    if size != TARGETED_SIZE:
        return [Figure(SECTION, f"{label}: three-phase / bare, medians", measured)]
    return [
        Figure(SECTION, f"{label}: three-phase / bare, medians", measured),
        Figure(
            SECTION,
            f"{label}: three-phase / bare, modelled 10 Mbit/s link, medians",
            f"{modelled:.2f}",
            f"<= {TARGET_RATIO}",
            modelled <= TARGET_RATIO,
        ),
    ]
