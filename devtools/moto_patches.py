"""Close two gaps between moto and AWS that the upload flow depends on.

Measured on moto 5.2.5 (see README, "What the emulator cannot show"):
1. CopyObject ignores `CopySourceIfMatch` and `IfNoneMatch="*"`; real S3 answers
   412 for both. Without this, a reused form finalized again would overwrite a
   live avatar locally, which S3 never allows.
2. The server does not serialize writes to one DynamoDB item: concurrent
   `UpdateItem ... ReturnValues=UPDATED_OLD` can return the same old value twice,
   because the handler reads the old item before the backend writes the new
   one; so the whole handler, read and write, runs under one lock.

Both wrap moto's own methods and change nothing else. They are pinned to the
moto version they were written against; `tests/test_moto_patches.py` shows each
gap closed.
"""

import functools
import threading
from urllib.parse import unquote, urlparse

import moto
from moto.dynamodb.responses import DynamoHandler
from moto.s3.exceptions import PreconditionFailed
from moto.s3.responses import S3Response

PATCHED_MOTO_VERSION = "5.2.5"

_applied = False
_copy_lock = threading.Lock()
_item_write_lock = threading.Lock()


def apply():
    """Patch this process's moto (server or `mock_aws`); safe to call twice."""
    global _applied
    if _applied:
        return
    if moto.__version__ != PATCHED_MOTO_VERSION:
        raise RuntimeError(
            f"devtools/moto_patches.py was written for moto {PATCHED_MOTO_VERSION}, "
            f"not {moto.__version__}: re-check both gaps, then update the pin."
        )
    S3Response.copy_object = _conditional_copy(S3Response.copy_object)
    DynamoHandler.update_item = _serialized(DynamoHandler.update_item)
    _applied = True


def _conditional_copy(copy_object):
    @functools.wraps(copy_object)
    def patched(self):
        # One lock makes check-then-copy atomic, as the conditions are on S3.
        with _copy_lock:
            source_etag = self.headers.get("x-amz-copy-source-if-match")
            if source_etag is not None:
                source_bucket, source_key = _copy_source(self.headers["x-amz-copy-source"])
                source = self.backend.get_object(source_bucket, source_key)
                if source is not None and source.etag.strip('"') != source_etag.strip('"'):
                    raise PreconditionFailed("x-amz-copy-source-If-Match")
            if self.headers.get("If-None-Match") == "*":
                existing = self.backend.get_object(self.bucket_name, self.parse_key_name())
                if existing is not None:
                    raise PreconditionFailed("If-None-Match")
            return copy_object(self)

    return patched


def _copy_source(header):
    path = urlparse(header if isinstance(header, str) else header.decode("utf-8")).path
    bucket, key = unquote(path).lstrip("/").split("/", 1)
    return bucket, key


def _serialized(update_item):
    @functools.wraps(update_item)
    def patched(*args, **kwargs):
        with _item_write_lock:
            return update_item(*args, **kwargs)

    return patched
