"""The S3 event handler: one JSON line per new pending upload."""

from tests.observability import log_lines


def test_a_pending_upload_event_is_logged_as_one_json_line(client, capsys):
    event = client.events.generate_s3_event(
        bucket="avatars-local", key="pending/0123456789abcdef0123456789abcdef"
    )

    client.lambda_.invoke("log_pending_upload", event)

    # Beside its metric (tests/api/test_observability.py).
    lines = log_lines(capsys.readouterr().out)
    assert len(lines) == 1
    logged = lines[0]
    assert logged["event"] == "pending_upload"
    assert logged["bucket"] == "avatars-local"
    assert logged["key"] == "pending/0123456789abcdef0123456789abcdef"
    assert logged["eventName"] == "ObjectCreated:Put"


def test_a_percent_encoded_key_from_s3_is_logged_decoded(client, capsys):
    event = client.events.generate_s3_event(bucket="avatars-local", key="pending/abc")
    event["Records"][0]["s3"]["object"]["key"] = "pending%2Fabc"
    event["Records"][0]["s3"]["object"]["size"] = 1234

    client.lambda_.invoke("log_pending_upload", event)

    (logged,) = log_lines(capsys.readouterr().out)
    assert logged["key"] == "pending/abc"
    assert logged["size"] == 1234


def test_the_handler_subscribes_to_pending_uploads_only(client):
    from app import app

    (subscription,) = [source for source in app.event_sources if hasattr(source, "bucket")]
    assert subscription.bucket == "avatars-local"
    assert subscription.prefix == "pending/"
    assert subscription.events == ["s3:ObjectCreated:*"]
