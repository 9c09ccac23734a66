"""Driving the page in the e2e tests: finding its parts, signing in, uploading, waiting.

Shared by the e2e suites (test_page.py, test_security_headers.py).
"""

import io
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect

USERS = ("emmasmith", "kburns", "charleshardy")
TIMEOUT = 15_000

# Every <img> in #users has loaded with real pixels.
ALL_AVATARS_LOADED = """() => {
  const imgs = [...document.querySelectorAll('#users img')];
  return imgs.length > 0 && imgs.every((img) => img.complete && img.naturalWidth > 0);
}"""

# The Avatar column of the user's row in the DynamoDB table view, or null.
TABLE_AVATAR = """(username) => {
  for (const row of document.querySelectorAll('#table-table tbody tr')) {
    const cells = row.querySelectorAll('td');
    if (cells.length === 3 && cells[0].textContent === username) return cells[2].textContent;
  }
  return null;
}"""


def file_payload(data, name="a.png", mime="image/png"):
    return {"name": name, "mimeType": mime, "buffer": data}


def card(page, username):
    return page.locator(f'.user-card[data-username="{username}"]')


def table_avatar(page, username):
    return page.evaluate(TABLE_AVATAR, username)


def bucket_keys(page):
    return page.locator("#bucket-table tbody tr td:first-child").all_text_contents()


def bucket_row(page, key):
    return page.locator("#bucket-table tbody tr").filter(has=page.get_by_text(key, exact=True))


def wait_for_page(page):
    page.wait_for_function(ALL_AVATARS_LOADED, timeout=TIMEOUT)
    expect(page.locator("#table-table tbody tr td.mono").first).to_be_visible()


def sign_in(page, username):
    wait_for_page(page)
    card(page, username).locator(".sign-in").click()
    expect(card(page, username)).to_have_class(re.compile(r"\bsigned-in\b"))
    expect(page.locator("#uploads")).to_be_visible()
    wait_for_page(page)


def wait_until_idle(page):
    """The upload flow is over: the inputs are enabled again and avatars have loaded."""
    expect(page.locator("#upload-normal")).to_be_enabled(timeout=TIMEOUT)
    page.wait_for_function(ALL_AVATARS_LOADED, timeout=TIMEOUT)


def wait_for_table_avatar_change(page, username, before):
    page.wait_for_function(
        f"([u, before]) => {{ const v = ({TABLE_AVATAR})(u); return v && v !== before; }}",
        arg=[username, before],
        timeout=TIMEOUT,
    )
    wait_until_idle(page)
    return table_avatar(page, username)


def displayed_centre_pixel(page, username):
    """The centre pixel of the user's avatar as the browser draws it.

    The avatars come from the emulated bucket on another origin whose CORS rule
    allows POST only, so drawing them into a canvas would taint it and
    getImageData would throw; a screenshot of the <img> reads what the page shows.
    """
    img = card(page, username).locator("img.avatar")
    expect(img).to_be_visible()
    shot = Image.open(io.BytesIO(img.screenshot())).convert("RGB")
    return shot.getpixel((shot.width // 2, shot.height // 2))


def same_colour(actual, expected, tolerance=3):
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected))


def upload(page, selector, data, **payload):
    """Choose a file in `selector`; return the step-1 answer (the form and its key).

    `data` is the file's bytes, or a Path (its type then comes from its
    extension): megabytes pass far faster as a path than through the protocol.
    """
    files = data if isinstance(data, Path) else [file_payload(data, **payload)]
    with page.expect_response(
        lambda r: r.url.endswith("/uploads") and r.request.method == "POST", timeout=TIMEOUT
    ) as answer:
        page.set_input_files(selector, files=files)
    return answer.value.json()
