"""One rehearsal, step by step: create what Terraform creates, configure the dev
stage from the outputs document, `chalice deploy`, check, `chalice delete`,
check, and put .chalice/ back (and remove the infrastructure) afterwards."""

import json
import os
import secrets
import string
import subprocess
import sys
import time
from pathlib import Path

import boto3

from chalicelib.settings import Settings
from devtools import configure_stage
from devtools.provision import provision
from devtools.rehearse.chalice_dir import (
    CHALICE_DIR,
    ROOT,
    restore_chalice_dir,
    snapshot_chalice_dir,
)
from devtools.rehearse.checks import Checks, expect_equal
from devtools.rehearse.deployment import DeploymentChecks
from devtools.rehearse.errors import RehearsalError
from devtools.rehearse.stage import API_HANDLER, STAGE, expected_environment
from devtools.rehearse.terraform import (
    Infra,
    outputs_document,
    terraform_attributes,
    terraform_names,
)

CHALICE = Path(sys.executable).parent / "chalice"
# `chalice deploy` packages the app and downloads the runtime's wheels from PyPI.
COMMAND_SECONDS = 900

# Run with the stage's environment (app.py reads the bucket's name on import):
# what app.py declares, as Chalice reads it to build the deployment.
_DESCRIBE_APP = """
import json
from chalice.app import S3EventConfig, ScheduledEventConfig
from app import app

def expression(value):
    return value if isinstance(value, str) else value.to_string()

print(json.dumps({
    "routes": {path: sorted(methods) for path, methods in app.routes.items()},
    "s3_events": [
        {"name": source.name, "handler": source.handler_string, "bucket": source.bucket,
         "events": source.events, "prefix": source.prefix, "suffix": source.suffix}
        for source in app.event_sources if isinstance(source, S3EventConfig)
    ],
    "schedules": [
        {"name": source.name, "handler": source.handler_string,
         "expression": expression(source.schedule_expression)}
        for source in app.event_sources if isinstance(source, ScheduledEventConfig)
    ],
}))
"""


