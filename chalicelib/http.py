"""The web layer's shared pieces: JSON bodies in, JSON errors out."""

import functools
import json
import logging

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
        except AppError as error:
            return error_response(error)
        except (ClientError, BotoCoreError):
            logger.exception("AWS call failed")
            return error_response(
                ServiceUnavailable("Storage did not answer as expected. Try again.")
            )
        except Exception:
            logger.exception("Unexpected error")
            return error_response(AppError("Something went wrong on our side."))

    return answer


def error_response(error: AppError) -> Response:
    return Response(
        body={"error": error.code, "message": error.message},
        status_code=error.status,
        headers={"Content-Type": "application/json"},
    )


def json_body(request) -> dict:
    """The request's JSON object. Only `application/json` is read: a plain HTML
    form posted from another site can send no other type, so this refuses it."""
    content_type = request.headers.get("content-type") or ""
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType(
            "Send the body as JSON with Content-Type: application/json.",
            code="json_required",
        )
    try:
        body = json.loads(request.raw_body or b"")
    # RecursionError: nesting deeper than the parser's stack.
    except (ValueError, RecursionError):
        raise BadRequest("The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.", code="invalid_json")
    return body


def required_string(body: dict, field: str, max_length: int) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"Give {field!r} as a non-empty string.", code="invalid_field")
    if len(value) > max_length:
        raise BadRequest(f"{field!r} is longer than {max_length} characters.", code="invalid_field")
    return value
