"""Each Lambda function's IAM policy allows every call its handler makes, and nothing more.

The calls come from the app's own boto3 clients (botocore's event hooks), by
the function whose handler made them (tests/conftest.py HANDLER_CALLS): those
of a walk through every route and both event handlers below, plus every call
the test client's requests and invocations made in the other tests of this
run. Each is mapped to the IAM action, resource and condition keys AWS checks,
and checked against that function's own policy, as `devtools.configure_stage`
writes it.
"""

import dataclasses
import fnmatch
import json
from datetime import datetime, timedelta, timezone

import boto3
import moto.s3.models
import pytest

from app import app
from chalicelib import auth
from chalicelib import aws as app_aws
from devtools.configure_stage import (
    API_HANDLER,
    EVENT_LOGGER,
    FUNCTIONS,
    SWEEPER,
    lambda_function_name,
    render_policies,
)
from tests.conftest import HANDLER_CALLS, RECORDED_CALLS, SEED_USERS, record_handler_calls
from tests.helpers import finalize, image_bytes, request_form, sign_in, upload

ACCOUNT = "123456789012"
SECRET_PARAMETER = "/avatars-test/session-secret"
LOG_STREAM = "2025/01/01/[$LATEST]0123456789abcdef"


def iam_requests(call, settings):
    """(action, resource ARN, condition keys) that AWS authorizes for one recorded call."""
    service, operation, params, presigned = call
    if presigned and operation == "CreateBucket":
        # botocore resolves a presigned POST's endpoint as if for CreateBucket;
        # the POST itself is a PutObject, which the walk below records by key.
        return []
    bucket = f"arn:aws:s3:::{params.get('Bucket')}"
    table = f"arn:aws:dynamodb:{settings.region}:{ACCOUNT}:table/{params.get('TableName')}"
    if service == "s3":
        if operation in ("GetObject", "HeadObject"):
            return [("s3:GetObject", f"{bucket}/{params['Key']}", ())]
        if operation == "PutObject":
            return [("s3:PutObject", f"{bucket}/{params['Key']}", ())]
        if operation == "CopyObject":
            source = params["CopySource"]
            return [
                ("s3:GetObject", f"arn:aws:s3:::{source['Bucket']}/{source['Key']}", ()),
                ("s3:PutObject", f"{bucket}/{params['Key']}", ()),
            ]
        if operation == "DeleteObjects":
            return [
                ("s3:DeleteObject", f"{bucket}/{entry['Key']}", ())
                for entry in params["Delete"]["Objects"]
            ]
        if operation == "ListObjectsV2":
            return [("s3:ListBucket", bucket, (("s3:prefix", params.get("Prefix", "")),))]
        if operation == "GetBucketLifecycleConfiguration":
            return [("s3:GetLifecycleConfiguration", bucket, ())]
    if service == "dynamodb" and operation in ("Scan", "GetItem", "UpdateItem"):
        return [(f"dynamodb:{operation}", table, ())]
    if service == "ssm" and operation == "GetParameter":
        name = params["Name"]
        return [
            ("ssm:GetParameter", f"arn:aws:ssm:{settings.region}:{ACCOUNT}:parameter{name}", ())
        ]
    raise AssertionError(
        f"the code calls {service}:{operation}, which this test cannot map to IAM: "
        "add it here and, if needed, to devtools/configure_stage.render_policies"
    )


def runtime_log_requests(function, settings):
    """What the Lambda runtime asks for `function`: its log group, a stream, events.
    IAM checks CreateLogGroup on `<group>:log-stream:` with an empty stream name."""
    group = (
        f"arn:aws:logs:{settings.region}:{ACCOUNT}:log-group:"
        f"/aws/lambda/{lambda_function_name(app.app_name, function)}"
    )
    return [
        ("logs:CreateLogGroup", f"{group}:log-stream:", ()),
        ("logs:CreateLogStream", f"{group}:log-stream:{LOG_STREAM}", ()),
        ("logs:PutLogEvents", f"{group}:log-stream:{LOG_STREAM}", ()),
    ]


def _conditions_hold(statement, context):
    context = dict(context)
    for operator, keys in statement.get("Condition", {}).items():
        assert operator == "StringEquals", f"this test cannot evaluate {operator}: add it here"
        for key, values in keys.items():
            if context.get(key) not in ([values] if isinstance(values, str) else values):
                return False
    return True


