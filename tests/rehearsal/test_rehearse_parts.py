"""devtools/rehearse's pure parts: Terraform's names and outputs, what Chalice
deploys for each function, and putting .chalice/ back."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from devtools import configure_stage
from devtools.rehearse import __main__ as rehearse
from devtools.rehearse.chalice_dir import restore_chalice_dir, snapshot_chalice_dir
from devtools.rehearse.deployment import lambda_permissions
from devtools.rehearse.environment import clients_not_at, rehearsal_environ
from devtools.rehearse.errors import RehearsalError
from devtools.rehearse.rehearsal import apply_variables, aws_clients
from devtools.rehearse.stage import expected_environment, expected_function
from devtools.rehearse.terraform import (
    INFRA_DIR,
    Infra,
    bucket_hardening,
    distribution_config,
    distribution_view,
    interpolate,
    outputs_document,
    seed_uploads,
    terraform_attributes,
    terraform_names,
)
from tests.infra.test_configure_stage import SAMPLE_OUTPUT_JSON

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
EMULATOR = "http://127.0.0.1:5000"
# What the emulator made of infra/cdn.tf, as the rehearsal reads it back.
CDN = {
    "origin_access_control": "E2QWRUHEXAMPLE",
    "function_arn": "arn:aws:cloudfront::123456789012:function/avatars-1a2b3c4d-not-found",
    "id": "EDFDVBD6EXAMPLE",
    "arn": "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE",
    "domain_name": "d111111abcdef8.cloudfront.net",
}


def _attributes(infra, suffix="1a2b3c4d", region="eu-west-1", account=ACCOUNT):
    variables = infra.variables(apply_variables(region))
    names = terraform_names(infra, suffix, variables)
    return terraform_attributes(infra, names, region, account, "aws", variables, CDN)


@pytest.fixture(scope="module")
def infra():
    return Infra()


def test_the_names_are_terraforms_for_a_random_suffix(infra):
    assert terraform_names(infra, "1a2b3c4d") == {
        "bucket": "avatars-1a2b3c4d",
        "table": "avatars-users-1a2b3c4d",
        "parameter": "/avatars-1a2b3c4d/session-secret",
        "origin_access_control": "avatars-1a2b3c4d",
        "cdn_function": "avatars-1a2b3c4d-not-found",
        # Each function's, named as Chalice names the function (locals of infra/).
        "log_groups": {
            "api_handler": "/aws/lambda/avatars-dev",
            "log_pending_upload": "/aws/lambda/avatars-dev-log_pending_upload",
            "sweep_orphaned_avatars": "/aws/lambda/avatars-dev-sweep_orphaned_avatars",
        },
    }


def test_the_outputs_document_is_what_terraform_output_json_prints(infra):
    document = outputs_document(infra.outputs, _attributes(infra))

    # The sample the configure step's tests take as Terraform's own output.
    assert document == SAMPLE_OUTPUT_JSON
    # alarm_topic_arn is null with the alarms off: Terraform leaves it out.
    assert set(document) == set(infra.outputs) - {"alarm_topic_arn"}
    assert configure_stage.read_outputs(document)["region"] == "eu-west-1"


def test_an_output_that_is_null_is_left_out_as_terraform_leaves_it_out():
    declared = {"topic": {"value": "${one(aws_sns_topic.alarms[*].arn)}"}, "n": {"value": 1}}
    attributes = {"one(aws_sns_topic.alarms[*].arn)": None}
    assert outputs_document(declared, attributes) == {
        "n": {"sensitive": False, "type": "number", "value": 1}
    }


def test_a_variable_infra_requires_must_be_given_as_apply_takes_it(infra):
    with pytest.raises(RehearsalError, match="requires allowed_cors_origins"):
        infra.variables({})
    with pytest.raises(RehearsalError, match="no variable nonsense"):
        infra.variables({"nonsense": 1, **apply_variables("eu-west-1")})
    variables = infra.variables(apply_variables("us-east-1"))
    # README's first apply, before `chalice deploy` has made the REST API.
    assert variables["allowed_cors_origins"] == ["https://*.execute-api.us-east-1.amazonaws.com"]
    assert variables["region"] == "us-east-1"
    assert variables["log_retention_days"] == 30


def test_a_reference_keeps_its_type_alone_and_becomes_text_within_a_string():
    attributes = {"var.n": 30, "var.flag": False, "local.p": "avatars/"}
    assert interpolate("${var.n}", attributes) == 30
    assert interpolate("${var.flag}", attributes) is False
    assert interpolate("days: ${var.n}, ${local.p}*", attributes) == "days: 30, avatars/*"
    assert interpolate({"a": ["${local.p}"]}, attributes) == {"a": ["avatars/"]}
    with pytest.raises(RehearsalError, match="var.missing is not rehearsed"):
        interpolate("${var.missing}", attributes)


def test_the_outputs_follow_the_region_and_account(infra):
    document = outputs_document(
        infra.outputs, _attributes(infra, "00ff00ff", "us-east-1", "000000000042")
    )
    assert document["region"]["value"] == "us-east-1"
    assert document["table_arn"]["value"] == (
        "arn:aws:dynamodb:us-east-1:000000000042:table/avatars-users-00ff00ff"
    )
    assert document["session_secret_parameter_arn"]["value"] == (
        "arn:aws:ssm:us-east-1:000000000042:parameter/avatars-00ff00ff/session-secret"
    )


def test_an_output_reading_what_the_rehearsal_does_not_create_is_refused_by_name():
    declared = {"queue_url": {"value": "${aws_sqs_queue.events.url}"}}
    with pytest.raises(RehearsalError, match="queue_url.*aws_sqs_queue.events.url"):
        outputs_document(declared, {})


def _config(**dev):
    return {
        "version": "2.0",
        "app_name": "avatars",
        "environment_variables": {"SHARED": "top", "OVERRIDDEN": "top"},
        "lambda_functions": {"api_handler": {"lambda_memory_size": 1024, "lambda_timeout": 15}},
        "stages": {
            "local": {"environment_variables": {"SESSION_SECRET": "local only"}},
            "dev": {"environment_variables": {"OVERRIDDEN": "stage"}, **dev},
        },
    }


def test_the_environment_is_the_top_levels_and_the_stages_with_the_functions_own_last():
    config = _config(
        lambda_functions={"sweep_orphaned_avatars": {"environment_variables": {"ONLY": "it"}}}
    )

    assert expected_environment(config, "api_handler") == {
        "SHARED": "top",
        "OVERRIDDEN": "stage",
    }
    assert expected_environment(config, "sweep_orphaned_avatars") == {
        "SHARED": "top",
        "OVERRIDDEN": "stage",
        "ONLY": "it",
    }


def test_the_configured_dev_stage_gives_no_function_an_endpoint_or_a_secret(tmp_path):
    shutil.copy(ROOT / ".chalice" / "config.json", tmp_path / "config.json")
    configure_stage.configure(
        configure_stage.read_outputs(SAMPLE_OUTPUT_JSON), config_file=tmp_path / "config.json"
    )
    config = json.loads((tmp_path / "config.json").read_text())

    for function in ("api_handler", "log_pending_upload", "sweep_orphaned_avatars"):
        environment = expected_environment(config, function)
        assert not [name for name in environment if name.startswith("AWS_ENDPOINT_URL")]
        assert "SESSION_SECRET" not in environment
        assert environment["SESSION_SECRET_PARAMETER"] == "/avatars-1a2b3c4d/session-secret"
        assert environment["AVATAR_BUCKET"] == "avatars-1a2b3c4d"


def test_memory_timeout_and_policy_file_resolve_as_chalice_resolves_them():
    config = _config(
        iam_policy_file="policy-dev.json",
        lambda_functions={"log_pending_upload": {"iam_policy_file": "policy-dev-logger.json"}},
    )

    api = expected_function(config, "api_handler")
    logger = expected_function(config, "log_pending_upload")
    assert (api["memory"], api["timeout"], api["policy_file"]) == (1024, 15, "policy-dev.json")
    # Chalice's defaults where nothing is set; the function's own file first.
    assert (logger["memory"], logger["timeout"]) == (128, 60)
    assert logger["policy_file"] == "policy-dev-logger.json"
    assert api["runtime"].startswith("python3.")
    # Without any file named, Chalice reads policy-<stage>.json.
    assert expected_function(_config(), "api_handler")["policy_file"] == "policy-dev.json"


def test_a_functions_permissions_are_read_whatever_the_condition_operator():
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Condition": {
                    "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::b"},
                    "StringEquals": {"AWS:SourceAccount": ACCOUNT},
                },
            },
            {"Effect": "Deny", "Action": "lambda:InvokeFunction", "Principal": "*"},
        ]
    }
    deny = policy["Statement"][1]
    assert lambda_permissions(json.dumps(policy)) == [
        ("s3.amazonaws.com", {"aws:sourcearn": "arn:aws:s3:::b", "aws:sourceaccount": ACCOUNT}),
        # Any other statement is kept whole, so that an exact comparison sees it.
        (json.dumps(deny, sort_keys=True), {}),
    ]


def test_putting_chalice_back_restores_and_removes_what_the_run_wrote_and_nothing_else(tmp_path):
    (tmp_path / "config.json").write_text("original")
    (tmp_path / "policy-dev.json").write_text("original policy")
    (tmp_path / "theirs.json").write_text("theirs")
    before = snapshot_chalice_dir(tmp_path)
    # The run: the configure step writes, Chalice deploys.
    (tmp_path / "config.json").write_text("configured")
    (tmp_path / "policy-dev-api_handler.json").write_text("new policy")
    (tmp_path / "policy-dev.json").unlink()
    written = snapshot_chalice_dir(tmp_path)
    (tmp_path / "deployed").mkdir()
    (tmp_path / "deployed" / "dev.json").write_text("{}")
    (tmp_path / "deployments").mkdir()
    (tmp_path / "deployments" / "abc-python3.11.zip").write_bytes(b"zip")
    # Meanwhile another editor of the checkout changes and adds a file.
    (tmp_path / "theirs.json").write_text("theirs, edited")
    (tmp_path / "policy-dev-other.json").write_text("theirs, new")

    restored, removed, left = restore_chalice_dir(before, written, tmp_path)

    assert restored == ["config.json", "policy-dev.json"]
    assert removed == [
        "deployed/dev.json",
        "deployments/abc-python3.11.zip",
        "policy-dev-api_handler.json",
    ]
    assert left == ["policy-dev-other.json", "theirs.json"]
    assert (tmp_path / "config.json").read_text() == "original"
    assert (tmp_path / "policy-dev.json").read_text() == "original policy"
    assert (tmp_path / "theirs.json").read_text() == "theirs, edited"
    assert not (tmp_path / "deployed").exists() and not (tmp_path / "deployments").exists()


def test_a_package_cache_that_was_there_before_stays(tmp_path):
    (tmp_path / "deployments").mkdir()
    (tmp_path / "deployments" / "old-python3.11.zip").write_bytes(b"cached")
    before = snapshot_chalice_dir(tmp_path)
    (tmp_path / "deployments" / "new-python3.11.zip").write_bytes(b"new")

    _, removed, _ = restore_chalice_dir(before, {}, tmp_path)

    assert removed == ["deployments/new-python3.11.zip"]
    assert (tmp_path / "deployments" / "old-python3.11.zip").read_bytes() == b"cached"


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"REHEARSE_KEEP": "1"}, "REHEARSE_KEEP=1 needs an emulator"),
        ({"AWS_ENDPOINT_URL": "https://lambda.eu-west-1.amazonaws.com"}, "is AWS"),
    ],
)
def test_it_refuses_to_start_without_a_lasting_emulator_to_keep_in_or_against_aws(
    monkeypatch, capsys, tmp_path, environ, message
):
    monkeypatch.setattr(rehearse, "CHALICE_DIR", tmp_path)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    assert rehearse.main() == 2
    assert message in capsys.readouterr().err


def test_it_refuses_to_start_over_a_recorded_deployment(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(rehearse, "CHALICE_DIR", tmp_path)
    (tmp_path / "deployed").mkdir()
    (tmp_path / "deployed" / "dev.json").write_text("{}")

    assert rehearse.main() == 2
    assert "deployed/dev.json exists" in capsys.readouterr().err


def _use_environ(monkeypatch, environ):
    """Make `environ` this process's AWS set-up (boto3 reads os.environ)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)


