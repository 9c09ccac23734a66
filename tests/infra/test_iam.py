"""tests/infra/iam.py on its own: each mapping of a call to IAM requests, and
each element and operator of the policy evaluation."""

import base64
import json

import pytest

from tests.infra.iam import (
    ALLOWED,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    Call,
    CallContext,
    Request,
    Unmodelled,
    evaluate,
    grants,
    iam_requests,
)

CONTEXT = CallContext(region="eu-west-1", account="123456789012")
BUCKET = "arn:aws:s3:::photos"
TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/users"


def requests_of(service, operation, params, presigned=False, status=None):
    return iam_requests(Call(service, operation, params, presigned, status), CONTEXT)


def actions_on(requests):
    return [(request.action, request.resource) for request in requests]


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action="s3:GetObject", resource=f"{BUCKET}/*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="s3:GetObject", resource=f"{BUCKET}/*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def request(action="s3:GetObject", resource=f"{BUCKET}/a.png", **keys):
    """`s3__max_keys="5"` is the key s3:max-keys."""
    named = {name.replace("__", ":").replace("_", "-"): value for name, value in keys.items()}
    return Request.of(action, resource, named)


# Calls to requests: S3 ----------------------------------------------------------


def test_an_operation_the_mapper_does_not_know_raises():
    with pytest.raises(Unmodelled, match="s3:PutBucketPolicy"):
        requests_of("s3", "PutBucketPolicy", {"Bucket": "photos", "Policy": "{}"})


def test_a_parameter_the_mapper_does_not_know_raises():
    with pytest.raises(Unmodelled, match="RequestPayer"):
        requests_of(
            "s3", "GetObject", {"Bucket": "photos", "Key": "a", "RequestPayer": "requester"}
        )


def test_every_request_carries_the_global_keys_and_s3_how_it_was_signed():
    (sent,) = requests_of("s3", "GetObject", {"Bucket": "photos", "Key": "a"})
    (presigned,) = requests_of("s3", "GetObject", {"Bucket": "photos", "Key": "a"}, presigned=True)
    assert sent.value("aws:SecureTransport") == ("true",)
    assert sent.value("AWS:requestedregion") == ("eu-west-1",)  # key names ignore case
    assert sent.value("s3:authType") == ("REST-HEADER",)
    assert presigned.value("s3:authType") == ("REST-QUERY-STRING",)


def test_get_and_head_object_read_the_object_and_a_404_needs_the_bucket_listed():
    for operation in ("GetObject", "HeadObject"):
        found = requests_of("s3", operation, {"Bucket": "photos", "Key": "a", "IfNoneMatch": "x"})
        assert actions_on(found) == [("s3:GetObject", f"{BUCKET}/a")]
        missing = requests_of("s3", operation, {"Bucket": "photos", "Key": "a"}, status=404)
        assert actions_on(missing) == [("s3:GetObject", f"{BUCKET}/a"), ("s3:ListBucket", BUCKET)]


def test_get_object_of_a_version_needs_get_object_version_instead():
    (read,) = requests_of("s3", "GetObject", {"Bucket": "photos", "Key": "a", "VersionId": "v1"})
    assert read.action == "s3:GetObjectVersion" and read.value("s3:versionid") == ("v1",)


def test_put_object_carries_its_headers_as_condition_keys():
    params = {
        "Bucket": "photos",
        "Key": "a",
        "Body": b"x",
        "IfNoneMatch": "*",
        "ServerSideEncryption": "AES256",
        "StorageClass": "STANDARD_IA",
        "Metadata": {"owner": "alice"},
    }
    (put,) = requests_of("s3", "PutObject", params)
    assert (put.action, put.resource) == ("s3:PutObject", f"{BUCKET}/a")
    assert put.value("s3:if-none-match") == ("*",)
    assert put.value("s3:x-amz-server-side-encryption") == ("AES256",)
    assert put.value("s3:x-amz-storage-class") == ("STANDARD_IA",)


def test_put_object_with_tags_needs_put_object_tagging():
    params = {"Bucket": "photos", "Key": "a", "Tagging": "team=web&tier=1"}
    put, tagging = requests_of("s3", "PutObject", params)
    assert (tagging.action, tagging.resource) == ("s3:PutObjectTagging", f"{BUCKET}/a")
    for sent in (put, tagging):
        assert sent.value("s3:RequestObjectTagKeys") == ("team", "tier")
        assert sent.value("s3:RequestObjectTag/team") == ("web",)


@pytest.mark.parametrize(
    "params, key, value",
    [
        ({"ACL": "public-read"}, "s3:x-amz-acl", "public-read"),
        ({"GrantRead": "id=abc"}, "s3:x-amz-grant-read", "id=abc"),
        ({"GrantFullControl": "id=abc"}, "s3:x-amz-grant-full-control", "id=abc"),
    ],
)
def test_put_object_with_an_acl_or_a_grant_needs_put_object_acl(params, key, value):
    put, acl = requests_of("s3", "PutObject", {"Bucket": "photos", "Key": "a", **params})
    assert acl.action == "s3:PutObjectAcl" and acl.value(key) == (value,)
    assert put.value(key) == (value,)


def test_put_object_with_object_lock_needs_retention_and_legal_hold():
    params = {
        "Bucket": "photos",
        "Key": "a",
        "ObjectLockMode": "GOVERNANCE",
        "ObjectLockRetainUntilDate": "2030-01-01T00:00:00Z",
        "ObjectLockLegalHoldStatus": "ON",
    }
    found = requests_of("s3", "PutObject", params)
    assert [r.action for r in found] == [
        "s3:PutObject",
        "s3:PutObjectRetention",
        "s3:PutObjectLegalHold",
    ]
    assert found[1].value("s3:object-lock-mode") == ("GOVERNANCE",)


def test_put_object_with_a_customer_managed_kms_key_needs_generate_data_key_on_it():
    key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
    params = {"Bucket": "photos", "Key": "a", "ServerSideEncryption": "aws:kms"}
    (put,) = requests_of("s3", "PutObject", params)  # the AWS-managed aws/s3 key
    assert put.value("s3:x-amz-server-side-encryption") == ("aws:kms",)
    put, generate = requests_of("s3", "PutObject", {**params, "SSEKMSKeyId": key_id})
    assert put.value("s3:x-amz-server-side-encryption-aws-kms-key-id") == (key_id,)
    assert (generate.action, generate.resource) == (
        "kms:GenerateDataKey",
        f"arn:aws:kms:eu-west-1:123456789012:key/{key_id}",
    )
    assert generate.value("kms:ViaService") == ("s3.eu-west-1.amazonaws.com",)
    assert generate.value("kms:EncryptionContext:aws:s3:arn") == (f"{BUCKET}/a",)
    with pytest.raises(Unmodelled, match="alias"):
        requests_of("s3", "PutObject", {**params, "SSEKMSKeyId": "alias/photos"})


def test_copy_object_reads_the_source_and_writes_the_target():
    params = {"Bucket": "photos", "Key": "b", "CopySource": {"Bucket": "old", "Key": "a"}}
    read, write = requests_of("s3", "CopyObject", params)
    assert actions_on([read, write]) == [
        ("s3:GetObject", "arn:aws:s3:::old/a"),
        ("s3:PutObject", f"{BUCKET}/b"),
    ]
    assert write.value("s3:x-amz-copy-source") == ("old/a",)
    assert write.value("s3:x-amz-metadata-directive") == ("COPY",)
    versioned = {**params, "CopySource": "old/a%20b?versionId=v2"}
    read, _ = requests_of("s3", "CopyObject", versioned)
    assert (read.action, read.resource) == ("s3:GetObjectVersion", "arn:aws:s3:::old/a b")


def test_copy_object_replacing_the_tags_needs_put_object_tagging():
    params = {"Bucket": "photos", "Key": "b", "CopySource": "old/a", "Tagging": "k=v"}
    assert len(requests_of("s3", "CopyObject", params)) == 2  # S3 ignores Tagging with COPY
    replaced = requests_of("s3", "CopyObject", {**params, "TaggingDirective": "REPLACE"})
    assert [r.action for r in replaced] == ["s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"]


def test_delete_objects_needs_delete_object_on_each_key():
    delete = {"Objects": [{"Key": "a"}, {"Key": "b", "VersionId": "v"}], "Quiet": True}
    found = requests_of("s3", "DeleteObjects", {"Bucket": "photos", "Delete": delete})
    assert actions_on(found) == [
        ("s3:DeleteObject", f"{BUCKET}/a"),
        ("s3:DeleteObjectVersion", f"{BUCKET}/b"),
    ]
    bypass = {"Bucket": "photos", "Delete": {"Objects": [{"Key": "a"}]}}
    bypass["BypassGovernanceRetention"] = True
    assert [r.action for r in requests_of("s3", "DeleteObjects", bypass)] == [
        "s3:DeleteObject",
        "s3:BypassGovernanceRetention",
    ]


def test_listing_needs_list_bucket_with_the_prefix_only_when_one_is_sent():
    (listed,) = requests_of("s3", "ListObjectsV2", {"Bucket": "photos", "Prefix": "avatars/"})
    assert (listed.action, listed.resource) == ("s3:ListBucket", BUCKET)
    assert listed.value("s3:prefix") == ("avatars/",)
    (everything,) = requests_of("s3", "ListObjectsV2", {"Bucket": "photos", "MaxKeys": 10})
    assert everything.value("s3:prefix") is None
    assert everything.value("s3:max-keys") == ("10",)


def test_reading_the_lifecycle_rules_needs_get_lifecycle_configuration():
    found = requests_of("s3", "GetBucketLifecycleConfiguration", {"Bucket": "photos"})
    assert actions_on(found) == [("s3:GetLifecycleConfiguration", BUCKET)]


def post_form(fields, conditions):
    document = {"expiration": "2030-01-01T00:00:00Z", "conditions": conditions}
    policy_field = base64.b64encode(json.dumps(document).encode()).decode()
    return {"Bucket": "photos", "Fields": {**fields, "policy": policy_field}}


def test_a_browser_post_of_a_form_is_put_object_signed_by_post():
    form = post_form(
        {"key": "pending/a", "x-amz-meta-owner": "alice", "x-amz-signature": "s"},
        [{"bucket": "photos"}, {"key": "pending/a"}, ["starts-with", "$Content-Type", "image/"]],
    )
    (put,) = requests_of("s3", "PostObject", form, presigned=True)
    assert (put.action, put.resource) == ("s3:PutObject", f"{BUCKET}/pending/a")
    assert put.value("s3:authType") == ("POST",)


def test_a_form_with_an_acl_or_tags_needs_their_actions():
    tagging = "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"
    form = post_form({"key": "a", "tagging": tagging}, [{"acl": "private"}])
    put, acl, tags = requests_of("s3", "PostObject", form, presigned=True)
    assert (acl.action, acl.value("s3:x-amz-acl")) == ("s3:PutObjectAcl", ("private",))
    assert (tags.action, tags.value("s3:RequestObjectTag/k")) == ("s3:PutObjectTagging", ("v",))


def test_a_form_letting_the_browser_choose_what_iam_checks_raises():
    with pytest.raises(Unmodelled, match="choose 'acl'"):
        requests_of("s3", "PostObject", post_form({"key": "a"}, [["starts-with", "$acl", ""]]))
    with pytest.raises(Unmodelled, match="unknown-field"):
        requests_of("s3", "PostObject", post_form({"key": "a", "unknown-field": "x"}, []))
    with pytest.raises(Unmodelled, match="key the browser chooses"):
        requests_of("s3", "PostObject", post_form({"key": "up/${filename}"}, []))


def test_a_presigned_post_recorded_without_its_form_raises():
    with pytest.raises(Unmodelled, match="without its form"):
        requests_of("s3", "CreateBucket", {"Bucket": "photos"}, presigned=True)


# Calls to requests: DynamoDB, SSM, Logs ---------------------------------------------


def test_get_item_is_on_the_table_with_its_partition_key():
    params = {"TableName": "users", "Key": {"Username": {"S": "alice"}}, "ConsistentRead": True}
    (read,) = requests_of("dynamodb", "GetItem", params)
    assert (read.action, read.resource) == ("dynamodb:GetItem", TABLE)
    assert read.value("dynamodb:LeadingKeys") == ("alice",)


def test_a_conditional_update_returning_values_needs_only_update_item():
    params = {
        "TableName": "users",
        "Key": {"Username": {"S": "alice"}},
        "UpdateExpression": "SET Avatar = :a",
        "ConditionExpression": "attribute_exists(Username)",
        "ExpressionAttributeValues": {":a": {"S": "avatars/x"}},
        "ReturnValues": "UPDATED_OLD",
    }
    (update,) = requests_of("dynamodb", "UpdateItem", params)
    assert (update.action, update.resource) == ("dynamodb:UpdateItem", TABLE)
    assert update.value("dynamodb:ReturnValues") == ("UPDATED_OLD",)


def test_put_item_names_the_attributes_it_writes():
    item = {"Username": {"S": "alice"}, "Name": {"S": "Alice"}}
    (put,) = requests_of("dynamodb", "PutItem", {"TableName": "users", "Item": item})
    assert put.action == "dynamodb:PutItem"
    assert put.value("dynamodb:Attributes") == ("Username", "Name")


def test_scan_and_query_are_on_the_table_or_its_index():
    (scan,) = requests_of("dynamodb", "Scan", {"TableName": "users", "ExclusiveStartKey": {}})
    assert (scan.action, scan.resource) == ("dynamodb:Scan", TABLE)
    projected = {
        "TableName": "users",
        "IndexName": "by-name",
        "ProjectionExpression": "#n, Avatar",
        "ExpressionAttributeNames": {"#n": "Name"},
        "KeyConditionExpression": "#n = :n",
    }
    (query,) = requests_of("dynamodb", "Query", projected)
    assert (query.action, query.resource) == ("dynamodb:Query", f"{TABLE}/index/by-name")
    assert query.value("dynamodb:Attributes") == ("Name", "Avatar")


def test_get_parameter_with_decryption_needs_only_get_parameter():
    for name in ("/app/secret", "app/secret"):
        (read,) = requests_of("ssm", "GetParameter", {"Name": name, "WithDecryption": True})
        assert (read.action, read.resource) == (
            "ssm:GetParameter",
            "arn:aws:ssm:eu-west-1:123456789012:parameter/app/secret",
        )


def test_the_log_calls_are_on_the_group_and_its_stream():
    group = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f"
    stream = {"logGroupName": "/aws/lambda/f", "logStreamName": "s"}
    assert actions_on(requests_of("logs", "CreateLogGroup", {"logGroupName": "/aws/lambda/f"})) == [
        ("logs:CreateLogGroup", f"{group}:log-stream:")
    ]
    assert actions_on(requests_of("logs", "CreateLogStream", stream)) == [
        ("logs:CreateLogStream", f"{group}:log-stream:s")
    ]
    assert actions_on(requests_of("logs", "PutLogEvents", {**stream, "logEvents": []})) == [
        ("logs:PutLogEvents", f"{group}:log-stream:s")
    ]


# Evaluation: statements ----------------------------------------------------------


def test_an_allow_that_matches_allows_and_nothing_is_an_implicit_deny():
    assert evaluate(policy(allow()), request()) == ALLOWED
    assert evaluate(policy(allow()), request("s3:PutObject")) == IMPLICIT_DENY
    assert evaluate(policy(), request()) == IMPLICIT_DENY


def test_a_deny_wins_over_an_allow_wherever_it_is():
    assert evaluate(policy(allow(), deny()), request()) == EXPLICIT_DENY
    assert evaluate(policy(deny(), allow()), request()) == EXPLICIT_DENY
    assert evaluate(policy(deny()), request()) == EXPLICIT_DENY


def test_a_single_statement_object_is_a_policy_too():
    assert evaluate({"Version": "2012-10-17", "Statement": allow()}, request()) == ALLOWED


def test_actions_match_with_wildcards_and_ignore_case():
    for pattern in ("s3:*", "S3:getobject", "s3:Get*", "s3:Get?bject", "*"):
        assert evaluate(policy(allow(pattern)), request()) == ALLOWED, pattern
    assert evaluate(policy(allow("s3:Get?")), request()) == IMPLICIT_DENY
    assert evaluate(policy(allow("dynamodb:*")), request()) == IMPLICIT_DENY


def test_resources_match_with_wildcards_part_by_part_and_case_sensitively():
    assert (
        evaluate(policy(allow(resource=f"{BUCKET}/*")), request(resource=f"{BUCKET}/a/b"))
        == ALLOWED
    )
    assert evaluate(policy(allow(resource=f"{BUCKET}/?.png")), request()) == ALLOWED
    assert evaluate(policy(allow(resource="arn:aws:s3:::Photos/*")), request()) == IMPLICIT_DENY
    assert evaluate(policy(allow(resource=BUCKET)), request()) == IMPLICIT_DENY
    logs = "arn:aws:logs:*:123456789012:log-group:/aws/lambda/f:*"
    stream = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f:log-stream:s"
    assert evaluate(policy(allow("logs:*", logs)), request("logs:PutLogEvents", stream)) == ALLOWED
    other = stream.replace("/f:", "/g:")
    assert (
        evaluate(policy(allow("logs:*", logs)), request("logs:PutLogEvents", other))
        == IMPLICIT_DENY
    )


def test_not_action_matches_every_action_but_those_it_names():
    everything_but_iam = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    assert evaluate(policy(everything_but_iam), request()) == ALLOWED
    assert evaluate(policy(everything_but_iam), request("iam:CreateUser", "*")) == IMPLICIT_DENY
    only_reads = {"Effect": "Deny", "NotAction": ["s3:Get*", "s3:List*"], "Resource": "*"}
    assert evaluate(policy(allow("s3:*"), only_reads), request()) == ALLOWED
    assert evaluate(policy(allow("s3:*"), only_reads), request("s3:PutObject")) == EXPLICIT_DENY


def test_not_resource_matches_every_resource_but_those_it_names():
    outside_public = {"Effect": "Deny", "Action": "s3:*", "NotResource": f"{BUCKET}/public/*"}
    everything = allow("s3:*", "*")
    public = request(resource=f"{BUCKET}/public/a.png")
    assert evaluate(policy(everything, outside_public), public) == ALLOWED
    assert evaluate(policy(everything, outside_public), request()) == EXPLICIT_DENY


def test_what_an_identity_policy_cannot_hold_raises():
    for bad in (
        {"Version": "2008-10-17", "Statement": [allow()]},
        policy({**allow(), "Principal": "*"}),
        policy({**allow(), "NotAction": "s3:PutObject"}),
        policy({"Effect": "Allow", "Action": "s3:GetObject"}),
        policy({**allow(), "Effect": "Audit"}),
        policy(allow(resource="arn:aws:s3:::photos/${aws:username}/*")),
        policy(allow(resource="photos/*")),
    ):
        with pytest.raises(Unmodelled):
            evaluate(bad, request())


def test_grants_refuses_an_allow_it_cannot_enumerate():
    assert [(a, r) for _, a, r in grants(policy(allow(["s3:GetObject", "s3:PutObject"])))] == [
        ("s3:GetObject", f"{BUCKET}/*"),
        ("s3:PutObject", f"{BUCKET}/*"),
    ]
    with pytest.raises(Unmodelled, match="NotAction"):
        list(grants(policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})))


# Evaluation: conditions ----------------------------------------------------------


def decide(condition, **keys):
    return evaluate(policy(allow(Condition=condition)), request(**keys))


def test_string_equals_is_exact_and_case_sensitive_and_its_values_are_ored():
    condition = {"StringEquals": {"s3:prefix": ["avatars/", "web/"]}}
    assert decide(condition, s3__prefix="web/") == ALLOWED
    assert decide(condition, s3__prefix="Web/") == IMPLICIT_DENY
    assert decide(condition) == IMPLICIT_DENY  # the key is absent
    assert decide({"StringEqualsIgnoreCase": {"s3:prefix": "WEB/"}}, s3__prefix="web/") == ALLOWED


def test_keys_and_operators_are_anded_and_key_names_ignore_case():
    condition = {
        "StringEquals": {"S3:Prefix": "a/", "s3:delimiter": "/"},
        "NumericLessThanEquals": {"s3:max-keys": "10"},
    }
    assert decide(condition, s3__prefix="a/", s3__delimiter="/", s3__max_keys="5") == ALLOWED
    assert decide(condition, s3__prefix="a/", s3__delimiter="/", s3__max_keys="11") == IMPLICIT_DENY
    assert decide(condition, s3__prefix="a/", s3__max_keys="5") == IMPLICIT_DENY
    assert decide(condition, s3__prefix="b/", s3__delimiter="/", s3__max_keys="5") == IMPLICIT_DENY


def test_string_like_matches_wildcards():
    assert decide({"StringLike": {"s3:prefix": "avatars/*"}}, s3__prefix="avatars/x") == ALLOWED
    assert decide({"StringLike": {"s3:prefix": "avatars/*"}}, s3__prefix="web/x") == IMPLICIT_DENY


def test_negated_operators_hold_for_an_absent_key_and_when_no_value_matches():
    condition = {"StringNotEquals": {"s3:prefix": ["avatars/", "web/"]}}
    assert decide(condition, s3__prefix="pending/") == ALLOWED
    assert decide(condition, s3__prefix="web/") == IMPLICIT_DENY
    assert decide(condition) == ALLOWED
    assert decide({"StringNotLike": {"s3:prefix": "a*"}}, s3__prefix="abc") == IMPLICIT_DENY


def test_arn_operators_match_part_by_part():
    condition = {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::photos*"}}
    assert decide(condition, aws__SourceArn="arn:aws:s3:::photos-2") == ALLOWED
    assert decide(condition, aws__SourceArn="arn:aws:s3:::other") == IMPLICIT_DENY
    assert decide({"ArnEquals": {"aws:SourceArn": BUCKET}}, aws__SourceArn=BUCKET) == ALLOWED
    assert decide({"ArnNotLike": {"aws:SourceArn": BUCKET}}, aws__SourceArn=BUCKET) == IMPLICIT_DENY


def test_bool_compares_true_and_false():
    assert decide({"Bool": {"aws:SecureTransport": "true"}}, aws__SecureTransport="true") == ALLOWED
    assert decide({"Bool": {"aws:SecureTransport": True}}, aws__SecureTransport="true") == ALLOWED
    assert (
        decide({"Bool": {"aws:SecureTransport": "false"}}, aws__SecureTransport="true")
        == IMPLICIT_DENY
    )
    assert decide({"Bool": {"aws:SecureTransport": "true"}}) == IMPLICIT_DENY


def test_null_tests_whether_the_key_is_absent():
    assert decide({"Null": {"s3:if-none-match": "true"}}) == ALLOWED
    assert decide({"Null": {"s3:if-none-match": "true"}}, s3__if_none_match="*") == IMPLICIT_DENY
    assert decide({"Null": {"s3:if-none-match": "false"}}, s3__if_none_match="*") == ALLOWED


def test_numeric_operators_compare_numbers():
    assert decide({"NumericLessThan": {"s3:max-keys": 10}}, s3__max_keys="9") == ALLOWED
    assert (
        decide({"NumericGreaterThanEquals": {"s3:max-keys": "10"}}, s3__max_keys="9")
        == IMPLICIT_DENY
    )
    assert decide({"NumericNotEquals": {"s3:max-keys": "10"}}, s3__max_keys="10") == IMPLICIT_DENY
    with pytest.raises(Unmodelled):
        decide({"NumericEquals": {"s3:max-keys": "ten"}}, s3__max_keys="10")


def test_if_exists_holds_for_an_absent_key_and_checks_a_present_one():
    condition = {"StringEqualsIfExists": {"s3:prefix": "avatars/"}}
    assert decide(condition) == ALLOWED
    assert decide(condition, s3__prefix="avatars/") == ALLOWED
    assert decide(condition, s3__prefix="web/") == IMPLICIT_DENY


def tags(*keys):
    return Request.of("s3:PutObject", f"{BUCKET}/a.png", {"s3:RequestObjectTagKeys": keys})


def test_for_any_value_needs_one_value_to_match_and_an_absent_key_fails():
    condition = {"ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": ["team", "tier"]}}
    statement = allow("s3:PutObject", Condition=condition)
    assert evaluate(policy(statement), tags("team", "other")) == ALLOWED
    assert evaluate(policy(statement), tags("other")) == IMPLICIT_DENY
    assert evaluate(policy(statement), tags()) == IMPLICIT_DENY


def test_for_all_values_needs_every_value_to_match_and_an_absent_key_passes():
    condition = {"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team", "tier"]}}
    statement = allow("s3:PutObject", Condition=condition)
    assert evaluate(policy(statement), tags("team", "tier")) == ALLOWED
    assert evaluate(policy(statement), tags("team", "other")) == IMPLICIT_DENY
    assert evaluate(policy(statement), tags()) == ALLOWED
    negated = {"ForAllValues:StringNotEquals": {"s3:RequestObjectTagKeys": "secret"}}
    assert evaluate(policy(allow("s3:PutObject", Condition=negated)), tags("a", "b")) == ALLOWED
    assert (
        evaluate(policy(allow("s3:PutObject", Condition=negated)), tags("a", "secret"))
        == IMPLICIT_DENY
    )


def test_a_single_valued_operator_on_a_key_with_several_values_raises():
    statement = allow("s3:PutObject", Condition={"StringEquals": {"s3:RequestObjectTagKeys": "a"}})
    with pytest.raises(Unmodelled, match="several values"):
        evaluate(policy(statement), tags("a", "b"))


@pytest.mark.parametrize(
    "operator",
    [
        "DateGreaterThan",
        "IpAddress",
        "BinaryEquals",
        "StringEqualz",
        "Any:StringEquals",
        "NullIfExists",
    ],
)
def test_an_operator_the_evaluator_does_not_know_raises(operator):
    with pytest.raises(Unmodelled, match="condition operator"):
        decide({operator: {"s3:prefix": "x"}}, s3__prefix="x")


def test_a_condition_is_evaluated_for_deny_statements_too():
    insecure = deny("*", "*", Condition={"Bool": {"aws:SecureTransport": "false"}})
    assert evaluate(policy(allow(), insecure), request(aws__SecureTransport="true")) == ALLOWED
    assert (
        evaluate(policy(allow(), insecure), request(aws__SecureTransport="false")) == EXPLICIT_DENY
    )