def allowing_statements(policy, action, resource, context=()):
    return [
        statement
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow"
        and any(fnmatch.fnmatchcase(action, pattern) for pattern in statement["Action"])
        and any(fnmatch.fnmatchcase(resource, pattern) for pattern in statement["Resource"])
        and _conditions_hold(statement, context)
    ]


@pytest.fixture
def policies(aws):
    region = aws.settings.region
    return render_policies(
        {
            "region": region,
            "bucket_name": aws.settings.bucket_name,
            "table_arn": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{aws.settings.table_name}",
            "session_secret_parameter_arn": f"arn:aws:ssm:{region}:{ACCOUNT}:"
            f"parameter{SECRET_PARAMETER}",
        },
        app.app_name,
    )


@pytest.fixture
def walk(aws, client, monkeypatch):
    """Every route, every finalize branch, the dev stage's secret read, an S3
    event and a sweep that deletes: each function's calls, by function."""
    calls = {function: [] for function in FUNCTIONS}
    for app_client in (app_aws.s3_client(), app_aws.dynamodb_client(), app_aws.ssm_client()):
        record_handler_calls(app_client, calls)
    user = SEED_USERS[0]["Username"]

    client.http.get("/")
    client.http.get("/static/app.js")
    client.http.get("/users")
    client.http.get(f"/user/{user}/avatar")
    session = sign_in(client, user)
    forms = [request_form(client, session) for _ in range(4)]
    accepted, refused, empty, reused = (form["key"] for form in forms)
    upload(aws, accepted, image_bytes("PNG"), owner=user)
    assert finalize(client, session, accepted).status_code == 200
    upload(aws, accepted, image_bytes("PNG"), owner=user)  # the form used again
    assert finalize(client, session, accepted).status_code == 200
    upload(aws, refused, b"<svg/>", owner=user)
    assert finalize(client, session, refused).status_code == 415
    upload(aws, empty, b"", owner=user)
    assert finalize(client, session, empty).status_code == 415
    assert finalize(client, session, reused).status_code == 404
    client.http.get("/debug/bucket")
    client.http.get("/debug/table")
    # The browser's POST is signed with the API role's credentials, so S3
    # checks PutObject on the key against its policy. No boto3 call shows it.
    for form in forms:
        key = form["fields"]["key"]
        calls[API_HANDLER].append(
            ("s3", "PutObject", {"Bucket": aws.settings.bucket_name, "Key": key}, True)
        )

    client.lambda_.invoke(
        EVENT_LOGGER,
        client.events.generate_s3_event(
            bucket=aws.settings.bucket_name, key=aws.settings.pending_prefix + accepted
        ),
    )

    # An orphan two hours old (moto's clock turned back), so the sweep deletes.
    orphan = aws.settings.avatar_prefix + "f" * 32
    two_hours_ago = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=2)
    with monkeypatch.context() as clock:
        clock.setattr(moto.s3.models, "utcnow", lambda: two_hours_ago)
        aws.s3.put_object(Bucket=aws.settings.bucket_name, Key=orphan, Body=b"x")
    client.lambda_.invoke(
        SWEEPER,
        client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        ),
    )
    assert ("s3", "DeleteObjects") in {call[:2] for call in calls[SWEEPER]}

    # The dev stage reads the session secret from SSM on the first request
    # that carries a cookie.
    boto3.client("ssm", region_name=aws.settings.region).put_parameter(
        Name=SECRET_PARAMETER, Value="s3cret", Type="SecureString"
    )
    dev_settings = dataclasses.replace(
        aws.settings, session_secret=None, session_secret_parameter=SECRET_PARAMETER
    )
    monkeypatch.setattr(auth, "load_settings", lambda: dev_settings)
    auth.forget_secret()
    client.http.get("/whoami", headers=session)
    assert auth._signing_secret() == b"s3cret"
    auth.forget_secret()
    return calls


