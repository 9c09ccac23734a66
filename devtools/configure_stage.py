"""Write Terraform's outputs into the `dev` stage, so `chalice deploy --stage dev` works.

    terraform -chdir=infra output -json | .venv/bin/python -m devtools.configure_stage

It sets the names and settings in `.chalice/config.json` (stage `dev`: its
environment_variables and tags) and writes one IAM policy per Lambda function,
`.chalice/policy-dev-<function>.json`, each granting exactly the calls that
function's handler makes, on exactly these resources. Like Chalice's own
`recordresources.py` sample: names reach the app from the stack, never from code.
"""

import argparse
import json
import re
import sys
from pathlib import Path

import boto3

from chalicelib.settings import AVATAR_PREFIX, PENDING_PREFIX, WEB_PREFIX

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = ROOT / ".chalice" / "config.json"
STAGE = "dev"

# The app's Lambda functions by Chalice's name for each: the REST API's, then
# app.py's event handlers (tests/infra/test_policy.py holds this list to app.py).
# With `autogen_policy: false` Chalice gives each its own role, whose policy is
# the function's `iam_policy_file` (chalice/deploy/appgraph.py).
API_HANDLER = "api_handler"
EVENT_LOGGER = "log_pending_upload"
SWEEPER = "sweep_orphaned_avatars"
FUNCTIONS = (API_HANDLER, EVENT_LOGGER, SWEEPER)

REQUIRED_OUTPUTS = (
    "region",
    "bucket_name",
    "table_name",
    "table_arn",
    "session_secret_parameter",
    "session_secret_parameter_arn",
    "max_upload_bytes",
    "avatar_base_url",
    "debug_routes",
    "default_tags",
)

_TABLE_ARN = re.compile(r"arn:aws:dynamodb:[^:]+:(?P<account>\d{12}):table/.+")


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
    outputs = {name: document[name]["value"] for name in REQUIRED_OUTPUTS}
    _check_values(outputs)
    return outputs


def _check_values(outputs: dict):
    """Refuse values the stage cannot use, naming the output."""
    url = outputs["avatar_base_url"]
    if not (isinstance(url, str) and url.startswith("https://") and url.endswith("/")):
        raise ConfigureError(
            f"avatar_base_url {url!r} is not an https URL ending in '/': the app "
            "appends avatars/<key> to it."
        )
    if not isinstance(outputs["debug_routes"], bool):
        raise ConfigureError(f"debug_routes {outputs['debug_routes']!r} is not true or false.")
    tags = outputs["default_tags"]
    if not isinstance(tags, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in tags.items()
    ):
        raise ConfigureError(f"default_tags {tags!r} is not a map of strings.")


def stage_environment(outputs: dict) -> dict:
    return {
        "AVATAR_BUCKET": outputs["bucket_name"],
        "USERS_TABLE": outputs["table_name"],
        "SESSION_SECRET_PARAMETER": outputs["session_secret_parameter"],
        "MAX_UPLOAD_BYTES": str(outputs["max_upload_bytes"]),
        "AVATAR_BASE_URL": outputs["avatar_base_url"],
        "DEBUG_ROUTES": "true" if outputs["debug_routes"] else "false",
        "SECURE_COOKIES": "true",
    }


def policy_file_name(function: str) -> str:
    """The file in `.chalice/` that holds `function`'s policy."""
    return f"policy-{STAGE}-{function}.json"


def lambda_function_name(app_name: str, function: str) -> str:
    """The deployed function's name as Chalice gives it: `<app>-<stage>` for the
    API's (kept so for back-compat, chalice/deploy/appgraph.py), else
    `<app>-<stage>-<function>`. Its log group is `/aws/lambda/<that name>`."""
    if function == API_HANDLER:
        return f"{app_name}-{STAGE}"
    return f"{app_name}-{STAGE}-{function}"


def account_id(outputs: dict) -> str:
    """The account, read from the table's ARN (no output names it alone)."""
    match = _TABLE_ARN.fullmatch(str(outputs["table_arn"]))
    if not match:
        raise ConfigureError(
            f"table_arn {outputs['table_arn']!r} is not a DynamoDB table ARN of the form "
            "arn:aws:dynamodb:<region>:<account>:table/<name>."
        )
    return match.group("account")


