"""Unit tests for chalicelib.sessions: signed tokens, the Cookie header, Set-Cookie."""

import base64
import hashlib
import hmac

import pytest

from chalicelib.sessions import (
    COOKIE_NAME,
    MAX_USERNAME_LENGTH,
    cleared_session_cookie,
    parse_cookie_header,
    read_session,
    session_cookie,
    sign_session,
)

SECRET = b"unit-test-secret-0123456789abcdef"
EXPIRES_AT = 2_000_000_000
NOW = EXPIRES_AT - 3600


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _signed_by_hand(payload: str, secret: bytes = SECRET) -> str:
    """A token whose MAC is valid for any payload, to reach the checks after it."""
    mac = hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def _flip_char(text: str, index: int) -> str:
    replacement = "B" if text[index] != "B" else "C"
    return text[:index] + replacement + text[index + 1 :]


# --- sign / read -----------------------------------------------------------


def test_read_session_returns_the_username_a_fresh_token_was_signed_for():
    token = sign_session("alice", EXPIRES_AT, SECRET)
    assert read_session(token, SECRET, NOW) == "alice"


def test_a_signed_token_has_four_dot_separated_parts_starting_with_v1():
    token = sign_session("alice", EXPIRES_AT, SECRET)
    parts = token.split(".")
    assert len(parts) == 4
    assert parts[0] == "v1"
    assert parts[2] == str(EXPIRES_AT)


def test_read_session_accepts_a_token_one_second_before_its_expiry():
    token = sign_session("alice", EXPIRES_AT, SECRET)
    assert read_session(token, SECRET, EXPIRES_AT - 1) == "alice"
    assert read_session(token, SECRET, EXPIRES_AT - 0.001) == "alice"


def test_read_session_refuses_a_token_at_the_exact_second_it_expires():
    token = sign_session("alice", EXPIRES_AT, SECRET)
    assert read_session(token, SECRET, EXPIRES_AT) is None


def test_read_session_refuses_a_token_after_it_expired():
    token = sign_session("alice", EXPIRES_AT, SECRET)
    assert read_session(token, SECRET, EXPIRES_AT + 0.5) is None
    assert read_session(token, SECRET, EXPIRES_AT + 86400) is None


def test_read_session_refuses_a_tampered_username():
    token = sign_session("alice", EXPIRES_AT, SECRET)
    version, _, expiry, signature = token.split(".")
    forged = ".".join([version, _b64(b"admin"), expiry, signature])
    assert read_session(forged, SECRET, NOW) is None


def test_read_session_refuses_a_tampered_expiry():
    token = sign_session("alice", EXPIRES_AT, SECRET)
    version, username, _, signature = token.split(".")
    extended = ".".join([version, username, str(EXPIRES_AT + 10**6), signature])
    assert read_session(extended, SECRET, NOW) is None


@pytest.mark.parametrize("index", [0, 1, 10, 20, 30, 41])
def test_read_session_refuses_a_tampered_signature(index):
    token = sign_session("alice", EXPIRES_AT, SECRET)
    version, username, expiry, signature = token.split(".")
    tampered = ".".join([version, username, expiry, _flip_char(signature, index)])
    assert tampered != token
    assert read_session(tampered, SECRET, NOW) is None


def test_read_session_refuses_a_token_with_its_signature_removed_or_emptied():
    token = sign_session("alice", EXPIRES_AT, SECRET)
    version, username, expiry, _ = token.split(".")
    assert read_session(f"{version}.{username}.{expiry}.", SECRET, NOW) is None
    assert read_session(f"{version}.{username}.{expiry}", SECRET, NOW) is None


def test_read_session_refuses_a_signature_that_is_not_base64url():
    token = sign_session("alice", EXPIRES_AT, SECRET)
    version, username, expiry, _ = token.split(".")
    assert read_session(f"{version}.{username}.{expiry}.!!!!", SECRET, NOW) is None
    assert read_session(f"{version}.{username}.{expiry}.A", SECRET, NOW) is None


def test_read_session_refuses_a_token_signed_with_another_secret():
    token = sign_session("alice", EXPIRES_AT, b"some-other-secret")
    assert read_session(token, SECRET, NOW) is None


