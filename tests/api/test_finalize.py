"""POST /avatar: finalize checks the upload, stores an avatar made from it and swaps."""

import io
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import moto.s3.models
import pytest
from botocore.exceptions import ClientError
from PIL import Image

import chalicelib.images
from chalicelib import aws as app_aws
from chalicelib.uploads import AVATAR_CACHE_CONTROL, UploadService
from chalicelib.users import InMemoryUserRepository, User
from tests.conftest import SEED_USERS
from tests.helpers import (
    avatar_of,
    body_of,
    colours_close,
    finalize,
    image_bytes,
    keys_under,
    png_of_black_pixels,
    post_json,
    request_form,
    sign_in,
    stored_state,
    upload,
)

ALICE = SEED_USERS[0]["Username"]
BOB = SEED_USERS[1]["Username"]
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def alice(client):
    return sign_in(client, ALICE)


def test_finalize_stores_a_new_avatar_and_swaps_it_in(aws, client, alice):
    old_avatar = avatar_of(aws, ALICE)
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("PNG"), owner=ALICE)

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == 200
    body = body_of(answer)
    new_avatar = f"avatars/{form['key']}"
    assert body["username"] == ALICE and body["avatar"] == new_avatar
    assert new_avatar in body["avatarUrl"]
    assert avatar_of(aws, ALICE) == new_avatar
    stored = aws.s3.get_object(Bucket=aws.settings.bucket_name, Key=new_avatar)
    assert stored["ContentType"] == "image/webp"
    assert stored["CacheControl"] == AVATAR_CACHE_CONTROL
    assert stored["Metadata"] == {"username": ALICE}
    with Image.open(io.BytesIO(stored["Body"].read())) as avatar:
        assert (avatar.format, avatar.size) == ("WEBP", (32, 32))
        assert colours_close(avatar.convert("RGB").getpixel((16, 16)), (200, 40, 40))
    assert keys_under(aws, "pending/") == []
    assert old_avatar not in keys_under(aws, "avatars/")
    # Everybody else keeps theirs.
    for user in SEED_USERS[1:]:
        assert avatar_of(aws, user["Username"]) == user["Avatar"]
        assert user["Avatar"] in keys_under(aws, "avatars/")


def test_finalize_makes_four_aws_calls_and_never_overwrites_an_avatar(
    aws, client, alice, aws_calls
):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("PNG"), owner=ALICE)
    aws_calls.clear()

    assert finalize(client, alice, form["key"]).status_code == 200

    assert [operation for _, operation, _ in aws_calls] == [
        "GetObject",
        "PutObject",
        "UpdateItem",
        "DeleteObjects",
    ]
    get, put, update, delete = (params for _, _, params in aws_calls)
    assert get == {"Bucket": aws.settings.bucket_name, "Key": f"pending/{form['key']}"}
    assert put["Key"] == f"avatars/{form['key']}"
    assert put["IfNoneMatch"] == "*"
    assert put["ContentType"] == "image/webp"
    assert put["Body"][:4] == b"RIFF" and put["Body"][8:12] == b"WEBP"
    assert update["ReturnValues"] == "UPDATED_OLD"
    assert update["ConditionExpression"] == "attribute_exists(Username)"
    deleted = {entry["Key"] for entry in delete["Delete"]["Objects"]}
    assert deleted == {f"pending/{form['key']}", SEED_USERS[0]["Avatar"]}


def test_finalize_retried_after_success_answers_200_unchanged(aws, client, alice):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("PNG"), owner=ALICE)
    assert finalize(client, alice, form["key"]).status_code == 200
    before = stored_state(aws)

    again = finalize(client, alice, form["key"])

    assert again.status_code == 200
    assert body_of(again)["avatar"] == f"avatars/{form['key']}"
    assert stored_state(aws) == before


def test_finalize_of_a_reused_form_keeps_the_live_avatar(aws, client, alice):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("PNG", color=(0, 0, 255)), owner=ALICE)
    assert finalize(client, alice, form["key"]).status_code == 200
    first = _stored_bytes(aws, f"avatars/{form['key']}")
    upload(aws, form["key"], image_bytes("PNG", color=(0, 255, 0)), owner=ALICE)

    again = finalize(client, alice, form["key"])

    assert again.status_code == 200
    assert _stored_bytes(aws, f"avatars/{form['key']}") == first
    assert avatar_of(aws, ALICE) == f"avatars/{form['key']}"
    assert keys_under(aws, "pending/") == []


