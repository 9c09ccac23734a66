"""One test per attack on the three-phase upload, each asserting the HTTP answer
and that the stored state (table items, object keys outside `pending/`, the live
avatars' bytes) is exactly what the attack must leave."""

import base64
import json
import re
import time

import pytest

from chalicelib import aws as app_aws
from chalicelib.sessions import sign_session
from tests.conftest import ROOT
from tests.helpers import (
    JSON,
    avatar_of,
    body_of,
    finalize,
    image_bytes,
    keys_under,
    post_json,
    request_form,
    sign_in,
    upload,
)
from tests.security.conftest import ALICE, BOB, local_secret, pending_object, stored_state

XSS = "<img src=x onerror=alert(1)>"
HTML_PAGE = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
# A real PNG's signature and IHDR chunk (valid CRC), then a page: passes every
# header check, so only the markup search can refuse it.
PNG_HEADER_THEN_HTML = (
    image_bytes("PNG")[:33] + b"<html><script>alert(document.cookie)</script></html>"
)


def pending_upload(aws, client, session, owner, content=None):
    """A form issued to `session`, used to upload `content` (a valid PNG by default)."""
    form = request_form(client, session)
    upload(aws, form["key"], image_bytes("PNG") if content is None else content, owner=owner)
    return form


def error_body(answer):
    body = body_of(answer)
    assert set(body) == {"error", "message"}, body
    assert isinstance(body["message"], str) and body["message"]
    return body


# 1 ---------------------------------------------------------------------------------


def test_finalizing_another_users_key_is_403_and_leaves_their_upload_untouched(
    aws, client, alice, bob
):
    form = pending_upload(aws, client, bob, owner=BOB)
    before, bobs_upload = stored_state(aws), pending_object(aws, form["key"])

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == 403
    assert error_body(answer)["error"] == "not_your_upload"
    assert stored_state(aws) == before
    assert pending_object(aws, form["key"]) == bobs_upload
    # Bob can still finalize his own upload afterwards.
    assert finalize(client, bob, form["key"]).status_code == 200
    assert avatar_of(aws, BOB) == f"avatars/{form['key']}"


# 2 ---------------------------------------------------------------------------------


def test_finalizing_the_same_key_twice_answers_200_unchanged_with_one_avatar_object(
    aws, client, alice
):
    form = pending_upload(aws, client, alice, owner=ALICE)
    first = finalize(client, alice, form["key"])
    assert first.status_code == 200
    before = stored_state(aws)

    second = finalize(client, alice, form["key"])

    assert second.status_code == 200
    assert body_of(second)["avatar"] == body_of(first)["avatar"] == f"avatars/{form['key']}"
    assert stored_state(aws) == before
    owned = [
        key
        for key in keys_under(aws, "avatars/")
        if aws.s3.head_object(Bucket=aws.settings.bucket_name, Key=key)["Metadata"].get("username")
        == ALICE
    ]
    assert owned == [f"avatars/{form['key']}"]


# 3 ---------------------------------------------------------------------------------


def test_reusing_the_form_after_finalizing_never_changes_or_deletes_the_live_avatar(
    aws, client, alice, aws_calls
):
    first = image_bytes("PNG", color=(0, 0, 255))
    form = pending_upload(aws, client, alice, owner=ALICE, content=first)
    assert finalize(client, alice, form["key"]).status_code == 200
    before = stored_state(aws)
    upload(aws, form["key"], image_bytes("PNG", color=(0, 255, 0)), owner=ALICE)
    aws_calls.clear()

    again = finalize(client, alice, form["key"])

    assert again.status_code == 200
    assert body_of(again)["avatar"] == f"avatars/{form['key']}"
    assert stored_state(aws) == before
    live = aws.s3.get_object(Bucket=aws.settings.bucket_name, Key=f"avatars/{form['key']}")
    assert live["Body"].read() == first
    assert keys_under(aws, "pending/") == []
    deleted = [
        entry["Key"]
        for _, operation, params in aws_calls
        if operation == "DeleteObjects"
        for entry in params["Delete"]["Objects"]
    ] + [params["Key"] for _, operation, params in aws_calls if operation == "DeleteObject"]
    assert deleted == [f"pending/{form['key']}"]
    assert "UpdateItem" not in [operation for _, operation, _ in aws_calls]


