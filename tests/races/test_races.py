"""Concurrent finalizes against the real local stack (threaded, like Lambda's many containers).

The emulator serializes writes to one item as DynamoDB does, and lets exactly one
of concurrent conditional puts of a key through as S3 does (devtools/moto_patches.py);
a deliberately racy variant of the app shows these checks catch the race.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from devtools.seed import load_seed
from tests.helpers import colours_close, image_bytes, image_colour
from tests.stack import post_file, running_stack

pytestmark = pytest.mark.integration

CONCURRENT = 16


@pytest.fixture(scope="module")
def stack():
    with running_stack() as running:
        yield running["url"]


@pytest.fixture(scope="module")
def racy_stack():
    with running_stack("tests.races.racy_stack") as running:
        yield running["url"]


def signed_in(base, username):
    browser = requests.Session()
    assert browser.put(base + "login", json={"username": username}, timeout=10).status_code == 204
    return browser


FIRST_COLOUR = (0, 80, 160)


def uploaded_forms(base, browser, count):
    forms = []
    for index in range(count):
        form = browser.post(base + "uploads", json={}, timeout=10).json()
        colour = (FIRST_COLOUR[0] + index, *FIRST_COLOUR[1:])
        assert post_file(form, image_bytes("PNG", color=colour)).status_code == 204
        forms.append(form)
    return forms


def at_once(calls):
    """Run the calls on their own threads, released together; their results in order."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def bucket_keys(base):
    objects = requests.get(base + "debug/bucket", timeout=30).json()["objects"]
    return [entry["key"] for entry in objects]


def avatar_state(base, username):
    """The user's Avatar in the table, and every avatars/ object owned by the user."""
    browser = requests.Session()
    items = browser.get(base + "debug/table", timeout=10).json()["items"]
    (item,) = [item for item in items if item["Username"] == username]
    objects = browser.get(base + "debug/bucket", timeout=30).json()["objects"]
    owned = sorted(
        entry["key"]
        for entry in objects
        if entry["key"].startswith("avatars/") and entry["metadata"].get("username") == username
    )
    return item["Avatar"], owned


def finalize_all_at_once(base, username):
    browser = signed_in(base, username)
    forms = uploaded_forms(base, browser, CONCURRENT)
    finalize = [
        (lambda key=form["key"]: browser.post(base + "avatar", json={"key": key}, timeout=30))
        for form in forms
    ]
    return [answer.status_code for answer in at_once(finalize)]


def test_sixteen_concurrent_finalizes_for_one_user_leave_exactly_one_avatar(stack):
    username = load_seed()[0][0]["Username"]

    statuses = finalize_all_at_once(stack, username)

    assert set(statuses) <= {200, 409}, statuses
    avatar, owned = avatar_state(stack, username)
    assert owned == [avatar]


def test_finalize_racing_a_reupload_of_the_same_key_leaves_exactly_one_avatar(stack):
    username = load_seed()[1][0]["Username"]
    browser = signed_in(stack, username)
    (form,) = uploaded_forms(stack, browser, 1)

    def finalize():
        return browser.post(stack + "avatar", json={"key": form["key"]}, timeout=30)

    statuses, live_bytes = [], set()
    uploaded_colours = [FIRST_COLOUR]
    for round_number in range(4):
        colour = (60 * round_number, 200, 9)
        uploaded_colours.append(colour)
        again = image_bytes("PNG", color=colour)
        answer, reupload = at_once([finalize, lambda again=again: post_file(form, again)])
        assert reupload.status_code == 204
        statuses.append(answer.status_code)
        if answer.status_code == 200:
            live_bytes.add(requests.get(answer.json()["avatarUrl"], timeout=10).content)
    settled = finalize()

    assert set(statuses) <= {200, 409}, statuses
    assert settled.status_code == 200
    live_bytes.add(requests.get(settled.json()["avatarUrl"], timeout=10).content)
    # Once finalized, the avatar's bytes never change, whatever reaches pending/.
    assert len(live_bytes) == 1
    # They were made from one of this user's uploads, whichever finalize read.
    (live,) = live_bytes
    assert any(colours_close(image_colour(live), colour) for colour in uploaded_colours)
    avatar, owned = avatar_state(stack, username)
    assert owned == [avatar] == [f"avatars/{form['key']}"]


def test_concurrent_finalizes_of_one_key_all_answer_200_with_one_avatar_object(stack):
    """All read the same upload; one put stores the avatar (the emulator makes
    conditional puts atomic, as S3 does) and the others meet it (412): already
    the avatar, or this user's own object, committed again."""
    username = load_seed()[0][0]["Username"]
    browser = signed_in(stack, username)
    (form,) = uploaded_forms(stack, browser, 1)
    finalize = [
        lambda: browser.post(stack + "avatar", json={"key": form["key"]}, timeout=30)
    ] * CONCURRENT

    answers = at_once(finalize)

    assert [answer.status_code for answer in answers] == [200] * CONCURRENT
    assert {answer.json()["avatar"] for answer in answers} == {f"avatars/{form['key']}"}
    avatar, owned = avatar_state(stack, username)
    assert owned == [avatar] == [f"avatars/{form['key']}"]
    assert f"pending/{form['key']}" not in bucket_keys(stack)


def test_the_checks_catch_a_read_then_write_swap(racy_stack):
    username = load_seed()[2][0]["Username"]

    statuses = finalize_all_at_once(racy_stack, username)

    avatar, owned = avatar_state(racy_stack, username)
    assert set(statuses) <= {200, 409}
    # Concurrent swaps read the same old avatar: the others' objects are orphaned.
    assert owned != [avatar]
    assert avatar in owned and len(owned) > 1
