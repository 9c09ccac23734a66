"""Schemathesis against a running stack: the fuzz of test_fuzz.py, also runnable alone.

    make run                                             # one terminal
    .venv/bin/python -m tests.contract.fuzzing           # another: both runs
    .venv/bin/python -m tests.contract.fuzzing --signed-in http://127.0.0.1:8000/

Each run is schemathesis' own CLI (`schemathesis run`, every check, every
phase, a fixed seed) against `<app>/openapi.json`, the description the app
serves: a part of it schemathesis cannot use (a broken reference, an invalid
schema) is an error of the run.

The run signed in authenticates through the description's `session` security
scheme, named in a config file; schemathesis then also checks that the
protected operations refuse the same request without it. (With the cookie
passed as a plain header instead, `-H "Cookie: session=..."`, schemathesis
cannot take it away: its coverage phase sends the request it means to send
without a session with the cookie anyway, gets 201 and reports ST201.)

Before a run, this module reads the stack's users and page files, and for the
signed-in run uploads a few files the way the browser does, so that the
generated requests reach more than 404s: schemathesis mixes those names and
keys into what it generates (its "dictionaries").

FUZZ_MAX_EXAMPLES raises the budget for a longer run (schemathesis'
--max-examples: the most generated cases per operation in the fuzzing phase,
and the number of stateful scenarios; default below); FUZZ_SEED changes the
seed.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.helpers import image_bytes, png_of_black_pixels
from tests.stack import post_file

ROOT = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("FUZZ_SEED", "13"))
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "300"))
# Generous: a request to the local stack takes milliseconds, finalize of the
# largest upload below well under a second. A hang fails the run instead of
# stalling it.
REQUEST_TIMEOUT = 30
FAILING_WARNINGS = [
    "missing_deserializer",  # a response schemathesis could not read, so not check
    "unsupported_regex",  # a pattern it could not use
    "unresolvable_reference",
    "unused_openapi_auth",  # signed in names a scheme the description lacks
    "method_not_allowed",  # an operation the app does not route
    "validation_mismatch",  # schema-valid requests all refused as invalid
    "dictionary_mismatch",  # the real names and keys below fail their schemas
    "unmatched_filter",
]
# schemathesis' default for positive_data_acceptance, and 413 and 415 (see config_text).
AVATAR_ACCEPTED_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "413", "415", "429", "5xx"]


@dataclass
class FuzzRun:
    """One schemathesis run and what it printed."""

    name: str
    command: list
    config: str
    returncode: int
    output: str
    seconds: float
    failures: list = field(default_factory=list)
    requests: int = 0
    statuses: dict = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"fuzz {self.name}: exit {self.returncode} in {self.seconds:.1f} s, "
            f"{self.requests} requests; {self.test_cases_line()}"
        )

    def statuses_text(self) -> str:
        """Each operation's statuses (its own method, outside the stateful phase)."""
        return "\n".join(
            f"  {label}: "
            + ", ".join(f"{status} x{count}" for status, count in sorted(counts.items(), key=str))
            for label, counts in sorted(self.statuses.items())
        )

    def test_cases_line(self) -> str:
        """Schemathesis' own count, e.g. `1111 generated, 3 found 3 unique failures`."""
        lines = self.output.splitlines()
        for index, line in enumerate(lines):
            if line.strip() == "Test cases:" and index + 1 < len(lines):
                return lines[index + 1].strip()
        return "(no test case count in the output)"

    def report(self) -> str:
        """What a failed run shows: the command, the config, each failure, the output's tail."""
        parts = [
            self.summary(),
            "command: " + shlex.join(self.command),
            "config file:\n" + self.config,
        ]
        parts += [f"--- {label}\n{text}" for label, text in self.failures]
        lines = self.output.splitlines()
        # With the failures above, the output's warnings and summary say the
        # rest; without (a warning failed the run, or schemathesis could not
        # run), its last lines say why.
        sections = [
            index for index, line in enumerate(lines) if " WARNINGS " in line or " SUMMARY " in line
        ]
        start = sections[0] if self.failures and sections else max(0, len(lines) - 120)
        parts.append("--- schemathesis output\n" + "\n".join(lines[start:]))
        return "\n\n".join(parts)


def seed_usernames(base_url: str) -> list:
    answer = requests.get(base_url + "users", timeout=10)
    answer.raise_for_status()
    return [user["username"] for user in answer.json()["users"]]


def page_files() -> list:
    """What the stack publishes under `web/` (devtools/provision.py copies static/)."""
    return sorted(path.name for path in (ROOT / "static").iterdir() if path.is_file())


