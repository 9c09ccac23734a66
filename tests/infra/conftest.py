"""infra/ parsed with python-hcl2: what the app depends on, checked without Terraform."""

from pathlib import Path

import hcl2
import pytest

INFRA = Path(__file__).resolve().parents[2] / "infra"
_OPTIONS = hcl2.SerializationOptions(
    strip_string_quotes=True, with_comments=False, explicit_blocks=False
)


class Terraform:
    """All .tf files of infra/ merged: resources by type and name, locals, variables, outputs."""

    def __init__(self, directory: Path):
        self.files = {}
        self.resources, self.data, self.locals = {}, {}, {}
        self.variables, self.outputs, self.terraform = {}, {}, []
        for path in sorted(directory.glob("*.tf")):
            with path.open() as handle:
                parsed = hcl2.load(handle, serialization_options=_OPTIONS)
            self.files[path.name] = parsed
            for block in parsed.get("resource", []):
                for kind, named in block.items():
                    for name, body in named.items():
                        self.resources[(kind, name)] = body
            for block in parsed.get("data", []):
                for kind, named in block.items():
                    for name, body in named.items():
                        self.data[(kind, name)] = body
            for block in parsed.get("locals", []):
                self.locals.update(block)
            for block in parsed.get("variable", []):
                self.variables.update(block)
            for block in parsed.get("output", []):
                self.outputs.update(block)
            self.terraform.extend(parsed.get("terraform", []))

    def resource(self, kind, name):
        assert (kind, name) in self.resources, f"infra/ declares no {kind}.{name}"
        return self.resources[(kind, name)]

    def of_kind(self, kind):
        return {name: body for (k, name), body in self.resources.items() if k == kind}


@pytest.fixture(scope="session")
def terraform():
    return Terraform(INFRA)
