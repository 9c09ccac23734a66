"""devtools/configure_stage.py: `terraform output -json` into the `dev` stage."""

import io
import json
import shutil
from pathlib import Path

import pytest
from chalice.config import Config

from devtools import configure_stage
from devtools.configure_stage import (
    FUNCTIONS,
    REQUIRED_OUTPUTS,
    ConfigureError,
    check_deploy_region,
    configure,
    policy_file_name,
    read_outputs,
)

ROOT = Path(__file__).resolve().parents[2]

# What `terraform -chdir=infra output -json` prints after an apply.
SAMPLE_OUTPUT_JSON = {
    "region": {"sensitive": False, "type": "string", "value": "eu-west-1"},
    "bucket_name": {"sensitive": False, "type": "string", "value": "avatars-1a2b3c4d"},
    "table_name": {"sensitive": False, "type": "string", "value": "avatars-users-1a2b3c4d"},
    "table_arn": {
        "sensitive": False,
        "type": "string",
        "value": "arn:aws:dynamodb:eu-west-1:123456789012:table/avatars-users-1a2b3c4d",
    },
    "session_secret_parameter": {
        "sensitive": False,
        "type": "string",
        "value": "/avatars-1a2b3c4d/session-secret",
    },
    "session_secret_parameter_arn": {
        "sensitive": False,
        "type": "string",
        "value": "arn:aws:ssm:eu-west-1:123456789012:parameter/avatars-1a2b3c4d/session-secret",
    },
    "max_upload_bytes": {"sensitive": False, "type": "number", "value": 10485760},
    "avatar_base_url": {
        "sensitive": False,
        "type": "string",
        "value": "https://d111111abcdef8.cloudfront.net/",
    },
    "avatar_domain_name": {
        "sensitive": False,
        "type": "string",
        "value": "d111111abcdef8.cloudfront.net",
    },
    "debug_routes": {"sensitive": False, "type": "bool", "value": False},
    "log_retention_days": {"sensitive": False, "type": "number", "value": 30},
    "default_tags": {
        "sensitive": False,
        "type": ["object", {"Project": "string"}],
        "value": {"Project": "avatars"},
    },
}


@pytest.fixture
def chalice_dir(tmp_path):
    shutil.copy(ROOT / ".chalice" / "config.json", tmp_path / "config.json")
    return tmp_path


def _policies(directory):
    return {
        function: json.loads((directory / policy_file_name(function)).read_text())
        for function in FUNCTIONS
    }


def _resolved_policy_files(config):
    """The policy file Chalice gives each function's role, resolved as Chalice does."""
    stage = Config(chalice_stage="dev", config_from_disk=config)
    return {function: stage.scope("dev", function).iam_policy_file for function in FUNCTIONS}


def test_the_outputs_fill_the_dev_stage_and_leave_local_alone(chalice_dir):
    before = json.loads((chalice_dir / "config.json").read_text())

    configure(read_outputs(SAMPLE_OUTPUT_JSON), config_file=chalice_dir / "config.json")

    after = json.loads((chalice_dir / "config.json").read_text())
    dev = after["stages"]["dev"]
    assert dev["environment_variables"] == {
        "AVATAR_BUCKET": "avatars-1a2b3c4d",
        "USERS_TABLE": "avatars-users-1a2b3c4d",
        "SESSION_SECRET_PARAMETER": "/avatars-1a2b3c4d/session-secret",
        "MAX_UPLOAD_BYTES": "10485760",
        "AVATAR_BASE_URL": "https://d111111abcdef8.cloudfront.net/",
        "DEBUG_ROUTES": "false",
        "SECURE_COOKIES": "true",
    }
    assert dev["tags"] == {"Project": "avatars"}
    assert dev["autogen_policy"] is False
    assert dev["api_gateway_stage"] == "api"
    assert after["stages"]["local"] == before["stages"]["local"]
    assert after["environment_variables"] == before["environment_variables"]
    assert after["lambda_functions"] == before["lambda_functions"]
    api = _policies(chalice_dir)["api_handler"]
    resources = [r for statement in api["Statement"] for r in statement["Resource"]]
    assert "arn:aws:s3:::avatars-1a2b3c4d/pending/*" in resources
    assert SAMPLE_OUTPUT_JSON["table_arn"]["value"] in resources


