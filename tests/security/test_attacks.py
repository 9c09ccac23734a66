"""One test per attack on the three-phase upload, each asserting the HTTP answer
and that the stored state (table items, object keys outside `pending/`, the live
avatars' bytes) is exactly what the attack must leave."""

import base64
import io
import json
import re
import time

import pytest
from PIL import Image, ImageFile

from chalicelib import aws as app_aws
from chalicelib.sessions import sign_session
from tests.conftest import ROOT
from tests.helpers import (
    JSON,
    avatar_of,
    body_of,
    colours_close,
    finalize,
    image_bytes,
    image_colour,
    keys_under,
    png_chunk,
    png_of_black_pixels,
    post_json,
    request_form,
    sign_in,
    stored_object,
    upload,
)
from tests.security.conftest import ALICE, BOB, local_secret, pending_object, stored_state

XSS = "<img src=x onerror=alert(1)>"
HTML_PAGE = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
SCRIPT = b"<script>alert(document.cookie)</script>"
# A real PNG's signature and IHDR chunk (valid CRC), then a page: every header
# check passes, so only decoding the whole image refuses it.
PNG_HEADER_THEN_HTML = image_bytes("PNG")[:33] + b"<html>" + SCRIPT + b"</html>"
# An iPhone's default format: an ISO-BMFF box 'ftyp' with the brand 'heic'.
HEIC = b"\x00\x00\x00\x18ftypheic" + b"\x00\x00\x00\x00mif1heic" + b"\x00" * 64


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
    blue, green = (0, 0, 255), (0, 255, 0)
    form = pending_upload(aws, client, alice, owner=ALICE, content=image_bytes("PNG", color=blue))
    assert finalize(client, alice, form["key"]).status_code == 200
    before = stored_state(aws)
    upload(aws, form["key"], image_bytes("PNG", color=green), owner=ALICE)
    aws_calls.clear()

    again = finalize(client, alice, form["key"])

    assert again.status_code == 200
    assert body_of(again)["avatar"] == f"avatars/{form['key']}"
    # The live avatar's bytes, type and owner are as before (stored_state holds them).
    assert stored_state(aws) == before
    live, _, _ = stored_object(aws, f"avatars/{form['key']}")
    assert colours_close(image_colour(live), blue)
    assert keys_under(aws, "pending/") == []
    puts = [params for _, operation, params in aws_calls if operation == "PutObject"]
    assert [put["IfNoneMatch"] for put in puts] == ["*"]
    deleted = [
        entry["Key"]
        for _, operation, params in aws_calls
        if operation == "DeleteObjects"
        for entry in params["Delete"]["Objects"]
    ] + [params["Key"] for _, operation, params in aws_calls if operation == "DeleteObject"]
    assert deleted == [f"pending/{form['key']}"]
    assert "UpdateItem" not in [operation for _, operation, _ in aws_calls]


# 4 ---------------------------------------------------------------------------------


def test_bytes_swapped_in_after_finalize_read_the_upload_are_never_stored(
    aws, client, alice, aws_calls
):
    """The upload is replaced (the form used again) right after finalize's
    GetObject answered: the avatar is made from the bytes that were read, so
    the swapped bytes are never stored, whatever they are."""
    red, blue = (200, 40, 40), (40, 40, 200)
    form = pending_upload(
        aws, client, alice, owner=ALICE, content=image_bytes("PNG", size=(32, 32), color=red)
    )
    swapped = image_bytes("PNG", size=(48, 16), color=blue)
    seen = {}

    def swap_content(parsed, **_):
        seen["read"] = parsed["ContentLength"]
        upload(aws, form["key"], swapped, owner=ALICE)

    events = app_aws.s3_client().meta.events
    events.register("after-call.s3.GetObject", swap_content, unique_id="swap")
    try:
        answer = finalize(client, alice, form["key"])
    finally:
        events.unregister("after-call.s3.GetObject", unique_id="swap")

    assert answer.status_code == 200
    assert "read" in seen, "the swap never ran"
    assert avatar_of(aws, ALICE) == f"avatars/{form['key']}"
    stored, content_type, metadata = stored_object(aws, f"avatars/{form['key']}")
    assert (content_type, metadata) == ("image/webp", {"username": ALICE})
    with Image.open(io.BytesIO(stored)) as avatar:
        assert avatar.size == (32, 32)
    assert colours_close(image_colour(stored), red)
    assert not colours_close(image_colour(stored), blue)
    # One read, of the whole object; the swapped upload is cleaned up with the rest.
    assert [operation for _, operation, _ in aws_calls] == [
        "GetObject",
        "PutObject",
        "UpdateItem",
        "DeleteObjects",
    ]
    (get,) = [params for _, operation, params in aws_calls if operation == "GetObject"]
    assert "Range" not in get
    assert keys_under(aws, "pending/") == []


