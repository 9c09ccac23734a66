"""Unit tests for upload keys (chalicelib.uploads) and the JSON web layer (chalicelib.http)."""

import json
import logging
import re

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from chalice import Response

from chalicelib.errors import (
    AppError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    NotSignedIn,
    ServiceUnavailable,
    TooLarge,
    UnsupportedMediaType,
)
from chalicelib.http import error_response, json_body, json_errors, required_string
from chalicelib.uploads import new_upload_key, parse_upload_key

VALID_KEY = "0123456789abcdef0123456789abcdef"


class FakeRequest:
    """The two attributes of chalice's Request that json_body reads."""

    def __init__(self, raw_body=b"", content_type="application/json", headers=None):
        self.headers = dict(headers or {})
        if content_type is not None:
            self.headers["content-type"] = content_type
        self.raw_body = raw_body


# --- new_upload_key / parse_upload_key ---------------------------------------------


def test_new_upload_key_is_32_lowercase_hex_characters():
    key = new_upload_key()
    assert re.fullmatch(r"[0-9a-f]{32}", key)


def test_a_thousand_new_upload_keys_are_all_distinct():
    keys = [new_upload_key() for _ in range(1000)]
    assert len(set(keys)) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys)


def test_parse_upload_key_accepts_a_key_this_service_issued():
    key = new_upload_key()
    assert parse_upload_key(key) == key


def test_parse_upload_key_accepts_a_valid_fixed_key():
    assert parse_upload_key(VALID_KEY) == VALID_KEY


@pytest.mark.parametrize(
    "value",
    [
        "../../etc/passwd",
        "pending/" + VALID_KEY,
        "avatars/" + VALID_KEY,
        VALID_KEY.upper(),
        "0123456789ABCDEF0123456789abcdef",
        VALID_KEY[:31],
        VALID_KEY + "0",
        VALID_KEY + "\n",
        "\n" + VALID_KEY,
        " " + VALID_KEY,
        VALID_KEY[:-1] + "g",
        "../" + VALID_KEY[3:],
        "",
        "a" * (1024 * 1024),
        "0" * (1024 * 1024),
    ],
    ids=[
        "path-traversal",
        "pending-prefix",
        "avatars-prefix",
        "uppercase-hex",
        "mixed-case-hex",
        "31-chars",
        "33-chars",
        "trailing-newline",
        "leading-newline",
        "leading-space",
        "non-hex-letter",
        "dot-dot-slash-32",
        "empty",
        "1MB-letters",
        "1MB-hex-digits",
    ],
)
def test_parse_upload_key_refuses_a_string_this_service_could_not_have_issued(value):
    with pytest.raises(BadRequest) as raised:
        parse_upload_key(value)
    assert raised.value.status == 400
    assert raised.value.code == "invalid_key"


@pytest.mark.parametrize(
    "value",
    [None, 123, 1.5, [VALID_KEY], {"key": VALID_KEY}, VALID_KEY.encode("ascii"), True],
    ids=["none", "int", "float", "list", "dict", "bytes", "bool"],
)
def test_parse_upload_key_refuses_a_value_that_is_not_a_string(value):
    with pytest.raises(BadRequest) as raised:
        parse_upload_key(value)
    assert raised.value.status == 400
    assert raised.value.code == "invalid_key"


# --- json_body -------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=----x",
        "application/jsonp",
        "application/json-patch+json",
        "text/json",
        "",
    ],
)
def test_json_body_refuses_a_body_that_is_not_declared_as_json(content_type):
    request = FakeRequest(b'{"username": "alice"}', content_type=content_type)
    with pytest.raises(UnsupportedMediaType) as raised:
        json_body(request)
    assert raised.value.status == 415
    assert raised.value.code == "json_required"


def test_json_body_refuses_a_request_without_a_content_type():
    request = FakeRequest(b'{"username": "alice"}', content_type=None)
    with pytest.raises(UnsupportedMediaType) as raised:
        json_body(request)
    assert raised.value.status == 415
    assert raised.value.code == "json_required"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        " application/json ;charset=UTF-8",
    ],
)
def test_json_body_reads_a_json_object_declared_as_json(content_type):
    request = FakeRequest(b'{"username": "alice", "n": 1}', content_type=content_type)
    assert json_body(request) == {"username": "alice", "n": 1}


