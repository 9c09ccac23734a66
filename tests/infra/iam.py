"""IAM for the tests, in plain Python: what AWS authorizes for a boto3 call, and
what an identity policy decides about it. No AWS, no emulator.

`iam_requests(call, context)` turns one recorded call into the authorization
requests AWS makes for it: an action, a resource ARN and the request's
condition-key values, following the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html,
list_amazondynamodb.html, list_awssystemsmanager.html, list_amazoncloudwatchlogs.html)
and the S3 API reference's "Permissions" sections. Request parameters that need
another action (an object's tags, ACL, object lock, a KMS key) map to that
action too. An operation or a parameter it does not know raises `Unmodelled`:
a check built on it fails rather than passes by ignoring what it cannot see.

`evaluate(policy, request)` applies IAM's policy evaluation logic for one
identity-based policy
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
an explicit Deny wins, then an Allow, else the request is implicitly denied.
Conditions follow "IAM JSON policy elements: Condition operators"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html)
and "Single-valued vs. multivalued context keys"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
Not modelled, and so raising: Principal (resource-based policies), policy
variables (`${...}`), the Date, IpAddress and Binary operators, a
single-valued operator on a key with several values, and every other policy
type (SCPs, permission boundaries, session policies, resource policies).
"""

import base64
import functools
import json
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple
from urllib.parse import parse_qsl, unquote, urlencode
from xml.etree import ElementTree

ALLOWED = "allowed"
IMPLICIT_DENY = "implicit deny"
EXPLICIT_DENY = "explicit deny"


class Unmodelled(Exception):
    """A call, parameter, policy element or operator this module does not model."""


class Call(NamedTuple):
    """One boto3 call as the tests record it. `presigned`: signed locally for a
    browser to send (a presigned URL, or, for operation "PostObject", the
    fields of a presigned POST form). `status`: the HTTP status AWS answered,
    when the call was sent."""

    service: str
    operation: str
    params: dict
    presigned: bool = False
    status: Optional[int] = None


@dataclass(frozen=True)
class CallContext:
    """Where the calls are made: ARNs name the region and the account."""

    region: str
    account: str


@dataclass(frozen=True)
class Request:
    """One authorization request: an action on a resource, with the values of
    the condition keys the request carries (every value a tuple of strings)."""

    action: str
    resource: str
    keys: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()

    @classmethod
    def of(cls, action: str, resource: str, keys: Optional[Dict[str, object]] = None):
        normalized = {}
        for name, value in (keys or {}).items():
            values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
            normalized[name] = tuple(str(item) for item in values)
        return cls(action, resource, tuple(sorted(normalized.items())))

    def value(self, key: str) -> Optional[Tuple[str, ...]]:
        """The key's values, or None if the request does not carry it. Key
        names are case-insensitive."""
        for name, values in self.keys:
            if name.lower() == key.lower():
                return values
        return None

    def with_keys(self, extra: Dict[str, object]) -> "Request":
        return Request.of(self.action, self.resource, {**dict(self.keys), **extra})

    def __str__(self):
        keys = ", ".join(f"{name}={'|'.join(values)}" for name, values in self.keys)
        return f"{self.action} on {self.resource} [{keys}]"


# ---------------------------------------------------------------------------
# Calls to requests


def iam_requests(call, context: CallContext) -> List[Request]:
    """The requests AWS authorizes for `call` (a `Call`, or a tuple of its fields)."""
    call = Call(*call)
    mapper = _MAPPERS.get((call.service, call.operation))
    if mapper is None:
        raise Unmodelled(
            f"{call.service}:{call.operation} is not mapped to IAM: add it to tests/infra/iam.py"
        )
    requests = mapper(call, context)
    return [
        request.with_keys({"aws:SecureTransport": "true", "aws:RequestedRegion": context.region})
        for request in requests
    ]


def _check_params(call: Call, known: Iterable[str]):
    unknown = sorted(set(call.params) - set(known))
    if unknown:
        raise Unmodelled(
            f"{call.service}:{call.operation} with {', '.join(unknown)}: whether that needs "
            "another action or carries a condition key is not modelled (tests/infra/iam.py)"
        )


# S3 ------------------------------------------------------------------------


def _names(text: str) -> set:
    return set(text.split())