def test_read_session_refuses_a_token_of_another_version_even_if_correctly_signed():
    payload = f"v2.{_b64(b'alice')}.{EXPIRES_AT}"
    assert read_session(_signed_by_hand(payload), SECRET, NOW) is None


def test_read_session_refuses_a_token_whose_version_was_rewritten():
    token = sign_session("alice", EXPIRES_AT, SECRET)
    assert read_session("v2" + token[2:], SECRET, NOW) is None
    assert read_session("V1" + token[2:], SECRET, NOW) is None


@pytest.mark.parametrize(
    "token",
    [
        "v1",
        "v1.",
        "v1..",
        "v1...",
        "v1.YWxpY2U",
        "v1.YWxpY2U.2000000000",
        "v1.YWxpY2U.2000000000.sig.extra",
        ".YWxpY2U.2000000000.sig",
    ],
)
def test_read_session_refuses_a_token_with_missing_or_extra_parts(token):
    assert read_session(token, SECRET, NOW) is None


@pytest.mark.parametrize(
    "token",
    [
        "v1.\u00e9\u00e9.2000000000.\u2603",
        "v1.YWxpY2U.\u0662\u0660\u0660\u0660.AAAA",
        "\u00ff\u00fe\u00fd",
        "v1.\x00\x01.2000000000.\x7f",
        "\U0001f600.\U0001f600.\U0001f600.\U0001f600",
    ],
)
def test_read_session_refuses_non_ascii_garbage(token):
    assert read_session(token, SECRET, NOW) is None


def test_read_session_refuses_the_empty_string():
    assert read_session("", SECRET, NOW) is None


def test_read_session_refuses_a_correctly_signed_token_with_a_non_numeric_expiry():
    payload = f"v1.{_b64(b'alice')}.soon"
    assert read_session(_signed_by_hand(payload), SECRET, NOW) is None


def test_read_session_refuses_a_correctly_signed_token_with_a_signed_number_expiry():
    payload = f"v1.{_b64(b'alice')}.+{EXPIRES_AT}"
    assert read_session(_signed_by_hand(payload), SECRET, NOW) is None


def test_read_session_refuses_a_correctly_signed_token_whose_username_is_not_utf8():
    not_utf8 = _b64(b"\xff\xfe")
    payload = f"v1.{not_utf8}.{EXPIRES_AT}"
    assert read_session(_signed_by_hand(payload), SECRET, NOW) is None


def test_read_session_refuses_a_signed_empty_username():
    token = sign_session("", EXPIRES_AT, SECRET)
    assert read_session(token, SECRET, NOW) is None


def test_read_session_accepts_a_username_of_the_maximum_length():
    username = "a" * MAX_USERNAME_LENGTH
    token = sign_session(username, EXPIRES_AT, SECRET)
    assert read_session(token, SECRET, NOW) == username


def test_read_session_refuses_a_signed_username_longer_than_the_maximum():
    token = sign_session("a" * (MAX_USERNAME_LENGTH + 1), EXPIRES_AT, SECRET)
    assert read_session(token, SECRET, NOW) is None


@pytest.mark.parametrize(
    "username",
    [
        "zo\u00eb",
        "\u7528\u6237\u540d",
        "\U0001f600 smile",
        "<script>alert(1)</script>",
        "a;b=c",
        "name=value; Path=/; HttpOnly",
        'quote"d',
        "dot.ted.name",
        "spaces and\ttabs",
    ],
)
def test_a_username_with_unicode_or_markup_or_cookie_syntax_round_trips(username):
    token = sign_session(username, EXPIRES_AT, SECRET)
    assert read_session(token, SECRET, NOW) == username


@pytest.mark.parametrize("username", ["a;b=c", "<b>x</b>", "x y", 'q"uote', "d.ot"])
def test_a_signed_token_contains_no_character_that_needs_cookie_quoting(username):
    token = sign_session(username, EXPIRES_AT, SECRET)
    assert all(ch.isalnum() or ch in "-_." for ch in token)


def test_the_expiry_is_stored_as_whole_seconds():
    token = sign_session("alice", EXPIRES_AT + 0.9, SECRET)
    assert token.split(".")[2] == str(EXPIRES_AT)
    assert read_session(token, SECRET, EXPIRES_AT - 1) == "alice"


# --- Cookie header -----------------------------------------------------------