def test_the_rehearsal_and_chalice_get_none_of_the_shells_aws_setup_and_address_the_emulator(
    monkeypatch,
):
    shell = {
        "PATH": "/usr/bin",
        "AWS_PROFILE": "production",
        "AWS_ACCESS_KEY_ID": "AKIAREALKEY",
        "AWS_SECRET_ACCESS_KEY": "real secret",
        "AWS_SESSION_TOKEN": "real token",
        "AWS_ENDPOINT_URL": EMULATOR,
        "AWS_ENDPOINT_URL_S3": "https://s3.amazonaws.com",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
    }

    environ = rehearsal_environ(shell, EMULATOR, "eu-west-1")

    assert {name: value for name, value in environ.items() if name.startswith("AWS_")} == {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": EMULATOR,
    }
    assert environ["PATH"] == "/usr/bin"
    _use_environ(monkeypatch, environ)
    clients = aws_clients("eu-west-1")
    assert {client.meta.endpoint_url for client in clients.values()} == {EMULATOR}
    assert clients_not_at(clients, EMULATOR) == []


def test_a_client_that_would_address_aws_is_named_before_anything_is_created(monkeypatch):
    _use_environ(
        monkeypatch,
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_ENDPOINT_URL": EMULATOR,
            "AWS_ENDPOINT_URL_S3": "https://s3.amazonaws.com",
        },
    )

    assert clients_not_at(aws_clients("eu-west-1"), EMULATOR) == ["s3 (https://s3.amazonaws.com)"]


