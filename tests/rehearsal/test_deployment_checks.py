"""The deployment checks fail a deployment that is wrong: built by hand in
moto's `mock_aws` as `chalice deploy` would build it, with one thing wrong."""

import io
import json
import zipfile

import boto3
import pytest
from moto import mock_aws

from devtools.rehearse.checks import Checks
from devtools.rehearse.deployment import DeploymentChecks
from devtools.rehearse.stage import expected_environment, expected_function
from tests.infra.test_configure_stage import SAMPLE_OUTPUT_JSON

REGION = "eu-west-1"
ACCOUNT = "123456789012"
NAMES = {
    "bucket": "avatars-1a2b3c4d",
    "table": "avatars-users-1a2b3c4d",
    "parameter": "/avatars-1a2b3c4d/session-secret",
}
LOGGER = "log_pending_upload"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
CONFIG = {
    "version": "2.0",
    "app_name": "avatars",
    "stages": {
        "dev": {
            "environment_variables": {
                "AVATAR_BUCKET": NAMES["bucket"],
                "USERS_TABLE": NAMES["table"],
                "SESSION_SECRET_PARAMETER": NAMES["parameter"],
                "MAX_UPLOAD_BYTES": str(SAMPLE_OUTPUT_JSON["max_upload_bytes"]["value"]),
            },
            "lambda_functions": {LOGGER: {"iam_policy_file": f"policy-dev-{LOGGER}.json"}},
        }
    },
}
S3_EVENT = {
    "name": LOGGER,
    "handler": f"app.{LOGGER}",
    "bucket": NAMES["bucket"],
    "events": ["s3:ObjectCreated:*"],
    "prefix": "pending/",
    "suffix": None,
}


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "")
    return buffer.getvalue()


@pytest.fixture
def aws():
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        clients = {
            name: session.client(name)
            for name in ("s3", "lambda", "iam", "events", "apigateway", "ssm", "dynamodb")
        }
        clients["s3"].create_bucket(
            Bucket=NAMES["bucket"], CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield clients


def _deploy_logger(aws, environment=None) -> dict:
    """The event logger as Chalice deploys it: its role, the function, its environment."""
    name = f"avatars-dev-{LOGGER}"
    role = aws["iam"].create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    expected = expected_function(CONFIG, LOGGER)
    function = aws["lambda"].create_function(
        FunctionName=name,
        Runtime=expected["runtime"],
        Role=role["Role"]["Arn"],
        Handler=f"app.{LOGGER}",
        Code={"ZipFile": _zip()},
        MemorySize=expected["memory"],
        Timeout=expected["timeout"],
        Environment={"Variables": environment or expected_environment(CONFIG, LOGGER)},
    )
    return {"arn": function["FunctionArn"], "name": name, "role": name}


def _run(aws, check) -> list:
    lines = []
    check(DeploymentChecks(aws, Checks(lines.append), "avatars", REGION, "aws", ACCOUNT))
    return lines


def _fails(lines, what) -> list:
    return [line for line in lines if line.startswith("FAIL ") and what in line]


def test_a_function_whose_environment_names_the_emulator_fails_its_environment_check(aws):
    environment = {**expected_environment(CONFIG, LOGGER), "AWS_ENDPOINT_URL": "http://x:5000"}
    function = _deploy_logger(aws, environment)

    lines = _run(
        aws,
        lambda checks: checks.check_function(
            function["name"], f"app.{LOGGER}", LOGGER, CONFIG, NAMES, SAMPLE_OUTPUT_JSON
        ),
    )

    assert _fails(lines, "environment exactly") == [
        f"FAIL function {function['name']}: environment exactly the stage's 4 variables, "
        "bucket, table, parameter and upload limit as created and output (no endpoint, "
        "the secret's parameter name only): it names the emulator: AWS_ENDPOINT_URL"
    ]


def test_a_function_whose_bucket_is_not_the_one_created_fails_even_if_config_agrees(aws):
    config = json.loads(json.dumps(CONFIG))
    config["stages"]["dev"]["environment_variables"]["AVATAR_BUCKET"] = "someone-elses"
    environment = expected_environment(config, LOGGER)
    function = _deploy_logger(aws, environment)

    lines = _run(
        aws,
        lambda checks: checks.check_function(
            function["name"], f"app.{LOGGER}", LOGGER, config, NAMES, SAMPLE_OUTPUT_JSON
        ),
    )

    [line] = _fails(lines, "environment exactly")
    assert line.endswith("extra [], missing [], different ['AVATAR_BUCKET']")


def test_a_role_with_a_managed_policy_attached_fails(aws):
    function = _deploy_logger(aws)
    policy = aws["iam"].create_policy(
        PolicyName="everything",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    aws["iam"].attach_role_policy(RoleName=function["role"], PolicyArn=policy["Policy"]["Arn"])

    lines = _run(
        aws,
        lambda checks: checks.check_function(
            function["name"], f"app.{LOGGER}", LOGGER, CONFIG, NAMES, SAMPLE_OUTPUT_JSON
        ),
    )

    [line] = _fails(lines, "has no managed policy attached")
    assert "everything" in line
    assert not _fails(lines, "may be assumed by")


def test_a_role_another_service_may_assume_too_fails_its_trust_check(aws):
    function = _deploy_logger(aws)
    trust = json.loads(json.dumps(LAMBDA_TRUST))
    ec2 = {**trust["Statement"][0], "Principal": {"Service": "ec2.amazonaws.com"}}
    trust["Statement"].append(ec2)
    aws["iam"].update_assume_role_policy(
        RoleName=function["role"], PolicyDocument=json.dumps(trust)
    )

    lines = _run(
        aws,
        lambda checks: checks.check_function(
            function["name"], f"app.{LOGGER}", LOGGER, CONFIG, NAMES, SAMPLE_OUTPUT_JSON
        ),
    )

    [line] = _fails(lines, "may be assumed by lambda.amazonaws.com only")
    assert "ec2.amazonaws.com" in line


def test_a_notification_without_the_prefix_fails(aws):
    function = _deploy_logger(aws)
    aws["s3"].put_bucket_notification_configuration(
        Bucket=NAMES["bucket"],
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": function["arn"], "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )

    lines = _run(aws, lambda checks: checks.check_s3_event(S3_EVENT, function, NAMES))

    [line] = _fails(lines, "notifies")
    assert line.endswith("filter rules {}, expected {'prefix': 'pending/'}")


def test_a_grant_beyond_the_buckets_fails_the_exact_permissions(aws):
    function = _deploy_logger(aws)
    for statement, principal, source in (
        ("s3", "s3.amazonaws.com", f"arn:aws:s3:::{NAMES['bucket']}"),
        ("extra", "sns.amazonaws.com", f"arn:aws:sns:{REGION}:{ACCOUNT}:topic"),
    ):
        aws["lambda"].add_permission(
            FunctionName=function["arn"],
            StatementId=statement,
            Action="lambda:InvokeFunction",
            Principal=principal,
            SourceArn=source,
            SourceAccount=ACCOUNT,
        )

    lines = _run(aws, lambda checks: checks.check_s3_event(S3_EVENT, function, NAMES))

    [line] = _fails(lines, "may invoke it")
    assert line.startswith(f"FAIL function {function['name']}: only s3.amazonaws.com")
    assert "sns.amazonaws.com" in line
