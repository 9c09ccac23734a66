"""The S3 event handler's work: one JSON log line per new pending upload."""

import json
from typing import List
from urllib.parse import unquote_plus


def pending_upload_log_lines(event) -> List[str]:
    """Describe each record of a Chalice `S3Event` as one line of JSON for CloudWatch.

    S3 sends one record a notification, but the event format allows more, and
    Chalice's `S3Event` reads only the first.
    """
    return [
        json.dumps(
            {
                "event": "pending_upload",
                "eventName": record.get("eventName"),
                "eventTime": record.get("eventTime"),
                "bucket": record["s3"]["bucket"]["name"],
                # S3 sends the key form-encoded, as Chalice's S3Event.key decodes it.
                "key": unquote_plus(record["s3"]["object"]["key"]),
                "size": record["s3"]["object"].get("size"),
            },
            sort_keys=True,
        )
        for record in event.to_dict()["Records"]
    ]
