"""Finalize when an AWS call fails: every step of the success path (GetObject,
PutObject, UpdateItem, DeleteObjects), as a service error and as a connection error.

Faults are injected on the app's own clients (`chalicelib.aws`) through
botocore's event system, as in tests/api/test_finalize.py:

- `before-call.<service>.<Operation>` raising: the request is never sent. The
  handler runs outside botocore's retry loop, so it fires exactly once per call
  (each test checks the count).
- `after-call.<service>.<Operation>` raising: the request reached the service
  and took effect, only the answer is lost (a timeout that hides a success).
- `before-send.<service>.<Operation>` raising: the transport, inside the
  retry loop, where botocore's standard mode retries connection errors. Moto
  serves requests from the generic `before-send`, after this specific handler;
  calling moto's stubber first simulates a request served, answer lost.

Invariants checked after each fault: the answer is a clear status with the
`{"error", "message"}` shape, the user's `Avatar` names an object that exists,
the same finalize succeeds once the fault is gone, and nothing under
`avatars/` is left that no user points at, save the leftovers the README
documents (the daily sweeper, chalicelib/sweeper.py, reclaims those).
"""

import http.client
import itertools
import json
import logging
import socket
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
import urllib3
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.response import StreamingBody
from moto.core.models import botocore_stubber

from chalicelib import aws as app_aws
from chalicelib.sweeper import sweep_orphaned_avatars
from chalicelib.users import DynamoUserRepository
from tests import helpers
from tests.conftest import SEED_USERS
from tests.helpers import (
    avatar_of,
    body_of,
    finalize,
    image_bytes,
    keys_under,
    request_form,
    sign_in,
    stored_object,
    upload,
)

ALICE = SEED_USERS[0]["Username"]
_handler_ids = itertools.count()


@contextmanager
def inject(client_getter, event, exc):
    """Raise `exc` from every `event` of the app client while inside; yield the
    list of events fired, to count attempts."""
    fired = []

    def fail(**_):
        fired.append(event)
        raise exc

    with inject_handler(client_getter, event, fail):
        yield fired


@contextmanager
def inject_handler(client_getter, event, handler):
    events = client_getter().meta.events
    unique_id = f"fault-{next(_handler_ids)}"
    events.register(event, handler, unique_id=unique_id)
    try:
        yield
    finally:
        events.unregister(event, unique_id=unique_id)


def service_error(operation, code="InternalError"):
    return ClientError(
        {
            "Error": {"Code": code, "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": 500},
        },
        operation,
    )


def connection_error(_operation):
    return EndpointConnectionError(endpoint_url="https://x")


def read_timeout():
    return ReadTimeoutError(endpoint_url="https://x")


# (app client, operation) for the four calls of the success path, in order.
SUCCESS_PATH = [
    (app_aws.s3_client, "s3", "GetObject"),
    (app_aws.s3_client, "s3", "PutObject"),
    (app_aws.dynamodb_client, "dynamodb", "UpdateItem"),
    (app_aws.s3_client, "s3", "DeleteObjects"),
]


def object_exists(aws, key):
    try:
        aws.s3.head_object(Bucket=aws.settings.bucket_name, Key=key)
    except ClientError as error:
        if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise
    return True


def referenced(aws):
    items = aws.dynamodb.scan(TableName=aws.settings.table_name)["Items"]
    return {item["Avatar"]["S"] for item in items if "Avatar" in item}


def unreferenced_finals(aws):
    """Objects under `avatars/` that no user points at."""
    return set(keys_under(aws, "avatars/")) - referenced(aws)


def stored_state(aws):
    """The items and final objects, and the pending ones too."""
    return (*helpers.stored_state(aws), keys_under(aws, "pending/"))


def assert_error_shape(answer, status):
    assert answer.status_code == status, answer.body
    body = body_of(answer)
    assert set(body) == {"error", "message"}, body
    assert isinstance(body["error"], str) and isinstance(body["message"], str)
    return body


def sweep_an_hour_later(aws):
    users = DynamoUserRepository(aws.dynamodb, aws.settings.table_name)
    later = datetime.now(timezone.utc) + timedelta(hours=1, minutes=1)
    return set(sweep_orphaned_avatars(aws.s3, users, aws.settings, now=later))


@pytest.fixture
def alice(client):
    return sign_in(client, ALICE)


