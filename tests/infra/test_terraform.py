"""infra/ declares what the app depends on (parsed, since Terraform cannot init here)."""

import json
import re
import shutil
import subprocess

import pytest

from chalicelib.settings import AVATAR_PREFIX, PENDING_PREFIX, WEB_PREFIX
from chalicelib.uploads import AVATAR_CACHE_CONTROL, OWNER_METADATA
from devtools.configure_stage import (
    API_HANDLER,
    FUNCTIONS,
    REQUIRED_OUTPUTS,
    SWEEPER,
    lambda_function_name,
)
from devtools.provision import PENDING_EXPIRATION_DAYS, lifecycle_rules
from tests.infra.conftest import INFRA

ROOT = INFRA.parent
BUCKET = ("aws_s3_bucket", "avatars")


def bucket_ref(body):
    return body["bucket"] == "${aws_s3_bucket.avatars.id}"


def test_infra_is_split_by_concern():
    files = {path.name for path in INFRA.glob("*.tf")}
    assert {
        "versions.tf",
        "variables.tf",
        "storage.tf",
        "database.tf",
        "web.tf",
        "cdn.tf",
        "monitoring.tf",
        "outputs.tf",
    } <= files


def test_terraform_and_the_providers_are_pinned_to_the_current_lines(terraform):
    (settings,) = terraform.terraform
    assert settings["required_version"] == ">= 1.5"
    (providers,) = settings["required_providers"]
    assert providers["aws"]["source"] == "hashicorp/aws"
    assert providers["random"]["source"] == "hashicorp/random"


def test_the_aws_provider_floor_is_past_the_lifecycle_filter_bugs_and_says_why(terraform):
    (settings,) = terraform.terraform
    (providers,) = settings["required_providers"]
    # 5.86.0's "inconsistent result" and 5.90 to 5.98's warning on an empty filter.
    assert providers["aws"]["version"] == "~> 5.99"
    versions = (INFRA / "versions.tf").read_text()
    for reason in ("5.86.0", "inconsistent result", "5.90", "#41268", "#41710", "#42624"):
        assert reason in versions, reason


def test_the_whole_bucket_rule_names_its_empty_prefix_explicitly(terraform):
    lifecycle = terraform.resource("aws_s3_bucket_lifecycle_configuration", "avatars")
    for rule in lifecycle["rule"]:
        assert len(rule["filter"]) == 1 and "prefix" in rule["filter"][0], rule["id"]
    rules = {rule["id"]: rule for rule in lifecycle["rule"]}
    assert rules["abort-incomplete-multipart-uploads"]["filter"] == [{"prefix": ""}]


def test_the_state_stays_out_of_git_and_a_remote_backend_is_shown_commented_out(terraform):
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert {"*.tfstate*", ".terraform/", "*.tfplan"} <= set(ignored)
    assert ".terraform.lock.hcl" not in ignored
    (settings,) = terraform.terraform
    assert "backend" not in settings
    versions = (INFRA / "versions.tf").read_text()
    example = [
        line.strip().removeprefix("#").strip()
        for line in versions.splitlines()
        if line.strip().startswith("#")
    ]
    start = example.index('backend "s3" {')
    block = example[start : example.index("}", start) + 1]
    settings = dict(
        re.match(r"(\w+)\s*=\s*(\S+)", line).groups() for line in block[1:-1] if "=" in line
    )
    assert settings["encrypt"] == "true"
    assert settings["use_lockfile"] == "true"
    assert "plain text" in versions and "session signing secret" in versions


