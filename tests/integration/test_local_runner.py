"""The local runner over real HTTP: what chalice.test.Client cannot show.

devtools/local_gateway.py makes `make run`'s server answer as a gateway does:
no body after a HEAD, JSON for every method and every request it can read,
and JSON for the ones it cannot. Raw sockets here, since HTTP clients tidy
requests up (and hide a body left on a kept-alive connection).
"""

import json
import socket
from urllib.parse import urlsplit

import pytest

from tests.stack import running_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server():
    with running_stack() as stack:
        parts = urlsplit(stack["url"])
        yield parts.hostname, parts.port


def exchange(server, *requests, read_body=True):
    """Send raw `requests` on one connection; return each answer as
    (status, headers, body), reading bodies by Content-Length."""
    with socket.create_connection(server, timeout=10) as connection:
        stream = connection.makefile("rb")
        answers = []
        for request, has_body in requests:
            connection.sendall(request)
            status_line = stream.readline().decode("latin-1")
            status = int(status_line.split()[1])
            headers = {}
            while (line := stream.readline().decode("latin-1").strip()) != "":
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", 0))
            body = stream.read(length) if has_body and read_body else b""
            answers.append((status, headers, body))
        return answers


def get(path, method="GET", extra=b""):
    return (f"{method} {path} HTTP/1.1\r\nHost: x\r\n".encode() + extra + b"\r\n", method != "HEAD")


def assert_json_error(answer, status, error=None):
    got_status, headers, body = answer
    assert got_status == status, answer
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    document = json.loads(body)
    assert set(document) == {"error", "message"}
    if error:
        assert document["error"] == error


def test_a_head_has_the_gets_headers_and_no_body_so_the_next_request_reads_clean(server):
    head, after, full = exchange(
        server, get("/static/app.js", "HEAD"), get("/whoami"), get("/static/app.js")
    )
    assert head[0] == 200
    assert head[1]["content-length"] == full[1]["content-length"] == str(len(full[2]))
    assert head[1]["content-type"] == full[1]["content-type"]
    assert after[0] == 200 and json.loads(after[2]) == {"username": None}


@pytest.mark.parametrize("path, status", [("/nope", 404), ("/login", 405), ("/user/x", 404)])
def test_a_head_the_api_refuses_sends_no_body_either(server, path, status):
    head, after = exchange(server, get(path, "HEAD"), get("/whoami"))
    assert head[0] == status
    assert int(head[1]["content-length"]) > 0  # the GET's error body, not sent
    assert after[0] == 200 and json.loads(after[2]) == {"username": None}


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "FOO", "PROPFIND"])
def test_a_method_api_gateway_does_not_route_is_a_json_405_with_allow(server, method):
    (answer,) = exchange(server, get("/users", method))
    assert_json_error(answer, 405, "method_not_allowed")
    assert answer[1]["allow"] == "GET, HEAD, OPTIONS"
    (answer,) = exchange(server, get("/nope", method))
    assert_json_error(answer, 404, "not_found")


@pytest.mark.parametrize("target", ["127.0.0.1:8000", "*", "users"])
def test_a_target_that_is_no_path_is_a_json_404(server, target):
    (answer,) = exchange(server, get(target, "CONNECT" if ":" in target else "OPTIONS"))
    assert_json_error(answer, 404, "not_found")


def test_an_absolute_form_target_and_a_doubled_slash_reach_their_route(server):
    absolute, doubled = exchange(server, get("http://127.0.0.1/users"), get("//users"))
    assert absolute[0] == doubled[0] == 200
    assert "users" in json.loads(absolute[2]) and "users" in json.loads(doubled[2])


def test_path_parameters_are_percent_decoded(server):
    (users,) = exchange(server, get("/users"))
    username = json.loads(users[2])["users"][0]["username"]
    encoded = "".join(f"%{byte:02X}" for byte in username.encode())
    (answer,) = exchange(server, get(f"/user/{encoded}/avatar"))
    assert answer[0] == 303


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /users HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /users HTTP/1.1\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", 431),
        (b"POST /logout HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST /logout HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411),
    ],
    ids=[
        "request-line",
        "version",
        "uri-too-long",
        "too-many-headers",
        "content-length",
        "chunked",
    ],
)
def test_a_request_http_server_cannot_read_is_refused_in_json(server, raw, status):
    (answer,) = exchange(server, (raw, True))
    assert_json_error(answer, status)
    assert answer[1]["connection"] == "close"