def sign_in(base_url: str, username: str) -> str:
    """The value of the `session` cookie PUT /login sets for `username`."""
    answer = requests.put(base_url + "login", json={"username": username}, timeout=10)
    assert answer.status_code == 204, (answer.status_code, answer.text)
    return answer.cookies["session"]


def pending_uploads(base_url: str, session: str, other_session: str) -> dict:
    """Uploads made as the browser makes them, by status finalize should answer
    for the signed-in user (whose session is `session`) the first time."""

    def form(cookie):
        answer = requests.post(
            base_url + "uploads", json={}, cookies={"session": cookie}, timeout=10
        )
        assert answer.status_code == 201, (answer.status_code, answer.text)
        return answer.json()

    def uploaded(cookie, content, content_type="image/png"):
        upload_form = form(cookie)
        posted = post_file(upload_form, content, content_type)
        assert posted.status_code in (200, 204), (posted.status_code, posted.text)
        return upload_form["key"]

    too_large = form(session)
    too_large_content = b"\xff\xd8\xff\xe0" + bytes(too_large["maxBytes"] - 3)
    assert post_file(too_large, too_large_content, "image/jpeg").status_code in (200, 204)
    return {
        "200 (an image, then the same answer again)": uploaded(session, image_bytes("PNG")),
        "403 not_your_upload": uploaded(other_session, image_bytes("JPEG", size=(48, 48))),
        "415 not_an_image": uploaded(session, b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        "413 image_too_large": uploaded(session, png_of_black_pixels(8000, 8000)),
        "413 too_large": too_large["key"],
        "404 no_such_upload (a form never used)": form(session)["key"],
    }


def toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a TOML basic string


def toml_list(values) -> str:
    return "[" + ", ".join(toml_string(str(value)) for value in values) + "]"


def config_text(usernames, files, keys, session=None) -> str:
    """schemathesis.toml for one run: what the CLI has no flag for."""
    lines = [
        "# Written by tests/contract/fuzzing.py for one run.",
        "# Real names and keys, mixed into what schemathesis generates so that",
        "# requests reach past 404 (one case in three).",
        f"[dictionaries.usernames]\nvalues = {toml_list(usernames)}",
        f"[dictionaries.files]\nvalues = {toml_list(files)}",
    ]
    bindings = [
        '"path.username" = { dictionary = "usernames", probability = 0.34 }',
        '"body.username" = { dictionary = "usernames", probability = 0.34 }',
        '"path.name" = { dictionary = "files", probability = 0.34 }',
    ]
    if keys:
        lines.append(f"[dictionaries.keys]\nvalues = {toml_list(keys)}")
        bindings.append('"body.key" = { dictionary = "keys", probability = 0.34 }')
    lines.append("[parameters]\n" + "\n".join(bindings))
    lines += [
        "# Warnings that mean part of the description went untested, or that",
        "# the app refuses what it describes as valid, fail the run.",
        f"[warnings]\nfail-on = {toml_list(FAILING_WARNINGS)}",
        "# A schema-valid POST /avatar names an upload whose bytes the request",
        "# cannot show: 413 (too many bytes or pixels) and 415 (not an image) are",
        "# right answers to the keys above, so they count as accepting the data.",
        '[[operations]]\ninclude-name = "POST /avatar"',
        "[operations.checks.positive_data_acceptance]",
        "expected-statuses = " + toml_list(AVATAR_ACCEPTED_STATUSES),
    ]
    if session is not None:
        lines += [
            "# Signed in: the description's `session` scheme (a cookie).",
            f"[auth.openapi.session]\napi_key = {toml_string(session)}",
        ]
    return "\n".join(lines) + "\n"


def schemathesis_command(
    base_url, config_path, report_dir, max_examples=None, seed=None, description=None
):
    """The `schemathesis run` command line, as this module runs it."""
    app = base_url.rstrip("/")
    return [
        sys.executable, "-m", "schemathesis.cli",
        "--config-file", str(config_path),
        "--no-color",
        "run", str(description or f"{app}/openapi.json"),
        "--url", app,
        # Every operation. Without an include filter schemathesis leaves out
        # the one that served the document (GET /openapi.json).
        "--include-path-regex", "^/",
        "--checks", "all",
        # Every distinct failure of an operation, not only its first.
        "--continue-on-failure",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--mode", "all",
        "--seed", str(SEED if seed is None else seed),
        "--max-examples", str(max_examples or MAX_EXAMPLES),
        # Seeded means repeatable: no examples replayed from earlier runs.
        "--generation-database", "none",
        "--request-timeout", str(REQUEST_TIMEOUT),
        # Once, in a dozen runs on a loaded machine, the local server dropped a
        # kept-alive connection (no answer, nothing in its log): one retry of
        # the transport only. A request that fails twice, or any wrong
        # answer, still fails the run.
        "--request-retries", "1",
        "--workers", os.environ.get("FUZZ_WORKERS", "1"),
        "--report", "junit,ndjson",
        "--report-dir", str(report_dir),
    ]  # fmt: skip


def junit_failures(report_dir: Path) -> list:
    """(operation, text) of each failure or error in the run's JUnit report."""
    found = []
    for report in sorted(report_dir.glob("*.xml")):
        for case in ElementTree.parse(report).iter("testcase"):
            for problem in list(case.iter("failure")) + list(case.iter("error")):
                found.append((case.get("name"), problem.text or problem.get("message") or ""))
    return found


def answers(report_dir: Path):
    """How many requests the run made, and the statuses each operation
    answered outside the stateful phase, from the run's NDJSON event stream."""
    count, statuses = 0, defaultdict(Counter)
    for stream in report_dir.glob("*.ndjson"):
        for line in stream.read_text().splitlines():
            finished = json.loads(line).get("ScenarioFinished")
            if not finished:
                continue
            interactions = finished["recorder"].get("interactions", {}).values()
            count += len(interactions)
            if finished["phase"] == "stateful":
                continue
            label = finished["recorder"]["label"]
            for interaction in interactions:
                # Not the coverage phase's other methods (OPTIONS, TRACE...).
                if label.startswith(interaction["request"]["method"] + " "):
                    response = interaction.get("response") or {}
                    statuses[label][response.get("status_code", "no answer")] += 1
    return count, dict(statuses)


def fuzz(
    base_url: str, signed_in: bool, workdir: Path, max_examples=None, seed=None, description=None
) -> FuzzRun:
    """One run against the stack at `base_url`, signed in or out."""
    usernames = seed_usernames(base_url)
    keys, session = [], None
    if signed_in:
        session = sign_in(base_url, usernames[0])
        keys = list(pending_uploads(base_url, session, sign_in(base_url, usernames[1])).values())
    name = "signed in" if signed_in else "signed out"
    workdir = workdir / name.replace(" ", "-")
    workdir.mkdir(parents=True, exist_ok=True)
    config = config_text(usernames, page_files(), keys, session)
    config_path = workdir / "schemathesis.toml"
    config_path.write_text(config)
    report_dir = workdir / "report"
    command = schemathesis_command(
        base_url, config_path, report_dir, max_examples, seed, description
    )
    print(f"fuzz {name}: {shlex.join(command)}", flush=True)
    environ = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="120")
    started = time.monotonic()
    done = subprocess.run(
        command, cwd=workdir, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, check=False,
    )  # fmt: skip
    run = FuzzRun(
        name=name,
        command=command,
        config=config,
        returncode=done.returncode,
        output=done.stdout,
        seconds=time.monotonic() - started,
    )
    if report_dir.is_dir():
        run.failures = junit_failures(report_dir)
        run.requests, run.statuses = answers(report_dir)
    print(run.summary(), flush=True)
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8000/", help="the app's URL")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--signed-in", action="store_true", help="only the run signed in")
    which.add_argument("--signed-out", action="store_true", help="only the run signed out")
    parser.add_argument("--max-examples", type=int, default=MAX_EXAMPLES)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--description", help="a description file to test instead of the one the app serves"
    )
    parser.add_argument("--keep", help="a directory for configs and reports (else a temporary one)")
    options = parser.parse_args(argv)
    base_url = options.url if options.url.endswith("/") else options.url + "/"
    modes = [False, True]
    if options.signed_in or options.signed_out:
        modes = [options.signed_in]
    with tempfile.TemporaryDirectory(prefix="fuzz-") as scratch:
        workdir = Path(options.keep or scratch)
        runs = [
            fuzz(
                base_url,
                signed_in,
                workdir,
                options.max_examples,
                options.seed,
                options.description and Path(options.description).resolve(),
            )  # fmt: skip
            for signed_in in modes
        ]
        for run in runs:
            print(run.report() if run.returncode else run.summary() + "\n" + run.statuses_text())
    return max(run.returncode for run in runs)


if __name__ == "__main__":
    sys.exit(main())
