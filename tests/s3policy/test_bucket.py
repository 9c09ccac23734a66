"""What the bucket does around an upload, shown by an S3 that does it (LocalStack's):
presigned GETs checked, the lifecycle's expiry reported, events sent to SQS."""

import json
import queue
import re
import time

import requests

from chalicelib.lifecycle import expiry_from_header, expiry_from_rules
from chalicelib.timestamps import iso_utc
from tests.helpers import image_bytes
from tests.s3policy.browser import finalize, post_file, request_form


def test_a_presigned_avatar_url_loads_and_one_changed_character_of_its_signature_is_refused(
    sign_in,
):
    session = sign_in(0)
    form = request_form(session)
    assert post_file(form, image_bytes("PNG")).status_code == 204
    assert finalize(session, form["key"]).status_code == 200
    users = session.get(session.base + "users").json()["users"]
    url = {user["username"]: user for user in users}[session.username]["avatarUrl"]

    served = requests.get(url, timeout=10)
    tampered = requests.get(_change_one_signature_character(url), timeout=10)

    assert (served.status_code, served.headers["Content-Type"]) == (200, "image/webp")
    assert tampered.status_code == 403


def _change_one_signature_character(url):
    match = re.search(r"X-Amz-Signature=([0-9a-f]+)", url)
    assert match, url
    position = match.end() - 1
    return url[:position] + ("0" if url[position] != "0" else "1") + url[position + 1 :]


def test_s3_names_the_rule_and_day_a_pending_upload_expires_and_the_page_shows_that_day(
    sign_in, s3, bucket
):
    session = sign_in(1)
    form = request_form(session)
    assert post_file(form, image_bytes("PNG")).status_code == 204
    key = f"pending/{form['key']}"

    head = s3.head_object(Bucket=bucket, Key=key)
    shown = session.get(session.base + "debug/bucket").json()["objects"]

    assert 'rule-id="expire-pending-uploads"' in head["Expiration"]
    expiry = expiry_from_header(head["Expiration"])
    assert {entry["key"]: entry for entry in shown}[key]["expiration"] == iso_utc(expiry)
    # The date the page computes where S3 says nothing (moto): the same one.
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert expiry_from_rules(rules, key, head["LastModified"]) == expiry


def test_the_s3_event_of_a_pending_upload_reaches_the_handler_through_sqs(sign_in, stack):
    session = sign_in(2)
    form = request_form(session)
    content = image_bytes("PNG")
    assert post_file(form, content).status_code == 204

    logged = _log_lines_naming(stack["lines"], f"pending/{form['key']}", seconds=15)

    assert len(logged) == 1, logged
    assert logged[0]["event"] == "pending_upload"
    assert logged[0]["eventName"] == "ObjectCreated:Post"
    assert logged[0]["size"] == len(content)


def _log_lines_naming(lines, key, seconds):
    """The stack's JSON log lines about `key`: waits for the first, then a
    second more for any duplicate."""
    found = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line.startswith("{") and key in line:
            found.append(json.loads(line))
            deadline = min(deadline, time.monotonic() + 1)
    return found
