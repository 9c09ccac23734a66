"""Domain errors: each carries its HTTP status, a stable code and a sentence.

`chalicelib.http.json_errors` turns them into `{"error", "message"}` answers.
"""


class AppError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadRequest(AppError):
    status = 400
    code = "bad_request"


class NotSignedIn(AppError):
    status = 401
    code = "not_signed_in"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class MethodNotAllowed(AppError):
    status = 405
    code = "method_not_allowed"


class Conflict(AppError):
    status = 409
    code = "conflict"


class TooLarge(AppError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


class ServiceUnavailable(AppError):
    status = 503
    code = "service_unavailable"