# 4 ---------------------------------------------------------------------------------


def test_content_swapped_between_the_check_and_the_copy_is_409_and_never_promoted(
    aws, client, alice, aws_calls
):
    form = pending_upload(aws, client, alice, owner=ALICE)
    before = stored_state(aws)
    seen = {}

    def swap_content(parsed, **_):
        seen["etag"] = parsed["ETag"]
        upload(aws, form["key"], image_bytes("GIF"), owner=ALICE)
        seen["swapped etag"] = pending_object(aws, form["key"])[3]

    events = app_aws.s3_client().meta.events
    events.register("after-call.s3.GetObject", swap_content, unique_id="swap")
    try:
        answer = finalize(client, alice, form["key"])
    finally:
        events.unregister("after-call.s3.GetObject", unique_id="swap")

    assert answer.status_code == 409
    assert error_body(answer)["error"] == "upload_conflict"
    assert stored_state(aws) == before
    assert seen["etag"] != seen["swapped etag"]
    copies = [params for _, operation, params in aws_calls if operation == "CopyObject"]
    assert len(copies) == 1
    assert copies[0]["CopySourceIfMatch"] == seen["etag"]
    assert copies[0]["IfNoneMatch"] == "*"
    assert "UpdateItem" not in [operation for _, operation, _ in aws_calls]


# 5 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_content, declared_type, status",
    [
        (lambda limit: HTML_PAGE, "image/png", 415),
        (lambda limit: SVG, "image/svg+xml", 415),
        (lambda limit: b"\x89PNG\r\n\x1a\n" + HTML_PAGE, "image/png", 415),
        (lambda limit: PNG_HEADER_THEN_HTML, "image/png", 415),
        (lambda limit: b"", "image/png", 415),
        (
            lambda limit: image_bytes("PNG") + b"\0" * (limit + 1 - len(image_bytes("PNG"))),
            "image/png",
            413,
        ),
    ],
    ids=[
        "html",
        "svg",
        "png-signature-then-html",
        "valid-png-header-then-html",
        "empty",
        "one-byte-over-the-limit",
    ],
)
def test_uploading_what_is_not_an_allowed_image_is_refused_and_the_upload_deleted(
    aws, client, alice, make_content, declared_type, status
):
    form = request_form(client, alice)
    content = make_content(form["maxBytes"])
    if status == 413:
        assert len(content) == form["maxBytes"] + 1
    upload(aws, form["key"], content, owner=ALICE, content_type=declared_type)
    before = stored_state(aws)

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == status
    error_body(answer)
    assert stored_state(aws) == before
    assert keys_under(aws, "pending/") == []


# 6 ---------------------------------------------------------------------------------


def test_a_jpeg_declared_as_png_is_stored_with_its_real_type(aws, client, alice):
    jpeg = image_bytes("JPEG")
    form = request_form(client, alice)
    upload(aws, form["key"], jpeg, owner=ALICE, content_type="image/png")

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == 200
    stored = aws.s3.get_object(Bucket=aws.settings.bucket_name, Key=f"avatars/{form['key']}")
    assert stored["ContentType"] == "image/jpeg"
    assert stored["Body"].read() == jpeg
    assert avatar_of(aws, ALICE) == f"avatars/{form['key']}"


# 7 ---------------------------------------------------------------------------------

SEED_HEX = "f3c95789ace1a9542c5d6baed2eac902"


