"""The headers every answer carries so a browser gives it no more power than it needs.

The policies are pure functions of the storage origins the page may reach;
`with_security_headers` puts them on an answer (app.py's middleware).
"""

from typing import Callable, Dict, Iterable
from urllib.parse import urlsplit

from chalice import Response

from .http import answer_to

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


def page_policy(storage_origins: Iterable[str]) -> str:
    """The page's Content-Security-Policy: its own modules and styles, avatars
    and uploads at `storage_origins` (S3, CloudFront), and nothing inline.

    `data:` is for `<link rel="icon" href="data:,">`, which keeps the browser
    from asking for a /favicon.ico that does not exist.
    """
    storage = " ".join(sorted(set(storage_origins)))
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: {storage}",
            f"connect-src 'self' {storage}",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


def security_headers(content_type: str, storage_origins: Iterable[str]) -> Dict[str, str]:
    """The headers to add to an answer of `content_type`."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type in PAGE_CONTENT_TYPES:
        return {
            **_EVERY_ANSWER,
            "Content-Security-Policy": page_policy(storage_origins),
            # For browsers that predate frame-ancestors.
            "X-Frame-Options": "DENY",
        }
    return {
        **_EVERY_ANSWER,
        "Content-Security-Policy": _JSON_POLICY,
        # Answers depend on the session: no shared or browser cache keeps them.
        "Cache-Control": "no-store",
    }


def with_security_headers(
    response: Response, storage_origins: Callable[[], Iterable[str]]
) -> Response:
    """`response` with the headers of `security_headers`; a header the route set itself stays.

    `storage_origins` is called only for the page's files, the one answer that names them.
    """
    present = {name.lower() for name in response.headers}
    if "content-type" not in present:
        # Chalice serialises a view's dict as JSON without saying so; say it,
        # so that nosniff has a declared type to hold the browser to.
        response.headers["Content-Type"] = "application/json"
    content_type = next(
        value for name, value in response.headers.items() if name.lower() == "content-type"
    )
    is_page = content_type.split(";")[0].strip().lower() in PAGE_CONTENT_TYPES
    try:
        origins = storage_origins() if is_page else ()
    except Exception as error:
        # Signing needs credentials: without them the page could load no image.
        return with_security_headers(answer_to(error), storage_origins)
    for name, value in security_headers(content_type, origins).items():
        if name.lower() not in present:
            response.headers[name] = value
    return response
