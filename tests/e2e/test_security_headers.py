"""The security headers, and the page working under its Content-Security-Policy.

Against the real local stack (issue 13, item 4):

- The page loads its users and their avatars (from the S3 emulator, another
  origin), signs in and changes an avatar through the three steps while the
  browser reports no CSP violation, neither as a `securitypolicyviolation`
  event nor on the console.
- A control: in a page set up the same way, things the policy must refuse
  (an inline script, an inline style, an image and a fetch on an origin it
  does not name) are refused and reported, so the first test cannot pass
  because nothing is listening.
- The headers themselves: the page and its assets carry the page's policy,
  directive by directive, naming the emulator's origin that the avatar URLs
  and the upload form really use; JSON answers, errors included, carry the
  JSON policy, nosniff, no-referrer and no-store.
- Another origin that frames the page gets nothing of it: the browser blocks
  the frame and loads none of the app's scripts into it.
"""

import html
import http.server
import re
import threading
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.page import (
    ALL_AVATARS_LOADED,
    TIMEOUT,
    USERS,
    card,
    displayed_centre_pixel,
    same_colour,
    sign_in,
    table_avatar,
    upload,
    wait_for_page,
    wait_for_table_avatar_change,
)
from tests.e2e.photos import png

PAGE_PATHS = ("", "static/app.js", "static/style.css")
JSON_DIRECTIVES = {"default-src": {"'none'"}, "frame-ancestors": {"'none'"}}

