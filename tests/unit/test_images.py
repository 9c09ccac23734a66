"""Unit tests for chalicelib.images.make_avatar: what comes out is judged by
decoding it with Pillow and by reading its bytes. Every input is made in
memory (tests/unit/image_samples.py)."""

import io
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from chalicelib.images import (
    Avatar,
    AvatarRules,
    ImageRejected,
    ImageTooLarge,
    NotAnImage,
    make_avatar,
)
from tests.helpers import colours_close, png_of_black_pixels, webp_chunks
from tests.unit.image_samples import (
    FILE_COMMENT,
    ICC_SIGNATURE,
    LINEAR_GREY_PROFILE,
    QUADRANT_COLOURS,
    SECRETS,
    SRGB_PROFILE,
    SWAPPED_PROFILE,
    as_stored_by_camera,
    camera_exif,
    decode,
    encode,
    gif_claiming,
    jpeg_claiming,
    jpeg_markers,
    jpeg_with_everything,
    noise,
    phone_photo,
    png_16_bit_grey,
    png_16_bit_rgb,
    png_with_corrupt_pixels,
    png_with_everything,
    quadrant_colours,
    upright_picture,
    webp_claiming,
    webp_with_everything,
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = AvatarRules()
AS_JPEG = AvatarRules(output_format="jpeg")
# The chunks a still WebP holds pixels in; EXIF, XMP, ICCP, ANIM and ANMF are all else.
PIXEL_CHUNKS = {"VP8 ", "VP8L", "VP8X", "ALPH"}
# VP8X flags: ICC profile, alpha, EXIF, XMP, animation.
VP8X_METADATA_FLAGS = 0x20 | 0x08 | 0x04 | 0x02

# Lossy encoders move colours a little; these are far closer than any two
# colours the tests tell apart.
CLOSE = 40


def _assert_no_metadata(avatar: Avatar):
    """Nothing but pixels: no metadata chunk or marker, no trace of the secrets."""
    if avatar.content_type == "image/webp":
        chunks = webp_chunks(avatar.data)
        assert set(chunks) <= PIXEL_CHUNKS, chunks
        if chunks[0] == "VP8X":
            assert avatar.data[20] & VP8X_METADATA_FLAGS == 0, hex(avatar.data[20])
    else:
        markers = jpeg_markers(avatar.data)
        assert not [name for name in markers if name.startswith("APP") and name != "APP0"], markers
        assert "COM" not in markers, markers
    for secret in SECRETS:
        assert secret.encode() not in avatar.data, secret
    assert ICC_SIGNATURE not in avatar.data
    assert b"Exif" not in avatar.data
    assert b"xmpmeta" not in avatar.data
    decoded = decode(avatar.data)
    assert len(decoded.getexif()) == 0
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(decoded.info), decoded.info


# --- metadata ------------------------------------------------------------------------

WITH_EVERYTHING = {
    "jpeg": jpeg_with_everything,
    "png": png_with_everything,
    "webp": webp_with_everything,
}


@pytest.mark.parametrize("output_format", ["webp", "jpeg"])
@pytest.mark.parametrize("icc_profile", [SRGB_PROFILE, None], ids=["with ICC", "without ICC"])
@pytest.mark.parametrize("source", sorted(WITH_EVERYTHING))
def test_gps_camera_comments_xmp_and_icc_are_gone_from_the_stored_bytes(
    source, icc_profile, output_format
):
    upload = WITH_EVERYTHING[source](Image.new("RGB", (48, 32), (10, 120, 200)), icc_profile)
    # The control: the upload carries all of it.
    original = decode(upload)
    exif = original.getexif()
    assert exif.get_ifd(0x8825)[2] and exif.get_ifd(0x8769)[0x9003]
    assert original.info.get("icc_profile") == icc_profile
    for secret in SECRETS:
        # A WebP has no place for a plain comment.
        assert secret.encode() in upload or (source, secret) == ("webp", FILE_COMMENT), secret

    avatar = make_avatar(upload, AvatarRules(output_format=output_format))

    _assert_no_metadata(avatar)
    assert colours_close(decode(avatar.data).getpixel((24, 16)), (10, 120, 200), CLOSE)


# --- orientation ---------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["webp", "jpeg"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_each_exif_orientation_comes_out_upright(orientation, output_format):
    upright = upright_picture(40, 20)
    stored = as_stored_by_camera(upright, orientation)
    upload = encode(stored, "JPEG", quality=95, subsampling=0, exif=camera_exif(orientation))

    avatar = make_avatar(upload, AvatarRules(output_format=output_format))

    decoded = decode(avatar.data)
    assert decoded.size == (avatar.width, avatar.height) == (40, 20)
    for quadrant, colour in quadrant_colours(decoded).items():
        nearest = min(QUADRANT_COLOURS, key=lambda q: _distance(QUADRANT_COLOURS[q], colour))
        assert nearest == quadrant, (quadrant, colour)
        assert colours_close(colour, QUADRANT_COLOURS[quadrant], CLOSE), (quadrant, colour)
    assert len(decoded.getexif()) == 0


def _distance(one, other):
    return sum((a - b) ** 2 for a, b in zip(one, other))


def test_an_orientation_outside_one_to_eight_leaves_the_image_as_stored():
    upload = encode(upright_picture(40, 20), "JPEG", quality=95, exif=camera_exif(orientation=9))

    avatar = make_avatar(upload, DEFAULT)

    assert (avatar.width, avatar.height) == (40, 20)
    top_left = quadrant_colours(decode(avatar.data))["top left"]
    assert colours_close(top_left, QUADRANT_COLOURS["top left"], CLOSE)


# --- size ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size, max_side",
    [
        ((4000, 1000), 512),
        ((1000, 4000), 512),
        ((1000, 600), 512),
        ((600, 1000), 512),
        ((513, 513), 512),
        ((1000, 600), 100),
        ((333, 1000), 256),
    ],
    ids=lambda value: "x".join(map(str, value)) if isinstance(value, tuple) else f"to {value}",
)
def test_the_longest_side_is_scaled_down_to_max_side_keeping_the_aspect_ratio(size, max_side):
    upload = encode(Image.new("RGB", size, (200, 30, 90)), "PNG")

    avatar = make_avatar(upload, AvatarRules(max_side=max_side))

    decoded = decode(avatar.data)
    assert decoded.size == (avatar.width, avatar.height)
    assert max(decoded.size) == max_side
    scale = max_side / max(size)
    assert abs(decoded.width - size[0] * scale) <= 1
    assert abs(decoded.height - size[1] * scale) <= 1


