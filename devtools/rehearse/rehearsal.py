"""One rehearsal, step by step: create what Terraform creates, configure the dev
stage from the outputs document, `chalice deploy`, check, `chalice delete`,
check, and put .chalice/ back (and remove the infrastructure) afterwards."""

import hashlib
import json
import secrets
import shlex
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

from chalicelib.settings import Settings
from chalicelib.uploads import AVATAR_CACHE_CONTROL, OWNER_METADATA
from devtools.provision import provision
from devtools.rehearse.chalice_dir import (
    CHALICE_DIR,
    ROOT,
    restore_chalice_dir,
    snapshot_chalice_dir,
)
from devtools.rehearse.checks import Checks, Mismatch, expect_equal
from devtools.rehearse.deployment import DeploymentChecks
from devtools.rehearse.environment import clients_not_at
from devtools.rehearse.errors import RehearsalError
from devtools.rehearse.stage import API_HANDLER, STAGE, expected_environment
from devtools.rehearse.terraform import (
    INFRA_DIR,
    Infra,
    bucket_hardening,
    cdn_function,
    distribution_config,
    distribution_view,
    origin_access_control_config,
    outputs_document,
    seed_uploads,
    terraform_attributes,
    terraform_names,
)

CHALICE = Path(sys.executable).parent / "chalice"
# `chalice deploy` packages the app and downloads the runtime's wheels from PyPI.
COMMAND_SECONDS = 900
SERVICES = (
    "s3",
    "dynamodb",
    "ssm",
    "sts",
    "lambda",
    "iam",
    "events",
    "apigateway",
    "cloudfront",
    "logs",
)

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


def apply_variables(region: str) -> dict:
    """What the rehearsal gives `terraform apply -var`: the region, and the
    CORS origins infra/ requires, as README's first apply gives them (the
    REST API's id is not known before `chalice deploy`)."""
    return {
        "region": region,
        "allowed_cors_origins": [f"https://*.execute-api.{region}.amazonaws.com"],
    }


def aws_clients(region: str) -> dict:
    """A boto3 client of each service the rehearsal uses, as os.environ sets them up."""
    session = boto3.session.Session(region_name=region)
    return {name: session.client(name) for name in SERVICES}


