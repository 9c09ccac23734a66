"""Data the benchmark prepares directly in the emulator, and removes again."""

import secrets
import time
from typing import Iterable, Optional

from chalicelib.inventory import list_objects
from chalicelib.uploads import OWNER_METADATA

BENCH_USER_PREFIX = "bench-"


def ensure_user(stack, username: str) -> None:
    """A user with no avatar yet, unless one exists (a running stack keeps its users)."""
    try:
        stack.dynamodb.put_item(
            TableName=stack.settings.table_name,
            Item={"Username": {"S": username}, "Name": {"S": f"Benchmark user {username}"}},
            ConditionExpression="attribute_not_exists(Username)",
        )
    except stack.dynamodb.exceptions.ConditionalCheckFailedException:
        pass


def put_pending(stack, owner: str, content: bytes, key: Optional[str] = None) -> str:
    """What a browser's POST leaves under `pending/`; returns the upload key."""
    key = key or secrets.token_hex(16)
    put_owned(stack, stack.settings.pending_prefix + key, owner, content)
    return key


def put_owned(stack, object_key: str, owner: str, content: bytes) -> None:
    """A PNG whose owner metadata says `owner`, as uploads and finalized copies carry."""
    stack.s3.put_object(
        Bucket=stack.settings.bucket_name,
        Key=object_key,
        Body=content,
        ContentType="image/png",
        Metadata={OWNER_METADATA: owner},
    )


def wait_for_event_bridge(stack, timeout_seconds: float = 5) -> None:
    """Return once the local event bridge has handled every S3 event so far.

    Each upload under `pending/` sends an event that the bridge, a thread in
    the app's process, receives, logs and deletes. Timing a request while it
    does so would charge the app for work AWS does elsewhere.
    """
    queue_url = stack.event_queue_url
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        counts = stack.sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if all(count == "0" for count in counts.values()):
            return
        time.sleep(0.005)
    raise RuntimeError(f"the event bridge left messages on {queue_url}: {counts}")


def delete_keys(stack, keys: Iterable[str]) -> None:
    keys = list(keys)
    for start in range(0, len(keys), 1000):  # DeleteObjects takes 1000 at most
        batch = keys[start : start + 1000]
        answer = stack.s3.delete_objects(
            Bucket=stack.settings.bucket_name,
            Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
        )
        if answer.get("Errors"):
            raise RuntimeError(
                f"could not delete {len(answer['Errors'])} objects: {answer['Errors'][:3]}"
            )


def listed_keys(stack) -> list:
    """What GET /debug/bucket lists: every key under `pending/` and `avatars/`."""
    settings = stack.settings
    listed = list_objects(
        stack.s3, settings.bucket_name, settings.pending_prefix, settings.avatar_prefix
    )
    return [entry["Key"] for entry in listed]
