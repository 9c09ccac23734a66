"""CloudWatch metrics, printed in Embedded Metric Format (EMF) once per invocation.

A Lambda function's standard output goes to its CloudWatch log group, and
CloudWatch turns each line that is an EMF document into metric data points:
no PutMetricData call, no IAM permission beyond writing the function's own
logs, nothing added to a request's latency but a print. The code records
what happened with the functions below; `invocation()` (app.py's outermost
middleware, for all three functions) prints the documents when the
invocation ends, one per dimension set.

Powertools for AWS Lambda writes the documents: `make bench` measured it
against aws-embedded-metrics (bench/method.md, "Metrics library").

The names and dimension sets are a contract with the alarms in infra/:
namespace `Avatars`; `FinalizeOutcome` has exactly one dimension, `Outcome`;
every other metric has none.
"""

import contextlib
import contextvars
import logging
import sys
import time
from typing import Dict, List, NamedTuple, Optional

logger = logging.getLogger(__name__)

NAMESPACE = "Avatars"

COUNT = "Count"
MILLISECONDS = "Milliseconds"

# One a POST /avatar answer, dimension Outcome.
FINALIZE_OUTCOME = "FinalizeOutcome"
# The time a POST /avatar took to answer, as the access log's latencyMs.
FINALIZE_LATENCY = "FinalizeLatency"
# The time make_avatar took (decode, orient, convert, scale, encode), refusals included.
IMAGE_PROCESSING_TIME = "ImageProcessingTime"
# One a new object under pending/, seen by the S3-event function.
PENDING_UPLOADS_SEEN = "PendingUploadsSeen"
# Each sweep: the orphans it deleted, and what went wrong (0 for a clean sweep).
ORPHANS_SWEPT = "OrphansSwept"
SWEEP_FAILURES = "SweepFailures"

# The values of FinalizeOutcome's Outcome dimension: what a finalize's answer says.
FINALIZED = "finalized"  # 200: this request committed the new avatar
RETRY = "retry"  # 200: the key was already the user's avatar; nothing changed
BAD_REQUEST = "bad_request"  # 400 malformed body or key; 415 json_required
NOT_SIGNED_IN = "not_signed_in"  # 401: no valid session, or the user is gone
NOT_YOURS = "not_yours"  # 403: another user's upload
NO_SUCH_UPLOAD = "no_such_upload"  # 404
CONFLICT = "conflict"  # 409: an avatar object with that key is not the user's
TOO_LARGE = "too_large"  # 413 too_large: over MAX_UPLOAD_BYTES
TOO_MANY_PIXELS = "too_many_pixels"  # 413 image_too_large: over MAX_IMAGE_PIXELS
NOT_AN_IMAGE = "not_an_image"  # 415 not_an_image
AWS_ERROR = "aws_error"  # 503: S3, DynamoDB or SSM failed
INTERNAL_ERROR = "internal_error"  # 500, or any status not above: a bug
OUTCOMES = (
    FINALIZED,
    RETRY,
    BAD_REQUEST,
    NOT_SIGNED_IN,
    NOT_YOURS,
    NO_SUCH_UPLOAD,
    CONFLICT,
    TOO_LARGE,
    TOO_MANY_PIXELS,
    NOT_AN_IMAGE,
    AWS_ERROR,
    INTERNAL_ERROR,
)

FINALIZE_ROUTE = ("POST", "/avatar")
_OUTCOME_BY_STATUS = {
    400: BAD_REQUEST,
    401: NOT_SIGNED_IN,
    403: NOT_YOURS,
    404: NO_SUCH_UPLOAD,
    409: CONFLICT,
    503: AWS_ERROR,
}


def finalize_outcome(status: int, error: Optional[str], committed: bool) -> str:
    """The Outcome of a finalize from its answer: the status, the error code of
    an error answer, and whether the request committed an avatar."""
    if status == 200:
        return FINALIZED if committed else RETRY
    if status == 413:
        return TOO_MANY_PIXELS if error == "image_too_large" else TOO_LARGE
    if status == 415:
        return NOT_AN_IMAGE if error == "not_an_image" else BAD_REQUEST
    return _OUTCOME_BY_STATUS.get(status, INTERNAL_ERROR)


class _Point(NamedTuple):
    name: str
    unit: str
    value: float
    dimensions: Dict[str, str]


class _Invocation:
    def __init__(self):
        self.points: List[_Point] = []
        self.committed = False

    def add(self, name, unit, value, **dimensions):
        self.points.append(_Point(name, unit, value, dimensions))


# The running invocation's: a context variable, so that each request thread
# of `chalice local` (make run, the benchmark) records its own.
_current: contextvars.ContextVar = contextvars.ContextVar("metrics_invocation", default=None)


@contextlib.contextmanager
def invocation():
    """Record this invocation's metrics, and print them when it ends, however it ends."""
    recorded = _Invocation()
    token = _current.set(recorded)
    try:
        yield recorded
    finally:
        _current.reset(token)
        print_documents(recorded.points)


def _record(name, unit, value, **dimensions):
    # Outside an invocation (a test or a script calling chalicelib) nothing is kept.
    recorded = _current.get()
    if recorded is not None:
        recorded.add(name, unit, value, **dimensions)


def record_commit():
    """This request committed a new avatar: its 200 is `finalized`, not `retry`."""
    recorded = _current.get()
    if recorded is not None:
        recorded.committed = True


def record_answer(method: str, route: Optional[str], status: int, error, latency_ms: float):
    """Every answer of the API comes here (chalicelib/access_log.py); finalize's
    are counted by outcome and timed."""
    if (method, route) != FINALIZE_ROUTE:
        return
    recorded = _current.get()
    committed = recorded is not None and recorded.committed
    _record(FINALIZE_OUTCOME, COUNT, 1, Outcome=finalize_outcome(status, error, committed))
    _record(FINALIZE_LATENCY, MILLISECONDS, latency_ms)


@contextlib.contextmanager
def image_processing():
    """Time the block as ImageProcessingTime, whether it returns or raises."""
    started = time.perf_counter()
    try:
        yield
    finally:
        _record(IMAGE_PROCESSING_TIME, MILLISECONDS, _milliseconds_since(started))


def record_pending_upload():
    _record(PENDING_UPLOADS_SEEN, COUNT, 1)


def record_sweep(swept: int, failures: int):
    _record(ORPHANS_SWEPT, COUNT, swept)
    _record(SWEEP_FAILURES, COUNT, failures)


def print_documents(points: List[_Point]):
    """Print one EMF document per dimension set among `points`; nothing for none.

    Never raises: a metric that cannot be written must not fail the request
    or event that it describes.
    """
    if not points:
        return
    try:
        # Imported by the first invocation that has a metric to print, as Pillow
        # is by the first finalize: the API's other routes never pay for it.
        from aws_lambda_powertools.metrics import EphemeralMetrics

        by_dimensions: Dict[tuple, List[_Point]] = {}
        for point in points:
            by_dimensions.setdefault(tuple(point.dimensions.items()), []).append(point)
        for dimensions, group in by_dimensions.items():
            # service="": no `service` dimension, even where POWERTOOLS_SERVICE_NAME
            # is set; the alarms read these exact dimension sets.
            document = EphemeralMetrics(namespace=NAMESPACE, service="")
            for name, value in dimensions:
                document.add_dimension(name=name, value=value)
            for point in group:
                document.add_metric(name=point.name, unit=point.unit, value=point.value)
            document.flush_metrics()
        sys.stdout.flush()
    except Exception:
        logger.exception("The invocation's metrics could not be printed")


def _milliseconds_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
