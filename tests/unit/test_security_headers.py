"""The security headers: which answer gets which, and the page's policy."""

import pytest

from chalicelib.security_headers import origin_of, page_policy, security_headers

S3 = "http://127.0.0.1:5000"


def directives(policy):
    return {part.strip().split()[0]: part.strip().split()[1:] for part in policy.split(";")}


def test_origin_of_keeps_scheme_host_and_port_only():
    assert origin_of("http://127.0.0.1:5000/bucket/key?X-Amz-Signature=1") == S3
    assert origin_of("https://b.s3.amazonaws.com/") == "https://b.s3.amazonaws.com"


def test_the_page_policy_allows_its_own_files_and_s3_and_nothing_inline():
    policy = directives(page_policy([S3, "https://b.s3.eu-west-1.amazonaws.com"]))
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    both = [S3, "https://b.s3.eu-west-1.amazonaws.com"]
    assert policy["img-src"] == ["'self'", "data:", *both]
    assert policy["connect-src"] == ["'self'", *both]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert "unsafe" not in page_policy([S3])


def test_an_origin_named_twice_is_listed_once():
    assert directives(page_policy([S3, S3]))["connect-src"] == ["'self'", S3]


@pytest.mark.parametrize(
    "content_type",
    ["text/html; charset=utf-8", "text/javascript; charset=utf-8", "TEXT/CSS"],
)
def test_the_page_and_its_assets_get_the_page_policy(content_type):
    headers = security_headers(content_type, [S3])
    assert headers["Content-Security-Policy"] == page_policy([S3])
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Cache-Control" not in headers


@pytest.mark.parametrize("content_type", ["application/json", "", "image/png"])
def test_every_other_answer_may_load_nothing_and_is_not_stored(content_type):
    headers = security_headers(content_type, [S3])
    assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
