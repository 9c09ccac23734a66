"""Small tools the tests share: signing in, uploading as the browser does, images."""

import io
import json
import os
import struct
import zlib

import pytest
from botocore.exceptions import ClientError
from PIL import Image, ImageStat

JSON = {"Content-Type": "application/json"}


def sign_in(client, username):
    """Sign in through the API; return headers that carry the session cookie."""
    answer = client.http.put("/login", headers=JSON, body=json.dumps({"username": username}))
    assert answer.status_code == 204, answer.body
    cookie = answer.headers["Set-Cookie"].split(";")[0]
    return {"Cookie": cookie}


def post_json(client, path, body, headers):
    return client.http.post(path, headers={**JSON, **headers}, body=json.dumps(body))


def request_form(client, session):
    answer = post_json(client, "/uploads", {}, session)
    assert answer.status_code == 201, answer.body
    return json.loads(answer.body)


def upload(aws, key, body, owner, content_type="image/png"):
    """What the browser's POST leaves in the bucket (moto checks no policy anyway)."""
    aws.s3.put_object(
        Bucket=aws.settings.bucket_name,
        Key=aws.settings.pending_prefix + key,
        Body=body,
        ContentType=content_type,
        Metadata={"username": owner},
    )


def finalize(client, session, key):
    return post_json(client, "/avatar", {"key": key}, session)


def image_bytes(image_format="PNG", size=(32, 32), color=(200, 40, 40)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=image_format)
    return buffer.getvalue()


def keys_under(aws, prefix):
    answer = aws.s3.list_objects_v2(Bucket=aws.settings.bucket_name, Prefix=prefix)
    return sorted(entry["Key"] for entry in answer.get("Contents", []))


def table_items(aws):
    """Every item of the users table, each as canonical JSON, sorted: comparable snapshots."""
    items = aws.dynamodb.scan(TableName=aws.settings.table_name, ConsistentRead=True)["Items"]
    return sorted(json.dumps(item, sort_keys=True) for item in items)


def stored_state(aws):
    """What finalize must not change when it refuses: the items and the final objects."""
    return table_items(aws), keys_under(aws, "avatars/")


def avatar_of(aws, username):
    item = aws.dynamodb.get_item(
        TableName=aws.settings.table_name, Key={"Username": {"S": username}}
    )["Item"]
    return item["Avatar"]["S"]


def body_of(answer):
    return json.loads(answer.body) if answer.body else None


def stored_object(aws, key):
    """Bytes, Content-Type and metadata of the object at `key`."""
    answer = aws.s3.get_object(Bucket=aws.settings.bucket_name, Key=key)
    return answer["Body"].read(), answer["ContentType"], answer["Metadata"]


def image_colour(data):
    """The mean RGB colour of the image in `data`, decoded: compares what an
    avatar shows with what was uploaded, whatever the encoding."""
    with Image.open(io.BytesIO(data)) as image:
        mean = ImageStat.Stat(image.convert("RGB")).mean
    return tuple(round(channel) for channel in mean)


def colours_close(one, other, tolerance=12):
    """Whether two colours differ by at most `tolerance` on every channel: lossy
    WebP shifts a flat colour by a few units, never by this much."""
    return all(abs(a - b) <= tolerance for a, b in zip(one, other))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: its length, type, data, and the CRC of type and data."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_of_black_pixels(width: int, height: int) -> bytes:
    """A complete, valid PNG of `width` x `height` black pixels (greyscale, one
    bit a pixel) that weighs almost nothing: a header claiming as many pixels
    as a decompression bomb, over pixels that really are there.

    The rows are compressed one at a time, so nothing the size of the image is
    ever allocated: 30000x30000 (900 megapixels) takes a quarter of a second
    and 110 KB.
    """
    row = bytes(1 + (width + 7) // 8)  # the filter byte (none), then 8 pixels a byte
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def mark_suite(items, folder, marker, available, missing, required_variable):
    """Mark the collected tests under `folder` with `marker`. If what they need
    is not `available`, skip them with `missing` as the reason, or, when the
    environment sets `required_variable` to 1 (CI does), fail the run."""
    ours = [item for item in items if folder in str(item.fspath)]
    for item in ours:
        item.add_marker(marker)
    if available or not ours:
        return
    if os.environ.get(required_variable) == "1":
        raise pytest.UsageError(f"{required_variable}=1 but {missing}")
    for item in ours:
        item.add_marker(pytest.mark.skip(reason=missing))


def webp_chunks(data: bytes):
    """The chunk ids of a WebP file, in order (RIFF container)."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", data[:16]
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    chunks, offset = [], 12
    while offset < len(data):
        kind = data[offset : offset + 4].decode("latin-1")
        size = struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        chunks.append(kind)
        offset += 8 + size + (size & 1)
    assert offset == len(data), "a chunk runs past the end of the file"
    return chunks


def fail_every(client_getter, operation):
    """Every `operation` of the app's client fails from now on, before it is
    sent (the client dies with the test's `aws` fixture)."""

    def fail(**_):
        raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, operation)

    service = client_getter().meta.service_model.service_name
    client_getter().meta.events.register(f"before-call.{service}.{operation}", fail)
