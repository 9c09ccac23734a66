"""What the three functions print for CloudWatch: the access log and the EMF metrics.

Every line is parsed (tests/observability.py): an access line per request,
with the final status, route, user and request id; FinalizeOutcome for every
outcome finalize has, with exactly the one dimension Outcome; FinalizeLatency
and ImageProcessingTime without dimensions; PendingUploadsSeen per record of
an S3 event; OrphansSwept and SweepFailures, without dimensions, per sweep.
"""

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import moto.s3.models
import pytest
from botocore.exceptions import ClientError

from chalicelib import auth, metrics
from chalicelib import aws as app_aws
from tests.conftest import SEED_USERS
from tests.helpers import (
    fail_every,
    finalize,
    image_bytes,
    png_of_black_pixels,
    post_json,
    request_form,
    sign_in,
    upload,
)
from tests.observability import access_lines, emf_documents, metric, metric_values

ALICE = SEED_USERS[0]["Username"]
BOB = SEED_USERS[1]["Username"]


@pytest.fixture
def alice(client):
    return sign_in(client, ALICE)


@pytest.fixture
def printed(capsys):
    """What the app prints from now on (each call reads what is new)."""
    capsys.readouterr()
    return lambda: capsys.readouterr().out


# --- The access log ----------------------------------------------------------


def test_a_request_prints_one_access_line_with_its_route_status_and_latency(client, printed):
    answer = client.http.get("/users")

    (line,) = access_lines(printed())
    assert answer.status_code == 200
    assert set(line) >= {
        "type",
        "method",
        "route",
        "path",
        "status",
        "latencyMs",
        "user",
        "requestId",
    }
    assert (line["method"], line["route"], line["path"]) == ("GET", "/users", "/users")
    assert (line["status"], line["error"], line["user"]) == (200, None, None)
    assert isinstance(line["latencyMs"], float) and 0 < line["latencyMs"] < 10_000
    # chalice local gives no API Gateway request id: the Lambda invocation's.
    assert line["requestId"] and len(line["requestId"]) == 36


def test_the_route_is_the_template_and_the_path_what_was_asked(client, printed):
    client.http.get(f"/user/{ALICE}/avatar")

    (line,) = access_lines(printed())
    assert line["route"] == "/user/{username}/avatar"
    assert line["path"] == f"/user/{ALICE}/avatar"
    assert line["status"] == 303


def test_a_path_the_api_lacks_is_logged_as_the_catch_alls_404(client, printed):
    client.http.get("/no/such/thing")

    (line,) = access_lines(printed())
    assert (line["route"], line["path"]) == ("/{proxy+}", "/no/such/thing")
    assert (line["status"], line["error"]) == (404, "not_found")


def test_a_method_a_path_lacks_is_logged_as_its_405(client, printed):
    client.http.delete("/users")

    (line,) = access_lines(printed())
    assert (line["method"], line["route"], line["status"]) == ("DELETE", "/users", 405)
    assert line["error"] == "method_not_allowed"


def test_a_request_without_a_session_is_logged_with_no_user(client, printed):
    answer = post_json(client, "/uploads", {}, {})

    (line,) = access_lines(printed())
    assert answer.status_code == 401
    assert (line["status"], line["error"], line["user"]) == (401, "not_signed_in", None)


def test_a_signed_in_request_is_logged_with_its_user(client, alice, printed):
    post_json(client, "/uploads", {}, alice)

    (line,) = access_lines(printed())
    assert (line["route"], line["status"], line["user"]) == ("/uploads", 201, ALICE)


def test_a_session_that_no_longer_verifies_is_logged_with_no_user(client, printed):
    client.http.get("/whoami", headers={"Cookie": "session=forged.value"})

    (line,) = access_lines(printed())
    assert (line["status"], line["user"]) == (200, None)


def test_the_access_line_has_the_final_status_set_by_the_security_headers_middleware(
    client, monkeypatch, printed
):
    def unsigned():
        raise ClientError({"Error": {"Code": "InternalError", "Message": "x"}}, "Sign")

    # The page's answer becomes a 503 in add_security_headers, after the route.
    monkeypatch.setattr("chalicelib.services.storage_origins", unsigned)
    answer = client.http.get("/")

    (line,) = access_lines(printed())
    assert answer.status_code == 503
    assert (line["route"], line["status"], line["error"]) == ("/", 503, "service_unavailable")