class Rehearsal:
    """README's deploy and delete, run once against the emulator in `region`."""

    def __init__(self, infra: Infra, region: str, out=print):
        self.infra = infra
        self.region = region
        self.out = out
        self.checks = Checks(out)
        session = boto3.session.Session(region_name=region)
        self.partition = session.get_partition_for_region(region)
        self.aws = {
            name: session.client(name)
            for name in ("s3", "dynamodb", "ssm", "sts", "lambda", "iam", "events", "apigateway")
        }
        self.account_id = self.aws["sts"].get_caller_identity()["Account"]
        self.app_name = json.loads((CHALICE_DIR / "config.json").read_text())["app_name"]
        self.deployment = DeploymentChecks(
            self.aws, self.checks, self.app_name, region, self.partition, self.account_id
        )

    # what `terraform apply` creates and `terraform output -json` prints

    def create_infrastructure(self) -> dict:
        suffix = secrets.token_hex(int(self.infra.resources["random_id.suffix"]["byte_length"]))
        names = terraform_names(self.infra, suffix)
        settings = Settings.from_environ(
            {
                "AWS_DEFAULT_REGION": self.region,
                "AVATAR_BUCKET": names["bucket"],
                "USERS_TABLE": names["table"],
                "SESSION_SECRET_PARAMETER": names["parameter"],
            }
        )
        provision(self.aws["s3"], self.aws["dynamodb"], settings)
        secret = self.infra.resources["random_password.session_secret"]
        parameter = self.infra.resources["aws_ssm_parameter.session_secret"]
        alphabet = string.ascii_letters + string.digits  # `special = false`
        self.aws["ssm"].put_parameter(
            Name=names["parameter"],
            Description=parameter["description"],
            Type=parameter["type"],
            Value="".join(secrets.choice(alphabet) for _ in range(int(secret["length"]))),
        )
        self.out(
            f"Created what `terraform apply` creates: bucket {names['bucket']}, "
            f"table {names['table']} (seed users, avatars and page included), "
            f"{parameter['type']} parameter {names['parameter']}."
        )
        return names

    def outputs(self, names: dict) -> dict:
        attributes = terraform_attributes(
            self.infra, names, self.region, self.account_id, self.partition
        )
        document = outputs_document(self.infra.outputs, attributes)

        def arns_are_the_emulators():
            table = self.aws["dynamodb"].describe_table(TableName=names["table"])["Table"]
            expect_equal(document["table_arn"]["value"], table["TableArn"], "table_arn")
            parameter = self.aws["ssm"].get_parameter(Name=names["parameter"])["Parameter"]
            expect_equal(
                document["session_secret_parameter_arn"]["value"],
                parameter["ARN"],
                "session_secret_parameter_arn",
            )

        self.checks.check(
            f"outputs: every output of infra/outputs.tf ({len(document)}), "
            "the ARNs as the emulator gives them",
            arns_are_the_emulators,
        )
        return document

    def describe_app(self, config_from_disk: dict) -> dict:
        environ = {**os.environ, **expected_environment(config_from_disk, API_HANDLER)}
        answer = subprocess.run(
            [sys.executable, "-c", _DESCRIBE_APP],
            cwd=ROOT,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if answer.returncode != 0:
            raise RehearsalError(f"Could not read app.py's routes and events:\n{answer.stderr}")
        return json.loads(answer.stdout)

    # `chalice deploy` and `chalice delete`, the commands a user runs

    def chalice(self, command: str) -> bool:
        started = time.monotonic()
        answer = subprocess.run(
            [str(CHALICE), command, "--stage", STAGE],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=COMMAND_SECONDS,
            check=False,
        )
        seconds = time.monotonic() - started
        for line in answer.stdout.splitlines():
            if line.strip():
                self.out(f"    | {line}")
        what = f"chalice {command} --stage {STAGE} ({seconds:.1f} s)"
        if answer.returncode == 0:
            return self.checks.check(what, lambda: None)
        self.checks.fail(what, f"exit status {answer.returncode}")
        return False

    def destroy(self, names: dict):
        """`terraform destroy`: the bucket (`force_destroy`), the table, the parameter."""
        s3 = self.aws["s3"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=names["bucket"]):
            keys = [{"Key": entry["Key"]} for entry in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=names["bucket"], Delete={"Objects": keys})
        s3.delete_bucket(Bucket=names["bucket"])
        self.aws["dynamodb"].delete_table(TableName=names["table"])
        self.aws["ssm"].delete_parameter(Name=names["parameter"])

    # the whole run

    def run(self, keep: bool, endpoint: str, embedded: bool) -> int:
        started = time.monotonic()
        names = self.create_infrastructure()
        before = snapshot_chalice_dir()
        self.written = {}
        try:
            self.rehearse(names, keep, endpoint, before)
        finally:
            if not keep:
                self.put_back(before)
                if not embedded:
                    self.destroy(names)
                    self.out(
                        f"Removed the bucket, table and parameter from {endpoint}, "
                        "as `terraform destroy` would."
                    )
        return self.summary(started)

    def rehearse(self, names, keep, endpoint, before):
        document = self.outputs(names)
        try:
            outputs = configure_stage.read_outputs(document)
            configure_stage.check_deploy_region(outputs, boto3.session.Session().region_name)
            try:
                configure_stage.configure(outputs)
            finally:
                self.written = snapshot_chalice_dir()
        except configure_stage.ConfigureError as error:
            self.checks.fail("configure step", str(error))
            return
        changed = [path for path in self.written if self.written[path] != before.get(path, b"")]
        self.out(f"Configured the {STAGE} stage: .chalice/{', .chalice/'.join(changed)}.")
        config_from_disk = json.loads((CHALICE_DIR / "config.json").read_text())
        app = self.describe_app(config_from_disk)
        state = self.deployment.infrastructure_state(names)
        deployed = []
        if self.chalice("deploy"):
            deployed = self.deployment.check_deployment(app, config_from_disk, names, state)
        if keep:
            self.keep_instructions(endpoint, before)
        # A failed deploy may have recorded part of what it made: delete that too.
        elif (CHALICE_DIR / "deployed" / f"{STAGE}.json").exists() and self.chalice("delete"):
            self.deployment.check_deleted(deployed, names, state)

    def put_back(self, before):
        restored, removed, left = restore_chalice_dir(before, self.written)
        self.out(
            "Put .chalice/ back as it was"
            + (f": restored {', '.join(restored)}" if restored else "")
            + (f"; removed {', '.join(removed)}" if removed else "")
            + "."
        )
        if left:
            self.out(
                "Left as found, changed by someone else during the rehearsal: "
                f"{', '.join('.chalice/' + path for path in left)}."
            )

    def keep_instructions(self, endpoint, before):
        now = snapshot_chalice_dir()
        added = sorted(path for path in now if path not in before)
        self.out(f"Kept (REHEARSE_KEEP=1): the {STAGE} stage is deployed in {endpoint}.")
        self.out("  Delete it later:")
        self.out(
            f"    AWS_ENDPOINT_URL={endpoint} AWS_DEFAULT_REGION={self.region} "
            f".venv/bin/chalice delete --stage {STAGE}"
        )
        self.out("  Then restore the tracked files and remove what the rehearsal added:")
        self.out("    git checkout .chalice/")
        if added:
            self.out("    rm -f " + " ".join(f".chalice/{path}" for path in added))

    def summary(self, started) -> int:
        total = self.checks.passed + self.checks.failed
        seconds = time.monotonic() - started
        if self.checks.failed:
            self.out(f"{self.checks.failed} of {total} checks failed ({seconds:.1f} s).")
            return 1
        self.out(f"All {total} checks passed ({seconds:.1f} s).")
        return 0