# 5 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_content, declared_type, status, code",
    [
        (lambda limit: HTML_PAGE, "image/png", 415, "not_an_image"),
        (lambda limit: SVG, "image/svg+xml", 415, "not_an_image"),
        (lambda limit: b"\x89PNG\r\n\x1a\n" + HTML_PAGE, "image/png", 415, "not_an_image"),
        (lambda limit: PNG_HEADER_THEN_HTML, "image/png", 415, "not_an_image"),
        (lambda limit: image_bytes("JPEG")[:-200], "image/jpeg", 415, "not_an_image"),
        (lambda limit: b"", "image/png", 415, "not_an_image"),
        (
            lambda limit: image_bytes("PNG") + b"\0" * (limit + 1 - len(image_bytes("PNG"))),
            "image/png",
            413,
            "too_large",
        ),
    ],
    ids=[
        "html",
        "svg",
        "png-signature-then-html",
        "valid-png-header-then-html",
        "truncated-jpeg",
        "empty",
        "one-byte-over-the-limit",
    ],
)
def test_uploading_what_is_not_an_allowed_image_is_refused_and_the_upload_deleted(
    aws, client, alice, make_content, declared_type, status, code
):
    limit = aws.settings.max_upload_bytes
    form = request_form(client, alice)
    assert form["maxBytes"] == limit
    content = make_content(limit)
    if status == 413:
        assert len(content) == limit + 1
    upload(aws, form["key"], content, owner=ALICE, content_type=declared_type)
    before = stored_state(aws)

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == status
    assert error_body(answer)["error"] == code
    assert stored_state(aws) == before
    assert keys_under(aws, "pending/") == []


def test_a_heic_photo_is_415_with_a_message_naming_the_accepted_formats(aws, client, alice):
    form = pending_upload(aws, client, alice, owner=ALICE, content=HEIC)
    before = stored_state(aws)

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == 415
    body = error_body(answer)
    assert body["error"] == "not_an_image"
    assert "HEIC" in body["message"]
    for name in ("JPEG", "PNG", "GIF", "WebP"):
        assert name in body["message"]
    assert stored_state(aws) == before
    assert keys_under(aws, "pending/") == []


@pytest.mark.parametrize(
    "make_size",
    [
        lambda limit: (30000, 30000),
        lambda limit: (10000, limit // 10000 + 1),
    ],
    ids=["900-megapixels", "one-row-over-the-pixel-limit"],
)
def test_a_decompression_bomb_is_413_before_any_pixel_is_decoded_and_deleted(
    aws, client, alice, monkeypatch, make_size
):
    """A small file whose header claims more pixels than the limit: decoding it
    would take gigabytes of memory. The first is far over Pillow's own bomb
    limit too; the second is over the app's limit only."""
    limit = aws.settings.max_image_pixels
    width, height = make_size(limit)
    assert width * height > limit
    bomb = png_of_black_pixels(width, height)
    assert len(bomb) <= 1024 * 1024
    # The same construction, small, is an image finalize would accept: the
    # refusal is for the pixel count, not for a malformed file.
    with Image.open(io.BytesIO(png_of_black_pixels(64, 48))) as control:
        control.load()
        assert control.size == (64, 48)
    form = pending_upload(aws, client, alice, owner=ALICE, content=bomb)
    before = stored_state(aws)
    decoded = []
    load = ImageFile.ImageFile.load
    monkeypatch.setattr(
        ImageFile.ImageFile, "load", lambda image: decoded.append(image.size) or load(image)
    )

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == 413
    assert error_body(answer)["error"] == "image_too_large"
    assert "megapixels" in body_of(answer)["message"]
    assert decoded == []
    assert stored_state(aws) == before
    assert keys_under(aws, "pending/") == []


# 6 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image_format, declared_type",
    [
        ("JPEG", "image/png"),
        ("PNG", "image/jpeg"),
        ("GIF", "image/svg+xml"),
        ("WEBP", "text/html"),
    ],
    ids=[
        "jpeg-declared-as-png",
        "png-declared-as-jpeg",
        "gif-declared-as-svg",
        "webp-declared-as-html",
    ],
)
def test_an_image_is_stored_as_webp_whatever_its_declared_type(
    aws, client, alice, image_format, declared_type
):
    colour = (30, 120, 220)
    form = request_form(client, alice)
    upload(
        aws,
        form["key"],
        image_bytes(image_format, color=colour),
        owner=ALICE,
        content_type=declared_type,
    )

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == 200
    stored, content_type, metadata = stored_object(aws, f"avatars/{form['key']}")
    assert (content_type, metadata) == ("image/webp", {"username": ALICE})
    with Image.open(io.BytesIO(stored)) as avatar:
        assert avatar.format == "WEBP"
    assert colours_close(image_colour(stored), colour)
    assert avatar_of(aws, ALICE) == f"avatars/{form['key']}"


