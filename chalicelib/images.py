"""What an upload becomes: a new, small image made from its pixels only. Pure: no I/O.

An uploaded file is never served as it came. It may carry the place it was
taken (EXIF GPS), the camera and the time, a comment or XMP packet holding
markup, a thumbnail of what was cropped out, trailing bytes after the image,
or a header that claims billions of pixels. So the upload is decoded (JPEG,
PNG, GIF and WebP only), turned upright by its Orientation tag, converted to
8-bit sRGB, scaled down, and encoded anew. Nothing but the pixels survives.

Pillow does the work; `make bench` measured it against libvips
(bench/method.md says why it was chosen).
"""

import io
import struct
import zlib
from dataclasses import dataclass
from typing import NamedTuple, Optional, Tuple

from PIL import Image, ImageCms, ImageMath

# The decoders allowed to run, by Pillow's format names: nothing else Pillow
# could open (TIFF, BMP, ICO, PSD, EPS...) is ever tried.
ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
ACCEPTED_FORMAT_NAMES = "JPEG, PNG, GIF or WebP"
NOT_AN_IMAGE_MESSAGE = (
    f"The file is not a complete {ACCEPTED_FORMAT_NAMES} image that could be read."
)

OUTPUT_FORMATS = {
    "webp": ("WEBP", "image/webp"),
    "jpeg": ("JPEG", "image/jpeg"),
}
# Quality settings: an avatar shown at 96-512 px, where these are hard to tell
# from the source and keep a 512 px photo far under 64 KB.
_WEBP_OPTIONS = {"quality": 80, "method": 4}
_JPEG_OPTIONS = {"quality": 85, "optimize": True, "progressive": True}
# Flattened under transparent pixels when the output format has no alpha.
_JPEG_BACKGROUND = (255, 255, 255)

# Pillow's decoders signal malformed input with exceptions of many types;
# each of these, raised while a file is opened or decoded, means "not a
# complete image of an accepted format".
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    zlib.error,
    IndexError,
    KeyError,
    TypeError,
    Image.DecompressionBombError,
)

_SRGB = ImageCms.createProfile("sRGB")


class ImageRejected(Exception):
    """The upload cannot become an avatar; the message says why, for the user."""


class NotAnImage(ImageRejected):
    """Not a complete image of an accepted format."""


class ImageTooLarge(ImageRejected):
    """More pixels than the limit, by the header alone."""


@dataclass(frozen=True)
class AvatarRules:
    max_side: int = 512
    max_pixels: int = 50_000_000
    output_format: str = "webp"  # a key of OUTPUT_FORMATS

    @classmethod
    def from_settings(cls, settings) -> "AvatarRules":
        """The rules of a stage's Settings (AVATAR_MAX_SIDE, MAX_IMAGE_PIXELS, AVATAR_FORMAT)."""
        return cls(
            max_side=settings.avatar_max_side,
            max_pixels=settings.max_image_pixels,
            output_format=settings.avatar_format,
        )


@dataclass(frozen=True)
class Avatar:
    data: bytes
    content_type: str
    width: int
    height: int


def make_avatar(data: bytes, rules: AvatarRules) -> Avatar:
    """The avatar made from the image in `data`; ImageRejected if there is none.

    The pixel count is checked from the header, before any pixel is decoded.
    """
    _refuse_heif(data)
    _check_pixels(_webp_canvas_size(data), rules.max_pixels)
    decoded = _decode_scaled(data, rules)
    pixels = _to_srgb_8bit(decoded.pixels, decoded.icc_profile)
    pixels = _upright(pixels, decoded.orientation)
    return _encode(pixels, rules.output_format)


class _Decoded(NamedTuple):
    pixels: Image.Image  # at the avatar's size, in a mode _to_srgb_8bit takes
    orientation: int
    icc_profile: Optional[bytes]


def _decode_scaled(data: bytes, rules: AvatarRules) -> _Decoded:
    """The upload's pixels at the avatar's size, and what turning them upright
    and into sRGB needs.

    Scaling comes first, so everything after it works on a small image, and
    the opened file is released when this returns: with it go the decoder's
    own buffers (libwebp's hold whole canvases: 400 MB at 50 MP).
    """
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError:
        # Pillow's own limit is far above ours: the image is too large either way.
        raise ImageTooLarge(_too_large_message(None, rules.max_pixels)) from None
    except _DECODE_ERRORS:
        raise NotAnImage(NOT_AN_IMAGE_MESSAGE) from None
    _check_pixels(image.size, rules.max_pixels)
    try:
        # For a JPEG, decode straight at the smallest scale (1/2, 1/4 or 1/8)
        # still at least as large as the avatar: a 12 MP photo is never
        # decoded at full size. A no-op for the other formats.
        image.draft(None, (rules.max_side, rules.max_side))
        image.load()
        # Only after load(): a PNG's getexif() decodes the pixels itself, and
        # _orientation would swallow a decode error that Pillow raises once
        # only (a second load() finds no tiles left and returns quietly).
        orientation = _orientation(image)
        icc_profile = image.info.get("icc_profile")
        pixels = _scaled(_resamplable(image), rules.max_side)
    except _DECODE_ERRORS:
        raise NotAnImage(NOT_AN_IMAGE_MESSAGE) from None
    return _Decoded(pixels, orientation, icc_profile)