@pytest.fixture
def uploaded(aws, client, alice):
    """Alice's valid PNG waiting in `pending/`: (key, her avatar before)."""
    assert unreferenced_finals(aws) == set()
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("PNG"), owner=ALICE)
    return form["key"], avatar_of(aws, ALICE)


def assert_retry_succeeds(aws, client, alice, key):
    retry = finalize(client, alice, key)
    assert retry.status_code == 200, retry.body
    assert body_of(retry)["avatar"] == f"avatars/{key}"
    assert avatar_of(aws, ALICE) == f"avatars/{key}"
    assert object_exists(aws, f"avatars/{key}")
    assert not object_exists(aws, f"pending/{key}")


# --- Each call of the success path fails, before it is sent -----------------


@pytest.mark.parametrize(
    "make_error", [service_error, connection_error], ids=["client_error", "connection_error"]
)
@pytest.mark.parametrize(
    "client_getter, service, operation", SUCCESS_PATH, ids=[op for _, _, op in SUCCESS_PATH]
)
def test_a_failing_call_leaves_a_consistent_state_and_the_finalize_can_be_retried(
    aws, client, alice, uploaded, caplog, client_getter, service, operation, make_error
):
    key, old_avatar = uploaded
    event = f"before-call.{service}.{operation}"

    with caplog.at_level(logging.WARNING, logger="chalicelib.uploads"):
        with inject(client_getter, event, make_error(operation)) as fired:
            answer = finalize(client, alice, key)

    # before-call runs outside botocore's retry loop: one attempt, no retries.
    assert fired == [event]
    if operation == "DeleteObjects":
        # After the commit: the swap stands, the leftovers are logged.
        assert answer.status_code == 200, answer.body
        assert avatar_of(aws, ALICE) == f"avatars/{key}"
        logged = [
            json.loads(record.getMessage())
            for record in caplog.records
            if record.name == "chalicelib.uploads" and "delete_failed" in record.getMessage()
        ]
        assert logged == [{"event": "delete_failed", "keys": [f"pending/{key}", old_avatar]}]
    else:
        body = assert_error_shape(answer, 503)
        assert body["error"] == "service_unavailable"
        assert avatar_of(aws, ALICE) == old_avatar
        # A failed commit keeps its put object for the retry (see _commit);
        # before the put nothing was stored.
        assert object_exists(aws, f"avatars/{key}") == (operation == "UpdateItem")
        assert object_exists(aws, f"pending/{key}")
    assert object_exists(aws, avatar_of(aws, ALICE))

    assert_retry_succeeds(aws, client, alice, key)

    if operation == "DeleteObjects":
        # Documented (README "Finalize", step 4; chalicelib/sweeper.py): the
        # replaced avatar, named in the log, stays until the sweeper takes it.
        # The retry cannot know it: the table no longer names it.
        assert unreferenced_finals(aws) == {old_avatar}
        assert sweep_an_hour_later(aws) == {old_avatar}
    else:
        assert unreferenced_finals(aws) == set()
        assert not object_exists(aws, old_avatar)


def test_a_get_refused_for_another_reason_than_missing_answers_503_and_changes_nothing(
    aws, client, alice, uploaded
):
    key, old_avatar = uploaded
    before = stored_state(aws)
    error = service_error("GetObject", code="AccessDenied")
    error.response["ResponseMetadata"]["HTTPStatusCode"] = 403

    with inject(app_aws.s3_client, "before-call.s3.GetObject", error):
        answer = finalize(client, alice, key)

    assert assert_error_shape(answer, 503)["error"] == "service_unavailable"
    assert stored_state(aws) == before
    assert avatar_of(aws, ALICE) == old_avatar and object_exists(aws, old_avatar)
    assert_retry_succeeds(aws, client, alice, key)


# --- The commit fails in ways that hide what happened -----------------------


def die_between_put_and_commit():
    """The commit never reaches DynamoDB: as if the process died after the put."""
    return inject(
        app_aws.dynamodb_client, "before-call.dynamodb.UpdateItem", connection_error("UpdateItem")
    )


def test_the_process_dies_between_the_put_and_the_commit(aws, client, alice, uploaded):
    """No retry ever comes: the put object is an orphan until the sweeper takes it."""
    key, old_avatar = uploaded
    with die_between_put_and_commit():
        answer = finalize(client, alice, key)

    assert assert_error_shape(answer, 503)["error"] == "service_unavailable"
    assert avatar_of(aws, ALICE) == old_avatar
    assert object_exists(aws, old_avatar)
    # The orphan: nobody points at it. The daily sweeper (chalicelib/sweeper.py)
    # deletes such objects once they are an hour old.
    assert unreferenced_finals(aws) == {f"avatars/{key}"}
    assert sweep_an_hour_later(aws) == {f"avatars/{key}"}