def test_parse_cookie_header_reads_several_cookies():
    header = "session=abc; theme=dark;lang=en"
    assert parse_cookie_header(header) == {"session": "abc", "theme": "dark", "lang": "en"}


def test_parse_cookie_header_keeps_the_first_occurrence_of_a_name():
    assert parse_cookie_header("session=first; session=second") == {"session": "first"}


def test_parse_cookie_header_strips_double_quotes_around_a_value():
    assert parse_cookie_header('session="abc.def"; other="x y"') == {
        "session": "abc.def",
        "other": "x y",
    }


def test_parse_cookie_header_skips_malformed_pairs_and_keeps_the_rest():
    header = "garbage; =orphan; ;  ; session=abc; novalue ; theme=dark"
    assert parse_cookie_header(header) == {"session": "abc", "theme": "dark"}


def test_parse_cookie_header_keeps_an_empty_value():
    assert parse_cookie_header("session=; theme=dark") == {"session": "", "theme": "dark"}


def test_parse_cookie_header_keeps_equals_signs_inside_a_value():
    assert parse_cookie_header("data=a=b=c") == {"data": "a=b=c"}


def test_parse_cookie_header_trims_whitespace_around_names_and_values():
    assert parse_cookie_header("  session  =  abc  ") == {"session": "abc"}


@pytest.mark.parametrize("header", [None, ""])
def test_parse_cookie_header_of_no_header_is_empty(header):
    assert parse_cookie_header(header) == {}


def test_parse_cookie_header_refuses_a_header_longer_than_8192_characters():
    header = "session=abc; padding=" + "x" * 8192
    assert len(header) > 8192
    assert parse_cookie_header(header) == {}


def test_parse_cookie_header_reads_a_header_of_exactly_8192_characters():
    prefix = "session=abc; padding="
    header = prefix + "x" * (8192 - len(prefix))
    assert len(header) == 8192
    assert parse_cookie_header(header)["session"] == "abc"


def test_parse_cookie_header_refuses_a_header_of_8193_characters():
    prefix = "session=abc; padding="
    header = prefix + "x" * (8193 - len(prefix))
    assert parse_cookie_header(header) == {}


def test_a_token_read_back_from_a_cookie_header_still_verifies():
    token = sign_session("a;b=c", EXPIRES_AT, SECRET)
    header = f"other=1; {COOKIE_NAME}={token}; last=2"
    assert read_session(parse_cookie_header(header)[COOKIE_NAME], SECRET, NOW) == "a;b=c"


# --- Set-Cookie --------------------------------------------------------------


def _attributes(cookie: str):
    first, *rest = cookie.split("; ")
    return first, rest


def test_session_cookie_carries_the_token_under_the_session_name():
    first, _ = _attributes(session_cookie("tok.en", 3600, secure=True))
    assert first == "session=tok.en"


def test_session_cookie_is_http_only_same_site_lax_for_the_whole_site():
    _, attributes = _attributes(session_cookie("token", 3600, secure=False))
    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
    assert "Path=/" in attributes
    assert "Max-Age=3600" in attributes


def test_session_cookie_is_secure_when_asked():
    _, attributes = _attributes(session_cookie("token", 3600, secure=True))
    assert "Secure" in attributes


def test_session_cookie_is_not_secure_unless_asked():
    cookie = session_cookie("token", 3600, secure=False)
    _, attributes = _attributes(cookie)
    assert "Secure" not in attributes
    assert "secure" not in cookie.lower()


def test_cleared_session_cookie_has_an_empty_value_and_max_age_zero():
    first, attributes = _attributes(cleared_session_cookie(secure=True))
    assert first == "session="
    assert "Max-Age=0" in attributes
    assert "Path=/" in attributes
    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
    assert "Secure" in attributes


def test_cleared_session_cookie_is_not_secure_unless_asked():
    _, attributes = _attributes(cleared_session_cookie(secure=False))
    assert "Secure" not in attributes
    assert "Max-Age=0" in attributes


@pytest.mark.parametrize("suffix", ["=", "==", "A"])
def test_read_session_refuses_a_token_spelled_differently_from_how_it_was_signed(suffix):
    token = sign_session("alice", 2_000_000_000, SECRET)
    assert read_session(token + suffix, SECRET, now=1_000_000_000) is None
