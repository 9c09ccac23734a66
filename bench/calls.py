"""Count the AWS calls an API request makes, from the emulator's request log.

moto records every request it serves while recording is on
(`/moto-api/recorder/...`). The log holds raw HTTP requests, so each is named
here as the AWS operation it is. SQS is left out: that is the local event
bridge polling, which AWS does not need (S3 invokes the Lambda itself).
"""

import contextlib
import json
import re
from typing import List, NamedTuple, Optional
from urllib.parse import parse_qs, urlsplit

import requests

# "Credential=<key>/<date>/<region>/<service>/aws4_request"
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
IGNORED_SERVICES = {"sqs"}


class Call(NamedTuple):
    operation: str
    headers: dict  # lower-case names


class Recording:
    """The AWS calls made while it was open, in order; filled when the block ends."""

    def __init__(self):
        self.calls: List[Call] = []

    @property
    def operations(self) -> List[str]:
        return [call.operation for call in self.calls]


class CallRecorder:
    def __init__(self, emulator_url: str):
        self._recorder = emulator_url.rstrip("/") + "/moto-api/recorder/"

    @contextlib.contextmanager
    def recording(self):
        """Yield a Recording of the calls the emulator serves inside the block."""
        recording = Recording()
        self._call("reset-recording")
        self._call("start-recording")
        try:
            yield recording
        finally:
            self._call("stop-recording")
        log = requests.get(self._recorder + "download-recording", timeout=10).text
        for line in log.splitlines():
            entry = json.loads(line)
            name = operation_name(entry)
            if name is not None:
                recording.calls.append(Call(name, _lower_case_headers(entry)))

    def _call(self, action: str):
        requests.post(self._recorder + action, timeout=10).raise_for_status()


def operation_name(entry: dict) -> Optional[str]:
    """The AWS operation a recorded request is, or None for one not counted."""
    headers = _lower_case_headers(entry)
    scope = _CREDENTIAL_SCOPE.search(headers.get("authorization", ""))
    service = scope.group(1) if scope else "unsigned"
    if service in IGNORED_SERVICES:
        return None
    target = headers.get("x-amz-target")
    if target:  # JSON protocols: DynamoDB, SSM, ...
        return target.rsplit(".", 1)[-1]
    if service == "s3":
        return _s3_operation(entry["method"], entry["url"], headers)
    return f"{service} {entry['method']} {urlsplit(entry['url']).path}"


def _s3_operation(method: str, url: str, headers: dict) -> str:
    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True)
    # Path-style addressing: "/bucket" is the bucket, "/bucket/key" an object.
    on_object = "/" in parts.path.strip("/")
    if method == "GET" and not on_object:
        if query.get("list-type") == ["2"]:
            return "ListObjectsV2"
        if "lifecycle" in query:
            return "GetBucketLifecycleConfiguration"
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    if method == "PUT" and on_object:
        return "CopyObject" if "x-amz-copy-source" in headers else "PutObject"
    if method == "GET" and on_object:
        return "GetObject"
    if method == "HEAD" and on_object:
        return "HeadObject"
    if method == "DELETE" and on_object:
        return "DeleteObject"
    return f"S3 {method} {parts.path}"


def _lower_case_headers(entry: dict) -> dict:
    return {name.lower(): value for name, value in entry["headers"].items()}
