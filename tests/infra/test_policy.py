"""Each Lambda function's IAM policy allows every request its handler makes, and nothing more.

This module walks the whole app itself, in an emulated AWS of its own (moto):
every route and method of app.py (the answers with AWS calls, the 404, 405,
HEAD and OPTIONS answers, the debug views on and off), the S3 event handler,
and a sweep that deletes orphans. It records every call of the app's boto3
clients by the Lambda function whose handler made it, and the form of every
presigned POST. tests/infra/iam.py maps each call to the requests IAM
authorizes and evaluates them against that function's policy, as
`devtools.configure_stage.render_policies` writes it. No other test's calls
count: alone or in the whole suite, it checks the same requests.
"""

import contextlib
import copy
import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import boto3
import moto.s3.models
import pytest
from chalice.test import Client
from moto import mock_aws

from app import app
from chalicelib import aws as app_aws
from chalicelib import services
from chalicelib.routing import ROUTED_METHODS, handled_methods
from chalicelib.settings import load_settings
from devtools.configure_stage import (
    API_HANDLER,
    EVENT_LOGGER,
    FUNCTIONS,
    REQUIRED_OUTPUTS,
    SWEEPER,
    lambda_function_name,
    render_policies,
)
from devtools.provision import provision
from devtools.seed import load_seed
from tests.helpers import (
    JSON,
    finalize,
    image_bytes,
    png_of_black_pixels,
    post_json,
    request_form,
    sign_in,
    upload,
)
from tests.infra.iam import (
    ALLOWED,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    Call,
    CallContext,
    applies,
    evaluate,
    grants,
    iam_requests,
)

ACCOUNT = "123456789012"
SECRET_PARAMETER = "/avatars-test/session-secret"
LOG_STREAM = "2025/01/01/[$LATEST]0123456789abcdef"
AVATAR_BASE_URL = "https://d111111abcdef8.cloudfront.net/"
# Where a walk's call keeps its record, in botocore's per-call context.
_RECORD = "tests.infra.test_policy.record"


class _Recorder:
    """The calls of the app's clients, by the Lambda function whose handler
    made them; the routes and handlers the walk ran."""

    def __init__(self):
        # A plain attribute, not a contextvar: the debug view makes its HEADs
        # on worker threads; the test client runs one handler at a time.
        self.function = None
        self.route = None
        self.records = {function: [] for function in FUNCTIONS}
        self.outside = []
        self.routes = set()
        self.handlers = set()

    def listen(self, aws_client):
        aws_client.meta.events.register("provide-client-params", self._before_call)
        aws_client.meta.events.register("after-call", self._after_call)

    def _before_call(self, params, model, context, **_):
        record = {
            "service": model.service_model.service_name,
            "operation": model.name,
            "params": dict(params),
            # botocore's context for this call: a presigned POST's form lands here.
            "context": context,
            "status": None,
            "route": self.route,
        }
        context[_RECORD] = record
        if self.function is None:
            self.outside.append(record)
        else:
            self.records.setdefault(self.function, []).append(record)

    def _after_call(self, http_response, context, **_):
        if _RECORD in context:
            context[_RECORD]["status"] = http_response.status_code

    @contextlib.contextmanager
    def running(self, function, route=None):
        previous = self.function, self.route
        self.function, self.route = function, route
        try:
            yield
        finally:
            self.function, self.route = previous

    def calls(self, function, unless_route=lambda route: False):
        """The function's calls, as tests/infra/iam.py takes them; without
        those made for the routes `unless_route` picks."""
        return [
            _as_call(record)
            for record in self.records[function]
            if record["route"] is None or not unless_route(record["route"])
        ]


def _as_call(record):
    context = record["context"]
    presigned = bool(context.get("is_presign_request"))
    form = context.get("s3-presign-post-fields")
    if presigned and form is not None:
        # What a browser sends with the form: S3 authorizes it then.
        params = {"Bucket": record["params"]["Bucket"], "Fields": dict(form)}
        return Call("s3", "PostObject", params, presigned=True)
    return Call(
        record["service"], record["operation"], record["params"], presigned, record["status"]
    )


