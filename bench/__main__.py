"""Run every benchmark module in this package and write the table to bench/results.md."""

import importlib
import os
import pkgutil
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

import bench
from bench import Result, megabytes, seconds

RESULTS = Path(__file__).with_name("results.md")


def _modules() -> list[str]:
    return sorted(
        module.name
        for module in pkgutil.iter_modules(bench.__path__)
        if not module.name.startswith("_")
    )


def _table(results: list[Result]) -> list[str]:
    lines = [
        "| Benchmark | Median | Floor | Floor median | Ratio to floor | Peak memory | Runs | Notes |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for result in results:
        lines.append(
            f"| {result.name} | {seconds(result.median_seconds)} | {result.floor_name} "
            f"| {seconds(result.floor_seconds)} | {result.ratio:.1f}× "
            f"| {megabytes(result.peak_bytes) if result.peak_bytes else '–'} | {result.runs} "
            f"| {result.note} |"
        )
    return lines


def main() -> None:
    """`python -m bench`: every benchmark, written to bench/results.md. `python -m bench NAME…`:
    only those modules (e.g. `portfolio_page`), printed and not written."""
    only = sys.argv[1:]
    results: list[Result] = []
    for name in only or _modules():
        module = importlib.import_module(f"bench.{name}")
        if not hasattr(module, "run"):
            continue  # a helper (the dataset), not a benchmark
        print(f"== bench.{name}", flush=True)
        results.extend(module.run())
    if only:
        print("\n".join(_table(results)))
        return
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    python = platform.python_version()
    text = [
        "# Benchmark results",
        "",
        f"Written by `python -m bench` on {now} ({machine}, Python {python}). Medians of several "
        "runs; the floor is measured in the same run on the same machine. Peak memory is "
        "Python's own allocations (tracemalloc) during one extra run. "
        f"Load average over the last 15 minutes when the run ended: {os.getloadavg()[2]:.1f} "
        "(above the CPU count, other jobs shared the machine and absolute times suffer; the "
        "ratios, measured in the same run, are what to compare). How each part scales past "
        "one machine, and what to measure next: [docs/scaling.md](../docs/scaling.md).",
        "",
        *_table(results),
        "",
    ]
    RESULTS.write_text("\n".join(text), encoding="utf-8")
    print("\n".join(_table(results)))
    print(
        f"Written to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}"
    )


if __name__ == "__main__":
    sys.exit(main())
