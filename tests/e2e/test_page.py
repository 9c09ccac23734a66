"""The page in a real browser against the real local stack (moto server + chalice local).

Each test gets a fresh browser context (fixture `page`), so each signs in on
its own; the stack is shared by the module, so every test reads the state it
starts from instead of assuming the seed. Tests that change a user's avatar
use different seed users where that keeps them independent.
"""

import io
import re
from pathlib import Path
from urllib.parse import urljoin

import requests
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.page import (
    TIMEOUT,
    USERS,
    bucket_keys,
    bucket_row,
    card,
    displayed_centre_pixel,
    file_payload,
    same_colour,
    sign_in,
    table_avatar,
    upload,
    wait_for_page,
    wait_for_table_avatar_change,
    wait_until_idle,
)
from tests.e2e.photos import (
    BLUE,
    EXIF_STRINGS,
    HEIC_LIKE,
    RED,
    is_colour,
    png,
    undecodable,
    upright_corners,
)
from tests.helpers import webp_chunks

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"
# What chalicelib/web.py serves: flat names only.
ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\.(html|js|css)")
# The module specifier of each static import ("import { x } from "./x.js";").
IMPORT = re.compile(r'^\s*import\b(?:[^;"]*?\bfrom)?\s*"([^"]+)"', re.M)
SCREENSHOT = ROOT / "docs" / "screenshot.png"
AVATAR_VALUE = re.compile(r"^avatars/[0-9a-f]{32}$")
MIB = 1024 * 1024
LIMIT = 10 * MIB  # MAX_UPLOAD_BYTES of the local stage
ACCEPTED = "JPEG, PNG, GIF or WebP"

# ---------------------------------------------------------------- helpers


def record_requests(page):
    """Every request the page makes from now on."""
    seen = []
    page.on("request", lambda request: seen.append(request))
    return seen


def capture_bucket_posts(page, stack):
    """The body of every step-2 POST (to the emulator's bucket URL) from now on.

    Read from a route: for a body built from a Blob, as the page's FormData
    is, Playwright's request events carry no post data.
    """
    bodies = []

    def record(route):
        if route.request.method == "POST":
            bodies.append(route.request.post_data_buffer)
        route.continue_()

    page.route(re.compile(re.escape(stack["emulator"]) + r"/[^/?]+/?$"), record)
    return bodies


def bucket_name(form):
    """The bucket a form posts to: the emulator's URLs are path-style."""
    return form["url"].rstrip("/").rsplit("/", 1)[1]


def finalizes(seen):
    return [r for r in seen if r.method == "POST" and r.url.endswith("/avatar")]


def multipart_field(body, name):
    """The value of a text field in a multipart/form-data body, or None."""
    match = re.search(rb'name="' + re.escape(name.encode()) + rb'"\r\n\r\n([^\r]*)\r\n', body)
    return match.group(1).decode() if match else None


def log_lines(page):
    return page.locator("#log li").all_text_contents()


# Records what #step-status says and every change of a step's data-state
# ([step, the state it had before]), however quickly they change.
RECORD_STEPS = """() => {
  const history = (window.stepHistory = { status: [], changes: [] });
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) history.status.push(node.textContent);
    }
  }).observe(document.querySelector('#step-status'), { childList: true });
  new MutationObserver((records) => {
    for (const { target, oldValue } of records) history.changes.push([target.dataset.step, oldValue]);
  }).observe(document.querySelector('#steps'), {
    subtree: true, attributes: true, attributeFilter: ['data-state'], attributeOldValue: true,
  });
}"""
RECORDED_STEPS = """() => ({
  status: window.stepHistory.status,
  changes: window.stepHistory.changes,
  final: Object.fromEntries([...document.querySelectorAll('#steps [data-step]')]
    .map((node) => [node.dataset.step, node.dataset.state])),
})"""


def step_timeline(history):
    """The state of every step when recording started and after each change.

    A record holds only the state before the change; the state after it is
    the one before that step's next change, or its final state.
    """
    changes, final = history["changes"], history["final"]
    states = dict(final)
    for step, before in reversed(changes):
        states[step] = before
    timeline = [dict(states)]
    for i, (step, _) in enumerate(changes):
        states[step] = next((before for s, before in changes[i + 1 :] if s == step), final[step])
        timeline.append(dict(states))
    return timeline


