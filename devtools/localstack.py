"""LocalStack's S3 and SQS in a child process group, for the tests of the POST policy.

moto stores whatever a presigned POST sends; LocalStack's S3 checks the
policy's conditions (size, Content-Type, key, metadata), so tests/s3policy runs
the app against it, with DynamoDB left on moto (LocalStack's needs Java).
`make test` installs it into .venv-localstack (requirements-localstack.txt).

It runs without Docker, offline, and with its state in a temporary folder:
these machines have /.dockerenv, and LocalStack would otherwise believe it runs
in its own image and write to /var/lib/localstack. One path is fixed in its code: object bodies are anonymous
temporary files (gone when it stops) in /tmp/localstack-s3-storage/<bucket>/,
which leaves those folders behind, empty.

`python -m devtools.localstack` serves it until Ctrl-C and prints its URL.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

from devtools.stack_process import start_with_output, wait_for_line, wait_until_stopped

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-localstack"
PYTHON = VENV / "bin" / "python"
# Written by the Makefile's install step once everything is in place.
INSTALLED_MARKER = VENV / ".installed"
INSTALL_STEP = "make .venv-localstack/.installed (part of make test)"
# LocalStack checks signatures (presigned GETs) against the secret of these.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
STOP_SECONDS = 15
_READY_LINE = re.compile(r"^(Ready\.)\s*$")


def is_installed() -> bool:
    return INSTALLED_MARKER.exists() and PYTHON.exists()


@contextlib.contextmanager
def running_localstack(services="s3,sqs"):
    """Start LocalStack on a free port; yield {"url", "pid", "lines"}; stop it on exit.

    `lines` is a queue of what it prints after `Ready.`.
    """
    if not is_installed():
        raise RuntimeError(f"LocalStack is not installed: {INSTALL_STEP}")
    with tempfile.TemporaryDirectory(prefix="localstack-") as folder:
        port = _free_port()
        process, lines = start_with_output(
            [str(PYTHON), "-m", "localstack.runtime.main"],
            cwd=folder,
            env=_environment(Path(folder), port, services),
            # Its own process group, so that stopping it stops whatever it starts.
            start_new_session=True,
        )
        try:
            wait_for_line(_READY_LINE, process, lines, name="LocalStack")
            yield {"url": f"http://127.0.0.1:{port}", "pid": process.pid, "lines": lines}
        finally:
            _stop(process)


def _environment(folder: Path, port: int, services: str) -> dict:
    """A clean environment: none of the caller's AWS_* or LocalStack settings."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "SERVICES": services,
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        # Check presigned URLs' signatures, as S3 does (the default skips them).
        "S3_SKIP_SIGNATURE_VALIDATION": "0",
        "LOCALSTACK_VOLUME_DIR": str(folder / "volume"),
        "FILESYSTEM_ROOT": str(folder / "filesystem"),
        # /.dockerenv exists here: without these LocalStack writes outside the folder.
        "OVERRIDE_IN_DOCKER": "0",
        "HOME": str(folder),
        "TMPDIR": str(folder),
        # Offline: no DNS server of its own, no certificate download, no analytics.
        "DNS_ADDRESS": "0",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DISABLE_EVENTS": "1",
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process):
    """SIGTERM to its process group (it shuts down in a second or two), SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main():
    with running_localstack() as localstack:
        print(f"LocalStack: {localstack['url']}  (credentials test/test; Ctrl-C stops)", flush=True)
        wait_until_stopped()


if __name__ == "__main__":
    main()