def test_a_secret_that_cannot_be_read_gives_no_user_and_never_an_error(
    client, alice, monkeypatch, printed
):
    # The deployed stage reads the secret from SSM; here the parameter is missing.
    deployed = dataclasses.replace(
        auth.load_settings(), session_secret=None, session_secret_parameter="/avatars/none"
    )
    monkeypatch.setattr(auth, "load_settings", lambda: deployed)
    auth.forget_secret()

    users = client.http.get("/users", headers=alice)  # needs no session
    whoami = client.http.get("/whoami", headers=alice)  # needs the secret: 503

    first, second = access_lines(printed())
    assert (users.status_code, first["status"], first["user"]) == (200, 200, None)
    assert (whoami.status_code, second["status"], second["user"]) == (503, 503, None)


def test_a_request_that_records_no_metric_prints_no_emf_document(client, alice, printed):
    client.http.get("/users")
    post_json(client, "/uploads", {}, alice)
    client.http.get("/no/such/thing")

    assert emf_documents(printed()) == []


# --- FinalizeOutcome, FinalizeLatency, ImageProcessingTime -------------------


def _upload(aws, client, session, body, owner=ALICE):
    form = request_form(client, session)
    upload(aws, form["key"], body, owner=owner)
    return form["key"]


def _finalized_before(aws, client, session):
    key = _upload(aws, client, session, image_bytes("PNG"))
    assert finalize(client, session, key).status_code == 200
    return key


def _retry(aws, client, session):
    return finalize(client, session, _finalized_before(aws, client, session))


def _reused_form(aws, client, session):
    key = _finalized_before(aws, client, session)
    upload(aws, key, image_bytes("PNG", color=(0, 255, 0)), owner=ALICE)
    return finalize(client, session, key)


def _conflict(aws, client, session):
    key = _upload(aws, client, session, image_bytes("PNG"))
    aws.s3.put_object(
        Bucket=aws.settings.bucket_name,
        Key=f"avatars/{key}",
        Body=image_bytes("PNG"),
        Metadata={"username": BOB},
    )
    return finalize(client, session, key)


def _another_users(aws, client, session):
    bob = sign_in(client, BOB)
    return finalize(client, session, _upload(aws, client, bob, image_bytes("PNG"), owner=BOB))


def _too_large(aws, client, session):
    limit = aws.settings.max_upload_bytes
    return finalize(client, session, _upload(aws, client, session, b"\xff\xd8" + b"\0" * limit))


def _user_deleted_meanwhile(aws, client, session):
    key = _upload(aws, client, session, image_bytes("PNG"))
    aws.dynamodb.delete_item(TableName=aws.settings.table_name, Key={"Username": {"S": ALICE}})
    return finalize(client, session, key)


def _commit_fails(aws, client, session):
    key = _upload(aws, client, session, image_bytes("PNG"))
    fail_every(app_aws.dynamodb_client, "UpdateItem")
    return finalize(client, session, key)


# outcome: (scenario name, what to do, the status and error code it answers)
SCENARIOS = {
    metrics.FINALIZED: [
        (
            "a new avatar",
            lambda aws, client, s: finalize(client, s, _upload(aws, client, s, image_bytes())),
            200,
            None,
        ),
    ],
    metrics.RETRY: [
        ("the same finalize again", _retry, 200, None),
        ("a used form posted and finalized again", _reused_form, 200, None),
    ],
    metrics.BAD_REQUEST: [
        ("a malformed key", lambda aws, client, s: finalize(client, s, "not-a-key"), 400, None),
        (
            "not JSON",
            lambda aws, client, s: client.http.post("/avatar", headers=s, body="key=x"),
            415,
            "json_required",
        ),
    ],
    metrics.NOT_SIGNED_IN: [
        ("no session", lambda aws, client, s: finalize(client, {}, "0" * 32), 401, None),
        ("the user deleted meanwhile", _user_deleted_meanwhile, 401, None),
    ],
    metrics.NOT_YOURS: [("another user's upload", _another_users, 403, "not_your_upload")],
    metrics.NO_SUCH_UPLOAD: [
        ("an unknown key", lambda aws, client, s: finalize(client, s, "0" * 32), 404, None)
    ],
    metrics.CONFLICT: [("an avatar object of another user's", _conflict, 409, None)],
    metrics.TOO_LARGE: [("one byte over the limit", _too_large, 413, "too_large")],
    metrics.TOO_MANY_PIXELS: [
        (
            "a 100 MP PNG",
            lambda aws, client, s: finalize(
                client, s, _upload(aws, client, s, png_of_black_pixels(10000, 10000))
            ),
            413,
            "image_too_large",
        )
    ],
    metrics.NOT_AN_IMAGE: [
        (
            "an SVG",
            lambda aws, client, s: finalize(client, s, _upload(aws, client, s, b"<svg/>")),
            415,
            "not_an_image",
        )
    ],
    metrics.AWS_ERROR: [("the commit fails", _commit_fails, 503, "service_unavailable")],
}
CASES = [
    pytest.param(outcome, run, status, error, id=f"{outcome}: {name}")
    for outcome, scenarios in SCENARIOS.items()
    for name, run, status, error in scenarios
]


