"""`make bench` end to end, shortened, against a local stack of its own.

Timing targets are the benchmark's business, not a test's: here the run must
complete, count exactly the calls each request makes, name each call right, and
leave no error behind under concurrent users.
"""

import pytest

from bench.__main__ import parse_arguments, run
from bench.calls import CallRecorder
from bench.fixtures import put_pending
from bench.stack import open_stack

pytestmark = pytest.mark.integration

SHORT_RUN = [
    "--runs", "2",
    "--upload-runs", "1",
    "--load-seconds", "1",
    "--concurrency", "1", "4",
    "--bucket-objects", "12",
    "--import-runs", "1",
]  # fmt: skip


@pytest.fixture(scope="module")
def figures():
    return {figure.name: figure for figure in run(parse_arguments(SHORT_RUN))}


def test_the_call_counts_are_exact_and_name_each_call(figures):
    assert figures["POST /uploads"].measured == "0"
    assert figures["POST /uploads"].target == "0"
    assert figures["GET /users"].measured == "1 (Scan)"
    assert figures["POST /avatar, success"].measured == (
        "4 (GetObject, CopyObject, UpdateItem, DeleteObjects)"
    )
    assert figures["POST /avatar refused: not signed in (401)"].measured == "0"
    assert (
        figures["POST /avatar refused: no such upload (404)"].measured == "2 (GetObject, GetItem)"
    )
    assert (
        figures["POST /avatar refused: too large (413)"].measured == "2 (GetObject, DeleteObjects)"
    )
    # The stack starts with the three seed avatars.
    assert figures["GET /debug/bucket, 3 objects"].measured == (
        "6 (ListObjectsV2 x2, GetBucketLifecycleConfiguration, HeadObject x3)"
    )
    assert (
        figures["GET /debug/bucket, 12 objects: AWS calls"].measured
        == "15 (12 HeadObject, 3 other)"
    )
    for name in ("POST /uploads", "GET /users", "POST /avatar, success"):
        assert figures[name].met is True


def test_concurrent_users_leave_no_error_and_a_consistent_state(figures):
    for users in ("1 user", "4 users"):
        errors = figures[f"{users}, 1 s: errors, and users or objects left inconsistent"]
        assert errors.measured == "0"
        assert errors.met is True
        assert "changes/s" in figures[f"{users}, 1 s"].measured


def test_every_targeted_figure_is_measured(figures):
    targeted = {name for name, figure in figures.items() if figure.target}
    assert targeted >= {
        "POST /uploads",
        "GET /users",
        "POST /avatar, success",
        "GET /debug/bucket, 12 objects: time, 5 requests",
        "finalize, API / direct, medians",
        "500 KB: three-phase / bare, modelled 10 Mbit/s link, medians",
        "import app after boto3 (app minus boto3), 1 runs",
    }
    assert all(figure.met is not None for name, figure in figures.items() if name in targeted)


def test_the_recorder_names_each_operation_and_leaves_out_the_event_bridge(tmp_path):
    with open_stack(tmp_path / "recording.jsonl") as stack:
        bucket, table = stack.settings.bucket_name, stack.settings.table_name
        recorder = CallRecorder(stack.emulator_url)
        key = stack.settings.pending_prefix + put_pending(stack, "someone", b"\x89PNG")
        with recorder.recording() as operations:
            stack.s3.list_objects_v2(Bucket=bucket, Prefix="pending/")
            stack.s3.get_bucket_lifecycle_configuration(Bucket=bucket)
            stack.s3.head_object(Bucket=bucket, Key=key)
            stack.s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-1")
            stack.s3.copy_object(Bucket=bucket, Key=key + "-copy", CopySource=f"{bucket}/{key}")
            stack.s3.put_object(Bucket=bucket, Key=key + "-put", Body=b"x")
            stack.s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key + "-put"}]})
            stack.s3.delete_object(Bucket=bucket, Key=key + "-copy")
            stack.dynamodb.scan(TableName=table)
            stack.dynamodb.get_item(TableName=table, Key={"Username": {"S": "nobody"}})

    assert operations == [
        "ListObjectsV2",
        "GetBucketLifecycleConfiguration",
        "HeadObject",
        "GetObject",
        "CopyObject",
        "PutObject",
        "DeleteObjects",
        "DeleteObject",
        "Scan",
        "GetItem",
    ]
