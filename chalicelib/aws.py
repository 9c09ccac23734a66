"""The AWS clients, created on first use and shared by the whole process.

Never at import: a client built before moto is imported escapes the mock, and
one built per request costs a few milliseconds each time. Clients are thread
safe once built; building them is not (boto3's default session), hence the lock.
"""

import functools
import threading

import boto3
from botocore.config import Config

from .settings import load_settings

_build_lock = threading.Lock()

# Fail fast and let the caller answer 503 rather than hang near API Gateway's
# 29-second limit.
CLIENT_OPTIONS = {"connect_timeout": 3, "read_timeout": 10, "retries": {"mode": "standard"}}


def _once(build):
    cached = functools.lru_cache(maxsize=1)(build)

    @functools.wraps(build)
    def get():
        with _build_lock:
            return cached()

    get.cache_clear = cached.cache_clear
    return get


@_once
def s3_client():
    settings = load_settings()
    if settings.aws_endpoint_url:
        return boto3.client(
            "s3",
            region_name=settings.region,
            endpoint_url=settings.aws_endpoint_url,
            config=Config(signature_version="s3v4", **CLIENT_OPTIONS),
        )
    # The regional endpoint, named explicitly: otherwise boto3 signs presigned
    # POSTs for the global host, which redirects and so breaks the browser's
    # CORS request (https://github.com/boto/boto3/issues/2728).
    return boto3.client(
        "s3",
        region_name=settings.region,
        endpoint_url=f"https://s3.{settings.region}.amazonaws.com",
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}, **CLIENT_OPTIONS),
    )


@_once
def dynamodb_client():
    return boto3.client("dynamodb", region_name=load_settings().region, config=Config(**CLIENT_OPTIONS))


@_once
def ssm_client():
    return boto3.client("ssm", region_name=load_settings().region, config=Config(**CLIENT_OPTIONS))


def reset_clients():
    """Forget every client, so the next call builds it anew (tests)."""
    for getter in (s3_client, dynamodb_client, ssm_client):
        getter.cache_clear()