class _RecordedApp:
    """The app as the test client sees it: each request is the API function's
    and notes its route; each invocation is the invoked function's."""

    def __init__(self, chalice_app, recorder):
        self._app = chalice_app
        self._recorder = recorder

    def __getattr__(self, name):
        return getattr(self._app, name)

    def __call__(self, event, context):
        route = event["requestContext"]["resourcePath"]
        method = event["requestContext"]["httpMethod"]
        entry = self._app.routes.get(route, {}).get(method)
        if entry is not None:  # else Chalice answers 405 itself
            self._recorder.routes.add((route, method))
            self._recorder.handlers.add(entry.view_name)
        with self._recorder.running(API_HANDLER, route):
            return self._app(event, context)

    @property
    def handler_map(self):
        return {
            name: self._as_function(name, handler)
            for name, handler in self._app.handler_map.items()
        }

    def _as_function(self, name, handler):
        def invoke(event, context):
            self._recorder.handlers.add(name)
            with self._recorder.running(name):
                return handler(event, context)

        return invoke


@pytest.fixture(scope="module")
def walk():
    """The whole app, walked once, as the deployed stage runs it: the session
    secret read from SSM, the debug views on (Terraform can turn them on)."""
    recorder = _Recorder()
    try:
        with mock_aws(), pytest.MonkeyPatch.context() as patch:
            patch.setenv("SESSION_SECRET", "")
            patch.setenv("SESSION_SECRET_PARAMETER", SECRET_PARAMETER)
            patch.setenv("SECURE_COOKIES", "true")
            patch.setenv("DEBUG_ROUTES", "true")
            # The dev stage serves avatars from CloudFront: no presigned GET.
            patch.setenv("AVATAR_BASE_URL", AVATAR_BASE_URL)
            services.reset()
            settings = load_settings()
            aws = SimpleNamespace(
                s3=boto3.client("s3", region_name=settings.region),
                dynamodb=boto3.client("dynamodb", region_name=settings.region),
                settings=settings,
            )
            provision(aws.s3, aws.dynamodb, settings)
            boto3.client("ssm", region_name=settings.region).put_parameter(
                Name=SECRET_PARAMETER, Value="s3cret-from-ssm", Type="SecureString"
            )
            for app_client in (
                app_aws.s3_client(),
                app_aws.dynamodb_client(),
                app_aws.ssm_client(),
            ):
                recorder.listen(app_client)
            with Client(_RecordedApp(app, recorder), stage_name="local") as client:
                _walk_the_api(client, aws, patch)
                _invoke_the_event_handlers(client, aws, patch)
            yield SimpleNamespace(
                recorder=recorder,
                settings=settings,
                context=CallContext(region=settings.region, account=ACCOUNT),
            )
    finally:
        services.reset()


def _expect(answer, status):
    assert answer.status_code == status, (status, answer.status_code, answer.body)
    is_json = answer.headers.get("Content-Type", "").startswith("application/json")
    return json.loads(answer.body) if is_json and answer.body else None


