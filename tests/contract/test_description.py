"""The API's description (chalicelib/openapi.yaml) and the code agree, both ways.

- The description is valid OpenAPI 3.1, and GET /openapi.json serves it.
- Its operations are exactly the app's own routes and methods.
- Every status it documents is answered by a request below (a status the
  description lists and the code cannot give fails here), and every answer
  any test gets through the test client is one it allows (tests/conftest.py
  checks each with tests/contract/answers.py; a status the code gives and the
  description lacks fails there).
- README's contract table names exactly its operations and their statuses.
"""

import dataclasses
import json
import re
from pathlib import Path

import openapi_spec_validator
import pytest

from app import app
from chalicelib import auth, services
from chalicelib import aws as app_aws
from chalicelib.api_description import api_description
from chalicelib.routing import handled_methods
from tests.conftest import SEED_USERS
from tests.contract import answers
from tests.helpers import (
    JSON,
    body_of,
    fail_every,
    finalize,
    image_bytes,
    png_of_black_pixels,
    post_json,
    request_form,
    sign_in,
    upload,
)

ROOT = Path(__file__).resolve().parents[2]
ALICE, BOB = SEED_USERS[0]["Username"], SEED_USERS[1]["Username"]


def test_the_description_is_valid_openapi_3_1():
    description = api_description()
    assert description["openapi"] == "3.1.0"
    openapi_spec_validator.validate(description)


def test_get_openapi_json_serves_the_description(client):
    answer = client.http.get("/openapi.json")
    assert answer.status_code == 200
    assert json.loads(answer.body) == json.loads(json.dumps(api_description()))


def test_the_operations_are_exactly_the_apps_own_routes():
    own = {(method, path) for path in app.routes for method in handled_methods(app, path)}
    assert answers.operations() == own


# One request for each status each operation documents. Each takes the test's
# `Scene` and returns the answer.
@dataclasses.dataclass
class Scene:
    aws: object
    client: object
    monkeypatch: object

    def session(self, username=ALICE):
        return sign_in(self.client, username)

    def uploaded(self, body, owner=ALICE, session_of=ALICE):
        form = request_form(self.client, self.session(session_of))
        upload(self.aws, form["key"], body, owner=owner)
        return form["key"]

    def failing(self, client_getter, operation):
        """Make every call of `operation` by the app's client fail from now on."""
        fail_every(client_getter, operation)
        return self

    def secret_from_a_missing_parameter(self):
        """The deployed stage's way of reading the signing secret, with SSM
        failing; returns a session to send."""
        session = self.session()
        # Not the environment: the test client sets the stage's own on every request.
        deployed = dataclasses.replace(
            auth.load_settings(),
            session_secret=None,
            session_secret_parameter="/avatars/no-such-parameter",
        )
        self.monkeypatch.setattr(auth, "load_settings", lambda: deployed)
        auth.forget_secret()
        return session

    def without_debug_views(self):
        """A deployed stage's default: DEBUG_ROUTES off."""
        off = dataclasses.replace(services.load_settings(), debug_routes=False)
        # Not the environment: the test client sets the stage's own on every request.
        self.monkeypatch.setattr(services, "load_settings", lambda: off)
        return self

    def without_the_page(self):
        self.aws.s3.delete_object(Bucket=self.aws.settings.bucket_name, Key="web/index.html")
        services.reset()


def _get(path, **headers):
    return lambda scene: scene.client.http.get(path, headers=headers)


def _login(body, headers=JSON):
    return lambda scene: scene.client.http.put("/login", headers=headers, body=body)


def _finalize_after(prepare):
    def run(scene):
        key = prepare(scene)
        return finalize(scene.client, scene.session(), key)

    return run


def _conflicting_key(scene):
    key = scene.uploaded(image_bytes("PNG"))
    scene.aws.s3.put_object(
        Bucket=scene.aws.settings.bucket_name,
        Key=f"avatars/{key}",
        Body=image_bytes("PNG"),
        Metadata={"username": BOB},
    )
    return key


def _too_large(scene):
    limit = scene.aws.settings.max_upload_bytes
    return scene.uploaded(b"\xff\xd8\xff\xe0" + b"\0" * limit)