def test_every_outcome_but_a_bug_has_a_request_that_gives_it():
    # A 500 is no documented answer, so no request through the test client
    # may give one: tests/unit/test_metrics.py covers `internal_error`.
    assert set(SCENARIOS) == set(metrics.OUTCOMES) - {metrics.INTERNAL_ERROR}


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("outcome, run, status, error", CASES)
def test_each_finalize_is_counted_once_by_its_outcome(
    aws, client, alice, capsys, outcome, run, status, error
):
    capsys.readouterr()  # what the scenario's preparation printed is not counted
    answer = None

    def act():
        nonlocal answer
        answer = run(aws, client, alice)

    # The preparations of some scenarios finalize too: keep only the last request.
    out = _last_request_output(act, capsys)

    assert answer.status_code == status, answer.body
    if error:
        assert json.loads(answer.body)["error"] == error
    assert metric(out, metrics.FINALIZE_OUTCOME) == [("Count", {"Outcome": outcome}, [1.0])]
    (access,) = access_lines(out)
    assert (access["route"], access["status"]) == ("/avatar", status)
    # The latency is the access line's, in one document without dimensions.
    assert metric(out, metrics.FINALIZE_LATENCY) == [("Milliseconds", {}, [access["latencyMs"]])]


def _last_request_output(act, capsys):
    """What the last request of `act` printed: its access line and what follows it."""
    act()
    lines = capsys.readouterr().out.splitlines()
    last_access = max(i for i, line in enumerate(lines) if '"type": "access"' in line)
    return "\n".join(lines[last_access:])


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    "body, status",
    [(image_bytes("PNG"), 200), (b"<svg/>", 415), (png_of_black_pixels(10000, 10000), 413)],
    ids=["made", "not an image", "too many pixels"],
)
def test_image_processing_is_timed_whenever_finalize_decodes_refusals_included(
    aws, client, alice, printed, body, status
):
    key = _upload(aws, client, alice, body)
    printed()

    answer = finalize(client, alice, key)

    out = printed()
    assert answer.status_code == status
    ((unit, dimensions, (value,)),) = metric(out, metrics.IMAGE_PROCESSING_TIME)
    assert (unit, dimensions) == ("Milliseconds", {})
    assert 0 < value < access_lines(out)[0]["latencyMs"]


def test_a_finalize_that_never_decodes_times_no_image_processing(client, alice, printed):
    finalize(client, alice, "0" * 32)

    assert metric(printed(), metrics.IMAGE_PROCESSING_TIME) == []


