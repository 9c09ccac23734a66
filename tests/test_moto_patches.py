"""The embedded emulator's two patches close the gaps they claim to close.

On an unpatched moto 5.2.5 the copy tests fail every time (the copies go
through) and the race test in most runs (one old value returned twice).
"""

import threading

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

BUCKET = "patch-test"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key="source", Body=b"one")
        yield client


def copy(s3, **conditions):
    return s3.copy_object(
        Bucket=BUCKET, Key="target", CopySource={"Bucket": BUCKET, "Key": "source"}, **conditions
    )


def test_a_copy_whose_source_etag_changed_is_refused_with_412(s3):
    old_etag = s3.head_object(Bucket=BUCKET, Key="source")["ETag"]
    s3.put_object(Bucket=BUCKET, Key="source", Body=b"two")
    with pytest.raises(ClientError) as refused:
        copy(s3, CopySourceIfMatch=old_etag)
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    assert "target" not in [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]


def test_a_copy_with_the_current_source_etag_goes_through(s3):
    etag = s3.head_object(Bucket=BUCKET, Key="source")["ETag"]
    copy(s3, CopySourceIfMatch=etag)
    assert s3.get_object(Bucket=BUCKET, Key="target")["Body"].read() == b"one"


def test_a_copy_onto_an_existing_key_with_if_none_match_is_refused_with_412(s3):
    copy(s3, IfNoneMatch="*")
    s3.put_object(Bucket=BUCKET, Key="source", Body=b"two")
    with pytest.raises(ClientError) as refused:
        copy(s3, IfNoneMatch="*")
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    assert s3.get_object(Bucket=BUCKET, Key="target")["Body"].read() == b"one"


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
