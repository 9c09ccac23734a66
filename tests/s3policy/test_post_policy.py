"""The POST policy, enforced by S3 itself (LocalStack's), around the app's own checks.

moto stores whatever a POST sends (tests/api/test_presign.py can only decode
the policy); here each condition the app signs is refused by the bucket, with
S3's status, before anything reaches `pending/`.
"""

import base64
import io
import json
from typing import NamedTuple

import pytest
from PIL import Image

from chalicelib.uploads import new_upload_key
from tests.conftest import SEED_USERS
from tests.helpers import colours_close, image_bytes, image_colour
from tests.s3policy.browser import finalize, post_file, post_with, request_form, s3_error_code

PNG = image_bytes("PNG", size=(48, 48), color=(30, 120, 200))


def keys_under(s3, bucket, prefix):
    answer = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(entry["Key"] for entry in answer.get("Contents", []))


def exists(s3, bucket, key) -> bool:
    return key in keys_under(s3, bucket, key)


def table_avatar(session):
    items = session.get(session.base + "debug/table").json()["items"]
    return {item["Username"]: item for item in items}[session.username]["Avatar"]


def test_the_three_phase_upload_works_against_an_s3_that_enforces_the_policy(
    sign_in, s3, bucket
):
    session = sign_in(0)
    form = request_form(session)

    # As the page sends it: cross-origin, the form's fields, the file last.
    posted = post_with(form, {}, PNG, origin=session.base.rstrip("/"))
    assert posted.status_code == 204, posted.text
    assert posted.headers.get("Access-Control-Allow-Origin")
    assert exists(s3, bucket, f"pending/{form['key']}")

    final = finalize(session, form["key"])

    assert final.status_code == 200, final.text
    avatar = f"avatars/{form['key']}"
    assert final.json()["avatar"] == avatar
    stored = s3.get_object(Bucket=bucket, Key=avatar)
    assert stored["ContentType"] == "image/webp"
    assert stored["Metadata"] == {"username": session.username}
    with Image.open(io.BytesIO(stored["Body"].read())) as image:
        assert (image.format, image.size) == ("WEBP", (48, 48))
    assert table_avatar(session) == avatar
    assert not exists(s3, bucket, f"pending/{form['key']}")


class Attempt(NamedTuple):
    """A POST of the app's form with one thing changed."""

    changes: dict = {}
    content: bytes = PNG
    content_type: str = "image/png"


def one_byte_over_the_limit(form):
    return Attempt(content=bytes(form["maxBytes"] + 1))


def an_empty_file(form):
    return Attempt(content=b"")


def an_html_page(form):
    return Attempt(content=b"<!doctype html><script>alert(1)</script>", content_type="text/html")


def another_users_name(form):
    return Attempt(changes={"x-amz-meta-username": SEED_USERS[0]["Username"]})


def another_key(form):
    return Attempt(changes={"key": f"pending/{new_upload_key()}"})


def a_key_outside_pending(form):
    return Attempt(changes={"key": f"avatars/{form['key']}"})


REFUSALS = [
    (one_byte_over_the_limit, 400, "EntityTooLarge"),
    (an_empty_file, 400, "EntityTooSmall"),
    (an_html_page, 403, "AccessDenied"),
    (another_users_name, 403, "AccessDenied"),
    (another_key, 403, "AccessDenied"),
    (a_key_outside_pending, 403, "AccessDenied"),
]


@pytest.mark.parametrize(
    "attempt, status, code", REFUSALS, ids=[attempt.__name__ for attempt, *_ in REFUSALS]
)
def test_s3_itself_refuses_a_post_that_breaks_the_policy(
    sign_in, s3, bucket, attempt, status, code
):
    session = sign_in(1)
    form = request_form(session)
    assert form["maxBytes"] == 10 * 1024 * 1024
    tried = attempt(form)
    pending_before = keys_under(s3, bucket, "pending/")

    answer = post_with(form, tried.changes, tried.content, tried.content_type)

    assert (answer.status_code, s3_error_code(answer)) == (status, code), answer.text
    assert keys_under(s3, bucket, "pending/") == pending_before
    assert not exists(s3, bucket, tried.changes.get("key", form["fields"]["key"]))
    assert finalize(session, form["key"]).status_code == 404