_S3_COMMON = _names("Bucket ExpectedBucketOwner")
_CHECKSUMS = _names(
    "ChecksumAlgorithm ChecksumCRC32 ChecksumCRC32C ChecksumCRC64NVME ChecksumSHA1 ChecksumSHA256"
)
_SSE_C = _names("SSECustomerAlgorithm SSECustomerKey SSECustomerKeyMD5")
# Written as they are: no action of their own, no condition key.
_OBJECT_HEADERS = _names(
    "ContentType ContentLength ContentMD5 ContentEncoding ContentLanguage ContentDisposition "
    "CacheControl Expires Metadata"
)
_ACL_GRANTS = {
    "GrantFullControl": "s3:x-amz-grant-full-control",
    "GrantRead": "s3:x-amz-grant-read",
    "GrantReadACP": "s3:x-amz-grant-read-acp",
    "GrantWriteACP": "s3:x-amz-grant-write-acp",
}
# Parameters of an object write that are condition keys of s3:PutObject.
_PUT_KEYS = {
    "ServerSideEncryption": "s3:x-amz-server-side-encryption",
    "SSEKMSKeyId": "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "StorageClass": "s3:x-amz-storage-class",
    "WebsiteRedirectLocation": "s3:x-amz-website-redirect-location",
    "IfNoneMatch": "s3:if-none-match",
    "IfMatch": "s3:if-match",
}
_OBJECT_LOCK = {
    "ObjectLockMode": ("s3:PutObjectRetention", "s3:object-lock-mode"),
    "ObjectLockRetainUntilDate": ("s3:PutObjectRetention", "s3:object-lock-retain-until-date"),
    "ObjectLockLegalHoldStatus": ("s3:PutObjectLegalHold", "s3:object-lock-legal-hold"),
}
_WRITE_PARAMS = (
    _S3_COMMON | _CHECKSUMS | _SSE_C | _OBJECT_HEADERS
    | set(_ACL_GRANTS) | set(_PUT_KEYS) | set(_OBJECT_LOCK)
    | _names("Key Body ACL Tagging SSEKMSEncryptionContext BucketKeyEnabled")
)  # fmt: skip


def _s3_keys(call: Call, auth_type: Optional[str] = None) -> dict:
    """Keys every S3 request carries: how it was signed and sent
    (https://docs.aws.amazon.com/AmazonS3/latest/API/bucket-policy-s3-sigv4-conditions.html)."""
    if auth_type is None:
        auth_type = "REST-QUERY-STRING" if call.presigned else "REST-HEADER"
    return {"s3:authType": auth_type, "s3:signatureversion": "AWS4-HMAC-SHA256"}


def _bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def _object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _get_object(call: Call, context: CallContext) -> List[Request]:
    """GetObject and HeadObject: s3:GetObject, or s3:GetObjectVersion for a
    VersionId. An answer of 404 means the role may also list the bucket: S3
    answers 403 for a missing key to a caller without s3:ListBucket
    (API_GetObject.html, API_HeadObject.html, "Permissions").

    Not knowable from the parameters: kms:Decrypt on the key of an object stored
    with SSE-KMS (this app's bucket uses SSE-S3), and the object's own tags
    (s3:ExistingObjectTag/<key>), which are left out of the request.
    """
    _check_params(
        call,
        _S3_COMMON
        | _SSE_C
        | _names(
            "Key VersionId IfMatch IfNoneMatch IfModifiedSince IfUnmodifiedSince Range "
            "PartNumber ChecksumMode ResponseCacheControl ResponseContentDisposition "
            "ResponseContentEncoding ResponseContentLanguage ResponseContentType ResponseExpires"
        ),
    )
    bucket, key = call.params["Bucket"], call.params["Key"]
    keys = _s3_keys(call)
    action = "s3:GetObject"
    if "VersionId" in call.params:
        action = "s3:GetObjectVersion"
        keys["s3:versionid"] = call.params["VersionId"]
    requests = [Request.of(action, _object_arn(bucket, key), keys)]
    if call.status == 404:
        requests.append(Request.of("s3:ListBucket", _bucket_arn(bucket), _s3_keys(call)))
    return requests


def _put_object(call: Call, context: CallContext, auth_type: Optional[str] = None):
    _check_params(call, _WRITE_PARAMS)
    return _object_write(call.params, call, context, auth_type)