def test_json_body_reads_utf8_text():
    request = FakeRequest(json.dumps({"username": "zo\u00eb"}, ensure_ascii=False).encode("utf-8"))
    assert json_body(request) == {"username": "zo\u00eb"}


def test_json_body_reads_an_empty_object():
    assert json_body(FakeRequest(b"{}")) == {}


@pytest.mark.parametrize(
    "raw_body",
    [
        b"",
        None,
        b"{",
        b"{'a': 1}",
        b"not json",
        b'{"a": 1} trailing',
        b"\xff\xfe\x00garbage",
        b"NaN-ish",
    ],
    ids=["empty", "none", "unclosed", "single-quotes", "words", "trailing", "bad-bytes", "nan-ish"],
)
def test_json_body_refuses_invalid_json(raw_body):
    with pytest.raises(BadRequest) as raised:
        json_body(FakeRequest(raw_body))
    assert raised.value.status == 400
    assert raised.value.code == "invalid_json"


def test_json_body_refuses_deeply_nested_json_with_a_bad_request():
    with pytest.raises(BadRequest) as raised:
        json_body(FakeRequest(b"[" * 100000))
    assert raised.value.status == 400
    assert raised.value.code == "invalid_json"


def test_json_body_refuses_deeply_nested_but_balanced_json_with_a_bad_request():
    with pytest.raises(BadRequest) as raised:
        json_body(FakeRequest(b'{"a":' * 100000 + b"1" + b"}" * 100000))
    assert raised.value.status == 400


def test_json_body_refuses_an_integer_too_long_to_convert_with_a_bad_request():
    # Python refuses to parse ints of more than 4300 digits (a ValueError).
    with pytest.raises(BadRequest) as raised:
        json_body(FakeRequest(b'{"n": ' + b"1" * 5000 + b"}"))
    assert raised.value.status == 400


@pytest.mark.parametrize(
    "raw_body",
    [b"[]", b'["username"]', b'"alice"', b"123", b"null", b"true"],
    ids=["empty-list", "list", "string", "number", "null", "bool"],
)
def test_json_body_refuses_json_that_is_not_an_object(raw_body):
    with pytest.raises(BadRequest) as raised:
        json_body(FakeRequest(raw_body))
    assert raised.value.status == 400
    assert raised.value.code == "invalid_json"


def test_json_body_checks_the_content_type_before_the_body():
    with pytest.raises(UnsupportedMediaType):
        json_body(FakeRequest(b"not json", content_type="text/plain"))


# --- required_string ---------------------------------------------------------------


def test_required_string_returns_the_field():
    assert required_string({"username": "alice"}, "username", 64) == "alice"


def test_required_string_accepts_a_value_of_exactly_the_maximum_length():
    assert required_string({"username": "a" * 64}, "username", 64) == "a" * 64


@pytest.mark.parametrize(
    "body",
    [{}, {"other": "alice"}, {"username": None}],
    ids=["empty-body", "other-field", "null"],
)
def test_required_string_refuses_a_missing_field(body):
    with pytest.raises(BadRequest) as raised:
        required_string(body, "username", 64)
    assert raised.value.status == 400
    assert raised.value.code == "invalid_field"
    assert "username" in raised.value.message


def test_required_string_refuses_an_empty_string():
    with pytest.raises(BadRequest) as raised:
        required_string({"username": ""}, "username", 64)
    assert raised.value.status == 400
    assert raised.value.code == "invalid_field"


@pytest.mark.parametrize("value", [123, 1.5, True, ["alice"], {"name": "alice"}])
def test_required_string_refuses_a_value_that_is_not_a_string(value):
    with pytest.raises(BadRequest) as raised:
        required_string({"username": value}, "username", 64)
    assert raised.value.status == 400
    assert raised.value.code == "invalid_field"


def test_required_string_refuses_a_value_longer_than_the_maximum():
    with pytest.raises(BadRequest) as raised:
        required_string({"username": "a" * 65}, "username", 64)
    assert raised.value.status == 400
    assert raised.value.code == "invalid_field"
    assert "64" in raised.value.message


