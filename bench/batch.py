"""Benchmark: grade a generated class with ``grader batch``. Prints figures; not a test.

    python bench/batch.py [--students 100] [--workers 2] [--only SLUGS|all] [--keep DIR]

The class mixes reference solutions, untouched stubs, catalogued mutants and
per-exercise mixes of the three, as folders, whole repos and .zip files
(``grader.dev.classes.make_class``). By default it is restricted to
two exercises (late_binding: correctness, timing and stress; concepts: correctness) so that 100
submissions take minutes; ``--only all`` grades every exercise (about an hour
for 100 submissions on 2 CPUs).

Figures: wall time, submissions per minute, CPU use (user+sys of every
process, over wall time × CPUs), and the ratio of wall time to the floor. The
floor is the simulated I/O the hidden tests must wait for, estimated from the
per-test durations of the reference solutions (the fastest correct code; a
stub or mutant only waits longer), summed over the class and divided by the
workers: no schedule of W workers can finish sooner.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import catalogue, layout  # noqa: E402
from grader.batch.classroom import run_batch  # noqa: E402
from grader.dev.classes import make_class  # noqa: E402
from grader.grading.scoring import grade  # noqa: E402
from grader.machine import usable_cpus  # noqa: E402

DEFAULT_ONLY = "late_binding,concepts"


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--workers", type=int, default=usable_cpus())
    parser.add_argument("--only", default=DEFAULT_ONLY, help="comma-separated, or 'all'")
    parser.add_argument("--keep", help="keep the class and the output in this folder")
    args = parser.parse_args()
    cat = catalogue.load()
    only = tuple(e.slug for e in cat) if args.only == "all" else tuple(args.only.split(","))
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-batch-"))
    kinds = make_class(work / "class", args.students, only)
    mix = Counter(k.split("/")[0] for k in kinds.values())
    print(
        f"Python {sys.version.split()[0]}, {usable_cpus()} CPU(s), {args.workers} worker(s); "
        f"{args.students} submissions ({dict(mix)}) of {len(only)} exercise(s): {', '.join(only)}"
    )
    # The floor: what the reference solutions' hidden tests wait for, per submission.
    ref = grade(layout.SOLUTIONS, cat, only=only, seed=1, jobs=1)
    per_submission = sum(r.duration for e in ref.exercises for c in e.categories.values()
                         for r in c.results)  # fmt: skip
    floor = per_submission * args.students / args.workers
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    result = run_batch(work / "class", work / "out", only=only, workers=args.workers)
    wall = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    tests_time = sum(
        t["duration"] for r in result.records if r["status"] == "graded" for t in r["tests"]
    )
    graded = [r for r in result.records if r["status"] == "graded"]
    per_grade = sorted(r["elapsed"] for r in graded)
    print(f"wall time               {wall:8.1f} s")
    print(f"submissions per minute  {len(result.records) / wall * 60:8.1f}")
    print(f"CPU use                 {cpu:8.1f} s = {cpu / wall / usable_cpus():.0%} of "
          f"{usable_cpus()} CPU(s)")  # fmt: skip
    print(f"floor (reference I/O)   {floor:8.1f} s  ({per_submission:.2f} s per submission "
          f"÷ {args.workers} worker(s))")  # fmt: skip
    print(f"wall ÷ floor            {wall / floor:8.2f}")
    print(f"hidden-test time        {tests_time:8.1f} s (sum of per-test durations reported)")
    print(f"per submission          median {per_grade[len(per_grade) // 2]:.1f} s, "
          f"max {per_grade[-1]:.1f} s")  # fmt: skip
    print(f"mean score              {result.summary['mean']}/{result.summary['possible']}")
    if args.keep:
        print(f"class and output kept in {work}")
    else:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