def _object_write(params: dict, call: Call, context: CallContext, auth_type=None):
    """s3:PutObject on the key, and what its parameters add
    (list_amazons3.html, "API operations": PutObject):
    - Tagging: s3:PutObjectTagging, with s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys;
    - ACL and Grant*: s3:PutObjectAcl, with s3:x-amz-acl and s3:x-amz-grant-*;
    - ObjectLockMode and ObjectLockRetainUntilDate: s3:PutObjectRetention;
      ObjectLockLegalHoldStatus: s3:PutObjectLegalHold;
    - SSE-KMS with a customer-managed key (SSEKMSKeyId): kms:GenerateDataKey on that key
      (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html).
      Without a key id S3 uses the AWS-managed aws/s3 key, whose key policy
      lets the account's principals use it through S3: no IAM statement needed.
      A bucket whose default encryption is a customer-managed key needs the
      same, but that is the bucket's setting, not a parameter: not modelled.
    """
    bucket, key = params["Bucket"], params["Key"]
    object_arn = _object_arn(bucket, key)
    common = _s3_keys(call, auth_type)
    put_keys = dict(common)
    for param, condition_key in _PUT_KEYS.items():
        if param in params:
            put_keys[condition_key] = params[param]
    extra = []

    acl_keys = {"s3:x-amz-acl": params["ACL"]} if "ACL" in params else {}
    acl_keys.update({_ACL_GRANTS[p]: params[p] for p in _ACL_GRANTS if p in params})
    if acl_keys:
        put_keys.update(acl_keys)
        extra.append(Request.of("s3:PutObjectAcl", object_arn, {**common, **acl_keys}))

    tags = dict(parse_qsl(params.get("Tagging", ""), keep_blank_values=True))
    if "Tagging" in params:
        tag_keys = {f"s3:RequestObjectTag/{name}": value for name, value in tags.items()}
        tag_keys["s3:RequestObjectTagKeys"] = tuple(tags)
        put_keys.update(tag_keys)
        extra.append(Request.of("s3:PutObjectTagging", object_arn, {**common, **tag_keys}))

    lock_actions = {}
    for param, (action, condition_key) in _OBJECT_LOCK.items():
        if param in params:
            value = params[param]
            value = value.isoformat() if hasattr(value, "isoformat") else value
            put_keys[condition_key] = value
            lock_actions.setdefault(action, {})[condition_key] = value
    extra.extend(
        Request.of(action, object_arn, {**common, **keys}) for action, keys in lock_actions.items()
    )

    # Without a key id, aws:kms means the AWS-managed aws/s3 key: nothing to add.
    if "SSEKMSKeyId" in params:
        extra.append(
            Request.of(
                "kms:GenerateDataKey",
                _kms_key_arn(params["SSEKMSKeyId"], context),
                {
                    "kms:ViaService": f"s3.{context.region}.amazonaws.com",
                    "kms:CallerAccount": context.account,
                    # With an S3 Bucket Key the encryption context is the bucket's.
                    "kms:EncryptionContext:aws:s3:arn": _bucket_arn(bucket)
                    if params.get("BucketKeyEnabled")
                    else object_arn,
                },
            )
        )
    return [Request.of("s3:PutObject", object_arn, put_keys)] + extra


def _kms_key_arn(key_id: str, context: CallContext) -> str:
    if key_id.startswith("arn:") and ":key/" in key_id:
        return key_id
    if re.fullmatch(r"(mrk-)?[0-9a-f-]{32,36}", key_id):
        return f"arn:aws:kms:{context.region}:{context.account}:key/{key_id}"
    raise Unmodelled(
        f"SSEKMSKeyId {key_id!r}: an alias; IAM authorizes the key it names, which only KMS knows"
    )


def _copy_object(call: Call, context: CallContext) -> List[Request]:
    """The source is read (s3:GetObject, or s3:GetObjectVersion with a
    versionId), the target written as PutObject writes it. New tags
    (TaggingDirective REPLACE with Tagging) need s3:PutObjectTagging. Not
    knowable from the parameters: with the default COPY directive S3 copies
    the source's tags, which needs s3:GetObjectTagging on the source and
    s3:PutObjectTagging on the target only if the source has tags."""
    copy_params = _names(
        "CopySource MetadataDirective TaggingDirective CopySourceIfMatch CopySourceIfNoneMatch "
        "CopySourceIfModifiedSince CopySourceIfUnmodifiedSince CopySourceSSECustomerAlgorithm "
        "CopySourceSSECustomerKey CopySourceSSECustomerKeyMD5 ExpectedSourceBucketOwner"
    )
    _check_params(call, (_WRITE_PARAMS - {"Body", "ContentLength", "ContentMD5"}) | copy_params)
    source = call.params["CopySource"]
    if isinstance(source, str):
        path, _, query = source.lstrip("/").partition("?")
        source_bucket, _, source_key = path.partition("/")
        source = {"Bucket": source_bucket, "Key": unquote(source_key)}
        version = dict(parse_qsl(query)).get("versionId")
        if version is not None:
            source["VersionId"] = version
    read_action = "s3:GetObjectVersion" if "VersionId" in source else "s3:GetObject"
    read = Request.of(read_action, _object_arn(source["Bucket"], source["Key"]), _s3_keys(call))
    written = {
        name: value
        for name, value in call.params.items()
        if name not in copy_params and not (name == "Tagging" and _tagging_kept(call.params))
    }
    requests = _object_write(written, call, context)
    target = requests[0].with_keys(
        {
            "s3:x-amz-copy-source": f"{source['Bucket']}/{source['Key']}",
            "s3:x-amz-metadata-directive": call.params.get("MetadataDirective", "COPY"),
        }
    )
    return [read, target] + requests[1:]