def test_finalize_prints_two_documents_with_exactly_the_dimension_sets_the_alarms_read(
    aws, client, alice, printed
):
    key = _upload(aws, client, alice, image_bytes("PNG"))
    fail_every(app_aws.dynamodb_client, "UpdateItem")
    printed()

    finalize(client, alice, key)

    directives = {
        tuple(map(tuple, document["_aws"]["CloudWatchMetrics"][0]["Dimensions"])): document
        for document in emf_documents(printed())
    }
    assert set(directives) == {(("Outcome",),), ((),)}
    by_outcome = directives[(("Outcome",),)]
    assert by_outcome["Outcome"] == "aws_error"
    assert by_outcome["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "FinalizeOutcome", "Unit": "Count"}
    ]
    assert "service" not in by_outcome
    assert [m["Name"] for m in directives[((),)]["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == [
        "ImageProcessingTime",
        "FinalizeLatency",
    ]


def test_a_retry_after_a_failed_commit_counts_the_error_then_the_avatar_finalized(
    aws, client, alice, printed
):
    key = _upload(aws, client, alice, image_bytes("PNG"))
    events = app_aws.dynamodb_client().meta.events

    def fail(**_):
        raise ClientError({"Error": {"Code": "InternalError", "Message": "x"}}, "UpdateItem")

    events.register("before-call.dynamodb.UpdateItem", fail, unique_id="fail-once")
    printed()
    assert finalize(client, alice, key).status_code == 503
    events.unregister("before-call.dynamodb.UpdateItem", unique_id="fail-once")
    # The avatar object stored by the failed attempt is committed now.
    assert finalize(client, alice, key).status_code == 200

    outcomes = [dims["Outcome"] for _, dims, _ in metric(printed(), metrics.FINALIZE_OUTCOME)]
    assert outcomes == ["aws_error", "finalized"]


def test_other_routes_count_no_finalize_outcome(client, alice, printed):
    client.http.get("/avatar")  # 405
    post_json(client, "/uploads", {}, alice)

    assert metric_values(printed()) == []


# --- The S3 event and the sweeper ---------------------------------------------


def test_the_s3_event_counts_each_pending_upload_it_sees(client, printed):
    event = client.events.generate_s3_event(bucket="avatars-local", key="pending/" + "a" * 32)

    client.lambda_.invoke("log_pending_upload", event)

    assert metric(printed(), metrics.PENDING_UPLOADS_SEEN) == [("Count", {}, [1.0])]


def test_an_event_of_two_records_logs_and_counts_both_in_one_document(client, printed):
    event = client.events.generate_s3_event(bucket="avatars-local", key="pending/" + "a" * 32)
    second = json.loads(json.dumps(event["Records"][0]))
    second["s3"]["object"]["key"] = "pending/" + "b" * 32
    event["Records"].append(second)

    client.lambda_.invoke("log_pending_upload", event)

    out = printed()
    assert metric(out, metrics.PENDING_UPLOADS_SEEN) == [("Count", {}, [1.0, 1.0])]
    logged = [line for line in map(json.loads, out.splitlines()) if line.get("event")]
    assert [line["key"] for line in logged] == ["pending/" + "a" * 32, "pending/" + "b" * 32]


OLD_ORPHANS = ["avatars/" + digit * 32 for digit in "123"]


@pytest.fixture
def orphans(aws, monkeypatch):
    """Three avatar objects two hours old (moto's clock turned back) that no user points at."""
    two_hours_ago = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=2)
    with monkeypatch.context() as clock:
        clock.setattr(moto.s3.models, "utcnow", lambda: two_hours_ago)
        for key in OLD_ORPHANS:
            aws.s3.put_object(Bucket=aws.settings.bucket_name, Key=key, Body=b"x")
    return OLD_ORPHANS


def run_sweeper(client):
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    client.lambda_.invoke("sweep_orphaned_avatars", event)


def sweep_metrics(out):
    """{name: (unit, dimensions, values)} of the sweep's metrics, all in one document."""
    (document,) = emf_documents(out)
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [[]]
    return {name: (unit, dims, values) for name, unit, dims, values in metric_values(out)}


def test_a_sweep_counts_the_orphans_it_deleted_and_no_failure(orphans, client, printed):
    run_sweeper(client)

    assert sweep_metrics(printed()) == {
        "OrphansSwept": ("Count", {}, [3.0]),
        "SweepFailures": ("Count", {}, [0.0]),
    }


def test_a_sweep_with_nothing_to_do_still_reports_zero_of_each(aws, client, printed):
    run_sweeper(client)

    assert sweep_metrics(printed()) == {
        "OrphansSwept": ("Count", {}, [0.0]),
        "SweepFailures": ("Count", {}, [0.0]),
    }


def test_an_orphan_s3_would_not_delete_is_a_sweep_failure(orphans, client, printed):
    def refuse_one(parsed, **_):
        parsed["Errors"] = [{"Key": OLD_ORPHANS[0], "Code": "AccessDenied", "Message": "no"}]

    app_aws.s3_client().meta.events.register("after-call.s3.DeleteObjects", refuse_one)

    run_sweeper(client)

    assert sweep_metrics(printed()) == {
        "OrphansSwept": ("Count", {}, [2.0]),
        "SweepFailures": ("Count", {}, [1.0]),
    }


def test_a_sweep_that_stops_on_an_error_is_a_failure_and_still_prints_its_metrics(
    orphans, client, printed
):
    fail_every(app_aws.s3_client, "DeleteObjects")

    with pytest.raises(ClientError):
        run_sweeper(client)

    assert sweep_metrics(printed()) == {
        "OrphansSwept": ("Count", {}, [0.0]),
        "SweepFailures": ("Count", {}, [1.0]),
    }
