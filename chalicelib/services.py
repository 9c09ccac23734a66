"""Where the pieces meet: settings, clients and the objects built from them.

Routes ask here for what they need; nothing is built before the first request.
"""

import functools
from datetime import datetime, timezone

from . import auth, aws, inventory, sweeper
from .errors import NotFound
from .security_headers import origin_of
from .settings import load_settings
from .uploads import UploadService
from .users import DynamoUserRepository
from .web import StaticAssets


def user_repository() -> DynamoUserRepository:
    return DynamoUserRepository(aws.dynamodb_client(), load_settings().table_name)


def upload_service() -> UploadService:
    return UploadService(aws.s3_client(), user_repository(), load_settings())


def bucket_view() -> dict:
    _require_debug_views()
    return inventory.describe_bucket(aws.s3_client(), load_settings())


def sweep_orphaned_avatars() -> list:
    return sweeper.sweep_orphaned_avatars(
        aws.s3_client(), user_repository(), load_settings(), now=datetime.now(timezone.utc)
    )


def table_items() -> list:
    _require_debug_views()
    return inventory.describe_items(user_repository())


def _require_debug_views():
    # They show every user's avatar key to anyone: a demo's, off unless a
    # stage turns them on (DEBUG_ROUTES).
    if not load_settings().debug_routes:
        raise NotFound(
            "The debug views are off on this stage (DEBUG_ROUTES).", code="debug_views_off"
        )


@functools.lru_cache(maxsize=1)
def static_assets() -> StaticAssets:
    # One per process: it holds the page's files between requests.
    settings = load_settings()
    return StaticAssets(aws.s3_client(), settings.bucket_name, settings.web_prefix)


@functools.lru_cache(maxsize=1)
def storage_origins() -> frozenset:
    """Where the page's avatars come from and its uploads go (S3, and
    CloudFront for avatars where the stage has it): the origins its CSP names.
    The same for every answer of a process."""
    return frozenset(origin_of(url) for url in upload_service().browser_urls())


def reset():
    """Forget settings, clients, the secret and cached files (tests)."""
    load_settings.cache_clear()
    aws.reset_clients()
    auth.forget_secret()
    static_assets.cache_clear()
    storage_origins.cache_clear()
