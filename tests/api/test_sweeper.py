"""The daily sweeper deletes old avatar objects no user points at, and nothing else."""

from datetime import datetime, timedelta, timezone

import moto.s3.models
import pytest

from tests.conftest import SEED_USERS
from tests.helpers import keys_under
from tests.observability import log_lines

OLD_ORPHAN = "avatars/" + "1" * 32
OLD_REFERENCED = "avatars/" + "2" * 32
YOUNG_ORPHAN = "avatars/" + "3" * 32
OLD_PENDING = "pending/" + "4" * 32


def put(aws, key):
    aws.s3.put_object(Bucket=aws.settings.bucket_name, Key=key, Body=b"x")


@pytest.fixture
def planted(aws, monkeypatch):
    """Objects two hours old (moto's clock turned back) and one just made."""
    two_hours_ago = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=2)
    with monkeypatch.context() as clock:
        clock.setattr(moto.s3.models, "utcnow", lambda: two_hours_ago)
        for key in (OLD_ORPHAN, OLD_REFERENCED, OLD_PENDING):
            put(aws, key)
    put(aws, YOUNG_ORPHAN)
    aws.dynamodb.update_item(
        TableName=aws.settings.table_name,
        Key={"Username": {"S": SEED_USERS[0]["Username"]}},
        UpdateExpression="SET Avatar = :avatar",
        ExpressionAttributeValues={":avatar": {"S": OLD_REFERENCED}},
    )
    # The seed user's previous avatar is now an orphan too, but a young one.
    return aws


def run_sweeper(client):
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    client.lambda_.invoke("sweep_orphaned_avatars", event)


def test_the_sweeper_deletes_old_orphans_only(planted, client):
    run_sweeper(client)

    remaining = keys_under(planted, "avatars/")
    assert OLD_ORPHAN not in remaining
    assert OLD_REFERENCED in remaining
    assert YOUNG_ORPHAN in remaining
    assert SEED_USERS[0]["Avatar"] in remaining  # unreferenced but young
    assert all(user["Avatar"] in remaining for user in SEED_USERS[1:])
    assert keys_under(planted, "pending/") == [OLD_PENDING]


def test_the_sweeper_logs_each_object_it_removes_as_one_json_line(planted, client, capsys):
    run_sweeper(client)

    lines = log_lines(capsys.readouterr().out)
    assert [(line["event"], line["key"]) for line in lines] == [("orphan_swept", OLD_ORPHAN)]


def test_the_sweeper_runs_daily(client):
    from app import app

    (schedule,) = [source for source in app.event_sources if hasattr(source, "schedule_expression")]
    assert schedule.schedule_expression.to_string() == "rate(1 day)"