def _png_then_html():
    return image_bytes("PNG", color=(10, 150, 90)) + b"<html><body>" + SCRIPT + b"</body></html>"


def _png_with_script_in_a_text_chunk():
    png = image_bytes("PNG", color=(10, 150, 90))
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + png_chunk(b"tEXt", b"Comment\0" + SCRIPT) + png[iend:]


def _jpeg_with_script_in_its_comment():
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 150, 90)).save(buffer, format="JPEG", comment=SCRIPT)
    return buffer.getvalue()


def _gif_with_script_in_its_comment():
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 150, 90)).save(buffer, format="GIF", comment=SCRIPT)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "make_polyglot",
    [
        _png_then_html,
        _png_with_script_in_a_text_chunk,
        _jpeg_with_script_in_its_comment,
        _gif_with_script_in_its_comment,
    ],
    ids=lambda make: make.__name__[1:].replace("_", "-"),
)
def test_a_polyglot_image_is_stored_without_its_payload(aws, client, alice, make_polyglot):
    """A complete image that also carries markup (after IEND, in a text chunk or
    a comment): a browser sniffing the stored object must find no page in it."""
    polyglot = make_polyglot()
    assert b"<script" in polyglot
    form = pending_upload(aws, client, alice, owner=ALICE, content=polyglot)

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == 200
    stored, content_type, _ = stored_object(aws, f"avatars/{form['key']}")
    assert content_type == "image/webp"
    assert b"<script" not in stored.lower()
    assert b"alert" not in stored
    assert colours_close(image_colour(stored), (10, 150, 90))
    # The upload that carried the payload is gone too.
    assert keys_under(aws, "pending/") == []


def _photo_with_location_and_camera():
    exif = Image.Exif()
    exif[0x010F] = "SecretMaker"  # Make
    exif[0x0110] = "SecretCam X100"  # Model
    exif[0x0132] = "2026:01:02 03:04:05"  # DateTime
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (48.0, 51.0, 29.5), 3: "E", 4: (2.0, 17.0, 40.2)})
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 160, 60)).save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_a_photos_location_and_camera_are_not_stored(aws, client, alice):
    photo = _photo_with_location_and_camera()
    with Image.open(io.BytesIO(photo)) as original:
        assert original.getexif().get_ifd(0x8825)[2] == (48.0, 51.0, 29.5)
        assert original.getexif()[0x0110] == "SecretCam X100"
    form = pending_upload(aws, client, alice, owner=ALICE, content=photo)

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == 200
    stored, content_type, _ = stored_object(aws, f"avatars/{form['key']}")
    assert content_type == "image/webp"
    for secret in (b"SecretCam", b"SecretMaker", b"2026:01:02", b"Exif", b"EXIF", b"XMP"):
        assert secret not in stored
    with Image.open(io.BytesIO(stored)) as avatar:
        assert dict(avatar.getexif()) == {}
        assert avatar.getexif().get_ifd(0x8825) == {}
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(avatar.info)
        assert avatar.size == (64, 48)


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


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        f"multipart/form-data; boundary={BOUNDARY}",
        "text/plain",
    ],
)
@pytest.mark.parametrize("path", ["/logout", "/uploads"])
def test_a_cross_site_html_form_post_cannot_sign_out_or_request_a_form(
    aws, client, content_type, path
):
    # Neither route reads a body, but each needs the JSON Content-Type all the
    # same: without it a form on another site could sign a user out, or have
    # forms issued in their name.
    alice = sign_in(client, ALICE)
    before = stored_state(aws), keys_under(aws, "pending/")

    answer = client.http.post(path, headers={**alice, "Content-Type": content_type}, body="")

    assert answer.status_code == 415
    assert error_body(answer)["error"] == "json_required"
    assert "Set-Cookie" not in answer.headers
    assert (stored_state(aws), keys_under(aws, "pending/")) == before


# 11 --------------------------------------------------------------------------------

HTML_SINKS = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write")


def test_names_and_metadata_with_html_are_returned_as_text_never_markup(aws, client):
    # The page's script is split into modules: none may write markup.
    scripts = {path.name: path.read_text() for path in (ROOT / "static").glob("*.js")}
    assert "app.js" in scripts
    assert {name: HTML_SINKS.findall(text) for name, text in scripts.items()} == {
        name: [] for name in scripts
    }
    assert any("textContent" in text for text in scripts.values())
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
