"""`make bench` end to end, shortened, against a local stack of its own.

Timing targets are the benchmark's business, not a test's: here the run must
complete, count exactly the calls each request makes, name each call right,
compare finalize with the calls the app really makes, and leave no error
behind under concurrent users.
"""

import secrets
from pathlib import Path

import pytest

from bench.__main__ import parse_arguments, run
from bench.call_counts import SECTION as CALLS
from bench.calls import CallRecorder
from bench.client import AvatarClient
from bench.finalize_overhead import DIRECT_USER, direct_finalize_calls
from bench.fixtures import ensure_user, put_pending
from bench.images import png_of_size
from bench.photo_bytes import CHROMIUM
from bench.stack import open_stack

pytestmark = pytest.mark.integration

SHORT_RUN = [
    "--runs", "2",
    "--upload-runs", "1",
    "--load-seconds", "1",
    "--concurrency", "1", "4",
    "--bucket-objects", "12",
    "--import-runs", "1",
    "--image-runs", "1",
    "--worst-case-megapixels", "0.3",
]  # fmt: skip

# On a fresh stack, whose bucket holds the three seed avatars.
EXPECTED_CALLS = {
    "GET /debug/bucket, 3 objects": (
        "6 (ListObjectsV2 x2, GetBucketLifecycleConfiguration, HeadObject x3)"
    ),
    "GET /": "1 (GetObject)",
    "GET /users": "1 (Scan)",
    "GET /debug/table": "1 (Scan)",
    "POST /uploads": "0",
    "POST /avatar, success": "4 (GetObject, PutObject, UpdateItem, DeleteObjects)",
    "POST /avatar, the same request again (a retry)": "2 (GetObject, GetItem)",
    "POST /avatar, a used form posted and finalized again": (
        "4 (GetObject, PutObject, GetItem, DeleteObjects)"
    ),
    "POST /avatar refused: not signed in (401)": "0",
    "POST /avatar refused: not JSON (415)": "0",
    "POST /avatar refused: malformed key (400)": "0",
    "POST /avatar refused: no such upload (404)": "2 (GetObject, GetItem)",
    "POST /avatar refused: another user's upload (403)": "1 (GetObject)",
    "POST /avatar refused: too large (413)": "2 (GetObject, DeleteObjects)",
    "POST /avatar refused: too many pixels (413)": "2 (GetObject, DeleteObjects)",
    "POST /avatar refused: not an image (415)": "2 (GetObject, DeleteObjects)",
    "POST /avatar refused: the key was finalized before (409)": (
        "5 (GetObject, PutObject, GetItem, HeadObject, DeleteObjects)"
    ),
    "POST /avatar, a retry after a put whose commit failed": (
        "6 (GetObject, PutObject, GetItem, HeadObject, UpdateItem, DeleteObjects)"
    ),
    "POST /avatar refused: the user was deleted (401)": (
        "4 (GetObject, PutObject, UpdateItem, DeleteObjects)"
    ),
}


