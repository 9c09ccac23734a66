"""Delete avatar objects that no user points at: what a crash leaves behind.

Finalize stores `avatars/<key>`, made from `pending/<key>`, before it commits
the swap in DynamoDB. A process that dies between the two leaves an object
nobody references, as does a failed delete of a replaced avatar. Objects younger than
`min_age` are left alone, so a finalize in flight is never swept.
"""

import json
from datetime import datetime, timedelta
from typing import List

from . import metrics
from .inventory import list_objects

MIN_AGE = timedelta(hours=1)
_DELETE_BATCH = 1000  # the most DeleteObjects takes at once


def sweep_orphaned_avatars(s3, users, settings, now: datetime, min_age=MIN_AGE) -> List[str]:
    """Delete and return the keys under `avatars/` older than `min_age` that no user references.

    The metrics get OrphansSwept, the orphans deleted, and SweepFailures: each
    orphan S3 would not delete, plus one if the sweep stopped on an error
    (raised: the invocation fails, and the next day's sweep tries again).
    """
    tally = {"swept": 0, "failures": 0}
    try:
        return _sweep(s3, users, settings, now - min_age, tally)
    except Exception:
        tally["failures"] += 1
        raise
    finally:
        metrics.record_sweep(swept=tally["swept"], failures=tally["failures"])


def _sweep(s3, users, settings, cutoff: datetime, tally: dict) -> List[str]:
    # The table first: an object committed after this read is younger than
    # min_age when listed below, so it cannot be mistaken for an orphan.
    referenced = {user.avatar for user in users.list_users() if user.avatar}
    orphans = []
    for entry in list_objects(s3, settings.bucket_name, settings.avatar_prefix):
        if entry["Key"] not in referenced and entry["LastModified"] < cutoff:
            orphans.append(entry)
    for start in range(0, len(orphans), _DELETE_BATCH):
        batch = orphans[start : start + _DELETE_BATCH]
        answer = s3.delete_objects(
            Bucket=settings.bucket_name,
            Delete={"Objects": [{"Key": entry["Key"]} for entry in batch], "Quiet": True},
        )
        failed = {error["Key"] for error in answer.get("Errors", [])}
        tally["swept"] += len(batch) - len(failed)
        tally["failures"] += len(failed)
        for entry in batch:
            print(
                json.dumps(
                    {
                        "event": "orphan_swept" if entry["Key"] not in failed else "sweep_failed",
                        "key": entry["Key"],
                        "lastModified": entry["LastModified"].isoformat(),
                    },
                    sort_keys=True,
                ),
                flush=True,
            )
    return [entry["Key"] for entry in orphans]
