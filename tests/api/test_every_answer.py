"""Every method on every path answers in the contract's shape (chalicelib/routing.py).

Through chalice.test.Client, which routes as `make run` does (devtools/local_gateway.py).
"""

import json

import pytest
from botocore.exceptions import NoCredentialsError

from app import app
from chalicelib import services
from chalicelib.routing import CATCH_ALL_PATH, ROUTED_METHODS, handled_methods
from tests.conftest import SEED_USERS
from tests.helpers import JSON, body_of, keys_under, sign_in, table_items

ALICE = SEED_USERS[0]["Username"]
# Each of the app's own paths, with its path parameters filled in.
EXAMPLE_PATHS = {
    "/": "/",
    "/static/{name}": "/static/app.js",
    "/openapi.json": "/openapi.json",
    "/users": "/users",
    "/whoami": "/whoami",
    "/login": "/login",
    "/logout": "/logout",
    "/user/{username}/avatar": f"/user/{ALICE}/avatar",
    "/uploads": "/uploads",
    "/avatar": "/avatar",
    "/debug/bucket": "/debug/bucket",
    "/debug/table": "/debug/table",
}
OWN_PATHS = sorted(path for path in app.routes if handled_methods(app, path))
GET_PATHS = [path for path in OWN_PATHS if "GET" in handled_methods(app, path)]


def allow_list(path):
    handled = handled_methods(app, path)
    return sorted(handled | {"OPTIONS"} | ({"HEAD"} if "GET" in handled else set()))


def test_every_path_of_the_app_has_an_example():
    assert sorted(EXAMPLE_PATHS) == OWN_PATHS


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/users/x",
        "/user",
        "/user/x",
        "/user/x/avatar/y",
        "/static",
        "/debug",
        "/static/a/b.js",
        "/api/users",
        "/%75sers",
    ],
)
def test_a_path_the_api_lacks_is_a_json_404_for_every_method(client, path):
    for method in ROUTED_METHODS:
        answer = client.http.request(method, path, headers={})
        assert answer.status_code == 404, method
        assert answer.headers["Content-Type"] == "application/json"
        if method != "HEAD":
            assert body_of(answer) == {
                "error": "not_found",
                "message": "There is nothing at this path.",
            }


@pytest.mark.parametrize("path", OWN_PATHS)
def test_a_method_a_path_lacks_is_a_json_405_with_allow(aws, client, path):
    before = (keys_under(aws, ""), table_items(aws))
    for method in sorted(set(ROUTED_METHODS) - set(allow_list(path))):
        answer = client.http.request(method, EXAMPLE_PATHS[path], headers=JSON, body="{}")
        assert answer.status_code == 405, method
        assert answer.headers["Allow"] == ", ".join(allow_list(path))
        assert body_of(answer) == {
            "error": "method_not_allowed",
            "message": f"{method} is not allowed on {path}. Allowed: {answer.headers['Allow']}.",
        }
    assert (keys_under(aws, ""), table_items(aws)) == before


@pytest.mark.parametrize("path", OWN_PATHS)
def test_options_lists_the_methods_of_a_path(client, path):
    answer = client.http.request("OPTIONS", EXAMPLE_PATHS[path], headers={})
    assert answer.status_code == 204
    assert answer.headers["Allow"] == ", ".join(allow_list(path))
    assert answer.body == b""
    assert "Access-Control-Allow-Origin" not in answer.headers


@pytest.mark.parametrize("path", GET_PATHS)
def test_head_answers_as_get(client, path):
    # The body too, here: the gateway drops it (tests/integration/test_local_runner.py).
    get = client.http.get(EXAMPLE_PATHS[path])
    head = client.http.request("HEAD", EXAMPLE_PATHS[path], headers={})
    assert head.status_code == get.status_code
    varying = {"Location"}  # a fresh presigned URL on every call
    assert {k: v for k, v in head.headers.items() if k not in varying} == {
        k: v for k, v in get.headers.items() if k not in varying
    }
    if path != "/user/{username}/avatar":
        assert head.body == get.body


