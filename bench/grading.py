"""Benchmark: how long grading takes, and where the time goes. Prints figures.

    python bench/grading.py [--rounds N] [--jobs 1,2]

Grades the reference solutions (full marks expected) and the stubs with each
``--jobs`` setting (exercises graded at once), and prints the wall time, the
score, and the sum of the per-test durations reported by the children (the
work itself) against the wall time (the rest is process start-up and pytest
collection: the overhead).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from grader import catalogue
from grader.grading.scoring import grade

ROOT = Path(__file__).resolve().parents[1]


def one(folder: str, jobs: int) -> tuple[float, float, float, float]:
    cat = catalogue.load()
    start = time.perf_counter()
    report = grade(ROOT / folder, cat, jobs=jobs, seed=1)
    wall = time.perf_counter() - start
    results = [r for e in report.exercises for c in e.categories.values() for r in c.results]
    work = sum(r.duration for r in results)
    return wall, work, report.earned, report.possible


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", default="1,2")
    args = parser.parse_args()
    jobs_list = [int(j) for j in args.jobs.split(",")]
    print(f"Python {sys.version.split()[0]}, {len(catalogue.load())} exercises, "
          f"{args.rounds} rounds each (median)")  # fmt: skip
    print(f"{'folder':<10}{'jobs':>5}{'wall s':>9}{'test time s':>13}{'score':>12}")
    for folder in ("solutions", "exercises"):
        for jobs in jobs_list:
            runs = [one(folder, jobs) for _ in range(args.rounds)]
            wall = statistics.median(r[0] for r in runs)
            work = statistics.median(r[1] for r in runs)
            earned, possible = runs[-1][2], runs[-1][3]
            print(f"{folder:<10}{jobs:>5}{wall:>9.1f}{work:>13.1f}{f'{earned:g}/{possible:g}':>12}")


if __name__ == "__main__":
    main()
