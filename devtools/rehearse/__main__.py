"""`make rehearse`: README's deploy and delete, rehearsed against the emulator.

    make rehearse
    AWS_ENDPOINT_URL=http://127.0.0.1:5000 REHEARSE_KEEP=1 make rehearse

What "Deploying to AWS" does, with the emulator standing in for AWS:
1. creates what `terraform apply` creates, named as infra/ names it
   (devtools/provision.py; the session secret in SSM, the CloudFront
   distribution, the functions' log groups, as infra/*.tf declares them), and
   runs the seed images' upload command as Terraform's provisioner does;
2. prints the document `terraform -chdir=infra output -json` would print, and
   pipes it into the configure step as a user does (`python -m
   devtools.configure_stage`);
3. runs `chalice deploy --stage dev`, the command a user runs, and checks what it
   made against .chalice/config.json and app.py;
4. runs `chalice delete --stage dev`, and checks that the app is gone and the
   infrastructure and its data are not.
Each check prints `ok  <what>` or `FAIL <what>: <why>`. Exit status: 0 if every
check passed, 1 if one failed, 2 if the rehearsal refused to start.

The emulator is the one AWS_ENDPOINT_URL names, else one started here as `make
run` starts it (on a free port, or on MOTO_PORT); the region is
AWS_DEFAULT_REGION's, else infra/'s default. The configure step writes into
this checkout's .chalice/, as it does before a real deploy: every file there is
put back afterwards, on a failure, Ctrl-C, SIGTERM or SIGHUP too, unless
REHEARSE_KEEP=1, which keeps the deployment and the configured stage to look at
and prints how to remove both (and is refused while .chalice/ holds uncommitted
changes, which that `git checkout .chalice/` would discard).
Only an emulator is ever addressed: an AWS endpoint is refused, and this
process, `chalice` and the configure step run with fake credentials, no AWS
configuration files and no endpoint but the emulator's (environment.py); every
client's endpoint is checked before anything is created.

This module is the command: its environment, its refusals, what it prints; the
run itself is rehearsal.py's.
"""

import os
import signal
import subprocess
import sys
from urllib.parse import urlparse

from botocore.exceptions import BotoCoreError, ClientError

from devtools.emulator import Emulator
from devtools.rehearse.chalice_dir import CHALICE_DIR
from devtools.rehearse.environment import rehearsal_environ
from devtools.rehearse.errors import RehearsalError
from devtools.rehearse.rehearsal import Rehearsal
from devtools.rehearse.stage import STAGE
from devtools.rehearse.terraform import Infra


def _is_aws(endpoint: str) -> bool:
    host = urlparse(endpoint).hostname or ""
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws"))


def _uncommitted_chalice_dir() -> str:
    """`git status --porcelain .chalice`: what `git checkout .chalice/` would discard."""
    try:
        answer = subprocess.run(
            ["git", "status", "--porcelain", CHALICE_DIR.name],
            cwd=CHALICE_DIR.parent,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise RehearsalError(
            f"REHEARSE_KEEP=1 needs .chalice/ in a git checkout, to be restored with "
            f"`git checkout .chalice/` afterwards: `git status` failed ({error})."
        ) from None
    return answer.stdout


def _exit_on_signals():
    """Turn SIGTERM and SIGHUP into SystemExit, so that every `finally` runs
    (.chalice/ put back, the emulator stopped) as on Ctrl-C."""

    def leave(signum, _frame):
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, leave)


def main() -> int:
    environ = os.environ
    keep = environ.get("REHEARSE_KEEP", "") not in ("", "0")
    endpoint = environ.get("AWS_ENDPOINT_URL", "")
    try:
        if (CHALICE_DIR / "deployed" / f"{STAGE}.json").exists():
            raise RehearsalError(
                f".chalice/deployed/{STAGE}.json exists: a deployment (real, or a kept "
                f"rehearsal) is recorded there. Delete it first (`chalice delete --stage {STAGE}` "
                "with the environment it was deployed with)."
            )
        if endpoint and _is_aws(endpoint):
            raise RehearsalError(
                f"AWS_ENDPOINT_URL={endpoint} is AWS: this rehearses on an emulator."
            )
        if keep and not endpoint:
            raise RehearsalError(
                "REHEARSE_KEEP=1 needs an emulator that outlives the rehearsal: start `make run`, "
                "and set AWS_ENDPOINT_URL to the Emulator URL it prints."
            )
        if keep and _uncommitted_chalice_dir():
            raise RehearsalError(
                "REHEARSE_KEEP=1 leaves the configured stage in .chalice/, to be undone with "
                "`git checkout .chalice/`, which would also discard the changes .chalice/ "
                "holds now (`git status .chalice`): commit or stash them first."
            )
        infra = Infra()
    except RehearsalError as error:
        print(f"rehearse: {error}", file=sys.stderr)
        return 2
    region = environ.get("AWS_DEFAULT_REGION")
    if not region:
        region = infra.defaults["region"]
        print(f"AWS_DEFAULT_REGION is not set: using infra/'s default region, {region}.")
    _exit_on_signals()
    emulator = None
    try:
        if not endpoint:
            emulator = Emulator(int(environ.get("MOTO_PORT", "0")))
            endpoint = emulator.endpoint_url
        # This process's boto3 reads os.environ; `chalice` and the configure step get it too.
        sanitized = rehearsal_environ(environ, endpoint, region)
        environ.clear()
        environ.update(sanitized)
        print(
            f"Rehearsing `chalice deploy --stage {STAGE}` "
            + ("(kept: REHEARSE_KEEP=1)" if keep else f"and `chalice delete --stage {STAGE}`")
            + f" against {endpoint} ({'embedded emulator' if emulator else 'AWS_ENDPOINT_URL'}), "
            f"region {region}, with fake credentials and no AWS configuration files.",
            flush=True,
        )
        try:
            rehearsal = Rehearsal(infra, region, endpoint, dict(environ), out=_print)
        except RehearsalError as error:
            print(f"rehearse: {error}", file=sys.stderr)
            return 2
        return rehearsal.run(keep, endpoint, emulator is not None)
    except (RehearsalError, ClientError, BotoCoreError) as error:
        print(f"FAIL rehearsal: {error}", flush=True)
        return 1
    finally:
        if emulator is not None:
            emulator.stop()


def _print(line: str):
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
