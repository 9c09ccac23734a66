"""The real local stack with S3 and SQS on LocalStack, whose S3 enforces the
POST policy, and DynamoDB on the stack's own moto server.

LocalStack and the stack start once per session. Without .venv-localstack
these tests skip, their reason one line naming the install step; CI sets
S3POLICY_REQUIRED=1, which turns that skip into a failure.
"""

import boto3
import pytest
import requests
from botocore.config import Config

from chalicelib.settings import load_settings
from devtools import localstack as localstack_runner
from tests.conftest import SEED_USERS
from tests.helpers import mark_suite
from tests.stack import running_stack

NOT_INSTALLED = f"LocalStack is not installed: {localstack_runner.INSTALL_STEP}"


def pytest_collection_modifyitems(config, items):
    mark_suite(
        items,
        "tests/s3policy/",
        pytest.mark.s3policy,
        available=localstack_runner.is_installed(),
        missing=NOT_INSTALLED,
        required_variable="S3POLICY_REQUIRED",
    )


@pytest.fixture(scope="session")
def localstack():
    """LocalStack's S3 and SQS: {"url", "pid", "lines"}."""
    with localstack_runner.running_localstack() as running:
        yield running


@pytest.fixture(scope="session")
def stack(localstack):
    """The app as `make run` serves it, its S3 and SQS clients on LocalStack
    (boto3's per-service endpoints), DynamoDB on its own moto server.

    LocalStack checks presigned URLs against the secret of its own
    credentials, so the app signs with them.
    """
    environ = {
        "AWS_ENDPOINT_URL_S3": localstack["url"],
        "AWS_ENDPOINT_URL_SQS": localstack["url"],
        **localstack_runner.CREDENTIALS,
    }
    with running_stack(extra_environ=environ) as running:
        yield running


@pytest.fixture(scope="session")
def s3(localstack):
    """A client on LocalStack's S3, to read back what the browser's POST stored."""
    return boto3.client(
        "s3",
        endpoint_url=localstack["url"],
        region_name=load_settings().region,
        aws_access_key_id=localstack_runner.CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=localstack_runner.CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(signature_version="s3v4"),
    )


@pytest.fixture(scope="session")
def bucket():
    return load_settings().bucket_name


@pytest.fixture
def sign_in(stack):
    """sign_in(index) -> a requests.Session signed in as that seed user, with
    `.base` the app's URL and `.username` the user."""

    def signed_in(index=0):
        session = requests.Session()
        session.base = stack["url"]
        session.username = SEED_USERS[index]["Username"]
        answer = session.put(session.base + "login", json={"username": session.username})
        assert answer.status_code == 204, answer.text
        return session

    return signed_in
