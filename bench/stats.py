"""Summaries of timings: medians, 95th percentiles, and their display."""

import math
import statistics
from dataclasses import dataclass
from typing import Callable, Dict, Sequence


@dataclass(frozen=True)
class Summary:
    count: int
    median: float
    p95: float


def summarize(seconds: Sequence[float]) -> Summary:
    if not seconds:
        raise ValueError("no timings to summarize")
    return Summary(len(seconds), statistics.median(seconds), percentile(seconds, 95))


def percentile(values: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile: a value that was measured, never interpolated."""
    ordered = sorted(values)
    rank = math.ceil(percent / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def timing(summary: Summary) -> str:
    return f"median {ms(summary.median)}, p95 {ms(summary.p95)}"


def alternate(measures: Dict[str, Callable[[], float]], runs: int, warmup: int) -> Dict[str, list]:
    """Run each measure `warmup + runs` times, interleaved; keep the last `runs` timings.

    The order flips every round, so that neither side always runs first, on a
    warmer emulator or after the other's garbage.
    """
    names = list(measures)
    seconds = {name: [] for name in names}
    for round_number in range(warmup + runs):
        order = names if round_number % 2 == 0 else names[::-1]
        for name in order:
            elapsed = measures[name]()
            if round_number >= warmup:
                seconds[name].append(elapsed)
    return seconds
