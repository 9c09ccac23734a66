"""The app's API as the page uses it, for one signed-in user.

Each user has its own HTTP session (keep-alive, its own cookie), as each
browser does.
"""

import time
from dataclasses import dataclass

import requests

TIMEOUT_SECONDS = 30


class ApiError(RuntimeError):
    """The app answered with a status the step does not expect."""


@dataclass
class Change:
    """One avatar change through the three phases, and how long it took."""

    key: str
    seconds: float


class AvatarClient:
    def __init__(self, app_url: str):
        self.app_url = app_url
        self.http = requests.Session()

    def __enter__(self) -> "AvatarClient":
        return self

    def __exit__(self, *exception) -> None:
        self.http.close()

    def sign_in(self, username: str) -> "AvatarClient":
        answer = self.http.put(
            self.app_url + "login", json={"username": username}, timeout=TIMEOUT_SECONDS
        )
        _expect(answer, 204)
        return self

    def request(self, method: str, path: str, **options) -> requests.Response:
        return self.http.request(method, self.app_url + path, timeout=TIMEOUT_SECONDS, **options)

    def create_upload(self) -> dict:
        answer = self.request("POST", "uploads", json={})
        _expect(answer, 201)
        return answer.json()

    def post_file(self, form: dict, content: bytes, content_type="image/png") -> None:
        """Step 2: the browser's multipart POST straight to the bucket."""
        post_form(self.http, form, content, content_type)

    def finalize(self, key: str) -> requests.Response:
        return self.request("POST", "avatar", json={"key": key})

    def change_avatar(self, content: bytes) -> Change:
        """All three phases, timed as the user waits for them."""
        started = time.perf_counter()
        form = self.create_upload()
        self.post_file(form, content)
        _expect(self.finalize(form["key"]), 200)
        return Change(form["key"], time.perf_counter() - started)


def post_form(http, form: dict, content: bytes, content_type="image/png") -> None:
    """POST a file with a presigned form's fields, the file last as S3 requires."""
    answer = http.post(
        form["url"],
        data={**form["fields"], "Content-Type": content_type},
        files={"file": ("avatar", content, content_type)},
        timeout=TIMEOUT_SECONDS,
    )
    _expect(answer, 204)


def _expect(answer: requests.Response, status: int) -> None:
    if answer.status_code != status:
        raise ApiError(
            f"{answer.request.method} {answer.url} answered {answer.status_code}, "
            f"not {status}: {answer.text[:200]}"
        )
