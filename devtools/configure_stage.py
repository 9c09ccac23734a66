"""Write Terraform's outputs into the `dev` stage, so `chalice deploy --stage dev` works.

    terraform -chdir=infra output -json | .venv/bin/python -m devtools.configure_stage

It sets the names in `.chalice/config.json` (stage `dev`, environment_variables)
and writes `.chalice/policy-dev.json`: the Lambda's IAM policy, granting exactly
the calls the code makes on exactly these resources. Like Chalice's own
`recordresources.py` sample: names reach the app from the stack, never from code.
"""

import argparse
import json
import sys
from pathlib import Path

import boto3

from chalicelib.settings import AVATAR_PREFIX, PENDING_PREFIX, WEB_PREFIX

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = ROOT / ".chalice" / "config.json"
POLICY_FILE = ROOT / ".chalice" / "policy-dev.json"
STAGE = "dev"

REQUIRED_OUTPUTS = (
    "region",
    "bucket_name",
    "table_name",
    "table_arn",
    "session_secret_parameter",
    "session_secret_parameter_arn",
    "max_upload_bytes",
)


class ConfigureError(Exception):
    """The outputs cannot configure the stage; the message says why."""


def read_outputs(document) -> dict:
    """The values of a `terraform output -json` document; refuse missing ones."""
    if not isinstance(document, dict):
        raise ConfigureError("Expected the JSON object printed by `terraform output -json`.")
    missing = [
        name
        for name in REQUIRED_OUTPUTS
        if not isinstance(document.get(name), dict) or document[name].get("value") in (None, "")
    ]
    if missing:
        raise ConfigureError(
            f"Terraform outputs missing: {', '.join(missing)}. "
            "Run `terraform -chdir=infra apply` first, then pipe "
            "`terraform -chdir=infra output -json` into this command."
        )
    return {name: document[name]["value"] for name in REQUIRED_OUTPUTS}


def stage_environment(outputs: dict) -> dict:
    return {
        "AVATAR_BUCKET": outputs["bucket_name"],
        "USERS_TABLE": outputs["table_name"],
        "SESSION_SECRET_PARAMETER": outputs["session_secret_parameter"],
        "MAX_UPLOAD_BYTES": str(outputs["max_upload_bytes"]),
        "SECURE_COOKIES": "true",
    }


def render_policy(outputs: dict) -> dict:
    """One statement per need; `*` only for the Lambda's own logs."""
    bucket_arn = f"arn:aws:s3:::{outputs['bucket_name']}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                # Finalize reads, writes and deletes; the presigned POST and GET
                # are signed with this role's credentials, so S3 checks them too.
                "Sid": "UploadsAndAvatars",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": [f"{bucket_arn}/{PENDING_PREFIX}*", f"{bucket_arn}/{AVATAR_PREFIX}*"],
            },
            {
                "Sid": "Page",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"{bucket_arn}/{WEB_PREFIX}*"],
            },
            {
                # The debug view: listing the bucket and reading its lifecycle rule.
                "Sid": "Bucket",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetLifecycleConfiguration"],
                "Resource": [bucket_arn],
            },
            {
                "Sid": "Users",
                "Effect": "Allow",
                "Action": ["dynamodb:Scan", "dynamodb:GetItem", "dynamodb:UpdateItem"],
                "Resource": [outputs["table_arn"]],
            },
            {
                "Sid": "SessionSecret",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter"],
                "Resource": [outputs["session_secret_parameter_arn"]],
            },
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": ["arn:aws:logs:*:*:*"],
            },
        ],
    }


def configure(outputs: dict, config_file=None, policy_file=None):
    config_file = Path(config_file or CONFIG_FILE)
    policy_file = Path(policy_file or POLICY_FILE)
    config = json.loads(config_file.read_text())
    stage = config.setdefault("stages", {}).setdefault(STAGE, {})
    stage.setdefault("environment_variables", {}).update(stage_environment(outputs))
    stage["autogen_policy"] = False
    stage["iam_policy_file"] = policy_file.name
    config_file.write_text(json.dumps(config, indent=2) + "\n")
    policy_file.write_text(json.dumps(render_policy(outputs), indent=2) + "\n")


def check_deploy_region(outputs: dict, region_in_use):
    """Chalice deploys to the region of the AWS session; it must be Terraform's."""
    if region_in_use != outputs["region"]:
        raise ConfigureError(
            f"The infrastructure is in {outputs['region']}, but AWS commands here use "
            f"{region_in_use or 'no region'}: `export AWS_DEFAULT_REGION={outputs['region']}` "
            "before `chalice deploy`, then run this again."
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "outputs",
        nargs="?",
        type=argparse.FileType("r"),
        default=sys.stdin,
        help="a file holding `terraform output -json` (default: standard input)",
    )
    arguments = parser.parse_args(argv)
    try:
        try:
            document = json.load(arguments.outputs)
        except ValueError:
            raise ConfigureError(
                "That is not JSON: pipe `terraform -chdir=infra output -json` into this command."
            ) from None
        outputs = read_outputs(document)
        check_deploy_region(outputs, boto3.session.Session().region_name)
        configure(outputs)
    except ConfigureError as error:
        print(f"configure_stage: {error}", file=sys.stderr)
        return 2
    print(
        f"Stage {STAGE!r} now uses bucket {outputs['bucket_name']} and table "
        f"{outputs['table_name']}: run `chalice deploy --stage {STAGE}`."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