def _walk_the_api(client, aws, patch):
    """Every route and method; for the app's own views, every answer that
    makes an AWS call (and a few that make none)."""
    http = client.http
    alice, bob, carol = (user["Username"] for user, _ in load_seed())

    # The page: the second GET of a file is conditional (S3 answers 304);
    # a missing file is S3's 404; a name that is no file's makes no call.
    _expect(http.get("/"), 200)
    _expect(http.get("/"), 200)
    _expect(http.get("/static/app.js"), 200)
    _expect(http.get("/static/missing.js"), 404)
    _expect(http.get("/static/app.exe"), 404)
    _expect(http.get("/openapi.json"), 200)
    _expect(http.get("/users"), 200)
    _expect(http.get(f"/user/{alice}/avatar"), 303)
    _expect(http.get("/user/nobody/avatar"), 404)

    # Sessions: the first signature reads the secret from SSM.
    assert _expect(http.get("/whoami"), 200) == {"username": None}
    _expect(http.put("/login", headers=JSON, body="[]"), 400)
    _expect(http.put("/login", headers=JSON, body=json.dumps({"username": "nobody"})), 404)
    session = sign_in(client, alice)
    assert _expect(http.get("/whoami", headers=session), 200) == {"username": alice}
    bob_session, carol_session = sign_in(client, bob), sign_in(client, carol)

    # Upload forms and finalize, every branch.
    _expect(post_json(client, "/uploads", {}, {}), 401)
    keys = iter(request_form(client, session)["key"] for _ in range(8))
    bucket = aws.settings.bucket_name

    accepted = next(keys)
    upload(aws, accepted, image_bytes("PNG"), owner=alice)
    _expect(finalize(client, session, accepted), 200)  # the seed avatar replaced
    upload(aws, accepted, image_bytes("PNG"), owner=alice)  # the form used again
    _expect(finalize(client, session, accepted), 200)
    _expect(finalize(client, session, accepted), 200)  # a retry: nothing pending, S3's 404
    _expect(finalize(client, session, next(keys)), 404)  # never uploaded

    for body in (b"<svg/>", b""):
        refused = next(keys)
        upload(aws, refused, body, owner=alice)
        _expect(finalize(client, session, refused), 415)
    too_big = next(keys)
    upload(aws, too_big, b"\0" * (aws.settings.max_upload_bytes + 1), owner=alice)
    _expect(finalize(client, session, too_big), 413)
    bomb = next(keys)
    upload(aws, bomb, png_of_black_pixels(30000, 30000), owner=alice)
    _expect(finalize(client, session, bomb), 413)

    # Bob's session on Alice's upload; an avatar object with that key that is
    # Bob's (409); one of Alice's stored after her upload, never committed.
    foreign = next(keys)
    upload(aws, foreign, image_bytes("PNG"), owner=alice)
    _expect(finalize(client, bob_session, foreign), 403)
    aws.s3.put_object(
        Bucket=bucket,
        Key=aws.settings.avatar_prefix + foreign,
        Body=b"x",
        Metadata={"username": bob},
    )
    _expect(finalize(client, session, foreign), 409)
    uncommitted = next(keys)
    upload(aws, uncommitted, image_bytes("PNG"), owner=alice)
    aws.s3.put_object(
        Bucket=bucket,
        Key=aws.settings.avatar_prefix + uncommitted,
        Body=image_bytes("PNG"),
        Metadata={"username": alice},
    )
    _expect(finalize(client, session, uncommitted), 200)
    _expect(finalize(client, session, "not-a-key"), 400)
    _expect(finalize(client, {}, accepted), 401)

    # Carol's item deleted while she is signed in: finalize cleans up, 401.
    gone = request_form(client, carol_session)["key"]
    upload(aws, gone, image_bytes("PNG"), owner=carol)
    aws.dynamodb.delete_item(TableName=aws.settings.table_name, Key={"Username": {"S": carol}})
    _expect(finalize(client, carol_session, gone), 401)

    # The debug views, on and then off as the dev stage has them by default.
    _expect(http.get("/debug/bucket"), 200)
    _expect(http.get("/debug/table"), 200)
    patch.setenv("DEBUG_ROUTES", "false")
    _reload_settings()
    _expect(http.get("/debug/bucket"), 404)
    _expect(http.get("/debug/table"), 404)
    patch.setenv("DEBUG_ROUTES", "true")
    _reload_settings()

    # Every method the app's own views do not handle: HEAD runs the GET,
    # OPTIONS lists the methods, the others are 405, and 404 where no route is.
    examples = {"{name}": "app.js", "{username}": alice, "{proxy+}": "no/such/thing"}
    for route in sorted(app.routes):
        path = route
        for variable, value in examples.items():
            path = path.replace(variable, value)
        own = handled_methods(app, route)
        for method in ROUTED_METHODS:
            if method not in own:
                answer = http.request(method, path, headers=session)
                assert answer.status_code < 500, (method, path, answer.status_code, answer.body)

    _expect(http.post("/logout", headers={**JSON, **session}, body="{}"), 204)


def _reload_settings():
    # Read now, outside any request: the test client swaps the environment
    # for the `local` stage's while a handler runs.
    load_settings.cache_clear()
    load_settings()


def _invoke_the_event_handlers(client, aws, patch):
    bucket = aws.settings.bucket_name
    client.lambda_.invoke(
        EVENT_LOGGER,
        client.events.generate_s3_event(bucket=bucket, key=aws.settings.pending_prefix + "0" * 32),
    )
    # An orphan two hours old (moto's clock turned back), so the sweep deletes.
    two_hours_ago = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=2)
    with patch.context() as clock:
        clock.setattr(moto.s3.models, "utcnow", lambda: two_hours_ago)
        aws.s3.put_object(Bucket=bucket, Key=aws.settings.avatar_prefix + "f" * 32, Body=b"x")
    client.lambda_.invoke(
        SWEEPER,
        client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        ),
    )


def runtime_log_calls(function):
    """What the Lambda runtime does for `function`: its log group, a stream, events."""
    group = f"/aws/lambda/{lambda_function_name(app.app_name, function)}"
    stream = {"logGroupName": group, "logStreamName": LOG_STREAM}
    return [
        Call("logs", "CreateLogGroup", {"logGroupName": group}),
        Call("logs", "CreateLogStream", stream),
        Call("logs", "PutLogEvents", {**stream, "logEvents": [{"timestamp": 0, "message": "x"}]}),
    ]


