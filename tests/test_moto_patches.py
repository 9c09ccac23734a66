"""The embedded emulator's patches close the gaps they claim to close.

On an unpatched moto 5.2.5 each race test fails in most runs: two conditional
puts of one key both succeed, a POSTed object is seen without its metadata,
or one old value is returned twice. The deploy tests fail every time: a filter
rule named `Prefix` is refused, and so is Chalice's Swagger document.
"""

import json
import threading
import time

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from chalice.deploy.swagger import SwaggerGenerator
from moto import mock_aws
from moto.s3.models import S3Backend

from app import app

BUCKET = "patch-test"
REGION = "us-east-1"
API_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:avatars-dev"


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


@pytest.mark.parametrize("prefix_name, suffix_name", [("Prefix", "Suffix"), ("prefix", "suffix")])
def test_a_notification_filter_named_in_either_case_is_stored_and_filters_keys(
    s3, prefix_name, suffix_name
):
    # Chalice names the rules `Prefix`; the local stack's event bridge `prefix`.
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    rules = [{"Name": prefix_name, "Value": "pending/"}, {"Name": suffix_name, "Value": ".png"}]
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": rules}},
                }
            ],
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": API_FUNCTION_ARN,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": rules}},
                }
            ],
        },
    )

    stored = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    for configuration in stored["QueueConfigurations"] + stored["LambdaFunctionConfigurations"]:
        found = configuration["Filter"]["Key"]["FilterRules"]
        assert {rule["Name"].lower(): rule["Value"] for rule in found} == {
            "prefix": "pending/",
            "suffix": ".png",
        }
    for key in ("pending/a.png", "pending/b.txt", "avatars/c.png", "a.png"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    keys = []
    while True:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        if not answer.get("Messages"):
            break
        for message in answer["Messages"]:
            body = json.loads(message["Body"])
            keys.extend(record["s3"]["object"]["key"] for record in body.get("Records", []))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert [key.replace("%2F", "/") for key in keys] == ["pending/a.png"]


def _chalice_swagger(description=None):
    """The document `chalice deploy` sends for this app: Swagger 2.0, no description."""
    document = SwaggerGenerator(REGION, {"api_handler_arn": API_FUNCTION_ARN}).generate_swagger(app)
    assert document["swagger"] == "2.0" and "description" not in document["info"]
    if description is not None:
        document["info"]["description"] = description
    return document


def _routes_of(apigateway, api_id):
    resources = apigateway.get_resources(restApiId=api_id, embed=["methods"])["items"]
    return {
        resource["path"]: sorted(resource["resourceMethods"])
        for resource in resources
        if resource.get("resourceMethods")
    }, resources


@pytest.mark.parametrize("description", [None, "with a description"])
def test_chalices_swagger_2_document_imports_as_one_api_with_every_route(description):
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name=REGION)
        api_id = apigateway.import_rest_api(body=json.dumps(_chalice_swagger(description)))["id"]

        # One API, made whole: moto used to create it before refusing Swagger 2.0.
        assert [api["id"] for api in apigateway.get_rest_apis()["items"]] == [api_id]
        assert apigateway.get_rest_api(restApiId=api_id).get("description") == description
        routes, resources = _routes_of(apigateway, api_id)
        assert routes == {path: sorted(methods) for path, methods in app.routes.items()}
        uri = (
            f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
            f"{API_FUNCTION_ARN}/invocations"
        )
        for resource in resources:
            for method in resource.get("resourceMethods") or {}:
                integration = apigateway.get_integration(
                    restApiId=api_id, resourceId=resource["id"], httpMethod=method
                )
                assert integration["type"].upper() == "AWS_PROXY"
                assert integration["uri"] == uri


def test_chalices_swagger_2_document_replaces_an_api_on_a_second_deploy():
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name=REGION)
        api_id = apigateway.create_rest_api(name="avatars")["id"]
        apigateway.put_rest_api(
            restApiId=api_id, mode="overwrite", body=json.dumps(_chalice_swagger())
        )

        routes, _ = _routes_of(apigateway, api_id)
        assert routes == {path: sorted(methods) for path, methods in app.routes.items()}
