"""What Chalice deploys for each function of the dev stage, read from
.chalice/config.json as Chalice reads it: settings, environment and name."""

from chalice.config import Config
from chalice.constants import DEFAULT_LAMBDA_MEMORY_SIZE, DEFAULT_LAMBDA_TIMEOUT

from devtools import configure_stage

STAGE = configure_stage.STAGE
# Chalice's name for the function that serves the REST API.
API_HANDLER = "api_handler"


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