def _tagging_kept(params: dict) -> bool:
    """S3 ignores Tagging unless TaggingDirective is REPLACE."""
    return params.get("TaggingDirective", "COPY") != "REPLACE"


# The fields of a browser's POST (RESTObjectPOST.html) as PutObject's parameters.
_POST_FIELDS = {
    "content-type": "ContentType",
    "cache-control": "CacheControl",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "expires": "Expires",
    "acl": "ACL",
    "tagging": "Tagging",
    "x-amz-server-side-encryption": "ServerSideEncryption",
    "x-amz-server-side-encryption-aws-kms-key-id": "SSEKMSKeyId",
    "x-amz-server-side-encryption-context": "SSEKMSEncryptionContext",
    "x-amz-server-side-encryption-bucket-key-enabled": "BucketKeyEnabled",
    "x-amz-server-side-encryption-customer-algorithm": "SSECustomerAlgorithm",
    "x-amz-server-side-encryption-customer-key": "SSECustomerKey",
    "x-amz-server-side-encryption-customer-key-md5": "SSECustomerKeyMD5",
    "x-amz-storage-class": "StorageClass",
    "x-amz-website-redirect-location": "WebsiteRedirectLocation",
    "x-amz-object-lock-mode": "ObjectLockMode",
    "x-amz-object-lock-retain-until-date": "ObjectLockRetainUntilDate",
    "x-amz-object-lock-legal-hold": "ObjectLockLegalHoldStatus",
    "x-amz-checksum-algorithm": "ChecksumAlgorithm",
}
# Fields that sign or steer the form, or are named by the policy only to limit them.
_POST_FORM_FIELDS = _names(
    "key bucket file policy x-amz-algorithm x-amz-credential x-amz-date x-amz-signature "
    "x-amz-security-token success_action_redirect success_action_status redirect "
    "content-length-range"
)
# Parameters whose value is a condition key or decides an action: the
# request's value must be known.
_VALUED = set(_PUT_KEYS) | set(_ACL_GRANTS) | set(_OBJECT_LOCK) | {"ACL", "Tagging"}


def _post_object(call: Call, context: CallContext) -> List[Request]:
    """A browser's POST of a presigned form: S3 authorizes it as s3:PutObject
    by the role that signed it, with s3:authType POST. What the browser may
    send is the form's fields and those its policy's conditions name (the
    page adds Content-Type under ["starts-with", "$Content-Type", "image/"])."""
    _check_params(call, {"Bucket", "Fields"})
    fields = {name.lower(): value for name, value in call.params["Fields"].items()}
    sent = dict(fields)
    policy = json.loads(base64.b64decode(fields["policy"]))
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            for name, value in condition.items():
                sent.setdefault(name.lower(), value)
        elif condition[0] in ("eq", "starts-with"):
            name = condition[1].lstrip("$").lower()
            sent.setdefault(name, condition[2] if condition[0] == "eq" else None)
    key = sent["key"]
    if key is None or "${filename}" in key:
        raise Unmodelled("a form whose key the browser chooses: its object ARN is unknown")
    params = {"Bucket": call.params["Bucket"], "Key": key}
    for name, value in sent.items():
        if name in _POST_FORM_FIELDS or name.startswith(("x-amz-meta-", "x-amz-checksum-")):
            continue
        if name not in _POST_FIELDS:
            raise Unmodelled(f"a POST form field {name!r} is not modelled")
        param = _POST_FIELDS[name]
        if value is None and param in _VALUED:
            raise Unmodelled(f"the form lets the browser choose {name!r}, which IAM checks")
        params[param] = _tagging_query(value) if param == "Tagging" else value
    return _object_write(params, call, context, auth_type="POST")


def _tagging_query(document: str) -> str:
    """A POST form's `tagging` (XML) as PutObject's Tagging (a query string)."""
    pairs = []
    for element in ElementTree.fromstring(document).iter():
        if _local_name(element) == "Tag":
            parts = {_local_name(child): child.text or "" for child in element}
            pairs.append((parts.get("Key", ""), parts.get("Value", "")))
    return urlencode(pairs)


def _local_name(element) -> str:
    return element.tag.split("}")[-1]