def test_a_finalize_left_between_the_put_and_the_commit_can_be_retried(
    aws, client, alice, uploaded, aws_calls
):
    """README ("Finalize"): the commit failed, the answer is 503 and "the same
    finalize can be retried". The retry meets its own object (PutObject 412),
    recognizes it by its owner metadata (HeadObject) and commits it."""
    key, old_avatar = uploaded
    with die_between_put_and_commit():
        assert finalize(client, alice, key).status_code == 503
    stored_before = stored_object(aws, f"avatars/{key}")
    aws_calls.clear()

    assert_retry_succeeds(aws, client, alice, key)

    assert [operation for _, operation, _ in aws_calls] == [
        "GetObject",
        "PutObject",
        "GetItem",
        "HeadObject",
        "UpdateItem",
        "DeleteObjects",
    ]
    # The put was refused: the object committed is the one the first attempt stored.
    assert stored_object(aws, f"avatars/{key}") == stored_before
    assert unreferenced_finals(aws) == set()


def test_a_commit_whose_answer_is_lost_keeps_the_put_object_and_can_be_retried(
    aws, client, alice, uploaded
):
    key, old_avatar = uploaded
    with inject(app_aws.dynamodb_client, "after-call.dynamodb.UpdateItem", read_timeout()) as fired:
        answer = finalize(client, alice, key)

    assert fired == ["after-call.dynamodb.UpdateItem"]
    assert assert_error_shape(answer, 503)["error"] == "service_unavailable"
    # The write happened: the table points at the put object, which must still exist.
    assert avatar_of(aws, ALICE) == f"avatars/{key}"
    assert object_exists(aws, f"avatars/{key}")

    assert_retry_succeeds(aws, client, alice, key)
    # The replaced avatar's key was in the lost answer (UPDATED_OLD), so no
    # request can delete it: it waits for the sweeper.
    assert unreferenced_finals(aws) == {old_avatar}
    assert sweep_an_hour_later(aws) == {old_avatar}


# --- Answers lost after the call took effect --------------------------------


@pytest.mark.parametrize(
    "client_getter, service, operation",
    [call for call in SUCCESS_PATH if call[2] != "UpdateItem"],
    ids=["GetObject", "PutObject", "DeleteObjects"],
)
def test_an_answer_lost_after_the_call_took_effect_leaves_a_consistent_state_and_can_be_retried(
    aws, client, alice, uploaded, caplog, client_getter, service, operation
):
    """after-call raising: the request was served, only its answer is lost (the
    lost commit answer, which leaks the old avatar, is the test above)."""
    key, old_avatar = uploaded
    event = f"after-call.{service}.{operation}"

    with caplog.at_level(logging.WARNING, logger="chalicelib.uploads"):
        with inject(client_getter, event, read_timeout()) as fired:
            answer = finalize(client, alice, key)

    assert fired == [event]
    if operation == "DeleteObjects":
        # The objects are gone, but the app cannot know it: it logs them as left.
        assert answer.status_code == 200, answer.body
        assert avatar_of(aws, ALICE) == f"avatars/{key}"
        assert not object_exists(aws, f"pending/{key}") and not object_exists(aws, old_avatar)
        assert f"pending/{key}" in caplog.text and old_avatar in caplog.text
    else:
        assert assert_error_shape(answer, 503)["error"] == "service_unavailable"
        assert avatar_of(aws, ALICE) == old_avatar and object_exists(aws, old_avatar)
        # A lost put answer leaves the object stored, owned, uncommitted.
        assert object_exists(aws, f"avatars/{key}") == (operation == "PutObject")
        assert object_exists(aws, f"pending/{key}")

    assert_retry_succeeds(aws, client, alice, key)
    assert unreferenced_finals(aws) == set()
    assert not object_exists(aws, old_avatar)


def connection_dropped_after(data, content_length):
    """A body as urllib3 hands it to botocore on AWS, from a connection that
    closed after `data` although the headers announced `content_length` bytes."""
    server, client_end = socket.socketpair()
    server.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % content_length + data)
    server.close()
    response = http.client.HTTPResponse(client_end)
    response.begin()
    client_end.close()
    raw = urllib3.response.HTTPResponse(
        body=response,
        headers=dict(response.getheaders()),
        status=200,
        preload_content=False,
        original_response=response,
    )
    return StreamingBody(raw, content_length)