@pytest.mark.parametrize("size", [(1, 1), (100, 50), (50, 100), (512, 512), (512, 3)])
def test_an_image_within_max_side_is_never_scaled_up(size):
    avatar = make_avatar(encode(Image.new("RGB", size, (200, 30, 90)), "PNG"), DEFAULT)

    assert decode(avatar.data).size == (avatar.width, avatar.height) == size


# --- transparency --------------------------------------------------------------------


def _half_transparent_rgba():
    """Left half fully transparent (a red that must not show), right half opaque blue."""
    image = Image.new("RGBA", (32, 16), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (16, 0, 32, 16))
    return image


def _half_transparent_palette():
    """Palette entry 0 (green) is transparent, entry 1 is blue."""
    image = Image.new("P", (32, 16), 0)
    image.putpalette([0, 255, 0, 0, 0, 255] + [0, 0, 0] * 254)
    image.paste(1, (16, 0, 32, 16))
    return image


TRANSPARENT_LEFT_HALF = {
    "an RGBA PNG": lambda: encode(_half_transparent_rgba(), "PNG"),
    "a palette PNG with tRNS": lambda: encode(_half_transparent_palette(), "PNG", transparency=0),
    "a GIF with a transparent index": lambda: encode(
        _half_transparent_palette(), "GIF", transparency=0
    ),
    "an RGB PNG with a tRNS colour and an ICC profile": lambda: encode(
        _half_transparent_rgba().convert("RGB"),
        "PNG",
        transparency=(255, 0, 0),
        icc_profile=SRGB_PROFILE,
    ),
    "an RGBA WebP": lambda: encode(_half_transparent_rgba(), "WEBP", lossless=True),
}


@pytest.mark.parametrize("name", list(TRANSPARENT_LEFT_HALF))
def test_transparent_pixels_stay_transparent_in_webp(name):
    upload = TRANSPARENT_LEFT_HALF[name]()

    avatar = make_avatar(upload, DEFAULT)

    decoded = decode(avatar.data)
    assert decoded.mode == "RGBA"
    assert "ALPH" in webp_chunks(avatar.data) or "VP8L" in webp_chunks(avatar.data)
    assert decoded.getpixel((4, 8))[3] == 0
    assert decoded.getpixel((28, 8))[3] == 255
    assert colours_close(decoded.getpixel((28, 8))[:3], (0, 0, 255), CLOSE)