class Rehearsal:
    """README's deploy and delete, run once against the emulator at `endpoint`
    in `region`; `environ` is the environment of the commands it runs (and
    os.environ's, which boto3 reads here: environment.py)."""

    def __init__(self, infra: Infra, region: str, endpoint: str, environ: dict, out=print):
        self.infra = infra
        self.region = region
        self.environ = environ
        self.out = out
        self.checks = Checks(out)
        self.partition = boto3.session.Session().get_partition_for_region(region)
        self.aws = aws_clients(region)
        misdirected = clients_not_at(self.aws, endpoint)
        if misdirected:
            raise RehearsalError(
                f"These clients would not address the emulator at {endpoint}: "
                f"{', '.join(misdirected)}. Nothing was created."
            )
        self.outputs_file = None
        self.account_id = self.aws["sts"].get_caller_identity()["Account"]
        self.app_name = json.loads((CHALICE_DIR / "config.json").read_text())["app_name"]
        self.deployment = DeploymentChecks(
            self.aws, self.checks, self.app_name, region, self.partition, self.account_id
        )

    # what `terraform apply` creates and `terraform output -json` prints

    def create_infrastructure(self) -> dict:
        self.variables = self.infra.variables(apply_variables(self.region))
        suffix = secrets.token_hex(int(self.infra.resources["random_id.suffix"]["byte_length"]))
        names = terraform_names(self.infra, suffix, self.variables)
        settings = Settings.from_environ(
            {
                "AWS_DEFAULT_REGION": self.region,
                "AVATAR_BUCKET": names["bucket"],
                "USERS_TABLE": names["table"],
                "SESSION_SECRET_PARAMETER": names["parameter"],
            }
        )
        origins = self.variables["allowed_cors_origins"]
        provision(self.aws["s3"], self.aws["dynamodb"], settings, cors_origins=origins)
        names.update(self.create_cdn(names))
        self.attributes = self.terraform_attributes(
            names,
            origin_access_control=names["origin_access_control_id"],
            function_arn=names["cdn_function_arn"],
            id=names["distribution_id"],
            arn=names["distribution_arn"],
            domain_name=names["distribution_domain"],
        )
        # Before the bucket policy: over the emulator's plain http its TLS-only
        # deny would refuse the upload (the AWS CLI uses https on AWS).
        self.check_seed_upload(names)
        self.harden_bucket(names["bucket"])
        secret = self.infra.resources["random_password.session_secret"]
        parameter = self.infra.resources["aws_ssm_parameter.session_secret"]
        alphabet = string.ascii_letters + string.digits  # `special = false`
        self.aws["ssm"].put_parameter(
            Name=names["parameter"],
            Description=parameter["description"],
            Type=parameter["type"],
            Value="".join(secrets.choice(alphabet) for _ in range(int(secret["length"]))),
        )
        for group in names["log_groups"].values():
            self.aws["logs"].create_log_group(
                logGroupName=group, tags=self.attributes["local.default_tags"]
            )
            self.aws["logs"].put_retention_policy(
                logGroupName=group, retentionInDays=int(self.variables["log_retention_days"])
            )
        self.out(
            f"Created what `terraform apply -var 'allowed_cors_origins={json.dumps(origins)}'` "
            f"creates: bucket {names['bucket']}, table {names['table']} (seed users, avatars "
            f"and page included), {parameter['type']} parameter {names['parameter']}, "
            f"CloudFront distribution {names['distribution_id']} "
            f"({names['distribution_domain']}), the functions' log groups "
            f"{', '.join(names['log_groups'].values())}."
        )
        self.check_cdn(names)
        return names

    def terraform_attributes(self, names: dict, **cdn) -> dict:
        """`terraform_attributes` of this rehearsal's stack, with the CDN's as given."""
        return terraform_attributes(
            self.infra,
            names,
            self.region,
            self.account_id,
            self.partition,
            self.variables,
            cdn=cdn,
        )

    def create_cdn(self, names: dict) -> dict:
        """infra/cdn.tf: the origin access control, the 404 function, the distribution."""
        cloudfront = self.aws["cloudfront"]
        self.access_control = origin_access_control_config(self.infra, names)
        access_control = cloudfront.create_origin_access_control(
            OriginAccessControlConfig=self.access_control
        )["OriginAccessControl"]
        function = cloudfront.create_function(**cdn_function(self.infra, names))
        created = {
            "origin_access_control_id": access_control["Id"],
            "cdn_function_arn": function["FunctionSummary"]["FunctionMetadata"]["FunctionARN"],
        }
        # The distribution's own attributes do not exist before it does.
        attributes = self.terraform_attributes(
            names,
            origin_access_control=created["origin_access_control_id"],
            function_arn=created["cdn_function_arn"],
            id=None,
            arn=None,
            domain_name=None,
        )
        self.distribution = distribution_config(self.infra, attributes, names["bucket"])
        distribution = cloudfront.create_distribution(DistributionConfig=self.distribution)
        return {
            **created,
            "distribution_id": distribution["Distribution"]["Id"],
            "distribution_arn": distribution["Distribution"]["ARN"],
            "distribution_domain": distribution["Distribution"]["DomainName"],
        }

    def check_cdn(self, names: dict):
        """What the emulator kept of the distribution, against infra/cdn.tf."""
        cloudfront = self.aws["cloudfront"]

        def as_declared():
            found = cloudfront.get_distribution(Id=names["distribution_id"])["Distribution"]
            expect_equal(
                distribution_view(found["DistributionConfig"]),
                distribution_view(self.distribution),
                "distribution",
            )
            access_control = cloudfront.get_origin_access_control(
                Id=names["origin_access_control_id"]
            )["OriginAccessControl"]["OriginAccessControlConfig"]
            expect_equal(access_control, self.access_control, "origin access control")

        (ordered,) = self.distribution["CacheBehaviors"]["Items"]
        self.checks.check(
            f"distribution {names['distribution_id']}: origin {names['bucket']} through origin "
            f"access control {names['origin_access_control_id']} (sigv4, always); "
            f"{ordered['PathPattern']} {'/'.join(ordered['AllowedMethods']['Items'])} "
            f"{ordered['ViewerProtocolPolicy']}, managed CachingOptimized and "
            "SecurityHeadersPolicy; every other path to the 404 function; "
            f"{self.distribution['PriceClass']}, default certificate (moto keeps neither the "
            "origin's OriginAccessControlId nor the function association, nor publishes "
            "functions: those are held to infra/cdn.tf in tests/infra/test_terraform.py)",
            as_declared,
        )

        def only_this_distribution_reads_avatars():
            policy = json.loads(self.aws["s3"].get_bucket_policy(Bucket=names["bucket"])["Policy"])
            expect_equal(policy, bucket_hardening(self.infra, self.attributes)["policy"], "policy")
            allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
            expect_equal(
                [(s["Principal"], s["Action"], s["Resource"], s["Condition"]) for s in allows],
                [
                    (
                        {"Service": "cloudfront.amazonaws.com"},
                        "s3:GetObject",
                        f"arn:{self.partition}:s3:::{names['bucket']}/avatars/*",
                        {"StringEquals": {"AWS:SourceArn": names["distribution_arn"]}},
                    )
                ],
                "grants",
            )

        self.checks.check(
            f"bucket {names['bucket']}: policy TLS only, and s3:GetObject on avatars/* alone "
            f"for cloudfront.amazonaws.com from distribution {names['distribution_id']} alone",
            only_this_distribution_reads_avatars,
        )

    def check_seed_upload(self, names: dict):
        """Run terraform_data.seed_avatars's command as Terraform runs it (/bin/sh
        -c, its environment, from infra/) against the emulator, and check that
        each seed avatar is stored as the local stack stores it."""
        uploads = seed_uploads(self.infra, self.attributes)
        if shutil.which("aws") is None:
            self.out(
                "note: the AWS CLI is not on PATH, so the seed avatars' one-time upload "
                "(terraform_data.seed_avatars, `aws s3api put-object`) was not run: "
                "`terraform apply` needs it."
            )
            return
        s3 = self.aws["s3"]

        def stored_as_the_app_expects():
            for username, command, environment in uploads:
                answer = subprocess.run(
                    ["/bin/sh", "-c", command],
                    cwd=INFRA_DIR,
                    env={**self.environ, **environment},
                    capture_output=True,
                    text=True,
                    timeout=COMMAND_SECONDS,
                    check=False,
                )
                if answer.returncode != 0:
                    raise Mismatch(f"{username}: exit status {answer.returncode}: {answer.stderr}")
                head = s3.head_object(Bucket=names["bucket"], Key=environment["KEY"])
                body = Path(environment["BODY"]).read_bytes()
                expect_equal(
                    (
                        head["ContentType"],
                        head.get("CacheControl"),
                        head["Metadata"],
                        head["ETag"].strip('"'),
                    ),
                    (
                        "image/png",
                        AVATAR_CACHE_CONTROL,
                        {OWNER_METADATA: username},
                        hashlib.md5(body).hexdigest(),
                    ),
                    f"{environment['KEY']}: content type, cache control, metadata, etag",
                )

        self.checks.check(
            f"seed avatars: terraform_data.seed_avatars's `aws s3api put-object`, run as "
            f"Terraform runs it, stores each of the {len(uploads)} as the app stores avatars "
            "(image/png, immutable for a year, its user as owner)",
            stored_as_the_app_expects,
        )

    def harden_bucket(self, bucket: str):
        """What infra/storage.tf adds to the bucket, so that `chalice delete` is
        seen to leave it too (the emulator enforces none of it)."""
        s3, hardening = self.aws["s3"], bucket_hardening(self.infra, self.attributes)
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=hardening["ownership"])
        s3.put_public_access_block(
            Bucket=bucket, PublicAccessBlockConfiguration=hardening["public_access_block"]
        )
        s3.put_bucket_encryption(
            Bucket=bucket, ServerSideEncryptionConfiguration=hardening["encryption"]
        )
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(hardening["policy"]))

    def outputs(self, names: dict) -> dict:
        document = outputs_document(self.infra.outputs, self.attributes)

        def arns_are_the_emulators():
            table = self.aws["dynamodb"].describe_table(TableName=names["table"])["Table"]
            expect_equal(document["table_arn"]["value"], table["TableArn"], "table_arn")
            parameter = self.aws["ssm"].get_parameter(Name=names["parameter"])["Parameter"]
            expect_equal(
                document["session_secret_parameter_arn"]["value"],
                parameter["ARN"],
                "session_secret_parameter_arn",
            )
            expect_equal(
                document["avatar_base_url"]["value"],
                f"https://{names['distribution_domain']}/",
                "avatar_base_url",
            )

        omitted = sorted(set(self.infra.outputs) - set(document))
        self.checks.check(
            f"outputs: every output of infra/outputs.tf ({len(document)}"
            + (f"; {', '.join(omitted)} null, so absent as in Terraform's" if omitted else "")
            + "), the ARNs and the distribution's domain as the emulator gives them",
            arns_are_the_emulators,
        )
        return document

    def describe_app(self, config_from_disk: dict) -> dict:
        environ = {**self.environ, **expected_environment(config_from_disk, API_HANDLER)}
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
        status = self.run_echoed([str(CHALICE), command, "--stage", STAGE])
        seconds = time.monotonic() - started
        return self.passed(f"chalice {command} --stage {STAGE} ({seconds:.1f} s)", status)

    def run_echoed(self, command: list, stdin=None) -> int:
        """Run `command` from the checkout in the rehearsal's environment,
        echo what it prints, and return its exit status."""
        answer = subprocess.run(
            command,
            stdin=stdin,
            cwd=ROOT,
            env=self.environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=COMMAND_SECONDS,
            check=False,
        )
        for line in answer.stdout.splitlines():
            if line.strip():
                self.out(f"    | {line}")
        return answer.returncode

    def passed(self, what: str, status: int) -> bool:
        if status == 0:
            return self.checks.check(what, lambda: None)
        self.checks.fail(what, f"exit status {status}")
        return False

    def destroy(self, names: dict):
        """`terraform destroy`: the distribution, its origin access control and
        function, the bucket (`force_destroy`), the table, the parameter, the
        functions' log groups."""
        cloudfront = self.aws["cloudfront"]
        etag = cloudfront.get_distribution(Id=names["distribution_id"])["ETag"]
        cloudfront.delete_distribution(Id=names["distribution_id"], IfMatch=etag)
        cloudfront.delete_origin_access_control(Id=names["origin_access_control_id"])
        etag = cloudfront.describe_function(Name=names["cdn_function"])["ETag"]
        cloudfront.delete_function(Name=names["cdn_function"], IfMatch=etag)
        s3 = self.aws["s3"]
        # The policy goes first, as Terraform destroys it before the bucket: over
        # the emulator's plain http its TLS-only deny refuses every delete.
        s3.delete_bucket_policy(Bucket=names["bucket"])
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=names["bucket"]):
            keys = [{"Key": entry["Key"]} for entry in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=names["bucket"], Delete={"Objects": keys})
        s3.delete_bucket(Bucket=names["bucket"])
        self.aws["dynamodb"].delete_table(TableName=names["table"])
        self.aws["ssm"].delete_parameter(Name=names["parameter"])
        for group in names["log_groups"].values():
            self.aws["logs"].delete_log_group(logGroupName=group)

    # the whole run

    def run(self, keep: bool, endpoint: str, embedded: bool) -> int:
        started = time.monotonic()
        names = self.create_infrastructure()
        before = snapshot_chalice_dir()
        self.written = {}
        try:
            self.rehearse(names, keep, endpoint, before)
        finally:
            if self.outputs_file is not None:
                self.outputs_file.unlink(missing_ok=True)
            if not keep:
                self.put_back(before)
                if not embedded:
                    self.destroy(names)
                    self.out(
                        f"Removed the distribution, bucket, table, parameter and log groups "
                        f"from {endpoint}, as `terraform destroy` would."
                    )
        return self.summary(started)

    def configure(self, document: dict) -> bool:
        """The configure step as a user runs it: `python -m devtools.configure_stage`
        with the outputs document on its standard input."""
        text = json.dumps(document, indent=2) + "\n"
        with tempfile.NamedTemporaryFile(
            "w", prefix="rehearse-outputs-", suffix=".json", delete=False
        ) as handle:
            handle.write(text)
        self.outputs_file = Path(handle.name)
        self.out(
            f"The document `terraform -chdir=infra output -json` would print "
            f"(written to {self.outputs_file}):"
        )
        for line in text.splitlines():
            self.out(f"    | {line}")
        with self.outputs_file.open() as stdin:
            status = self.run_echoed([sys.executable, "-m", "devtools.configure_stage"], stdin)
        what = (
            f"configure step: AWS_DEFAULT_REGION={self.region} python -m devtools.configure_stage "
            f"< {self.outputs_file.name}"
        )
        return self.passed(what, status)

    def rehearse(self, names, keep, endpoint, before):
        document = self.outputs(names)
        try:
            configured = self.configure(document)
        finally:
            self.written = snapshot_chalice_dir()
        if not configured:
            return
        changed = [path for path in self.written if self.written[path] != before.get(path, b"")]
        self.out(f"Configured the {STAGE} stage: .chalice/{', .chalice/'.join(changed)}.")
        config_from_disk = json.loads((CHALICE_DIR / "config.json").read_text())
        app = self.describe_app(config_from_disk)
        state = self.deployment.infrastructure_state(names)
        deployed = []
        record = CHALICE_DIR / "deployed" / f"{STAGE}.json"
        if self.chalice("deploy"):

            def recorded_for_delete():
                if not record.exists():
                    raise Mismatch("no such file: `chalice delete` would find nothing to delete")

            recorded = self.checks.check(
                f"chalice deploy recorded the deployment in .chalice/deployed/{STAGE}.json",
                recorded_for_delete,
            )
            deployed = self.deployment.check_deployment(
                app, config_from_disk, names, document, state
            )
            if not recorded:
                return
        if keep:
            self.keep_instructions(endpoint, before)
        # A failed deploy may have recorded part of what it made: delete that too.
        elif record.exists() and self.chalice("delete"):
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
        # As the rehearsal ran it: nothing of this shell's AWS set-up but the emulator.
        self.out(
            "    env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_IGNORE_CONFIGURED_ENDPOINT_URLS "
            "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "
            "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
            f"AWS_ENDPOINT_URL={endpoint} AWS_DEFAULT_REGION={self.region} "
            f"{shlex.quote(str(CHALICE))} delete --stage {STAGE}"
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
