"""Headless Chromium (Debian's package) driven by Playwright against the real local stack.

Without /usr/bin/chromium these tests skip with one line naming the package;
CI sets E2E_REQUIRED=1, which turns that skip into a failure.
"""

from pathlib import Path

import boto3
import pytest

from devtools.chromium import CHROMIUM, CHROMIUM_FLAGS
from tests.e2e import photos
from tests.helpers import mark_suite
from tests.stack import running_stack

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def pytest_collection_modifyitems(config, items):
    mark_suite(
        items,
        "tests/e2e/",
        pytest.mark.e2e,
        available=Path(CHROMIUM).exists(),
        missing="browser tests need Chromium: apt-get install -y chromium",
        required_variable="E2E_REQUIRED",
    )


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def stack():
    """The local stack: {"url": the app, "emulator": the emulator's endpoint, ...}."""
    with running_stack() as running:
        yield running


@pytest.fixture(scope="module")
def stack_url(stack):
    return stack["url"]


@pytest.fixture(scope="module")
def s3(stack):
    """A client on the stack's emulator, to read back what the page stored.

    tests/conftest.py exports fake credentials and the region; the emulator
    takes any.
    """
    return boto3.client("s3", endpoint_url=stack["emulator"])


@pytest.fixture(scope="session")
def phone_photo():
    """A 12 MP sideways JPEG with EXIF (tests/e2e/photos.py), made once."""
    return photos.phone_photo()


@pytest.fixture(scope="session")
def large_phone_photo():
    """That photo with strong noise at quality 100, over the upload limit, made once."""
    return photos.large_phone_photo()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.test_failed = report.failed


@pytest.fixture
def page(browser, stack_url, request):
    """A fresh browser context on the page; console errors collected; a screenshot on failure."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.console_errors = []
    page.on(
        "console",
        lambda message: message.type == "error" and page.console_errors.append(message.text),
    )
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    page.goto(stack_url)
    yield page
    if getattr(request.node, "test_failed", False):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