def _is_debug_view(route):
    return route.startswith("/debug/")


def _requests(walk, function, unless_route=lambda route: False):
    """The function's distinct IAM requests: its handler's, then the runtime's logs."""
    calls = walk.recorder.calls(function, unless_route) + runtime_log_calls(function)
    found = {request for call in calls for request in iam_requests(call, walk.context)}
    return sorted(found, key=str)


@pytest.fixture(scope="module")
def requests(walk):
    return {function: _requests(walk, function) for function in FUNCTIONS}


def _policies(walk, debug_routes):
    """The policies configure_stage writes for the walk's bucket, table and secret."""
    settings, region = walk.settings, walk.context.region
    outputs = {
        "region": region,
        "bucket_name": settings.bucket_name,
        "table_name": settings.table_name,
        "table_arn": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{settings.table_name}",
        "session_secret_parameter": SECRET_PARAMETER,
        "session_secret_parameter_arn": f"arn:aws:ssm:{region}:{ACCOUNT}:"
        f"parameter{SECRET_PARAMETER}",
        "max_upload_bytes": settings.max_upload_bytes,
        "avatar_base_url": AVATAR_BASE_URL,
        "debug_routes": debug_routes,
        "log_retention_days": 14,
        "default_tags": {"app": "avatars"},
    }
    missing = set(REQUIRED_OUTPUTS) - set(outputs)
    assert not missing, f"give the outputs {sorted(missing)} a value here"
    return render_policies(outputs, app.app_name)


@pytest.fixture(scope="module")
def policies(walk):
    return _policies(walk, debug_routes=True)


def denials(policy, requests):
    """Each request the policy does not allow, with IAM's decision."""
    found = []
    for request in requests:
        decision = evaluate(policy, request)
        if decision != ALLOWED:
            found.append((str(request), decision))
    return found


def unused_grants(policy, requests):
    """Each action and resource an Allow statement names that no allowed request uses."""
    unused = []
    for statement, action, resource in grants(policy):
        named = {**statement, "Action": [action], "Resource": [resource]}
        if not any(
            applies(named, request) and evaluate(policy, request) == ALLOWED for request in requests
        ):
            unused.append(f"{statement.get('Sid')}: {action} on {resource}")
    return unused


# The walk covers the app ------------------------------------------------------


def test_the_walk_requests_every_route_and_method_of_the_app(walk):
    every = {(route, method) for route, methods in app.routes.items() for method in methods}
    missing = sorted(every - walk.recorder.routes)
    assert missing == [], f"add a step to the walk for: {missing}"


def test_the_walk_runs_every_handler_of_the_app(walk):
    # The views of the routes, and the event handlers, each its own function.
    missing = sorted(set(app.handler_map) - walk.recorder.handlers)
    assert missing == [], f"add a step to the walk that runs: {missing}"


def test_every_aws_call_of_the_walk_is_made_by_some_handler(walk):
    assert walk.recorder.outside == []


def test_the_walk_makes_the_calls_each_policy_is_about(walk):
    made = {
        function: {call.operation for call in walk.recorder.calls(function)}
        for function in FUNCTIONS
    }
    assert made[API_HANDLER] >= {
        "GetObject",
        "HeadObject",
        "PutObject",
        "PostObject",
        "DeleteObjects",
        "ListObjectsV2",
        "GetBucketLifecycleConfiguration",
        "Scan",
        "GetItem",
        "UpdateItem",
        "GetParameter",
    }
    assert made[SWEEPER] == {"Scan", "ListObjectsV2", "DeleteObjects"}
    assert made[EVENT_LOGGER] == set()


def test_there_is_a_policy_for_every_function_of_the_app(policies):
    functions = {source.name for source in app.event_sources}
    if app.routes:
        functions.add(API_HANDLER)
    assert set(FUNCTIONS) == functions == set(policies)


# Both directions, per function --------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_may_make_every_request_its_handler_makes(walk, requests, policies, function):
    checked = requests[function]
    calls = len(walk.recorder.records[function])
    print(f"\n{function}: {calls} calls in the walk, {len(checked)} distinct IAM requests checked")
    denied = denials(policies[function], checked)
    assert denied == [], f"{function}, {len(checked)} requests checked:\n" + json.dumps(
        denied, indent=1
    )


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_is_granted_nothing_its_handler_never_uses(requests, policies, function):
    assert unused_grants(policies[function], requests[function]) == []


