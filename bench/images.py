"""Real PNG files of an exact size, or over a pixel count: complete images the decoder reads."""

import functools
import io
import math
import random

from PIL import Image, PngImagePlugin

# A tEXt chunk costs its data plus 12 bytes (length, type, CRC) and the
# keyword with its NUL separator.
_PAD_KEYWORD = "padding"
_TEXT_CHUNK_OVERHEAD = 12 + len(_PAD_KEYWORD) + 1


@functools.lru_cache(maxsize=16)
def png_of_size(size: int, seed: int = 0) -> bytes:
    """A PNG of exactly `size` bytes: noise pixels (incompressible), padded with text."""
    rng = random.Random(seed)
    # Noise compresses to a little over 3 bytes a pixel; stay under the size.
    side = max(1, int(math.sqrt(max(size - 2048, 0) / 3.2)))
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    bare = _encode(image, None)
    padding = size - len(bare) - _TEXT_CHUNK_OVERHEAD
    if padding < 0:
        raise ValueError(f"cannot make a PNG as small as {size} bytes")
    info = PngImagePlugin.PngInfo()
    info.add_text(_PAD_KEYWORD, "x" * padding)
    content = _encode(image, info)
    if len(content) != size:  # only if Pillow changed how it writes chunks
        raise RuntimeError(f"made a PNG of {len(content)} bytes, not {size}")
    return content


def _encode(image, info) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def png_over_pixels(max_pixels: int) -> bytes:
    """A complete PNG with more pixels than `max_pixels` that weighs a few KB.

    One bit a pixel, all black: it compresses to almost nothing, so it is
    refused for its pixel count, never for its size.
    """
    side = math.isqrt(max_pixels) + 1
    return _encode(Image.new("1", (side, side)), None)
