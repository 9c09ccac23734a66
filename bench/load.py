"""Concurrent users, each changing its avatar in a loop, and the state they leave.

Each user is one thread with its own HTTP session, as each browser would be.
After the run every user must point at an object that exists, and no object
under `avatars/` may be left that none of them points at.
"""

import threading
import time

from chalicelib.uploads import OWNER_METADATA

from .client import AvatarClient
from .fixtures import ensure_user
from .images import png_of_size
from .report import Figure
from .stats import ms, summarize

SECTION = "Concurrent users changing avatars (all three phases)"
IMAGE_BYTES = 50_000
ERROR_SAMPLES = 3


def run_load(stack, concurrency: int, seconds: float) -> list:
    usernames = [f"bench-load-{concurrency}-{number:02d}" for number in range(concurrency)]
    for username in usernames:
        ensure_user(stack, username)
    clients = [AvatarClient(stack.app_url).sign_in(username) for username in usernames]
    content = png_of_size(IMAGE_BYTES, seed=4)
    latencies, errors = [], []
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)

    def user_loop(client):
        start.wait()
        while time.perf_counter() < deadline:
            try:
                change = client.change_avatar(content)
            except Exception as error:  # every failure is counted, none stops the run
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
                continue
            with lock:
                latencies.append(change.seconds)

    threads = [threading.Thread(target=user_loop, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    # Read by every thread once the barrier lets them all go at once.
    deadline = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began

    broken = _broken_state(stack, usernames)
    summary = summarize(latencies) if latencies else None
    label = f"{concurrency} user{'s' if concurrency > 1 else ''}, {seconds:.0f} s"
    measured = (
        f"{len(latencies) / elapsed:.1f} changes/s; p50 {ms(summary.median)}, p95 {ms(summary.p95)}"
        if summary
        else "no change completed"
    )
    failures = errors + broken
    return [
        Figure(SECTION, label, measured),
        Figure(
            SECTION,
            f"{label}: errors, and users or objects left inconsistent",
            f"{len(failures)}" + (f" ({'; '.join(failures[:ERROR_SAMPLES])})" if failures else ""),
            "0",
            not failures,
        ),
    ]


def _broken_state(stack, usernames) -> list:
    """Users pointing at a missing object, and their avatars no user points at."""
    bucket = stack.settings.bucket_name
    referenced = {}
    for username in usernames:
        item = stack.dynamodb.get_item(
            TableName=stack.settings.table_name,
            Key={"Username": {"S": username}},
            ConsistentRead=True,
        )["Item"]
        if "Avatar" in item:
            referenced[item["Avatar"]["S"]] = username
    problems = []
    existing = set()
    paginator = stack.s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=stack.settings.avatar_prefix):
        existing.update(entry["Key"] for entry in page.get("Contents", []))
    for key, username in referenced.items():
        if key not in existing:
            problems.append(f"{username} points at missing {key}")
    owners = set(usernames)
    for key in existing - set(referenced):
        owner = stack.s3.head_object(Bucket=bucket, Key=key)["Metadata"].get(OWNER_METADATA)
        if owner in owners:
            problems.append(f"{key} of {owner} is referenced by no one")
    return problems
