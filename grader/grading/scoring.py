"""Scores from test results: points per exercise and category, from the catalogue.

A category's points are shared among its tests by weight (default 1). A test
that cannot be measured on this machine ("ungradable", e.g. a parallelism check
on one CPU) is left out of its category's share instead of failing; a category
whose tests are all ungradable is left out of the maximum and reported.

Points are kept in hundredths (integers), so sums are exact: a category's
points are apportioned to its tests by the largest-remainder method, each test
holds a whole number of hundredths, a category's score is the sum of its tests'
and the total the sum of everything. Reports print each test's
:class:`TestScore` as it is; none computes a share of its own.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

from grader.catalogue import CATEGORIES, Catalogue, Exercise
from grader.grading.runner import HiddenTestRun, run_exercise
from grader.machine import usable_cpus
from grader.results import CENTS, CategoryScore, ExerciseScore, GradeReport, TestScore
from grader.sandbox.config import Isolation


def to_cents(points: float) -> int:
    """Catalogue points as a whole number of hundredths (at most two decimals)."""
    exact = Fraction(str(points)) * CENTS  # str: the decimal the catalogue wrote
    if exact.denominator != 1 or exact < 0:
        raise ValueError(f"{points!r} points: use a non-negative number with two decimals at most")
    return int(exact)


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Share ``total`` hundredths by ``weights``, largest remainder first (Hamilton's method).

    Each share is its exact quota rounded down; the hundredths left over go one
    each to the largest fractional remainders (a tie goes to the earlier test),
    so the shares add up to ``total`` exactly and never differ from their
    quota by a hundredth or more.
    """
    if not weights:
        return []
    exact = [Fraction(w) if math.isfinite(w) else Fraction(-1) for w in weights]
    if any(w <= 0 for w in exact):
        raise ValueError(f"test weights must be positive finite numbers, got {list(weights)}")
    whole = sum(exact)
    quotas = [total * w / whole for w in exact]
    shares = [math.floor(q) for q in quotas]
    by_remainder = sorted(range(len(quotas)), key=lambda i: (shares[i] - quotas[i], i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def score_exercise(run: HiddenTestRun) -> ExerciseScore:
    """Apportion each category's catalogue points to its tests, by weight; a pass earns its share.

    An ungradable test holds no points. A category whose tests are all
    ungradable is left out of the maximum; when the run failed (``run.error``)
    or no test of a category ran, the category keeps its points and earns none.
    """
    ex = run.exercise
    categories = {}
    for category in CATEGORIES:
        points = to_cents(ex.points.get(category, 0.0))
        results = [r for r in run.results if r.info.category == category]
        counted = [r for r in results if r.outcome != "ungradable"]
        possible = points if (counted or run.error or not results) else 0
        shares = iter(apportion(possible, [r.info.weight for r in counted]))
        tests = []
        for r in results:
            share = 0 if r.outcome == "ungradable" else next(shares)
            won = r.outcome == "passed" and not run.error
            tests.append(TestScore(r, share, share if won else 0))
        categories[category] = CategoryScore(category, possible, tests)
    return ExerciseScore(ex, categories, error=run.error, elapsed=run.elapsed)


def grade(
    submission: Path,
    catalogue: Catalogue,
    *,
    only: Iterable[str] | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    isolation: Isolation | None = None,
    on_exercise: Callable[[ExerciseScore], None] | None = None,
) -> GradeReport:
    """Grade every exercise (or ``only`` those) of one submission folder.

    ``on_exercise`` is called with each exercise's score as soon as it is graded
    (from a worker thread, in completion order): ``grader grade``'s live progress.
    """
    import time

    started = time.perf_counter()
    seed = random.SystemRandom().randrange(2**32) if seed is None else seed
    wanted = set(only) if only else None
    exercises = [e for e in catalogue if wanted is None or e.slug in wanted]
    jobs = jobs or usable_cpus()
    submission = Path(submission).resolve()

    def run_one(exercise: Exercise) -> tuple[HiddenTestRun, ExerciseScore]:
        # One exercise's failure never loses another's results: whatever escapes the
        # run (a RecursionError, MemoryError, OSError...) is this exercise's grader fault.
        try:
            run = run_exercise(exercise, submission, seed=seed, isolation=isolation)
        except Exception as exc:
            why = f"{type(exc).__name__}: {exc}"[:300]
            run = HiddenTestRun(exercise, error=f"the grader could not finish this exercise: {why}")
        score = score_exercise(run)
        if on_exercise is not None:
            on_exercise(score)
        return run, score

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        graded = list(pool.map(run_one, exercises))
    runs = [run for run, _ in graded]
    meta = next((r.meta for r in runs if r.meta), {})
    return GradeReport(
        submission=str(submission),
        exercises=[score for _, score in graded],
        seed=seed,
        python=meta.get("python", sys.version.split()[0]),
        cpus=meta.get("cpus", usable_cpus()),
        mechanism=meta.get("mechanism", "?"),
        elapsed=time.perf_counter() - started,
        notices=list(dict.fromkeys(n for r in runs for n in r.notices)),
    )