def test_finalize_stores_the_bytes_it_read_never_bytes_swapped_in_afterwards(aws, client, alice):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("PNG", color=(0, 0, 255)), owner=ALICE)

    def swap_content(**_):
        upload(aws, form["key"], image_bytes("PNG", color=(0, 255, 0)), owner=ALICE)

    events = app_aws.s3_client().meta.events
    events.register("after-call.s3.GetObject", swap_content, unique_id="swap")
    answer = finalize(client, alice, form["key"])
    events.unregister("after-call.s3.GetObject", unique_id="swap")

    assert answer.status_code == 200
    stored = _stored_bytes(aws, f"avatars/{form['key']}")
    with Image.open(io.BytesIO(stored)) as avatar:
        assert colours_close(avatar.convert("RGB").getpixel((16, 16)), (0, 0, 255))
    assert keys_under(aws, "pending/") == []


def test_a_form_reused_after_a_newer_avatar_finalizes_as_a_new_upload(aws, client, alice):
    """The old avatar object was deleted when the newer one was committed, so
    the key is free: the user's own second upload with the still-valid form is
    checked and stored like any other, and nothing is left behind."""
    old = request_form(client, alice)
    upload(aws, old["key"], image_bytes("PNG"), owner=ALICE)
    assert finalize(client, alice, old["key"]).status_code == 200
    new = request_form(client, alice)
    upload(aws, new["key"], image_bytes("GIF"), owner=ALICE)
    assert finalize(client, alice, new["key"]).status_code == 200
    upload(aws, old["key"], image_bytes("PNG", color=(1, 2, 3)), owner=ALICE)

    answer = finalize(client, alice, old["key"])

    assert answer.status_code == 200
    assert avatar_of(aws, ALICE) == f"avatars/{old['key']}"
    with Image.open(io.BytesIO(_stored_bytes(aws, f"avatars/{old['key']}"))) as avatar:
        assert colours_close(avatar.convert("RGB").getpixel((16, 16)), (1, 2, 3))
    assert f"avatars/{new['key']}" not in keys_under(aws, "avatars/")
    assert keys_under(aws, "pending/") == []


def test_a_form_reused_while_its_replaced_avatar_still_exists_is_409_and_never_revives_it(
    aws, client, alice, monkeypatch
):
    """The moment between a newer finalize's commit and its cleanup: the old
    avatar object is still there. Committing it again would point the user at
    an object the newer finalize is about to delete."""
    old_key, new_key = "a" * 32, "b" * 32
    an_hour_ago = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=1)
    with monkeypatch.context() as clock:
        clock.setattr(moto.s3.models, "utcnow", lambda: an_hour_ago)
        _store_avatar(aws, old_key, owner=ALICE)
    _store_avatar(aws, new_key, owner=ALICE)
    aws.dynamodb.update_item(
        TableName=aws.settings.table_name,
        Key={"Username": {"S": ALICE}},
        UpdateExpression="SET Avatar = :avatar",
        ExpressionAttributeValues={":avatar": {"S": f"avatars/{new_key}"}},
    )
    upload(aws, old_key, image_bytes("PNG", color=(1, 2, 3)), owner=ALICE)
    before = stored_state(aws)

    answer = finalize(client, alice, old_key)

    assert answer.status_code == 409
    assert body_of(answer)["error"] == "upload_conflict"
    assert stored_state(aws) == before
    assert avatar_of(aws, ALICE) == f"avatars/{new_key}"
    assert keys_under(aws, "pending/") == []


def test_an_unforeseen_failure_of_the_image_library_is_415_not_500_and_logged(
    aws, client, alice, monkeypatch, caplog
):
    def fail(data, rules):
        raise RuntimeError("a decoder bug")

    monkeypatch.setattr(chalicelib.images, "make_avatar", fail)
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("PNG"), owner=ALICE)
    before = stored_state(aws)

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == 415
    assert body_of(answer) == {
        "error": "not_an_image",
        "message": chalicelib.images.NOT_AN_IMAGE_MESSAGE,
    }
    assert stored_state(aws) == before
    assert keys_under(aws, "pending/") == []
    assert "a decoder bug" in caplog.text


def test_finalize_onto_an_avatar_object_that_is_not_the_users_is_409(aws, client, alice):
    form = request_form(client, alice)
    aws.s3.put_object(
        Bucket=aws.settings.bucket_name,
        Key=f"avatars/{form['key']}",
        Body=image_bytes("PNG"),
        Metadata={"username": BOB},
    )
    upload(aws, form["key"], image_bytes("PNG"), owner=ALICE)
    before = stored_state(aws)

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == 409
    assert body_of(answer)["error"] == "upload_conflict"
    assert stored_state(aws) == before
    assert keys_under(aws, "pending/") == []