SCENARIOS = {
    ("GET", "/", "200"): _get("/"),
    ("GET", "/", "404"): lambda s: (s.without_the_page(), s.client.http.get("/"))[1],
    ("GET", "/", "503"): lambda s: s.failing(app_aws.s3_client, "GetObject").client.http.get("/"),
    ("GET", "/static/{name}", "200"): _get("/static/app.js"),
    ("GET", "/static/{name}", "404"): _get("/static/app.py"),
    ("GET", "/static/{name}", "503"): lambda s: s.failing(
        app_aws.s3_client, "GetObject"
    ).client.http.get("/static/app.js"),
    ("GET", "/openapi.json", "200"): _get("/openapi.json"),
    ("GET", "/users", "200"): _get("/users"),
    ("GET", "/users", "503"): lambda s: s.failing(app_aws.dynamodb_client, "Scan").client.http.get(
        "/users"
    ),
    ("GET", "/whoami", "200"): lambda s: s.client.http.get("/whoami", headers=s.session()),
    ("GET", "/whoami", "503"): lambda s: s.client.http.get(
        "/whoami", headers=s.secret_from_a_missing_parameter()
    ),
    ("PUT", "/login", "204"): _login(json.dumps({"username": ALICE})),
    ("PUT", "/login", "400"): _login(json.dumps({"username": ""})),
    ("PUT", "/login", "404"): _login(json.dumps({"username": "nobody"})),
    ("PUT", "/login", "415"): _login("username=x", {"Content-Type": "text/plain"}),
    ("PUT", "/login", "503"): lambda s: s.failing(
        app_aws.dynamodb_client, "GetItem"
    ).client.http.put("/login", headers=JSON, body=json.dumps({"username": ALICE})),
    ("POST", "/logout", "204"): lambda s: post_json(s.client, "/logout", {}, s.session()),
    ("POST", "/logout", "400"): lambda s: post_json(s.client, "/logout", [], {}),
    ("POST", "/logout", "415"): lambda s: s.client.http.post("/logout", body=""),
    ("GET", "/user/{username}/avatar", "303"): _get(f"/user/{ALICE}/avatar"),
    ("GET", "/user/{username}/avatar", "404"): _get("/user/nobody/avatar"),
    ("GET", "/user/{username}/avatar", "503"): lambda s: s.failing(
        app_aws.dynamodb_client, "GetItem"
    ).client.http.get(f"/user/{ALICE}/avatar"),
    ("POST", "/uploads", "201"): lambda s: post_json(s.client, "/uploads", {}, s.session()),
    ("POST", "/uploads", "400"): lambda s: post_json(s.client, "/uploads", "x", s.session()),
    ("POST", "/uploads", "401"): lambda s: post_json(s.client, "/uploads", {}, {}),
    ("POST", "/uploads", "415"): lambda s: s.client.http.post("/uploads", headers=s.session()),
    ("POST", "/uploads", "503"): lambda s: post_json(
        s.client, "/uploads", {}, s.secret_from_a_missing_parameter()
    ),
    ("POST", "/avatar", "200"): _finalize_after(lambda s: s.uploaded(image_bytes("PNG"))),
    ("POST", "/avatar", "400"): _finalize_after(lambda s: "not-a-key"),
    ("POST", "/avatar", "401"): lambda s: post_json(s.client, "/avatar", {"key": "0" * 32}, {}),
    ("POST", "/avatar", "403"): _finalize_after(
        lambda s: s.uploaded(image_bytes("PNG"), owner=BOB, session_of=BOB)
    ),
    ("POST", "/avatar", "404"): _finalize_after(lambda s: "0" * 32),
    ("POST", "/avatar", "409"): _finalize_after(_conflicting_key),
    ("POST", "/avatar", "413"): _finalize_after(_too_large),
    ("POST", "/avatar", "415"): _finalize_after(lambda s: s.uploaded(b"<svg/>")),
    ("POST", "/avatar", "503"): _finalize_after(
        lambda s: s.failing(app_aws.dynamodb_client, "UpdateItem").uploaded(image_bytes("PNG"))
    ),
    ("GET", "/debug/bucket", "200"): _get("/debug/bucket"),
    ("GET", "/debug/bucket", "503"): lambda s: s.failing(
        app_aws.s3_client, "ListObjectsV2"
    ).client.http.get("/debug/bucket"),
    ("GET", "/debug/bucket", "404"): lambda s: s.without_debug_views().client.http.get(
        "/debug/bucket"
    ),
    ("GET", "/debug/table", "200"): _get("/debug/table"),
    ("GET", "/debug/table", "404"): lambda s: s.without_debug_views().client.http.get(
        "/debug/table"
    ),
    ("GET", "/debug/table", "503"): lambda s: s.failing(
        app_aws.dynamodb_client, "Scan"
    ).client.http.get("/debug/table"),
}


def test_every_documented_status_has_a_request_that_answers_it():
    assert set(SCENARIOS) == answers.documented_statuses()


@pytest.mark.parametrize("method, path, status", sorted(SCENARIOS))
def test_the_documented_status_is_answered(aws, client, monkeypatch, method, path, status):
    # A failure injected here dies with the app's clients, which the `aws`
    # fixture makes anew for every test.
    answer = SCENARIOS[method, path, status](Scene(aws, client, monkeypatch))
    # The test client has checked the answer against the description already.
    assert answer.status_code == int(status), answer.body


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_413_for_pixels_is_documented_too(aws, client, monkeypatch):
    scene = Scene(aws, client, monkeypatch)
    answer = _finalize_after(lambda s: s.uploaded(png_of_black_pixels(10000, 10000)))(scene)
    assert (answer.status_code, body_of(answer)["error"]) == (413, "image_too_large")


def _readme_table():
    """README's contract table as {(METHOD, path): the row's answer text}."""
    section = (ROOT / "README.md").read_text().split("## The HTTP contract", 1)[1]
    row = re.compile(r"^\| `(GET|PUT|POST|DELETE|PATCH) (/[^` ]*)`[^|]*\| (.*) \|$", re.MULTILINE)
    rows = row.findall(section)
    return {(method, path): text for method, path, text in rows}


def test_the_readme_table_names_exactly_the_described_operations():
    assert set(_readme_table()) == answers.operations()


def _statuses_named(text):
    return {status for status in re.findall(r"\b[1-5]\d\d\b", text)}


def test_the_readme_table_names_only_documented_statuses():
    documented = answers.documented_statuses()
    extra = [
        (method, path, status)
        for (method, path), text in _readme_table().items()
        for status in _statuses_named(text)
        if (method, path, status) not in documented
    ]
    assert extra == []


def test_the_readme_table_names_every_documented_status_but_503():
    table = _readme_table()
    missing = [
        (method, path, status)
        for method, path, status in answers.documented_statuses()
        if status != "503"
        and status not in re.findall(r"\b\d{3}\b", table[method, path])
        # A row names its success status only when it is not 200.
        and status != "200"
    ]
    assert missing == []
