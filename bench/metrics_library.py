"""The metrics library: Powertools for AWS Lambda beside aws-embedded-metrics.

Both print CloudWatch EMF documents. For each, what the Lambda would pay:
- the package: the files pip installs for it and for each dependency the
  Lambda's zip does not already hold (requirements.txt's other pins and
  theirs: boto3, botocore, Pillow...), read from the installed distributions'
  RECORD, without bytecode; their size unzipped (Lambda's 250 MB limit) and
  deflated as in the zip (its 50 MB limit for a direct upload);
- the import after `import boto3`, in a fresh interpreter per run, the two
  alternating (bench/metrics_worker.py): with the .pyc files pip wrote, as
  the cold-start figure is measured, and from the source alone, as the zip
  (which holds no .pyc) gives it to Lambda;
- recording and printing one EMF document: the first, then the median of
  the next DOCUMENTS.

The worker runs as a Lambda would: AWS_LAMBDA_FUNCTION_NAME is set, so that
aws-embedded-metrics prints to standard output rather than looking for an
EC2 host and a CloudWatch agent.
"""

import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Dict, List, Optional, Set

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .child import run_python
from .report import Figure
from .stack import ROOT
from .stats import alternate, ms, summarize, timing

SECTION = "Metrics library (EMF): Powertools for AWS Lambda beside aws-embedded-metrics"
CANDIDATES = ("aws-lambda-powertools", "aws-embedded-metrics")
REQUIREMENTS = ROOT / "requirements.txt"
DOCUMENTS = 200
MIB = 1024 * 1024


@dataclass(frozen=True)
class Addition:
    """What one library adds to the Lambda's zip."""

    distributions: List[str]  # "name version", the library first
    files: Dict[str, Path]  # path in the zip: the installed file
    unzipped: int
    zipped: int


def compare_metrics_libraries(runs: int) -> list:
    chosen = library_in_requirements()
    additions = {library: package_addition(library) for library in CANDIDATES}
    with tempfile.TemporaryDirectory() as scratch:
        sources = {
            library: copy_without_bytecode(additions[library], Path(scratch) / library)
            for library in CANDIDATES
        }
        compiled = alternate(
            {library: _worker_run(library) for library in CANDIDATES}, runs, warmup=1
        )
        source_runs = max(1, runs // 3)
        from_source = alternate(
            {library: _worker_run(library, sources[library]) for library in CANDIDATES},
            source_runs,
            warmup=0,
        )
    figures = []
    for library in CANDIDATES:
        check_document(library, compiled[library][-1]["output"])
        addition = additions[library]
        imports = summarize([run["import"] for run in compiled[library]])
        source = summarize([run["import"] for run in from_source[library]])
        first = summarize([run["first"] for run in compiled[library]])
        following = summarize([each for run in compiled[library] for each in run["following"]])
        figures += [
            Figure(
                SECTION,
                f"{library}: added to the Lambda package",
                f"{_mib(addition.unzipped)} unzipped, {_mib(addition.zipped)} zipped; "
                + ", ".join(addition.distributions),
            ),
            Figure(SECTION, f"{library}: import after boto3, {runs} runs", timing(imports)),
            Figure(
                SECTION,
                f"{library}: import after boto3 from source, no .pyc (as in the zip), "
                f"{source_runs} runs",
                timing(source),
            ),
            Figure(
                SECTION,
                f"{library}: record and print one EMF document, {runs} runs",
                f"first {ms(first.median)}, then median {following.median * 1e6:.0f} µs "
                f"({DOCUMENTS} a run)",
            ),
        ]
    (other,) = [library for library in CANDIDATES if library != chosen]
    smaller = additions[chosen].zipped / additions[other].zipped
    faster = (
        summarize([run["import"] for run in compiled[chosen]]).median
        / summarize([run["import"] for run in compiled[other]]).median
    )
    figures.append(
        Figure(
            SECTION,
            f"the app's library ({chosen}) / {other}: zipped size, import medians",
            f"{smaller:.2f}, {faster:.2f}",
            "both < 1",
            smaller < 1 and faster < 1,
        )
    )
    return figures


def library_in_requirements(requirements: Path = REQUIREMENTS) -> str:
    """The one candidate requirements.txt pins: the one the app uses."""
    pinned = _pinned_names(requirements)
    chosen = [library for library in CANDIDATES if library in pinned]
    if len(chosen) != 1:
        raise RuntimeError(f"{requirements} should pin exactly one of {CANDIDATES}: {chosen}")
    return chosen[0]


def package_addition(library: str, requirements: Path = REQUIREMENTS) -> Addition:
    """What `library` and its dependencies add to the zip of requirements.txt's
    other pins, as installed here."""
    already = dependency_closure(_pinned_names(requirements) - set(CANDIDATES))
    added = [library] + sorted(dependency_closure({library}) - already - {library})
    files = {}
    for name in added:
        for file in metadata.distribution(name).files or []:
            # Bytecode is pip's, not the wheel's; `..` is a script for bin/.
            if file.parts[0] == ".." or "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            files[file.as_posix()] = Path(file.locate())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in sorted(files.items()):
            archive.write(path, name)
    return Addition(
        distributions=[f"{name} {metadata.version(name)}" for name in added],
        files=files,
        unzipped=sum(path.stat().st_size for path in files.values()),
        zipped=len(buffer.getvalue()),
    )


def dependency_closure(names: Set[str]) -> Set[str]:
    """`names` and everything they require, transitively, as canonical names;
    a requirement's extras and environment markers as on this Python."""
    closure, pending = set(), [canonicalize_name(name) for name in names]
    while pending:
        name = pending.pop()
        if name in closure:
            continue
        closure.add(name)
        for line in metadata.distribution(name).requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(canonicalize_name(requirement.name))
    return closure


def copy_without_bytecode(addition: Addition, folder: Path) -> Path:
    for name, path in addition.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, folder / name)
    return folder


def check_document(library: str, output: str) -> dict:
    """The one EMF document `library` printed, if it is the one the alarms need:
    namespace Avatars, exactly the dimension set [Outcome], FinalizeOutcome 1."""
    (line,) = output.splitlines()
    document = json.loads(line)
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    value = document["FinalizeOutcome"]
    if (
        directive["Namespace"] != "Avatars"
        or directive["Dimensions"] != [["Outcome"]]
        or directive["Metrics"] != [{"Name": "FinalizeOutcome", "Unit": "Count"}]
        or document["Outcome"] != "finalized"
        or (value if isinstance(value, list) else [value]) != [1]
    ):
        raise RuntimeError(f"{library} printed another document than intended: {line}")
    return document


def _worker_run(library: str, path: Optional[Path] = None):
    options = json.dumps({"library": library, "path": str(path or ""), "documents": DOCUMENTS})
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("POWERTOOLS_", "AWS_EMF_"))
    }
    # A Lambda's: aws-embedded-metrics writes to standard output there, and
    # nothing may write bytecode next to the copied sources.
    environment.update(AWS_LAMBDA_FUNCTION_NAME="avatars-dev", PYTHONDONTWRITEBYTECODE="1")

    def run() -> dict:
        return run_python(
            ["-m", "bench.metrics_worker", options], f"the {library} worker", environment
        )

    return run


def _pinned_names(requirements: Path) -> Set[str]:
    names = set()
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(canonicalize_name(re.split(r"[=<>~!\[; ]", line, maxsplit=1)[0]))
    return names


def _mib(size: int) -> str:
    return f"{size / MIB:.2f} MiB"