@pytest.mark.parametrize("name", list(TRANSPARENT_LEFT_HALF))
def test_transparent_pixels_are_flattened_on_white_in_jpeg(name):
    upload = TRANSPARENT_LEFT_HALF[name]()

    avatar = make_avatar(upload, AS_JPEG)

    decoded = decode(avatar.data)
    assert decoded.mode == "RGB"
    assert colours_close(decoded.getpixel((4, 8)), (255, 255, 255), CLOSE)
    assert colours_close(decoded.getpixel((28, 8)), (0, 0, 255), CLOSE)


def test_a_half_transparent_greyscale_png_keeps_its_alpha():
    grey = Image.new("LA", (16, 16), (100, 128))

    decoded = decode(make_avatar(encode(grey, "PNG"), DEFAULT).data)

    assert decoded.mode == "RGBA"
    assert colours_close(decoded.getpixel((8, 8)), (100, 100, 100, 128), 8)


# --- colour modes --------------------------------------------------------------------

CMYK_QUADRANTS = {
    "top left": ((0, 255, 255, 0), (255, 0, 0)),
    "top right": ((255, 0, 255, 0), (0, 255, 0)),
    "bottom left": ((255, 255, 0, 0), (0, 0, 255)),
    "bottom right": ((0, 0, 0, 255), (0, 0, 0)),
}


def _cmyk_picture():
    image = Image.new("CMYK", (32, 32))
    boxes = {
        "top left": (0, 0, 16, 16),
        "top right": (16, 0, 32, 16),
        "bottom left": (0, 16, 16, 32),
        "bottom right": (16, 16, 32, 32),
    }
    for quadrant, box in boxes.items():
        image.paste(CMYK_QUADRANTS[quadrant][0], box)
    return image


@pytest.mark.parametrize(
    "options",
    [{}, {"icc_profile": SRGB_PROFILE}],
    ids=["without a profile", "with a profile for another colour space"],
)
def test_a_cmyk_jpeg_comes_out_rgb_with_its_colours(options):
    upload = encode(_cmyk_picture(), "JPEG", quality=95, **options)
    assert decode(upload).mode == "CMYK"

    decoded = decode(make_avatar(upload, DEFAULT).data)

    assert decoded.mode == "RGB"
    for quadrant, colour in quadrant_colours(decoded).items():
        assert colours_close(colour, CMYK_QUADRANTS[quadrant][1], CLOSE), (quadrant, colour)


def test_16_bit_grey_is_scaled_to_8_bits_not_clipped():
    upload = png_16_bit_grey([[0] * 16 + [32768] * 16 + [65535] * 16] * 16)
    assert decode(upload).mode == "I;16"

    decoded = decode(make_avatar(upload, DEFAULT).data)

    assert decoded.mode == "RGB"
    black, middle, white = (decoded.getpixel((x, 8)) for x in (8, 24, 40))
    assert colours_close(black, (0, 0, 0), 3)
    assert colours_close(middle, (128, 128, 128), 3)
    assert colours_close(white, (255, 255, 255), 3)


def test_a_transparent_16_bit_grey_level_becomes_transparent():
    # 32768 and 32769 both become grey 127 in 8 bits: only the exact 16-bit
    # level may turn transparent.
    upload = png_16_bit_grey([[32768] * 16 + [32769] * 16] * 16, transparent_level=32768)

    decoded = decode(make_avatar(upload, DEFAULT).data)

    assert decoded.mode == "RGBA"
    assert decoded.getpixel((4, 8))[3] == 0
    assert colours_close(decoded.getpixel((28, 8)), (128, 128, 128, 255), 3)


def test_16_bit_rgb_comes_out_with_its_colours():
    upload = png_16_bit_rgb([[(65535, 0, 0)] * 16 + [(0, 32768, 65535)] * 16] * 16)

    decoded = decode(make_avatar(upload, DEFAULT).data)

    assert decoded.mode == "RGB"
    assert colours_close(decoded.getpixel((4, 8)), (255, 0, 0), 12)
    assert colours_close(decoded.getpixel((28, 8)), (0, 128, 255), 12)


def _palette_picture():
    return Image.new("RGB", (16, 16), (200, 30, 90)).convert("P", palette=Image.Palette.ADAPTIVE)


