"""The page in a real browser against the real local stack (moto server + chalice local).

Each test gets a fresh browser context (fixture `page`), so each signs in on
its own; the stack is shared by the module, so every test reads the state it
starts from instead of assuming the seed. Tests that change a user's avatar
use different seed users where that keeps them independent.
"""

import io
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshot.png"
USERS = ("emmasmith", "kburns", "charleshardy")
AVATAR_VALUE = re.compile(r"^avatars/[0-9a-f]{32}$")
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


# ---------------------------------------------------------------- helpers


def png(color, size=200):
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, format="PNG")
    return buffer.getvalue()


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
    """Choose a file in `selector`; return the step-1 answer (the form and its key)."""
    with page.expect_response(
        lambda r: r.url.endswith("/uploads") and r.request.method == "POST", timeout=TIMEOUT
    ) as answer:
        page.set_input_files(selector, files=[file_payload(data, **payload)])
    return answer.value.json()


# ---------------------------------------------------------------- tests


def test_the_page_loads_with_three_users_their_avatars_and_both_debug_views(page):
    wait_for_page(page)
    expect(page.locator("#users .user-card")).to_have_count(3)
    for username in USERS:
        expect(card(page, username)).to_be_visible()
        assert AVATAR_VALUE.match(table_avatar(page, username))
    assert page.evaluate("() => [...document.querySelectorAll('#users img')].length") == 3
    assert any(key.startswith("avatars/") for key in bucket_keys(page))
    expect(page.locator("#bucket-count")).to_be_hidden()  # every object is shown
    expect(page.locator("#whoami")).to_have_text("not signed in")
    expect(page.locator("#uploads")).to_be_hidden()
    assert page.console_errors == []


def test_a_user_signs_in_with_the_keyboard(page):
    wait_for_page(page)
    button = card(page, "kburns").locator(".sign-in")
    button.focus()
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(card(page, "kburns")).to_have_class(re.compile(r"\bsigned-in\b"))
    expect(card(page, "kburns").locator(".badge")).to_have_text("signed in")
    expect(page.locator("#whoami")).to_have_text("kburns")
    expect(page.locator("#uploads")).to_be_visible()
    expect(page.locator("#sign-out")).to_be_visible()
    # Every file input has a label the browser associates with it.
    for input_id in ("upload-normal", "upload-skip-finalize", "upload-reuse-form"):
        assert page.evaluate(f"() => document.getElementById('{input_id}').labels.length") == 1
    assert page.console_errors == []


def test_a_normal_upload_replaces_the_avatar_everywhere(page):
    user, colour = "emmasmith", (230, 40, 170)
    sign_in(page, user)
    before_avatar = table_avatar(page, user)
    before_pixel = displayed_centre_pixel(page, user)
    assert not same_colour(before_pixel, colour)
    assert before_avatar in bucket_keys(page)

    form = upload(page, "#upload-normal", png(colour))
    after_avatar = wait_for_table_avatar_change(page, user, before_avatar)

    assert after_avatar == f"avatars/{form['key']}"
    assert AVATAR_VALUE.match(after_avatar)
    expect(page.locator("#step-status")).to_have_text("done")
    expect(page.locator("#steps li")).to_have_count(3)
    for step in page.locator("#steps li").all():
        expect(step).to_have_attribute("data-state", "done")
    assert page.evaluate(
        "() => { const p = document.querySelector('#progress'); return [p.value, p.max]; }"
    ) == [100, 100]
    assert same_colour(displayed_centre_pixel(page, user), colour)
    keys = bucket_keys(page)
    assert after_avatar in keys
    assert before_avatar not in keys
    expect(page.locator("#error")).to_have_text("")
    assert page.console_errors == []


def test_an_upload_without_finalize_leaves_a_pending_object_that_expires(page):
    user = "kburns"
    sign_in(page, user)
    before_avatar = table_avatar(page, user)

    form = upload(page, "#upload-skip-finalize", png((20, 200, 60)))
    pending = f"pending/{form['key']}"
    expect(bucket_row(page, pending)).to_have_count(1, timeout=TIMEOUT)
    wait_until_idle(page)

    expiration = bucket_row(page, pending).locator("td").nth(5).text_content().strip()
    assert expiration and expiration != "—"
    assert table_avatar(page, user) == before_avatar
    expect(page.locator("#steps [data-step=form]")).to_have_attribute("data-state", "done")
    expect(page.locator("#steps [data-step=upload]")).to_have_attribute("data-state", "done")
    expect(page.locator("#steps [data-step=finalize]")).to_have_attribute("data-state", "pending")
    assert page.console_errors == []