def test_each_function_gets_its_own_policy_file_and_none_falls_back_to_the_stages(
    chalice_dir,
):
    configure(read_outputs(SAMPLE_OUTPUT_JSON), config_file=chalice_dir / "config.json")

    config = json.loads((chalice_dir / "config.json").read_text())
    assert "iam_policy_file" not in config["stages"]["dev"]
    assert _resolved_policy_files(config) == {
        "api_handler": "policy-dev-api_handler.json",
        "log_pending_upload": "policy-dev-log_pending_upload.json",
        "sweep_orphaned_avatars": "policy-dev-sweep_orphaned_avatars.json",
    }
    assert sorted(path.name for path in chalice_dir.iterdir()) == sorted(
        ["config.json", *(policy_file_name(function) for function in FUNCTIONS)]
    )


def test_each_policy_grants_only_what_its_handler_needs(chalice_dir):
    configure(read_outputs(SAMPLE_OUTPUT_JSON), config_file=chalice_dir / "config.json")

    grants = {
        function: sorted(
            (action, resource)
            for statement in policy["Statement"]
            for action in statement["Action"]
            for resource in statement["Resource"]
            if not action.startswith("logs:")
        )
        for function, policy in _policies(chalice_dir).items()
    }
    bucket = "arn:aws:s3:::avatars-1a2b3c4d"
    table = SAMPLE_OUTPUT_JSON["table_arn"]["value"]
    assert grants["log_pending_upload"] == []
    assert grants["sweep_orphaned_avatars"] == [
        ("dynamodb:Scan", table),
        ("s3:DeleteObject", f"{bucket}/avatars/*"),
        ("s3:ListBucket", bucket),
    ]
    (listing,) = [
        statement
        for statement in _policies(chalice_dir)["sweep_orphaned_avatars"]["Statement"]
        if "s3:ListBucket" in statement["Action"]
    ]
    assert listing["Condition"] == {"StringEquals": {"s3:prefix": ["avatars/"]}}
    assert ("ssm:GetParameter", SAMPLE_OUTPUT_JSON["session_secret_parameter_arn"]["value"]) in (
        grants["api_handler"]
    )


def test_each_function_writes_its_own_log_group_in_terraforms_region_and_account(chalice_dir):
    configure(read_outputs(SAMPLE_OUTPUT_JSON), config_file=chalice_dir / "config.json")

    logs = {
        function: [
            (statement["Action"], statement["Resource"])
            for statement in policy["Statement"]
            if any(action.startswith("logs:") for action in statement["Action"])
        ]
        for function, policy in _policies(chalice_dir).items()
    }
    groups = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/"
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs == {
        "api_handler": [(actions, [f"{groups}avatars-dev:*"])],
        "log_pending_upload": [(actions, [f"{groups}avatars-dev-log_pending_upload:*"])],
        "sweep_orphaned_avatars": [(actions, [f"{groups}avatars-dev-sweep_orphaned_avatars:*"])],
    }


def test_a_table_arn_that_names_no_account_is_refused_and_nothing_is_written(chalice_dir):
    document = json.loads(json.dumps(SAMPLE_OUTPUT_JSON))
    document["table_arn"]["value"] = "avatars-users-1a2b3c4d"
    before = (chalice_dir / "config.json").read_text()

    with pytest.raises(ConfigureError, match="table_arn"):
        configure(read_outputs(document), config_file=chalice_dir / "config.json")

    assert (chalice_dir / "config.json").read_text() == before
    assert [path.name for path in chalice_dir.iterdir()] == ["config.json"]


