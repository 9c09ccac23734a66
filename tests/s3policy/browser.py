"""What the page does, over HTTP: ask for a form, post the file to S3, finalize."""

import re

import requests

from tests.stack import post_file

__all__ = ["request_form", "post_file", "post_with", "finalize", "s3_error_code"]


def request_form(session) -> dict:
    answer = session.post(session.base + "uploads", json={})
    assert answer.status_code == 201, answer.text
    return answer.json()


def post_with(form, changes, content, content_type="image/png", origin=None):
    """Step 2 with some of the form's fields changed (a None leaves one out),
    from the page at `origin` if given."""
    data = {**form["fields"], "Content-Type": content_type, **changes}
    return requests.post(
        form["url"],
        data={name: value for name, value in data.items() if value is not None},
        files={"file": ("upload", content, content_type)},
        headers={"Origin": origin} if origin else {},
        timeout=30,
    )


def finalize(session, key):
    return session.post(session.base + "avatar", json={"key": key})


def s3_error_code(answer) -> str:
    """The <Code> of S3's XML error answer."""
    match = re.search(r"<Code>([^<]+)</Code>", answer.text)
    return match.group(1) if match else ""