@pytest.fixture(scope="module")
def own_stack():
    """Whatever the developer's shell exports, these tests start their own stack."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("BENCH_APP_URL", raising=False)
        patch.delenv("BENCH_EMULATOR_URL", raising=False)
        yield


@pytest.fixture(scope="module")
def figures(own_stack):
    return {figure.name: figure for figure in run(parse_arguments(SHORT_RUN))}


def test_the_call_counts_are_exact_and_name_each_call(figures):
    counted = {name: figure.measured for name, figure in figures.items() if figure.section == CALLS}
    assert counted == EXPECTED_CALLS
    assert figures["GET /debug/bucket, 12 objects: AWS calls"].measured == (
        "15 (12 HeadObject, 3 other)"
    )
    for name in ("POST /uploads", "GET /users", "POST /avatar, success"):
        assert figures[name].met is True


def test_concurrent_users_leave_no_error_and_a_consistent_state(figures):
    for users in ("1 user", "4 users"):
        errors = figures[f"{users}, 1 s: errors, and users or objects left inconsistent"]
        assert errors.measured == "0"
        assert errors.met is True
        load = figures[f"{users}, 1 s"].measured
        assert "changes/s" in load
        assert "CPU emulator" in load and "app" in load


def test_every_targeted_figure_is_measured(figures):
    targeted = {name for name, figure in figures.items() if figure.target}
    assert targeted >= {
        "POST /uploads",
        "GET /users",
        "POST /avatar, success",
        "GET /debug/bucket, 12 objects: time, 5 requests",
        "finalize, API / direct, medians",
        "500 KB, 1 runs: three-phase / bare, modelled 10 Mbit/s link, medians",
        "import app after boto3 (app minus boto3), 1 runs",
        "12 MP phone JPEG: make_avatar, median",
        "12 MP phone JPEG: Pillow / libvips, medians",
        "the avatar served: make_avatar's output for the photo as picked",
        "the app's library (aws-lambda-powertools) / aws-embedded-metrics: "
        "zipped size, import medians",
    }
    assert all(figure.met is not None for name, figure in figures.items() if name in targeted)


def test_what_the_page_sends_is_measured_in_chromium_where_there_is_one(figures):
    sent = [name for name in figures if name.startswith("what the page sends: ")]
    assert len(sent) == 1
    if Path(CHROMIUM).exists():
        assert sent[0].endswith("measured in Chromium")
    else:
        assert "modelled with Pillow" in sent[0]
    assert figures[sent[0]].met is True
    assert "768x1024 WEBP" in figures[sent[0]].measured


@pytest.fixture(scope="module")
def stack(own_stack, tmp_path_factory):
    with open_stack(tmp_path_factory.mktemp("bench") / "recording.jsonl") as opened:
        yield opened


def test_the_direct_floor_makes_the_same_calls_with_the_same_conditions_as_the_app(stack):
    recorder = CallRecorder(stack.emulator_url)
    content = png_of_size(2_000)
    ensure_user(stack, "bench-api")
    ensure_user(stack, DIRECT_USER)
    with AvatarClient(stack.app_url).sign_in("bench-api") as client:
        client.change_avatar(content)  # so that both replace an avatar
        direct_finalize_calls(stack, put_pending(stack, DIRECT_USER, content))
        form = client.create_upload()
        client.post_file(form, content)
        with recorder.recording() as through_api:
            assert client.finalize(form["key"]).status_code == 200
    key = put_pending(stack, DIRECT_USER, content)
    with recorder.recording() as direct:
        direct_finalize_calls(stack, key)

    assert (
        through_api.operations
        == direct.operations
        == [
            "GetObject",
            "PutObject",
            "UpdateItem",
            "DeleteObjects",
        ]
    )
    # The same conditions and the same stored object; only the user differs.
    same_value = ("range", "if-match", "if-none-match", "content-type", "cache-control")
    for api_call, direct_call in zip(through_api.calls, direct.calls, strict=True):
        for header in same_value:
            assert api_call.headers.get(header) == direct_call.headers.get(header), header
        assert ("x-amz-meta-username" in api_call.headers) == (
            "x-amz-meta-username" in direct_call.headers
        )
    api_put, direct_put = through_api.calls[1].headers, direct.calls[1].headers
    assert (api_put["if-none-match"], api_put["content-type"]) == ("*", "image/webp")
    # The same upload made into the same avatar: the same image work on both sides.
    assert api_put["content-length"] == direct_put["content-length"]


def test_the_recorder_names_each_operation_it_records(stack):
    bucket, table = stack.settings.bucket_name, stack.settings.table_name
    recorder = CallRecorder(stack.emulator_url)
    key = stack.settings.pending_prefix + put_pending(stack, "someone", b"\x89PNG")
    with recorder.recording() as recording:
        stack.s3.list_objects_v2(Bucket=bucket, Prefix="pending/")
        stack.s3.get_bucket_lifecycle_configuration(Bucket=bucket)
        stack.s3.head_object(Bucket=bucket, Key=key)
        stack.s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-1")
        stack.s3.copy_object(Bucket=bucket, Key=key + "-copy", CopySource=f"{bucket}/{key}")
        stack.s3.put_object(Bucket=bucket, Key=key + "-put", Body=b"x")
        stack.s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key + "-put"}]})
        stack.s3.delete_object(Bucket=bucket, Key=key + "-copy")
        stack.dynamodb.scan(TableName=table)
        stack.dynamodb.get_item(TableName=table, Key={"Username": {"S": secrets.token_hex(4)}})

    assert recording.operations == [
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
