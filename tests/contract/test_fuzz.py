"""Property-based tests generated from the API's description, against the real local stack.

schemathesis' CLI runs every check it has (no 5xx, every status documented,
every body and header as its schema says, errors in the error shape since each
error response's schema is the error shape, Content-Types as documented,
negative data refused, positive data accepted, unsupported methods 405 with
Allow, protected operations refusing a request without the session) in every
phase (the description's examples, its coverage of boundaries and each
constraint broken, random fuzzing, and stateful sequences), with a fixed seed,
once signed out and once signed in, against the description the app serves
at GET /openapi.json. schemathesis checks that document against the OpenAPI
3.1 schema only when something else fails, so the first test here asks it to.

Each test prints the exact command it runs (see tests/contract/fuzzing.py to
run it alone against `make run`); FUZZ_MAX_EXAMPLES raises the budget.
"""

import pytest
import schemathesis

from tests.contract import fuzzing
from tests.stack import running_stack

pytestmark = [pytest.mark.integration, pytest.mark.fuzz]


@pytest.fixture(scope="module")
def stack():
    with running_stack() as running:
        yield running["url"]


def test_schemathesis_takes_the_served_description_as_valid_openapi_3_1(stack):
    description = schemathesis.openapi.from_url(stack + "openapi.json")
    assert description.specification.version == "3.1.0"
    description.validate()  # raises with the first violation


def _passed(run):
    print(run.statuses_text())
    print(run.output)
    assert run.returncode == 0, run.report()


def test_fuzz_signed_out(stack, tmp_path):
    run = fuzzing.fuzz(stack, signed_in=False, workdir=tmp_path)
    _passed(run)
    # Nothing protected answered 2xx without a session (ignored_auth checks
    # this too, where schemathesis knows a request carried no credentials).
    for operation in ("POST /uploads", "POST /avatar"):
        answered = run.statuses.get(operation, {})
        assert not any(isinstance(status, int) and 200 <= status < 300 for status in answered), (
            operation,
            answered,
        )


def test_fuzz_signed_in(stack, tmp_path):
    run = fuzzing.fuzz(stack, signed_in=True, workdir=tmp_path)
    _passed(run)
    # The session worked and the generated requests reached past the 401s
    # and 404s: these answers, success bodies and finalize's refusals of the
    # prepared uploads, were checked against their schemas (a run that only
    # met 401 or 404 would pass and show nothing). Finalize's 409 and 503
    # need a state no request makes; tests/contract/test_description.py
    # answers them.
    for operation, status in (
        ("PUT /login", 204),
        ("GET /user/{username}/avatar", 303),
        ("GET /static/{name}", 200),
        ("POST /uploads", 201),
        ("POST /avatar", 200),
        ("POST /avatar", 403),
        ("POST /avatar", 404),
        ("POST /avatar", 413),
        ("POST /avatar", 415),
    ):
        answered = run.statuses.get(operation, {})
        assert answered.get(status), f"{operation} never answered {status}: {answered}"