def test_finalize_of_an_unknown_key_is_404(aws, client, alice):
    before = stored_state(aws)
    answer = finalize(client, alice, "0" * 32)
    assert answer.status_code == 404
    assert body_of(answer)["error"] == "no_such_upload"
    assert stored_state(aws) == before


def test_finalize_of_another_users_upload_is_403_and_leaves_it(aws, client, alice):
    bob = sign_in(client, BOB)
    form = request_form(client, bob)
    upload(aws, form["key"], image_bytes("PNG"), owner=BOB)
    before = stored_state(aws)

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == 403
    assert body_of(answer)["error"] == "not_your_upload"
    assert stored_state(aws) == before
    assert keys_under(aws, "pending/") == [f"pending/{form['key']}"]


JPEG = image_bytes("JPEG", size=(64, 64))


@pytest.mark.parametrize(
    "content, status, error",
    [
        (SVG, 415, "not_an_image"),
        (b"<!doctype html><script>alert(1)</script>", 415, "not_an_image"),
        (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", 415, "not_an_image"),
        (b"", 415, "not_an_image"),
        (JPEG[: len(JPEG) // 2], 415, "not_an_image"),
        (image_bytes("BMP"), 415, "not_an_image"),
        (b"\0\0\0\x18ftypheic" + b"\0" * 64, 415, "not_an_image"),
        (png_of_black_pixels(8000, 8000), 413, "image_too_large"),
        (None, 413, "too_large"),
    ],
    ids=[
        "svg",
        "html",
        "png-signature-then-html",
        "empty",
        "truncated-jpeg",
        "bmp",
        "heic",
        "64-megapixel-png",
        "one-byte-over-the-limit",
    ],
)
def test_finalize_refuses_what_is_not_an_allowed_image_and_deletes_it(
    aws, client, alice, content, status, error
):
    form = request_form(client, alice)
    if content is None:
        content = b"\xff\xd8\xff\xe0" + b"\0" * (form["maxBytes"] - 3)
    upload(aws, form["key"], content, owner=ALICE)
    before = stored_state(aws)

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == status
    assert set(body_of(answer)) == {"error", "message"}
    assert body_of(answer)["error"] == error
    assert stored_state(aws) == before
    assert keys_under(aws, "pending/") == []


def test_finalize_accepts_an_upload_of_exactly_the_limit(aws, client, alice):
    form = request_form(client, alice)
    png = image_bytes("PNG")
    upload(aws, form["key"], png + b"\0" * (form["maxBytes"] - len(png)), owner=ALICE)

    assert finalize(client, alice, form["key"]).status_code == 200

    assert avatar_of(aws, ALICE) == f"avatars/{form['key']}"
    assert _stored_bytes(aws, f"avatars/{form['key']}")[8:12] == b"WEBP"


def test_finalize_stores_webp_whatever_type_the_upload_declared(aws, client, alice):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("JPEG"), owner=ALICE, content_type="image/png")

    assert finalize(client, alice, form["key"]).status_code == 200

    stored = aws.s3.head_object(Bucket=aws.settings.bucket_name, Key=f"avatars/{form['key']}")
    assert stored["ContentType"] == "image/webp"


@pytest.mark.parametrize("image_format", ["PNG", "GIF", "WEBP", "JPEG"])
def test_finalize_accepts_each_allowed_format(aws, client, alice, image_format):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes(image_format), owner=ALICE)

    assert finalize(client, alice, form["key"]).status_code == 200

    stored = _stored_bytes(aws, f"avatars/{form['key']}")
    with Image.open(io.BytesIO(stored)) as avatar:
        assert avatar.format == "WEBP"
        assert colours_close(avatar.convert("RGB").getpixel((16, 16)), (200, 40, 40))


def test_finalize_scales_a_large_photo_to_the_avatar_size(aws, client, alice):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("JPEG", size=(2000, 1500)), owner=ALICE)

    assert finalize(client, alice, form["key"]).status_code == 200

    with Image.open(io.BytesIO(_stored_bytes(aws, f"avatars/{form['key']}"))) as avatar:
        assert avatar.size == (aws.settings.avatar_max_side, 384)


