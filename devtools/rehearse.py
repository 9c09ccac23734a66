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
"""

import json
import os
import secrets
import string
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import boto3
import hcl2
from botocore.exceptions import BotoCoreError, ClientError
from chalice.config import Config
from chalice.constants import DEFAULT_LAMBDA_MEMORY_SIZE, DEFAULT_LAMBDA_TIMEOUT

from chalicelib.settings import Settings
from devtools import configure_stage
from devtools.emulator import Emulator
from devtools.provision import provision

ROOT = Path(__file__).resolve().parent.parent
INFRA_DIR = ROOT / "infra"
CHALICE_DIR = ROOT / ".chalice"
STAGE = configure_stage.STAGE
CHALICE = Path(sys.executable).parent / "chalice"
# Chalice's name for the function that serves the REST API.
API_HANDLER = "api_handler"
# Any credentials do for an emulator; these are used when none are set.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "rehearsal", "AWS_SECRET_ACCESS_KEY": "rehearsal"}
# `chalice deploy` packages the app and downloads the runtime's wheels from PyPI.
COMMAND_SECONDS = 900
LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
S3_PRINCIPAL = "s3.amazonaws.com"
EVENTS_PRINCIPAL = "events.amazonaws.com"

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


class RehearsalError(Exception):
    """The rehearsal cannot start; the message says why."""


class Mismatch(Exception):
    """A check found something other than what it expected; the message says what."""


# --- infra/: what Terraform would create and print --------------------------


class Infra:
    """What infra/*.tf declares (parsed with python-hcl2): each variable's
    default, each resource's arguments by `<type>.<name>`, each output."""

    def __init__(self, directory=INFRA_DIR):
        options = hcl2.SerializationOptions(
            strip_string_quotes=True, with_comments=False, explicit_blocks=False
        )
        self.defaults, self.resources, self.outputs = {}, {}, {}
        for path in sorted(Path(directory).glob("*.tf")):
            with path.open() as handle:
                parsed = hcl2.load(handle, serialization_options=options)
            for block in parsed.get("variable", []):
                for name, body in block.items():
                    self.defaults[name] = body.get("default")
            for block in parsed.get("resource", []):
                for kind, named in block.items():
                    for name, body in named.items():
                        self.resources[f"{kind}.{name}"] = body
            for block in parsed.get("output", []):
                self.outputs.update(block)

    def render(self, template: str, suffix: str) -> str:
        """A name as Terraform makes it from `template`: the variables at their
        defaults, `random_id.suffix.hex` as `suffix`."""
        value = template.replace("${random_id.suffix.hex}", suffix)
        for name, default in self.defaults.items():
            value = value.replace(f"${{var.{name}}}", str(default))
        if "${" in value:
            raise RehearsalError(f"infra/ names a resource {template!r}: not rehearsed here.")
        return value


def terraform_names(infra: Infra, suffix: str) -> dict:
    """The bucket's, table's and parameter's names as `terraform apply` gives them."""
    return {
        "bucket": infra.render(infra.resources["aws_s3_bucket.avatars"]["bucket"], suffix),
        "table": infra.render(infra.resources["aws_dynamodb_table.users"]["name"], suffix),
        "parameter": infra.render(
            infra.resources["aws_ssm_parameter.session_secret"]["name"], suffix
        ),
    }


def terraform_attributes(infra: Infra, names: dict, region: str, account_id: str, partition="aws"):
    """What Terraform knows after `apply`, by the expression infra/outputs.tf reads it with."""
    parameter_path = (
        names["parameter"] if names["parameter"].startswith("/") else ("/" + names["parameter"])
    )
    return {
        **{f"var.{name}": default for name, default in infra.defaults.items()},
        "var.region": region,
        "aws_s3_bucket.avatars.id": names["bucket"],
        "aws_s3_bucket.avatars.arn": f"arn:{partition}:s3:::{names['bucket']}",
        "aws_dynamodb_table.users.name": names["table"],
        "aws_dynamodb_table.users.arn": (
            f"arn:{partition}:dynamodb:{region}:{account_id}:table/{names['table']}"
        ),
        "aws_ssm_parameter.session_secret.name": names["parameter"],
        "aws_ssm_parameter.session_secret.arn": (
            f"arn:{partition}:ssm:{region}:{account_id}:parameter{parameter_path}"
        ),
    }


def outputs_document(declared: dict, attributes: dict) -> dict:
    """What `terraform output -json` prints: every output `declared` (infra/
    outputs.tf), each with its value read from `attributes`."""
    document = {}
    for name, output in declared.items():
        expression = str(output["value"]).removeprefix("${").removesuffix("}")
        if expression not in attributes:
            raise RehearsalError(
                f"infra/outputs.tf: output {name!r} reads {expression}, "
                "which the rehearsal does not create."
            )
        value = attributes[expression]
        document[name] = {
            "sensitive": bool(output.get("sensitive", False)),
            "type": "number" if isinstance(value, (int, float)) else "string",
            "value": value,
        }
    return document


# --- .chalice/config.json: what Chalice deploys for each function -------------


def function_config(config_from_disk: dict, function: str) -> Config:
    """.chalice/config.json resolved for one function of the stage, by Chalice itself."""
    return Config(chalice_stage=STAGE, function_name=function, config_from_disk=config_from_disk)


def expected_environment(config_from_disk: dict, function: str) -> dict:
    """The variables Chalice gives `function`: the top level's, the stage's and
    the function's own, merged as Chalice merges them."""
    return function_config(config_from_disk, function).environment_variables


def expected_function(config_from_disk: dict, function: str) -> dict:
    """Memory, timeout, runtime and IAM policy file of `function`, with
    Chalice's defaults where config.json sets none."""
    config = function_config(config_from_disk, function)
    return {
        "memory": config.lambda_memory_size or DEFAULT_LAMBDA_MEMORY_SIZE,
        "timeout": config.lambda_timeout or DEFAULT_LAMBDA_TIMEOUT,
        "runtime": config.lambda_python_version,
        # With `autogen_policy: false` and no file named, Chalice reads
        # policy-<stage>.json (chalice/deploy/appgraph.py).
        "policy_file": config.iam_policy_file or f"policy-{STAGE}.json",
    }


def deployed_function_name(app_name: str, function: str) -> str:
    """Chalice names the API's function `<app>-<stage>`, each other `<app>-<stage>-<name>`."""
    if function == API_HANDLER:
        return f"{app_name}-{STAGE}"
    return f"{app_name}-{STAGE}-{function}"


# --- .chalice/: snapshot and restore -----------------------------------------


def snapshot_chalice_dir(directory=CHALICE_DIR) -> dict:
    """Every file under `directory`, by path relative to it, with its bytes;
    Chalice's package cache (`deployments/`, large, only ever added to) by name only."""
    files = {}
    for path in sorted(Path(directory).rglob("*")):
        if path.is_file():
            relative = path.relative_to(directory).as_posix()
            files[relative] = None if relative.startswith("deployments/") else path.read_bytes()
    return files


def restore_chalice_dir(before: dict, written: dict, directory=CHALICE_DIR):
    """Put `directory` back as the snapshot `before` holds it; return the paths
    restored, removed and left alone.

    `written` is the snapshot taken just after this run wrote its files: a file
    that differs from it was changed by someone else meanwhile (this checkout
    has other editors), and is left as it is, and named, rather than overwritten.
    Files under `deployed/` and `deployments/` are only ever Chalice's.
    """
    directory = Path(directory)
    now = snapshot_chalice_dir(directory)
    restored, removed, left = [], [], []
    for relative in sorted(set(before) | set(now)):
        path = directory / relative
        chalices = relative.startswith(("deployed/", "deployments/"))
        if relative not in now:
            if before[relative] is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(before[relative])
                restored.append(relative)
        elif relative not in before:
            if chalices or now[relative] == written.get(relative):
                path.unlink()
                removed.append(relative)
            else:
                left.append(relative)
        elif now[relative] != before[relative]:
            if chalices or now[relative] == written.get(relative):
                path.write_bytes(before[relative])
                restored.append(relative)
            else:
                left.append(relative)
    for folder in ("deployed", "deployments"):
        path = directory / folder
        existed = any(relative.startswith(folder + "/") for relative in before)
        if path.is_dir() and not existed and not any(path.iterdir()):
            path.rmdir()
    return restored, removed, left


# --- the rehearsal -------------------------------------------------------------


class Checks:
    """Runs each check, prints `ok  <what>` or `FAIL <what>: <why>`, counts failures."""

    def __init__(self, out=print):
        self.out = out
        self.passed = 0
        self.failed = 0

    def check(self, what: str, test) -> bool:
        try:
            test()
        except (Mismatch, ClientError, BotoCoreError, KeyError, ValueError) as error:
            self.failed += 1
            why = str(error) if not isinstance(error, KeyError) else f"no {error}"
            self.out(f"FAIL {what}: {why}")
            return False
        self.passed += 1
        self.out(f"ok  {what}")
        return True

    def fail(self, what: str, why: str):
        self.failed += 1
        self.out(f"FAIL {what}: {why}")


def expect_equal(actual, expected, what="found"):
    if actual != expected:
        raise Mismatch(f"{what} {actual!r}, expected {expected!r}")


def _statements(document) -> list:
    if isinstance(document, str):
        document = json.loads(document)
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def lambda_permissions(policy_document) -> list:
    """A function's resource policy as (principal service, conditions) pairs,
    the condition keys lowercased (IAM reads them case-insensitively)."""
    permissions = []
    for statement in _statements(policy_document):
        if statement.get("Effect") != "Allow" or "lambda:InvokeFunction" not in _as_list(
            statement.get("Action")
        ):
            continue
        principal = statement.get("Principal", {})
        service = principal.get("Service") if isinstance(principal, dict) else principal
        conditions = {
            key.lower(): value
            for operator in (statement.get("Condition") or {}).values()
            for key, value in operator.items()
        }
        permissions.append((service, conditions))
    return permissions


class Rehearsal:
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

    # 1. what Terraform creates

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

    def infrastructure_state(self, names: dict) -> dict:
        """What `chalice delete` must leave as it found: bucket (objects, CORS,
        lifecycle rules), table (key and items) and parameter."""
        s3, dynamodb = self.aws["s3"], self.aws["dynamodb"]
        objects = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=names["bucket"]):
            for entry in page.get("Contents", []):
                objects[entry["Key"]] = (entry["ETag"], entry["Size"])
        items = []
        for page in dynamodb.get_paginator("scan").paginate(
            TableName=names["table"], ConsistentRead=True
        ):
            items.extend(json.dumps(item, sort_keys=True) for item in page["Items"])
        parameter = self.aws["ssm"].get_parameter(Name=names["parameter"], WithDecryption=True)
        return {
            "objects": objects,
            "cors": s3.get_bucket_cors(Bucket=names["bucket"])["CORSRules"],
            "lifecycle": s3.get_bucket_lifecycle_configuration(Bucket=names["bucket"])["Rules"],
            "key": dynamodb.describe_table(TableName=names["table"])["Table"]["KeySchema"],
            "items": sorted(items),
            "parameter": {key: parameter["Parameter"][key] for key in ("Type", "Value", "Version")},
            "rest_apis": self.rest_api_ids(),
        }

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

    def rest_api_ids(self) -> set:
        """The REST APIs named as the app (Chalice names its API so)."""
        apis = self.aws["apigateway"].get_rest_apis(limit=500)["items"]
        return {api["id"] for api in apis if api.get("name") == self.app_name}

    # 3. and 4. the commands a user runs

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

    # 3. what `chalice deploy` made

    def check_deployment(self, app: dict, config_from_disk: dict, names: dict, state: dict):
        app_name = self.app_name
        handlers = {API_HANDLER: "app.app"}
        handlers.update({source["name"]: source["handler"] for source in app["s3_events"]})
        handlers.update({source["name"]: source["handler"] for source in app["schedules"]})
        deployed = {}
        for function, handler in handlers.items():
            deployed[function] = self.check_function(
                deployed_function_name(app_name, function),
                handler,
                function,
                config_from_disk,
                names,
            )

        def exactly_these_functions():
            found = self.app_function_names()
            expected = sorted(deployed_function_name(app_name, name) for name in handlers)
            expect_equal(found, expected, "functions")

        self.checks.check(
            f"functions: exactly {len(handlers)}, one per function of app.py",
            exactly_these_functions,
        )
        for source in app["s3_events"]:
            self.check_s3_event(source, deployed.get(source["name"]), names)
        for source in app["schedules"]:
            self.check_schedule(source, deployed.get(source["name"]))
        self.check_rest_api(app, config_from_disk, deployed.get(API_HANDLER), state["rest_apis"])
        return [function for function in deployed.values() if function]

    def app_function_names(self) -> list:
        prefix = f"{self.app_name}-{STAGE}"
        found = []
        for page in self.aws["lambda"].get_paginator("list_functions").paginate():
            for function in page["Functions"]:
                name = function["FunctionName"]
                if name == prefix or name.startswith(prefix + "-"):
                    found.append(name)
        return sorted(found)

    def check_function(self, name, handler, function, config_from_disk, names):
        """Check one deployed function and its role; return its ARN and role name (or None)."""
        lambda_ = self.aws["lambda"]
        expected = expected_function(config_from_disk, function)
        try:
            configuration = lambda_.get_function_configuration(FunctionName=name)
        except ClientError as error:
            self.checks.fail(f"function {name}", str(error))
            return None

        def settings():
            expect_equal(
                (
                    configuration["Handler"],
                    configuration["Runtime"],
                    configuration["MemorySize"],
                    configuration["Timeout"],
                ),
                (handler, expected["runtime"], expected["memory"], expected["timeout"]),
                "handler, runtime, memory, timeout",
            )

        self.checks.check(
            f"function {name}: handler {handler}, {expected['runtime']}, "
            f"{expected['memory']} MB, {expected['timeout']} s",
            settings,
        )

        environment = expected_environment(config_from_disk, function)

        def exact_environment():
            variables = configuration.get("Environment", {}).get("Variables", {})
            endpoints = sorted(key for key in variables if key.startswith("AWS_ENDPOINT_URL"))
            if endpoints:
                raise Mismatch(f"it names the emulator: {', '.join(endpoints)}")
            if "SESSION_SECRET" in variables:
                raise Mismatch("it holds a SESSION_SECRET value")
            expect_equal(
                variables.get("SESSION_SECRET_PARAMETER"),
                names["parameter"],
                "SESSION_SECRET_PARAMETER",
            )
            if variables != environment:
                extra = sorted(set(variables) - set(environment))
                missing = sorted(set(environment) - set(variables))
                differ = sorted(
                    key
                    for key in set(variables) & set(environment)
                    if variables[key] != environment[key]
                )
                raise Mismatch(f"extra {extra}, missing {missing}, different {differ}")

        self.checks.check(
            f"function {name}: environment exactly the stage's {len(environment)} variables "
            "(no endpoint, the secret's parameter name only)",
            exact_environment,
        )

        role_name = configuration["Role"].rsplit("/", 1)[-1]
        iam = self.aws["iam"]

        def trusts_lambda():
            trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
            if not any(
                statement.get("Effect") == "Allow"
                and "sts:AssumeRole" in _as_list(statement.get("Action"))
                and LAMBDA_PRINCIPAL in _as_list((statement.get("Principal") or {}).get("Service"))
                for statement in _statements(trust)
            ):
                raise Mismatch(f"trust policy {json.dumps(trust)}")

        self.checks.check(
            f"function {name}: role {role_name} may be assumed by {LAMBDA_PRINCIPAL}",
            trusts_lambda,
        )

        policy_path = CHALICE_DIR / expected["policy_file"]

        def inline_policy_is_the_file():
            wanted = json.loads(policy_path.read_text())
            policy_names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
            if len(policy_names) != 1:
                raise Mismatch(f"inline policies {policy_names}, expected one")
            document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_names[0])[
                "PolicyDocument"
            ]
            if isinstance(document, str):
                document = json.loads(document)
            expect_equal(document, wanted, "policy")

        self.checks.check(
            f"function {name}: role's inline policy is .chalice/{expected['policy_file']}",
            inline_policy_is_the_file,
        )
        return {"arn": configuration["FunctionArn"], "name": name, "role": role_name}

    def permissions(self, function_arn: str) -> list:
        return lambda_permissions(
            self.aws["lambda"].get_policy(FunctionName=function_arn)["Policy"]
        )

    def check_s3_event(self, source: dict, function: dict, names: dict):
        bucket = source["bucket"]
        if function is None:
            self.checks.fail(f"bucket {bucket}: notification", "no function to notify")
            return
        wanted_rules = {
            name: value
            for name, value in (("prefix", source["prefix"]), ("suffix", source["suffix"]))
            if value
        }
        scope = " ".join(f"{name} {value}" for name, value in wanted_rules.items())

        def notifies_the_function():
            answer = self.aws["s3"].get_bucket_notification_configuration(Bucket=bucket)
            found = [
                entry
                for entry in answer.get("LambdaFunctionConfigurations", [])
                if entry["LambdaFunctionArn"] == function["arn"]
            ]
            if len(found) != 1:
                raise Mismatch(f"{len(found)} notifications to {function['arn']}, expected 1")
            expect_equal(sorted(found[0]["Events"]), sorted(source["events"]), "events")
            # S3 answers `Prefix`, moto `prefix`: S3 reads the names in either case.
            rules = {
                rule["Name"].lower(): rule["Value"]
                for rule in found[0].get("Filter", {}).get("Key", {}).get("FilterRules", [])
            }
            expect_equal(rules, wanted_rules, "filter rules")

        self.checks.check(
            f"bucket {bucket}: notifies {function['name']} of "
            f"{', '.join(source['events'])} ({scope})",
            notifies_the_function,
        )
        bucket_arn = f"arn:{self.partition}:s3:::{bucket}"

        def s3_may_invoke():
            wanted = (S3_PRINCIPAL, bucket_arn, self.account_id)
            found = [
                (service, conditions.get("aws:sourcearn"), conditions.get("aws:sourceaccount"))
                for service, conditions in self.permissions(function["arn"])
            ]
            if wanted not in found:
                raise Mismatch(f"permissions {found}, expected {wanted}")

        self.checks.check(
            f"function {function['name']}: {S3_PRINCIPAL} may invoke it from "
            f"{bucket_arn}, account {self.account_id}",
            s3_may_invoke,
        )

    def check_schedule(self, source: dict, function: dict):
        if function is None:
            self.checks.fail(f"schedule {source['expression']}", "no function to run")
            return
        events = self.aws["events"]
        rules = events.list_rule_names_by_target(TargetArn=function["arn"])["RuleNames"]
        if len(rules) != 1:
            self.checks.fail(
                f"rule for {function['name']}", f"{len(rules)} rules target it, expected 1"
            )
            return
        rule = events.describe_rule(Name=rules[0])

        def scheduled():
            expect_equal(rule.get("ScheduleExpression"), source["expression"], "schedule")
            expect_equal(rule.get("State"), "ENABLED", "state")
            targets = events.list_targets_by_rule(Rule=rules[0])["Targets"]
            expect_equal([target["Arn"] for target in targets], [function["arn"]], "targets")

        self.checks.check(
            f"rule {rules[0]}: {source['expression']}, its one target {function['name']}",
            scheduled,
        )

        def events_may_invoke():
            found = [
                (service, conditions.get("aws:sourcearn"))
                for service, conditions in self.permissions(function["arn"])
            ]
            if (EVENTS_PRINCIPAL, rule["Arn"]) not in found:
                raise Mismatch(f"permissions {found}")

        self.checks.check(
            f"function {function['name']}: {EVENTS_PRINCIPAL} may invoke it from that rule",
            events_may_invoke,
        )

    def check_rest_api(self, app, config_from_disk, function, apis_before):
        created = sorted(self.rest_api_ids() - apis_before)
        if len(created) != 1:
            self.checks.fail(f"REST API {self.app_name}", f"{len(created)} made, expected 1")
            return
        api_id = created[0]
        apigateway = self.aws["apigateway"]
        resources = apigateway.get_resources(restApiId=api_id, limit=500, embed=["methods"])[
            "items"
        ]
        routes = {path: sorted(methods) for path, methods in app["routes"].items()}

        def routes_as_in_app():
            found = {
                resource["path"]: sorted(resource["resourceMethods"])
                for resource in resources
                if resource.get("resourceMethods")
            }
            if found != routes:
                differ = sorted(
                    path for path in set(found) | set(routes) if found.get(path) != routes.get(path)
                )
                raise Mismatch(
                    "these differ: "
                    + "; ".join(f"{p} {found.get(p)} (app.py: {routes.get(p)})" for p in differ)
                )

        methods = sum(len(value) for value in routes.values())
        self.checks.check(
            f"REST API {api_id}: the {len(routes)} routes of app.py, {methods} methods",
            routes_as_in_app,
        )

        def proxies_to_the_function():
            if function is None:
                raise Mismatch("the API's function was not deployed")
            uri = (
                f"arn:{self.partition}:apigateway:{self.region}:lambda:path/2015-03-31/"
                f"functions/{function['arn']}/invocations"
            )
            wrong = []
            for resource in resources:
                for method in resource.get("resourceMethods") or {}:
                    integration = apigateway.get_integration(
                        restApiId=api_id, resourceId=resource["id"], httpMethod=method
                    )
                    # API Gateway answers AWS_PROXY; moto the case Chalice's Swagger gives.
                    if integration.get("type", "").upper() != "AWS_PROXY" or (
                        integration.get("uri") != uri
                    ):
                        wrong.append(f"{method} {resource['path']}: {integration.get('type')}")
            if wrong:
                raise Mismatch(f"not an AWS_PROXY integration of {uri}: {'; '.join(wrong)}")

        self.checks.check(
            f"REST API {api_id}: every method an AWS_PROXY integration of "
            f"{function['name'] if function else 'the API function'}",
            proxies_to_the_function,
        )
        stage = function_config(config_from_disk, API_HANDLER).api_gateway_stage
        self.checks.check(
            f"REST API {api_id}: stage {stage}",
            lambda: apigateway.get_stage(restApiId=api_id, stageName=stage),
        )

    # 4. what `chalice delete` left

    def check_deleted(self, deployed_functions, names, state):
        """`deployed_functions`: those the deploy checks found (none if the deploy failed)."""
        prefix = f"{self.app_name}-{STAGE}"
        self.checks.check(
            f"after delete: no function {prefix}*",
            lambda: expect_equal(self.app_function_names(), [], "functions"),
        )

        def no_roles():
            found = []
            for page in self.aws["iam"].get_paginator("list_roles").paginate():
                found.extend(
                    role["RoleName"]
                    for role in page["Roles"]
                    if role["RoleName"].startswith(prefix + "-")
                    or role["RoleName"] in {f["role"] for f in deployed_functions}
                )
            expect_equal(sorted(found), [], "roles")

        self.checks.check(f"after delete: no role {prefix}-* (nor any the functions had)", no_roles)

        def no_rules():
            events = self.aws["events"]
            left = {rule["Name"] for rule in events.list_rules(NamePrefix=prefix)["Rules"]}
            for function in deployed_functions:
                left.update(
                    events.list_rule_names_by_target(TargetArn=function["arn"])["RuleNames"]
                )
            expect_equal(sorted(left), [], "rules")

        self.checks.check(f"after delete: no rule {prefix}*, none targets a function", no_rules)
        self.checks.check(
            f"after delete: no REST API {self.app_name} made by the deploy",
            lambda: expect_equal(sorted(self.rest_api_ids() - state["rest_apis"]), [], "REST APIs"),
        )

        def no_notification():
            answer = self.aws["s3"].get_bucket_notification_configuration(Bucket=names["bucket"])
            arns = {function["arn"] for function in deployed_functions}
            left = [
                entry["LambdaFunctionArn"]
                for entry in answer.get("LambdaFunctionConfigurations", [])
                if entry["LambdaFunctionArn"] in arns
                or entry["LambdaFunctionArn"].split(":")[-1].startswith(prefix)
            ]
            expect_equal(left, [], "notifications")

        self.checks.check(
            f"after delete: bucket {names['bucket']} notifies none of the app's functions",
            no_notification,
        )
        after = self.infrastructure_state(names)
        self.checks.check(
            f"after delete: bucket {names['bucket']} as it was "
            f"({len(state['objects'])} objects: seed avatars and page; CORS; lifecycle rules)",
            lambda: expect_equal(
                {key: after[key] for key in ("objects", "cors", "lifecycle")},
                {key: state[key] for key in ("objects", "cors", "lifecycle")},
                "bucket",
            ),
        )
        self.checks.check(
            f"after delete: table {names['table']} as it was ({len(state['items'])} seed users)",
            lambda: expect_equal(
                (after["key"], after["items"]), (state["key"], state["items"]), "table"
            ),
        )
        self.checks.check(
            f"after delete: parameter {names['parameter']} as it was "
            f"({state['parameter']['Type']}, version {state['parameter']['Version']})",
            lambda: expect_equal(after["parameter"], state["parameter"], "parameter"),
        )

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
        state = self.infrastructure_state(names)
        deployed = []
        if self.chalice("deploy"):
            deployed = self.check_deployment(app, config_from_disk, names, state)
        if keep:
            self.keep_instructions(endpoint, before)
        # A failed deploy may have recorded part of what it made: delete that too.
        elif (CHALICE_DIR / "deployed" / f"{STAGE}.json").exists() and self.chalice("delete"):
            self.check_deleted(deployed, names, state)

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