def test_running_it_twice_gives_the_same_files(chalice_dir):
    configure(read_outputs(SAMPLE_OUTPUT_JSON), config_file=chalice_dir / "config.json")
    first = {path.name: path.read_text() for path in chalice_dir.iterdir()}
    configure(read_outputs(SAMPLE_OUTPUT_JSON), config_file=chalice_dir / "config.json")
    assert {path.name: path.read_text() for path in chalice_dir.iterdir()} == first


def _document(**values):
    """SAMPLE_OUTPUT_JSON with some outputs' values replaced."""
    document = json.loads(json.dumps(SAMPLE_OUTPUT_JSON))
    for name, value in values.items():
        document[name]["value"] = value
    return document


def _resolved(config, function):
    """.chalice/config.json as Chalice resolves it for one function of the dev stage."""
    return Config(chalice_stage="dev", function_name=function, config_from_disk=config)


@pytest.mark.parametrize("debug_routes, variable", [(False, "false"), (True, "true")])
def test_debug_routes_become_the_stages_DEBUG_ROUTES_true_or_false(
    chalice_dir, debug_routes, variable
):
    configure(read_outputs(_document(debug_routes=debug_routes)), chalice_dir / "config.json")

    config = json.loads((chalice_dir / "config.json").read_text())
    for function in FUNCTIONS:
        assert _resolved(config, function).environment_variables["DEBUG_ROUTES"] == variable


def test_every_function_gets_the_avatar_base_url_terraform_outputs(chalice_dir):
    configure(read_outputs(SAMPLE_OUTPUT_JSON), chalice_dir / "config.json")

    config = json.loads((chalice_dir / "config.json").read_text())
    for function in FUNCTIONS:
        environment = _resolved(config, function).environment_variables
        assert environment["AVATAR_BASE_URL"] == "https://d111111abcdef8.cloudfront.net/"


def test_chalice_makes_no_log_group_terraform_makes_them_all(chalice_dir):
    # Chalice 1.34's log_retention_in_days names the API's group wrongly and
    # `chalice package` refuses it (infra/monitoring.tf says more).
    configure(read_outputs(SAMPLE_OUTPUT_JSON), chalice_dir / "config.json")

    config = json.loads((chalice_dir / "config.json").read_text())
    for function in FUNCTIONS:
        assert not _resolved(config, function).log_retention_in_days, function
    assert "log_retention_in_days" not in json.dumps(config)


def test_chalice_tags_every_function_with_terraforms_default_tags(chalice_dir):
    tags = {"Project": "avatars", "Owner": "platform"}
    configure(read_outputs(_document(default_tags=tags)), chalice_dir / "config.json")

    config = json.loads((chalice_dir / "config.json").read_text())
    assert config["stages"]["dev"]["tags"] == tags
    for function in FUNCTIONS:
        resolved = _resolved(config, function).tags
        # Chalice adds its own aws-chalice tag to what the stage gives.
        assert {key: value for key, value in resolved.items() if key != "aws-chalice"} == tags
        assert resolved["aws-chalice"].endswith(":stage=dev:app=avatars")


@pytest.mark.parametrize(
    "output, value, message",
    [
        ("avatar_base_url", "http://d111111abcdef8.cloudfront.net/", "not an https URL"),
        ("avatar_base_url", "https://d111111abcdef8.cloudfront.net", "ending in '/'"),
        ("debug_routes", "false", "not true or false"),
        ("default_tags", ["Project"], "not a map of strings"),
        ("default_tags", {"Project": 1}, "not a map of strings"),
    ],
)
def test_a_value_the_stage_cannot_use_is_refused_by_name(output, value, message):
    with pytest.raises(ConfigureError, match=f"{output} .*{message}"):
        read_outputs(_document(**{output: value}))


@pytest.mark.parametrize("missing", REQUIRED_OUTPUTS)
def test_a_missing_output_is_refused_by_name(missing):
    document = {name: value for name, value in SAMPLE_OUTPUT_JSON.items() if name != missing}
    with pytest.raises(ConfigureError, match=f"missing: {missing}"):
        read_outputs(document)