def _resamplable(image):
    """`image` in a mode whose pixels can be averaged when scaling: palette
    indices, 1-bit pixels, a transparent key colour or 16-bit grey cannot,
    so those become RGB, RGBA, L or LA first."""
    if image.mode.startswith("I"):
        return _grey_16_to_8(image)
    if "transparency" in image.info:
        return image.convert("RGBA")
    if image.mode == "1":
        return image.convert("L")  # a quarter of RGB's memory at full size
    if image.mode == "P":
        return image.convert("RGB")
    if image.mode == "PA":
        return image.convert("RGBA")
    return image


def _scaled(image, max_side: int):
    """A new image, detached from any file, its longest side at most `max_side`."""
    width, height = image.size
    scale = max_side / max(width, height)
    if scale >= 1:
        return image.copy()
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # reducing_gap: box-reduce by a whole factor first, then Lanczos, as
    # Image.thumbnail does; quicker for a large image, and as sharp.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def _refuse_heif(data: bytes):
    # HEIC/HEIF (an iPhone's default) and AVIF are ISO-BMFF files: 'ftyp' at
    # byte 4. Named apart, because a user who sends one needs to know why.
    if data[4:8] == b"ftyp":
        raise NotAnImage(
            f"HEIC, HEIF and AVIF images are not accepted; send a {ACCEPTED_FORMAT_NAMES} image."
        )


def _webp_canvas_size(data: bytes) -> Optional[Tuple[int, int]]:
    """A WebP's canvas size from its first chunk, or None.

    Checked before Pillow opens the file: its WebP decoder reserves the whole
    canvas when it opens, and refuses a huge one as unreadable, where the
    user should hear that the image is too large.
    """
    if len(data) < 30 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def _check_pixels(size: Optional[Tuple[int, int]], max_pixels: int):
    if size is not None and size[0] * size[1] > max_pixels:
        raise ImageTooLarge(_too_large_message(size, max_pixels))


def _too_large_message(size, max_pixels: int) -> str:
    limit = f"the limit is {max_pixels / 1e6:g} megapixels"
    if size is None:
        return f"The image has too many pixels; {limit}."
    return f"The image is {size[0]}x{size[1]} pixels; {limit}."


def _orientation(image) -> int:
    """The EXIF Orientation tag (1-8), 1 when absent or unreadable."""
    try:
        value = image.getexif().get(0x0112, 1)
    except _DECODE_ERRORS:
        # A broken EXIF block does not make the pixels unreadable; browsers
        # then show the image as stored, and so do we.
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _upright(image, orientation: int):
    method = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    return image.transpose(method) if method is not None else image


# The same table as PIL.ImageOps.exif_transpose, applied after scaling (to
# far fewer pixels) and without copying any metadata along.
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _to_srgb_8bit(image, icc_profile: Optional[bytes]):
    """The pixels of `image` (RGB, RGBA, L, LA or CMYK) as 8-bit RGB or RGBA
    in sRGB, with no metadata."""
    target = "RGBA" if image.mode in ("RGBA", "LA") else "RGB"
    converted = _convert_profile(image, icc_profile, target) if icc_profile else None
    if converted is None:
        converted = image.convert(target) if image.mode != target else image
    # Everything but the pixels (EXIF, XMP, comments, the ICC profile) lives
    # in `info`, which convert() and copy() carry along: drop it, so that no
    # encoder can write any of it back.
    converted.info = {}
    return converted


def _grey_16_to_8(image):
    """16-bit greyscale as 8-bit L (convert alone would clip at 255), or as
    LA when one grey level is transparent (tRNS): that level is matched
    before scaling, where some 256 levels share each 8-bit value."""
    wide = image.convert("I")
    grey = wide.point(lambda value: value * (1 / 257)).convert("L")
    level = image.info.get("transparency")
    if not isinstance(level, int):
        return grey
    alpha = ImageMath.lambda_eval(lambda args: (args["wide"] != level) * 255, wide=wide)
    return Image.merge("LA", (grey, alpha.convert("L")))


def _convert_profile(image, icc_profile: bytes, target: str):
    """`image` converted from its embedded profile to sRGB, or None if that
    cannot be done (a broken profile, or one for another colour space): the
    pixels are then taken as they are and the profile dropped."""
    source_mode = image.mode
    if source_mode not in ("RGB", "RGBA", "CMYK", "L"):
        return None
    output_mode = target if source_mode != "L" else "RGB"
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
    return converted.convert(target) if converted.mode != target else converted


def _encode(image, output_format: str) -> Avatar:
    pillow_format, content_type = OUTPUT_FORMATS[output_format]
    if pillow_format == "JPEG":
        options = _JPEG_OPTIONS
        if image.mode == "RGBA":
            background = Image.new("RGB", image.size, _JPEG_BACKGROUND)
            background.paste(image, mask=image.getchannel("A"))
            image = background
    else:
        options = _WEBP_OPTIONS
    buffer = io.BytesIO()
    image.save(buffer, format=pillow_format, **options)
    return Avatar(buffer.getvalue(), content_type, image.width, image.height)
