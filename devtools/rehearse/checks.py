"""Running the rehearsal's checks: each prints `ok  <what>` or `FAIL <what>: <why>`,
and the failures are counted."""

from botocore.exceptions import BotoCoreError, ClientError


class Mismatch(Exception):
    """A check found something other than what it expected; the message says what."""


class Checks:
    """Runs each check, prints `ok  <what>` or `FAIL <what>: <why>`, counts failures."""

    def __init__(self, out=print):
        self.out = out
        self.passed = 0
        self.failed = 0

    def check(self, what: str, test) -> bool:
        try:
            test()
        except (Mismatch, ClientError, BotoCoreError, KeyError, ValueError) as error:
            self.failed += 1
            why = str(error) if not isinstance(error, KeyError) else f"no {error}"
            self.out(f"FAIL {what}: {why}")
            return False
        self.passed += 1
        self.out(f"ok  {what}")
        return True

    def fail(self, what: str, why: str):
        self.failed += 1
        self.out(f"FAIL {what}: {why}")


def expect_equal(actual, expected, what="found"):
    if actual != expected:
        raise Mismatch(f"{what} {actual!r}, expected {expected!r}")
