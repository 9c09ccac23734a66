"""The `dev` stage's IAM policy allows every call the code makes, and nothing more.

The calls come from the app's own boto3 clients (botocore's event hooks): those
of a walk through every route below, plus every call recorded by the other
tests of this run. Each is mapped to the IAM action and resource AWS checks.
"""

import dataclasses
import fnmatch
import json

import boto3
import pytest

from chalicelib import auth, services
from chalicelib import aws as app_aws
from devtools.configure_stage import render_policy
from tests.conftest import RECORDED_CALLS, SEED_USERS, record_calls
from tests.helpers import finalize, image_bytes, request_form, sign_in, upload

ACCOUNT = "123456789012"
SECRET_PARAMETER = "/avatars-test/session-secret"
# The Lambda runtime writes these, not the code.
RUNTIME_ONLY = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}


def iam_requests(call, settings):
    """(action, resource ARN) pairs that AWS authorizes for one recorded call."""
    service, operation, params, presigned = call
    if presigned and operation == "CreateBucket":
        # botocore resolves a presigned POST's endpoint as if for CreateBucket;
        # the POST itself is a PutObject, which the walk below records by key.
        return []
    bucket = f"arn:aws:s3:::{params.get('Bucket')}"
    table = f"arn:aws:dynamodb:{settings.region}:{ACCOUNT}:table/{params.get('TableName')}"
    if service == "s3":
        if operation in ("GetObject", "HeadObject"):
            return [("s3:GetObject", f"{bucket}/{params['Key']}")]
        if operation == "PutObject":
            return [("s3:PutObject", f"{bucket}/{params['Key']}")]
        if operation == "CopyObject":
            source = params["CopySource"]
            return [
                ("s3:GetObject", f"arn:aws:s3:::{source['Bucket']}/{source['Key']}"),
                ("s3:PutObject", f"{bucket}/{params['Key']}"),
            ]
        if operation == "DeleteObjects":
            return [
                ("s3:DeleteObject", f"{bucket}/{entry['Key']}")
                for entry in params["Delete"]["Objects"]
            ]
        if operation == "ListObjectsV2":
            return [("s3:ListBucket", bucket)]
        if operation == "GetBucketLifecycleConfiguration":
            return [("s3:GetLifecycleConfiguration", bucket)]
    if service == "dynamodb" and operation in ("Scan", "GetItem", "UpdateItem"):
        return [(f"dynamodb:{operation}", table)]
    if service == "ssm" and operation == "GetParameter":
        name = params["Name"]
        return [("ssm:GetParameter", f"arn:aws:ssm:{settings.region}:{ACCOUNT}:parameter{name}")]
    raise AssertionError(
        f"the code calls {service}:{operation}, which this test cannot map to IAM: "
        "add it here and, if needed, to devtools/configure_stage.render_policy"
    )


def allowing_statements(policy, action, resource):
    return [
        statement
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow"
        and any(fnmatch.fnmatchcase(action, pattern) for pattern in statement["Action"])
        and any(fnmatch.fnmatchcase(resource, pattern) for pattern in statement["Resource"])
    ]


@pytest.fixture
def policy(aws):
    return render_policy(
        {
            "bucket_name": aws.settings.bucket_name,
            "table_arn": f"arn:aws:dynamodb:{aws.settings.region}:{ACCOUNT}:table/"
            f"{aws.settings.table_name}",
            "session_secret_parameter_arn": f"arn:aws:ssm:{aws.settings.region}:{ACCOUNT}:"
            f"parameter{SECRET_PARAMETER}",
        }
    )


@pytest.fixture
def walk(aws, client, monkeypatch):
    """Every route, every finalize branch, and the dev stage's secret read."""
    calls = []
    for app_client in (app_aws.s3_client(), app_aws.dynamodb_client()):
        record_calls(app_client, calls)
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
    services.sweep_orphaned_avatars()
    # The browser's POST is signed with the Lambda role's credentials, so S3
    # checks PutObject on the key against this policy. No boto3 call shows it.
    for form in forms:
        calls.append(
            (
                "s3",
                "PutObject",
                {"Bucket": aws.settings.bucket_name, "Key": form["fields"]["key"]},
                True,
            )
        )

    boto3.client("ssm", region_name=aws.settings.region).put_parameter(
        Name=SECRET_PARAMETER, Value="s3cret", Type="SecureString"
    )
    dev_settings = dataclasses.replace(
        aws.settings, session_secret=None, session_secret_parameter=SECRET_PARAMETER
    )
    monkeypatch.setattr(auth, "load_settings", lambda: dev_settings)
    auth.forget_secret()
    record_calls(app_aws.ssm_client(), calls)
    assert auth._signing_secret() == b"s3cret"
    auth.forget_secret()
    return calls


def test_the_policy_allows_every_call_the_code_makes(aws, policy, walk):
    denied = sorted(
        {
            request
            for call in walk + RECORDED_CALLS
            for request in iam_requests(call, aws.settings)
            if not allowing_statements(policy, *request)
        }
    )
    assert denied == [], json.dumps(denied, indent=1)


def test_the_policy_allows_nothing_the_code_never_does(aws, policy, walk):
    used = {request for call in walk for request in iam_requests(call, aws.settings)}
    for statement in policy["Statement"]:
        for action in statement["Action"]:
            if action in RUNTIME_ONLY:
                continue
            for pattern in statement["Resource"]:
                assert any(
                    used_action == action and fnmatch.fnmatchcase(resource, pattern)
                    for used_action, resource in used
                ), f"{statement['Sid']} allows {action} on {pattern}, which no code path uses"


def test_the_policy_grants_logs_only_with_a_wildcard(policy):
    for statement in policy["Statement"]:
        wildcards = [r for r in statement["Resource"] if r.endswith(":*:*:*")]
        assert not wildcards or set(statement["Action"]) == RUNTIME_ONLY


def test_a_call_outside_the_policy_is_caught(aws, policy):
    # The check itself can fail: a write to web/ is not something the app does.
    call = ("s3", "PutObject", {"Bucket": aws.settings.bucket_name, "Key": "web/index.html"}, False)
    (request,) = iam_requests(call, aws.settings)
    assert allowing_statements(policy, *request) == []