def _requests(calls, settings):
    return {request for call in calls for request in iam_requests(call, settings)}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_may_make_every_call_its_handler_makes(aws, policies, walk, function):
    requests = _requests(walk[function] + HANDLER_CALLS[function], aws.settings)
    requests.update(runtime_log_requests(function, aws.settings))
    denied = sorted(r for r in requests if not allowing_statements(policies[function], *r))
    assert denied == [], json.dumps(denied, indent=1)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_may_do_nothing_its_handler_never_does(aws, policies, walk, function):
    used = _requests(walk[function], aws.settings)
    used.update(runtime_log_requests(function, aws.settings))
    for statement in policies[function]["Statement"]:
        for action in statement["Action"]:
            for pattern in statement["Resource"]:
                assert any(
                    used_action == action
                    and fnmatch.fnmatchcase(resource, pattern)
                    and _conditions_hold(statement, context)
                    for used_action, resource, context in used
                ), f"{function}: {statement['Sid']} allows {action} on {pattern}, never used"


def test_the_event_logger_calls_nothing_and_may_only_write_its_logs(aws, policies, walk):
    assert walk[EVENT_LOGGER] == [] and HANDLER_CALLS[EVENT_LOGGER] == []
    (statement,) = policies[EVENT_LOGGER]["Statement"]
    assert {action.split(":")[0] for action in statement["Action"]} == {"logs"}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_may_write_its_own_log_group_and_no_other(aws, policies, function):
    policy = policies[function]
    # Every function's name starts with the API's, `<app>-<stage>`.
    app_groups = (
        f"arn:aws:logs:{aws.settings.region}:{ACCOUNT}:log-group:"
        f"/aws/lambda/{lambda_function_name(app.app_name, API_HANDLER)}"
    )
    for statement in policy["Statement"]:
        if any(action.startswith("logs:") for action in statement["Action"]):
            assert all(resource.startswith(app_groups) for resource in statement["Resource"])
    for other in FUNCTIONS:
        if other != function:
            for request in runtime_log_requests(other, aws.settings):
                assert allowing_statements(policy, *request) == [], (function, request)
    foreign = f"arn:aws:logs:{aws.settings.region}:{ACCOUNT}:log-group:/aws/lambda/other"
    assert allowing_statements(policy, "logs:PutLogEvents", f"{foreign}:log-stream:x") == []


def test_calls_made_outside_the_test_client_are_allowed_to_some_function(aws, policies):
    # Tests that call chalicelib directly: not any one handler's, but still
    # the code's, so some function must be allowed to make them.
    denied = sorted(
        {
            request
            for call in RECORDED_CALLS
            for request in iam_requests(call, aws.settings)
            if not any(allowing_statements(policy, *request) for policy in policies.values())
        }
    )
    assert denied == [], json.dumps(denied, indent=1)


def test_there_is_a_policy_for_every_function_of_the_app():
    functions = {source.name for source in app.event_sources}
    if app.routes:
        functions.add(API_HANDLER)
    assert set(FUNCTIONS) == functions


def test_no_resource_has_a_wildcard_but_at_the_end_of_a_key_prefix_or_log_group(policies):
    for function, policy in policies.items():
        for statement in policy["Statement"]:
            for resource in statement["Resource"]:
                where = (function, statement["Sid"], resource)
                assert "*" not in resource[:-1], where
                assert resource.endswith(("/*", ":*")) or not resource.endswith("*"), where


def test_a_call_outside_a_functions_policy_is_caught(aws, policies):
    # The check itself can fail: a write to web/ is not something the app does,
    # and the sweeper neither reads objects nor lists beyond avatars/.
    bucket = aws.settings.bucket_name
    outside = [
        (API_HANDLER, ("s3", "PutObject", {"Bucket": bucket, "Key": "web/index.html"}, False)),
        (SWEEPER, ("s3", "GetObject", {"Bucket": bucket, "Key": "avatars/" + "0" * 32}, False)),
        (SWEEPER, ("s3", "ListObjectsV2", {"Bucket": bucket, "Prefix": "pending/"}, False)),
        (SWEEPER, ("s3", "ListObjectsV2", {"Bucket": bucket}, False)),
        (EVENT_LOGGER, ("s3", "GetObject", {"Bucket": bucket, "Key": "pending/x"}, False)),
    ]
    for function, call in outside:
        (request,) = iam_requests(call, aws.settings)
        assert allowing_statements(policies[function], *request) == [], (function, request)
