"""The benchmark's images and its image-processing figures, on short runs; no stack."""

import io
import re

import pytest
from PIL import Image

from bench.image_processing import (
    SECTION,
    TARGETED_INPUT,
    WORST_CASE_SECTION,
    measure_image_processing,
)
from bench.photo_bytes import TARGET_SERVED_BYTES, Sent, photo_bytes_figures
from bench.photos import (
    PHONE_PHOTO_SIZE,
    phone_photo,
    photo_pixels,
    prepared_like_the_page,
    warm_up_image,
    worst_case_images,
    worst_case_size,
)
from bench.stack import stage_settings
from chalicelib.images import AvatarRules, make_avatar

ORIENTATION, MAKE, MODEL, GPS_IFD = 0x0112, 0x010F, 0x0110, 0x8825


def test_the_phone_photo_is_a_12_mp_jpeg_of_a_few_mb_with_orientation_gps_and_camera():
    photo = phone_photo()
    assert 2_500_000 <= len(photo) <= 4_000_000
    with Image.open(io.BytesIO(photo)) as image:
        assert (image.format, image.size) == ("JPEG", PHONE_PHOTO_SIZE)
        exif = image.getexif()
        assert exif[ORIENTATION] == 6
        assert exif[MAKE] and exif[MODEL]
        assert exif.get_ifd(GPS_IFD)[1] == "N"


def test_photo_pixels_are_the_same_for_the_same_seed_and_differ_across_seeds():
    one = photo_pixels((160, 120), seed=1, noise=0.06).tobytes()
    assert photo_pixels((160, 120), seed=1, noise=0.06).tobytes() == one
    assert photo_pixels((160, 120), seed=2, noise=0.06).tobytes() != one


def test_the_pages_model_is_an_upright_1024_px_webp_without_metadata():
    prepared = prepared_like_the_page(phone_photo())
    with Image.open(io.BytesIO(prepared)) as image:
        assert (image.format, image.size) == ("WEBP", (768, 1024))
        assert "exif" not in image.info


def test_the_worst_case_is_the_largest_3_by_2_image_within_the_pixel_limit():
    width, height = worst_case_size(50_000_000)
    assert (width, height) == (8660, 5773)
    assert width * height <= 50_000_000 < (width + 1) * (height + 1)


def test_each_worst_case_image_is_complete_at_that_pixel_count_with_its_warm_up_of_the_same_kind():
    modes = {
        "RGBA PNG": "RGBA",
        "palette PNG with transparency": "P",
        "16-bit greyscale PNG": "I;16",
        "WebP": "RGB",
        "progressive JPEG": "RGB",
        "baseline JPEG": "RGB",
    }
    images = worst_case_images(200_000)
    assert list(images) == list(modes)
    for kind, content in images.items():
        for data in (content, warm_up_image(kind)):
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                assert image.mode == modes[kind], kind
        with Image.open(io.BytesIO(content)) as image:
            assert image.size == worst_case_size(200_000)


MEDIAN = re.compile(r"median ([\d.]+) ms")
PEAK = re.compile(r"peak memory \+([\d.]+) MB")
OUTPUT = re.compile(r"out ([\d,]+) bytes (\d+x\d+)")


@pytest.fixture(scope="module")
def image_figures():
    return measure_image_processing(stage_settings(), runs=2, worst_case_pixels=300_000)


def test_a_short_run_times_and_weighs_both_libraries_on_each_input(image_figures):
    rows = [figure for figure in image_figures if figure.section == SECTION and not figure.target]
    assert len(rows) == 6  # three inputs, two libraries
    for figure in rows:
        assert "2 runs" in figure.name
        assert 0 < float(MEDIAN.search(figure.measured).group(1)) < 5_000, figure
        assert 0 <= float(PEAK.search(figure.measured).group(1)) < 1_000, figure
        size, dimensions = OUTPUT.search(figure.measured).groups()
        assert 1_000 < int(size.replace(",", "")) < 64_000, figure
        # Both libraries turn the portrait photo upright and scale it to 512 px.
        assert dimensions == "384x512", figure


def test_a_short_run_judges_the_12_mp_targets(image_figures):
    targeted = {figure.name: figure for figure in image_figures if figure.target}
    assert set(targeted) == {
        f"{TARGETED_INPUT}: make_avatar, median",
        f"{TARGETED_INPUT}: Pillow / libvips, medians",
    }
    assert all(figure.met is not None for figure in targeted.values())


def test_a_short_run_measures_every_worst_case_for_the_lambda_memory(image_figures):
    process, *rows = [figure for figure in image_figures if figure.section == WORST_CASE_SECTION]
    assert 20 < float(re.fullmatch(r"(\d+) MB resident", process.measured).group(1)) < 500
    width, height = worst_case_size(300_000)
    assert [figure.name.split(" (")[0] for figure in rows] == [
        f"{width}x{height} {kind}" for kind in worst_case_images(300_000)
    ]
    for figure in rows:
        assert figure.target == "" and figure.met is None
        assert re.search(r"median [\d.]+ ms; peak memory \+\d+ MB", figure.measured), figure
        assert "libvips: " in figure.measured


def test_the_served_bytes_row_is_make_avatars_real_output():
    photo = phone_photo()
    rules = AvatarRules.from_settings(stage_settings())
    sent = Sent(prepared_like_the_page(photo), "modelled with Pillow (a test)")

    figures = {figure.name: figure for figure in photo_bytes_figures(photo, sent, rules)}

    served = figures["the avatar served: make_avatar's output for the photo as picked"]
    avatar = make_avatar(photo, rules)
    assert served.measured.startswith(f"{len(avatar.data):,} bytes")
    assert f"{avatar.width}x{avatar.height} image/webp" in served.measured
    assert served.met is (len(avatar.data) <= TARGET_SERVED_BYTES)
    sent_row = figures[
        "what the page sends: static/prepare.js, 1024 px, modelled with Pillow (a test)"
    ]
    assert sent_row.measured.startswith(f"{len(sent.content):,} bytes")
    assert "768x1024 WEBP" in sent_row.measured
