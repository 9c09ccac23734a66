"""POST /avatar: finalize checks the upload again, promotes it and swaps the avatar."""

import pytest
from botocore.exceptions import ClientError

from chalicelib import aws as app_aws
from chalicelib.uploads import AVATAR_CACHE_CONTROL
from tests.conftest import SEED_USERS
from tests.helpers import (
    avatar_of,
    body_of,
    finalize,
    image_bytes,
    keys_under,
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


def test_finalize_promotes_the_upload_and_swaps_the_avatar(aws, client, alice):
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
    stored = aws.s3.head_object(Bucket=aws.settings.bucket_name, Key=new_avatar)
    assert stored["ContentType"] == "image/png"
    assert stored["CacheControl"] == AVATAR_CACHE_CONTROL
    assert stored["Metadata"] == {"username": ALICE}
    assert keys_under(aws, "pending/") == []
    assert old_avatar not in keys_under(aws, "avatars/")
    # Everybody else keeps theirs.
    for user in SEED_USERS[1:]:
        assert avatar_of(aws, user["Username"]) == user["Avatar"]
        assert user["Avatar"] in keys_under(aws, "avatars/")


def test_finalize_makes_four_aws_calls_and_conditions_the_copy(aws, client, alice, aws_calls):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("PNG"), owner=ALICE)
    pending_etag = aws.s3.head_object(
        Bucket=aws.settings.bucket_name, Key=f"pending/{form['key']}"
    )["ETag"]
    aws_calls.clear()

    assert finalize(client, alice, form["key"]).status_code == 200

    assert [operation for _, operation, _ in aws_calls] == [
        "GetObject",
        "CopyObject",
        "UpdateItem",
        "DeleteObjects",
    ]
    get, copy, update, delete = (params for _, _, params in aws_calls)
    assert get["Range"].startswith("bytes=0-")
    assert copy["CopySourceIfMatch"] == pending_etag
    assert copy["IfNoneMatch"] == "*"
    assert copy["MetadataDirective"] == "REPLACE"
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
    first = image_bytes("PNG", color=(0, 0, 255))
    upload(aws, form["key"], first, owner=ALICE)
    assert finalize(client, alice, form["key"]).status_code == 200
    upload(aws, form["key"], image_bytes("PNG", color=(0, 255, 0)), owner=ALICE)

    again = finalize(client, alice, form["key"])

    assert again.status_code == 200
    live = aws.s3.get_object(Bucket=aws.settings.bucket_name, Key=f"avatars/{form['key']}")
    assert live["Body"].read() == first
    assert avatar_of(aws, ALICE) == f"avatars/{form['key']}"
    assert keys_under(aws, "pending/") == []


def test_finalize_refuses_bytes_swapped_in_after_the_check_with_409(aws, client, alice):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("PNG"), owner=ALICE)
    before = stored_state(aws)

    def swap_content(**_):
        upload(aws, form["key"], image_bytes("GIF"), owner=ALICE)

    app_aws.s3_client().meta.events.register("after-call.s3.GetObject", swap_content)
    answer = finalize(client, alice, form["key"])

    assert answer.status_code == 409
    assert body_of(answer)["error"] == "upload_conflict"
    assert stored_state(aws) == before


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


@pytest.mark.parametrize(
    "content, status",
    [
        (SVG, 415),
        (b"<!doctype html><script>alert(1)</script>", 415),
        (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", 415),
        (b"", 415),
        (b"\xff\xd8\xff\xe0" + b"\0" * (1024 * 1024 - 3), 413),
    ],
    ids=["svg", "html", "png-signature-then-html", "empty", "one-byte-over-the-limit"],
)
def test_finalize_refuses_what_is_not_an_allowed_image_and_deletes_it(
    aws, client, alice, content, status
):
    form = request_form(client, alice)
    upload(aws, form["key"], content, owner=ALICE)
    before = stored_state(aws)

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == status
    assert set(body_of(answer)) == {"error", "message"}
    assert stored_state(aws) == before
    assert keys_under(aws, "pending/") == []


def test_finalize_accepts_an_upload_of_exactly_the_limit(aws, client, alice):
    form = request_form(client, alice)
    png = image_bytes("PNG")
    upload(aws, form["key"], png + b"\0" * (form["maxBytes"] - len(png)), owner=ALICE)
    assert finalize(client, alice, form["key"]).status_code == 200


def test_finalize_stores_the_sniffed_type_not_the_declared_one(aws, client, alice):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("JPEG"), owner=ALICE, content_type="image/png")

    assert finalize(client, alice, form["key"]).status_code == 200

    stored = aws.s3.head_object(Bucket=aws.settings.bucket_name, Key=f"avatars/{form['key']}")
    assert stored["ContentType"] == "image/jpeg"


@pytest.mark.parametrize("image_format", ["GIF", "WEBP", "JPEG"])
def test_finalize_accepts_each_allowed_format(aws, client, alice, image_format):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes(image_format), owner=ALICE)
    assert finalize(client, alice, form["key"]).status_code == 200


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


def test_finalize_for_a_user_deleted_meanwhile_is_401_and_removes_the_copy(aws, client, alice):
    form = request_form(client, alice)
    upload(aws, form["key"], image_bytes("PNG"), owner=ALICE)
    aws.dynamodb.delete_item(TableName=aws.settings.table_name, Key={"Username": {"S": ALICE}})

    answer = finalize(client, alice, form["key"])

    assert answer.status_code == 401
    assert f"avatars/{form['key']}" not in keys_under(aws, "avatars/")


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
