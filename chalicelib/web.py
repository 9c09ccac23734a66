"""The page's files, served from the bucket's `web/` prefix.

Chalice packages only `app.py`, `chalicelib/` and `vendor/`, so `static/` never
reaches the Lambda: Terraform (on AWS) and the local stack copy it to `web/`,
and one code path serves it in both. Each file is kept in memory with its ETag
and re-read only when a conditional GET says it changed.
"""

import contextlib
import re
import threading
from typing import Dict, NamedTuple, Tuple

from botocore.exceptions import ClientError

from .errors import NotFound

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
# One plain file name: no slashes, no dot-dot, a known extension.
_ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(\.[a-z]+)")


class _Asset(NamedTuple):
    etag: str
    text: str


class StaticAssets:
    def __init__(self, s3, bucket_name: str, prefix: str):
        self._s3 = s3
        self._bucket = bucket_name
        self._prefix = prefix
        self._cache: Dict[str, _Asset] = {}
        self._lock = threading.Lock()

    def read(self, name: str) -> Tuple[str, str]:
        """The text and Content-Type of the page's file `name`."""
        match = _ASSET_NAME.fullmatch(name)
        if not match or match.group(1) not in CONTENT_TYPES:
            raise NotFound(f"There is no file {name!r}.", code="no_such_file")
        with self._lock:
            cached = self._cache.get(name)
        conditions = {"IfNoneMatch": cached.etag} if cached else {}
        try:
            answer = self._s3.get_object(Bucket=self._bucket, Key=self._prefix + name, **conditions)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in ("304", "NotModified") and cached:
                return cached.text, CONTENT_TYPES[match.group(1)]
            if code in ("NoSuchKey", "404"):
                raise NotFound(f"There is no file {name!r}.", code="no_such_file") from None
            raise
        # closing(): `with answer["Body"]` would read the raw stream and skip
        # botocore's length check (see uploads.py).
        with contextlib.closing(answer["Body"]) as body:
            asset = _Asset(answer["ETag"], body.read().decode("utf-8"))
        with self._lock:
            self._cache[name] = asset
        return asset.text, CONTENT_TYPES[match.group(1)]
