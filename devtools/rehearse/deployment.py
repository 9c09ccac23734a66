"""What `chalice deploy --stage dev` made in the emulator and what `chalice
delete` left there, checked resource by resource against .chalice/config.json
and app.py: the functions (their environment, tags and log groups) and their
roles, the bucket's notification, the schedule's rule, the REST API; then that
only the app is gone."""

import json

from botocore.exceptions import ClientError

from devtools.rehearse.chalice_dir import CHALICE_DIR
from devtools.rehearse.checks import Checks, Mismatch, expect_equal
from devtools.rehearse.stage import (
    API_HANDLER,
    STAGE,
    deployed_function_name,
    expected_environment,
    expected_function,
    function_config,
)
from devtools.rehearse.terraform import distribution_view

LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
S3_PRINCIPAL = "s3.amazonaws.com"
EVENTS_PRINCIPAL = "events.amazonaws.com"
APIGATEWAY_PRINCIPAL = "apigateway.amazonaws.com"


def _statements(document) -> list:
    if isinstance(document, str):
        document = json.loads(document)
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def lambda_permissions(policy_document) -> list:
    """A function's resource policy as (principal service, conditions) pairs,
    the condition keys lowercased (IAM reads them case-insensitively). A
    statement that is not an Allow of lambda:InvokeFunction alone is given whole,
    as JSON, in place of the service, so that no comparison ignores it."""
    permissions = []
    for statement in _statements(policy_document):
        if statement.get("Effect") != "Allow" or _as_list(statement.get("Action")) != [
            "lambda:InvokeFunction"
        ]:
            permissions.append((json.dumps(statement, sort_keys=True), {}))
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


_BUCKET_STATE = (
    "objects",
    "cors",
    "lifecycle",
    "ownership",
    "public_access_block",
    "encryption",
    "policy",
)


def log_group_name(function_name: str) -> str:
    """Where Lambda writes a function's logs."""
    return f"/aws/lambda/{function_name}"