def test_reusing_the_form_keeps_the_first_uploads_avatar(page):
    user, colour = "charleshardy", (250, 200, 10)
    sign_in(page, user)
    before_avatar = table_avatar(page, user)

    form = upload(page, "#upload-reuse-form", png(colour))
    expect(page.locator("#step-status")).to_have_text(re.compile(r"^done"), timeout=TIMEOUT)
    wait_for_table_avatar_change(page, user, before_avatar)

    assert table_avatar(page, user) == f"avatars/{form['key']}"
    assert (
        page.evaluate(
            f"() => document.querySelector('.user-card[data-username=\"{user}\"] img').naturalWidth"
        )
        > 0
    )
    assert same_colour(displayed_centre_pixel(page, user), colour)


def test_bad_files_show_an_error_and_change_nothing(page):
    user = "kburns"
    sign_in(page, user)
    before_avatar = table_avatar(page, user)
    error = page.locator("#error")

    # Text renamed .png: passes the browser's type check, the app refuses it at finalize.
    upload(page, "#upload-normal", b"hello", name="text.png")
    expect(error).not_to_have_text("", timeout=TIMEOUT)
    wait_until_idle(page)
    assert table_avatar(page, user) == before_avatar
    expect(page.locator("#step-status")).to_have_text(re.compile(r"^failed: .+"))
    expect(page.locator("#steps [data-step=finalize]")).to_have_attribute("data-state", "error")

    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
    # An SVG declared as such: refused in the browser before step 1.
    page.set_input_files(
        "#upload-normal", files=[file_payload(svg, name="a.svg", mime="image/svg+xml")]
    )
    expect(error).to_contain_text("a.svg")
    # An SVG declared as PNG: the app refuses it at finalize.
    page.evaluate("() => { document.querySelector('#error').textContent = ''; }")
    upload(page, "#upload-normal", svg, name="svg.png")
    expect(error).not_to_have_text("", timeout=TIMEOUT)
    wait_until_idle(page)
    assert table_avatar(page, user) == before_avatar

    # Over 1 MiB: refused in the browser, no request at all.
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    big = png((1, 2, 3), size=16) + b"\0" * (1024 * 1024)
    page.set_input_files("#upload-normal", files=[file_payload(big, name="big.png")])
    expect(error).to_contain_text("big.png")
    expect(error).to_contain_text("limit")
    page.wait_for_timeout(300)
    assert not [url for url in requests if "uploads" in url], requests
    assert table_avatar(page, user) == before_avatar


def test_signing_out_hides_the_uploads(page):
    sign_in(page, "emmasmith")
    page.locator("#sign-out").click()
    expect(page.locator("#whoami")).to_have_text("not signed in")
    expect(page.locator("#uploads")).to_be_hidden()
    expect(page.locator("#sign-out")).to_be_hidden()
    expect(page.locator(".user-card.signed-in")).to_have_count(0)
    assert page.console_errors == []


def test_a_network_failure_in_the_s3_upload_shows_an_error_and_keeps_the_avatar(page):
    user = "charleshardy"
    sign_in(page, user)
    before_avatar = table_avatar(page, user)
    # The S3 POST goes to the emulator (127.0.0.1:<moto port>/avatars-local), not the app.
    page.route(
        re.compile(r".*127\.0\.0\.1:\d+/avatars-local.*"),
        lambda route: route.abort() if route.request.method == "POST" else route.continue_(),
    )

    form = upload(page, "#upload-normal", png((0, 90, 255)))
    assert form["url"].rstrip("/").endswith("/avatars-local")
    expect(page.locator("#error")).to_contain_text("Upload to S3 failed", timeout=TIMEOUT)
    wait_until_idle(page)
    expect(page.locator("#steps [data-step=upload]")).to_have_attribute("data-state", "error")
    expect(page.locator("#step-status")).to_have_text(re.compile(r"^failed: "))
    assert table_avatar(page, user) == before_avatar
    assert (
        page.evaluate(
            f"() => document.querySelector('.user-card[data-username=\"{user}\"] img').naturalWidth"
        )
        > 0
    )


def test_a_screenshot_after_an_avatar_change_is_saved_to_docs(page):
    user, colour = "emmasmith", (30, 160, 220)
    sign_in(page, user)
    before_avatar = table_avatar(page, user)
    upload(page, "#upload-normal", png(colour))
    wait_for_table_avatar_change(page, user, before_avatar)
    assert same_colour(displayed_centre_pixel(page, user), colour)

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(SCREENSHOT) as image:
        assert image.format == "PNG" and image.width >= 1200
