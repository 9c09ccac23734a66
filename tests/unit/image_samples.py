"""Images for tests/unit/test_images.py, all made here in memory: with Pillow
where it can write them, byte by byte where it cannot (16-bit PNGs, headers
that claim billions of pixels, ICC profiles), and readers for what came out
(WebP chunks, JPEG markers)."""

import io
import random
import struct
import zlib

from PIL import Image, ImageCms, ImageOps, PngImagePlugin, TiffImagePlugin

from tests.helpers import PNG_SIGNATURE, png_chunk

# What a camera and an editor leave in a file; none of it may reach an avatar.
CAMERA_MAKE = "Hasselwood"
CAMERA_MODEL = "SpyCam X9000"
TAKEN_AT = "2024:05:06 07:08:09"
USER_COMMENT = "meet me at the old mill"
FILE_COMMENT = "left the key under the mat"
XMP_MARKER = "xmp-private-marker"
XMP_PACKET = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    f"<rdf:Description>{XMP_MARKER}</rdf:Description></rdf:RDF></x:xmpmeta>"
).encode()
SECRETS = (CAMERA_MAKE, CAMERA_MODEL, TAKEN_AT, USER_COMMENT, FILE_COMMENT, XMP_MARKER)
# Every ICC profile has this signature at byte 36.
ICC_SIGNATURE = b"acsp"
SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

# EXIF tags and IFDs by number (EXIF 2.32).
ORIENTATION = 0x0112
IMAGE_DESCRIPTION = 0x010E
MAKE = 0x010F
MODEL = 0x0110
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
DATE_TIME_ORIGINAL = 0x9003
USER_COMMENT_TAG = 0x9286


