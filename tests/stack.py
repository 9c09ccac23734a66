"""The real local stack for a test, and the browser's step 2 against it."""

import requests

from devtools.stack_process import running_stack

__all__ = ["running_stack", "post_file"]


def post_file(form, content, content_type="image/png"):
    """Step 2 as the browser does it: the form's fields, then the file, last."""
    return requests.post(
        form["url"],
        data={**form["fields"], "Content-Type": content_type},
        files={"file": ("upload", content, content_type)},
        timeout=10,
    )