def _delete_objects(call: Call, context: CallContext) -> List[Request]:
    """s3:DeleteObject on each key (s3:DeleteObjectVersion with a VersionId);
    BypassGovernanceRetention also needs s3:BypassGovernanceRetention."""
    _check_params(
        call, _S3_COMMON | {"Delete", "MFA", "BypassGovernanceRetention", "ChecksumAlgorithm"}
    )
    bucket = call.params["Bucket"]
    delete = call.params["Delete"]
    if set(delete) - {"Objects", "Quiet"}:
        raise Unmodelled(f"DeleteObjects with {sorted(set(delete) - {'Objects', 'Quiet'})}")
    requests = []
    for entry in delete["Objects"]:
        if set(entry) - {"Key", "VersionId", "ETag", "LastModifiedTime", "Size"}:
            raise Unmodelled(f"DeleteObjects of an object given by {sorted(entry)}")
        arn = _object_arn(bucket, entry["Key"])
        keys = _s3_keys(call)
        action = "s3:DeleteObject"
        if "VersionId" in entry:
            action = "s3:DeleteObjectVersion"
            keys["s3:versionid"] = entry["VersionId"]
        requests.append(Request.of(action, arn, keys))
        if call.params.get("BypassGovernanceRetention"):
            requests.append(Request.of("s3:BypassGovernanceRetention", arn, _s3_keys(call)))
    return requests


def _delete_object(call: Call, context: CallContext) -> List[Request]:
    """As DeleteObjects of one object."""
    _check_params(
        call,
        _S3_COMMON
        | _names("Key VersionId MFA BypassGovernanceRetention IfMatch IfMatchLastModifiedTime")
        | _names("IfMatchSize"),
    )
    entry = {name: call.params[name] for name in ("Key", "VersionId") if name in call.params}
    params = {"Bucket": call.params["Bucket"], "Delete": {"Objects": [entry]}}
    if call.params.get("BypassGovernanceRetention"):
        params["BypassGovernanceRetention"] = True
    return _delete_objects(call._replace(params=params), context)


def _list_objects(call: Call, context: CallContext) -> List[Request]:
    """ListObjects(V2): s3:ListBucket on the bucket, with s3:prefix,
    s3:delimiter and s3:max-keys when the request sets them (no Prefix, no
    s3:prefix key: a Null check or ...IfExists sees it absent)."""
    _check_params(
        call,
        _S3_COMMON
        | _names("Prefix Delimiter MaxKeys EncodingType ContinuationToken StartAfter FetchOwner")
        | _names("Marker"),
    )
    keys = _s3_keys(call)
    for param, condition_key in (
        ("Prefix", "s3:prefix"),
        ("Delimiter", "s3:delimiter"),
        ("MaxKeys", "s3:max-keys"),
    ):
        if param in call.params:
            keys[condition_key] = call.params[param]
    return [Request.of("s3:ListBucket", _bucket_arn(call.params["Bucket"]), keys)]


def _bucket_action(action):
    def mapper(call: Call, context: CallContext) -> List[Request]:
        _check_params(call, _S3_COMMON)
        return [Request.of(action, _bucket_arn(call.params["Bucket"]), _s3_keys(call))]

    return mapper


def _presigned_post_without_form(call: Call, context: CallContext):
    """botocore builds a presigned POST's URL as if for CreateBucket; only the
    form's fields say what S3 will authorize (operation "PostObject")."""
    if call.presigned:
        raise Unmodelled(
            "a presigned POST recorded without its form: record it as PostObject with its fields"
        )
    raise Unmodelled("s3:CreateBucket: the app creates no bucket")


# DynamoDB ------------------------------------------------------------------

_DYNAMODB_COMMON = {"TableName", "ReturnConsumedCapacity"}
_EXPRESSIONS = {"ExpressionAttributeNames", "ExpressionAttributeValues"}


def _table_arn(call: Call, context: CallContext) -> str:
    table = call.params["TableName"]
    if table.startswith("arn:"):
        return table
    arn = f"arn:aws:dynamodb:{context.region}:{context.account}:table/{table}"
    if "IndexName" in call.params:
        arn += f"/index/{call.params['IndexName']}"
    return arn