def test_a_form_used_again_after_finalizing_never_changes_the_live_avatar(sign_in, s3, bucket):
    session = sign_in(2)
    form = request_form(session)
    first, second = (40, 160, 90), (220, 30, 30)
    assert post_file(form, image_bytes("PNG", color=first)).status_code == 204
    assert finalize(session, form["key"]).status_code == 200
    avatar = f"avatars/{form['key']}"
    live = s3.get_object(Bucket=bucket, Key=avatar)["Body"].read()

    # S3 takes the same form again until it expires: the policy allows that key.
    assert post_file(form, image_bytes("PNG", color=second)).status_code == 204
    again = finalize(session, form["key"])

    assert again.status_code == 200, again.text
    assert again.json()["avatar"] == avatar
    assert s3.get_object(Bucket=bucket, Key=avatar)["Body"].read() == live
    assert colours_close(image_colour(live), first)
    assert table_avatar(session) == avatar
    assert not exists(s3, bucket, f"pending/{form['key']}")


# What LocalStack does not check, though real S3 does (403). These assert
# LocalStack's real behaviour, so the day it starts enforcing, they fail: then
# move the case into REFUSALS. Until then finalize's own checks (owner, size,
# decoding) are all that stands between such a POST and an avatar locally.


def test_localstack_stores_a_post_with_a_tampered_signature_which_real_s3_refuses(
    sign_in, s3, bucket
):
    form = request_form(sign_in(1))
    signature = form["fields"]["x-amz-signature"]
    tampered = signature[:-1] + ("0" if signature[-1] != "0" else "1")

    answer = post_with(form, {"x-amz-signature": tampered}, PNG)

    assert answer.status_code == 204, answer.text
    assert exists(s3, bucket, f"pending/{form['key']}")


def test_localstack_stores_a_post_without_a_policy_which_real_s3_refuses(sign_in, s3, bucket):
    form = request_form(sign_in(1))
    unsigned = dict.fromkeys(
        ["policy", "x-amz-signature", "x-amz-credential", "x-amz-algorithm", "x-amz-date"]
    )

    answer = post_with(form, unsigned, PNG)

    assert answer.status_code == 204, answer.text
    assert exists(s3, bucket, f"pending/{form['key']}")


def test_localstack_stores_a_post_whose_policy_the_client_rewrote_which_real_s3_refuses(
    sign_in, s3, bucket
):
    """The consequence of the unchecked signature: a client can drop any
    condition (here the Content-Type's) and keep the rest of the form."""
    form = request_form(sign_in(1))
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    policy["conditions"] = [
        condition for condition in policy["conditions"] if "$Content-Type" not in condition
    ]
    rewritten = base64.b64encode(json.dumps(policy).encode()).decode()

    answer = post_with(form, {"policy": rewritten}, b"<!doctype html>", "text/html")

    assert answer.status_code == 204, answer.text
    assert exists(s3, bucket, f"pending/{form['key']}")


def test_localstack_stores_a_post_with_a_field_the_policy_does_not_name_which_real_s3_refuses(
    sign_in, s3, bucket
):
    """S3 refuses a form field no condition names ("Extra input fields");
    LocalStack keeps it, here as metadata the app never asked for."""
    form = request_form(sign_in(1))

    answer = post_with(form, {"x-amz-meta-extra": "unasked"}, PNG)

    assert answer.status_code == 204, answer.text
    stored = s3.head_object(Bucket=bucket, Key=f"pending/{form['key']}")
    assert stored["Metadata"]["extra"] == "unasked"
