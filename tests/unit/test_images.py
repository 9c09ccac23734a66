"""Unit tests for chalicelib.images.sniff_image_type, on images built in memory."""

import io
import struct
import zlib

import pytest
from PIL import Image

from chalicelib.images import SNIFF_BYTES, sniff_image_type


def _image_bytes(fmt: str, mode: str = "RGB", size=(4, 3), **options) -> bytes:
    buffer = io.BytesIO()
    color = 1 if mode == "P" else (200, 30, 90, 128)[: len(mode)]
    Image.new(mode, size, color).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _head(data: bytes) -> bytes:
    return data[:SNIFF_BYTES]


def _png_ihdr(width: int, height: int) -> bytes:
    """A PNG signature and an IHDR chunk with a correct CRC."""
    body = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + body + struct.pack(">I", zlib.crc32(body))


# --- real images are recognised ----------------------------------------------


def test_sniff_image_type_recognises_a_png_made_by_pillow():
    assert sniff_image_type(_head(_image_bytes("PNG"))) == "image/png"


def test_sniff_image_type_recognises_a_png_with_alpha_made_by_pillow():
    assert sniff_image_type(_head(_image_bytes("PNG", mode="RGBA"))) == "image/png"


def test_sniff_image_type_recognises_a_jpeg_made_by_pillow():
    assert sniff_image_type(_head(_image_bytes("JPEG"))) == "image/jpeg"


def test_sniff_image_type_recognises_a_progressive_jpeg_with_exif_made_by_pillow():
    exif = Image.Exif()
    exif[0x010F] = "UnitTest"  # Make
    data = _image_bytes("JPEG", progressive=True, exif=exif.tobytes())
    assert sniff_image_type(_head(data)) == "image/jpeg"


def test_sniff_image_type_recognises_an_exif_jpeg_whose_first_segment_is_app1():
    # As cameras write it: SOI then APP1 (Exif), no JFIF APP0. Cut Pillow's APP0 out.
    exif = Image.Exif()
    exif[0x010F] = "UnitTest"
    data = _image_bytes("JPEG", exif=exif.tobytes())
    assert data[2:4] == b"\xff\xe0"
    app0_length = int.from_bytes(data[4:6], "big")
    camera_style = data[:2] + data[4 + app0_length :]
    assert camera_style[2:4] == b"\xff\xe1"
    assert sniff_image_type(_head(camera_style)) == "image/jpeg"


def test_sniff_image_type_recognises_a_gif_made_by_pillow():
    assert sniff_image_type(_head(_image_bytes("GIF", mode="P"))) == "image/gif"


def test_sniff_image_type_recognises_a_gif89a_made_by_pillow():
    data = _image_bytes("GIF", mode="P", transparency=1)
    assert data[:6] == b"GIF89a"
    assert sniff_image_type(_head(data)) == "image/gif"


@pytest.mark.parametrize(
    ("mode", "options", "chunk"),
    [
        ("RGB", {}, b"VP8 "),
        ("RGB", {"lossless": True}, b"VP8L"),
        ("RGBA", {}, b"VP8X"),
    ],
)
def test_sniff_image_type_recognises_each_kind_of_webp_made_by_pillow(mode, options, chunk):
    data = _image_bytes("WEBP", mode=mode, **options)
    assert data[12:16] == chunk
    assert sniff_image_type(_head(data)) == "image/webp"


def test_sniff_image_type_reads_a_whole_file_as_well_as_its_head():
    assert sniff_image_type(_image_bytes("PNG")) == "image/png"


def test_sniff_image_type_recognises_a_large_png():
    data = _image_bytes("PNG", size=(4000, 3000))
    assert sniff_image_type(_head(data)) == "image/png"


# --- everything else is refused ---------------------------------------------


def test_sniff_image_type_refuses_empty_bytes():
    assert sniff_image_type(b"") is None


def test_sniff_image_type_refuses_html():
    html = b"<!DOCTYPE html><html><head><script>alert(document.cookie)</script></head></html>"
    assert sniff_image_type(_head(html)) is None


def test_sniff_image_type_refuses_svg():
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(1)</script></svg>"
    )
    assert sniff_image_type(_head(svg)) is None


def test_sniff_image_type_refuses_svg_with_an_xml_prolog():
    svg = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    )
    assert sniff_image_type(_head(svg)) is None


def test_sniff_image_type_refuses_a_png_signature_glued_to_html():
    polyglot = b"\x89PNG\r\n\x1a\n<html><script>alert(document.cookie)</script></html>"
    assert sniff_image_type(_head(polyglot)) is None


def test_sniff_image_type_refuses_a_png_whose_ihdr_crc_is_corrupted():
    data = bytearray(_image_bytes("PNG"))
    data[29] ^= 0xFF  # first byte of the IHDR CRC
    assert sniff_image_type(_head(bytes(data))) is None