def without_repeats(values):
    return [value for i, value in enumerate(values) if values[i - 1 : i] != [value]]


def saved(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


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


def test_every_module_of_the_page_is_served_by_the_app_and_imported_relatively(stack_url):
    # Deployed, the page lives under /api/: only "./name.js" resolves there.
    imports = {}
    for path in sorted(STATIC.glob("*.js")):
        assert ASSET_NAME.fullmatch(path.name), path.name
        answer = requests.get(urljoin(stack_url, f"static/{path.name}"), timeout=10)
        assert answer.status_code == 200, path.name
        assert answer.headers["Content-Type"].startswith("text/javascript")
        assert answer.text == path.read_text()
        imports[path.name] = IMPORT.findall(path.read_text())
        for target in imports[path.name]:
            assert re.fullmatch(r"\./[^/]+\.js", target) and (STATIC / target[2:]).is_file(), target
    # Every module is reached from the entry: none is left over.
    reached, todo = set(), ["app.js"]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(target[2:] for target in imports[name])
    assert reached == set(imports)


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
    # Prepare (in the browser), then the three numbered steps.
    expect(page.locator("#steps li")).to_have_count(4)
    for step in page.locator("#steps li").all():
        expect(step).to_have_attribute("data-state", "done")
    assert page.evaluate(
        "() => { const p = document.querySelector('#progress'); return [p.value, p.max]; }"
    ) == [100, 100]
    assert same_colour(displayed_centre_pixel(page, user), colour)
    keys = bucket_keys(page)
    assert after_avatar in keys
    assert before_avatar not in keys
    # The app stores a new WebP made from the upload's pixels.
    expect(bucket_row(page, after_avatar).locator("td").nth(3)).to_have_text("image/webp")
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
    for step in ("prepare", "form", "upload"):
        expect(page.locator(f"#steps [data-step={step}]")).to_have_attribute("data-state", "done")
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

    # Text renamed .png: declared as an allowed type, so though the browser
    # cannot decode it, it is sent as it is and the app refuses it at finalize.
    upload(page, "#upload-normal", b"hello", name="text.png")
    expect(error).not_to_have_text("", timeout=TIMEOUT)
    wait_until_idle(page)
    assert table_avatar(page, user) == before_avatar
    expect(page.locator("#step-status")).to_have_text(re.compile(r"^failed: .+"))
    expect(page.locator("#steps [data-step=finalize]")).to_have_attribute("data-state", "error")

    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
    # An SVG declared as such: refused in the browser before step 1.
    seen = record_requests(page)
    page.set_input_files(
        "#upload-normal", files=[file_payload(svg, name="a.svg", mime="image/svg+xml")]
    )
    expect(error).to_contain_text("a.svg")
    expect(error).to_contain_text(ACCEPTED)
    # A text file declared as such, and an empty image: refused the same way.
    page.set_input_files(
        "#upload-normal", files=[file_payload(b"hello", name="notes.txt", mime="text/plain")]
    )
    expect(error).to_contain_text("notes.txt")
    page.set_input_files("#upload-normal", files=[file_payload(b"", name="empty.png")])
    expect(error).to_have_text('"empty.png" is empty.')
    page.wait_for_timeout(300)
    assert seen == [], [r.url for r in seen]

    # An SVG declared as PNG: the app refuses it at finalize.
    page.evaluate("() => { document.querySelector('#error').textContent = ''; }")
    upload(page, "#upload-normal", svg, name="svg.png")
    expect(error).not_to_have_text("", timeout=TIMEOUT)
    wait_until_idle(page)
    expect(page.locator("#steps [data-step=finalize]")).to_have_attribute("data-state", "error")
    assert table_avatar(page, user) == before_avatar


def test_a_file_over_the_limit_that_cannot_be_made_smaller_is_never_sent(page, stack, tmp_path):
    user = "kburns"
    sign_in(page, user)
    before_avatar = table_avatar(page, user)
    seen = record_requests(page)
    bucket_posts = capture_bucket_posts(page, stack)

    # Random bytes declared as PNG, one byte over 10 MiB: the browser cannot
    # decode them, so cannot shrink them. Step 1 runs while the browser tries
    # (it costs the app no AWS call); the file itself never leaves the browser.
    form = upload(page, "#upload-normal", saved(tmp_path, "big.png", undecodable(LIMIT + 1)))
    assert form["maxBytes"] == LIMIT
    error = page.locator("#error")
    expect(error).to_contain_text("big.png", timeout=TIMEOUT)
    expect(error).to_contain_text(f"{LIMIT + 1} bytes")
    expect(error).to_contain_text(f"the limit is {LIMIT} bytes")
    wait_until_idle(page)
    expect(page.locator("#steps [data-step=upload]")).to_have_attribute("data-state", "error")
    expect(page.locator("#step-status")).to_have_text(re.compile(r"^failed: .*big\.png"))
    assert bucket_posts == []
    assert finalizes(seen) == []
    assert table_avatar(page, user) == before_avatar
    assert f"pending/{form['key']}" not in bucket_keys(page)


def test_a_12_megapixel_phone_photo_is_sent_small_and_becomes_an_upright_avatar_without_exif(
    page, stack, s3, phone_photo, tmp_path
):
    user = "kburns"
    sign_in(page, user)
    before_avatar = table_avatar(page, user)
    assert 2 * MIB < len(phone_photo) < 4 * MIB
    bucket_posts = capture_bucket_posts(page, stack)

    form = upload(page, "#upload-normal", saved(tmp_path, "IMG_0001.jpg", phone_photo))
    after_avatar = wait_for_table_avatar_change(page, user, before_avatar)
    expect(page.locator("#step-status")).to_have_text("done")
    expect(page.locator("#error")).to_have_text("")

    # (a) Step 2 carried the prepared WebP: at most 1 MiB, typed as what it is, no EXIF.
    [body] = bucket_posts
    assert body is not None and 0 < len(body) <= MIB, len(body or b"")
    assert multipart_field(body, "Content-Type") == "image/webp"
    assert all(marker not in body for marker in EXIF_STRINGS)
    [line] = [text for text in log_lines(page) if "2/3 uploaded" in text]
    assert re.search(
        r"2/3 uploaded [\d.]+ KB \(prepared from \d\.\d MB, 3024x4032 -> 768x1024 WebP\)$", line
    ), line

    # (d) The table points at the new object, and so does the avatar shown.
    assert after_avatar == f"avatars/{form['key']}"
    img = card(page, user).locator("img.avatar")
    src = img.get_attribute("src")
    assert f"/{after_avatar}" in src

    # (b) Shown upright: a portrait, as the app scaled it (longest side 512).
    natural = img.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    assert natural == [384, 512]
    stored = s3.get_object(Bucket=bucket_name(form), Key=after_avatar)
    data = stored["Body"].read()
    with Image.open(io.BytesIO(data)) as avatar:
        assert avatar.format == "WEBP" and avatar.size == (384, 512)
        assert not avatar.getexif()
        corners = upright_corners(avatar)
    assert is_colour(corners["top-left"], RED), corners
    assert is_colour(corners["top-right"], BLUE), corners
    for corner in ("bottom-left", "bottom-right"):
        assert not is_colour(corners[corner], RED) and not is_colour(corners[corner], BLUE), corners

    # (c) Stored and served as WebP, with no EXIF or XMP chunk and none of the photo's strings.
    assert stored["ContentType"] == "image/webp"
    assert requests.get(src, timeout=10).headers["Content-Type"] == "image/webp"
    assert set(webp_chunks(data)) <= {"VP8 ", "VP8L", "VP8X", "ALPH"}, webp_chunks(data)
    assert all(marker not in data for marker in EXIF_STRINGS)
    assert page.console_errors == []


def test_a_photo_over_the_limit_is_sent_prepared_under_it_and_becomes_the_avatar(
    page, stack, large_phone_photo, tmp_path
):
    user = "emmasmith"
    sign_in(page, user)
    before_avatar = table_avatar(page, user)
    assert len(large_phone_photo) > LIMIT
    seen = record_requests(page)
    bucket_posts = capture_bucket_posts(page, stack)

    form = upload(page, "#upload-normal", saved(tmp_path, "IMG_0004.jpg", large_phone_photo))
    assert len(large_phone_photo) > form["maxBytes"]
    after_avatar = wait_for_table_avatar_change(page, user, before_avatar)
    expect(page.locator("#step-status")).to_have_text("done")
    expect(page.locator("#error")).to_have_text("")

    # The limit applies to what is sent: the prepared WebP, not the original.
    [body] = bucket_posts
    assert body is not None and 0 < len(body) <= MIB, len(body or b"")
    assert multipart_field(body, "Content-Type") == "image/webp"
    [line] = [text for text in log_lines(page) if "2/3 uploaded" in text]
    assert re.search(
        r"2/3 uploaded [\d.]+ KB \(prepared from 1\d\.\d MB, 3024x4032 -> 768x1024 WebP\)$", line
    ), line
    [finalize] = finalizes(seen)
    assert finalize.response().status == 200
    assert after_avatar == f"avatars/{form['key']}"
    assert page.console_errors == []


def test_the_status_shows_the_image_being_prepared_while_the_form_is_requested(page):
    user = "charleshardy"
    sign_in(page, user)
    before_avatar = table_avatar(page, user)
    page.evaluate(RECORD_STEPS)

    upload(page, "#upload-normal", png((120, 60, 200), size=1600), name="big-square.png")
    wait_for_table_avatar_change(page, user, before_avatar)
    expect(page.locator("#step-status")).to_have_text("done")

    history = page.evaluate(RECORDED_STEPS)
    status = history["status"]
    assert "preparing…" in status, history
    first_upload = next(i for i, text in enumerate(status) if text.startswith("uploading"))
    assert status.index("preparing…") < first_upload, history
    # Both start in the same task, so they overlap however fast the form answers.
    timeline = step_timeline(history)
    assert any(s["prepare"] == s["form"] == "active" for s in timeline), timeline
    # Choosing a file resets the steps to pending (a no-op change, recorded too).
    prepare = without_repeats([s["prepare"] for s in timeline])
    assert prepare == ["pending", "active", "done"], timeline
    # Step 2 starts once both are done.
    uploading = [s for s in timeline if s["upload"] == "active"]
    assert uploading and all(s["prepare"] == s["form"] == "done" for s in uploading), timeline
    [line] = [text for text in log_lines(page) if "2/3 uploaded" in text]
    assert "1600x1600 -> 1024x1024 WebP" in line, line


def test_a_heic_photo_this_browser_cannot_convert_is_refused_before_it_is_sent(page, stack):
    user = "emmasmith"
    sign_in(page, user)
    before_avatar = table_avatar(page, user)
    seen = record_requests(page)
    bucket_posts = capture_bucket_posts(page, stack)

    # Declared as HEIC (a type the app never accepts) and not decodable by
    # Chromium: sending it could only bring back the app's 415.
    upload(page, "#upload-normal", HEIC_LIKE, name="IMG_0002.heic", mime="image/heic")
    error = page.locator("#error")
    expect(error).to_contain_text("IMG_0002.heic", timeout=TIMEOUT)
    expect(error).to_contain_text("could not be converted by this browser")
    expect(error).to_contain_text(ACCEPTED)
    wait_until_idle(page)
    expect(page.locator("#steps [data-step=upload]")).to_have_attribute("data-state", "error")
    assert bucket_posts == []
    assert finalizes(seen) == []
    assert table_avatar(page, user) == before_avatar


def test_heic_bytes_declared_as_jpeg_are_sent_as_they_are_and_the_apps_415_is_shown(page, stack):
    user = "emmasmith"
    sign_in(page, user)
    before_avatar = table_avatar(page, user)
    seen = record_requests(page)
    bucket_posts = capture_bucket_posts(page, stack)

    # Named .jpg (as some apps save HEIC): an allowed type, so the browser,
    # unable to decode it, sends the original and the app gives its verdict.
    upload(page, "#upload-normal", HEIC_LIKE, name="IMG_0003.jpg", mime="image/jpeg")
    error = page.locator("#error")
    expect(error).to_contain_text("HEIC", timeout=TIMEOUT)
    expect(error).to_contain_text(ACCEPTED)
    wait_until_idle(page)
    [body] = bucket_posts
    assert multipart_field(body, "Content-Type") == "image/jpeg"
    assert HEIC_LIKE in body
    assert len(finalizes(seen)) == 1
    assert any("(415 not_an_image)" in text for text in log_lines(page)), log_lines(page)
    expect(page.locator("#steps [data-step=finalize]")).to_have_attribute("data-state", "error")
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
