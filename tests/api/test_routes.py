"""Every route of the HTTP contract, its answers and its errors."""

import base64
import dataclasses
import json
import time
from urllib.parse import urlparse

import pytest
from chalice.test import Client

from app import app
from chalicelib import auth, inventory, services
from tests.conftest import SEED_USERS
from tests.helpers import (
    JSON,
    body_of,
    finalize,
    image_bytes,
    post_json,
    request_form,
    sign_in,
    upload,
)

ALICE = SEED_USERS[0]["Username"]


def test_the_page_is_served_as_html_from_the_bucket(client):
    answer = client.http.get("/")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert b"static/app.js" in answer.body


@pytest.mark.parametrize(
    "name, content_type",
    [("app.js", "text/javascript"), ("style.css", "text/css"), ("index.html", "text/html")],
)
def test_the_pages_assets_are_served_with_their_content_type(client, name, content_type):
    answer = client.http.get(f"/static/{name}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith(content_type)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name", ["missing.js", "..%2Fapp.py", "app.py", ".env", "users.json"])
def test_anything_else_under_static_is_404(client, name):
    answer = client.http.get(f"/static/{name}")
    assert answer.status_code == 404
    assert body_of(answer)["error"] == "no_such_file"


def test_an_asset_changed_in_the_bucket_is_served_fresh(aws, client):
    assert b"static/app.js" in client.http.get("/").body
    aws.s3.put_object(
        Bucket=aws.settings.bucket_name, Key="web/index.html", Body=b"<p>new page</p>"
    )
    assert client.http.get("/").body == b"<p>new page</p>"


def test_users_lists_everybody_with_a_presigned_avatar_url(aws, client):
    answer = client.http.get("/users")
    assert answer.status_code == 200
    users = body_of(answer)["users"]
    assert [user["username"] for user in users] == sorted(u["Username"] for u in SEED_USERS)
    by_name = {user["username"]: user for user in users}
    for seed in SEED_USERS:
        listed = by_name[seed["Username"]]
        assert listed["name"] == seed["Name"]
        url = urlparse(listed["avatarUrl"])
        assert url.path.endswith(seed["Avatar"])
        assert "X-Amz-Signature=" in url.query


def test_users_makes_one_aws_call(client, aws_calls):
    client.http.get("/users")
    assert [operation for _, operation, _ in aws_calls] == ["Scan"]


def test_whoami_is_null_without_a_session_and_the_user_with_one(client):
    assert body_of(client.http.get("/whoami")) == {"username": None}
    session = sign_in(client, ALICE)
    assert body_of(client.http.get("/whoami", headers=session)) == {"username": ALICE}


def test_login_sets_an_httponly_lax_cookie_not_secure_on_the_local_stage(client):
    answer = client.http.put("/login", headers=JSON, body=json.dumps({"username": ALICE}))
    assert answer.status_code == 204
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("session=v1.")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie


def test_login_sets_a_secure_cookie_when_the_stage_serves_https(aws, client, monkeypatch):
    # chalice.test.Client re-exports the stage's variables on every call, so
    # the https stage's setting is given to the session code directly.
    https_settings = dataclasses.replace(aws.settings, secure_cookies=True)
    monkeypatch.setattr(auth, "load_settings", lambda: https_settings)
    answer = client.http.put("/login", headers=JSON, body=json.dumps({"username": ALICE}))
    assert "; Secure" in answer.headers["Set-Cookie"]


def test_login_as_an_unknown_user_is_404(client):
    answer = client.http.put("/login", headers=JSON, body=json.dumps({"username": "nobody"}))
    assert answer.status_code == 404
    assert body_of(answer)["error"] == "no_such_user"
    assert "Set-Cookie" not in answer.headers


@pytest.mark.parametrize(
    "body",
    [
        '{"username": ""}',
        '{"username": 5}',
        "{}",
        "[]",
        "not json",
        '{"username": "' + "a" * 200 + '"}',
    ],
)
def test_login_with_a_bad_body_is_400(client, body):
    answer = client.http.put("/login", headers=JSON, body=body)
    assert answer.status_code == 400
    assert set(body_of(answer)) == {"error", "message"}


def test_login_with_a_form_body_is_415(client):
    answer = client.http.put(
        "/login",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=f"username={ALICE}",
    )
    assert answer.status_code == 415
    assert body_of(answer)["error"] == "json_required"


def test_logout_clears_the_cookie(client):
    session = sign_in(client, ALICE)
    answer = post_json(client, "/logout", {}, session)
    assert answer.status_code == 204
    assert answer.headers["Set-Cookie"].startswith("session=;")
    assert "Max-Age=0" in answer.headers["Set-Cookie"]


def test_user_avatar_redirects_303_to_a_presigned_get(client):
    answer = client.http.get(f"/user/{ALICE}/avatar")
    assert answer.status_code == 303
    location = urlparse(answer.headers["Location"])
    assert location.path.endswith(SEED_USERS[0]["Avatar"])
    assert "X-Amz-Signature=" in location.query


