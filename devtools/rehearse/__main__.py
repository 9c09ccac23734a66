"""`make rehearse`: README's deploy and delete, rehearsed against the emulator.

    make rehearse
    AWS_ENDPOINT_URL=http://127.0.0.1:5000 REHEARSE_KEEP=1 make rehearse

What "Deploying to AWS" does, with the emulator standing in for AWS:
1. creates what `terraform apply` creates, named as infra/ names it
   (devtools/provision.py, and the session secret in SSM);
2. writes the document `terraform -chdir=infra output -json` would print, and
   runs the configure step on it (devtools/configure_stage.py);
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
put back afterwards, failure or not, unless REHEARSE_KEEP=1, which keeps the
deployment and the configured stage to look at and prints how to remove both.
Only an emulator is ever addressed: an AWS endpoint is refused.

This module is the command: its environment, its refusals, what it prints; the
run itself is rehearsal.py's.
"""

import os
import sys
from urllib.parse import urlparse

from botocore.exceptions import BotoCoreError, ClientError

from devtools.emulator import Emulator
from devtools.rehearse.chalice_dir import CHALICE_DIR
from devtools.rehearse.errors import RehearsalError
from devtools.rehearse.rehearsal import Rehearsal
from devtools.rehearse.stage import STAGE
from devtools.rehearse.terraform import Infra

# Any credentials do for an emulator; these are used when none are set.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "rehearsal", "AWS_SECRET_ACCESS_KEY": "rehearsal"}


def _is_aws(endpoint: str) -> bool:
    host = urlparse(endpoint).hostname or ""
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws"))


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
        infra = Infra()
    except RehearsalError as error:
        print(f"rehearse: {error}", file=sys.stderr)
        return 2
    region = environ.get("AWS_DEFAULT_REGION")
    if not region:
        region = environ["AWS_DEFAULT_REGION"] = infra.defaults["region"]
        print(f"AWS_DEFAULT_REGION is not set: using infra/'s default region, {region}.")
    if not environ.get("AWS_ACCESS_KEY_ID") and not environ.get("AWS_PROFILE"):
        environ.update(FAKE_CREDENTIALS)
    emulator = None
    if not endpoint:
        emulator = Emulator(int(environ.get("MOTO_PORT", "0")))
        endpoint = environ["AWS_ENDPOINT_URL"] = emulator.endpoint_url
    print(
        f"Rehearsing `chalice deploy --stage {STAGE}` "
        + ("(kept: REHEARSE_KEEP=1)" if keep else f"and `chalice delete --stage {STAGE}`")
        + f" against {endpoint} ({'embedded emulator' if emulator else 'AWS_ENDPOINT_URL'}), "
        f"region {region}.",
        flush=True,
    )
    try:
        return Rehearsal(infra, region, out=_print).run(keep, endpoint, emulator is not None)
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
