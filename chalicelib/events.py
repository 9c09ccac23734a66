"""The S3 event handler's work: one JSON log line per new pending upload."""

import json


def pending_upload_log_line(event) -> str:
    """Describe a Chalice `S3Event` as one line of JSON for CloudWatch."""
    record = event.to_dict()["Records"][0]
    return json.dumps(
        {
            "event": "pending_upload",
            "eventName": record.get("eventName"),
            "eventTime": record.get("eventTime"),
            "bucket": event.bucket,
            # Chalice's S3Event.key is already percent-decoded.
            "key": event.key,
            "size": record["s3"]["object"].get("size"),
        },
        sort_keys=True,
    )
