"""Finalize through the API against the same work done directly: the app's own cost.

The direct chain is the floor on this emulator: what a successful finalize
must do, with the same parameters, from a boto3 client in this process: read
the upload, make the avatar from it (chalicelib.images.make_avatar, the same
image work), store it, point the user at it, delete what is stale. What the
API adds on top is HTTP, routing, the session check and JSON.
"""

import contextlib
import time

from chalicelib.images import AvatarRules, make_avatar
from chalicelib.uploads import AVATAR_CACHE_CONTROL, OWNER_METADATA

from .client import ApiError, AvatarClient
from .fixtures import ensure_user, put_pending, wait_for_event_bridge
from .images import png_of_size
from .report import Figure
from .stats import alternate, summarize, timing

SECTION = "Finalize: through the API / the same calls and image work direct"
API_USER = "bench-api"
DIRECT_USER = "bench-direct"
TARGET_RATIO = 1.3
WARMUP_RUNS = 5


def compare_finalize(stack, runs: int) -> list:
    content = png_of_size(20_000, seed=3)
    ensure_user(stack, API_USER)
    ensure_user(stack, DIRECT_USER)
    with AvatarClient(stack.app_url).sign_in(API_USER) as client:
        seconds = alternate(
            {
                "api": lambda: _api_finalize(stack, client, content),
                "direct": lambda: _direct_finalize(stack, content),
            },
            runs,
            WARMUP_RUNS,
        )
    api, direct = summarize(seconds["api"]), summarize(seconds["direct"])
    ratio = api.median / direct.median
    return [
        Figure(SECTION, f"finalize through the API, {runs} runs", timing(api)),
        Figure(
            SECTION,
            f"finalize's 4 calls and make_avatar direct with boto3, {runs} runs",
            timing(direct),
        ),
        Figure(
            SECTION,
            "finalize, API / direct, medians",
            f"{ratio:.2f} (p95s: {api.p95 / direct.p95:.2f})",
            f"<= {TARGET_RATIO}",
            ratio <= TARGET_RATIO,
        ),
    ]


def _api_finalize(stack, client, content) -> float:
    form = client.create_upload()
    client.post_file(form, content)
    wait_for_event_bridge(stack)
    started = time.perf_counter()
    answer = client.finalize(form["key"])
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise ApiError(f"finalize answered {answer.status_code}: {answer.text[:200]}")
    return elapsed


def _direct_finalize(stack, content) -> float:
    key = put_pending(stack, DIRECT_USER, content)
    wait_for_event_bridge(stack)
    started = time.perf_counter()
    direct_finalize_calls(stack, key)
    return time.perf_counter() - started


def direct_finalize_calls(stack, key) -> None:
    """The success path of chalicelib.uploads' finalize, nothing else: four calls and the image."""
    bucket, table = stack.settings.bucket_name, stack.settings.table_name
    pending_key = stack.settings.pending_prefix + key
    avatar_key = stack.settings.avatar_prefix + key
    upload = stack.s3.get_object(Bucket=bucket, Key=pending_key)
    with contextlib.closing(upload["Body"]) as body:
        avatar = make_avatar(body.read(), AvatarRules.from_settings(stack.settings))
    stack.s3.put_object(
        Bucket=bucket,
        Key=avatar_key,
        Body=avatar.data,
        IfNoneMatch="*",
        ContentType=avatar.content_type,
        CacheControl=AVATAR_CACHE_CONTROL,
        Metadata={OWNER_METADATA: DIRECT_USER},
    )
    answer = stack.dynamodb.update_item(
        TableName=table,
        Key={"Username": {"S": DIRECT_USER}},
        UpdateExpression="SET Avatar = :avatar",
        ConditionExpression="attribute_exists(Username)",
        ExpressionAttributeValues={":avatar": {"S": avatar_key}},
        ReturnValues="UPDATED_OLD",
    )
    stale = [pending_key]
    old = answer.get("Attributes", {}).get("Avatar", {}).get("S")
    if old:
        stale.append(old)
    stack.s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": stale_key} for stale_key in stale], "Quiet": True},
    )
