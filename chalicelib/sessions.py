"""Signed session tokens and the cookie that carries them. Pure: no I/O.

A token is `v1.<username, base64url>.<expiry, unix seconds>.<HMAC-SHA256, base64url>`,
the MAC taken over everything before it. Anything that does not verify reads
as "no session", never as an error.
"""

import base64
import binascii
import hashlib
import hmac
from typing import Dict, Optional

COOKIE_NAME = "session"
MAX_USERNAME_LENGTH = 128
_VERSION = "v1"
# A cookie header far beyond what a browser sends is refused unread.
_MAX_COOKIE_HEADER = 8192


def sign_session(username: str, expires_at: int, secret: bytes) -> str:
    payload = f"{_VERSION}.{_b64encode(username.encode('utf-8'))}.{int(expires_at)}"
    return f"{payload}.{_b64encode(_mac(payload, secret))}"


def read_session(token: str, secret: bytes, now: float) -> Optional[str]:
    """The username a valid, unexpired token names; None for anything else."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _VERSION:
        return None
    version, encoded_username, expires_at, signature = parts
    payload = f"{version}.{encoded_username}.{expires_at}"
    try:
        expected = _mac(payload, secret)
        given = _b64decode(signature)
        if not hmac.compare_digest(expected, given):
            return None
        username = _b64decode(encoded_username).decode("utf-8")
    except (ValueError, UnicodeError):
        return None
    if not expires_at.isdigit() or int(expires_at) <= now:
        return None
    if not username or len(username) > MAX_USERNAME_LENGTH:
        return None
    return username


def parse_cookie_header(header: Optional[str]) -> Dict[str, str]:
    """Name to value, first occurrence winning; malformed pairs are skipped.

    Hand-written rather than `http.cookies.SimpleCookie`, which gives up on the
    whole header at the first pair it cannot parse.
    """
    cookies: Dict[str, str] = {}
    if not header or len(header) > _MAX_COOKIE_HEADER:
        return cookies
    for pair in header.split(";"):
        name, sep, value = pair.partition("=")
        name = name.strip()
        if sep and name and name not in cookies:
            cookies[name] = value.strip().strip('"')
    return cookies


def session_cookie(token: str, max_age: int, secure: bool) -> str:
    return _cookie(token, max_age, secure)


def cleared_session_cookie(secure: bool) -> str:
    return _cookie("", 0, secure)


def _cookie(value: str, max_age: int, secure: bool) -> str:
    attributes = [
        f"{COOKIE_NAME}={value}",
        "Path=/",
        f"Max-Age={max_age}",
        "HttpOnly",
        "SameSite=Lax",
    ]
    if secure:
        attributes.append("Secure")
    return "; ".join(attributes)


def _mac(payload: str, secret: bytes) -> bytes:
    return hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest()


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict: only the one encoding `_b64encode` gives, so a token has one spelling."""
    if not text.isascii():
        raise ValueError("not base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as error:
        raise ValueError("not base64url") from error
    if _b64encode(raw) != text:
        raise ValueError("not canonical base64url")
    return raw
