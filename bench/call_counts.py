"""How many AWS calls each API request makes, and which.

Every request here is checked for the status it must answer, so a count is
never taken from a request that went wrong.
"""

import secrets
from collections import Counter

from .client import AvatarClient
from .fixtures import ensure_user, listed_keys, put_owned, put_pending
from .images import png_of_size, png_over_pixels
from .report import Figure

SECTION = "AWS calls per request"


def count_calls(stack, recorder) -> list:
    ensure_user(stack, "bench-calls")
    ensure_user(stack, "bench-leaving")
    with (
        AvatarClient(stack.app_url) as anonymous,
        AvatarClient(stack.app_url).sign_in("bench-calls") as user,
        AvatarClient(stack.app_url).sign_in("bench-leaving") as leaving,
    ):
        return _count_calls(stack, recorder, anonymous, user, leaving)


def _count_calls(stack, recorder, anonymous, user, leaving) -> list:
    figures = []
    small_image = png_of_size(2_000, seed=1)

    def measure(label, send, status, target=None):
        with recorder.recording() as recording:
            answer = send()
        if answer.status_code != status:
            raise RuntimeError(f"{label}: answered {answer.status_code}, not {status}")
        figures.append(_figure(label, recording.operations, target))

    # First, while the bucket holds only what the stack started with.
    object_count = len(listed_keys(stack))
    measure(
        f"GET /debug/bucket, {object_count} objects",
        lambda: anonymous.request("GET", "debug/bucket"),
        200,
    )
    measure("GET /", lambda: anonymous.request("GET", ""), 200)
    measure("GET /users", lambda: anonymous.request("GET", "users"), 200, target=1)
    measure("GET /debug/table", lambda: anonymous.request("GET", "debug/table"), 200)

    user.change_avatar(small_image)  # so that the next change replaces an avatar

    measure("POST /uploads", lambda: user.request("POST", "uploads", json={}), 201, target=0)
    form = user.create_upload()
    user.post_file(form, small_image)
    measure("POST /avatar, success", lambda: user.finalize(form["key"]), 200, target=4)
    measure(
        "POST /avatar, the same request again (a retry)", lambda: user.finalize(form["key"]), 200
    )
    user.post_file(form, small_image)  # the form is still valid: post it again
    measure(
        "POST /avatar, a used form posted and finalized again",
        lambda: user.finalize(form["key"]),
        200,
    )

    key = secrets.token_hex(16)
    measure("POST /avatar refused: not signed in (401)", lambda: anonymous.finalize(key), 401)
    measure(
        "POST /avatar refused: not JSON (415)",
        lambda: user.request(
            "POST", "avatar", data=f"key={key}", headers={"Content-Type": "text/plain"}
        ),
        415,
    )
    measure("POST /avatar refused: malformed key (400)", lambda: user.finalize("../avatars/x"), 400)
    measure("POST /avatar refused: no such upload (404)", lambda: user.finalize(key), 404)
    others_key = put_pending(stack, "bench-other", small_image)
    measure(
        "POST /avatar refused: another user's upload (403)", lambda: user.finalize(others_key), 403
    )
    one_byte_over = stack.settings.max_upload_bytes + 1
    too_large = put_pending(stack, "bench-calls", png_of_size(one_byte_over))
    measure("POST /avatar refused: too large (413)", lambda: user.finalize(too_large), 413)
    too_many_pixels = put_pending(
        stack, "bench-calls", png_over_pixels(stack.settings.max_image_pixels)
    )
    measure(
        "POST /avatar refused: too many pixels (413)",
        lambda: user.finalize(too_many_pixels),
        413,
    )
    not_an_image = put_pending(stack, "bench-calls", b"<svg onload=alert(1)>" + b" " * 2000)
    measure("POST /avatar refused: not an image (415)", lambda: user.finalize(not_an_image), 415)

    # The avatar exists already, someone else's: it was not made from this upload.
    taken = put_pending(stack, "bench-calls", small_image)
    put_owned(stack, stack.settings.avatar_prefix + taken, "bench-other", small_image)
    measure(
        "POST /avatar refused: the key was finalized before (409)",
        lambda: user.finalize(taken),
        409,
    )
    # The avatar exists already, the user's own: an earlier attempt stored it
    # and stopped before the commit, so this retry commits it.
    interrupted = put_pending(stack, "bench-calls", small_image)
    put_owned(stack, stack.settings.avatar_prefix + interrupted, "bench-calls", small_image)
    measure(
        "POST /avatar, a retry after a put whose commit failed",
        lambda: user.finalize(interrupted),
        200,
    )

    orphan_form = leaving.create_upload()
    leaving.post_file(orphan_form, small_image)
    stack.dynamodb.delete_item(
        TableName=stack.settings.table_name, Key={"Username": {"S": "bench-leaving"}}
    )
    measure(
        "POST /avatar refused: the user was deleted (401)",
        lambda: leaving.finalize(orphan_form["key"]),
        401,
    )
    return figures


def _figure(label, operations, target):
    counts = Counter(operations)
    detail = ", ".join(f"{name} x{n}" if n > 1 else name for name, n in counts.items())
    measured = f"{len(operations)}" + (f" ({detail})" if detail else "")
    if target is None:
        return Figure(SECTION, label, measured)
    shown = "0" if target == 0 else f"<= {target}"
    return Figure(SECTION, label, measured, shown, len(operations) <= target)
