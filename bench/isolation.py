"""Benchmark: the cost of isolating graded code. Prints figures.

    python bench/isolation.py [--rounds N] [--only SLUGS]

Grades the reference solutions with the sandbox (grader/sandbox/: private
copy, namespaces, limits, another uid when root) and without it, alternating,
in one run; prints the wall time of each and the ratio (isolated / plain).
Both must give full marks.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from grader import (
    catalogue,
    layout,
)
from grader.grading.isolation import isolation
from grader.grading.scoring import grade
from grader.sandbox.probe import capabilities

ROOT = Path(__file__).resolve().parents[1]


def one(enabled: bool, only: list[str] | None) -> float:
    cat = catalogue.load()
    start = time.perf_counter()
    report = grade(
        layout.SOLUTIONS,
        cat,
        only=only,
        seed=1,
        isolation=isolation(enabled=enabled),
    )
    wall = time.perf_counter() - start
    if report.earned < report.possible:
        sys.exit(f"solutions scored {report.earned:g}/{report.possible:g} (isolation={enabled})")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", default=None)
    args = parser.parse_args()
    only = args.only.split(",") if args.only else None
    caps = capabilities()
    print(f"python {sys.version.split()[0]}; {caps}")
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.rounds):
        for enabled in (False, True):
            times[enabled].append(one(enabled, only))
    plain, isolated = statistics.median(times[False]), statistics.median(times[True])
    for label, enabled, median in (("without", False, plain), ("with", True, isolated)):
        rounds = ", ".join(f"{t:.1f}" for t in times[enabled])
        print(f"{label} isolation: {median:.1f} s  (rounds: {rounds})")
    print(f"ratio isolated/plain: {isolated / plain:.3f}")


if __name__ == "__main__":
    main()