@pytest.mark.parametrize(
    "make_key",
    [
        lambda key: "../../avatars/" + SEED_HEX,
        lambda key: "..%2f..%2favatars%2f" + SEED_HEX,
        lambda key: "..%2f" + key[5:],
        lambda key: "pending/" + key,
        lambda key: key.upper(),
        lambda key: key[:31],
        lambda key: key + "0",
        lambda key: int(key[:15], 16),
        lambda key: [key],
        lambda key: {"key": key},
        lambda key: None,
        lambda key: (key * (1024 * 1024 // 32 + 1))[: 1024 * 1024],
    ],
    ids=[
        "traversal",
        "encoded-traversal",
        "encoded-traversal-32-chars",
        "pending-prefix",
        "upper-case",
        "31-chars",
        "33-chars",
        "int",
        "list",
        "dict",
        "null",
        "one-megabyte-string",
    ],
)
def test_a_malformed_key_is_400_invalid_key_and_changes_nothing(aws, client, alice, make_key):
    form = pending_upload(aws, client, alice, owner=ALICE)
    before, upload_before = stored_state(aws), pending_object(aws, form["key"])

    answer = post_json(client, "/avatar", {"key": make_key(form["key"])}, alice)

    assert answer.status_code == 400
    assert error_body(answer)["error"] == "invalid_key"
    assert stored_state(aws) == before
    assert pending_object(aws, form["key"]) == upload_before


# 8 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type, make_body, status, code",
    [
        ("application/json", lambda key: '{"key": "' + key, 400, "invalid_json"),
        ("application/json", lambda key: json.dumps({"avatar": key}), 400, "invalid_key"),
        ("application/json", lambda key: json.dumps([{"key": key}]), 400, "invalid_json"),
        ("text/plain", lambda key: json.dumps({"key": key}), 415, "json_required"),
        (None, lambda key: json.dumps({"key": key}), 415, "json_required"),
    ],
    ids=["malformed-json", "missing-key-field", "json-array", "text-plain", "no-content-type"],
)
def test_a_malformed_finalize_body_or_content_type_is_refused_and_changes_nothing(
    aws, client, alice, content_type, make_body, status, code
):
    form = pending_upload(aws, client, alice, owner=ALICE)
    before, upload_before = stored_state(aws), pending_object(aws, form["key"])
    headers = dict(alice)
    if content_type is not None:
        headers["Content-Type"] = content_type

    answer = client.http.post("/avatar", headers=headers, body=make_body(form["key"]))

    assert answer.status_code == status
    assert error_body(answer)["error"] == code
    assert stored_state(aws) == before
    assert pending_object(aws, form["key"]) == upload_before


# 9 ---------------------------------------------------------------------------------


def _forged(valid_cookie):
    return ALICE, "session=" + sign_session(ALICE, time.time() + 3600, b"another-secret")


def _tampered(valid_cookie):
    version, _, expires_at, signature = valid_cookie.split("=", 1)[1].split(".")
    bob = base64.urlsafe_b64encode(BOB.encode()).rstrip(b"=").decode()
    return BOB, f"session={version}.{bob}.{expires_at}.{signature}"


def _expired(valid_cookie):
    return ALICE, "session=" + sign_session(ALICE, int(time.time()) - 60, local_secret())


def _unsigned(valid_cookie):
    return ALICE, "session=" + base64.b64encode(ALICE.encode()).decode()


@pytest.mark.parametrize(
    "make_cookie", [_forged, _tampered, _expired, _unsigned], ids=lambda f: f.__name__[1:]
)
def test_a_forged_tampered_expired_or_unsigned_session_cookie_is_401(
    aws, client, alice, bob, make_cookie
):
    claimed, cookie = make_cookie(alice["Cookie"])
    owner_session = {ALICE: alice, BOB: bob}[claimed]
    form = pending_upload(aws, client, owner_session, owner=claimed)
    before, upload_before = stored_state(aws), pending_object(aws, form["key"])
    # The control: the same user, signed with the stage's secret, is accepted.
    valid = "session=" + sign_session(claimed, time.time() + 3600, local_secret())
    assert body_of(client.http.get("/whoami", headers={"Cookie": valid})) == {"username": claimed}

    uploads = post_json(client, "/uploads", {}, {"Cookie": cookie})
    avatar = finalize(client, {"Cookie": cookie}, form["key"])

    for answer in (uploads, avatar):
        assert answer.status_code == 401
        assert error_body(answer)["error"] == "not_signed_in"
    assert body_of(client.http.get("/whoami", headers={"Cookie": cookie})) == {"username": None}
    assert stored_state(aws) == before
    assert pending_object(aws, form["key"]) == upload_before


# 10 --------------------------------------------------------------------------------

BOUNDARY = "----WebKitFormBoundaryX3bY6PBMcxB1vCan"


@pytest.mark.parametrize(
    "content_type, make_body",
    [
        ("application/x-www-form-urlencoded", lambda key: f"key={key}"),
        (
            f"multipart/form-data; boundary={BOUNDARY}",
            lambda key: (
                f"--{BOUNDARY}\r\n"
                'Content-Disposition: form-data; name="key"\r\n\r\n'
                f"{key}\r\n--{BOUNDARY}--\r\n"
            ),
        ),
        # enctype="text/plain" with a field named '{"key":"<key>","x":"' and
        # value '"}' sends a JSON body: only its Content-Type gives it away.
        ("text/plain", lambda key: '{"key":"' + key + '","x":"=' + '"}'),
    ],
    ids=["urlencoded", "multipart", "text-plain-json"],
)
def test_a_cross_site_html_form_post_cannot_finalize(aws, client, content_type, make_body):
    login = client.http.put("/login", headers=JSON, body=json.dumps({"username": ALICE}))
    assert login.status_code == 204
    cookie, *attributes = [part.strip() for part in login.headers["Set-Cookie"].split(";")]
    lowered = [attribute.lower() for attribute in attributes]
    assert "samesite=lax" in lowered
    assert "httponly" in lowered
    alice = {"Cookie": cookie}
    form = pending_upload(aws, client, alice, owner=ALICE)
    before, upload_before = stored_state(aws), pending_object(aws, form["key"])

    answer = client.http.post(
        "/avatar", headers={**alice, "Content-Type": content_type}, body=make_body(form["key"])
    )

    assert answer.status_code == 415
    assert error_body(answer)["error"] == "json_required"
    assert stored_state(aws) == before
    assert pending_object(aws, form["key"]) == upload_before


# 11 --------------------------------------------------------------------------------

HTML_SINKS = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write")


def test_names_and_metadata_with_html_are_returned_as_text_never_markup(aws, client):
    script = (ROOT / "static" / "app.js").read_text()
    assert HTML_SINKS.findall(script) == []
    assert "textContent" in script
    username = "<script>alert(1)</script>"
    aws.dynamodb.put_item(
        TableName=aws.settings.table_name,
        Item={"Username": {"S": username}, "Name": {"S": XSS}},
    )
    # The HTML-named user can sign in, and metadata with HTML reaches the bucket.
    session = sign_in(client, username)
    assert body_of(client.http.get("/whoami", headers=session)) == {"username": username}
    form = request_form(client, session)
    upload(aws, form["key"], image_bytes("PNG"), owner=XSS)

    users = client.http.get("/users")
    table = client.http.get("/debug/table")
    bucket = client.http.get("/debug/bucket")

    for answer in (users, table, bucket):
        assert answer.status_code == 200
        # No header: chalice local and API Gateway both answer application/json.
        assert answer.headers.get("Content-Type", "application/json") == "application/json"
        assert b"&lt;" not in answer.body and b"\\u003c" not in answer.body
    assert {"username": username, "name": XSS, "avatarUrl": None} in body_of(users)["users"]
    assert {"Username": username, "Name": XSS, "Avatar": None} in body_of(table)["items"]
    metadata = [
        entry["metadata"]
        for entry in body_of(bucket)["objects"]
        if entry["key"] == f"pending/{form['key']}"
    ]
    assert metadata == [{"username": XSS}]
