"""Shared fixtures: an emulated AWS (moto, in process) and the Chalice test client.

The `local` stage's variables are exported before `app` is imported, and any
emulator endpoint is removed: `mock_aws` does not intercept a client with a
custom endpoint, so a test would leave the mock.
"""

import json
import os
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


def record_calls(app_client, into):
    """Append each call of `app_client` to `into` as (service, operation,
    params); presigned URLs are signed locally and make no request, so they
    are left out."""

    def record(params, model, context, **_):
        if not context.get("is_presign_request"):
            into.append((model.service_model.service_name, model.name, dict(params)))

    app_client.meta.events.register("provide-client-params", record)


def _check_every_answer(test_client):
    request = test_client.http.request

    def request_and_check(method, path, *args, **kwargs):
        answer = request(method, path, *args, **kwargs)
        _assert_as_described(method, path, answer)
        return answer

    # get/post/... call self.request, so the instance's attribute covers them.
    test_client.http.request = request_and_check


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
        yield SimpleNamespace(s3=s3, dynamodb=dynamodb, settings=settings)
        services.reset()


@pytest.fixture
def client(aws):
    with Client(app, stage_name="local") as test_client:
        _check_every_answer(test_client)
        yield test_client


@pytest.fixture
def aws_calls(aws):
    """This test's AWS calls, as (service, operation, params)."""
    calls = []
    for app_client in (app_aws.s3_client(), app_aws.dynamodb_client()):
        record_calls(app_client, calls)
    return calls
