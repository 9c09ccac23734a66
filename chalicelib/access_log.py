"""One JSON line on standard output for every answer of the API: its access log.

Lambda sends the line to the function's CloudWatch log group, where Logs
Insights reads its fields (README, "Metrics and logs", has the queries).
app.py's middleware calls `answer_and_log` around every request, outside the
one that adds the security headers, so the line has the status the client
gets, 404 and 405 answers included.
"""

import json
import time
from typing import Optional

from . import auth, metrics


def answer_and_log(request, get_response):
    """The answer to `request`; print its access line, and give finalize's
    outcome and latency to the metrics."""
    started = time.perf_counter()
    response = None
    try:
        response = get_response(request)
        return response
    finally:
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        # No response: the request raised, and Chalice answers 500.
        status = response.status_code if response is not None else 500
        error = _error_code(response)
        route = request.context.get("resourcePath")
        print(access_line(request, status, error, latency_ms, _signed_in_user(request)), flush=True)
        metrics.record_answer(request.method, route, status, error, latency_ms)


def access_line(
    request, status: int, error: Optional[str], latency_ms: float, user: Optional[str]
) -> str:
    """The line for one answer: what was asked, by whom, how it ended, how long it took."""
    return json.dumps(
        {
            "type": "access",
            "method": request.method,
            # The route's template (/user/{username}/avatar), /{proxy+} for a
            # path the API lacks: what to group by.
            "route": request.context.get("resourcePath"),
            # As requested: under the stage's prefix on AWS (/api/...).
            "path": request.context.get("path"),
            "status": status,
            "error": error,
            "latencyMs": latency_ms,
            "user": user,
            "requestId": _request_id(request),
        }
    )


def _signed_in_user(request) -> Optional[str]:
    try:
        return auth.current_user(request)
    except Exception:
        # The secret could not be read (SSM failed): a route that needed it
        # has answered 503 already, and a log line must fail no request.
        return None


def _error_code(response) -> Optional[str]:
    body = getattr(response, "body", None)
    return body.get("error") if isinstance(body, dict) else None


def _request_id(request) -> Optional[str]:
    """API Gateway's request id; the Lambda invocation's where there is none
    (`chalice local`)."""
    request_id = request.context.get("requestId")
    if request_id:
        return request_id
    return getattr(request.lambda_context, "aws_request_id", None)
