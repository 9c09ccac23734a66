"""The real local stack, as `make run` starts it, driven over HTTP as the browser does."""

import io
import os
import queue
import re
import time

import pytest
import requests
from PIL import Image

from devtools.seed import load_seed
from tests.helpers import colours_close, image_bytes, image_colour
from tests.stack import post_file, running_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack():
    with running_stack() as running:
        yield running


def _wait_for_line(lines, pattern, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if re.search(pattern, line):
            return line
    return None


def test_the_three_requests_change_an_avatar_over_http(stack):
    base = stack["url"]
    browser = requests.Session()
    user, _ = load_seed()[0]

    page = browser.get(base)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]

    login = browser.put(base + "login", json={"username": user["Username"]})
    assert login.status_code == 204

    # 1. the form
    form = browser.post(base + "uploads", json={})
    assert form.status_code == 201
    form = form.json()

    # 2. the upload, straight to the emulated bucket, fields first and the file last
    colour = (20, 110, 190)
    image = image_bytes("PNG", size=(64, 64), color=colour)
    posted = requests.post(
        form["url"],
        data={**form["fields"], "Content-Type": "image/png"},
        files={"file": ("me.png", image, "image/png")},
        headers={"Origin": base.rstrip("/")},
    )
    assert posted.status_code == 204
    assert posted.headers.get("Access-Control-Allow-Origin")

    # The bucket's notification reached the Lambda handler through the bridge.
    logged = _wait_for_line(stack["lines"], r'"event": "pending_upload".*' + form["key"])
    assert logged is not None

    # 3. finalize
    final = browser.post(base + "avatar", json={"key": form["key"]})
    assert final.status_code == 200
    avatar = final.json()["avatar"]
    assert avatar == f"avatars/{form['key']}"
    # The avatar is a new image made from the upload's pixels, served as WebP.
    served = requests.get(final.json()["avatarUrl"])
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/webp"
    assert "immutable" in served.headers["Cache-Control"]
    with Image.open(io.BytesIO(served.content)) as stored:
        assert (stored.format, stored.size) == ("WEBP", (64, 64))
    assert colours_close(image_colour(served.content), colour)

    items = {item["Username"]: item for item in browser.get(base + "debug/table").json()["items"]}
    assert items[user["Username"]]["Avatar"] == avatar
    keys = [entry["key"] for entry in browser.get(base + "debug/bucket").json()["objects"]]
    assert avatar in keys
    assert user["Avatar"] not in keys
    assert not any(key.startswith("pending/") for key in keys)


def test_an_upload_never_finalized_shows_as_pending_with_an_expiry(stack):
    base = stack["url"]
    browser = requests.Session()
    user, _ = load_seed()[1]
    assert browser.put(base + "login", json={"username": user["Username"]}).status_code == 204
    form = browser.post(base + "uploads", json={}).json()
    assert post_file(form, image_bytes("PNG")).status_code == 204

    objects = browser.get(base + "debug/bucket").json()["objects"]
    (pending,) = [entry for entry in objects if entry["key"] == f"pending/{form['key']}"]
    assert pending["expiration"].endswith("T00:00:00Z")
    assert pending["metadata"] == {"username": user["Username"]}


def test_a_large_photo_becomes_an_avatar_no_larger_than_512_pixels(stack):
    """Over HTTP, a file of several megabytes (the form allows 10 MiB) is finalized
    into a small WebP of the same proportions."""
    base = stack["url"]
    browser = requests.Session()
    user, _ = load_seed()[2]
    assert browser.put(base + "login", json={"username": user["Username"]}).status_code == 204
    form = browser.post(base + "uploads", json={}).json()
    assert form["maxBytes"] == 10 * 1024 * 1024
    # Noise does not compress: the PNG is about as large as its pixels.
    noise = Image.frombytes("RGB", (1600, 1200), os.urandom(1600 * 1200 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    photo = buffer.getvalue()
    assert 1024 * 1024 < len(photo) <= form["maxBytes"]
    assert post_file(form, photo).status_code == 204

    final = browser.post(base + "avatar", json={"key": form["key"]})

    assert final.status_code == 200, final.text
    served = requests.get(final.json()["avatarUrl"])
    assert served.headers["Content-Type"] == "image/webp"
    assert len(served.content) < len(photo) // 10
    with Image.open(io.BytesIO(served.content)) as stored:
        assert stored.size == (512, 384)


def test_avatars_come_from_one_stable_url_the_browser_may_keep(stack):
    base = stack["url"]
    first = requests.get(base + "users", timeout=10).json()["users"]
    time.sleep(1.1)  # a presigned URL would carry a new X-Amz-Date
    second = requests.get(base + "users", timeout=10).json()["users"]
    assert first == second
    for user in first:
        # moto's plain object URL, as CloudFront's on AWS: no signature.
        assert user["avatarUrl"].startswith(stack["emulator"] + "/avatars-local/avatars/")
        assert "X-Amz-" not in user["avatarUrl"]
        image = requests.get(user["avatarUrl"], timeout=10)
        assert image.status_code == 200
        assert image.headers["Content-Type"].startswith("image/")
        assert "immutable" in image.headers["Cache-Control"]
    # Only avatars: the page's files (as uploads) stay private to the app.
    private = requests.get(stack["emulator"] + "/avatars-local/web/index.html", timeout=10)
    assert private.status_code == 403