def test_without_the_debug_views_the_api_is_granted_nothing_it_never_uses(walk):
    # With DEBUG_ROUTES off the debug views make no call; everything else is the same.
    without_debug_views = _requests(walk, API_HANDLER, unless_route=_is_debug_view)
    policy = _policies(walk, debug_routes=False)[API_HANDLER]
    assert denials(policy, without_debug_views) == []
    assert unused_grants(policy, without_debug_views) == []


def test_the_event_logger_calls_nothing_and_may_only_write_its_logs(walk, policies):
    assert walk.recorder.records[EVENT_LOGGER] == []
    (statement,) = policies[EVENT_LOGGER]["Statement"]
    assert {action.split(":")[0] for action in statement["Action"]} == {"logs"}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_may_write_its_own_log_group_and_no_other(walk, policies, function):
    policy = policies[function]
    for other in FUNCTIONS:
        expected = ALLOWED if other == function else IMPLICIT_DENY
        for call in runtime_log_calls(other):
            for request in iam_requests(call, walk.context):
                assert evaluate(policy, request) == expected, (function, str(request))
    foreign = Call(
        "logs", "CreateLogStream", {"logGroupName": "/aws/lambda/x", "logStreamName": "s"}
    )
    for request in iam_requests(foreign, walk.context):
        assert evaluate(policy, request) == IMPLICIT_DENY


def test_no_resource_has_a_wildcard_but_at_the_end_of_a_key_prefix_or_log_group(policies):
    for function, policy in policies.items():
        for statement, _action, resource in grants(policy):
            where = (function, statement["Sid"], resource)
            assert "*" not in resource[:-1] and "?" not in resource, where
            assert resource.endswith(("/*", ":*")) or not resource.endswith("*"), where


# The checks bite --------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_policy_missing_any_one_of_its_actions_denies_some_request(requests, policies, function):
    policy = policies[function]
    for index, statement in enumerate(policy["Statement"]):
        for action in statement["Action"]:
            weaker = copy.deepcopy(policy)
            kept = [other for other in statement["Action"] if other != action]
            if kept:
                weaker["Statement"][index]["Action"] = kept
            else:
                del weaker["Statement"][index]
            denied = denials(weaker, requests[function])
            assert any(
                request.startswith(f"{action} on ") and decision == IMPLICIT_DENY
                for request, decision in denied
            ), f"{function} without {action} in {statement['Sid']}: nothing denied"


def test_a_grant_the_handler_never_uses_is_reported(walk, requests, policies):
    policy = copy.deepcopy(policies[API_HANDLER])
    table = f"arn:aws:dynamodb:{walk.context.region}:{ACCOUNT}:table/{walk.settings.table_name}"
    policy["Statement"].append(
        {"Sid": "Extra", "Effect": "Allow", "Action": ["dynamodb:DeleteItem"], "Resource": [table]}
    )
    assert unused_grants(policy, requests[API_HANDLER]) == [
        f"Extra: dynamodb:DeleteItem on {table}"
    ]


def _first_call(walk, function, operation, status=None):
    return next(
        call
        for call in walk.recorder.calls(function)
        if call.operation == operation and (status is None or call.status == status)
    )


def _with_params(call, **params):
    return call._replace(params={**call.params, **params})


def _with_form_field(call, name, value):
    return call._replace(params={**call.params, "Fields": {**call.params["Fields"], name: value}})


@pytest.mark.parametrize(
    "change, action",
    [
        (lambda call: _with_params(call, Tagging="owner=alice"), "s3:PutObjectTagging"),
        (lambda call: _with_params(call, ACL="public-read"), "s3:PutObjectAcl"),
        (lambda call: _with_params(call, GrantRead="uri=x"), "s3:PutObjectAcl"),
        (lambda call: _with_params(call, ObjectLockLegalHoldStatus="ON"), "s3:PutObjectLegalHold"),
        (
            lambda call: _with_params(
                call,
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId="1234abcd-12ab-34cd-56ef-1234567890ab",
            ),
            "kms:GenerateDataKey",
        ),
    ],
    ids=["tagging", "acl", "grant", "legal-hold", "sse-kms"],
)
def test_the_avatar_put_with_a_parameter_needing_another_action_is_denied(
    walk, requests, policies, change, action
):
    put = _first_call(walk, API_HANDLER, "PutObject")
    added = iam_requests(change(put), walk.context)
    assert {request.action for request in added} == {"s3:PutObject", action}
    denied = denials(policies[API_HANDLER], requests[API_HANDLER] + added)
    assert [decision for request, decision in denied if request.startswith(action)] == [
        IMPLICIT_DENY
    ]