def _dynamodb_keys(call: Call) -> dict:
    """Condition keys of the fine-grained access control page
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html):
    dynamodb:LeadingKeys for a Key of one attribute (with two, which is the
    partition key is the table's schema: not modelled, the key is left out),
    dynamodb:Attributes for a projection or a whole item, dynamodb:Select,
    dynamodb:ReturnValues, dynamodb:ReturnConsumedCapacity. ConditionExpression
    and UpdateExpression need no action of their own; the attributes an
    UpdateExpression writes are not parsed into dynamodb:Attributes."""
    params = call.params
    keys = {}
    if "Key" in params and len(params["Key"]) == 1:
        (value,) = params["Key"].values()
        (scalar,) = value.values()
        keys["dynamodb:LeadingKeys"] = scalar
    attributes = None
    if "ProjectionExpression" in params:
        names = params.get("ExpressionAttributeNames", {})
        attributes = [
            names.get(path.strip().split(".")[0].split("[")[0], path.strip())
            for path in params["ProjectionExpression"].split(",")
        ]
    elif "AttributesToGet" in params:
        attributes = list(params["AttributesToGet"])
    elif "Item" in params:
        attributes = list(params["Item"])
    if attributes is not None:
        keys["dynamodb:Attributes"] = tuple(attributes)
    for param, condition_key in (
        ("Select", "dynamodb:Select"),
        ("ReturnValues", "dynamodb:ReturnValues"),
        ("ReturnConsumedCapacity", "dynamodb:ReturnConsumedCapacity"),
    ):
        if param in params:
            keys[condition_key] = params[param]
    return keys


def _dynamodb(action, known):
    def mapper(call: Call, context: CallContext) -> List[Request]:
        _check_params(call, _DYNAMODB_COMMON | known)
        return [Request.of(action, _table_arn(call, context), _dynamodb_keys(call))]

    mapper.__doc__ = f"{action} on the table (or its index), whatever the expressions say."
    return mapper


_READ_ONE = _names(
    "Key ConsistentRead ProjectionExpression ExpressionAttributeNames AttributesToGet"
)
_WRITE_ONE = _EXPRESSIONS | _names(
    "ConditionExpression ReturnValues ReturnItemCollectionMetrics "
    "ReturnValuesOnConditionCheckFailure Expected ConditionalOperator"
)
_READ_MANY = _EXPRESSIONS | _names(
    "IndexName Select ProjectionExpression FilterExpression ExclusiveStartKey Limit "
    "ConsistentRead AttributesToGet ConditionalOperator"
)


# SSM -----------------------------------------------------------------------


def _get_parameter(call: Call, context: CallContext) -> List[Request]:
    """ssm:GetParameter on the parameter. WithDecryption of a SecureString
    needs kms:Decrypt only when the parameter uses a customer-managed key: the
    AWS-managed aws/ssm key (infra/session.tf names none) lets the account's
    principals decrypt through SSM by its key policy
    (https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html).
    Which key a parameter uses is not a parameter of the call: not modelled."""
    _check_params(call, {"Name", "WithDecryption"})
    name = call.params["Name"]
    if name.startswith("arn:"):
        arn = name
    else:
        arn = f"arn:aws:ssm:{context.region}:{context.account}:parameter/{name.lstrip('/')}"
    return [Request.of("ssm:GetParameter", arn)]


# CloudWatch Logs: what the Lambda runtime does for a function ---------------


def _log_group_arn(call: Call, context: CallContext) -> str:
    return (
        f"arn:aws:logs:{context.region}:{context.account}:log-group:{call.params['logGroupName']}"
    )


def _create_log_group(call: Call, context: CallContext) -> List[Request]:
    """IAM checks CreateLogGroup on `<group>:log-stream:`, an empty stream name
    (https://github.com/aws-solutions/instance-scheduler-on-aws/issues/578).
    Tags need logs:TagResource too."""
    _check_params(call, {"logGroupName", "tags"})
    requests = [Request.of("logs:CreateLogGroup", _log_group_arn(call, context) + ":log-stream:")]
    if call.params.get("tags"):
        requests.append(Request.of("logs:TagResource", _log_group_arn(call, context)))
    return requests


def _log_stream_action(action, known):
    def mapper(call: Call, context: CallContext) -> List[Request]:
        _check_params(call, {"logGroupName", "logStreamName"} | known)
        stream = f"{_log_group_arn(call, context)}:log-stream:{call.params['logStreamName']}"
        return [Request.of(action, stream)]

    return mapper


