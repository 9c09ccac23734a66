"""`chalice package` of the configured dev stage: what `chalice deploy` would upload.

Chalice builds the zip as deploy does (it downloads the Lambda runtime's wheels
from PyPI for `requirements.txt`), so this shows what no emulator can: that the
imaging library reaches the Lambda built for its runtime, that the function
settings are the ones README gives, and that each function gets a role of its
own with its own policy. It needs PyPI, as deploy does.
"""

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from devtools.configure_stage import (
    FUNCTIONS,
    configure,
    lambda_function_name,
    policy_file_name,
    read_outputs,
)
from tests.infra.test_configure_stage import SAMPLE_OUTPUT_JSON

ROOT = Path(__file__).resolve().parents[2]
# The Lambda runtime python3.11 runs on Amazon Linux 2, whose glibc is 2.26:
# a wheel that needs a newer one does not load there.
LAMBDA_GLIBC = (2, 26)
# Lambda's limits for a zip uploaded directly, and for its unzipped contents.
MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    project = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "app.py", project)
    shutil.copy(ROOT / "requirements.txt", project)
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib")
    (project / ".chalice").mkdir()
    shutil.copy(ROOT / ".chalice" / "config.json", project / ".chalice")
    # Writes the functions' policy files beside the config, where Chalice reads them.
    configure(read_outputs(SAMPLE_OUTPUT_JSON), config_file=project / ".chalice" / "config.json")
    out = project / "out"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "chalice"),
            "package",
            "--stage",
            "dev",
            "--pkg-format",
            "terraform",
            str(out),
        ],
        cwd=project,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "eu-west-1", "HOME": str(project)},
        timeout=600,
    )
    return out


def _wheel_tags(archive, distribution):
    wheel = next(
        name
        for name in archive.namelist()
        if name.lower().startswith(distribution) and name.endswith(".dist-info/WHEEL")
    )
    return [
        line.split(":", 1)[1].strip()
        for line in archive.read(wheel).decode().splitlines()
        if line.startswith("Tag:")
    ]


def test_the_zip_carries_pillow_built_for_the_lambda_runtime(package):
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        names = set(archive.namelist())
        tags = _wheel_tags(archive, "pillow")
    for module in ("_imaging", "_webp", "_imagingcms"):
        assert f"PIL/{module}.cpython-311-x86_64-linux-gnu.so" in names
    glibc = [
        tuple(int(part) for part in tag.split("_")[1:3]) for tag in tags if "manylinux_" in tag
    ]
    assert glibc and min(glibc) <= LAMBDA_GLIBC, tags


def test_the_zip_is_within_lambdas_size_limits(package):
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        unzipped = sum(entry.file_size for entry in archive.infolist())
    assert (package / "deployment.zip").stat().st_size < MAX_ZIP_BYTES
    assert unzipped < MAX_UNZIPPED_BYTES


def _run_with_only_the_zip(package, directory, script):
    """`script`'s output, run on the zip's contents alone; sys.argv[1] is where they are."""
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        archive.extractall(directory)
    # -S: no site-packages, so only the zip's own copies of libraries can be found.
    answer = subprocess.run(
        [sys.executable, "-S", "-c", script, str(directory)],
        cwd=directory,
        env={"PYTHONPATH": str(directory), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stderr
    return answer.stdout.split()


def test_the_packaged_code_makes_an_avatar_with_only_what_the_zip_holds(package, tmp_path):
    script = (
        "import io, sys\n"
        "import PIL\n"
        "assert PIL.__file__.startswith(sys.argv[1]), PIL.__file__\n"
        "from PIL import Image\n"
        "from chalicelib.images import AvatarRules, make_avatar\n"
        "buffer = io.BytesIO()\n"
        "Image.new('RGB', (1200, 900), (10, 120, 200)).save(buffer, 'JPEG')\n"
        "avatar = make_avatar(buffer.getvalue(), AvatarRules())\n"
        "print(avatar.content_type, avatar.width, avatar.height)\n"
    )
    assert _run_with_only_the_zip(package, tmp_path, script) == ["image/webp", "512", "384"]


def test_the_packaged_code_serves_its_description_with_only_what_the_zip_holds(package, tmp_path):
    script = (
        "import sys, yaml\n"
        "assert yaml.__file__.startswith(sys.argv[1]), yaml.__file__\n"
        "from chalicelib.api_description import api_description\n"
        "print(api_description()['openapi'], yaml.__with_libyaml__)\n"
    )
    assert _run_with_only_the_zip(package, tmp_path, script) == ["3.1.0", "True"]


def test_api_gateway_gets_every_method_on_every_resource_and_a_catch_all(package):
    # API Gateway answers a method or path it has no resource for with its own
    # 403; chalicelib/routing.py gives each one to the app instead.
    document = json.loads((package / "chalice.tf.json").read_text())
    (rest_api,) = document["resource"]["aws_api_gateway_rest_api"].values()
    assert rest_api["body"] == "${local.chalice_api_swagger}"
    swagger = json.loads(document["locals"]["chalice_api_swagger"])
    methods = {"delete", "get", "head", "options", "patch", "post", "put"}
    assert "/{proxy+}" in swagger["paths"]
    for path, item in swagger["paths"].items():
        assert set(item) >= methods, path
        for method in methods:
            integration = item[method]["x-amazon-apigateway-integration"]
            assert integration["type"] == "aws_proxy", (path, method)
    # Every parent of a route is a resource of its own, with its answers too.
    for path in list(swagger["paths"]):
        parts = path.strip("/").split("/")
        for end in range(1, len(parts)):
            assert "/" + "/".join(parts[:end]) in swagger["paths"], path


def test_the_api_function_gets_the_memory_and_timeout_readme_gives(package):
    document = json.loads((package / "chalice.tf.json").read_text())
    functions = document["resource"]["aws_lambda_function"]
    settings = {
        name: (function["memory_size"], function["timeout"], function["runtime"])
        for name, function in functions.items()
    }
    assert settings["api_handler"] == (1024, 15, "python3.11")
    # The event logger and the sweeper do no image work: Chalice's defaults.
    assert settings["log_pending_upload"][0] == 128
    assert settings["sweep_orphaned_avatars"][0] == 128


def test_each_function_has_a_role_of_its_own_with_its_own_policy_file(package):
    resources = json.loads((package / "chalice.tf.json").read_text())["resource"]
    functions = resources["aws_lambda_function"]
    assert sorted(functions) == sorted(FUNCTIONS)
    roles = {
        name: re.fullmatch(r"\$\{aws_iam_role\.(\w+)\.arn\}", function["role"]).group(1)
        for name, function in functions.items()
    }
    assert sorted(roles.values()) == sorted(resources["aws_iam_role"])  # one each, no other
    for name, role in roles.items():
        # The log group the policy names is the function's: /aws/lambda/<function_name>.
        assert functions[name]["function_name"] == lambda_function_name("avatars", name)
        (policy,) = [
            policy["policy"]
            for policy in resources["aws_iam_role_policy"].values()
            if policy["role"] == f"${{aws_iam_role.{role}.id}}"
        ]
        given = package.parent / ".chalice" / policy_file_name(name)
        assert json.loads(policy) == json.loads(given.read_text()), name