class DeploymentChecks:
    """Checks, in `checks`, what the emulator (`aws`: its clients by service
    name) holds of the app named `app_name`."""

    def __init__(
        self, aws: dict, checks: Checks, app_name: str, region: str, partition: str, account_id: str
    ):
        self.aws = aws
        self.checks = checks
        self.app_name = app_name
        self.region = region
        self.partition = partition
        self.account_id = account_id

    # what the deploy and the delete are compared with

    def infrastructure_state(self, names: dict) -> dict:
        """What `chalice delete` must leave as it found: bucket (objects, CORS,
        lifecycle rules, ownership, public access block, encryption, policy),
        table (key and items) and parameter."""
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
        bucket = names["bucket"]
        cloudfront = self.aws["cloudfront"]
        distribution = cloudfront.get_distribution(Id=names["distribution_id"])["Distribution"]
        access_control = cloudfront.get_origin_access_control(Id=names["origin_access_control_id"])[
            "OriginAccessControl"
        ]
        function = cloudfront.describe_function(Name=names["cdn_function"])["FunctionSummary"]
        return {
            "objects": objects,
            "ownership": s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"],
            "public_access_block": s3.get_public_access_block(Bucket=bucket)[
                "PublicAccessBlockConfiguration"
            ],
            "encryption": s3.get_bucket_encryption(Bucket=bucket)[
                "ServerSideEncryptionConfiguration"
            ],
            "policy": json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]),
            "cors": s3.get_bucket_cors(Bucket=names["bucket"])["CORSRules"],
            "lifecycle": s3.get_bucket_lifecycle_configuration(Bucket=names["bucket"])["Rules"],
            "key": dynamodb.describe_table(TableName=names["table"])["Table"]["KeySchema"],
            "items": sorted(items),
            "parameter": {key: parameter["Parameter"][key] for key in ("Type", "Value", "Version")},
            "cdn": {
                "distribution": (
                    distribution["DomainName"],
                    distribution_view(distribution["DistributionConfig"]),
                ),
                "origin_access_control": access_control["OriginAccessControlConfig"],
                "function": (function["Name"], function["FunctionConfig"]),
            },
            "log_groups": [self.log_group(name) for name in sorted(names["log_groups"].values())],
            "rest_apis": self.rest_api_ids(),
        }

    def log_group(self, name: str):
        """The log group `name` (its retention and tags), or None."""
        logs = self.aws["logs"]
        for group in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]:
            if group["logGroupName"] == name:
                tags = logs.list_tags_log_group(logGroupName=name).get("tags", {})
                return {"name": name, "retention": group.get("retentionInDays"), "tags": tags}
        return None

    def app_log_groups(self) -> list:
        """Every log group named for a function of the app's stage."""
        prefix = log_group_name(f"{self.app_name}-{STAGE}")
        groups = []
        paginator = self.aws["logs"].get_paginator("describe_log_groups")
        for page in paginator.paginate(logGroupNamePrefix=prefix):
            groups.extend(page["logGroups"])
        return groups

    def rest_api_ids(self) -> set:
        """The REST APIs named as the app (Chalice names its API so)."""
        apis = self.aws["apigateway"].get_rest_apis(limit=500)["items"]
        return {api["id"] for api in apis if api.get("name") == self.app_name}

    # what `chalice deploy` made

    def check_deployment(
        self, app: dict, config_from_disk: dict, names: dict, document: dict, state: dict
    ):
        """`names`: what the rehearsal created; `document`: the outputs document
        the configure step was given."""
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
                document,
            )

        def exactly_these_functions():
            found = self.app_function_names()
            expected = sorted(deployed_function_name(app_name, name) for name in handlers)
            expect_equal(found, expected, "functions")

        self.checks.check(
            f"functions: exactly {len(handlers)}, one per function of app.py",
            exactly_these_functions,
        )
        self.check_log_groups(
            [deployed_function_name(app_name, name) for name in handlers],
            document["log_retention_days"]["value"],
        )
        for source in app["s3_events"]:
            self.check_s3_event(source, deployed.get(source["name"]), names)
        for source in app["schedules"]:
            self.check_schedule(source, deployed.get(source["name"]))
        self.check_rest_api(app, config_from_disk, deployed.get(API_HANDLER), state["rest_apis"])
        return [function for function in deployed.values() if function]

    def check_log_groups(self, function_names: list, retention: int):
        """The app's log groups are exactly its functions' own, each with `retention`."""
        wanted = {log_group_name(name) for name in function_names}

        def log_groups_are_the_functions_own():
            groups = {group["logGroupName"]: group for group in self.app_log_groups()}
            # Chalice 1.34's log_retention_in_days would add
            # /aws/lambda/<app>-<stage>-api_handler (infra/monitoring.tf).
            expect_equal(sorted(groups), sorted(wanted), "log groups")
            kept = {name: group.get("retentionInDays") for name, group in groups.items()}
            expect_equal(kept, {name: retention for name in wanted}, "retention")

        self.checks.check(
            f"log groups: exactly the {len(wanted)} functions' own (Terraform's), "
            f"each kept {retention} days",
            log_groups_are_the_functions_own,
        )

    def app_function_names(self) -> list:
        prefix = f"{self.app_name}-{STAGE}"
        found = []
        for page in self.aws["lambda"].get_paginator("list_functions").paginate():
            for function in page["Functions"]:
                name = function["FunctionName"]
                if name == prefix or name.startswith(prefix + "-"):
                    found.append(name)
        return sorted(found)

    def check_function(self, name, handler, function, config_from_disk, names, document):
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

        # The names the rehearsal made, not what the configure step (under test) wrote.
        environment = {
            **expected_environment(config_from_disk, function),
            "AVATAR_BUCKET": names["bucket"],
            "USERS_TABLE": names["table"],
            "SESSION_SECRET_PARAMETER": names["parameter"],
            "MAX_UPLOAD_BYTES": str(document["max_upload_bytes"]["value"]),
            "AVATAR_BASE_URL": f"https://{names['distribution_domain']}/",
            "DEBUG_ROUTES": "true" if document["debug_routes"]["value"] else "false",
        }

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
            f"function {name}: environment exactly the stage's {len(environment)} variables, "
            "bucket, table, parameter, upload limit, avatar URL (the distribution's) and "
            "debug routes as created and output (no endpoint, the secret's parameter name only)",
            exact_environment,
        )

        wanted_tags = function_config(config_from_disk, function).tags
        default_tags = document["default_tags"]["value"]

        def tagged_as_terraform_tags():
            if {**wanted_tags, **default_tags} != wanted_tags:
                raise Mismatch(f"the stage's tags {wanted_tags} lack Terraform's {default_tags}")
            tags = lambda_.list_tags(Resource=configuration["FunctionArn"])["Tags"]
            expect_equal(tags, wanted_tags, "tags")

        self.checks.check(
            f"function {name}: tagged as Terraform tags what it makes "
            f"({', '.join(f'{key}={value}' for key, value in sorted(default_tags.items()))}), "
            "and Chalice's aws-chalice",
            tagged_as_terraform_tags,
        )

        role_name = configuration["Role"].rsplit("/", 1)[-1]
        iam = self.aws["iam"]

        def trusts_lambda_only():
            trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
            found = [
                {
                    "Effect": statement.get("Effect"),
                    "Action": _as_list(statement.get("Action")),
                    "Principal": statement.get("Principal"),
                    "Condition": statement.get("Condition"),
                }
                for statement in _statements(trust)
            ]
            wanted = {
                "Effect": "Allow",
                "Action": ["sts:AssumeRole"],
                "Principal": {"Service": LAMBDA_PRINCIPAL},
                "Condition": None,
            }
            if found != [wanted]:
                raise Mismatch(f"trust policy {json.dumps(trust)}")

        self.checks.check(
            f"function {name}: role {role_name} may be assumed by {LAMBDA_PRINCIPAL} only",
            trusts_lambda_only,
        )
        self.checks.check(
            f"function {name}: role {role_name} has no managed policy attached",
            lambda: expect_equal(
                iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"],
                [],
                "attached policies",
            ),
        )

        policy_path = CHALICE_DIR / expected["policy_file"]

        def inline_policy_is_the_file():
            if not policy_path.is_file():
                raise Mismatch(f"no file .chalice/{expected['policy_file']} to compare with")
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

        conditions = {"aws:sourcearn": bucket_arn, "aws:sourceaccount": self.account_id}
        wanted = [(S3_PRINCIPAL, conditions)]
        self.checks.check(
            f"function {function['name']}: only {S3_PRINCIPAL} may invoke it, from "
            f"{bucket_arn}, account {self.account_id}",
            lambda: expect_equal(self.permissions(function["arn"]), wanted, "permissions"),
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

        wanted = [(EVENTS_PRINCIPAL, {"aws:sourcearn": rule["Arn"]})]
        self.checks.check(
            f"function {function['name']}: only {EVENTS_PRINCIPAL} may invoke it, from that rule",
            lambda: expect_equal(self.permissions(function["arn"]), wanted, "permissions"),
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
        # Chalice grants the whole API (chalice/awsclient.py, _build_source_arn_str).
        execute_api = f"arn:{self.partition}:execute-api:{self.region}:{self.account_id}:{api_id}"
        if function is None:
            self.checks.fail(
                f"REST API {api_id}: permission", "the API's function was not deployed"
            )
        else:
            wanted = [(APIGATEWAY_PRINCIPAL, {"aws:sourcearn": f"{execute_api}/*"})]
            self.checks.check(
                f"function {function['name']}: only {APIGATEWAY_PRINCIPAL} may invoke it, "
                f"from {execute_api}/*",
                lambda: expect_equal(self.permissions(function["arn"]), wanted, "permissions"),
            )
        stage = function_config(config_from_disk, API_HANDLER).api_gateway_stage
        self.checks.check(
            f"REST API {api_id}: stage {stage}",
            lambda: apigateway.get_stage(restApiId=api_id, stageName=stage),
        )

    # what `chalice delete` left

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
            f"({len(state['objects'])} objects: seed avatars and page; CORS; lifecycle "
            "rules; ownership, public access block, encryption, policy: TLS only, "
            "CloudFront's read of avatars/)",
            lambda: expect_equal(
                {key: after[key] for key in _BUCKET_STATE},
                {key: state[key] for key in _BUCKET_STATE},
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
        self.checks.check(
            f"after delete: distribution {names['distribution_id']}, its origin access control "
            "and function as they were",
            lambda: expect_equal(after["cdn"], state["cdn"], "CloudFront"),
        )
        self.checks.check(
            "after delete: the functions' log groups (Terraform's) as they were, "
            "retention and tags",
            lambda: expect_equal(after["log_groups"], state["log_groups"], "log groups"),
        )
