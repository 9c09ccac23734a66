"""Photo-like images, made from a seed: what users pick, what the page sends, the worst case.

Nothing is read from disk. A phone photo is built to compress as a photo
does: gradients (sky, ground), soft shaded shapes, texture at three scales and
mild sensor noise, which is what makes a phone's JPEG weigh megabytes. It is
stored the way phones store a portrait: landscape pixels with EXIF Orientation
6 (turn 90 degrees clockwise to show), beside a GPS position and the camera's
make and model, which finalize must not let through.
"""

import functools
import io
import math
import random
from typing import Dict, Tuple

from PIL import Image, ImageDraw, ImageFilter, ImageOps

PHONE_PHOTO_SIZE = (4032, 3024)  # 12 MP, a phone's main camera at 4:3
TWO_MEGAPIXEL_SIZE = (1632, 1224)  # 2 MP at 4:3
PHOTO_JPEG_QUALITY = 92
# What the page does before uploading (static/prepare.js): the longest side
# scaled to 1024 px, upright, encoded as WebP at quality 0.85.
PREPARED_MAX_SIDE = 1024
PREPARED_WEBP_QUALITY = 85

_ORIENTATION, _MAKE, _MODEL, _EXIF_IFD, _GPS_IFD = 0x0112, 0x010F, 0x0110, 0x8769, 0x8825
_DATE_TIME_ORIGINAL = 0x9003
# How much uniform noise is blended in: +-8 levels, a phone's grain in daylight.
_SENSOR_NOISE = 0.06


@functools.lru_cache(maxsize=4)
def phone_photo(size: Tuple[int, int] = PHONE_PHOTO_SIZE, seed: int = 0) -> bytes:
    """A phone's JPEG: Orientation 6, GPS, make and model, quality 92."""
    pixels = photo_pixels(size, seed, noise=_SENSOR_NOISE)
    return _jpeg(pixels, PHOTO_JPEG_QUALITY, _phone_exif())


def prepared_like_the_page(photo: bytes) -> bytes:
    """What static/prepare.js makes of `photo`, modelled with Pillow.

    A browser draws the image upright (it applies the Orientation tag) on a
    canvas of 1024 px on its longest side and encodes the canvas as WebP; the
    canvas carries no metadata. Its resampling filter and WebP settings are
    the browser's own, so the bytes differ a little from a browser's.
    """
    with Image.open(io.BytesIO(photo)) as image:
        upright = ImageOps.exif_transpose(image.convert("RGB"))
    upright.thumbnail((PREPARED_MAX_SIDE, PREPARED_MAX_SIDE), Image.Resampling.LANCZOS)
    return _webp(upright)


