"""Who is making the request.

The demo signs a user in by name alone, with no password: a stand-in for real
authentication. Everything else asks `current_user` and nothing more, so a real
identity provider (a Cognito authorizer, say: `request.context["authorizer"]`)
replaces this module and no other.
"""

import functools
import time
from typing import Optional

from . import aws
from .errors import NotSignedIn
from .sessions import (
    COOKIE_NAME,
    cleared_session_cookie,
    parse_cookie_header,
    read_session,
    session_cookie,
    sign_session,
)
from .settings import load_settings


def current_user(request) -> Optional[str]:
    """The signed-in user's name, from the signed cookie; None if there is none."""
    token = parse_cookie_header(request.headers.get("cookie")).get(COOKIE_NAME)
    if not token:
        return None
    return read_session(token, _signing_secret(), now=time.time())


def require_user(request) -> str:
    username = current_user(request)
    if username is None:
        raise NotSignedIn("Sign in first: this request needs a valid session.")
    return username


def start_session(username: str) -> str:
    """The Set-Cookie value that signs `username` in."""
    settings = load_settings()
    expires_at = int(time.time()) + settings.session_ttl_seconds
    token = sign_session(username, expires_at, _signing_secret())
    return session_cookie(token, settings.session_ttl_seconds, settings.secure_cookies)


def end_session() -> str:
    return cleared_session_cookie(load_settings().secure_cookies)


@functools.lru_cache(maxsize=1)
def _signing_secret() -> bytes:
    # Read once per container: the deployed stage keeps it in SSM, and a
    # GetParameter on every request would add a call to each of them.
    settings = load_settings()
    if settings.session_secret is not None:
        return settings.session_secret.encode("utf-8")
    answer = aws.ssm_client().get_parameter(
        Name=settings.session_secret_parameter, WithDecryption=True
    )
    return answer["Parameter"]["Value"].encode("utf-8")


def forget_secret():
    """Drop the cached secret (tests that change the stage's settings)."""
    _signing_secret.cache_clear()
