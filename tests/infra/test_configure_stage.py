"""devtools/configure_stage.py: `terraform output -json` into the `dev` stage."""

import io
import json
import shutil
from pathlib import Path

import pytest

from devtools import configure_stage
from devtools.configure_stage import (
    REQUIRED_OUTPUTS,
    ConfigureError,
    check_deploy_region,
    configure,
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
}


@pytest.fixture
def chalice_dir(tmp_path):
    shutil.copy(ROOT / ".chalice" / "config.json", tmp_path / "config.json")
    return tmp_path


def test_the_outputs_fill_the_dev_stage_and_leave_local_alone(chalice_dir):
    before = json.loads((chalice_dir / "config.json").read_text())

    configure(
        read_outputs(SAMPLE_OUTPUT_JSON),
        config_file=chalice_dir / "config.json",
        policy_file=chalice_dir / "policy-dev.json",
    )

    after = json.loads((chalice_dir / "config.json").read_text())
    dev = after["stages"]["dev"]
    assert dev["environment_variables"] == {
        "AVATAR_BUCKET": "avatars-1a2b3c4d",
        "USERS_TABLE": "avatars-users-1a2b3c4d",
        "SESSION_SECRET_PARAMETER": "/avatars-1a2b3c4d/session-secret",
        "MAX_UPLOAD_BYTES": "10485760",
        "SECURE_COOKIES": "true",
    }
    assert dev["autogen_policy"] is False
    assert dev["iam_policy_file"] == "policy-dev.json"
    assert dev["api_gateway_stage"] == "api"
    assert after["stages"]["local"] == before["stages"]["local"]
    assert after["environment_variables"] == before["environment_variables"]
    policy = json.loads((chalice_dir / "policy-dev.json").read_text())
    resources = [r for statement in policy["Statement"] for r in statement["Resource"]]
    assert "arn:aws:s3:::avatars-1a2b3c4d/pending/*" in resources
    assert SAMPLE_OUTPUT_JSON["table_arn"]["value"] in resources


def test_running_it_twice_gives_the_same_files(chalice_dir):
    paths = dict(config_file=chalice_dir / "config.json", policy_file=chalice_dir / "p.json")
    configure(read_outputs(SAMPLE_OUTPUT_JSON), **paths)
    first = [path.read_text() for path in paths.values()]
    configure(read_outputs(SAMPLE_OUTPUT_JSON), **paths)
    assert [path.read_text() for path in paths.values()] == first


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
    monkeypatch.setattr(configure_stage, "POLICY_FILE", chalice_dir / "policy-dev.json")
    before = (chalice_dir / "config.json").read_text()
    for given in ("not json", json.dumps({"region": SAMPLE_OUTPUT_JSON["region"]})):
        monkeypatch.setattr("sys.stdin", io.StringIO(given))
        assert configure_stage.main([]) == 2
        assert "configure_stage:" in capsys.readouterr().err
    assert (chalice_dir / "config.json").read_text() == before
    assert not (chalice_dir / "policy-dev.json").exists()


def test_the_command_configures_the_stage_from_standard_input(monkeypatch, chalice_dir, capsys):
    monkeypatch.setattr(configure_stage, "CONFIG_FILE", chalice_dir / "config.json")
    monkeypatch.setattr(configure_stage, "POLICY_FILE", chalice_dir / "policy-dev.json")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(SAMPLE_OUTPUT_JSON)))

    assert configure_stage.main([]) == 0

    assert "chalice deploy --stage dev" in capsys.readouterr().out
    config = json.loads((chalice_dir / "config.json").read_text())
    assert config["stages"]["dev"]["environment_variables"]["AVATAR_BUCKET"] == "avatars-1a2b3c4d"


def test_the_committed_policy_has_the_statements_the_command_writes():
    committed = json.loads((ROOT / ".chalice" / "policy-dev.json").read_text())
    rendered = configure_stage.render_policy(read_outputs(SAMPLE_OUTPUT_JSON))

    def shape(policy):
        return [
            (s["Sid"], s["Effect"], s["Action"], len(s["Resource"])) for s in policy["Statement"]
        ]

    assert shape(committed) == shape(rendered)


def test_the_committed_config_points_the_dev_stage_at_the_policy_file():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    dev = config["stages"]["dev"]
    assert dev["autogen_policy"] is False
    assert (ROOT / ".chalice" / dev["iam_policy_file"]).exists()
