"""Shared fixtures: an emulated AWS (moto, in process) and the Chalice test client.

The `local` stage's variables are exported before `app` is imported, and any
emulator endpoint is removed: `mock_aws` does not intercept a client with a
custom endpoint, so a test would leave the mock.
"""

import contextlib
import json
import os
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _export_local_stage():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    os.environ.update(config.get("environment_variables", {}))
    os.environ.update(config["stages"]["local"]["environment_variables"])
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_REGION",
        "AWS_PROFILE",
    ):
        os.environ.pop(name, None)


_export_local_stage()

import boto3  # noqa: E402
from chalice.test import Client  # noqa: E402
from moto import mock_aws  # noqa: E402

from app import app  # noqa: E402
from chalicelib import aws as app_aws  # noqa: E402
from chalicelib import services  # noqa: E402
from chalicelib.settings import load_settings  # noqa: E402
from devtools import local_gateway, moto_patches  # noqa: E402
from devtools.provision import provision  # noqa: E402
from devtools.seed import load_seed  # noqa: E402
from tests.contract import answers  # noqa: E402

# The emulator the tests use behaves like S3 and DynamoDB on the conditions
# finalize relies on (see devtools/moto_patches.py).
moto_patches.apply()
# chalice.test.Client routes through chalice local's gateway: route as API
# Gateway does, as `make run` does (see devtools/local_gateway.py).
local_gateway.apply()

SEED_USERS = [user for user, _ in load_seed()]

# Every AWS call (and presigned URL) the app's clients make during the whole
# run, as (service, operation, params, presigned): tests/infra/test_policy.py
# checks the deployed stage's IAM policy against it.
RECORDED_CALLS = []


def record_calls(app_client, into, presigned=True):
    """Append each call of `app_client` to `into`; with presigned=False, skip
    presigned URLs (signed locally: no request is made)."""

    def record(params, model, context, **_):
        is_presigned = bool(context.get("is_presign_request"))
        if is_presigned and not presigned:
            return
        call = (model.service_model.service_name, model.name, dict(params))
        into.append(call + (is_presigned,) if presigned else call)

    app_client.meta.events.register("provide-client-params", record)


# The same calls by the Lambda function whose handler made them, for the check
# of each function's own policy: `api_handler` (Chalice's name for the REST
# API's function) for every `client.http` request, the function's name for
# every `client.lambda_.invoke`. Calls made outside the test client (a test
# calling chalicelib directly) are in RECORDED_CALLS only.
HANDLER_CALLS = defaultdict(list)

# The function the test client is running. A plain variable, not a contextvar:
# the debug view makes its HEADs on worker threads of its own, which a
# contextvar does not reach; the test client runs one handler at a time.
_running = [None]


def record_handler_calls(app_client, into):
    """Append each call `app_client` makes while the test client runs a handler
    to `into[function name]`, as (service, operation, params, presigned)."""

    def record(params, model, context, **_):
        function = _running[0]
        if function is not None:
            into[function].append(
                (
                    model.service_model.service_name,
                    model.name,
                    dict(params),
                    bool(context.get("is_presign_request")),
                )
            )

    app_client.meta.events.register("provide-client-params", record)


@contextlib.contextmanager
def _running_as(function):
    previous, _running[0] = _running[0], function
    try:
        yield
    finally:
        _running[0] = previous


def _attribute_calls_to_functions(test_client):
    request, invoke = test_client.http.request, test_client.lambda_.invoke

    def request_as_api(method, path, *args, **kwargs):
        with _running_as("api_handler"):
            answer = request(method, path, *args, **kwargs)
        _assert_as_described(method, path, answer)
        return answer

    def invoke_as_function(function_name, *args, **kwargs):
        with _running_as(function_name):
            return invoke(function_name, *args, **kwargs)

    # get/post/... call self.request, so the instance's attribute covers them.
    test_client.http.request = request_as_api
    test_client.lambda_.invoke = invoke_as_function


def _assert_as_described(method, path, answer):
    """Every answer any test gets through the client is one the API's
    description allows (tests/contract/answers.py)."""
    found = answers.problems(method, path, answer.status_code, answer.headers, answer.body)
    assert not found, f"{method} {path} answered {answer.status_code}: {found}"


@pytest.fixture
def aws():
    """Emulated S3 and DynamoDB holding what `make run` provisions."""
    with mock_aws():
        services.reset()
        settings = load_settings()
        s3 = boto3.client("s3", region_name=settings.region)
        dynamodb = boto3.client("dynamodb", region_name=settings.region)
        provision(s3, dynamodb, settings)
        for app_client in (app_aws.s3_client(), app_aws.dynamodb_client()):
            record_calls(app_client, RECORDED_CALLS)
            record_handler_calls(app_client, HANDLER_CALLS)
        yield SimpleNamespace(s3=s3, dynamodb=dynamodb, settings=settings)
        services.reset()


@pytest.fixture
def client(aws):
    with Client(app, stage_name="local") as test_client:
        _attribute_calls_to_functions(test_client)
        yield test_client


@pytest.fixture
def aws_calls(aws):
    """This test's AWS calls, as (service, operation, params)."""
    calls = []
    for app_client in (app_aws.s3_client(), app_aws.dynamodb_client()):
        record_calls(app_client, calls, presigned=False)
    return calls