# Registered before any script of the page runs: every violation the browser
# reports to the document (events from elements bubble up to it).
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.cspViolations.push({
    violatedDirective: event.violatedDirective,
    effectiveDirective: event.effectiveDirective,
    blockedURI: event.blockedURI,
    sourceFile: event.sourceFile,
    lineNumber: event.lineNumber,
  });
});
"""
CSP_CONSOLE = re.compile(r"Content Security Policy|Refused to")


# ---------------------------------------------------------------- helpers


def directives(policy):
    """A Content-Security-Policy as {directive: set of sources}."""
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        assert name.lower() not in parsed, f"{name} twice in {policy!r}"
        parsed[name.lower()] = set(sources)
    return parsed


def origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def watch_csp(page):
    """Record CSP violations from the next load on; return the console lines about CSP.

    The `page` fixture has already loaded the page, so this reloads it with
    the listener in place before the page's modules run.
    """
    console = []
    page.on(
        "console",
        lambda message: CSP_CONSOLE.search(message.text) and console.append(message.text),
    )
    page.add_init_script(RECORD_VIOLATIONS)
    page.reload()
    return console


def violations(page):
    return page.evaluate("() => window.cspViolations")


def signed_in_session(stack_url, username):
    session = requests.Session()
    answer = session.put(urljoin(stack_url, "login"), json={"username": username}, timeout=10)
    assert answer.status_code == 204, answer.text
    return session


# ---------------------------------------------------------------- in the browser


def test_the_page_loads_signs_in_and_changes_an_avatar_with_no_csp_violation(page, stack):
    console = watch_csp(page)
    user, colour = "kburns", (200, 120, 20)

    # The cards and their avatars, loaded from the emulator's origin.
    wait_for_page(page)
    expect(page.locator("#users .user-card")).to_have_count(len(USERS))
    avatars = page.evaluate(
        "() => [...document.querySelectorAll('#users img')]"
        ".map((img) => [img.src, img.naturalWidth])"
    )
    assert len(avatars) == len(USERS)
    for src, width in avatars:
        assert origin(src) == origin(stack["emulator"]), src
        assert width > 0, src
    # The stylesheet applied: a rule of static/style.css, not the browser's default.
    assert page.evaluate("() => document.styleSheets.length") == 1
    assert page.evaluate("() => document.styleSheets[0].cssRules.length") > 0

    # A full normal upload through the file input.
    sign_in(page, user)
    before_avatar = table_avatar(page, user)
    form = upload(page, "#upload-normal", png(colour))
    assert origin(form["url"]) == origin(stack["emulator"])
    after_avatar = wait_for_table_avatar_change(page, user, before_avatar)

    expect(page.locator("#step-status")).to_have_text("done")
    expect(page.locator("#error")).to_have_text("")
    assert after_avatar == f"avatars/{form['key']}"
    assert f"/{after_avatar}" in card(page, user).locator("img.avatar").get_attribute("src")
    page.wait_for_function(ALL_AVATARS_LOADED, timeout=TIMEOUT)
    assert same_colour(displayed_centre_pixel(page, user), colour)

    assert violations(page) == []
    assert console == []
    assert page.console_errors == []


def test_what_the_policy_forbids_is_blocked_and_reported(page):
    console = watch_csp(page)
    wait_for_page(page)
    assert violations(page) == []

    page.evaluate(
        """async () => {
          const script = document.createElement('script');
          script.textContent = 'window.inlineScriptRan = true;';
          document.body.append(script);
          document.body.append(Object.assign(document.createElement('style'), {
            textContent: 'body { outline: 9px solid red; }',
          }));
          document.querySelector('h1').setAttribute('style', 'color: red');
          document.body.append(Object.assign(document.createElement('img'), {
            src: 'http://example.invalid/x.png',
          }));
          try { await fetch('http://example.invalid/data.json'); } catch {}
        }"""
    )
    page.wait_for_function("() => window.cspViolations.length >= 5", timeout=TIMEOUT)

    found = {(v["effectiveDirective"], v["blockedURI"]) for v in violations(page)}
    assert found >= {
        ("script-src-elem", "inline"),
        ("style-src-elem", "inline"),
        ("style-src-attr", "inline"),
        ("img-src", "http://example.invalid/x.png"),
        ("connect-src", "http://example.invalid/data.json"),
    }, found
    # Blocked, not merely reported.
    assert page.evaluate("() => window.inlineScriptRan") is None
    h1_colour = page.evaluate("() => getComputedStyle(document.querySelector('h1')).color")
    assert h1_colour != "rgb(255, 0, 0)"
    assert page.evaluate("() => getComputedStyle(document.body).outlineWidth") != "9px"
    # And the console says so too (Chromium's wording changes between versions;
    # the directive it names does not).
    reported = [line for line in console if "Content Security Policy" in line]
    for name in ("script-src", "style-src", "img-src", "connect-src"):
        directive = f"{name} 'self'"
        assert any(directive in line for line in reported), (directive, console)


@pytest.fixture
def framer():
    """`serve(html)`: the URL of a page holding `html` on another loopback origin.

    A real server on 127.0.0.1 rather than a routed made-up host: Chromium
    blocks a public origin from framing a loopback one on its own (Local
    Network Access), which would hide what the app's headers do.
    """
    pages = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(document):
        pages["/framer.html"] = document
        return f"http://127.0.0.1:{server.server_port}/framer.html"

    yield serve
    server.shutdown()
    server.server_close()
    thread.join()


def test_another_origin_cannot_frame_the_page(page, stack_url, framer):
    # The control: an avatar on the emulator, also another loopback origin,
    # without frame-ancestors. It loads, so a refusal of the app is the app's.
    avatar_url = next(
        user["avatarUrl"]
        for user in requests.get(urljoin(stack_url, "users"), timeout=10).json()["users"]
        if user["avatarUrl"]
    )
    url = framer(
        "<!doctype html>"
        f'<iframe name="app" src="{html.escape(stack_url)}"></iframe>'
        f'<iframe name="control" src="{html.escape(avatar_url)}"></iframe>'
    )
    assert origin(url) != origin(stack_url)
    page.goto("about:blank")  # away from the app the fixture loaded, before listening
    refused, requested = [], []
    page.on("requestfailed", lambda request: refused.append((request.url, request.failure)))
    page.on("request", lambda request: requested.append(request.url))

    # The frames' load events come before the framer's, which goto waits for.
    with page.expect_console_message(
        lambda message: "frame-ancestors 'none'" in message.text
    ) as said:
        page.goto(url)

    assert "Content Security Policy" in said.value.text and stack_url in said.value.text
    assert (stack_url, "net::ERR_BLOCKED_BY_RESPONSE") in refused, refused
    # The app's frame shows the browser's error page; none of the app's files loaded in it.
    assert page.frame(name="app").url.startswith("chrome-error://"), page.frame(name="app").url
    static = urljoin(stack_url, "static/")
    assert not any(request.startswith(static) for request in requested), requested
    assert page.frame(name="control").url == avatar_url


# ---------------------------------------------------------------- the headers


@pytest.fixture(scope="module")
def s3_origins_in_use(stack_url):
    """The origins the page really reaches: of the avatar URLs and of the upload form."""
    users = requests.get(urljoin(stack_url, "users"), timeout=10).json()["users"]
    avatar_urls = [user["avatarUrl"] for user in users if user["avatarUrl"]]
    assert avatar_urls
    session = signed_in_session(stack_url, USERS[0])
    form = session.post(urljoin(stack_url, "uploads"), json={}, timeout=10)
    assert form.status_code == 201, form.text
    return {origin(url) for url in [*avatar_urls, form.json()["url"]]}


@pytest.mark.parametrize("path", PAGE_PATHS, ids=lambda path: path or "page")
def test_the_page_and_its_assets_carry_the_page_policy(stack, stack_url, s3_origins_in_use, path):
    reached = s3_origins_in_use
    assert reached == {origin(stack["emulator"])}
    answer = requests.get(urljoin(stack_url, path), timeout=10)
    assert answer.status_code == 200

    policy = answer.headers["Content-Security-Policy"]
    assert directives(policy) == {
        "default-src": {"'none'"},
        "script-src": {"'self'"},
        "style-src": {"'self'"},
        "img-src": {"'self'", "data:", *reached},
        "connect-src": {"'self'", *reached},
        "form-action": {"'self'"},
        "frame-ancestors": {"'none'"},
        "base-uri": {"'none'"},
    }, policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "users", 200),
        ("GET", "whoami", 200),
        ("GET", "nope", 404),
        ("DELETE", "users", 405),
    ],
)
def test_json_answers_carry_the_json_policy_and_are_not_stored(stack_url, method, path, status):
    answer = requests.request(method, urljoin(stack_url, path), timeout=10)
    assert answer.status_code == status
    assert answer.headers["Content-Type"].startswith("application/json")
    answer.json()
    assert directives(answer.headers["Content-Security-Policy"]) == JSON_DIRECTIVES
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["Cache-Control"] == "no-store"
