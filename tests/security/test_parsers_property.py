"""Property tests: the key parser, the session reader and the cookie parser, and
the routes built on them, answer every input with a 4xx or "no session", never
with an exception or a 500."""

import base64
import hashlib
import hmac
import json
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.errors import BadRequest
from chalicelib.sessions import (
    MAX_USERNAME_LENGTH,
    parse_cookie_header,
    read_session,
    sign_session,
)
from chalicelib.uploads import parse_upload_key
from tests.helpers import body_of, post_json
from tests.security.conftest import ALICE, local_secret, stored_state

KEY = re.compile(r"[0-9a-f]{32}")
SECRET = b"property-test-secret"

# Deterministic for CI, no example database written into the working tree.
PURE = settings(max_examples=300, derandomize=True, deadline=None, database=None)
THROUGH_THE_API = settings(
    max_examples=50,
    derandomize=True,
    deadline=None,
    database=None,
    # `aws`, `client` and `alice` are built once per test and shared by its
    # examples on purpose: no example below may change the stored state.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Keys and near-misses: hex of every length and case, with prefixes and slashes.
valid_keys = st.from_regex(r"[0-9a-f]{32}", fullmatch=True)
near_keys = st.one_of(
    st.from_regex(r"[0-9a-fA-F]{0,40}", fullmatch=True),
    st.from_regex(r"[0-9a-f]{31,33}\n?", fullmatch=True),
    st.from_regex(r"(\.\./|\.\.%2f|pending/|avatars/| )?[0-9a-f]{32}(/|\.png| )?", fullmatch=True),
    st.text(alphabet="0123456789abcdefABCDEF\n\t /.%", min_size=30, max_size=34),
)
any_text = st.one_of(st.text(), near_keys, valid_keys)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    near_keys,
    valid_keys,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


# --- parse_upload_key ------------------------------------------------------------


@PURE
@given(value=st.one_of(any_text, json_values))
def test_parse_upload_key_returns_a_valid_key_unchanged_or_raises_bad_request(value):
    try:
        parsed = parse_upload_key(value)
    except BadRequest as error:
        assert error.status == 400
        assert error.code == "invalid_key"
        assert not (isinstance(value, str) and KEY.fullmatch(value))
    else:
        assert parsed == value
        assert isinstance(parsed, str) and KEY.fullmatch(parsed)


@THROUGH_THE_API
@given(key=st.one_of(st.text(), near_keys, json_values, valid_keys))
def test_finalize_answers_any_key_with_400_or_404_never_500(aws, client, alice, key):
    answer = post_json(client, "/avatar", {"key": key}, alice)

    valid = isinstance(key, str) and KEY.fullmatch(key) is not None
    assert answer.status_code == (404 if valid else 400), answer.body
    assert body_of(answer) == {
        "error": "no_such_upload" if valid else "invalid_key",
        "message": body_of(answer)["message"],
    }


@pytest.fixture
def state_before(aws):
    return stored_state(aws)


@THROUGH_THE_API
@given(body=json_values)
def test_finalize_answers_any_json_body_with_400_or_404_never_500(
    aws, client, alice, state_before, body
):
    answer = client.http.post(
        "/avatar", headers={**alice, "Content-Type": "application/json"}, body=json.dumps(body)
    )

    assert answer.status_code in (400, 404), answer.body
    assert set(body_of(answer)) == {"error", "message"}
    assert stored_state(aws) == state_before


# --- read_session and parse_cookie_header ------------------------------------------


def _signed(payload: str) -> str:
    """`payload` with a MAC that verifies: reaches the checks after the signature."""
    mac = hmac.new(SECRET, payload.encode("utf-8"), hashlib.sha256).digest()
    return f"{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


tokens = st.one_of(
    st.text(),
    st.from_regex(r"v1\.[A-Za-z0-9_=-]{0,12}\.[0-9]{0,12}\.[A-Za-z0-9_=-]{0,50}", fullmatch=True),
    st.builds(
        lambda username, expires: sign_session(username, expires, SECRET),
        st.text(max_size=MAX_USERNAME_LENGTH + 8),
        st.integers(min_value=0, max_value=2**40),
    ),
    # Correctly signed, with any fields: non-base64 names, non-digit expiries...
    st.builds(
        lambda name, expires: _signed(f"v1.{name}.{expires}"),
        st.one_of(st.text(max_size=20), st.from_regex(r"[A-Za-z0-9_-]{0,200}", fullmatch=True)),
        st.one_of(st.text(max_size=12), st.from_regex(r"[0-9]{1,14}", fullmatch=True)),
    ),
)


@PURE
@given(token=tokens, now=st.floats(min_value=0, max_value=2**41))
def test_read_session_of_any_token_is_none_or_a_non_empty_username(token, now):
    username = read_session(token, SECRET, now)
    assert username is None or (isinstance(username, str) and 0 < len(username))
    if username is not None:
        assert len(username) <= MAX_USERNAME_LENGTH
        # Only a token this secret signed names a user.
        assert read_session(token, b"another-secret", now) is None


@PURE
@given(header=st.one_of(st.none(), st.text(), st.text(alphabet='session=;" v1.abc', max_size=40)))
def test_parse_cookie_header_of_any_text_is_a_dict_of_strings(header):
    cookies = parse_cookie_header(header)
    assert isinstance(cookies, dict)
    assert all(isinstance(name, str) and isinstance(value, str) for name, value in cookies.items())


# --- any Cookie header through the API ------------------------------------------------

printable = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
cookie_headers = st.one_of(
    st.text(alphabet=printable, max_size=200),
    st.builds(lambda value: "session=" + value, st.text(alphabet=printable, max_size=120)),
    st.builds(
        lambda expires, tail: "session=" + sign_session(ALICE, expires, b"not-the-secret") + tail,
        st.integers(min_value=0, max_value=2**34),
        st.text(alphabet=printable, max_size=5),
    ),
)


@THROUGH_THE_API
@given(cookie=cookie_headers)
def test_any_cookie_header_reads_as_no_session_never_500(aws, client, cookie):
    whoami = client.http.get("/whoami", headers={"Cookie": cookie})
    uploads = post_json(client, "/uploads", {}, {"Cookie": cookie})

    assert whoami.status_code == 200, whoami.body
    assert body_of(whoami) == {"username": None}
    assert uploads.status_code == 401, uploads.body
    assert body_of(uploads)["error"] == "not_signed_in"


def test_the_cookie_strategy_would_see_a_valid_session(aws, client):
    """The control: the same requests with a real token are signed in."""
    cookie = "session=" + sign_session(ALICE, time.time() + 3600, local_secret())
    assert body_of(client.http.get("/whoami", headers={"Cookie": cookie})) == {"username": ALICE}
    assert post_json(client, "/uploads", {}, {"Cookie": cookie}).status_code == 201
