"""Close the gaps between moto and AWS that the upload flow and the deploy rehearsal depend on.

Measured on moto 5.2.5 (see README, "What runs where"):
1. PutObject checks `IfNoneMatch="*"` and then writes, with nothing between to
   stop a second request from checking too: two concurrent conditional puts of
   one key can both succeed, the second overwriting the first. On S3 a
   conditional write is atomic: exactly one succeeds, the others get 412. So
   the check and the write of a conditional put run under one lock.
2. A browser's POST stores the object, then sets its metadata: a GetObject or
   HeadObject in between sees the upload without its owner, and finalize
   answers 403 to its rightful owner. On S3 an upload appears whole, with its
   metadata. So the POST handler, GetObject and HeadObject run under one lock.
3. The server does not serialize writes to one DynamoDB item: concurrent
   `UpdateItem ... ReturnValues=UPDATED_OLD` can return the same old value twice,
   because the handler reads the old item before the backend writes the new
   one; so the whole handler, read and write, runs under one lock.

Two more let `chalice deploy --stage dev` run against the emulator
(`make rehearse`, devtools/rehearse/):
4. S3 reads a notification filter rule's `Name` in either case (`prefix` or
   `Prefix`, `suffix` or `Suffix`) and answers `Prefix`/`Suffix`; moto asserts
   lowercase, and Chalice sends `Prefix`. So the names are lowercased before
   moto parses the body, which keeps moto's own prefix matching working.
5. API Gateway imports Swagger 2.0 as well as OpenAPI 3, with or without
   `info.description`; moto reads the description unconditionally and refuses
   anything but OpenAPI 3, after creating the API. Chalice sends Swagger 2.0
   without a description. So, before moto reads any of it, the document gets an
   empty description and is relabelled OpenAPI 3.0.1 (the parts moto reads,
   paths, methods and their `x-amazon-apigateway-integration`, have the same
   shape in both).

Each wraps moto's own methods and changes nothing else. They are pinned to the
moto version they were written against; `tests/test_moto_patches.py` shows each
gap closed.
"""

import functools
import re
import threading

import moto
from moto.apigateway.models import APIGatewayBackend
from moto.dynamodb.responses import DynamoHandler
from moto.s3.responses import S3Response

PATCHED_MOTO_VERSION = "5.2.5"

_applied = False
_conditional_put_lock = threading.Lock()
_post_visibility_lock = threading.RLock()
_item_write_lock = threading.Lock()
# A filter rule's name in a PutBucketNotificationConfiguration body.
_FILTER_RULE_NAME = re.compile(r"(?<=<Name>)\s*(prefix|suffix)\s*(?=</Name>)", re.IGNORECASE)
_FILTER_RULE_NAME_BYTES = re.compile(_FILTER_RULE_NAME.pattern.encode(), re.IGNORECASE)


def apply():
    """Patch this process's moto (server or `mock_aws`); safe to call twice."""
    global _applied
    if _applied:
        return
    if moto.__version__ != PATCHED_MOTO_VERSION:
        raise RuntimeError(
            f"devtools/moto_patches.py was written for moto {PATCHED_MOTO_VERSION}, "
            f"not {moto.__version__}: re-check every gap, then update the pin."
        )
    S3Response.put_object = _atomic_conditional_put(S3Response.put_object)
    for name in ("_bucket_response_post", "get_object", "head_object"):
        setattr(S3Response, name, _under(_post_visibility_lock, getattr(S3Response, name)))
    DynamoHandler.update_item = _under(_item_write_lock, DynamoHandler.update_item)
    S3Response._notification_config_from_body = _filter_rule_names_in_any_case(
        S3Response._notification_config_from_body
    )
    APIGatewayBackend.import_rest_api = _accepting_swagger_2(
        APIGatewayBackend.import_rest_api, document_argument=0
    )
    APIGatewayBackend.put_rest_api = _accepting_swagger_2(
        APIGatewayBackend.put_rest_api, document_argument=1
    )
    _applied = True


def _atomic_conditional_put(put_object):
    @functools.wraps(put_object)
    def patched(self):
        if self.headers.get("If-None-Match") is None and self.headers.get("If-Match") is None:
            return put_object(self)
        with _conditional_put_lock:
            return put_object(self)

    return patched


def _under(lock, method):
    @functools.wraps(method)
    def patched(*args, **kwargs):
        with lock:
            return method(*args, **kwargs)

    return patched


def _filter_rule_names_in_any_case(parse):
    """Wraps `moto.s3.responses.S3Response._notification_config_from_body`, which
    asserts each `FilterRule` `Name` is `prefix` or `suffix`. S3 takes `Prefix`
    and `Suffix` too (Chalice sends those). moto's `Notification._key_matches`
    looks the names up in lowercase, so lowercase is what it must store; a
    GetBucketNotificationConfiguration then answers `prefix` where S3 answers
    `Prefix`."""

    @functools.wraps(parse)
    def patched(self):
        body = self.body
        pattern = _FILTER_RULE_NAME_BYTES if isinstance(body, bytes) else _FILTER_RULE_NAME
        self.body = pattern.sub(lambda match: match.group(0).lower(), body)
        try:
            return parse(self)
        finally:
            self.body = body

    return patched


def _accepting_swagger_2(method, document_argument):
    """Wraps `moto.apigateway.models.APIGatewayBackend.import_rest_api` and
    `put_rest_api`. moto's import reads `info.description` (optional in both
    Swagger and OpenAPI: a KeyError when absent), creates the API, then has
    `put_rest_api` refuse a `swagger: "2.0"` document, leaving the API
    half-made; API Gateway imports Swagger 2.0 and OpenAPI 3 alike. So the
    document is rewritten before moto reads any of it."""

    @functools.wraps(method)
    def patched(self, *args, **kwargs):
        args = list(args)
        if "api_doc" in kwargs:
            kwargs["api_doc"] = _as_openapi_3(kwargs["api_doc"])
        else:
            args[document_argument] = _as_openapi_3(args[document_argument])
        return method(self, *args, **kwargs)

    return patched


def _as_openapi_3(api_doc):
    """A copy of `api_doc` that moto's OpenAPI 3 reader takes: Swagger 2.0
    relabelled OpenAPI 3.0.1, and an absent description made explicit (None:
    the API then has none, as on API Gateway)."""
    if not isinstance(api_doc, dict):
        return api_doc
    document = dict(api_doc)
    if str(document.get("swagger", "")).startswith("2."):
        del document["swagger"]
        document["openapi"] = "3.0.1"
    if isinstance(document.get("info"), dict):
        document["info"] = {"description": None, **document["info"]}
    return document