def test_sniff_image_type_refuses_a_png_whose_ihdr_body_was_altered_after_the_crc():
    data = bytearray(_image_bytes("PNG"))
    data[19] ^= 0x01  # low byte of the width: the CRC no longer matches
    assert sniff_image_type(_head(bytes(data))) is None


def test_sniff_image_type_refuses_a_png_whose_first_chunk_is_not_ihdr():
    data = bytearray(_image_bytes("PNG"))
    data[12:16] = b"tEXt"
    assert sniff_image_type(_head(bytes(data))) is None


def test_sniff_image_type_refuses_a_png_with_a_zero_width_even_with_a_valid_crc():
    assert sniff_image_type(_png_ihdr(0, 10)) is None
    assert sniff_image_type(_png_ihdr(10, 0)) is None


def test_a_hand_built_png_header_with_a_valid_crc_is_recognised():
    # The control for the zero-size case above: the builder itself is right.
    assert sniff_image_type(_png_ihdr(10, 10)) == "image/png"


def test_sniff_image_type_refuses_a_png_truncated_to_its_first_20_bytes():
    assert sniff_image_type(_image_bytes("PNG")[:20]) is None


def test_sniff_image_type_refuses_a_png_truncated_just_before_the_end_of_its_crc():
    assert sniff_image_type(_image_bytes("PNG")[:32]) is None


def test_sniff_image_type_refuses_a_gif_header_with_zero_width():
    header = b"GIF89a" + struct.pack("<HH", 0, 10) + b"\x80\x00\x00" + b"\x00" * 20
    assert sniff_image_type(header) is None


def test_sniff_image_type_refuses_a_gif_header_with_zero_height():
    header = b"GIF87a" + struct.pack("<HH", 10, 0) + b"\x80\x00\x00" + b"\x00" * 20
    assert sniff_image_type(header) is None


def test_sniff_image_type_refuses_a_gif_header_cut_before_its_height():
    assert sniff_image_type(b"GIF89a\x01\x00") is None


def test_sniff_image_type_refuses_a_gif_signature_of_an_unknown_version():
    assert sniff_image_type(b"GIF88a" + struct.pack("<HH", 10, 10) + b"\x00" * 20) is None


def test_sniff_image_type_refuses_a_gif_signature_glued_to_html():
    # images.py promises that "a file that is only a signature glued to HTML or
    # script is refused". For GIF, the only check beyond the signature is a
    # non-zero width and height, and any two printable characters pass it:
    # here "<h" and "tm" read as 26684 x 28020, so this HTML is taken for a GIF.
    polyglot = b"GIF89a<html><script>alert(document.cookie)</script></html>"
    assert sniff_image_type(_head(polyglot)) is None


def test_sniff_image_type_refuses_a_riff_webp_whose_first_chunk_type_is_junk():
    data = b"RIFF" + struct.pack("<I", 100) + b"WEBP" + b"JUNK" + b"\x00" * 40
    assert sniff_image_type(data) is None


def test_sniff_image_type_refuses_a_riff_file_that_is_not_webp():
    wav = b"RIFF" + struct.pack("<I", 100) + b"WAVE" + b"fmt " + b"\x00" * 40
    assert sniff_image_type(wav) is None


def test_sniff_image_type_refuses_a_webp_header_cut_before_its_chunk_type():
    assert sniff_image_type(_image_bytes("WEBP")[:14]) is None


@pytest.mark.parametrize("byte", [b"\x00", b"<", b"\x7f", b"\xbf", b"\xff"])
def test_sniff_image_type_refuses_a_jpeg_soi_followed_by_a_non_marker_byte(byte):
    assert sniff_image_type(b"\xff\xd8\xff" + byte + b"<html><script>x</script>") is None


def test_sniff_image_type_refuses_a_jpeg_soi_followed_directly_by_html():
    assert sniff_image_type(b"\xff\xd8<html><script>alert(1)</script>") is None


def test_sniff_image_type_refuses_a_bare_jpeg_soi():
    assert sniff_image_type(b"\xff\xd8\xff") is None


def test_sniff_image_type_refuses_plain_text():
    assert sniff_image_type(b"Hello, this is just a plain text file.\n" * 2) is None


def test_sniff_image_type_refuses_a_pdf_header():
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    assert sniff_image_type(_head(pdf)) is None


def test_sniff_image_type_refuses_an_image_format_it_does_not_allow():
    assert sniff_image_type(_head(_image_bytes("BMP"))) is None
    assert sniff_image_type(_head(_image_bytes("TIFF"))) is None


@pytest.mark.parametrize(
    "content",
    [
        b"RIFF\0\0\0\0WEBPVP8 <html><script>alert(1)</script></html>",
        b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>",
        b"GIF89a" + b"\x01\0\x01\0" + b"\0" * 100 + b"<script>alert(1)</script>",
    ],
    ids=["webp", "jpeg", "gif-with-padding"],
)
def test_sniff_image_type_refuses_markup_behind_any_image_signature(content):
    assert sniff_image_type(content[:SNIFF_BYTES]) is None
