"""Images the browser tests choose through the page, made with Pillow."""

import io
import random

from PIL import ExifTags, Image, ImageDraw, ImageStat

# A 12 MP phone photo as the camera stores it: landscape pixels, with EXIF
# Orientation 6 ("rotate 90° clockwise to view"), so it is a portrait.
PHOTO_SIZE = (4032, 3024)
MARKER = 400  # px: a marker survives scaling to 1024 and then to 512
RED, BLUE = (230, 20, 20), (20, 20, 230)
CAMERA_MAKE, CAMERA_MODEL = "AcmePhone", "Pixelmaker 12"
GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.5),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (13.0, 24.0, 36.5),
}
# Strings of that EXIF block that must never reach the stored avatar.
EXIF_STRINGS = (b"Exif", CAMERA_MAKE.encode(), CAMERA_MODEL.encode())


def phone_photo() -> bytes:
    """A sideways 4032x3024 JPEG of about 3.4 MB: gradients, shapes, texture and noise.

    Markers where the stored pixels put them: red in the bottom-left corner and
    blue in the top-left one. Turned upright (90° clockwise) the red one is at
    the top left and the blue one at the top right; a mirrored or wrongly
    rotated view puts them anywhere else.
    """
    return _jpeg_with_exif(_scene(), quality=90)


def large_phone_photo() -> bytes:
    """The same photo with strong sensor noise, saved at quality 100: about 15 MB.

    The noise is per pixel, so scaling the photo down averages it away: the
    file is far over the upload limit, while its prepared copy is small.
    """
    noise = Image.merge("RGB", [Image.effect_noise(PHOTO_SIZE, 80) for _ in range(3)])
    return _jpeg_with_exif(Image.blend(_scene(), noise, 0.2), quality=100)


def _scene() -> Image.Image:
    width, height = PHOTO_SIZE
    image = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").rotate(90).resize(PHOTO_SIZE).point(lambda v: 70 + v * 0.5),
            Image.linear_gradient("L").resize(PHOTO_SIZE).point(lambda v: 90 + v * 0.4),
            Image.radial_gradient("L").resize(PHOTO_SIZE).point(lambda v: 80 + v * 0.35),
        ),
    )
    draw = ImageDraw.Draw(image)
    for i in range(40):
        x, y, r = (i * 937) % width, (i * 571) % height, 80 + (i * 53) % 400
        colour = (60 + (i * 37) % 120, 70 + (i * 59) % 110, 60 + (i * 23) % 100)
        shape = draw.ellipse if i % 2 else draw.rectangle
        shape((x - r, y - r // 2, x + r, y + r // 2), fill=colour)
    # Texture at about the prepared scale (it survives resizing, as a real
    # scene's detail does), then sensor noise at full scale.
    texture_size = (width // 4, height // 4)
    texture = Image.merge("RGB", [Image.effect_noise(texture_size, 60) for _ in range(3)])
    image = Image.blend(image, texture.resize(PHOTO_SIZE, Image.Resampling.BICUBIC), 0.3)
    image = Image.blend(image, Image.effect_noise(PHOTO_SIZE, 40).convert("RGB"), 0.08)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height - MARKER, MARKER, height), fill=RED)
    draw.rectangle((0, 0, MARKER, MARKER), fill=BLUE)
    return image


def _jpeg_with_exif(image: Image.Image, quality: int) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = CAMERA_MAKE
    exif[ExifTags.Base.Model] = CAMERA_MODEL
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, exif=exif)
    return buffer.getvalue()


def upright_corners(image: Image.Image, inset: float = 0.05):
    """The mean colour near each corner of an upright image: top-left,
    top-right, bottom-left, bottom-right, `inset` of the width in from the edges."""
    image = image.convert("RGB")
    d = max(2, round(image.width * inset))
    half = max(1, d // 2)
    points = {
        "top-left": (d, d),
        "top-right": (image.width - 1 - d, d),
        "bottom-left": (d, image.height - 1 - d),
        "bottom-right": (image.width - 1 - d, image.height - 1 - d),
    }
    corners = {}
    for name, (x, y) in points.items():
        patch = image.crop((x - half, y - half, x + half, y + half))
        corners[name] = tuple(ImageStat.Stat(patch).mean)
    return corners


def is_colour(actual, expected, tolerance=45):
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected))


def png(color, size=200, mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (size, size), color).save(buffer, format="PNG")
    return buffer.getvalue()


def undecodable(size: int, seed: int = 0) -> bytes:
    """`size` random bytes: no browser or app decodes them as an image."""
    return random.Random(seed).randbytes(size)


# An ISO-BMFF 'ftyp' box naming HEIC, then junk: what an iPhone's photo starts
# with, and which Chromium cannot decode.
HEIC_LIKE = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + undecodable(4096, seed=1)