@pytest.mark.parametrize("path", GET_PATHS)
def test_a_get_ignores_the_requests_content_type_and_body(client, path):
    plain = client.http.get(EXAMPLE_PATHS[path])
    for headers, body in [
        ({"Content-Type": "text/plain"}, "hello"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "a=1"),
        ({"Content-Type": "multipart/form-data; boundary=x"}, "--x--"),
        ({"Content-Type": "application/json"}, "not json"),
    ]:
        odd = client.http.request("GET", EXAMPLE_PATHS[path], headers=headers, body=body)
        assert odd.status_code == plain.status_code, headers
        assert odd.headers["Content-Type"] == plain.headers["Content-Type"]


NOT_JSON = [
    {},
    {"Content-Type": "text/plain"},
    {"Content-Type": "application/x-www-form-urlencoded"},
    {"Content-Type": "multipart/form-data; boundary=x"},
    {"Content-Type": "application/jsonx"},
]


@pytest.mark.parametrize("path", ["/logout", "/uploads"])
@pytest.mark.parametrize("headers", NOT_JSON)
def test_a_post_without_a_body_still_needs_the_json_content_type(aws, client, path, headers):
    session = sign_in(client, ALICE)
    before = (keys_under(aws, ""), table_items(aws))
    answer = client.http.post(path, headers={**session, **headers}, body="")
    assert answer.status_code == 415
    assert body_of(answer)["error"] == "json_required"
    assert "Set-Cookie" not in answer.headers
    assert (keys_under(aws, ""), table_items(aws)) == before


@pytest.mark.parametrize("path, status", [("/logout", 204), ("/uploads", 201)])
@pytest.mark.parametrize("body", ["", "{}", '{"anything": [1, 2]}', " { } "])
def test_a_post_without_a_body_takes_none_or_any_json_object(client, path, status, body):
    session = sign_in(client, ALICE)
    answer = client.http.post(path, headers={**session, **JSON}, body=body)
    assert answer.status_code == status


@pytest.mark.parametrize("path", ["/logout", "/uploads"])
@pytest.mark.parametrize(
    "body", ["[]", '"x"', "1", "null", "{", "\x00", " ", "\n\t", '{"a": NaN}', '{"a": -Infinity}']
)
def test_a_post_without_a_body_refuses_json_that_is_not_an_object(aws, client, path, body):
    session = sign_in(client, ALICE)
    before = keys_under(aws, "")
    answer = client.http.post(path, headers={**session, **JSON}, body=body)
    assert answer.status_code == 400
    assert body_of(answer)["error"] == "invalid_json"
    assert keys_under(aws, "") == before


def test_path_parameters_are_percent_decoded(client):
    encoded = "".join(f"%{byte:02X}" for byte in ALICE.encode())
    answer = client.http.get(f"/user/{encoded}/avatar")
    assert answer.status_code == 303
    assert client.http.get("/static/%61pp.js").status_code == 200


@pytest.mark.parametrize("path", ["/users", "/whoami", "/nope", "/openapi.json"])
def test_json_answers_carry_the_security_headers(client, path):
    answer = client.http.get(path)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_the_description_is_served_as_json(client):
    answer = client.http.get("/openapi.json")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    description = json.loads(answer.body)
    assert description["openapi"].startswith("3.1")
    assert "/avatar" in description["paths"]


def test_the_catch_all_is_a_path_of_its_own():
    assert handled_methods(app, CATCH_ALL_PATH) == set()
    assert set(app.routes[CATCH_ALL_PATH]) == set(ROUTED_METHODS)


def test_the_page_is_a_json_503_when_the_s3_urls_its_policy_names_cannot_be_signed(
    client, monkeypatch
):
    def unsigned():
        raise NoCredentialsError()

    # The one seam: the middleware asks services for the origins on each answer.
    monkeypatch.setattr(services, "storage_origins", unsigned)
    answer = client.http.get("/")
    assert answer.status_code == 503
    assert body_of(answer)["error"] == "service_unavailable"
    assert answer.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    # JSON answers name no origin, so they never ask.
    assert client.http.get("/users").status_code == 200
