"""The app's settings, read from the environment once.

Chalice puts each stage's `environment_variables` from `.chalice/config.json`
into the environment (Lambda and `chalice local` alike); nothing else in the
app reads `os.environ`.
"""

import functools
import os
import re
from dataclasses import dataclass
from typing import Mapping, Optional

PENDING_PREFIX = "pending/"
AVATAR_PREFIX = "avatars/"
WEB_PREFIX = "web/"
# The encodings finalize can store (chalicelib/images.py OUTPUT_FORMATS).
AVATAR_FORMATS = ("webp", "jpeg")


class SettingsError(RuntimeError):
    """The stage's configuration is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    region: str
    bucket_name: str
    table_name: str
    max_upload_bytes: int
    # What finalize stores (chalicelib/images.py): the longest side in pixels,
    # the most pixels an upload may declare, and the encoding.
    avatar_max_side: int
    max_image_pixels: int
    avatar_format: str
    upload_expires_seconds: int
    avatar_url_expires_seconds: int
    session_ttl_seconds: int
    # Exactly one of these two: a literal development secret (stage `local`)
    # or the name of the SSM parameter that holds the real one (stage `dev`).
    session_secret: Optional[str]
    session_secret_parameter: Optional[str]
    secure_cookies: bool
    # Set by `make run` (the emulator); None on AWS.
    aws_endpoint_url: Optional[str]
    # Where avatars are served from unsigned, e.g. CloudFront's
    # "https://d111111abcdef8.cloudfront.net/"; None: presigned S3 URLs.
    avatar_base_url: Optional[str] = None
    # GET /debug/bucket and /debug/table, which have no access control.
    debug_routes: bool = False

    pending_prefix: str = PENDING_PREFIX
    avatar_prefix: str = AVATAR_PREFIX
    web_prefix: str = WEB_PREFIX

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "Settings":
        secret = environ.get("SESSION_SECRET") or None
        parameter = environ.get("SESSION_SECRET_PARAMETER") or None
        if (secret is None) == (parameter is None):
            raise SettingsError("Set exactly one of SESSION_SECRET and SESSION_SECRET_PARAMETER.")
        return cls(
            # Lambda sets AWS_REGION; the local stack and the tests set
            # AWS_DEFAULT_REGION, as the AWS CLI does.
            region=_required(environ, "AWS_REGION", "AWS_DEFAULT_REGION"),
            bucket_name=_required(environ, "AVATAR_BUCKET"),
            table_name=_required(environ, "USERS_TABLE"),
            max_upload_bytes=_positive_int(environ, "MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
            # WebP's largest side: beyond it no avatar could be encoded at all.
            avatar_max_side=_positive_int(environ, "AVATAR_MAX_SIDE", 512, maximum=16383),
            max_image_pixels=_positive_int(environ, "MAX_IMAGE_PIXELS", 50_000_000),
            avatar_format=_choice(environ, "AVATAR_FORMAT", AVATAR_FORMATS, "webp"),
            upload_expires_seconds=_positive_int(environ, "UPLOAD_EXPIRES_SECONDS", 600),
            avatar_url_expires_seconds=_positive_int(environ, "AVATAR_URL_EXPIRES_SECONDS", 3600),
            session_ttl_seconds=_positive_int(environ, "SESSION_TTL_SECONDS", 12 * 3600),
            session_secret=secret,
            session_secret_parameter=parameter,
            secure_cookies=_boolean(environ, "SECURE_COOKIES", True),
            aws_endpoint_url=environ.get("AWS_ENDPOINT_URL_S3")
            or environ.get("AWS_ENDPOINT_URL")
            or None,
            avatar_base_url=_base_url(environ, "AVATAR_BASE_URL"),
            debug_routes=_boolean(environ, "DEBUG_ROUTES", False),
        )


@functools.lru_cache(maxsize=1)
def load_settings() -> Settings:
    """The settings of this process, read once (tests call `cache_clear`)."""
    return Settings.from_environ(os.environ)


def event_bucket_name() -> str:
    """The bucket whose events the Lambda subscribes to, read when app.py is
    imported: `chalice deploy` needs it before any request, when the rest of
    the settings (the region, above all) may not be in the environment."""
    return _required(os.environ, "AVATAR_BUCKET")


def _required(environ: Mapping[str, str], *names: str) -> str:
    for name in names:
        if environ.get(name):
            return environ[name]
    raise SettingsError(f"Set {' or '.join(names)} in the stage's environment.")


def _boolean(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (environ.get(name) or "").lower()
    if not raw:
        return default
    if raw not in ("true", "false"):
        raise SettingsError(f"{name} must be true or false, not {raw!r}.")
    return raw == "true"


def _base_url(environ: Mapping[str, str], name: str) -> Optional[str]:
    raw = environ.get(name) or ""
    if not raw:
        return None
    if not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", raw):
        raise SettingsError(f"{name} must be an http(s) URL with no query, not {raw!r}.")
    # Keys are appended to it: "https://cdn.example/" + "avatars/<key>".
    return raw if raw.endswith("/") else raw + "/"


def _choice(environ: Mapping[str, str], name: str, choices, default: str) -> str:
    raw = (environ.get(name) or "").lower()
    if not raw:
        return default
    if raw not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {raw!r}.")
    return raw


def _positive_int(environ: Mapping[str, str], name: str, default: int, maximum=None) -> int:
    raw = environ.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}.") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, not {value}.")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be at most {maximum}, not {value}.")
    return value
