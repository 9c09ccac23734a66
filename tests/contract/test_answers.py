"""The check every test-client answer goes through (answers.py) catches what it should.

Without these, a checker that found nothing would let every suite pass.
"""

import json

import pytest

from tests.contract.answers import problems

# What the app sends with every JSON answer.
JSON = {
    "Content-Type": "application/json",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}
ERROR = json.dumps({"error": "not_found", "message": "x"}).encode()


def body(value):
    return json.dumps(value).encode()


def test_a_documented_answer_passes():
    assert problems("GET", "/whoami", 200, JSON, body({"username": None})) == []
    assert problems("GET", "/nope", 404, JSON, ERROR) == []


@pytest.mark.parametrize(
    "method, url, status, headers, payload, expected",
    [
        ("GET", "/whoami", 418, JSON, body({"username": None}), "418 is not documented"),
        ("GET", "/whoami", 200, {"Content-Type": "text/html"}, b"", "Content-Type"),
        ("GET", "/whoami", 200, JSON, body({"username": None, "x": 1}), "Additional properties"),
        ("GET", "/whoami", 200, JSON, body({"username": 5}), "is not valid"),
        ("PUT", "/login", 204, JSON, b"", "no Set-Cookie header"),
        (
            "GET",
            "/users",
            200,
            {"Content-Type": "application/json"},
            body({"users": []}),
            "X-Content-Type-Options",
        ),
        ("PUT", "/login", 404, JSON, body({"error": "other_code", "message": "x"}), "not named"),
        ("PUT", "/login", 400, JSON, body({"Code": "BadRequest", "Message": "x"}), "required"),
        ("GET", "/nope", 403, JSON, body({"message": "Missing Authentication Token"}), "403"),
        (
            "DELETE",
            "/users",
            405,
            JSON,
            body({"error": "method_not_allowed", "message": "x"}),
            "Allow",
        ),
        ("OPTIONS", "/users", 200, {"Allow": "GET"}, b"", "not an empty 204"),
        ("HEAD", "/users", 500, JSON, b"", "500 is not documented for GET /users"),
        ("HEAD", "/users", 200, {"Content-Type": "application/json"}, b"", "Cache-Control"),
        ("GET", "/nope", 404, {"Content-Type": "application/json"}, ERROR, "Referrer-Policy"),
    ],
)
def test_an_answer_outside_the_description_is_caught(
    method, url, status, headers, payload, expected
):
    found = problems(method, url, status, headers, payload)
    assert any(expected in problem for problem in found), found
