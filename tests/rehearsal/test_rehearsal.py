"""`make rehearse` end to end: `chalice deploy` and `chalice delete` against the
emulator, every check passing, and the checkout as it was afterwards.

Each run packages the app as `chalice deploy` does (it downloads the Lambda
runtime's wheels from PyPI), about 15 s of the 25 s a run takes.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from devtools.rehearse.chalice_dir import CHALICE_DIR, restore_chalice_dir, snapshot_chalice_dir
from devtools.rehearse.rehearsal import COMMAND_SECONDS
from devtools.stack_process import running_emulator

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# Longer than the rehearsal's own limits (a deploy and a delete), so that it is
# never killed before it can put .chalice/ back itself.
RUN_SECONDS = 2 * COMMAND_SECONDS + 300


def _environ(**extra):
    """This environment without any AWS_* variable, as a shell without AWS set up has."""
    environ = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environ.pop("REHEARSE_KEEP", None)
    return {**environ, "MOTO_PORT": "0", **extra}


def _rehearse(environ):
    return subprocess.run(
        [sys.executable, "-m", "devtools.rehearse"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )


def _git_status():
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--ignored", ".chalice"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _checks(output):
    return [line for line in output.splitlines() if line.startswith(("ok  ", "FAIL "))]


def _put_back(before):
    """.chalice/ as the snapshot `before` holds it: every file found changed is
    restored, and what the run added (deployed/, deployments/ too) removed."""
    restore_chalice_dir(before, snapshot_chalice_dir())


def test_a_full_rehearsal_passes_every_check_and_leaves_the_checkout_as_it_was():
    status, files = _git_status(), snapshot_chalice_dir()
    try:
        run = _rehearse(_environ())
        after = _git_status(), snapshot_chalice_dir()
    finally:
        _put_back(files)

    assert run.returncode == 0, run.stdout + run.stderr
    checks = _checks(run.stdout)
    assert checks and all(line.startswith("ok  ") for line in checks), run.stdout
    assert "using infra/'s default region, eu-west-1" in run.stdout
    for what in (
        "outputs: every output of infra/outputs.tf",
        "configure step: AWS_DEFAULT_REGION=eu-west-1 python -m devtools.configure_stage",
        "chalice deploy --stage dev",
        "chalice deploy recorded the deployment in .chalice/deployed/dev.json",
        "function avatars-dev: handler app.app, python3.11, 1024 MB, 15 s",
        "function avatars-dev-log_pending_upload: handler app.log_pending_upload",
        "function avatars-dev-sweep_orphaned_avatars: handler app.sweep_orphaned_avatars",
        "role's inline policy is .chalice/",
        "may be assumed by lambda.amazonaws.com only",
        "has no managed policy attached",
        "notifies avatars-dev-log_pending_upload of s3:ObjectCreated:* (prefix pending/)",
        "avatars-dev-log_pending_upload: only s3.amazonaws.com may invoke it",
        "avatars-dev-sweep_orphaned_avatars: only events.amazonaws.com may invoke it",
        "avatars-dev: only apigateway.amazonaws.com may invoke it, from arn:aws:execute-api:",
        ": rate(1 day), its one target avatars-dev-sweep_orphaned_avatars",
        "every method an AWS_PROXY integration of avatars-dev",
        "chalice delete --stage dev",
        "after delete: no function avatars-dev*",
        "after delete: parameter /avatars-",
        # Issue 14: the CDN, the seed images once, log retention, tags.
        "avatars/* GET/HEAD https-only, managed CachingOptimized and SecurityHeadersPolicy",
        ": policy TLS only, and s3:GetObject on avatars/* alone for cloudfront.amazonaws.com",
        "the distribution's domain as the emulator gives them",
        "avatar URL (the distribution's) and debug routes as created and output",
        "function avatars-dev: tagged as Terraform tags what it makes (Project=avatars)",
        "log groups: exactly the 3 functions' own (Terraform's), each kept 30 days",
        "after delete: distribution ",
        "after delete: the functions' log groups (Terraform's) as they were",
        *(
            ["seed avatars: terraform_data.seed_avatars's `aws s3api put-object`"]
            if shutil.which("aws")
            else []
        ),
    ):
        assert any(what in line for line in checks), f"no check {what!r}:\n{run.stdout}"
    assert '    |   "bucket_name": {' in run.stdout
    assert '    |   "avatar_base_url": {' in run.stdout
    assert 'allowed_cors_origins=["https://*.execute-api.eu-west-1.amazonaws.com"]' in run.stdout
    assert re.search(r"^All \d+ checks passed", run.stdout, re.MULTILINE)
    assert after == (status, files)


def test_a_kept_rehearsal_leaves_the_deployment_and_the_stage_until_deleted():
    status, before = _git_status(), snapshot_chalice_dir()
    try:
        with running_emulator() as emulator:
            environ = _environ(
                AWS_ENDPOINT_URL=emulator["url"],
                AWS_DEFAULT_REGION="us-east-1",
                AWS_ACCESS_KEY_ID="testing",
                AWS_SECRET_ACCESS_KEY="testing",
                REHEARSE_KEEP="1",
            )

            run = _rehearse(environ)

            assert run.returncode == 0, run.stdout + run.stderr
            assert not [line for line in _checks(run.stdout) if line.startswith("FAIL")]
            assert "chalice delete --stage dev (" not in run.stdout
            deployed = json.loads((CHALICE_DIR / "deployed" / "dev.json").read_text())
            functions = [
                resource["lambda_arn"].rsplit(":", 1)[-1]
                for resource in deployed["resources"]
                if resource["resource_type"] == "lambda_function"
            ]
            assert sorted(functions) == [
                "avatars-dev",
                "avatars-dev-log_pending_upload",
                "avatars-dev-sweep_orphaned_avatars",
            ]
            bucket = re.search(r"bucket (avatars-[0-9a-f]{8})", run.stdout).group(1)
            config = json.loads((CHALICE_DIR / "config.json").read_text())
            assert config["stages"]["dev"]["environment_variables"]["AVATAR_BUCKET"] == bucket
            lambda_ = boto3.client(
                "lambda",
                endpoint_url=emulator["url"],
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            assert lambda_.get_function(FunctionName="avatars-dev")["Configuration"]["Handler"] == (
                "app.app"
            )

            # The command it prints deletes the deployment, with the chalice it ran.
            command = next(
                line.strip()
                for line in run.stdout.splitlines()
                if f"AWS_ENDPOINT_URL={emulator['url']} " in line
            )
            assert "git checkout .chalice/" in run.stdout
            arguments = shlex.split(command)
            assert arguments[-4:-3] == [str(Path(sys.executable).parent / "chalice")]
            delete = subprocess.run(
                arguments,
                cwd=ROOT,
                env=environ,
                capture_output=True,
                text=True,
                timeout=RUN_SECONDS,
                check=False,
            )
            assert delete.returncode == 0, delete.stdout + delete.stderr
            assert lambda_.list_functions()["Functions"] == []
    finally:
        _put_back(before)
    assert _git_status() == status
    assert snapshot_chalice_dir() == before
