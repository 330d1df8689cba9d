"""Benchmarks: `python -m bench` (or `make bench`) runs every module here, writes bench/results.md.

Each benchmark module has `run() -> list[Result]`. A result is the median of several runs next
to a *floor* measured in the same run on the same machine: the cheapest thing that does the
unavoidable part of the work (pandas reading the same file, say). The ratio to the floor is what
to compare between machines and commits; the absolute time is printed too. Peak memory comes
from one extra run under tracemalloc, because tracing slows down the code it watches.
Timings are never asserted in tests.
"""

import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    name: str
    median_seconds: float
    floor_name: str
    floor_seconds: float
    peak_bytes: int
    runs: int
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.median_seconds / self.floor_seconds


def median_seconds(action: Callable[[], object], *, runs: int) -> float:
    """The median wall-clock time of `runs` calls (after one warm-up call)."""
    action()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def peak_bytes(action: Callable[[], object]) -> int:
    """The most memory Python allocated at once during one call."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def megabytes(value: int) -> str:
    return f"{value / 1024 / 1024:.1f} MB"