def test_an_empty_document_names_every_output_and_says_to_apply_first():
    with pytest.raises(ConfigureError) as refused:
        read_outputs({})
    message = str(refused.value)
    assert all(name in message for name in REQUIRED_OUTPUTS)
    assert "terraform -chdir=infra apply" in message


def test_a_deploy_region_other_than_terraforms_is_refused():
    outputs = read_outputs(SAMPLE_OUTPUT_JSON)
    check_deploy_region(outputs, "eu-west-1")
    with pytest.raises(ConfigureError, match="AWS_DEFAULT_REGION=eu-west-1"):
        check_deploy_region(outputs, "us-east-1")
    with pytest.raises(ConfigureError, match="no region"):
        check_deploy_region(outputs, None)


def test_the_command_refuses_non_json_and_missing_outputs_with_exit_2_and_writes_nothing(
    monkeypatch, chalice_dir, capsys
):
    monkeypatch.setattr(configure_stage, "CONFIG_FILE", chalice_dir / "config.json")
    before = (chalice_dir / "config.json").read_text()
    for given in ("not json", json.dumps({"region": SAMPLE_OUTPUT_JSON["region"]})):
        monkeypatch.setattr("sys.stdin", io.StringIO(given))
        assert configure_stage.main([]) == 2
        assert "configure_stage:" in capsys.readouterr().err
    assert (chalice_dir / "config.json").read_text() == before
    assert [path.name for path in chalice_dir.iterdir()] == ["config.json"]


def test_the_command_configures_the_stage_from_standard_input(monkeypatch, chalice_dir, capsys):
    monkeypatch.setattr(configure_stage, "CONFIG_FILE", chalice_dir / "config.json")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(SAMPLE_OUTPUT_JSON)))

    assert configure_stage.main([]) == 0

    printed = capsys.readouterr().out
    assert "chalice deploy --stage dev" in printed
    assert "serves avatars from https://d111111abcdef8.cloudfront.net/" in printed
    assert "debug routes off, tags {'Project': 'avatars'}" in printed
    config = json.loads((chalice_dir / "config.json").read_text())
    assert config["stages"]["dev"]["environment_variables"]["AVATAR_BUCKET"] == "avatars-1a2b3c4d"
    assert all((chalice_dir / policy_file_name(function)).exists() for function in FUNCTIONS)


def test_the_committed_policies_have_the_statements_the_command_writes():
    rendered = configure_stage.render_policies(read_outputs(SAMPLE_OUTPUT_JSON), "avatars")

    def shape(policy):
        return [
            (s["Sid"], s["Effect"], s["Action"], len(s["Resource"]), s.get("Condition"))
            for s in policy["Statement"]
        ]

    committed = _policies(ROOT / ".chalice")
    assert {function: shape(policy) for function, policy in committed.items()} == {
        function: shape(policy) for function, policy in rendered.items()
    }


def test_the_committed_config_turns_the_debug_views_on_locally_only():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert _resolved(config, "api_handler").environment_variables.get("DEBUG_ROUTES") == "false"
    local = Config(chalice_stage="local", config_from_disk=config)
    assert local.environment_variables["DEBUG_ROUTES"] == "true"


def test_the_committed_config_gives_each_function_its_own_policy_file():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    dev = config["stages"]["dev"]
    assert dev["autogen_policy"] is False
    assert "iam_policy_file" not in dev
    assert _resolved_policy_files(config) == {
        function: policy_file_name(function) for function in FUNCTIONS
    }
    assert all((ROOT / ".chalice" / policy_file_name(function)).exists() for function in FUNCTIONS)
    # Chalice's fallback for a function without a file of its own: there is
    # none, so such a function fails to deploy rather than borrow a policy.
    assert not (ROOT / ".chalice" / "policy-dev.json").exists()
