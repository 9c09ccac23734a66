"""The three-phase upload: issue a presigned POST, then finalize what arrived.

The backend keeps no record of the forms it issues. The key (128 random bits,
picked here) is the client's proof: it comes back in finalize, and every fact
about the upload is read again from S3 then, because neither the browser nor
the POST policy is trusted (an emulator enforces no policy at all).
"""

import base64
import contextlib
import json
import logging
import re
import secrets
from datetime import datetime
from typing import NamedTuple, Optional

from botocore.exceptions import BotoCoreError, ClientError

from . import metrics
from .errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    NotSignedIn,
    TooLarge,
    UnsupportedMediaType,
)
from .users import UserNotFound

logger = logging.getLogger(__name__)

_KEY_PATTERN = re.compile(r"[0-9a-f]{32}")
OWNER_METADATA = "username"
# Keys are never reused, so a final avatar never changes.
AVATAR_CACHE_CONTROL = "public, max-age=31536000, immutable"


def new_upload_key() -> str:
    return secrets.token_hex(16)


def parse_upload_key(value) -> str:
    """`value` if it is a key this service could have issued; else BadRequest."""
    if not isinstance(value, str) or not _KEY_PATTERN.fullmatch(value):
        raise BadRequest(
            "The key must be the 32 lowercase hex characters returned by POST /uploads.",
            code="invalid_key",
        )
    return value