_MAPPERS = {
    ("s3", "GetObject"): _get_object,
    ("s3", "HeadObject"): _get_object,
    ("s3", "PutObject"): _put_object,
    ("s3", "PostObject"): _post_object,
    ("s3", "CopyObject"): _copy_object,
    ("s3", "DeleteObject"): _delete_object,
    ("s3", "DeleteObjects"): _delete_objects,
    ("s3", "ListObjectsV2"): _list_objects,
    ("s3", "ListObjects"): _list_objects,
    ("s3", "GetBucketLifecycleConfiguration"): _bucket_action("s3:GetLifecycleConfiguration"),
    ("s3", "CreateBucket"): _presigned_post_without_form,
    ("dynamodb", "GetItem"): _dynamodb("dynamodb:GetItem", _READ_ONE),
    ("dynamodb", "PutItem"): _dynamodb("dynamodb:PutItem", _WRITE_ONE | {"Item"}),
    ("dynamodb", "UpdateItem"): _dynamodb(
        "dynamodb:UpdateItem", _WRITE_ONE | {"Key", "UpdateExpression", "AttributeUpdates"}
    ),
    ("dynamodb", "Scan"): _dynamodb("dynamodb:Scan", _READ_MANY | {"Segment", "TotalSegments"}),
    ("dynamodb", "Query"): _dynamodb(
        "dynamodb:Query",
        _READ_MANY | {"KeyConditionExpression", "KeyConditions", "ScanIndexForward", "QueryFilter"},
    ),
    ("ssm", "GetParameter"): _get_parameter,
    ("logs", "CreateLogGroup"): _create_log_group,
    ("logs", "CreateLogStream"): _log_stream_action("logs:CreateLogStream", set()),
    ("logs", "PutLogEvents"): _log_stream_action(
        "logs:PutLogEvents", {"logEvents", "sequenceToken"}
    ),
}


# ---------------------------------------------------------------------------
# Policy evaluation


def evaluate(policy: dict, request: Request) -> str:
    """ALLOWED, IMPLICIT_DENY or EXPLICIT_DENY: what one identity-based policy
    decides for `request`, alone. "Policy evaluation logic": a Deny statement
    that applies wins over any Allow; without one, an Allow that applies
    allows; without either, the request is implicitly denied."""
    effects = {
        statement["Effect"] for statement in statements(policy) if applies(statement, request)
    }
    if "Deny" in effects:
        return EXPLICIT_DENY
    if "Allow" in effects:
        return ALLOWED
    return IMPLICIT_DENY


_STATEMENT_ELEMENTS = _names("Sid Effect Action NotAction Resource NotResource Condition")


def statements(policy: dict) -> List[dict]:
    """The policy's statements, checked for the elements this module models."""
    if policy.get("Version") != "2012-10-17":
        raise Unmodelled(f"policy Version {policy.get('Version')!r}: only 2012-10-17 is modelled")
    found = policy["Statement"]
    found = [found] if isinstance(found, dict) else found
    for statement in found:
        unknown = set(statement) - _STATEMENT_ELEMENTS
        if unknown:
            raise Unmodelled(f"statement elements {sorted(unknown)} (an identity policy has none)")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise Unmodelled(f"Effect {statement.get('Effect')!r}")
        for one, other in (("Action", "NotAction"), ("Resource", "NotResource")):
            if (one in statement) == (other in statement):
                raise Unmodelled(f"a statement needs exactly one of {one} and {other}: {statement}")
    return found


def applies(statement: dict, request: Request) -> bool:
    """Whether the statement matches the request: its action (Action, or not
    NotAction), its resource (Resource, or not NotResource), and every condition."""
    if "Action" in statement:
        action_matches = _any_action(statement["Action"], request.action)
    else:
        action_matches = not _any_action(statement["NotAction"], request.action)
    if "Resource" in statement:
        resource_matches = _any_resource(statement["Resource"], request.resource)
    else:
        resource_matches = not _any_resource(statement["NotResource"], request.resource)
    return action_matches and resource_matches and conditions_hold(statement, request)


def grants(policy: dict):
    """Each (statement, action, resource) an Allow statement names. An Allow
    with NotAction or NotResource grants what it does not name, which no walk
    can show used: raise."""
    for statement in statements(policy):
        if statement["Effect"] != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            raise Unmodelled(
                f"an Allow with NotAction or NotResource grants unbounded: {statement}"
            )
        for action in _listed(statement["Action"]):
            for resource in _listed(statement["Resource"]):
                yield statement, action, resource