COLOUR_MODES = {
    "1": (lambda: encode(Image.new("1", (16, 16), 1), "PNG"), (255, 255, 255)),
    "L": (lambda: encode(Image.new("L", (16, 16), 100), "PNG"), (100, 100, 100)),
    "LA": (lambda: encode(Image.new("LA", (16, 16), (100, 255)), "PNG"), (100, 100, 100)),
    "P": (lambda: encode(_palette_picture(), "PNG"), (200, 30, 90)),
    "P (GIF)": (lambda: encode(_palette_picture(), "GIF"), (200, 30, 90)),
    "RGB": (lambda: encode(Image.new("RGB", (16, 16), (200, 30, 90)), "PNG"), (200, 30, 90)),
    "RGBA": (
        lambda: encode(Image.new("RGBA", (16, 16), (200, 30, 90, 255)), "PNG"),
        (200, 30, 90),
    ),
    "L (JPEG)": (lambda: encode(Image.new("L", (16, 16), 100), "JPEG"), (100, 100, 100)),
    "CMYK (JPEG)": (
        lambda: encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG"),
        (255, 0, 0),
    ),
    "I;16": (lambda: png_16_bit_grey([[25700] * 16] * 16), (100, 100, 100)),
    "RGB 16-bit": (lambda: png_16_bit_rgb([[(51400, 7710, 23130)] * 16] * 16), (200, 30, 90)),
}


@pytest.mark.parametrize("output_format", ["webp", "jpeg"])
@pytest.mark.parametrize("mode", list(COLOUR_MODES))
def test_every_mode_comes_out_8_bit_rgb_or_rgba_with_its_colour(mode, output_format):
    make_upload, colour = COLOUR_MODES[mode]

    avatar = make_avatar(make_upload(), AvatarRules(output_format=output_format))

    decoded = decode(avatar.data)
    assert decoded.mode in (("RGB", "RGBA") if output_format == "webp" else ("RGB",))
    assert colours_close(decoded.getpixel((8, 8))[:3], colour, 12), decoded.getpixel((8, 8))


# --- colour profiles -----------------------------------------------------------------

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
# SWAPPED_PROFILE's red is sRGB's green and the other way round.
IN_SRGB = {RED: GREEN, GREEN: RED, BLUE: BLUE}
STRIPES_SIZE = (96, 32)
# Half the stripes' width: the pixels are scaled before they are converted.
STRIPES_MAX_SIDE = 48


