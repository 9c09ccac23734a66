"""The benchmark's one table: each figure, what it measured, its target, met or not."""

import os
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Iterable, List, Optional

PACKAGES = ("chalice", "boto3", "botocore", "moto", "requests")
# README quotes the targeted figures between these two lines.
README_START = "<!-- bench results: written by make bench -->"
README_END = "<!-- end of bench results -->"


@dataclass(frozen=True)
class Figure:
    section: str
    name: str
    measured: str
    target: str = ""
    met: Optional[bool] = None  # None: a figure shown for context, with no target

    @property
    def result(self) -> str:
        if self.met is None:
            return ""
        return "met" if self.met else "**not met**"


def table(figures: Iterable[Figure]) -> str:
    """A Markdown table, one row a figure, a bold row opening each section."""
    rows = ["| figure | measured | target | result |", "|---|---|---|---|"]
    section = None
    for figure in figures:
        if figure.section != section:
            section = figure.section
            rows.append(f"| **{section}** | | | |")
        rows.append(f"| {figure.name} | {figure.measured} | {figure.target} | {figure.result} |")
    return "\n".join(rows)


def targeted(figures: Iterable[Figure]) -> List[Figure]:
    return [figure for figure in figures if figure.met is not None]


def missed(figures: Iterable[Figure]) -> List[Figure]:
    return [figure for figure in figures if figure.met is False]


def machine_description() -> str:
    memory = _meminfo_gib()
    lines = [
        f"- CPU: {_cpu_model()}, {os.cpu_count()} logical cores",
        f"- memory: {memory:.0f} GiB" if memory else "- memory: unknown",
        f"- OS: {_os_name()} ({platform.machine()})",
        f"- Python {platform.python_version()}; "
        + ", ".join(f"{name} {_version(name)}" for name in PACKAGES),
        f"- run at {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
    ]
    return "\n".join(lines)


def write_results(path: Path, figures: List[Figure], seconds: float, how: str) -> None:
    verdict = (
        "Every target met."
        if not missed(figures)
        else f"{len(missed(figures))} target(s) not met: "
        + "; ".join(figure.name for figure in missed(figures))
    )
    path.write_text(
        "# Benchmark results\n\n"
        "Written by `make bench` (`python -m bench`); do not edit by hand.\n\n"
        f"## Machine\n\n{machine_description()}\n\n"
        f"## Run\n\n{how}\n\n"
        f"## Results\n\n{verdict} The run took {seconds:.0f} s.\n\n"
        f"{table(figures)}\n\n"
        "How each figure is measured, and what it does not show: [method.md](method.md).\n"
    )


def quote_in_readme(readme: Path, figures: List[Figure]) -> None:
    """Replace README's quote of the results (between its two markers) with these."""
    text = readme.read_text()
    before, start, rest = text.partition(README_START)
    _, end, after = rest.partition(README_END)
    if not (start and end):
        raise RuntimeError(f"{readme} has no {README_START!r} ... {README_END!r} block")
    quote = (
        f"Its targets, from the run in `bench/results.md` "
        f"({datetime.now(timezone.utc):%Y-%m-%d}, {_cpu_model()}, {os.cpu_count()} cores):\n\n"
        f"{table(targeted(figures))}\n"
    )
    readme.write_text(f"{before}{start}\n{quote}{end}{after}")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _meminfo_gib() -> Optional[float]:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"
