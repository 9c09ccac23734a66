"""Bytes for one 12 MP phone photo: as picked, as the page sends it, as the avatar is served.

What the page sends is measured in the page itself where it can be: headless
Chromium opens the stack's page and calls static/prepare.js on the photo.
Without Chromium (or Playwright, or that module) it is modelled with Pillow,
and the row says so.
"""

import base64
import importlib.util
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple, Optional

from PIL import Image

from chalicelib.images import AvatarRules, make_avatar
from devtools.chromium import CHROMIUM, CHROMIUM_FLAGS

from .image_processing import MIB
from .photos import PREPARED_MAX_SIDE, phone_photo, prepared_like_the_page
from .report import Figure

SECTION = "Bytes for a 12 MP phone photo: picked, sent, served"
LINK_BITS_PER_SECOND = 10_000_000
TARGET_SENT_BYTES = MIB
TARGET_SERVED_BYTES = 64_000

# Runs in the page: the photo becomes a File, as an <input type=file> gives it.
_PREPARE_IN_PAGE = """
async ({data, type, maxSide}) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const file = new File([bytes], "photo.jpg", {type});
  const {prepareImage} = await import("./static/prepare.js");
  const upload = await prepareImage(file, {maxSide});
  const sent = new Uint8Array(await upload.blob.arrayBuffer());
  let binary = "";
  for (let start = 0; start < sent.length; start += 0x8000) {
    binary += String.fromCharCode(...sent.subarray(start, start + 0x8000));
  }
  return {data: btoa(binary), type: upload.type, prepared: upload.prepared, reason: upload.reason};
}
"""


class Sent(NamedTuple):
    content: bytes
    how: str  # "measured in Chromium", or "modelled with Pillow" and why


def measure_photo_bytes(stack) -> list:
    photo = phone_photo()
    sent = prepared_in_chromium(stack.app_url, photo)
    return photo_bytes_figures(photo, sent, AvatarRules.from_settings(stack.settings))


def prepared_in_chromium(app_url: str, photo: bytes) -> Sent:
    """What the stack's page sends for `photo`, or Pillow's model of it if the page cannot run."""
    unavailable = _why_no_browser()
    if unavailable:
        return Sent(prepared_like_the_page(photo), f"modelled with Pillow ({unavailable})")
    # In a thread of its own: Playwright's sync API refuses to start in a
    # thread whose asyncio loop runs, as the browser tests' does when they
    # ran first in the same pytest process.
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(_prepare_in_page, app_url, photo).result()


def _prepare_in_page(app_url: str, photo: bytes) -> Sent:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page()
                page.goto(app_url)
                answer = page.evaluate(
                    _PREPARE_IN_PAGE,
                    {
                        "data": base64.b64encode(photo).decode("ascii"),
                        "type": "image/jpeg",
                        "maxSide": PREPARED_MAX_SIDE,
                    },
                )
            finally:
                browser.close()
    except PlaywrightError as error:
        reason = str(error).splitlines()[0][:120]
        return Sent(prepared_like_the_page(photo), f"modelled with Pillow (Chromium: {reason})")
    how = "measured in Chromium"
    if not answer["prepared"]:
        how += f"; the page sent the photo as it is ({answer['reason']})"
    return Sent(base64.b64decode(answer["data"]), how)


def photo_bytes_figures(photo: bytes, sent: Sent, rules) -> list:
    """The three sizes; the served ones are make_avatar's real output."""
    served = make_avatar(photo, rules)
    served_from_sent = make_avatar(sent.content, rules)
    return [
        Figure(
            SECTION,
            "the photo as picked (4032x3024 JPEG, EXIF Orientation 6 and GPS)",
            f"{_size(len(photo))}; {_transfer(len(photo))}",
        ),
        Figure(
            SECTION,
            f"what the page sends: static/prepare.js, {PREPARED_MAX_SIDE} px, {sent.how}",
            f"{_size(len(sent.content))}, {_describe(sent.content)}, "
            f"{len(photo) / len(sent.content):.0f}x smaller; {_transfer(len(sent.content))}",
            f"<= {_size(TARGET_SENT_BYTES)}",
            len(sent.content) <= TARGET_SENT_BYTES,
        ),
        Figure(
            SECTION,
            "the avatar served: make_avatar's output for the photo as picked",
            f"{_size(len(served.data))}, {served.width}x{served.height} {served.content_type}",
            f"<= {TARGET_SERVED_BYTES:,} bytes",
            len(served.data) <= TARGET_SERVED_BYTES,
        ),
        Figure(
            SECTION,
            "the avatar served: make_avatar's output for what the page sends",
            f"{_size(len(served_from_sent.data))}, "
            f"{served_from_sent.width}x{served_from_sent.height} {served_from_sent.content_type}",
        ),
    ]


def _why_no_browser() -> Optional[str]:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM}"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed"
    return None


def _describe(content: bytes) -> str:
    with Image.open(io.BytesIO(content)) as image:
        return f"{image.width}x{image.height} {image.format}"


def _size(size: int) -> str:
    if size >= MIB:
        return f"{size:,} bytes ({size / MIB:.2f} MB)"
    return f"{size:,} bytes ({size / 1024:.1f} KB)"


def _transfer(size: int) -> str:
    return f"{size * 8 / LINK_BITS_PER_SECOND:.2f} s at 10 Mbit/s, modelled"
