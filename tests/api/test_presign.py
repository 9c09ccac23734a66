"""POST /uploads: the presigned POST and its policy.

The emulator enforces no part of the policy, so these tests decode the policy
document and check each condition S3 would enforce.
"""

import base64
import json
import re
from datetime import datetime, timedelta, timezone

from chalicelib import aws as app_aws
from chalicelib import services
from tests.conftest import SEED_USERS
from tests.helpers import request_form, sign_in

ALICE = SEED_USERS[0]["Username"]


def decoded_policy(form):
    return json.loads(base64.b64decode(form["fields"]["policy"]))


def test_uploads_answers_201_with_a_fresh_key_and_a_form(client):
    session = sign_in(client, ALICE)
    first, second = request_form(client, session), request_form(client, session)
    assert re.fullmatch(r"[0-9a-f]{32}", first["key"])
    assert first["key"] != second["key"]
    assert first["fields"]["key"] == f"pending/{first['key']}"
    assert first["fields"]["x-amz-meta-username"] == ALICE
    assert first["maxBytes"] == 10 * 1024 * 1024


def test_the_policy_pins_key_size_type_and_owner(aws, client):
    form = request_form(client, sign_in(client, ALICE))
    conditions = decoded_policy(form)["conditions"]
    assert {"key": f"pending/{form['key']}"} in conditions
    assert {"bucket": aws.settings.bucket_name} in conditions
    assert ["content-length-range", 1, 10 * 1024 * 1024] in conditions
    assert ["starts-with", "$Content-Type", "image/"] in conditions
    assert {"x-amz-meta-username": ALICE} in conditions


def test_the_policy_expires_in_ten_minutes_as_the_answer_says(client):
    before = datetime.now(timezone.utc)
    form = request_form(client, sign_in(client, ALICE))
    expiry = datetime.strptime(decoded_policy(form)["expiration"], "%Y-%m-%dT%H:%M:%SZ")
    expiry = expiry.replace(tzinfo=timezone.utc)
    assert timedelta(minutes=9) < expiry - before <= timedelta(minutes=10, seconds=2)
    assert form["expiresAt"] == expiry.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_form_is_signed_with_sigv4(client):
    fields = request_form(client, sign_in(client, ALICE))["fields"]
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert fields["x-amz-credential"].endswith("/us-east-1/s3/aws4_request")
    assert "x-amz-signature" in fields and "AWSAccessKeyId" not in fields


def test_presign_makes_no_aws_call(client, aws_calls):
    session = sign_in(client, ALICE)
    aws_calls.clear()
    request_form(client, session)
    assert aws_calls == []


def test_on_aws_the_form_posts_to_the_regional_virtual_host(aws, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    services.reset()
    form = app_aws.s3_client().generate_presigned_post(aws.settings.bucket_name, "pending/x")
    assert form["url"] == f"https://{aws.settings.bucket_name}.s3.eu-west-1.amazonaws.com/"
