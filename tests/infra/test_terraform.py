"""infra/ declares what the app depends on (parsed, since Terraform cannot init here)."""

import json
import shutil
import subprocess

from chalicelib.settings import AVATAR_PREFIX, PENDING_PREFIX, WEB_PREFIX
from devtools.configure_stage import REQUIRED_OUTPUTS
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
        "outputs.tf",
    } <= files


def test_terraform_and_the_providers_are_pinned_to_the_current_lines(terraform):
    (settings,) = terraform.terraform
    assert settings["required_version"] == ">= 1.5"
    (providers,) = settings["required_providers"]
    assert providers["aws"] == {"source": "hashicorp/aws", "version": "~> 5.0"}
    assert providers["random"]["source"] == "hashicorp/random"


def test_terraform_fmt_finds_nothing_to_change():
    binary = shutil.which("terraform")
    assert binary, "terraform is not on PATH: these machines ship Terraform 1.11"
    result = subprocess.run(
        [binary, "fmt", "-check", "-recursive", "-diff", str(INFRA)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_checkov_passes_with_only_the_listed_skips():
    checkov = ROOT / ".venv-checkov" / "bin" / "checkov"
    assert checkov.exists(), "make test installs checkov into .venv-checkov"
    result = subprocess.run(
        [str(checkov), "--config-file", ".checkov.yaml", "--output", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout)["summary"]
    assert summary["failed"] == 0 and summary["passed"] > 20


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
    (statement,) = terraform.data[("aws_iam_policy_document", "tls_only")]["statement"]
    assert statement["effect"] == "Deny"
    assert statement["condition"] == [
        {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}
    ]
    policy = terraform.resource("aws_s3_bucket_policy", "avatars")
    assert policy["policy"] == "${data.aws_iam_policy_document.tls_only.json}"


def test_terraform_leaves_the_bucket_notification_to_chalice(terraform):
    assert terraform.of_kind("aws_s3_bucket_notification") == {}


def test_the_table_is_keyed_by_username_on_demand_with_recovery_and_encryption(terraform):
    table = terraform.resource("aws_dynamodb_table", "users")
    assert table["hash_key"] == "Username"
    assert table["attribute"] == [{"name": "Username", "type": "S"}]
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["point_in_time_recovery"] == [{"enabled": True}]
    assert table["server_side_encryption"] == [{"enabled": True}]


def test_the_seed_users_and_their_images_are_uploaded_once(terraform):
    assert "seed/users.json" in terraform.locals["seed_users"]
    items = terraform.resource("aws_dynamodb_table_item", "seed_users")
    assert items["for_each"] == "${local.seed_users}"
    assert items["lifecycle"] == [{"ignore_changes": ["item"]}]
    avatars = terraform.resource("aws_s3_object", "seed_avatars")
    assert avatars["for_each"] == "${local.seed_users}"
    assert avatars["key"] == "${each.value.Avatar}"
    assert avatars["source"] == "${path.module}/seed/${each.key}.png"
    assert avatars["content_type"] == "image/png"
    assert avatars["metadata"] == {"username": "${each.key}"}
    assert avatars["lifecycle"] == [{"ignore_changes": "all"}]
    seeded = json.loads((INFRA / "seed" / "users.json").read_text())
    for user in seeded:
        assert (INFRA / "seed" / f"{user['Username']}.png").exists()


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


def test_every_variable_and_output_has_a_description(terraform):
    for name, variable in terraform.variables.items():
        assert variable.get("description") and variable.get("type"), name
    for name, output in terraform.outputs.items():
        assert output.get("description"), name


def test_the_upload_limit_default_matches_the_apps(terraform):
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    limit = terraform.variables["max_upload_bytes"]["default"]
    assert str(limit) == config["environment_variables"]["MAX_UPLOAD_BYTES"]
