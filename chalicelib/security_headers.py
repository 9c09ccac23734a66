"""The headers every answer carries so a browser gives it no more power than it needs.

Pure: the S3 origins the page may reach come in as arguments.
"""

from typing import Dict, Iterable
from urllib.parse import urlsplit

# Nothing of this app needs the page's URL sent elsewhere (S3 least of all).
_EVERY_ANSWER = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

# JSON is data, never a document: it may load nothing and be framed nowhere.
_JSON_POLICY = "default-src 'none'; frame-ancestors 'none'"

PAGE_CONTENT_TYPES = ("text/html", "text/javascript", "text/css")


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of `url`, as a CSP source."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def page_policy(s3_origins: Iterable[str]) -> str:
    """The page's Content-Security-Policy: its own modules and styles, avatars
    and uploads on S3, and nothing inline.

    `data:` is for `<link rel="icon" href="data:,">`, which keeps the browser
    from asking for a /favicon.ico that does not exist.
    """
    s3 = " ".join(sorted(set(s3_origins)))
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: {s3}",
            f"connect-src 'self' {s3}",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


def security_headers(content_type: str, s3_origins: Iterable[str]) -> Dict[str, str]:
    """The headers to add to an answer of `content_type`."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type in PAGE_CONTENT_TYPES:
        return {
            **_EVERY_ANSWER,
            "Content-Security-Policy": page_policy(s3_origins),
            # For browsers that predate frame-ancestors.
            "X-Frame-Options": "DENY",
        }
    return {
        **_EVERY_ANSWER,
        "Content-Security-Policy": _JSON_POLICY,
        # Answers depend on the session: no shared or browser cache keeps them.
        "Cache-Control": "no-store",
    }
