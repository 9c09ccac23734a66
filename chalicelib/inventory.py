"""What the bucket holds and what the table says, for the page's two tables.

A debugging view for the demo, not part of the upload flow. A listing carries
no Content-Type, metadata or expiry, so the view makes one HEAD per object: it
describes only the newest MAX_OBJECTS, their HEADs in a bounded pool (the
benchmark holds 200 objects to 3 seconds, see bench/results.md).
"""

from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional

from botocore.exceptions import ClientError

from .lifecycle import expiry_from_header, expiry_from_rules
from .timestamps import iso_utc

MAX_OBJECTS = 200
# HEADs in flight at once: enough to hide each one's latency, few enough to
# stay far below S3's request rates and the Lambda's connection pool.
HEAD_WORKERS = 8


def list_objects(s3, bucket_name: str, *prefixes: str) -> List[dict]:
    """Every listing entry (Key, LastModified, Size, ...) under each of `prefixes`."""
    listed = []
    paginator = s3.get_paginator("list_objects_v2")
    for prefix in prefixes:
        for page in paginator.paginate(Bucket=bucket_name, Prefix=prefix):
            listed.extend(page.get("Contents", []))
    return listed


def describe_bucket(s3, settings) -> dict:
    """The newest objects under `pending/` and `avatars/`, newest first, and how many there are."""
    listed = list_objects(s3, settings.bucket_name, settings.pending_prefix, settings.avatar_prefix)
    listed.sort(key=lambda entry: entry["LastModified"], reverse=True)
    rules = _lifecycle_rules(s3, settings.bucket_name)

    def describe(entry) -> Optional[dict]:
        try:
            head = s3.head_object(Bucket=settings.bucket_name, Key=entry["Key"])
        except ClientError:
            return None  # deleted since the listing
        expiry = expiry_from_header(head.get("Expiration")) or expiry_from_rules(
            rules, entry["Key"], entry["LastModified"]
        )
        return {
            "key": entry["Key"],
            "lastModified": iso_utc(entry["LastModified"]),
            "size": entry["Size"],
            "contentType": head.get("ContentType"),
            "metadata": head.get("Metadata", {}),
            "expiration": iso_utc(expiry) if expiry else None,
        }

    with ThreadPoolExecutor(max_workers=HEAD_WORKERS) as pool:
        described = list(pool.map(describe, listed[:MAX_OBJECTS]))
    return {
        "objects": [entry for entry in described if entry is not None],
        "total": len(listed),
    }


def describe_items(users) -> List[dict]:
    return [user.as_item() for user in users.list_users()]


def _lifecycle_rules(s3, bucket_name: str) -> list:
    try:
        return s3.get_bucket_lifecycle_configuration(Bucket=bucket_name)["Rules"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchLifecycleConfiguration":
            return []
        raise
