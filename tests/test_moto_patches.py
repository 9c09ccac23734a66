"""The embedded emulator's three patches close the gaps they claim to close.

On an unpatched moto 5.2.5 each race test fails in most runs: two conditional
puts of one key both succeed, a POSTed object is seen without its metadata,
or one old value is returned twice.
"""

import threading
import time

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.s3.models import S3Backend

BUCKET = "patch-test"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_a_conditional_put_onto_an_existing_key_is_refused_with_412(s3):
    s3.put_object(Bucket=BUCKET, Key="target", Body=b"one", IfNoneMatch="*")
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=BUCKET, Key="target", Body=b"two", IfNoneMatch="*")
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    assert s3.get_object(Bucket=BUCKET, Key="target")["Body"].read() == b"one"


def test_concurrent_conditional_puts_of_one_key_let_exactly_one_through(s3, monkeypatch):
    # Widen moto's window between its check and its write, as a busy server would.
    store = S3Backend.put_object

    def slow_store(self, *args, **kwargs):
        time.sleep(0.02)
        return store(self, *args, **kwargs)

    monkeypatch.setattr(S3Backend, "put_object", slow_store)
    for round_number in range(5):
        key = f"target-{round_number}"
        outcomes, start = [], threading.Barrier(8)

        def put(body):
            start.wait()
            try:
                s3.put_object(Bucket=BUCKET, Key=key, Body=body, IfNoneMatch="*")
                outcomes.append(body)
            except ClientError as error:
                outcomes.append(error.response["Error"]["Code"])

        threads = [threading.Thread(target=put, args=(f"body{i}".encode(),)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [outcome for outcome in outcomes if isinstance(outcome, bytes)]
        assert len(winners) == 1, outcomes
        assert outcomes.count("PreconditionFailed") == 7
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == winners[0]


def test_an_object_posted_by_a_browser_is_never_seen_without_its_metadata(s3, monkeypatch):
    # Widen moto's window between storing a POSTed object and setting its
    # metadata, as a busy server would.
    store = S3Backend.put_object

    def slow_store(self, *args, **kwargs):
        stored = store(self, *args, **kwargs)
        time.sleep(0.05)
        return stored

    monkeypatch.setattr(S3Backend, "put_object", slow_store)
    s3.put_object(Bucket=BUCKET, Key="upload", Body=b"old", Metadata={"username": "alice"})
    form = s3.generate_presigned_post(
        BUCKET, "upload", Fields={"x-amz-meta-username": "alice"}, ExpiresIn=60
    )
    seen, posted = [], threading.Event()

    def post():
        answer = requests.post(form["url"], data=form["fields"], files={"file": b"new"})
        assert answer.status_code == 204
        posted.set()

    poster = threading.Thread(target=post)
    poster.start()
    while not posted.is_set():
        seen.append(s3.head_object(Bucket=BUCKET, Key="upload")["Metadata"])
        got = s3.get_object(Bucket=BUCKET, Key="upload")
        seen.append(got["Metadata"])
    poster.join()
    assert seen and all(metadata == {"username": "alice"} for metadata in seen), seen


def test_concurrent_updates_of_one_item_each_return_a_distinct_old_value():
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="t",
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.put_item(TableName="t", Item={"k": {"S": "x"}, "v": {"S": "start"}})
        olds, start = [], threading.Barrier(8)

        def swap(value):
            start.wait()
            answer = dynamodb.update_item(
                TableName="t",
                Key={"k": {"S": "x"}},
                UpdateExpression="SET v = :v",
                ExpressionAttributeValues={":v": {"S": value}},
                ReturnValues="UPDATED_OLD",
            )
            olds.append(answer["Attributes"]["v"]["S"])

        for round_number in range(10):
            threads = [
                threading.Thread(target=swap, args=(f"round{round_number}-{i}",)) for i in range(8)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        # Serialized swaps form one chain: each value is replaced exactly once.
        assert len(olds) == len(set(olds)) == 80