def worst_case_size(max_pixels: int) -> Tuple[int, int]:
    """The largest 3:2 image within `max_pixels`: 8660x5773 for 50 MP."""
    width = math.isqrt(max_pixels * 3 // 2)
    return width, max_pixels // width


def worst_case_images(max_pixels: int) -> Dict[str, bytes]:
    """An image of each kind that costs the most memory to decode, at the pixel limit.

    Each must also fit under the upload limit (10 MiB), so their content is
    smooth: gradients and shapes, no noise. What decoding costs depends on the
    pixel count and the mode, not on the content.
    """
    size = worst_case_size(max_pixels)
    smooth = photo_pixels(size, seed=50, noise=0.0, texture=False)
    alpha = Image.radial_gradient("L").resize(size, Image.Resampling.BILINEAR)
    rgba = smooth.copy()
    rgba.putalpha(ImageOps.invert(alpha))
    # Mode P with a transparent entry: decoding makes 1 byte a pixel, and
    # finalize then converts it to RGBA, 4 bytes a pixel.
    palette = smooth.quantize(colors=255, method=Image.Quantize.FASTOCTREE)
    return {
        "RGBA PNG": _png(rgba),
        "palette PNG with transparency": _png(palette, transparency=0),
        # Decoded to 2 bytes a pixel, then widened to 4 to scale it to 8 bits.
        "16-bit greyscale PNG": _png(_sixteen_bit(smooth)),
        # Pillow's WebP decoder cannot shrink while decoding, as it can a JPEG.
        "WebP": _webp(smooth, method=0),  # the fastest encoder: decoding costs the same
        # Decoded at 1/8 scale as a baseline one is, but its coefficients
        # are all held first.
        "progressive JPEG": _jpeg(smooth, PHOTO_JPEG_QUALITY, _phone_exif(), progressive=True),
        "baseline JPEG": _jpeg(smooth, PHOTO_JPEG_QUALITY, _phone_exif()),
    }


def warm_up_image(kind: str) -> bytes:
    """A small image of the same kind, to load each codec before measuring.

    `kind` is a key of worst_case_images, or "JPEG".
    """
    pixels = photo_pixels((320, 240), seed=7, noise=_SENSOR_NOISE)
    if kind == "WebP":
        return _webp(pixels)
    if kind in ("JPEG", "baseline JPEG"):
        return _jpeg(pixels, PHOTO_JPEG_QUALITY, _phone_exif())
    if kind == "progressive JPEG":
        return _jpeg(pixels, PHOTO_JPEG_QUALITY, _phone_exif(), progressive=True)
    if kind == "RGBA PNG":
        pixels.putalpha(128)
        return _png(pixels)
    if kind == "palette PNG with transparency":
        return _png(pixels.quantize(colors=255), transparency=0)
    if kind == "16-bit greyscale PNG":
        return _png(_sixteen_bit(pixels))
    raise ValueError(f"no warm-up image for {kind!r}")


def photo_pixels(
    size: Tuple[int, int], seed: int, noise: float, texture: bool = True
) -> Image.Image:
    """RGB pixels that compress like a photo: sky, ground, shaded shapes, texture, noise."""
    rng = random.Random(seed)
    width, height = size
    # Drawn at half size and scaled up, so that edges are soft as a lens makes them.
    half = (max(2, width // 2), max(2, height // 2))
    scene = _sky_and_ground(half)
    shade = Image.radial_gradient("L")
    for _ in range(40):
        _paste_shaded_shape(scene, shade, rng)
    scene = scene.resize(size, Image.Resampling.BICUBIC)
    if texture:
        for cell, weight in ((96, 0.10), (24, 0.10), (6, 0.08)):
            scene = Image.blend(scene, _value_noise(rng, size, cell), weight)
    if noise:
        grain = Image.frombytes("RGB", size, rng.randbytes(width * height * 3))
        scene = Image.blend(scene, grain, noise)
    return scene


def _sky_and_ground(size):
    width, height = size
    horizon = int(height * 0.55)
    sky = Image.linear_gradient("L").resize((width, horizon))
    ground = Image.linear_gradient("L").resize((width, height - horizon))
    scene = Image.new("RGB", size)
    scene.paste(_tint(sky, (70, 0.5), (120, 0.45), (230, -0.2)), (0, 0))
    scene.paste(_tint(ground, (60, 0.25), (110, -0.12), (40, 0.08)), (0, horizon))
    return scene


def _tint(gradient, *channels):
    """An RGB image, each channel `start + slope * gradient`."""
    return Image.merge(
        "RGB",
        [gradient.point(lambda v, a=start, b=slope: a + b * v) for start, slope in channels],
    )


def _paste_shaded_shape(scene, shade, rng):
    width, height = scene.size
    radius = max(2, int(rng.uniform(0.03, 0.18) * width))
    size = (2 * radius, max(2, int(2 * radius * rng.uniform(0.5, 1.5))))
    colour = tuple(rng.randrange(60, 240) for _ in range(3))
    dark = tuple(channel // 3 for channel in colour)
    # Lit in the middle, darker towards the edge.
    lit = Image.composite(
        Image.new("RGB", size, dark), Image.new("RGB", size, colour), shade.resize(size)
    )
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    if rng.random() < 0.6:
        draw.ellipse([0, 0, size[0] - 1, size[1] - 1], fill=255)
    else:
        corners = rng.randrange(3, 7)
        draw.polygon(
            [(rng.uniform(0, size[0]), rng.uniform(0, size[1])) for _ in range(corners)], fill=255
        )
    where = (int(rng.uniform(-radius, width - radius)), int(rng.uniform(0, height - radius)))
    scene.paste(lit, where, mask.filter(ImageFilter.GaussianBlur(1.5)))


def _value_noise(rng, size, cell):
    """Random colours on a grid of `cell` pixels, smoothly interpolated: texture at that scale."""
    grid = (max(2, size[0] // cell), max(2, size[1] // cell))
    values = rng.randbytes(grid[0] * grid[1] * 3)
    return Image.frombytes("RGB", grid, values).resize(size, Image.Resampling.BICUBIC)


def _phone_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[_ORIENTATION] = 6
    exif[_MAKE] = "Bench Camera Co."
    exif[_MODEL] = "Phone 12 MP"
    exif.get_ifd(_EXIF_IFD)[_DATE_TIME_ORIGINAL] = "2026:11:24 10:30:00"
    exif.get_ifd(_GPS_IFD).update(
        {1: "N", 2: (48.0, 51.0, 29.1), 3: "E", 4: (2.0, 17.0, 40.2)}  # a street in Paris
    )
    return exif


def _sixteen_bit(pixels):
    """The grey levels of `pixels` over 16 bits (0-255 to 0-65535)."""
    return pixels.convert("L").convert("I").point(lambda value: value * 257).convert("I;16")


def _jpeg(pixels, quality, exif, progressive=False) -> bytes:
    buffer = io.BytesIO()
    pixels.save(buffer, format="JPEG", quality=quality, exif=exif, progressive=progressive)
    return buffer.getvalue()


def _webp(pixels, **options) -> bytes:
    buffer = io.BytesIO()
    pixels.save(buffer, format="WEBP", quality=PREPARED_WEBP_QUALITY, **options)
    return buffer.getvalue()


def _png(pixels, **options) -> bytes:
    buffer = io.BytesIO()
    pixels.save(buffer, format="PNG", **options)
    return buffer.getvalue()
