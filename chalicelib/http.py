"""The web layer's shared pieces: JSON bodies in, JSON errors out."""

import functools
import json
import logging
from typing import Optional

from botocore.exceptions import BotoCoreError, ClientError
from chalice import Response

from .errors import AppError, BadRequest, ServiceUnavailable, UnsupportedMediaType

logger = logging.getLogger(__name__)

# Routes accept every Content-Type so that `json_body`, not Chalice, refuses
# the wrong one: Chalice's own 415 has another body shape.
ANY_CONTENT_TYPE = ["*/*"]


def json_errors(view):
    """Answer `{"error", "message"}` for every failure of `view`, never a bare 500."""

    @functools.wraps(view)
    def answer(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Exception as error:
            return answer_to(error)

    return answer


def answer_to(error: Exception) -> Response:
    """The error answer for `error`, raised while answering: the app's own
    status, 503 when AWS failed, else a logged 500. Call it in an except block."""
    if isinstance(error, AppError):
        return error_response(error)
    if isinstance(error, (ClientError, BotoCoreError)):
        logger.exception("AWS call failed")
        return error_response(ServiceUnavailable("Storage did not answer as expected. Try again."))
    logger.exception("Unexpected error")
    return error_response(AppError("Something went wrong on our side."))


def error_response(error: AppError, headers: Optional[dict] = None) -> Response:
    return Response(
        body={"error": error.code, "message": error.message},
        status_code=error.status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def json_body(request) -> dict:
    """The request's JSON object. Only `application/json` is read: a plain HTML
    form posted from another site can send no other type, so this refuses it."""
    _require_json_content_type(request)
    return _parse_object(request.raw_body or b"")


def optional_json_body(request) -> dict:
    """For a route that needs no body: `{}` when there is none, else as `json_body`.

    The Content-Type is required all the same. It is what makes a cross-site
    request need CORS's permission, which this app never gives.
    """
    _require_json_content_type(request)
    raw = request.raw_body or b""
    # Whitespace alone is a body, and not JSON: 400, as for any other.
    return _parse_object(raw) if raw else {}


def _require_json_content_type(request):
    content_type = request.headers.get("content-type") or ""
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType(
            "Send the body as JSON with Content-Type: application/json.",
            code="json_required",
        )


def _parse_object(raw: bytes) -> dict:
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    # RecursionError: nesting deeper than the parser's stack.
    except (ValueError, RecursionError):
        raise BadRequest("The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.", code="invalid_json")
    return body


def _refuse_constant(name):
    # Python reads NaN and Infinity; JSON has neither.
    raise ValueError(f"{name} is not JSON")


def required_string(body: dict, field: str, max_length: int) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"Give {field!r} as a non-empty string.", code="invalid_field")
    if len(value) > max_length:
        raise BadRequest(f"{field!r} is longer than {max_length} characters.", code="invalid_field")
    return value