@pytest.mark.parametrize(
    "field, value, action",
    [
        ("acl", "public-read", "s3:PutObjectAcl"),
        (
            "tagging",
            "<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>",
            "s3:PutObjectTagging",
        ),
    ],
)
def test_an_upload_form_with_a_field_needing_another_action_is_denied(
    walk, policies, field, value, action
):
    form = _first_call(walk, API_HANDLER, "PostObject")
    added = iam_requests(_with_form_field(form, field, value), walk.context)
    (extra,) = [request for request in added if request.action == action]
    assert evaluate(policies[API_HANDLER], extra) == IMPLICIT_DENY


def test_a_read_of_an_object_version_is_denied(walk, policies):
    get = _first_call(walk, API_HANDLER, "GetObject", status=200)
    (request,) = iam_requests(_with_params(get, VersionId="v1"), walk.context)
    assert request.action == "s3:GetObjectVersion"
    assert evaluate(policies[API_HANDLER], request) == IMPLICIT_DENY


def _bucket(walk):
    return f"arn:aws:s3:::{walk.settings.bucket_name}"


@pytest.mark.parametrize(
    "function, deny, blocked, still_allowed",
    [
        # The browser's upload under pending/.
        (
            API_HANDLER,
            {"Action": "s3:PutObject", "Resource": "{bucket}/pending/*"},
            "s3:PutObject on {bucket}/pending/",
            "s3:PutObject on {bucket}/avatars/",
        ),
        # Every write without If-None-Match: the form's POST, not finalize's put.
        (
            API_HANDLER,
            {
                "Action": "s3:PutObject",
                "Resource": "*",
                "Condition": {"Null": {"s3:if-none-match": "true"}},
            },
            "s3:PutObject on {bucket}/pending/",
            "s3:PutObject on {bucket}/avatars/",
        ),
        # Listing anything but avatars/: the debug view lists pending/ too,
        # and a 404 needs the list permission with no prefix at all.
        (
            API_HANDLER,
            {
                "Action": "s3:ListBucket",
                "Resource": "{bucket}",
                "Condition": {"StringNotEqualsIfExists": {"s3:prefix": "avatars/"}},
            },
            "s3:ListBucket on {bucket} ",
            "s3:GetObject on {bucket}/",
        ),
        # Everything but S3 objects and logs: the table and the secret.
        (
            API_HANDLER,
            {"NotAction": ["s3:*Object", "logs:*"], "Resource": "*"},
            "dynamodb:UpdateItem on ",
            "s3:DeleteObject on ",
        ),
        # Any delete but under web/: the sweeper's.
        (
            SWEEPER,
            {"Action": "s3:Delete*", "NotResource": "{bucket}/web/*"},
            "s3:DeleteObject on {bucket}/avatars/",
            "dynamodb:Scan on ",
        ),
        # Logs written outside the regions the account allows.
        (
            EVENT_LOGGER,
            {
                "Action": "logs:*",
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}
                },
            },
            "logs:PutLogEvents on ",
            None,
        ),
    ],
    ids=["pending", "if-none-match", "prefix", "not-action", "not-resource", "region"],
)
def test_a_deny_statement_blocks_the_walks_requests_it_matches(
    walk, requests, policies, function, deny, blocked, still_allowed
):
    bucket = _bucket(walk)
    statement = json.loads(json.dumps(deny).replace("{bucket}", bucket))
    policy = copy.deepcopy(policies[function])
    policy["Statement"].append({"Sid": "Deny", "Effect": "Deny", **statement})
    denied = denials(policy, requests[function])
    assert any(
        request.startswith(blocked.replace("{bucket}", bucket)) and decision == EXPLICIT_DENY
        for request, decision in denied
    ), denied
    assert {decision for _, decision in denied} == {EXPLICIT_DENY}
    if still_allowed:
        kept = still_allowed.replace("{bucket}", bucket)
        assert any(str(request).startswith(kept) for request in requests[function])
        assert not any(request.startswith(kept) for request, _ in denied), denied


def test_a_deny_whose_condition_no_request_meets_blocks_nothing(requests, policies):
    # The bucket policy's own rule (infra/storage.tf), as an identity policy:
    # every request of the app goes over TLS.
    for function in FUNCTIONS:
        policy = copy.deepcopy(policies[function])
        policy["Statement"].append(
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        )
        assert denials(policy, requests[function]) == []