def render_policies(outputs: dict, app_name: str) -> dict:
    """Each function's policy: one statement per need of its handler, exact ARNs."""
    bucket_arn = f"arn:aws:s3:::{outputs['bucket_name']}"
    log_groups = f"arn:aws:logs:{outputs['region']}:{account_id(outputs)}:log-group:/aws/lambda/"

    def statement(sid, actions, resources, **extra):
        return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}

    def logs(function):
        # The Lambda runtime writes the function's own log group, nothing else.
        # IAM checks CreateLogGroup on `<group>:log-stream:` and the other two on
        # `<group>:log-stream:<stream>`, so `<group>:*` covers the three
        # (https://github.com/aws-solutions/instance-scheduler-on-aws/issues/578).
        return statement(
            "Logs",
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            [f"{log_groups}{lambda_function_name(app_name, function)}:*"],
        )

    def document(*statements):
        return {"Version": "2012-10-17", "Statement": list(statements)}

    users = outputs["table_arn"]
    return {
        API_HANDLER: document(
            # Finalize reads, writes and deletes; the presigned POST and GET
            # are signed with this role's credentials, so S3 checks them too.
            statement(
                "UploadsAndAvatars",
                ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                [f"{bucket_arn}/{PENDING_PREFIX}*", f"{bucket_arn}/{AVATAR_PREFIX}*"],
            ),
            statement("Page", ["s3:GetObject"], [f"{bucket_arn}/{WEB_PREFIX}*"]),
            # No prefix condition on listing: S3 answers a GetObject of a
            # missing key with 404 only to a caller allowed to list the bucket
            # (403 otherwise), and finalize and the page's files tell "no such
            # key" by that 404. The debug view, where the stage serves it, also
            # lists the bucket and reads its lifecycle rule.
            statement(
                "Bucket",
                ["s3:ListBucket"]
                + (["s3:GetLifecycleConfiguration"] if outputs["debug_routes"] else []),
                [bucket_arn],
            ),
            statement(
                "Users", ["dynamodb:Scan", "dynamodb:GetItem", "dynamodb:UpdateItem"], [users]
            ),
            statement(
                "SessionSecret", ["ssm:GetParameter"], [outputs["session_secret_parameter_arn"]]
            ),
            logs(API_HANDLER),
        ),
        # It prints one line per event: no AWS call at all.
        EVENT_LOGGER: document(logs(EVENT_LOGGER)),
        # chalicelib/sweeper.py: one Scan of the table, a listing of avatars/,
        # DeleteObjects of the orphans found there.
        SWEEPER: document(
            statement("Orphans", ["s3:DeleteObject"], [f"{bucket_arn}/{AVATAR_PREFIX}*"]),
            statement(
                "ListAvatars",
                ["s3:ListBucket"],
                [bucket_arn],
                Condition={"StringEquals": {"s3:prefix": [AVATAR_PREFIX]}},
            ),
            statement("Users", ["dynamodb:Scan"], [users]),
            logs(SWEEPER),
        ),
    }


def configure(outputs: dict, config_file=None):
    """Fill the `dev` stage of `config_file` and write each function's policy beside it
    (Chalice reads `iam_policy_file` from the config's own directory, `.chalice/`)."""
    config_file = Path(config_file or CONFIG_FILE)
    config = json.loads(config_file.read_text())
    policies = render_policies(outputs, config["app_name"])
    stage = config.setdefault("stages", {}).setdefault(STAGE, {})
    stage.setdefault("environment_variables", {}).update(stage_environment(outputs))
    stage["autogen_policy"] = False
    # Chalice tags the functions as Terraform tags what it makes. (Their log
    # groups, and so the logs' retention, are Terraform's: infra/monitoring.tf
    # says why not Chalice's log_retention_in_days.)
    stage["tags"] = dict(outputs["default_tags"])
    # Every function names its own file; a stage-wide one would only be what a
    # function without one falls back to, and none should have more than its own.
    stage.pop("iam_policy_file", None)
    functions = stage.setdefault("lambda_functions", {})
    for function in FUNCTIONS:
        functions.setdefault(function, {})["iam_policy_file"] = policy_file_name(function)
    for function, policy in policies.items():
        (config_file.parent / policy_file_name(function)).write_text(
            json.dumps(policy, indent=2) + "\n"
        )
    config_file.write_text(json.dumps(config, indent=2) + "\n")


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
        f"{outputs['table_name']}, serves avatars from {outputs['avatar_base_url']}, "
        f"debug routes {'on' if outputs['debug_routes'] else 'off'}, tags "
        f"{outputs['default_tags']}, with one IAM policy per function "
        f"({', '.join(policy_file_name(function) for function in FUNCTIONS)}): "
        f"run `chalice deploy --stage {STAGE}`."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
