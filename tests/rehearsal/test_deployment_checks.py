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
from devtools.rehearse.stage import expected_environment, expected_function, function_config
from tests.infra.test_configure_stage import SAMPLE_OUTPUT_JSON

REGION = "eu-west-1"
ACCOUNT = "123456789012"
NAMES = {
    "bucket": "avatars-1a2b3c4d",
    "table": "avatars-users-1a2b3c4d",
    "parameter": "/avatars-1a2b3c4d/session-secret",
    "distribution_domain": "d111111abcdef8.cloudfront.net",
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
                "AVATAR_BASE_URL": SAMPLE_OUTPUT_JSON["avatar_base_url"]["value"],
                "DEBUG_ROUTES": "false",
            },
            "tags": {"Project": "avatars"},
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
            for name in (
                "s3",
                "lambda",
                "iam",
                "events",
                "apigateway",
                "ssm",
                "dynamodb",
                "logs",
                "cloudfront",
            )
        }
        clients["s3"].create_bucket(
            Bucket=NAMES["bucket"], CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield clients


def _deploy_logger(aws, environment=None, tags=None) -> dict:
    """The event logger as Chalice deploys it (its role, the function, its
    environment and tags) into the log group Terraform made for it."""
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
        Tags=function_config(CONFIG, LOGGER).tags if tags is None else tags,
    )
    aws["logs"].create_log_group(logGroupName=f"/aws/lambda/{name}")
    aws["logs"].put_retention_policy(logGroupName=f"/aws/lambda/{name}", retentionInDays=30)
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
        f"FAIL function {function['name']}: environment exactly the stage's 6 variables, "
        "bucket, table, parameter, upload limit, avatar URL (the distribution's) and debug "
        "routes as created and output (no endpoint, the secret's parameter name only): "
        "it names the emulator: AWS_ENDPOINT_URL"
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


def _check_logger(aws, function, config=CONFIG, document=SAMPLE_OUTPUT_JSON) -> list:
    return _run(
        aws,
        lambda checks: checks.check_function(
            function["name"], f"app.{LOGGER}", LOGGER, config, NAMES, document
        ),
    )


def test_a_function_deployed_as_configured_passes_its_environment_and_tags_checks(aws):
    function = _deploy_logger(aws)

    lines = _check_logger(aws, function)

    assert not _fails(lines, "environment exactly") and not _fails(lines, "tagged")
    assert f"ok  function {function['name']}: tagged as Terraform tags what it makes " in "\n".join(
        lines
    )


def test_a_function_whose_avatar_url_is_not_the_distributions_fails_its_environment_check(aws):
    environment = {
        **expected_environment(CONFIG, LOGGER),
        "AVATAR_BASE_URL": "https://avatars-1a2b3c4d.s3.amazonaws.com/",
    }
    function = _deploy_logger(aws, environment)

    [line] = _fails(_check_logger(aws, function), "environment exactly")
    assert line.endswith("extra [], missing [], different ['AVATAR_BASE_URL']")


def test_a_function_with_the_debug_routes_on_where_terraform_says_off_fails(aws):
    environment = {**expected_environment(CONFIG, LOGGER), "DEBUG_ROUTES": "true"}
    function = _deploy_logger(aws, environment)

    [line] = _fails(_check_logger(aws, function), "environment exactly")
    assert line.endswith("different ['DEBUG_ROUTES']")


def test_a_function_without_terraforms_tags_fails_its_tags_check(aws):
    function = _deploy_logger(aws, tags={"aws-chalice": "version=1.34.0:stage=dev:app=avatars"})

    [line] = _fails(_check_logger(aws, function), "tagged as Terraform tags")
    assert "'Project': 'avatars'" in line


def test_a_stage_whose_tags_lack_terraforms_fails_even_if_the_function_has_the_stages(aws):
    config = json.loads(json.dumps(CONFIG))
    config["stages"]["dev"]["tags"] = {}
    function = _deploy_logger(aws, tags=function_config(config, LOGGER).tags)

    [line] = _fails(_check_logger(aws, function, config), "tagged as Terraform tags")
    assert "lack Terraform's {'Project': 'avatars'}" in line


def _check_log_groups(aws):
    """The log group check of the API's function and the event logger."""
    lines = _run(
        aws,
        lambda checks: checks.check_log_groups(["avatars-dev", f"avatars-dev-{LOGGER}"], 30),
    )
    return [line for line in lines if "log groups:" in line]


def test_the_log_groups_must_be_exactly_the_functions_own_each_kept_as_long_as_terraform_says(aws):
    _deploy_logger(aws)
    aws["logs"].create_log_group(logGroupName="/aws/lambda/avatars-dev")
    aws["logs"].put_retention_policy(logGroupName="/aws/lambda/avatars-dev", retentionInDays=30)

    [line] = _check_log_groups(aws)
    assert line == "ok  log groups: exactly the 2 functions' own (Terraform's), each kept 30 days"


def test_a_log_group_named_for_the_api_handler_rather_than_its_function_fails(aws):
    _deploy_logger(aws)
    # What Chalice 1.34 makes with the stage's log_retention_in_days.
    for name in ("/aws/lambda/avatars-dev", "/aws/lambda/avatars-dev-api_handler"):
        aws["logs"].create_log_group(logGroupName=name)
        aws["logs"].put_retention_policy(logGroupName=name, retentionInDays=30)

    [line] = _check_log_groups(aws)
    assert line.startswith("FAIL log groups:")
    assert "/aws/lambda/avatars-dev-api_handler" in line


def test_a_log_group_kept_forever_fails(aws):
    _deploy_logger(aws)
    aws["logs"].create_log_group(logGroupName="/aws/lambda/avatars-dev")

    [line] = _check_log_groups(aws)
    assert line.startswith("FAIL log groups:")
    assert "retention {'/aws/lambda/avatars-dev': None, " in line
