"""Close three gaps between moto and AWS that the upload flow depends on.

Measured on moto 5.2.5 (see README, "What the emulator cannot show"):
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

Each wraps moto's own methods and changes nothing else. They are pinned to the
moto version they were written against; `tests/test_moto_patches.py` shows each
gap closed.
"""

import functools
import threading

import moto
from moto.dynamodb.responses import DynamoHandler
from moto.s3.responses import S3Response

PATCHED_MOTO_VERSION = "5.2.5"

_applied = False
_conditional_put_lock = threading.Lock()
_post_visibility_lock = threading.RLock()
_item_write_lock = threading.Lock()


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