def test_the_state_files_terraform_writes_are_ignored_by_git():
    paths = [
        "infra/terraform.tfstate",
        "infra/terraform.tfstate.backup",
        "infra/.terraform.tfstate.lock.info",
        "infra/.terraform/providers/x",
        "infra/plan.tfplan",
    ]
    answer = subprocess.run(
        ["git", "check-ignore", "--no-index", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert sorted(answer.stdout.split()) == sorted(paths)


def test_terraform_fmt_finds_nothing_to_change():
    binary = shutil.which("terraform")
    assert binary, "terraform is not on PATH: these machines ship Terraform 1.11"
    result = subprocess.run(
        [binary, "fmt", "-check", "-recursive", "-diff", str(INFRA)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def _checkov(*arguments):
    checkov = ROOT / ".venv-checkov" / "bin" / "checkov"
    assert checkov.exists(), "make test installs checkov into .venv-checkov"
    result = subprocess.run(
        [str(checkov), "--config-file", ".checkov.yaml", "--output", "json", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout)["summary"]


def test_checkov_passes_with_only_the_listed_skips():
    summary = _checkov()
    assert summary["failed"] == 0 and summary["passed"] > 20


def test_checkov_passes_with_the_alarms_on_too(tmp_path):
    # checkov leaves out resources whose count is 0: the alarms, their topic and key.
    variables = tmp_path / "alarms.tfvars"
    variables.write_text(
        'alarms_enabled = true\nalarm_email = "ops@example.com"\n'
        'allowed_cors_origins = ["https://abc123.execute-api.eu-west-1.amazonaws.com"]\n'
    )
    with_alarms = _checkov("--var-file", str(variables))
    assert with_alarms["failed"] == 0
    assert with_alarms["passed"] > _checkov()["passed"]


def test_every_checkov_skip_has_a_reason():
    lines = (ROOT / ".checkov.yaml").read_text().splitlines()
    for index, line in enumerate(lines):
        if line.strip().startswith("- CKV"):
            assert lines[index - 1].strip().startswith("# "), f"no reason above {line.strip()}"


def test_the_prefixes_are_the_apps(terraform):
    assert terraform.locals["pending_prefix"] == PENDING_PREFIX
    assert terraform.locals["avatar_prefix"] == AVATAR_PREFIX
    assert terraform.locals["web_prefix"] == WEB_PREFIX


def test_the_lifecycle_rule_expires_pending_uploads_after_the_variables_days(terraform):
    lifecycle = terraform.resource("aws_s3_bucket_lifecycle_configuration", "avatars")
    assert bucket_ref(lifecycle)
    rules = {rule["id"]: rule for rule in lifecycle["rule"]}
    pending = rules["expire-pending-uploads"]
    assert pending["status"] == "Enabled"
    assert pending["filter"] == [{"prefix": "${local.pending_prefix}"}]
    assert pending["expiration"] == [{"days": "${var.pending_expiration_days}"}]
    assert terraform.variables["pending_expiration_days"]["default"] == PENDING_EXPIRATION_DAYS
    aborts = rules["abort-incomplete-multipart-uploads"]
    assert aborts["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 1}]


def test_the_local_stack_provisions_the_same_lifecycle_rules(terraform, aws):
    local = {rule["ID"]: rule for rule in lifecycle_rules(aws.settings)}
    declared = terraform.resource("aws_s3_bucket_lifecycle_configuration", "avatars")["rule"]
    assert set(local) == {rule["id"] for rule in declared}
    assert local["expire-pending-uploads"]["Filter"] == {"Prefix": PENDING_PREFIX}


def test_cors_allows_post_from_the_allowed_origins_and_nothing_else(terraform):
    cors = terraform.resource("aws_s3_bucket_cors_configuration", "avatars")
    assert bucket_ref(cors)
    (rule,) = cors["cors_rule"]
    assert rule["allowed_methods"] == ["POST"]
    assert rule["allowed_origins"] == "${var.allowed_cors_origins}"
    assert rule["expose_headers"] == ["ETag"]


def _validation_pattern(variable):
    """The RE2 pattern a variable's validation matches each value against."""
    (validation,) = variable["validation"]
    (pattern,) = re.findall(r'regex\("((?:[^"\\]|\\.)*)"', validation["condition"])
    # HCL string escapes: the pattern as Terraform's regex() receives it.
    return json.loads(f'"{pattern}"')


def test_the_cors_origins_have_no_default_and_must_be_https_origins(terraform):
    variable = terraform.variables["allowed_cors_origins"]
    assert "default" not in variable
    (validation,) = variable["validation"]
    assert "length(var.allowed_cors_origins) > 0" in validation["condition"]
    assert "alltrue(" in validation["condition"]
    # These patterns use nothing where RE2 and Python's re differ.
    pattern = re.compile(_validation_pattern(variable))
    for origin in (
        "https://abc123.execute-api.eu-west-1.amazonaws.com",
        "https://*.execute-api.eu-west-1.amazonaws.com",
        "https://avatars.example.com:8443",
    ):
        assert pattern.search(origin), origin
    for origin in (
        "*",
        "http://abc123.execute-api.eu-west-1.amazonaws.com",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/api/",
        "https://*",
        "https://*.*.example.com",
        "https://example.com*",
    ):
        assert not pattern.search(origin), origin


def test_the_bucket_is_private_encrypted_owner_enforced_and_tls_only(terraform):
    bucket = terraform.resource(*BUCKET)
    assert bucket["force_destroy"] is True
    assert not {
        "lifecycle_rule",
        "cors_rule",
        "acl",
        "policy",
        "versioning",
        "server_side_encryption_configuration",
    } & set(bucket)
    block = terraform.resource("aws_s3_bucket_public_access_block", "avatars")
    for setting in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert block[setting] is True, setting
    ownership = terraform.resource("aws_s3_bucket_ownership_controls", "avatars")
    assert ownership["rule"] == [{"object_ownership": "BucketOwnerEnforced"}]
    encryption = terraform.resource("aws_s3_bucket_server_side_encryption_configuration", "avatars")
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"] == [
        {"sse_algorithm": "AES256"}
    ]
    statements = terraform.data[("aws_iam_policy_document", "avatars")]["statement"]
    (deny,) = [statement for statement in statements if statement["sid"] == "DenyInsecureTransport"]
    assert deny["effect"] == "Deny"
    assert deny["actions"] == ["s3:*"]
    assert deny["principals"] == [{"type": "*", "identifiers": ["*"]}]
    assert deny["condition"] == [
        {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}
    ]
    # One policy per bucket: every statement lives in this one document.
    (policy,) = terraform.of_kind("aws_s3_bucket_policy").values()
    assert policy["policy"] == "${data.aws_iam_policy_document.avatars.json}"


def test_the_bucket_policy_lets_only_this_distribution_read_only_avatars(terraform):
    statements = terraform.data[("aws_iam_policy_document", "avatars")]["statement"]
    assert [statement["sid"] for statement in statements] == [
        "DenyInsecureTransport",
        "CloudFrontReadsAvatars",
    ]
    assert statements[1] == {
        "sid": "CloudFrontReadsAvatars",
        "effect": "Allow",
        "actions": ["s3:GetObject"],
        "resources": ["${aws_s3_bucket.avatars.arn}/${local.avatar_prefix}*"],
        "principals": [{"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}],
        "condition": [
            {
                "test": "StringEquals",
                "variable": "AWS:SourceArn",
                "values": ["${aws_cloudfront_distribution.avatars.arn}"],
            }
        ],
    }


def test_terraform_leaves_the_bucket_notification_to_chalice(terraform):
    assert terraform.of_kind("aws_s3_bucket_notification") == {}


def test_the_table_is_keyed_by_username_on_demand_with_recovery_and_encryption(terraform):
    table = terraform.resource("aws_dynamodb_table", "users")
    assert table["hash_key"] == "Username"
    assert table["attribute"] == [{"name": "Username", "type": "S"}]
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["point_in_time_recovery"] == [{"enabled": True}]
    assert table["server_side_encryption"] == [{"enabled": True}]


def test_the_seed_users_are_created_once_and_kept_as_users_change_them(terraform):
    assert "seed/users.json" in terraform.locals["seed_users"]
    items = terraform.resource("aws_dynamodb_table_item", "seed_users")
    assert items["for_each"] == "${local.seed_users}"
    assert items["lifecycle"] == [{"ignore_changes": ["item"]}]
    seeded = json.loads((INFRA / "seed" / "users.json").read_text())
    for user in seeded:
        assert (INFRA / "seed" / f"{user['Username']}.png").exists()


def test_no_seed_image_is_an_object_terraform_would_upload_again_once_deleted(terraform):
    # An aws_s3_object is recreated by the next apply once finalize deletes a
    # replaced seed image, and the sweeper deletes it again: a loop.
    objects = terraform.of_kind("aws_s3_object")
    assert set(objects) == {"web"}
    assert terraform.of_kind("aws_s3_object_copy") == {}


def test_each_seed_image_is_uploaded_once_by_a_provisioner_of_its_user(terraform):
    seed = terraform.resource("terraform_data", "seed_avatars")
    assert seed["for_each"] == "${local.seed_users}"
    # Replaced, and so run again, only with a new bucket, key or item.
    assert seed["triggers_replace"] == ["${aws_s3_bucket.avatars.id}", "${each.value.Avatar}"]
    assert seed["lifecycle"] == [
        {"replace_triggered_by": ["${aws_dynamodb_table_item.seed_users[each.key]}"]}
    ]
    (provisioner,) = seed["provisioner"]
    local_exec = provisioner["local-exec"]
    assert "when" not in local_exec  # a creation-time provisioner
    environment = local_exec["environment"]
    assert environment == {
        "REGION": "${var.region}",
        "BUCKET": "${aws_s3_bucket.avatars.id}",
        "KEY": "${each.value.Avatar}",
        "BODY": "${path.module}/seed/${each.key}.png",
        "CACHE_CONTROL": AVATAR_CACHE_CONTROL,
        "USERNAME": "${each.key}",
    }
    command = local_exec["command"]
    assert command.startswith("aws s3api put-object ")
    for flag in (
        '--region "$REGION"',
        '--bucket "$BUCKET"',
        '--key "$KEY"',
        '--body "$BODY"',
        "--content-type image/png",
        '--cache-control "$CACHE_CONTROL"',
        f'--metadata "{OWNER_METADATA}=$USERNAME"',
    ):
        assert flag in command, flag
    # Every value reaches the shell through the environment, quoted: none is
    # interpolated into the command line.
    assert "${" not in command


def test_every_file_of_static_is_published_under_web_with_a_content_etag(terraform):
    web = terraform.resource("aws_s3_object", "web")
    assert terraform.locals["static_dir"] == "${path.module}/../static"
    assert web["for_each"] == '${fileset(local.static_dir, "*")}'
    assert web["key"] == "${local.web_prefix}${each.value}"
    assert web["etag"] == '${filemd5("${local.static_dir}/${each.value}")}'
    extensions = {path.suffix.lstrip(".") for path in (ROOT / "static").iterdir()}
    assert extensions <= set(terraform.locals["content_types"])


def test_the_session_secret_is_a_random_securestring_parameter(terraform):
    parameter = terraform.resource("aws_ssm_parameter", "session_secret")
    assert parameter["type"] == "SecureString"
    assert parameter["value"] == "${random_password.session_secret.result}"
    assert terraform.resource("random_password", "session_secret")["length"] >= 32


def test_every_output_the_config_step_reads_exists(terraform):
    assert set(REQUIRED_OUTPUTS) <= set(terraform.outputs)


def test_the_new_outputs_are_the_distributions_url_and_the_stage_settings(terraform):
    outputs = terraform.outputs
    assert outputs["avatar_base_url"]["value"] == (
        "https://${aws_cloudfront_distribution.avatars.domain_name}/"
    )
    assert outputs["avatar_domain_name"]["value"] == (
        "${aws_cloudfront_distribution.avatars.domain_name}"
    )
    assert outputs["debug_routes"]["value"] == "${var.debug_routes}"
    assert outputs["log_retention_days"]["value"] == "${var.log_retention_days}"
    assert outputs["alarm_topic_arn"]["value"] == "${one(aws_sns_topic.alarms[*].arn)}"


def test_the_tags_output_is_the_providers_default_tags(terraform):
    (provider,) = terraform.files["versions.tf"]["provider"]
    (default_tags,) = provider["aws"]["default_tags"]
    assert default_tags["tags"] == "${local.default_tags}"
    assert terraform.outputs["default_tags"]["value"] == "${local.default_tags}"
    assert terraform.locals["default_tags"] == {"Project": "${var.name_prefix}"}


def test_every_variable_and_output_has_a_description(terraform):
    for name, variable in terraform.variables.items():
        assert variable.get("description") and variable.get("type"), name
    for name, output in terraform.outputs.items():
        assert output.get("description"), name


def test_the_upload_limit_default_matches_the_apps(terraform):
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    limit = terraform.variables["max_upload_bytes"]["default"]
    assert str(limit) == config["environment_variables"]["MAX_UPLOAD_BYTES"]


def test_the_debug_routes_are_off_unless_a_variable_turns_them_on_and_it_says_why(terraform):
    variable = terraform.variables["debug_routes"]
    assert variable["type"] == "bool"
    assert variable["default"] is False
    description = variable["description"]
    assert "every user's avatar key" in description and "no access control" in description


def test_the_log_retention_is_a_variable_validated_against_cloudwatchs_values(terraform):
    variable = terraform.variables["log_retention_days"]
    assert variable["type"] == "number"
    assert variable["default"] == 30
    (validation,) = variable["validation"]
    allowed = re.search(
        r"contains\(\[([0-9, ]+)\], var\.log_retention_days\)", validation["condition"]
    )
    # PutRetentionPolicy's values (botocore's logs model, shape Days).
    assert [int(days) for days in allowed.group(1).split(",")] == [
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
        1096, 1827, 2192, 2557, 2922, 3288, 3653,
    ]  # fmt: skip


def test_terraform_makes_every_functions_log_group_with_the_retention(terraform):
    group = terraform.resource("aws_cloudwatch_log_group", "functions")
    assert group["for_each"] == "${local.chalice_functions}"
    assert group["name"] == "/aws/lambda/${each.value}"
    assert group["retention_in_days"] == "${var.log_retention_days}"
    # One per function of app.py (tests/infra/test_policy.py holds FUNCTIONS to
    # app.py), named as Chalice names the function.
    names = {
        handler: name.replace("${local.chalice_app_name}", "avatars").replace(
            "${local.chalice_stage}", "dev"
        )
        for handler, name in terraform.locals["chalice_functions"].items()
    }
    assert names == {function: lambda_function_name("avatars", function) for function in FUNCTIONS}


def test_the_chalice_names_terraform_uses_are_chalices_for_the_dev_stage(terraform):
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    app_name = config["app_name"]
    local = terraform.locals
    assert local["chalice_app_name"] == app_name
    assert local["chalice_stage"] == "dev"
    assert local["api_gateway_stage"] == config["stages"]["dev"]["api_gateway_stage"]
    functions = local["chalice_functions"]
    assert functions[API_HANDLER] == "${local.chalice_app_name}-${local.chalice_stage}"
    assert lambda_function_name(app_name, API_HANDLER) == f"{app_name}-dev"
    assert functions[SWEEPER] == "${local.chalice_app_name}-${local.chalice_stage}-" + SWEEPER


# The CDN


def test_the_distributions_one_origin_is_the_bucket_through_origin_access_control(terraform):
    distribution = terraform.resource("aws_cloudfront_distribution", "avatars")
    (origin,) = distribution["origin"]
    assert origin["domain_name"] == "${aws_s3_bucket.avatars.bucket_regional_domain_name}"
    assert origin["origin_access_control_id"] == (
        "${aws_cloudfront_origin_access_control.avatars.id}"
    )
    assert "s3_origin_config" not in origin  # no legacy origin access identity
    access = terraform.resource("aws_cloudfront_origin_access_control", "avatars")
    assert access["origin_access_control_origin_type"] == "s3"
    assert access["signing_behavior"] == "always"
    assert access["signing_protocol"] == "sigv4"


def _behaviours(terraform):
    distribution = terraform.resource("aws_cloudfront_distribution", "avatars")
    (ordered,) = distribution["ordered_cache_behavior"]
    (default,) = distribution["default_cache_behavior"]
    return ordered, default


def test_avatars_are_served_https_only_get_and_head_with_the_managed_caching_policy(terraform):
    ordered, default = _behaviours(terraform)
    assert ordered["path_pattern"] == "${local.avatar_prefix}*"
    assert terraform.locals["avatar_prefix"] == AVATAR_PREFIX
    for behaviour in (ordered, default):
        assert behaviour["target_origin_id"] == "${local.avatar_origin_id}"
        assert behaviour["viewer_protocol_policy"] == "https-only"
        assert behaviour["allowed_methods"] == ["GET", "HEAD"]
        assert behaviour["cached_methods"] == ["GET", "HEAD"]
        assert behaviour["cache_policy_id"] == (
            "${data.aws_cloudfront_cache_policy.caching_optimized.id}"
        )
        assert behaviour["response_headers_policy_id"] == (
            "${data.aws_cloudfront_response_headers_policy.security_headers.id}"
        )
        assert "forwarded_values" not in behaviour  # the legacy cache settings
    caching = terraform.data[("aws_cloudfront_cache_policy", "caching_optimized")]
    assert caching == {"name": "Managed-CachingOptimized"}
    headers = terraform.data[("aws_cloudfront_response_headers_policy", "security_headers")]
    assert headers == {"name": "Managed-SecurityHeadersPolicy"}


def test_every_path_outside_avatars_is_answered_404_at_the_edge(terraform):
    ordered, default = _behaviours(terraform)
    assert "function_association" not in ordered
    assert default["function_association"] == [
        {"event_type": "viewer-request", "function_arn": "${aws_cloudfront_function.not_found.arn}"}
    ]
    function = terraform.resource("aws_cloudfront_function", "not_found")
    assert function["publish"] is True
    assert function["runtime"] == "cloudfront-js-2.0"
    assert function["code"] == '${file("${path.module}/cloudfront/not-found.js")}'
    code = (INFRA / "cloudfront" / "not-found.js").read_text()
    assert "function handler(event)" in code
    assert re.search(r"return \{ statusCode: 404\b", code)
    # It answers itself: it never passes the request on to the origin.
    assert "event.request" not in code.split("function handler", 1)[1]


def test_the_distribution_uses_the_price_class_variable_and_the_default_certificate(terraform):
    distribution = terraform.resource("aws_cloudfront_distribution", "avatars")
    assert distribution["enabled"] is True
    assert distribution["price_class"] == "${var.cdn_price_class}"
    variable = terraform.variables["cdn_price_class"]
    assert variable["default"] == "PriceClass_100"
    assert "PriceClass_All" in variable["validation"][0]["condition"]
    (certificate,) = distribution["viewer_certificate"]
    # With the *.cloudfront.net certificate the API accepts no other minimum.
    assert certificate == {
        "cloudfront_default_certificate": True,
        "minimum_protocol_version": "TLSv1",
    }
    assert "aliases" not in distribution


# Alarms


ALARMS = ("api_5xx", "finalize_aws_errors", "sweep_failures", "sweeper_errors")
OFF_BY_DEFAULT = "${var.alarms_enabled ? 1 : 0}"


def test_the_alarms_are_off_by_default_and_nothing_of_them_exists_then(terraform):
    variable = terraform.variables["alarms_enabled"]
    assert variable["type"] == "bool" and variable["default"] is False
    for name in ALARMS:
        alarm = terraform.resource("aws_cloudwatch_metric_alarm", name)
        assert alarm["count"] == OFF_BY_DEFAULT
        # The names the key policy lets CloudWatch publish for.
        assert alarm["alarm_name"].startswith("${local.alarm_prefix}-")
    assert set(terraform.of_kind("aws_cloudwatch_metric_alarm")) == set(ALARMS)
    assert terraform.resource("aws_sns_topic", "alarms")["count"] == OFF_BY_DEFAULT
    assert terraform.resource("aws_kms_key", "alarms")["count"] == OFF_BY_DEFAULT
    subscription = terraform.resource("aws_sns_topic_subscription", "alarm_email")
    assert subscription["count"] == '${var.alarms_enabled && var.alarm_email != "" ? 1 : 0}'
    assert subscription["protocol"] == "email"
    assert subscription["endpoint"] == "${var.alarm_email}"
    assert terraform.variables["alarm_email"]["default"] == ""
    # Every resource that only the alarms need is counted by the same switch.
    for (kind, name), body in terraform.resources.items():
        if "alarm" in name:
            assert "alarms_enabled" in body.get("count", ""), f"{kind}.{name}"


def test_the_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(terraform):
    topic = terraform.resource("aws_sns_topic", "alarms")
    assert topic["kms_master_key_id"] == "${aws_kms_key.alarms[0].arn}"
    key = terraform.resource("aws_kms_key", "alarms")
    assert key["enable_key_rotation"] is True
    policy = key["policy"]
    assert policy.startswith("${jsonencode(")
    assert 'Principal = {Service = "cloudwatch.amazonaws.com"}' in policy
    assert 'Action = ["kms:Decrypt", "kms:GenerateDataKey*"]' in policy
    assert '"aws:SourceAccount"' in policy and '"aws:SourceArn"' in policy
    assert ":alarm:${local.alarm_prefix}-*" in policy
    assert 'Principal = "*"' not in policy


def _alarm(terraform, name):
    alarm = terraform.resource("aws_cloudwatch_metric_alarm", name)
    assert alarm["alarm_actions"] == ["${aws_sns_topic.alarms[0].arn}"]
    assert alarm["statistic"] == "Sum"
    assert alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["threshold"] == 1
    assert alarm["treat_missing_data"] == "notBreaching"
    namespace = alarm["namespace"].replace("${local.app_metric_namespace}", "Avatars")
    dimensions = {
        key: value.replace("${local.chalice_app_name}", "avatars")
        .replace("${local.api_gateway_stage}", "api")
        .replace("${local.chalice_functions.sweep_orphaned_avatars}", "avatars-dev-" + SWEEPER)
        for key, value in alarm.get("dimensions", {}).items()
    }
    return namespace, alarm["metric_name"], dimensions


def test_each_alarm_watches_exactly_its_metric_and_dimensions(terraform):
    assert terraform.locals["app_metric_namespace"] == "Avatars"
    assert {name: _alarm(terraform, name) for name in ALARMS} == {
        # API Gateway's own metric for the REST API Chalice names after the app.
        "api_5xx": ("AWS/ApiGateway", "5XXError", {"ApiName": "avatars", "Stage": "api"}),
        # The app's embedded metrics (namespace Avatars).
        "finalize_aws_errors": ("Avatars", "FinalizeOutcome", {"Outcome": "aws_error"}),
        "sweep_failures": ("Avatars", "SweepFailures", {}),
        "sweeper_errors": (
            "AWS/Lambda",
            "Errors",
            {"FunctionName": lambda_function_name("avatars", SWEEPER)},
        ),
    }


def test_the_alarmed_metrics_are_the_ones_the_app_emits():
    metrics = pytest.importorskip("chalicelib.metrics")
    assert (
        metrics.NAMESPACE,
        metrics.FINALIZE_OUTCOME,
        metrics.AWS_ERROR,
        metrics.SWEEP_FAILURES,
    ) == ("Avatars", "FinalizeOutcome", "aws_error", "SweepFailures")


# Variables


def test_every_new_variable_is_typed_and_validated_where_values_are_limited(terraform):
    expected = {
        "allowed_cors_origins": "${list(string)}",
        "debug_routes": "bool",
        "log_retention_days": "number",
        "cdn_price_class": "string",
        "alarms_enabled": "bool",
        "alarm_email": "string",
    }
    assert {name: terraform.variables[name]["type"] for name in expected} == expected
    for name in ("allowed_cors_origins", "log_retention_days", "cdn_price_class", "alarm_email"):
        assert terraform.variables[name].get("validation"), name


@pytest.mark.parametrize(
    "address, valid", [("ops@example.com", True), ("not an address", False), ("a@b", False)]
)
def test_the_alarm_email_must_look_like_an_address(terraform, address, valid):
    pattern = re.compile(_validation_pattern(terraform.variables["alarm_email"]))
    assert bool(pattern.search(address)) is valid