class UploadService:
    def __init__(self, s3, users, settings):
        self._s3 = s3
        self._users = users
        self._settings = settings

    @property
    def _bucket(self):
        return self._settings.bucket_name

    def create_upload(self, username: str) -> dict:
        """A presigned POST for a fresh key under `pending/`. No AWS call."""
        settings = self._settings
        key = new_upload_key()
        expires_in = settings.upload_expires_seconds
        form = self._s3.generate_presigned_post(
            Bucket=self._bucket,
            Key=settings.pending_prefix + key,
            Fields={f"x-amz-meta-{OWNER_METADATA}": username},
            # boto3 adds the bucket and the exact key to these conditions.
            Conditions=[
                ["content-length-range", 1, settings.max_upload_bytes],
                ["starts-with", "$Content-Type", "image/"],
                {f"x-amz-meta-{OWNER_METADATA}": username},
            ],
            ExpiresIn=expires_in,
        )
        return {
            "key": key,
            "url": form["url"],
            "fields": form["fields"],
            # The policy's own expiry: botocore reads its clock apart from
            # ours, so a time computed here could be a second off.
            "expiresAt": _policy_expiration(form["fields"]["policy"]),
            "maxBytes": settings.max_upload_bytes,
        }

    def finalize_upload(self, username: str, key: str) -> dict:
        """Check `pending/<key>`, store the avatar made from it, point the user
        at it, clean up.

        Four AWS calls on the success path; nothing is deleted before the
        database commit, so no user ever points at a missing object. Every
        answer is counted by outcome (chalicelib/metrics.py) from its status
        and error code; a 200 is `finalized` where `_commit` ran, else `retry`.
        """
        pending_key = self._settings.pending_prefix + key
        avatar_key = self._settings.avatar_prefix + key

        upload = self._read_pending(username, pending_key)
        if upload is None:
            return self._answer_missing(username, avatar_key)
        avatar = self._make_avatar(pending_key, upload.data)

        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=avatar_key,
                Body=avatar.data,
                # A final avatar is never overwritten, whatever reaches pending/.
                IfNoneMatch="*",
                ContentType=avatar.content_type,
                CacheControl=AVATAR_CACHE_CONTROL,
                Metadata={OWNER_METADATA: username},
            )
        except ClientError as error:
            if _error_code(error) not in ("PreconditionFailed", "412"):
                raise
            user = self._users.get_user(username)
            if user is not None and user.avatar == avatar_key:
                # The form was used again after finalizing: drop the second upload.
                self._delete_quietly([pending_key])
                return self._result(username, avatar_key)
            if not self._is_uncommitted_avatar(username, avatar_key, upload):
                self._delete_quietly([pending_key])
                raise Conflict(
                    "This key was finalized before; ask for a new form to change the avatar.",
                    code="upload_conflict",
                ) from None
            # An earlier attempt stored this avatar from this upload and
            # stopped before the commit (or botocore resent a put whose answer
            # was lost): commit it now.

        old_avatar_key = self._commit(username, avatar_key, pending_key)

        stale = [pending_key]
        if old_avatar_key and old_avatar_key != avatar_key:
            stale.append(old_avatar_key)
        self._delete_quietly(stale)
        return self._result(username, avatar_key)

    def browser_urls(self) -> list:
        """An upload form's URL and an avatar's, as the page gets them, so that
        the page's CSP names their origins. Signed locally: no AWS call."""
        form = self._s3.generate_presigned_post(
            Bucket=self._bucket, Key=self._settings.pending_prefix + new_upload_key()
        )
        return [form["url"], self.avatar_url(self._settings.avatar_prefix + new_upload_key())]

    def avatar_url(self, avatar_key: str) -> str:
        """Where a browser gets the avatar: the same URL for as long as the key
        is the avatar, behind a CDN (so every cache can keep it), else a
        presigned GET, new each time (signed locally: no AWS call)."""
        if self._settings.avatar_base_url:
            return self._settings.avatar_base_url + avatar_key
        return self._s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._bucket, "Key": avatar_key},
            ExpiresIn=self._settings.avatar_url_expires_seconds,
        )

    def _read_pending(self, username: str, pending_key: str) -> Optional["_Upload"]:
        """The whole upload, in one GetObject; None if there is none.

        The owner and the size come with the answer's headers, so another
        user's upload or an oversized one is refused before its body is read.
        """
        try:
            answer = self._s3.get_object(Bucket=self._bucket, Key=pending_key)
        except ClientError as error:
            if _error_code(error) in ("NoSuchKey", "404"):
                return None
            raise
        # closing(), not `with answer["Body"]`: StreamingBody's __enter__ hands
        # out the raw urllib3 stream, whose read() skips botocore's length
        # check and error translation, so a connection cut mid-body would be
        # a 500, or a short read a 415 that deletes a good upload.
        with contextlib.closing(answer["Body"]) as body:
            if answer.get("Metadata", {}).get(OWNER_METADATA) != username:
                # Not ours to judge or delete: leave another user's upload alone.
                raise Forbidden("This upload belongs to another user.", code="not_your_upload")
            limit = self._settings.max_upload_bytes
            size = int(answer["ContentLength"])
            if size > limit:
                self._delete_quietly([pending_key])
                raise TooLarge(f"The file is {size} bytes; the limit is {limit}.")
            return _Upload(body.read(), answer["LastModified"])

    def _make_avatar(self, pending_key: str, data: bytes):
        """The avatar made from the upload's pixels; a refused upload is deleted."""
        # Pillow is imported on the first finalize, not with the app: the other
        # routes' cold starts do not pay for it.
        from .images import (
            NOT_AN_IMAGE_MESSAGE,
            AvatarRules,
            ImageRejected,
            ImageTooLarge,
            make_avatar,
        )

        try:
            with metrics.image_processing():
                return make_avatar(data, AvatarRules.from_settings(self._settings))
        except ImageTooLarge as refusal:
            self._delete_quietly([pending_key])
            raise TooLarge(str(refusal), code="image_too_large") from None
        except ImageRejected as refusal:
            self._delete_quietly([pending_key])
            raise UnsupportedMediaType(str(refusal), code="not_an_image") from None
        except Exception:
            # A decoder failing in a way images.py does not name: to the user
            # it is still a file that could not be read, never a 500; the log
            # keeps the traceback for whoever runs the service.
            logger.exception(json.dumps({"event": "image_failed", "key": pending_key}))
            self._delete_quietly([pending_key])
            raise UnsupportedMediaType(NOT_AN_IMAGE_MESSAGE, code="not_an_image") from None

    def _answer_missing(self, username: str, avatar_key: str) -> dict:
        """No pending object: a retry of a finalize that stuck, or an unknown key."""
        user = self._users.get_user(username)
        if user is not None and user.avatar == avatar_key:
            return self._result(username, avatar_key)
        raise NotFound("There is no pending upload with this key.", code="no_such_upload")

    def _is_uncommitted_avatar(self, username: str, avatar_key: str, upload) -> bool:
        """Whether `avatar_key` was stored from this very upload by an earlier
        attempt that never committed it.

        Keys are random and a put never overwrites, so an object of this
        user's was made by finalize from one of their uploads; one stored
        before this upload arrived was made from an earlier upload with the
        same form, committed, and may since have been replaced: committing it
        again would race the finalize that replaced it, which deletes it.
        """
        try:
            answer = self._s3.head_object(Bucket=self._bucket, Key=avatar_key)
        except ClientError as error:
            if _error_code(error) in ("NoSuchKey", "404"):
                return False
            raise
        return (
            answer.get("Metadata", {}).get(OWNER_METADATA) == username
            and answer["LastModified"] >= upload.last_modified
        )

    def _commit(self, username: str, avatar_key: str, pending_key: str):
        """Swap the user's avatar to `avatar_key`; return the one it replaced.

        If the swap fails, the new object stays: a retry of the same finalize
        commits it, and without one the sweeper removes it after an hour.
        Deleting it here could race a concurrent retry that has just committed it.
        """
        try:
            old_avatar_key = self._users.swap_avatar(username, avatar_key)
        except UserNotFound:
            # No item, so no retry can ever point at the new object.
            self._delete_quietly([avatar_key, pending_key])
            raise NotSignedIn("This session's user no longer exists.") from None
        metrics.record_commit()
        return old_avatar_key

    def _result(self, username: str, avatar_key: str) -> dict:
        return {
            "username": username,
            "avatar": avatar_key,
            "avatarUrl": self.avatar_url(avatar_key),
        }

    def _delete_quietly(self, keys):
        """Delete `keys`; a failure is logged, not raised.

        Only ever called with objects no user points at, so a leftover costs
        storage, not correctness: `pending/` expires by the lifecycle rule.
        """
        try:
            answer = self._s3.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
            )
            failed = [error["Key"] for error in answer.get("Errors", [])]
        except (ClientError, BotoCoreError):
            failed = list(keys)
        if failed:
            logger.warning(json.dumps({"event": "delete_failed", "keys": failed}))


def _policy_expiration(policy: str) -> str:
    """The `expiration` of a POST policy (base64 JSON), as ISO 8601 UTC."""
    return json.loads(base64.b64decode(policy))["expiration"]


class _Upload(NamedTuple):
    data: bytes
    last_modified: datetime


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
