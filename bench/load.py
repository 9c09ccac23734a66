"""Concurrent users, each changing its avatar in a loop, and the state they leave.

Each user is one thread with its own HTTP session, as each browser would be.
After the run every user must point at an object that exists, and no object
under `avatars/` may be left that none of them points at.
"""

import threading
import time

from chalicelib.inventory import list_objects
from chalicelib.uploads import OWNER_METADATA

from .client import AvatarClient
from .cpu import CpuMeter
from .fixtures import ensure_user
from .images import png_of_size
from .report import Figure
from .stats import ms, summarize

SECTION = "Concurrent users changing avatars (all three phases)"
IMAGE_BYTES = 50_000
ERROR_SAMPLES = 3
# After a failed change, so that a stack that is down is not hammered in a
# tight loop while the errors pile up.
ERROR_PAUSE_SECONDS = 0.1


def users_label(count: int) -> str:
    return f"{count} user{'s' if count != 1 else ''}"


def run_load(stack, concurrency: int, seconds: float) -> list:
    usernames = [f"bench-load-{concurrency}-{number:02d}" for number in range(concurrency)]
    for username in usernames:
        ensure_user(stack, username)
    clients = [AvatarClient(stack.app_url).sign_in(username) for username in usernames]
    try:
        latencies, errors, cpu = _drive(clients, png_of_size(IMAGE_BYTES, seed=4), seconds, stack)
    finally:
        for client in clients:
            client.http.close()
    failures = errors + _broken_state(stack, usernames)
    label = f"{users_label(concurrency)}, {seconds:.0f} s"
    if latencies:
        summary = summarize(latencies)
        measured = (
            f"{len(latencies) / seconds:.1f} changes/s; "
            f"median {ms(summary.median)}, p95 {ms(summary.p95)}"
        )
    else:
        measured = "no change completed"
    if cpu:
        measured += "; CPU " + ", ".join(f"{role} {share:.0%}" for role, share in cpu.items())
    return [
        Figure(SECTION, label, measured),
        Figure(
            SECTION,
            f"{label}: errors, and users or objects left inconsistent",
            f"{len(failures)}" + (f" ({'; '.join(failures[:ERROR_SAMPLES])})" if failures else ""),
            "0",
            bool(latencies) and not failures,
        ),
    ]


def _drive(clients, content, seconds, stack):
    """Every client changes its avatar until `seconds` are up.

    Returns the latencies of the changes that finished in time, every error,
    and each process's CPU share of one core meanwhile.
    """
    latencies, errors = [], []
    lock = threading.Lock()
    start = threading.Barrier(len(clients) + 1)

    def user_loop(client, deadline):
        start.wait()
        while time.perf_counter() < deadline:
            try:
                change = client.change_avatar(content)
            except Exception as error:  # every failure is counted, none stops the run
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
                time.sleep(ERROR_PAUSE_SECONDS)
                continue
            # A change that ends after the deadline ran partly outside the
            # window that the rate divides by.
            if time.perf_counter() <= deadline:
                with lock:
                    latencies.append(change.seconds)

    meter = CpuMeter(stack.process_ids)
    began = time.perf_counter()
    deadline = began + seconds
    threads = [threading.Thread(target=user_loop, args=(client, deadline)) for client in clients]
    for thread in threads:
        thread.start()
    meter.start(time.perf_counter())
    start.wait()
    for thread in threads:
        thread.join()
    return latencies, errors, meter.shares(time.perf_counter())


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
    existing = {
        entry["Key"] for entry in list_objects(stack.s3, bucket, stack.settings.avatar_prefix)
    }
    for key, username in referenced.items():
        if key not in existing:
            problems.append(f"{username} points at missing {key}")
    owners = set(usernames)
    for key in existing - set(referenced):
        owner = stack.s3.head_object(Bucket=bucket, Key=key)["Metadata"].get(OWNER_METADATA)
        if owner in owners:
            problems.append(f"{key} of {owner} is referenced by no one")
    return problems
