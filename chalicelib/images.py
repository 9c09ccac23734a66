"""What an upload really is, from its first bytes. Pure: no I/O.

The declared Content-Type is the browser's word and the POST policy only checks
that it starts with `image/`; these checks read the bytes. Each format's header
is checked beyond its magic number (PNG's IHDR chunk and its CRC, GIF's
dimensions, WebP's first chunk), and markup anywhere in the bytes read is
refused, so a file that is an image signature glued to HTML or script is not
an image. SVG is never accepted: it is a document that can carry script.

No header check proves a whole file is an image; what makes a cleverer polyglot
harmless is that the avatar is stored, and served by S3, with the sniffed
`image/*` type, which browsers never render as a document.
"""

import re
import struct
import zlib
from typing import Optional

# Every header checked below fits in far less; the rest is searched for markup.
SNIFF_BYTES = 1024
_MARKUP = re.compile(rb"<(?:!doctype|html|head|body|script|iframe|svg|object|embed)\b", re.I)

JPEG, PNG, GIF, WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"


def sniff_image_type(head: bytes) -> Optional[str]:
    """The Content-Type of an allowed image that starts with `head`, or None."""
    if _MARKUP.search(head):
        return None
    for content_type, looks_valid in _CHECKS:
        if looks_valid(head):
            return content_type
    return None


def _is_png(head: bytes) -> bool:
    if not head.startswith(b"\x89PNG\r\n\x1a\n") or len(head) < 33:
        return False
    length, chunk_type = struct.unpack(">I4s", head[8:16])
    if length != 13 or chunk_type != b"IHDR":
        return False
    width, height = struct.unpack(">II", head[16:24])
    (crc,) = struct.unpack(">I", head[29:33])
    return width > 0 and height > 0 and crc == zlib.crc32(head[12:29])


def _is_jpeg(head: bytes) -> bool:
    # SOI, then the first segment's marker: APPn, DQT, SOFn, DHT, COM or the like.
    return len(head) >= 4 and head[:3] == b"\xff\xd8\xff" and 0xC0 <= head[3] <= 0xFE


def _is_gif(head: bytes) -> bool:
    if len(head) < 10 or head[:6] not in (b"GIF87a", b"GIF89a"):
        return False
    width, height = struct.unpack("<HH", head[6:10])
    return width > 0 and height > 0


def _is_webp(head: bytes) -> bool:
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return False
    chunk = head[12:16]
    if chunk == b"VP8 ":  # lossy: a key frame's start code
        return head[23:26] == b"\x9d\x01\x2a"
    if chunk == b"VP8L":  # lossless: its signature byte
        return head[20] == 0x2F
    if chunk == b"VP8X":  # extended: a 10-byte header chunk
        return struct.unpack("<I", head[16:20])[0] == 10
    return False


_CHECKS = ((PNG, _is_png), (JPEG, _is_jpeg), (GIF, _is_gif), (WEBP, _is_webp))