def test_it_refuses_to_keep_a_rehearsal_over_uncommitted_changes_to_chalice(
    monkeypatch, capsys, tmp_path
):
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text("{}")
    monkeypatch.setattr(rehearse, "CHALICE_DIR", tmp_path / ".chalice")
    monkeypatch.setenv("AWS_ENDPOINT_URL", EMULATOR)
    monkeypatch.setenv("REHEARSE_KEEP", "1")

    assert rehearse.main() == 2
    assert "commit or stash them first" in capsys.readouterr().err


def test_the_bucket_is_hardened_as_infra_storage_tf_declares(infra):
    hardening = bucket_hardening(infra, _attributes(infra, "0123abcd"))
    assert hardening["ownership"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert set(hardening["public_access_block"].values()) == {True}
    assert len(hardening["public_access_block"]) == 4
    algorithm = hardening["encryption"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    assert algorithm == {"SSEAlgorithm": "AES256"}
    # As aws_iam_policy_document writes it: a list of one becomes its item.
    assert hardening["policy"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::avatars-0123abcd", "arn:aws:s3:::avatars-0123abcd/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "CloudFrontReadsAvatars",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::avatars-0123abcd/avatars/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": CDN["arn"]}},
            },
        ],
    }


def test_the_distribution_is_made_as_infra_cdn_tf_declares_it(infra):
    config = distribution_config(infra, _attributes(infra), "avatars-1a2b3c4d")

    (origin,) = config["Origins"]["Items"]
    assert origin == {
        "Id": "avatars-bucket",
        "DomainName": "avatars-1a2b3c4d.s3.eu-west-1.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": CDN["origin_access_control"],
    }
    (avatars,) = config["CacheBehaviors"]["Items"]
    default = config["DefaultCacheBehavior"]
    assert avatars["PathPattern"] == "avatars/*"
    for behaviour in (avatars, default):
        assert behaviour["ViewerProtocolPolicy"] == "https-only"
        assert behaviour["AllowedMethods"]["Items"] == ["GET", "HEAD"]
        # The managed policies' documented IDs, for the names infra/ looks up.
        assert behaviour["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"
        assert behaviour["ResponseHeadersPolicyId"] == "67f7725c-6f97-4210-82d7-5512b31e9d03"
    assert avatars["FunctionAssociations"] == {"Quantity": 0, "Items": []}
    assert default["FunctionAssociations"] == {
        "Quantity": 1,
        "Items": [{"EventType": "viewer-request", "FunctionARN": CDN["function_arn"]}],
    }
    assert config["PriceClass"] == "PriceClass_100"
    assert config["ViewerCertificate"] == {
        "CloudFrontDefaultCertificate": True,
        "MinimumProtocolVersion": "TLSv1",
    }
    # What the emulator keeps of it, compared after it is made.
    view = distribution_view(config)
    assert view["CacheBehaviors"][0]["PathPattern"] == "avatars/*"
    assert "OriginAccessControlId" not in view["Origins"][0]


def test_the_seed_upload_is_the_provisioners_command_with_each_users_environment(infra):
    uploads = seed_uploads(infra, _attributes(infra))

    users = json.loads((INFRA_DIR / "seed" / "users.json").read_text())
    assert [username for username, _, _ in uploads] == [user["Username"] for user in users]
    username, command, environment = uploads[0]
    assert command.startswith("aws s3api put-object ")
    assert environment == {
        "REGION": "eu-west-1",
        "BUCKET": "avatars-1a2b3c4d",
        "KEY": users[0]["Avatar"],
        "BODY": f"{INFRA_DIR}/seed/{username}.png",
        "CACHE_CONTROL": "public, max-age=31536000, immutable",
        "USERNAME": username,
    }
