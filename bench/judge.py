"""Benchmark: what the judge's split costs. Prints figures.

    python bench/judge.py [--before REV] [--rounds N] [--only SLUG[,SLUG]]

Grades the reference solutions of the exercises (their hidden tests in the judge, the
module in a subject process) with this checkout, and the
same exercises with the commit before the split (``--before``, default ``BEFORE``: every
exercise in-process), checked out beside it in a temporary folder (``git archive``, so
this repository's state is untouched). The two run in turn, A B A B ..., one exercise at
a time, each a whole ``grader grade`` process (sandbox included, as graded for real); the
table shows each side's median wall time and the median of the pairwise ratios, judged
over in-process. The issue's budget: at most 1.15.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import catalogue  # noqa: E402

#: The last commit with every exercise graded in-process (issue 14, before step 3).
BEFORE = "c20ce49"
BUDGET = 1.15


def checkout(rev: str, folder: Path) -> Path:
    """``rev``'s tree in ``folder`` (``git archive``: no worktree, no change to this repo)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    path = folder / "tree.tar"
    path.write_bytes(archive)
    with tarfile.open(path) as tar:
        tar.extractall(folder / rev, filter="data")
    return folder / rev


def grade_once(pack: Path, slug: str, seed: int) -> float:
    """Wall seconds of one ``grader grade`` of the solutions' ``slug`` with the pack at ``pack``."""
    env = {**os.environ, "PYTHONPATH": str(pack), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "grader", "grade", str(pack / "solutions"),
               "--only", slug, "--seed", str(seed), "--jobs", "1", "--no-progress"]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, cwd=pack, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or "Total" not in done.stdout + done.stderr:
        raise SystemExit(f"grading {slug} in {pack} failed:\n{done.stdout}{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help=f"the commit before (default {BEFORE})")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated slugs (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    slugs = [s for s in args.only.split(",") if s] or [e.slug for e in catalogue.load()]
    print(f"Python {sys.version.split()[0]}; every exercise judged here; "
          f"against {args.before}; {args.rounds} rounds, A B A B")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-judge-") as tmp:
        before = checkout(args.before, Path(tmp))
        rows, totals = [], ([], [])
        for slug in slugs:
            split, inproc = [], []
            for _ in range(args.rounds):
                split.append(grade_once(ROOT, slug, args.seed))
                inproc.append(grade_once(before, slug, args.seed))
            ratios = [a / b for a, b in zip(split, inproc, strict=True)]
            rows.append((slug, statistics.median(split), statistics.median(inproc), ratios))
            totals[0].append(statistics.median(split))
            totals[1].append(statistics.median(inproc))
    w = max(len("exercise"), *(len(slug) for slug, *_ in rows))
    print(f"{'exercise':<{w}} {'judged s':>9} {'in-process s':>13} {'ratio (median, min-max)':>26}")
    for slug, a, b, ratios in rows:
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        print(f"{slug:<{w}} {a:>9.2f} {b:>13.2f} {statistics.median(ratios):>12.2f} ({spread})")
    a, b = sum(totals[0]), sum(totals[1])
    print(f"{'all':<{w}} {a:>9.2f} {b:>13.2f} {a / b:>12.2f}   (budget {BUDGET})")


if __name__ == "__main__":
    main()
