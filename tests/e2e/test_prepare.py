"""static/prepare.js on its own: prepareImage called in the page through a dynamic import."""

import base64
import io

import pytest
from PIL import Image, ImageFilter

from tests.e2e.photos import BLUE, EXIF_STRINGS, RED, is_colour, png, undecodable, upright_corners

# Imports the module the page serves and prepares a File of the given bytes;
# the result comes back with its blob as base64.
PREPARE = """async ([data, name, type, options]) => {
  const { prepareImage } = await import(new URL("static/prepare.js", document.baseURI).href);
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const result = await prepareImage(new File([bytes], name, { type }), options);
  const blob = await new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result.split(",")[1]);
    reader.readAsDataURL(result.blob);
  });
  return { ...result, blob, size: result.blob.size, isTheFile: result.blob instanceof File };
}"""


def prepare(page, data, name="a.png", mime="image/png", **options):
    result = page.evaluate(PREPARE, [base64.b64encode(data).decode(), name, mime, options])
    result["blob"] = base64.b64decode(result["blob"])
    return result


def jpeg(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


# Encoders in browsers without WebP encoding (Safari before 17) answer a
# request for image/webp with a PNG; this makes Chromium do the same.
WITHOUT_WEBP_ENCODING = """() => {
  const downgrade = (type) => (type === "image/webp" ? "image/png" : type);
  const convert = OffscreenCanvas.prototype.convertToBlob;
  OffscreenCanvas.prototype.convertToBlob = function (options = {}) {
    return convert.call(this, { ...options, type: downgrade(options.type) });
  };
  const toBlob = HTMLCanvasElement.prototype.toBlob;
  HTMLCanvasElement.prototype.toBlob = function (callback, type, quality) {
    return toBlob.call(this, callback, downgrade(type), quality);
  };
}"""
WITHOUT_OFFSCREEN_CANVAS = "() => { window.OffscreenCanvas = undefined; }"


def half_transparent_png(size=(1400, 1000)):
    """Left half fully transparent (black underneath), right half a textured
    opaque area: large as a PNG, and black wherever alpha is dropped unfilled."""
    width, height = size
    texture = Image.merge("RGB", [Image.effect_noise((width // 2, height), 50) for _ in range(3)])
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste(texture.filter(ImageFilter.GaussianBlur(1)).convert("RGBA"), (width // 2, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_sideways_phone_photo_is_turned_upright_scaled_to_1024_and_encoded_as_webp(
    page, phone_photo
):
    result = prepare(page, phone_photo, name="IMG_0001.jpg", mime="image/jpeg")

    assert result["prepared"] is True and result["reason"] is None
    assert result["type"] == "image/webp"
    assert (result["width"], result["height"]) == (768, 1024)
    assert result["source"] == {
        "size": len(phone_photo),
        "type": "image/jpeg",
        "width": 3024,
        "height": 4032,
    }
    assert result["size"] == len(result["blob"]) <= 1024 * 1024
    with Image.open(io.BytesIO(result["blob"])) as image:
        assert image.format == "WEBP" and image.size == (768, 1024)
        assert not image.getexif()
        corners = upright_corners(image)
    assert is_colour(corners["top-left"], RED) and is_colour(corners["top-right"], BLUE), corners
    assert all(marker not in result["blob"] for marker in EXIF_STRINGS)


def test_a_file_already_smaller_than_its_re_encoding_is_sent_as_it_is(page):
    tiny = png((30, 160, 220), size=200)

    result = prepare(page, tiny)

    assert result["prepared"] is False and result["reason"] == "original-smaller"
    assert result["isTheFile"] and result["blob"] == tiny
    assert result["type"] == "image/png"
    assert (result["width"], result["height"]) == (200, 200)


def test_a_small_detailed_photo_is_re_encoded_but_never_enlarged_past_its_own_size(page):
    photo = Image.merge("RGB", [Image.effect_noise((300, 200), 60) for _ in range(3)])

    data = jpeg(photo, quality=100)

    result = prepare(page, data, name="small.jpg", mime="image/jpeg")
    smaller = prepare(page, data, name="small.jpg", mime="image/jpeg", maxSide=150)

    assert result["prepared"] is True and result["type"] == "image/webp"
    assert (result["width"], result["height"]) == (300, 200)
    assert (smaller["width"], smaller["height"]) == (150, 100)


def test_a_file_the_browser_cannot_decode_is_sent_as_it_is(page):
    data = undecodable(2048)

    result = prepare(page, data, name="noise.png")

    assert result["prepared"] is False and result["reason"] == "not-decodable"
    assert result["isTheFile"] and result["blob"] == data and result["type"] == "image/png"
    assert result["width"] is None and result["height"] is None


@pytest.mark.parametrize("canvas", ["OffscreenCanvas", "canvas element"])
def test_without_webp_encoding_the_image_is_sent_as_jpeg_on_white(page, canvas):
    page.evaluate(WITHOUT_WEBP_ENCODING)
    if canvas == "canvas element":
        page.evaluate(WITHOUT_OFFSCREEN_CANVAS)
    original = half_transparent_png()

    result = prepare(page, original)

    assert result["prepared"] is True and result["type"] == "image/jpeg"
    assert (result["width"], result["height"]) == (1024, 731)
    assert result["size"] < len(original)
    with Image.open(io.BytesIO(result["blob"])) as image:
        assert image.format == "JPEG" and image.mode == "RGB"
        corners = upright_corners(image)
    # Where the PNG was transparent, the JPEG is white, not black.
    assert is_colour(corners["top-left"], (255, 255, 255), tolerance=4), corners
    assert is_colour(corners["bottom-left"], (255, 255, 255), tolerance=4), corners


def test_the_canvas_element_makes_webp_where_offscreen_canvas_is_missing(page, phone_photo):
    page.evaluate(WITHOUT_OFFSCREEN_CANVAS)

    result = prepare(page, phone_photo, name="IMG_0001.jpg", mime="image/jpeg")

    assert result["prepared"] is True and result["type"] == "image/webp"
    assert (result["width"], result["height"]) == (768, 1024)