def test_an_upload_cut_off_while_it_is_read_answers_503_and_is_kept_for_the_retry(
    aws, client, alice, uploaded
):
    """The connection drops in the middle of the GetObject body (moto's bodies
    are in memory, so the cut is made on a real socket). A network fault is
    an AWS failure like the others: 503, the upload kept, the retry succeeds;
    never a 500, and never a 415 that would delete the user's upload."""
    key, old_avatar = uploaded
    before = stored_state(aws)

    def cut_off(parsed, **_):
        whole = parsed["Body"].read()
        parsed["Body"] = connection_dropped_after(whole[: len(whole) // 2], len(whole))

    with inject_handler(app_aws.s3_client, "after-call.s3.GetObject", cut_off):
        answer = finalize(client, alice, key)

    assert assert_error_shape(answer, 503)["error"] == "service_unavailable"
    assert stored_state(aws) == before
    assert avatar_of(aws, ALICE) == old_avatar and object_exists(aws, old_avatar)
    assert_retry_succeeds(aws, client, alice, key)
    assert unreferenced_finals(aws) == set()


@pytest.mark.parametrize(
    "client_getter, service, operation",
    [(app_aws.dynamodb_client, "dynamodb", "GetItem"), (app_aws.s3_client, "s3", "HeadObject")],
    ids=["GetItem", "HeadObject"],
)
def test_a_failing_call_while_a_retry_recognizes_its_own_put_answers_503_and_a_later_retry_commits(
    aws, client, alice, uploaded, client_getter, service, operation
):
    """The retry of a finalize stopped before its commit takes two more calls:
    GetItem (is this key already the avatar?) and HeadObject (is this object
    mine?). Either failing leaves the put object for the next retry."""
    key, old_avatar = uploaded
    with die_between_put_and_commit():
        assert finalize(client, alice, key).status_code == 503
    before = stored_state(aws)

    event = f"before-call.{service}.{operation}"
    with inject(client_getter, event, service_error(operation)) as fired:
        answer = finalize(client, alice, key)

    assert fired == [event]
    assert assert_error_shape(answer, 503)["error"] == "service_unavailable"
    assert stored_state(aws) == before
    assert avatar_of(aws, ALICE) == old_avatar and object_exists(aws, old_avatar)
    assert_retry_succeeds(aws, client, alice, key)
    assert unreferenced_finals(aws) == set()


# --- Transport faults: botocore's standard retry mode -----------------------


@contextmanager
def transport_fault(client_getter, service, operation, exc, times=None, served=False):
    """Raise `exc` where the HTTP request is sent, inside botocore's retry loop,
    on the first `times` attempts (all if None); yield the attempts made.
    `served`: moto applies the request first, so only the answer is lost.
    Returning None lets moto's generic `before-send` handler answer."""
    attempts = []

    def fault(request, event_name, **_):
        attempts.append(operation)
        if times is None or len(attempts) <= times:
            if served:
                botocore_stubber(event_name, request)
            raise exc

    with inject_handler(client_getter, f"before-send.{service}.{operation}", fault):
        yield attempts


# botocore 1.44's standard mode: 3 attempts, but 4 for DynamoDB
# (botocore/retries/standard.py, _SERVICE_MAX_ATTEMPTS).
@pytest.mark.parametrize(
    "client_getter, service, operation, attempts",
    [
        (app_aws.s3_client, "s3", "GetObject", 3),
        (app_aws.s3_client, "s3", "PutObject", 3),
        (app_aws.dynamodb_client, "dynamodb", "UpdateItem", 4),
    ],
    ids=["GetObject", "PutObject", "UpdateItem"],
)
def test_a_connection_failing_on_every_attempt_is_retried_by_botocore_then_answers_503(
    aws, client, alice, uploaded, client_getter, service, operation, attempts
):
    key, old_avatar = uploaded
    error = ConnectionClosedError(endpoint_url="https://x")
    with transport_fault(client_getter, service, operation, error) as made:
        answer = finalize(client, alice, key)

    assert made == [operation] * attempts
    assert assert_error_shape(answer, 503)["error"] == "service_unavailable"
    assert avatar_of(aws, ALICE) == old_avatar and object_exists(aws, old_avatar)
    # A put that never got through leaves nothing; a failed commit keeps its object.
    assert object_exists(aws, f"avatars/{key}") == (operation == "UpdateItem")
    assert object_exists(aws, f"pending/{key}")
    assert_retry_succeeds(aws, client, alice, key)
    assert unreferenced_finals(aws) == set()


def test_a_delete_failing_on_every_attempt_is_retried_by_botocore_then_logged_and_answers_200(
    aws, client, alice, uploaded, caplog
):
    key, old_avatar = uploaded
    error = ConnectionClosedError(endpoint_url="https://x")
    with caplog.at_level(logging.WARNING, logger="chalicelib.uploads"):
        with transport_fault(app_aws.s3_client, "s3", "DeleteObjects", error) as made:
            answer = finalize(client, alice, key)

    assert made == ["DeleteObjects"] * 3
    assert answer.status_code == 200, answer.body
    assert avatar_of(aws, ALICE) == f"avatars/{key}"
    logged = [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "chalicelib.uploads" and "delete_failed" in record.getMessage()
    ]
    assert logged == [{"event": "delete_failed", "keys": [f"pending/{key}", old_avatar]}]
    # The leftovers: pending/ expires by the lifecycle rule, the old avatar is swept.
    assert object_exists(aws, f"pending/{key}")
    assert unreferenced_finals(aws) == {old_avatar}
    assert sweep_an_hour_later(aws) == {old_avatar}


@pytest.mark.parametrize(
    "client_getter, service, operation",
    [call for call in SUCCESS_PATH if call[2] != "DeleteObjects"],
    ids=["GetObject", "PutObject", "UpdateItem"],
)
def test_a_connection_failing_once_is_retried_by_botocore_and_the_finalize_succeeds(
    aws, client, alice, uploaded, client_getter, service, operation
):
    key, old_avatar = uploaded
    error = ConnectionClosedError(endpoint_url="https://x")
    with transport_fault(client_getter, service, operation, error, times=1) as made:
        answer = finalize(client, alice, key)

    assert made == [operation] * 2
    assert answer.status_code == 200, answer.body
    assert avatar_of(aws, ALICE) == f"avatars/{key}"
    assert not object_exists(aws, f"pending/{key}")
    assert unreferenced_finals(aws) == set()


def test_a_lost_commit_answer_retried_by_botocore_succeeds_but_leaks_the_old_avatar(
    aws, client, alice, uploaded, caplog
):
    """The first UpdateItem is applied, its answer lost; botocore sends it again,
    the condition still holds, and UPDATED_OLD now returns the new key."""
    key, old_avatar = uploaded
    with caplog.at_level(logging.WARNING, logger="chalicelib.uploads"):
        with transport_fault(
            app_aws.dynamodb_client, "dynamodb", "UpdateItem", read_timeout(), times=1, served=True
        ) as made:
            answer = finalize(client, alice, key)

    assert made == ["UpdateItem"] * 2
    assert answer.status_code == 200, answer.body
    assert avatar_of(aws, ALICE) == f"avatars/{key}"
    assert not object_exists(aws, f"pending/{key}")
    # The app believes nothing was replaced: the old avatar is neither deleted
    # nor logged, and waits for the sweeper.
    assert unreferenced_finals(aws) == {old_avatar}
    assert "delete_failed" not in caplog.text
    assert sweep_an_hour_later(aws) == {old_avatar}


def test_a_lost_put_answer_retried_by_botocore_still_finalizes(
    aws, client, alice, uploaded, aws_calls
):
    """The first PutObject is applied, its answer lost; botocore sends it again
    and S3 answers 412 (IfNoneMatch="*"): the app meets its own object, which
    it recognizes by the owner metadata and commits."""
    key, old_avatar = uploaded
    with transport_fault(
        app_aws.s3_client, "s3", "PutObject", read_timeout(), times=1, served=True
    ) as made:
        answer = finalize(client, alice, key)

    assert made == ["PutObject"] * 2
    # One transient timeout, handled by botocore, must not cost the upload.
    assert answer.status_code == 200, answer.body
    assert avatar_of(aws, ALICE) == f"avatars/{key}"
    assert object_exists(aws, f"avatars/{key}")
    assert not object_exists(aws, f"pending/{key}")
    # One PutObject call for the app (two attempts inside botocore), then the
    # two reads that recognize its own object.
    assert [operation for _, operation, _ in aws_calls] == [
        "GetObject",
        "PutObject",
        "GetItem",
        "HeadObject",
        "UpdateItem",
        "DeleteObjects",
    ]
    assert unreferenced_finals(aws) == set()
    assert not object_exists(aws, old_avatar)