def _stripes(mode="RGB"):
    """Red, green and blue vertical stripes, a third of the width each."""
    width, height = STRIPES_SIZE
    image = Image.new("P", STRIPES_SIZE, 0)
    image.putpalette([*RED, *GREEN, *BLUE])
    image.paste(1, (width // 3, 0, 2 * width // 3, height))
    image.paste(2, (2 * width // 3, 0, width, height))
    return image if mode == "P" else image.convert(mode)


def _stripe_colours(image):
    """The colour at the middle of each stripe, left to right."""
    width, height = image.size
    return [image.getpixel((width * sixths // 6, height // 2)) for sixths in (1, 3, 5)]


WITH_A_PROFILE = {
    "an RGB JPEG": lambda profile: encode(
        _stripes(), "JPEG", quality=95, subsampling=0, icc_profile=profile
    ),
    "an RGB PNG": lambda profile: encode(_stripes(), "PNG", icc_profile=profile),
    "an RGBA PNG": lambda profile: encode(_stripes("RGBA"), "PNG", icc_profile=profile),
    "a palette PNG": lambda profile: encode(_stripes("P"), "PNG", icc_profile=profile),
    "an RGB WebP": lambda profile: encode(_stripes(), "WEBP", lossless=True, icc_profile=profile),
}


def test_the_swapped_profile_is_one_littlecms_reads_and_it_turns_red_into_green():
    """The control for the tests below: a valid ICC v2 display profile, and
    converting with it moves colours (an sRGB profile would move none)."""
    profile = ImageCms.ImageCmsProfile(io.BytesIO(SWAPPED_PROFILE))
    assert profile.profile.version == 2.1
    assert profile.profile.device_class == "mntr"
    assert profile.profile.xcolor_space == "RGB "
    assert profile.profile.connection_space == "XYZ "

    converted = ImageCms.profileToProfile(_stripes(), profile, ImageCms.createProfile("sRGB"))

    assert _stripe_colours(_stripes()) == [RED, GREEN, BLUE]
    for colour, expected in zip(_stripe_colours(converted), [GREEN, RED, BLUE]):
        assert colours_close(colour, expected, 3), colour


@pytest.mark.parametrize("output_format", ["webp", "jpeg"])
@pytest.mark.parametrize("source", list(WITH_A_PROFILE))
def test_an_embedded_profile_is_applied_and_the_avatar_is_in_srgb(source, output_format):
    upload = WITH_A_PROFILE[source](SWAPPED_PROFILE)
    assert decode(upload).info["icc_profile"] == SWAPPED_PROFILE
    rules = AvatarRules(max_side=STRIPES_MAX_SIDE, output_format=output_format)

    avatar = make_avatar(upload, rules)

    _assert_no_metadata(avatar)
    decoded = decode(avatar.data)
    assert decoded.size == (48, 16)
    for colour, stored in zip(_stripe_colours(decoded), [RED, GREEN, BLUE]):
        assert colours_close(colour[:3], IN_SRGB[stored], CLOSE), (stored, colour)
        if decoded.mode == "RGBA":
            assert colour[3] == 255


@pytest.mark.parametrize("image_format", ["PNG", "JPEG"])
def test_a_grey_image_is_converted_by_its_grey_profile(image_format):
    upload = encode(Image.new("L", (16, 16), 100), image_format, icc_profile=LINEAR_GREY_PROFILE)
    assert decode(upload).info["icc_profile"] == LINEAR_GREY_PROFILE

    avatar = make_avatar(upload, DEFAULT)

    _assert_no_metadata(avatar)
    # Level 100 in linear light is sRGB's 168; taken as it is, it would stay 100.
    assert colours_close(decode(avatar.data).getpixel((8, 8))[:3], (168, 168, 168), 12)


BROKEN_PROFILES = {
    "cut after 60 bytes": SWAPPED_PROFILE[:60],
    "random bytes": random.Random(0).randbytes(len(SWAPPED_PROFILE)),
    "a grey profile on an RGB image": LINEAR_GREY_PROFILE,
}


@pytest.mark.parametrize("source", ["an RGB JPEG", "an RGB PNG"])
@pytest.mark.parametrize("profile", list(BROKEN_PROFILES))
def test_a_profile_that_cannot_be_applied_is_ignored_and_the_pixels_taken_as_they_are(
    profile, source
):
    upload = WITH_A_PROFILE[source](BROKEN_PROFILES[profile])
    assert decode(upload).info["icc_profile"] == BROKEN_PROFILES[profile]

    avatar = make_avatar(upload, AvatarRules(max_side=STRIPES_MAX_SIDE))

    _assert_no_metadata(avatar)
    for colour, stored in zip(_stripe_colours(decode(avatar.data)), [RED, GREEN, BLUE]):
        assert colours_close(colour, stored, CLOSE), (stored, colour)


@pytest.mark.parametrize("profile", ["cut after 60 bytes", "random bytes"])
def test_littlecms_cannot_read_the_broken_profiles(profile):
    """The control: these are refused as profiles, not converted to something."""
    with pytest.raises(OSError):
        ImageCms.ImageCmsProfile(io.BytesIO(BROKEN_PROFILES[profile]))


# --- animation -----------------------------------------------------------------------

FRAME_COLOURS = [(230, 20, 20), (20, 200, 20), (20, 20, 230)]


def _frames():
    return [Image.new("RGB", (24, 24), colour) for colour in FRAME_COLOURS]


ANIMATIONS = {
    "GIF": lambda: encode(
        _frames()[0], "GIF", save_all=True, append_images=_frames()[1:], duration=100, loop=0
    ),
    "WebP": lambda: encode(
        _frames()[0], "WEBP", save_all=True, append_images=_frames()[1:], duration=100, loop=0
    ),
}


@pytest.mark.parametrize("output_format", ["webp", "jpeg"])
@pytest.mark.parametrize("image_format", list(ANIMATIONS))
def test_an_animation_becomes_a_still_of_its_first_frame(image_format, output_format):
    upload = ANIMATIONS[image_format]()
    assert Image.open(io.BytesIO(upload)).n_frames == 3

    avatar = make_avatar(upload, AvatarRules(output_format=output_format))

    decoded = decode(avatar.data)
    assert getattr(decoded, "n_frames", 1) == 1
    assert not getattr(decoded, "is_animated", False)
    assert colours_close(decoded.getpixel((12, 12))[:3], FRAME_COLOURS[0], CLOSE)
    if output_format == "webp":
        assert set(webp_chunks(avatar.data)) <= PIXEL_CHUNKS


# --- decompression bombs -------------------------------------------------------------

# Run in a fresh interpreter, which measures its own peak resident memory
# during this one call, as bench/image_worker.py does: the kernel's
# high-water mark (VmHWM), reset to the current size just before the call.
# ru_maxrss would not do: a child that subprocess starts begins with its
# parent's peak (the kernel keeps it across exec), and pytest's own peak can
# hide the child's. Every decoder and encoder is used once first, so that
# loading them is not counted. "growth" is null where /proc/self/clear_refs
# is missing (not Linux): there the peak cannot be reset.
_MEASURE_ONE_CALL = r"""
import gc, io, json, sys, time
from PIL import Image
from bench.peak_memory import reset_peak, status_bytes
from chalicelib.images import AvatarRules, make_avatar

for image_format in ("PNG", "JPEG", "GIF", "WEBP"):
    warm_up = io.BytesIO()
    Image.new("RGB", (8, 8)).save(warm_up, format=image_format)
    make_avatar(warm_up.getvalue(), AvatarRules())
data = sys.stdin.buffer.read()
gc.collect()
measured = reset_peak()
before = status_bytes("VmRSS") if measured else None
start = time.perf_counter()
try:
    make_avatar(data, AvatarRules())
    outcome, message = "Avatar", ""
except Exception as error:
    outcome, message = type(error).__name__, str(error)
seconds = time.perf_counter() - start
growth = status_bytes("VmHWM") - before if measured else None
print(json.dumps({"outcome": outcome, "message": message, "seconds": seconds,
                  "growth": growth}))
"""

BOMBS = {
    "PNG 12000x12000": lambda: png_of_black_pixels(12000, 12000),
    "PNG 30000x30000": lambda: png_of_black_pixels(30000, 30000),
    "JPEG claiming 60000x60000": lambda: jpeg_claiming(60000, 60000),
    "GIF claiming 65535x65535": lambda: gif_claiming(65535, 65535),
    "WebP claiming 16384x16384": lambda: webp_claiming(16384, 16384),
    "animated WebP claiming 16384x16384": lambda: webp_claiming(16384, 16384, animated=True),
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_decompression_bomb_is_refused_quickly_without_allocating_it(name):
    upload = BOMBS[name]()
    assert len(upload) < 1_000_000

    result = _measure_one_call(upload)

    assert result["outcome"] == "ImageTooLarge", result
    assert "50 megapixels" in result["message"]
    assert result["seconds"] < 0.5, result
    if result["growth"] is None:
        pytest.skip("no /proc/self/clear_refs here: the peak memory cannot be measured")
    assert result["growth"] < 50 * 1024 * 1024, result


def test_the_memory_measure_sees_an_image_being_decoded():
    """The control for the memory check above: decoding 49 megapixels (just
    within the limit) takes a byte a pixel at least, and the measure shows it."""
    result = _measure_one_call(png_of_black_pixels(7000, 7000))

    assert result["outcome"] == "Avatar", result
    if result["growth"] is None:
        pytest.skip("no /proc/self/clear_refs here: the peak memory cannot be measured")
    assert result["growth"] > 50 * 1024 * 1024, result


def _measure_one_call(upload: bytes) -> dict:
    answer = subprocess.run(
        [sys.executable, "-c", _MEASURE_ONE_CALL],
        input=upload,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr.decode()
    return json.loads(answer.stdout)


def test_the_bomb_png_is_a_real_png_that_decodes():
    """The control for the bombs above: the same builder, at a size that is allowed."""
    upload = png_of_black_pixels(3000, 2000)

    avatar = make_avatar(upload, DEFAULT)

    decoded = decode(avatar.data)
    assert decoded.size == (512, 341)
    assert decoded.convert("L").getextrema() == (0, 0)


def test_pillows_own_limit_only_warns_about_a_144_megapixel_png():
    """Why images.py has its own limit: Pillow opens this, and would decode it."""
    with pytest.warns(Image.DecompressionBombWarning):
        image = Image.open(io.BytesIO(png_of_black_pixels(12000, 12000)), formats=["PNG"])
    with image:
        assert image.size == (12000, 12000)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_12000_by_12000_png_is_refused_by_the_header_alone():
    start = time.perf_counter()
    with pytest.raises(ImageTooLarge, match="12000x12000"):
        make_avatar(png_of_black_pixels(12000, 12000), DEFAULT)
    assert time.perf_counter() - start < 0.5


def test_a_smaller_max_pixels_refuses_a_small_image_naming_its_size_and_the_limit():
    upload = encode(Image.new("RGB", (101, 100)), "PNG")

    with pytest.raises(ImageTooLarge) as refusal:
        make_avatar(upload, AvatarRules(max_pixels=100 * 100))

    assert "101x100" in str(refusal.value)
    assert "0.01 megapixels" in str(refusal.value)
    exactly_the_limit = encode(Image.new("RGB", (100, 100)), "PNG")
    assert make_avatar(exactly_the_limit, AvatarRules(max_pixels=100 * 100)).width == 100


# --- broken input and other formats --------------------------------------------------


def _cut_in_half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _scan_overwritten(marker: bytes) -> bytes:
    """A JPEG with `marker` written over the middle of its entropy-coded data."""
    data = encode(noise((64, 64)), "JPEG")
    middle = (data.index(b"\xff\xda") + len(data)) // 2
    return data[:middle] + marker + data[middle + len(marker) :]


def _png_cut_inside_idat():
    data = encode(noise((64, 64)), "PNG")
    return data[: data.index(b"IDAT") + 200]


NOT_IMAGES = {
    "a JPEG cut in half": lambda: _cut_in_half(encode(noise((64, 64)), "JPEG")),
    "a PNG cut inside IDAT": _png_cut_inside_idat,
    "a PNG with corrupt compressed pixels": png_with_corrupt_pixels,
    "a GIF cut in half": lambda: _cut_in_half(encode(noise((64, 64), "L"), "GIF")),
    "a WebP cut in half": lambda: _cut_in_half(encode(noise((64, 64)), "WEBP")),
    # libjpeg conceals damage it can recover from (flipped bits in the scan
    # decode to wrong pixels, silently); a marker where none may be is fatal.
    "a JPEG scan broken by a frame header": lambda: _scan_overwritten(b"\xff\xc0\x00\x11"),
    "a JPEG scan broken by a second SOI": lambda: _scan_overwritten(b"\xff\xd8"),
    "a JPEG scan broken by a Huffman table": lambda: _scan_overwritten(b"\xff\xc4\x00\x03\x00"),
    "an empty file": lambda: b"",
    "random bytes": lambda: random.Random(0).randbytes(4096),
    "SVG": lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "HTML": lambda: b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
    "a BMP": lambda: encode(Image.new("RGB", (16, 16), (200, 30, 90)), "BMP"),
    "a TIFF": lambda: encode(Image.new("RGB", (16, 16), (200, 30, 90)), "TIFF"),
    "an ICO": lambda: encode(Image.new("RGB", (16, 16), (200, 30, 90)), "ICO"),
}


@pytest.mark.parametrize("name", list(NOT_IMAGES))
def test_broken_or_unaccepted_input_is_refused_as_not_an_image(name):
    upload = NOT_IMAGES[name]()

    with pytest.raises(NotAnImage, match="JPEG, PNG, GIF or WebP"):
        make_avatar(upload, DEFAULT)


@pytest.mark.parametrize("name", ["a BMP", "a TIFF", "an ICO"])
def test_pillow_would_open_the_refused_formats(name):
    """The control: only the allow-list keeps these out."""
    assert decode(NOT_IMAGES[name]()).size == (16, 16)


HEIF_LIKE = {
    "HEIC": lambda: b"\x00\x00\x00\x18ftypheic" + bytes(200),
    "HEIF": lambda: b"\x00\x00\x00\x18ftypmif1" + bytes(200),
    "an AVIF made by Pillow": lambda: encode(Image.new("RGB", (16, 16), (200, 30, 90)), "AVIF"),
}


@pytest.mark.parametrize("name", list(HEIF_LIKE))
def test_heic_heif_and_avif_are_refused_naming_the_accepted_formats(name):
    with pytest.raises(NotAnImage) as refusal:
        make_avatar(HEIF_LIKE[name](), DEFAULT)

    message = str(refusal.value)
    assert "HEIC" in message
    for accepted in ("JPEG", "PNG", "GIF", "WebP"):
        assert accepted in message


# --- polyglots -----------------------------------------------------------------------

MARKUP = b"<html><script>alert(1)</script></html>"


def _picture():
    return Image.new("RGB", (24, 24), (200, 30, 90))


POLYGLOTS = {
    "a PNG with HTML after IEND": lambda: encode(_picture(), "PNG") + MARKUP,
    "a JPEG with a script in COM and ImageDescription": lambda: encode(
        _picture(), "JPEG", comment=MARKUP, exif=camera_exif(description=MARKUP.decode())
    ),
    "a GIF with a script in a comment": lambda: encode(_picture(), "GIF", comment=MARKUP),
    "a WebP with a script in XMP": lambda: encode(_picture(), "WEBP", xmp=MARKUP),
}


@pytest.mark.parametrize("output_format", ["webp", "jpeg"])
@pytest.mark.parametrize("name", list(POLYGLOTS))
def test_a_polyglot_is_stored_without_its_markup(name, output_format):
    upload = POLYGLOTS[name]()
    assert b"<script" in upload

    avatar = make_avatar(upload, AvatarRules(output_format=output_format))

    lowered = avatar.data.lower()
    assert b"<script" not in lowered and b"<html" not in lowered and b"alert(" not in lowered
    assert colours_close(decode(avatar.data).getpixel((12, 12)), (200, 30, 90), CLOSE)


# --- output --------------------------------------------------------------------------


def test_the_default_output_is_webp():
    avatar = make_avatar(encode(Image.new("RGB", (30, 20), (200, 30, 90)), "PNG"), DEFAULT)

    assert avatar.content_type == "image/webp"
    assert avatar.data[:4] == b"RIFF" and avatar.data[8:12] == b"WEBP"
    decoded = decode(avatar.data)
    assert decoded.format == "WEBP"
    assert decoded.size == (avatar.width, avatar.height) == (30, 20)


def test_jpeg_output_is_a_jpeg():
    avatar = make_avatar(encode(Image.new("RGB", (30, 20), (200, 30, 90)), "PNG"), AS_JPEG)

    assert avatar.content_type == "image/jpeg"
    assert avatar.data[:2] == b"\xff\xd8" and avatar.data[-2:] == b"\xff\xd9"
    decoded = decode(avatar.data)
    assert decoded.format == "JPEG"
    assert decoded.size == (avatar.width, avatar.height) == (30, 20)


def test_a_phone_photo_becomes_a_small_upright_webp_without_exif():
    upload = phone_photo()
    assert Image.open(io.BytesIO(upload)).size == (4032, 3024)

    avatar = make_avatar(upload, DEFAULT)

    decoded = decode(avatar.data)
    assert (avatar.width, avatar.height) == decoded.size == (384, 512)
    assert avatar.content_type == "image/webp"
    _assert_no_metadata(avatar)
    assert len(avatar.data) < 64 * 1024
    assert colours_close(decoded.getpixel((20, 20)), (255, 0, 0), CLOSE)
    assert not colours_close(decoded.getpixel((363, 20)), (255, 0, 0), CLOSE)


# --- any damaged file ----------------------------------------------------------------


def _seed_images():
    picture = Image.new("RGB", (16, 12), (200, 30, 40))
    picture.paste((0, 90, 250), (0, 0, 8, 6))
    with_alpha = picture.convert("RGBA")
    with_alpha.putpixel((0, 0), (0, 0, 0, 0))
    frames = [Image.new("RGB", (16, 12), colour) for colour in FRAME_COLOURS]
    animated = {"save_all": True, "append_images": frames[1:], "duration": 100}
    exif = camera_exif(orientation=6)
    return {
        "jpeg": encode(picture, "JPEG", exif=exif),
        "progressive jpeg": encode(picture, "JPEG", progressive=True),
        "cmyk jpeg": encode(picture.convert("CMYK"), "JPEG"),
        "png": encode(with_alpha, "PNG", exif=exif),
        "palette png": encode(picture.convert("P"), "PNG", transparency=0),
        "16-bit png": png_16_bit_grey([[1000 * x for x in range(16)]] * 12, 3000),
        "gif": encode(frames[0], "GIF", **animated),
        "webp": encode(with_alpha, "WEBP", exif=exif),
        "lossless webp": encode(picture, "WEBP", lossless=True),
        "animated webp": encode(frames[0], "WEBP", **animated),
    }


SEEDS = _seed_images()
OPERATIONS = ["flip", "overwrite", "insert", "delete", "truncate"]
mutations = st.lists(
    st.tuples(
        st.sampled_from(OPERATIONS),
        st.integers(min_value=0, max_value=1 << 16),  # where, modulo the length
        st.binary(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=4,
)


def _mutated(data: bytes, changes) -> bytes:
    data = bytearray(data)
    for operation, position, payload in changes:
        if not data:
            break
        at = position % len(data)
        if operation == "flip":
            data[at] ^= 1 << (payload[0] % 8)
        elif operation == "overwrite":
            data[at : at + len(payload)] = payload
        elif operation == "insert":
            data[at:at] = payload
        elif operation == "delete":
            del data[at : at + len(payload)]
        else:
            del data[at:]
    return bytes(data)


# Pillow warns about the damaged metadata and sizes this feeds it, as it should.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(
    seed=st.sampled_from(sorted(SEEDS)),
    changes=mutations,
    output_format=st.sampled_from(["webp", "jpeg"]),
)
def test_a_damaged_image_becomes_an_avatar_or_is_rejected_never_anything_else(
    seed, changes, output_format
):
    upload = _mutated(SEEDS[seed], changes)
    rules = AvatarRules(max_side=16, max_pixels=1_000_000, output_format=output_format)

    try:
        avatar = make_avatar(upload, rules)
    except ImageRejected:
        return

    assert isinstance(avatar, Avatar)
    decoded = decode(avatar.data)
    assert decoded.size == (avatar.width, avatar.height)
    assert max(decoded.size) <= 16
    assert decoded.mode in ("RGB", "RGBA")