def test_the_avatar_format_setting_stores_jpeg(aws):
    """AVATAR_FORMAT=jpeg: the service, given those settings, writes a JPEG."""
    settings = replace(aws.settings, avatar_format="jpeg")
    users = InMemoryUserRepository([User(ALICE, "Alice", None)])
    service = UploadService(app_aws.s3_client(), users, settings)
    key = "a" * 32
    upload(aws, key, image_bytes("PNG"), owner=ALICE)

    service.finalize_upload(ALICE, key)

    stored = aws.s3.get_object(Bucket=aws.settings.bucket_name, Key=f"avatars/{key}")
    assert stored["ContentType"] == "image/jpeg"
    with Image.open(stored["Body"]) as avatar:
        assert avatar.format == "JPEG"
    assert users.get_user(ALICE).avatar == f"avatars/{key}"


def test_finalize_without_a_session_is_401_and_changes_nothing(aws, client, alice):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("PNG"), owner=ALICE)
    before = stored_state(aws)

    answer = finalize(client, {}, form["key"])

    assert answer.status_code == 401
    assert body_of(answer)["error"] == "not_signed_in"
    assert stored_state(aws) == before


@pytest.mark.parametrize(
    "body",
    [{}, {"key": None}, {"key": 7}, {"key": "../avatars/x"}, {"key": "A" * 32}, {"key": "0" * 31}],
)
def test_finalize_with_a_malformed_key_is_400(aws, client, alice, body):
    before = stored_state(aws)
    answer = post_json(client, "/avatar", body, alice)
    assert answer.status_code == 400
    assert body_of(answer)["error"] == "invalid_key"
    assert stored_state(aws) == before


def test_finalize_with_malformed_json_is_400(aws, client, alice):
    answer = client.http.post(
        "/avatar", headers={**alice, "Content-Type": "application/json"}, body="{not json"
    )
    assert answer.status_code == 400
    assert body_of(answer)["error"] == "invalid_json"


def test_finalize_refuses_a_form_post_from_another_site_with_415(aws, client, alice):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("PNG"), owner=ALICE)
    before = stored_state(aws)

    answer = client.http.post(
        "/avatar",
        headers={**alice, "Content-Type": "application/x-www-form-urlencoded"},
        body=f"key={form['key']}",
    )

    assert answer.status_code == 415
    assert body_of(answer)["error"] == "json_required"
    assert stored_state(aws) == before


def test_finalize_for_a_user_deleted_meanwhile_is_401_and_removes_what_it_stored(
    aws, client, alice
):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("PNG"), owner=ALICE)
    aws.dynamodb.delete_item(TableName=aws.settings.table_name, Key={"Username": {"S": ALICE}})

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == 401
    assert f"avatars/{form['key']}" not in keys_under(aws, "avatars/")
    assert keys_under(aws, "pending/") == []


def test_finalize_whose_commit_fails_answers_503_keeps_the_old_avatar_and_can_be_retried(
    aws, client, alice
):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("PNG"), owner=ALICE)
    before = stored_state(aws)

    def fail_update(**_):
        raise ClientError(
            {"Error": {"Code": "InternalServerError", "Message": "injected"}}, "UpdateItem"
        )

    events = app_aws.dynamodb_client().meta.events
    events.register("before-call.dynamodb.UpdateItem", fail_update, unique_id="fail")
    answer = finalize(client, alice, form["key"])
    events.unregister("before-call.dynamodb.UpdateItem", unique_id="fail")

    assert answer.status_code == 503
    assert set(body_of(answer)) == {"error", "message"}
    items, finals = stored_state(aws)
    # The table is unchanged; the copy stays for the retry to commit.
    assert (items, [key for key in finals if key != f"avatars/{form['key']}"]) == before
    assert (
        aws.s3.head_object(Bucket=aws.settings.bucket_name, Key=avatar_of(aws, ALICE))[
            "ContentLength"
        ]
        > 0
    )

    retry = finalize(client, alice, form["key"])
    assert retry.status_code == 200
    assert avatar_of(aws, ALICE) == f"avatars/{form['key']}"


def _store_avatar(aws, key, owner):
    aws.s3.put_object(
        Bucket=aws.settings.bucket_name,
        Key=f"avatars/{key}",
        Body=image_bytes("WEBP"),
        ContentType="image/webp",
        Metadata={"username": owner},
    )


def _stored_bytes(aws, key):
    return aws.s3.get_object(Bucket=aws.settings.bucket_name, Key=key)["Body"].read()