def _listed(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


@functools.lru_cache(maxsize=None)
def _wildcard(pattern: str, ignore_case: bool):
    """`*` matches any run of characters, `?` any one; nothing else is special."""
    if "${" in pattern:
        raise Unmodelled(f"policy variables are not modelled: {pattern!r}")
    regex = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.compile(regex, (re.IGNORECASE if ignore_case else 0) | re.DOTALL)


def _any_action(patterns, action: str) -> bool:
    """Action names are case-insensitive ("IAM JSON policy elements: Action")."""
    return any(_wildcard(pattern, True).fullmatch(action) for pattern in _listed(patterns))


def _any_resource(patterns, arn: str) -> bool:
    return any(arn_like(pattern, arn) for pattern in _listed(patterns))


def arn_like(pattern: str, arn: str) -> bool:
    """Case-sensitive ARN match, each of the six colon-separated parts on its
    own, with wildcards ("Amazon Resource Name (ARN) condition operators"; the
    Resource element matches the same way). The sixth part, the resource,
    keeps its own colons (`log-group:NAME:log-stream:STREAM`)."""
    if pattern == "*":
        return True
    pattern_parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
    if len(pattern_parts) != 6:
        raise Unmodelled(f"{pattern!r} is neither * nor an ARN")
    if len(arn_parts) != 6:
        return False
    return all(
        _wildcard(part, False).fullmatch(value)
        for part, value in zip(pattern_parts, arn_parts, strict=True)
    )


# Condition operators: how one policy value matches one request value, and
# whether the operator is the negation of a matching one.
def _numeric(compare):
    def match(policy_value: str, value: str) -> bool:
        try:
            return compare(float(value), float(policy_value))
        except ValueError:
            raise Unmodelled(f"a numeric condition on {value!r} / {policy_value!r}") from None

    return match


def _boolean(policy_value: str, value: str) -> bool:
    if policy_value.lower() not in ("true", "false"):
        raise Unmodelled(f"Bool with {policy_value!r}")
    return policy_value.lower() == value.lower()


def _string_like(policy_value: str, value: str) -> bool:
    return bool(_wildcard(policy_value, False).fullmatch(value))


_OPERATORS = {
    "StringEquals": (lambda p, v: p == v, False),
    "StringNotEquals": (lambda p, v: p == v, True),
    "StringEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "NumericEquals": (_numeric(lambda v, p: v == p), False),
    "NumericNotEquals": (_numeric(lambda v, p: v == p), True),
    "NumericLessThan": (_numeric(lambda v, p: v < p), False),
    "NumericLessThanEquals": (_numeric(lambda v, p: v <= p), False),
    "NumericGreaterThan": (_numeric(lambda v, p: v > p), False),
    "NumericGreaterThanEquals": (_numeric(lambda v, p: v >= p), False),
    "Bool": (_boolean, False),
    "ArnEquals": (arn_like, False),
    "ArnLike": (arn_like, False),
    "ArnNotEquals": (arn_like, True),
    "ArnNotLike": (arn_like, True),
}
_SET_QUALIFIERS = ("ForAnyValue", "ForAllValues")


def conditions_hold(statement: dict, request: Request) -> bool:
    """Every operator's block holds, and in each block every key ("Creating a
    condition with multiple context keys or values": AND between keys and
    operators, OR between the values of one key)."""
    for operator, block in statement.get("Condition", {}).items():
        for key, policy_values in block.items():
            if not condition_holds(operator, key, policy_values, request):
                return False
    return True


def condition_holds(operator: str, key: str, policy_values, request: Request) -> bool:
    """One key under one operator.

    - A key the request lacks: false, except for the negated operators
      (StringNotEquals, ...: true), ...IfExists (true), ForAllValues (true;
      ForAnyValue: false) and Null, which tests exactly that.
    - Several policy values: any one matching is a match; a negated
      operator holds when none matches.
    - ForAnyValue / ForAllValues: some / every request value satisfies it;
      without a qualifier the key must have one value.
    Anything else (Date, IpAddress, Binary, a typo) raises Unmodelled.
    """
    qualifier, _, base = operator.rpartition(":")
    if qualifier and qualifier not in _SET_QUALIFIERS:
        raise Unmodelled(f"condition operator {operator!r}")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    values = request.value(key) or None
    wanted = [_policy_text(value) for value in _listed(policy_values)]

    if base == "Null":
        if qualifier or if_exists:
            raise Unmodelled(f"condition operator {operator!r}")
        return ("true" if values is None else "false") in [value.lower() for value in wanted]
    if base not in _OPERATORS:
        raise Unmodelled(f"condition operator {operator!r} is not modelled in tests/infra/iam.py")
    match, negated = _OPERATORS[base]

    def satisfies(value: str) -> bool:
        matched = any(match(policy_value, value) for policy_value in wanted)
        return not matched if negated else matched

    if values is None:
        if if_exists or qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return negated
    if qualifier == "ForAllValues":
        return all(satisfies(value) for value in values)
    if qualifier == "ForAnyValue":
        return any(satisfies(value) for value in values)
    if len(values) > 1:
        raise Unmodelled(
            f"{operator} on {key}, which has several values: use ForAnyValue/ForAllValues"
        )
    return satisfies(values[0])


def _policy_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise Unmodelled(f"a condition value {value!r}")