def test_with_a_base_url_avatar_urls_are_the_same_on_every_call(aws, monkeypatch):
    # A stage behind CloudFront: AVATAR_BASE_URL (not in the local stage's
    # config, so the test client leaves it as set here).
    monkeypatch.setenv("AVATAR_BASE_URL", "https://d111111abcdef8.cloudfront.net/")
    services.reset()
    with Client(app, stage_name="local") as client:
        first = json.loads(client.http.get("/users").body)["users"]
        time.sleep(1.1)  # a presigned URL would carry a new X-Amz-Date
        second = json.loads(client.http.get("/users").body)["users"]
        redirect = client.http.get(f"/user/{ALICE}/avatar")
    assert first == second
    expected = "https://d111111abcdef8.cloudfront.net/" + SEED_USERS[0]["Avatar"]
    assert {user["username"]: user["avatarUrl"] for user in first}[ALICE] == expected
    assert redirect.status_code == 303
    assert redirect.headers["Location"] == expected


def test_without_a_base_url_each_call_signs_a_new_url(client):
    first = json.loads(client.http.get("/users").body)["users"]
    time.sleep(1.1)
    second = json.loads(client.http.get("/users").body)["users"]
    assert all("X-Amz-Signature=" in user["avatarUrl"] for user in first)
    assert [user["avatarUrl"] for user in first] != [user["avatarUrl"] for user in second]


def test_user_avatar_of_an_unknown_user_is_404(client):
    answer = client.http.get("/user/nobody/avatar")
    assert answer.status_code == 404
    assert body_of(answer)["error"] == "no_such_avatar"


def test_uploads_without_a_session_is_401(client):
    answer = post_json(client, "/uploads", {}, {})
    assert answer.status_code == 401
    assert body_of(answer)["error"] == "not_signed_in"


@pytest.mark.parametrize(
    "cookie",
    ["session=garbage", "session=", "session=v1.a.b.c", "other=1"],
)
def test_uploads_with_an_invalid_cookie_is_401(client, cookie):
    answer = post_json(client, "/uploads", {}, {"Cookie": cookie})
    assert answer.status_code == 401


def test_uploads_with_a_tampered_cookie_is_401(client):
    session = sign_in(client, ALICE)
    version, _, expiry, signature = session["Cookie"].split("=", 1)[1].split(".")
    other = base64.urlsafe_b64encode(SEED_USERS[1]["Username"].encode()).rstrip(b"=").decode()
    forged = {"Cookie": f"session={version}.{other}.{expiry}.{signature}"}
    assert post_json(client, "/uploads", {}, forged).status_code == 401


def test_debug_bucket_lists_objects_newest_first_with_their_expiry(aws, client):
    session = sign_in(client, ALICE)
    form = request_form(client, session)
    upload(aws, form["key"], image_bytes("PNG"), owner=ALICE)

    objects = body_of(client.http.get("/debug/bucket"))["objects"]

    assert objects[0]["key"] == f"pending/{form['key']}"
    assert objects[0]["metadata"] == {"username": ALICE}
    assert objects[0]["contentType"] == "image/png"
    assert objects[0]["size"] > 0
    # The lifecycle rule: last modified + 1 day, rounded up to midnight UTC.
    assert objects[0]["expiration"].endswith("T00:00:00Z")
    assert objects[0]["expiration"] > objects[0]["lastModified"]
    avatars = [entry for entry in objects if entry["key"].startswith("avatars/")]
    assert sorted(entry["key"] for entry in avatars) == sorted(u["Avatar"] for u in SEED_USERS)
    assert all(entry["expiration"] is None for entry in avatars)
    modified = [entry["lastModified"] for entry in objects]
    assert modified == sorted(modified, reverse=True)
    assert not any(entry["key"].startswith("web/") for entry in objects)


def test_debug_bucket_shows_a_finalized_avatar_as_webp_whatever_was_uploaded(aws, client):
    session = sign_in(client, ALICE)
    form = request_form(client, session)
    upload(aws, form["key"], image_bytes("JPEG"), owner=ALICE, content_type="image/jpeg")
    assert finalize(client, session, form["key"]).status_code == 200

    objects = body_of(client.http.get("/debug/bucket"))["objects"]

    (avatar,) = [entry for entry in objects if entry["key"] == f"avatars/{form['key']}"]
    assert avatar["contentType"] == "image/webp"
    assert avatar["metadata"] == {"username": ALICE}
    assert avatar["expiration"] is None
    assert not any(entry["key"].startswith("pending/") for entry in objects)


def test_debug_bucket_describes_at_most_max_objects_and_says_how_many_there_are(
    aws, client, monkeypatch
):
    # Which objects are the newest is tests/unit/test_inventory.py's: moto
    # keeps LastModified to the second, so these objects tie.
    monkeypatch.setattr(inventory, "MAX_OBJECTS", 2)
    session = sign_in(client, ALICE)
    for _ in range(2):
        form = request_form(client, session)
        upload(aws, form["key"], image_bytes("PNG"), owner=ALICE)

    view = body_of(client.http.get("/debug/bucket"))

    assert view["total"] == len(SEED_USERS) + 2
    assert len(view["objects"]) == 2


def test_debug_table_lists_the_items(client):
    items = body_of(client.http.get("/debug/table"))["items"]
    assert items == sorted(SEED_USERS, key=lambda user: user["Username"])