# --- json_errors / error_response -------------------------------------------------


def _body(response: Response) -> dict:
    body = response.body
    return json.loads(body) if isinstance(body, (str, bytes)) else body


def test_json_errors_passes_a_successful_answer_through_unchanged():
    @json_errors
    def view(a, b=0):
        return {"sum": a + b}

    assert view(1, b=2) == {"sum": 3}


def test_json_errors_keeps_the_views_name():
    @json_errors
    def my_view():
        return None

    assert my_view.__name__ == "my_view"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (BadRequest("Bad."), 400, "bad_request"),
        (NotSignedIn("Sign in."), 401, "not_signed_in"),
        (Forbidden("No."), 403, "forbidden"),
        (NotFound("Gone."), 404, "not_found"),
        (Conflict("Clash."), 409, "conflict"),
        (TooLarge("Big."), 413, "too_large"),
        (UnsupportedMediaType("Type.", code="json_required"), 415, "json_required"),
        (ServiceUnavailable("Later."), 503, "service_unavailable"),
        (BadRequest("Bad key.", code="invalid_key"), 400, "invalid_key"),
    ],
)
def test_json_errors_answers_an_app_error_with_its_status_and_code(error, status, code):
    @json_errors
    def view():
        raise error

    response = view()
    assert isinstance(response, Response)
    assert response.status_code == status
    assert _body(response) == {"error": code, "message": error.message}
    assert response.headers["Content-Type"] == "application/json"


def test_json_errors_answers_a_client_error_with_503_service_unavailable(caplog):
    @json_errors
    def view():
        raise ClientError(
            {"Error": {"Code": "InternalError", "Message": "secret internals"}}, "GetObject"
        )

    with caplog.at_level(logging.ERROR, logger="chalicelib.http"):
        response = view()
    assert isinstance(response, Response)
    assert response.status_code == 503
    body = _body(response)
    assert set(body) == {"error", "message"}
    assert body["error"] == "service_unavailable"
    assert "secret internals" not in body["message"]
    assert any(record.exc_info for record in caplog.records)


def test_json_errors_answers_a_botocore_error_with_503_service_unavailable():
    @json_errors
    def view():
        raise EndpointConnectionError(endpoint_url="http://localhost:1")

    response = view()
    assert response.status_code == 503
    assert _body(response)["error"] == "service_unavailable"


def test_json_errors_answers_an_unexpected_error_with_500_internal_error(caplog):
    @json_errors
    def view():
        raise ValueError("a detail that must not leak")

    with caplog.at_level(logging.ERROR, logger="chalicelib.http"):
        response = view()
    assert isinstance(response, Response)
    assert response.status_code == 500
    body = _body(response)
    assert set(body) == {"error", "message"}
    assert body["error"] == "internal_error"
    assert isinstance(body["message"], str) and body["message"]
    assert "must not leak" not in body["message"]
    assert response.headers["Content-Type"] == "application/json"
    assert any(record.exc_info for record in caplog.records)


def test_json_errors_answers_an_arbitrary_app_error_subclass_with_its_own_status():
    class Teapot(AppError):
        status = 418
        code = "teapot"

    @json_errors
    def view():
        raise Teapot("I am a teapot.")

    response = view()
    assert response.status_code == 418
    assert _body(response) == {"error": "teapot", "message": "I am a teapot."}


def test_error_response_serialises_to_the_error_and_message_shape():
    response = error_response(NotFound("No such user.", code="no_such_user"))
    assert response.status_code == 404
    assert _body(response) == {"error": "no_such_user", "message": "No such user."}
    # What chalice would send on the wire.
    wire = response.to_dict()
    assert wire["statusCode"] == 404
    assert json.loads(wire["body"]) == {"error": "no_such_user", "message": "No such user."}


def test_an_app_error_code_given_to_one_instance_does_not_change_its_class():
    BadRequest("x", code="invalid_key")
    assert BadRequest("y").code == "bad_request"
    assert BadRequest.code == "bad_request"
