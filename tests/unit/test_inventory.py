"""The debug bucket view: which objects it describes, and how it makes their HEADs."""

import threading
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from chalicelib import inventory

SETTINGS = SimpleNamespace(
    bucket_name="bucket", pending_prefix="pending/", avatar_prefix="avatars/"
)
EPOCH = datetime(2026, 11, 24, tzinfo=timezone.utc)


class ListingS3:
    """A bucket of `objects` (key to seconds after EPOCH) that counts its HEADs in flight."""

    def __init__(self, objects, head_seconds=0.0):
        self.objects = objects
        self.head_seconds = head_seconds
        self.heads = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def get_paginator(self, name):
        assert name == "list_objects_v2"
        return self

    def paginate(self, Bucket, Prefix):
        contents = [
            {"Key": key, "LastModified": EPOCH + timedelta(seconds=age), "Size": 1}
            for key, age in self.objects.items()
            if key.startswith(Prefix)
        ]
        return [{"Contents": contents}]

    def get_bucket_lifecycle_configuration(self, Bucket):
        return {"Rules": []}

    def head_object(self, Bucket, Key):
        with self._lock:
            self.heads.append(Key)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(self.head_seconds)
        with self._lock:
            self.in_flight -= 1
        return {"ContentType": "image/png", "Metadata": {}}


def test_only_the_newest_objects_are_described_whatever_their_prefix(monkeypatch):
    monkeypatch.setattr(inventory, "MAX_OBJECTS", 2)
    s3 = ListingS3({"pending/older": 1, "avatars/newest": 3, "avatars/oldest": 0, "pending/mid": 2})

    view = inventory.describe_bucket(s3, SETTINGS)

    assert [entry["key"] for entry in view["objects"]] == ["avatars/newest", "pending/mid"]
    assert view["total"] == 4
    assert sorted(s3.heads) == ["avatars/newest", "pending/mid"]  # no HEAD for the rest


def test_heads_run_in_parallel_but_never_more_than_the_pool_at_once():
    s3 = ListingS3({f"avatars/{number:03d}": number for number in range(40)}, head_seconds=0.01)

    view = inventory.describe_bucket(s3, SETTINGS)

    assert len(view["objects"]) == 40
    assert 1 < s3.most_in_flight <= inventory.HEAD_WORKERS
