"""What the attack tests share: the two users, their sessions and a snapshot of
everything an attack must leave as it was."""

import json

import pytest

from tests.conftest import ROOT, SEED_USERS
from tests.helpers import sign_in, table_items

ALICE = SEED_USERS[0]["Username"]
BOB = SEED_USERS[1]["Username"]
VALID_KEY = "0123456789abcdef0123456789abcdef"


def local_secret() -> bytes:
    """The `local` stage's session secret, as .chalice/config.json states it."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return config["stages"]["local"]["environment_variables"]["SESSION_SECRET"].encode("utf-8")


def stored_state(aws):
    """The table's items, every object key outside `pending/`, and the bytes,
    type and metadata of each live avatar (the objects the items point at)."""
    bucket = aws.settings.bucket_name
    snapshot = table_items(aws)
    keys = []
    for page in aws.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.extend(entry["Key"] for entry in page.get("Contents", []))
    live = {}
    for item in map(json.loads, snapshot):
        avatar = item.get("Avatar", {}).get("S")
        if avatar:
            answer = aws.s3.get_object(Bucket=bucket, Key=avatar)
            live[avatar] = (answer["Body"].read(), answer["ContentType"], answer["Metadata"])
    return {
        "items": snapshot,
        "keys": sorted(key for key in keys if not key.startswith(aws.settings.pending_prefix)),
        "live avatars": live,
    }


def pending_object(aws, key):
    """Bytes, Content-Type, metadata and ETag of `pending/<key>`."""
    answer = aws.s3.get_object(
        Bucket=aws.settings.bucket_name, Key=aws.settings.pending_prefix + key
    )
    return answer["Body"].read(), answer["ContentType"], answer["Metadata"], answer["ETag"]


@pytest.fixture
def alice(client):
    return sign_in(client, ALICE)


@pytest.fixture
def bob(client):
    return sign_in(client, BOB)