def encode(image, image_format, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def noise(size, mode="RGB", seed=0):
    """Random pixels, the same on every run (Image.effect_noise is not seeded)."""
    channels = len(mode)
    return Image.frombytes(mode, size, random.Random(seed).randbytes(size[0] * size[1] * channels))


def decode(data: bytes):
    """The image in `data`, fully decoded (first frame)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- metadata ----------------------------------------------------------------------


def camera_exif(orientation=None, description=None):
    """EXIF as a phone writes it: camera, time, a user comment and where it was (GPS)."""
    rational = TiffImagePlugin.IFDRational
    exif = Image.Exif()
    exif[MAKE] = CAMERA_MAKE
    exif[MODEL] = CAMERA_MODEL
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if description is not None:
        exif[IMAGE_DESCRIPTION] = description
    details = exif.get_ifd(EXIF_IFD)
    details[DATE_TIME_ORIGINAL] = TAKEN_AT
    details[USER_COMMENT_TAG] = b"ASCII\x00\x00\x00" + USER_COMMENT.encode()
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"  # GPSLatitudeRef
    gps[2] = (rational(52), rational(22), rational(1234, 100))  # GPSLatitude
    gps[3] = "E"  # GPSLongitudeRef
    gps[4] = (rational(4), rational(53), rational(5))  # GPSLongitude
    return exif


def jpeg_with_everything(image, icc_profile) -> bytes:
    """`image` as a JPEG with EXIF (GPS and all), XMP, a COM comment and an
    ICC profile if one is given."""
    return encode(
        image,
        "JPEG",
        quality=95,
        exif=camera_exif(),
        xmp=XMP_PACKET,
        comment=FILE_COMMENT.encode(),
        icc_profile=icc_profile,
    )


def png_with_everything(image, icc_profile) -> bytes:
    """`image` as a PNG with eXIf, an XMP iTXt, a tEXt comment and iCCP if a profile is given."""
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", FILE_COMMENT)
    text.add_itxt("XML:com.adobe.xmp", XMP_PACKET.decode())
    return encode(image, "PNG", exif=camera_exif(), icc_profile=icc_profile, pnginfo=text)


def webp_with_everything(image, icc_profile) -> bytes:
    """`image` as a WebP with EXIF and XMP chunks, and ICCP if a profile is given."""
    return encode(
        image, "WEBP", quality=95, exif=camera_exif(), xmp=XMP_PACKET, icc_profile=icc_profile
    )


def jpeg_markers(data: bytes):
    """The markers of a JPEG file up to its first scan, by name (APP0, APP1, COM, SOF2...)."""
    assert data[:2] == b"\xff\xd8"
    names, offset = [], 2
    while True:
        assert data[offset] == 0xFF, f"no marker at byte {offset}"
        code = data[offset + 1]
        length = struct.unpack(">H", data[offset + 2 : offset + 4])[0]
        names.append(_JPEG_MARKER_NAMES.get(code, f"0x{code:02X}"))
        if code == 0xDA:  # SOS: entropy-coded data follows
            return names
        offset += 2 + length


_JPEG_MARKER_NAMES = {
    **{0xE0 + n: f"APP{n}" for n in range(16)},
    **{0xC0 + n: f"SOF{n}" for n in (0, 1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15)},
    0xC4: "DHT",
    0xDB: "DQT",
    0xDD: "DRI",
    0xDA: "SOS",
    0xFE: "COM",
}


# --- orientation -------------------------------------------------------------------

# An upright picture with a different colour in each quadrant, wider than
# tall: each of the 8 ways of storing it looks different.
QUADRANT_COLOURS = {
    "top left": (220, 20, 20),
    "top right": (20, 190, 20),
    "bottom left": (20, 20, 220),
    "bottom right": (235, 235, 30),
}


def upright_picture(width=40, height=20):
    picture = Image.new("RGB", (width, height))
    half_width, half_height = width // 2, height // 2
    boxes = {
        "top left": (0, 0, half_width, half_height),
        "top right": (half_width, 0, width, half_height),
        "bottom left": (0, half_height, half_width, height),
        "bottom right": (half_width, half_height, width, height),
    }
    for quadrant, box in boxes.items():
        picture.paste(QUADRANT_COLOURS[quadrant], box)
    return picture


def quadrant_colours(image):
    """The colour sampled at the middle of each quadrant of `image`."""
    width, height = image.size
    rgb = image.convert("RGB")
    return {
        "top left": rgb.getpixel((width // 4, height // 4)),
        "top right": rgb.getpixel((3 * width // 4, height // 4)),
        "bottom left": rgb.getpixel((width // 4, 3 * height // 4)),
        "bottom right": rgb.getpixel((3 * width // 4, 3 * height // 4)),
    }


# For each Orientation value, which side of the upright picture the stored
# 0th row and the stored 0th column show (the EXIF 2.32 definition of tag 0x0112).
_FIRST_ROW_AND_COLUMN = {
    1: ("top", "left"),
    2: ("top", "right"),
    3: ("bottom", "right"),
    4: ("bottom", "left"),
    5: ("left", "top"),
    6: ("right", "top"),
    7: ("right", "bottom"),
    8: ("left", "bottom"),
}


def as_stored_by_camera(upright, orientation):
    """The pixels a camera stores, with this Orientation tag, for a scene
    that looks like `upright`: built pixel by pixel from the EXIF definition,
    independently of the transposes the code under test uses."""
    row_side, column_side = _FIRST_ROW_AND_COLUMN[orientation]
    width, height = upright.size
    sideways = row_side in ("left", "right")
    stored = Image.new(upright.mode, (height, width) if sideways else (width, height))
    source, target = upright.load(), stored.load()
    for row in range(stored.height):
        for column in range(stored.width):
            point = {}
            point.update(_line_from_side(row_side, row, width, height))
            point.update(_line_from_side(column_side, column, width, height))
            target[column, row] = source[point["x"], point["y"]]
    return stored


def _line_from_side(side, distance, width, height):
    """The coordinate of the line `distance` pixels in from `side`."""
    return {
        "top": {"y": distance},
        "bottom": {"y": height - 1 - distance},
        "left": {"x": distance},
        "right": {"x": width - 1 - distance},
    }[side]


def phone_photo() -> bytes:
    """A 12 MP photo as a phone stores it: 4032x3024, taken upright (portrait),
    so Orientation 6; camera EXIF with GPS. Its top-left corner is red."""
    detail = Image.effect_mandelbrot((756, 1008), (-0.80, 0.0, -0.65, 0.2), 50)
    scene = Image.merge(
        "RGB", (detail, ImageOps.invert(detail), Image.linear_gradient("L").resize((756, 1008)))
    )
    scene = Image.blend(scene, noise((756, 1008)), 0.2)
    upright = scene.resize((3024, 4032), Image.Resampling.BILINEAR)
    upright.paste((255, 0, 0), (0, 0, 600, 600))
    # Orientation 6: the stored rows run from the scene's right side to its
    # left; that is the scene turned a quarter counter-clockwise.
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    return encode(stored, "JPEG", quality=90, exif=camera_exif(orientation=6))


# --- PNGs written by hand ------------------------------------------------------------


def png_16_bit_grey(rows, transparent_level=None) -> bytes:
    """A 16-bit greyscale PNG of these rows of levels (0-65535), with an
    optional tRNS level."""
    raw = b"".join(b"\x00" + struct.pack(f">{len(row)}H", *row) for row in rows)
    header = struct.pack(">IIBBBBB", len(rows[0]), len(rows), 16, 0, 0, 0, 0)
    transparency = b""
    if transparent_level is not None:
        transparency = png_chunk(b"tRNS", struct.pack(">H", transparent_level))
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + transparency
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )


def png_16_bit_rgb(rows) -> bytes:
    """A 16-bit RGB PNG of these rows of (r, g, b) in 0-65535 (Pillow reads
    but cannot write one)."""
    raw = b"".join(b"\x00" + b"".join(struct.pack(">HHH", *pixel) for pixel in row) for row in rows)
    header = struct.pack(">IIBBBBB", len(rows[0]), len(rows), 16, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )


def png_with_corrupt_pixels() -> bytes:
    """A PNG whose compressed pixel data is damaged in the middle, with the
    IDAT chunk's CRC recomputed so that only the decoder can notice."""
    data = encode(noise((64, 64)), "PNG")
    start = data.index(b"IDAT")
    length = struct.unpack(">I", data[start - 4 : start])[0]
    body = bytearray(data[start : start + 4 + length])
    for offset in range(len(body) // 2, len(body) // 2 + 64):
        body[offset] ^= 0x55
    return (
        data[:start]
        + bytes(body)
        + struct.pack(">I", zlib.crc32(bytes(body)))
        + data[start + 4 + length + 4 :]
    )


# --- headers that claim more pixels than they hold -----------------------------------


def jpeg_claiming(width: int, height: int) -> bytes:
    """A tiny valid baseline JPEG with its SOF0 dimensions rewritten."""
    data = bytearray(encode(Image.new("RGB", (8, 8), (90, 90, 90)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    # FF C0, length (2), precision (1), then height and width (2 each).
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_claiming(width: int, height: int) -> bytes:
    """A tiny valid GIF with its logical screen rewritten."""
    data = bytearray(encode(Image.new("P", (8, 8), 1), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def webp_claiming(width: int, height: int, animated=False) -> bytes:
    """A tiny valid WebP (with alpha or animated, so a VP8X chunk comes first)
    with its canvas size rewritten. A still image must fill its canvas, an
    animation's frames need not: that one is still a valid file."""
    if animated:
        frames = [Image.new("RGB", (8, 8), colour) for colour in ((200, 0, 0), (0, 200, 0))]
        data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100)
    else:
        data = encode(Image.new("RGBA", (8, 8), (90, 90, 90, 128)), "WEBP")
    data = bytearray(data)
    assert data[12:16] == b"VP8X"
    # VP8X: chunk header (8), flags (4), canvas width - 1, height - 1 (3 bytes each).
    data[24:30] = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return bytes(data)


# --- ICC profiles written by hand (ICC.1:2001-04, version 2.1) ------------------------

# The PCS illuminant, and the sRGB primaries adapted to it (Bradford), as
# XYZ: the columns of sRGB's matrix, as its ICC profile states them.
D50 = (0.9642, 1.0, 0.8249)
SRGB_RED_XYZ = (0.4361, 0.2225, 0.0139)
SRGB_GREEN_XYZ = (0.3851, 0.7169, 0.0971)
SRGB_BLUE_XYZ = (0.1431, 0.0606, 0.7141)


def icc_rgb_profile(red_xyz, green_xyz, blue_xyz, gamma=2.2) -> bytes:
    """A matrix/TRC RGB display profile: each channel's primary as XYZ, and
    one gamma curve for all three."""
    curve = _icc_curve(gamma)
    return _icc_profile(
        b"RGB ",
        {
            b"desc": _icc_description("Test RGB"),
            b"wtpt": _icc_xyz(D50),
            b"rXYZ": _icc_xyz(red_xyz),
            b"gXYZ": _icc_xyz(green_xyz),
            b"bXYZ": _icc_xyz(blue_xyz),
            b"rTRC": curve,
            b"gTRC": curve,
            b"bTRC": curve,
            b"cprt": _icc_text("No copyright: test data"),
        },
    )


def icc_grey_profile(gamma) -> bytes:
    """A greyscale display profile: one gamma curve (kTRC)."""
    return _icc_profile(
        b"GRAY",
        {
            b"desc": _icc_description("Test grey"),
            b"wtpt": _icc_xyz(D50),
            b"kTRC": _icc_curve(gamma),
            b"cprt": _icc_text("No copyright: test data"),
        },
    )


def _icc_profile(colour_space: bytes, tags) -> bytes:
    """The header, the tag table, then each tag's data on a 4-byte boundary."""
    data_start = 128 + 4 + 12 * len(tags)
    table, data = [], b""
    for signature, body in tags.items():
        table.append(struct.pack(">4sII", signature, data_start + len(data), len(body)))
        data += body + bytes(-len(body) % 4)
    header = struct.pack(
        ">I4sI4s4s4s6H4s4sI4s4s8sI12s4s16s28s",
        data_start + len(data),  # profile size
        b"",  # preferred CMM: none
        0x02100000,  # version 2.1.0
        b"mntr",  # device class: display
        colour_space,
        b"XYZ ",  # profile connection space
        *(2024, 1, 1, 0, 0, 0),  # created
        b"acsp",
        b"",  # primary platform: none
        0,  # flags
        b"",  # device manufacturer
        b"",  # device model
        b"",  # device attributes
        0,  # rendering intent: perceptual
        _s15_fixed_16(*D50),  # PCS illuminant
        b"",  # creator
        b"",  # profile ID (version 4 only)
        b"",  # reserved
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + b"".join(table) + data


def _s15_fixed_16(*values) -> bytes:
    return struct.pack(f">{len(values)}i", *(round(value * 65536) for value in values))


def _icc_xyz(values) -> bytes:
    return b"XYZ " + bytes(4) + _s15_fixed_16(*values)


def _icc_curve(gamma) -> bytes:
    """curveType with one entry: a gamma, as u8Fixed8Number."""
    return b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256))


def _icc_description(text: str) -> bytes:
    """textDescriptionType: ASCII, then empty Unicode and ScriptCode descriptions."""
    ascii_text = text.encode("ascii") + b"\0"
    return (
        b"desc"
        + bytes(4)
        + struct.pack(">I", len(ascii_text))
        + ascii_text
        + struct.pack(">II", 0, 0)  # Unicode language code and count
        + struct.pack(">HB", 0, 0)  # ScriptCode code and count
        + bytes(67)  # ScriptCode description
    )


def _icc_text(text: str) -> bytes:
    return b"text" + bytes(4) + text.encode("ascii") + b"\0"


# sRGB with its red and green primaries swapped: a pixel this profile calls
# pure red is sRGB's pure green, and the other way round; blue stays blue.
SWAPPED_PROFILE = icc_rgb_profile(SRGB_GREEN_XYZ, SRGB_RED_XYZ, SRGB_BLUE_XYZ)
# Linear grey: level 100 is 39% of white's light, which sRGB writes as 168.
LINEAR_GREY_PROFILE = icc_grey_profile(gamma=1.0)
