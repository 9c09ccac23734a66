"""How many AWS calls each API request makes, and which.

Every request here is checked for the status it must answer, so a count is
never taken from a request that went wrong.
"""

import secrets
from collections import Counter

from .client import AvatarClient
from .fixtures import ensure_user, listed_keys, put_pending
from .images import png_of_size
from .report import Figure

SECTION = "AWS calls per request"
OVERSIZED_IMAGE_BYTES = 1024 * 1024 + 1  # one byte over MAX_UPLOAD_BYTES


def count_calls(stack, recorder) -> list:
    figures = []
    small_image = png_of_size(2_000, seed=1)

    def measure(label, send, status, target=None):
        with recorder.recording() as operations:
            answer = send()
        if answer.status_code != status:
            raise RuntimeError(f"{label}: answered {answer.status_code}, not {status}")
        figures.append(_figure(label, operations, target))

    # First, while the bucket holds only what the stack started with.
    anonymous = AvatarClient(stack.app_url)
    object_count = len(listed_keys(stack))
    measure(
        f"GET /debug/bucket, {object_count} objects",
        lambda: anonymous.request("GET", "debug/bucket"),
        200,
    )
    measure("GET /", lambda: anonymous.request("GET", ""), 200)
    measure("GET /users", lambda: anonymous.request("GET", "users"), 200, target=1)
    measure("GET /debug/table", lambda: anonymous.request("GET", "debug/table"), 200)

    ensure_user(stack, "bench-calls")
    user = AvatarClient(stack.app_url).sign_in("bench-calls")
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
    too_large = put_pending(stack, "bench-calls", png_of_size(OVERSIZED_IMAGE_BYTES))
    measure("POST /avatar refused: too large (413)", lambda: user.finalize(too_large), 413)
    not_an_image = put_pending(stack, "bench-calls", b"<svg onload=alert(1)>" + b" " * 2000)
    measure("POST /avatar refused: not an image (415)", lambda: user.finalize(not_an_image), 415)

    ensure_user(stack, "bench-leaving")
    leaving = AvatarClient(stack.app_url).sign_in("bench-leaving")
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
