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
import os
import random
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from grader import __version__
from grader.catalogue import CATEGORIES, Catalogue, Exercise
from grader.records import TestResult
from grader.runner import ExerciseRun, run_exercise
from grader.sandbox import Isolation

CENTS = 100  # points are counted in hundredths


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


@dataclass(frozen=True)
class TestScore:
    """One test's share of its category's points, and what it earned (in hundredths)."""

    __test__ = False  # not a pytest test class

    result: TestResult
    possible_cents: int
    earned_cents: int

    @property
    def possible(self) -> float:
        return self.possible_cents / CENTS

    @property
    def earned(self) -> float:
        return self.earned_cents / CENTS


@dataclass
class CategoryScore:
    category: str
    possible_cents: int  # the catalogue's points; 0 when every test is ungradable here
    tests: list[TestScore]

    @property
    def results(self) -> list[TestResult]:
        return [t.result for t in self.tests]

    @property
    def earned_cents(self) -> int:
        return sum(t.earned_cents for t in self.tests)

    @property
    def unallocated_cents(self) -> int:
        """Points no test holds: the run failed before any test of the category was known."""
        return self.possible_cents - sum(t.possible_cents for t in self.tests)

    @property
    def earned(self) -> float:
        return self.earned_cents / CENTS

    @property
    def possible(self) -> float:
        return self.possible_cents / CENTS

    @property
    def ungradable(self) -> bool:
        return bool(self.tests) and all(r.outcome == "ungradable" for r in self.results)


@dataclass
class ExerciseScore:
    exercise: Exercise
    categories: dict[str, CategoryScore]
    error: str | None = None
    elapsed: float = 0.0

    @property
    def earned_cents(self) -> int:
        return sum(c.earned_cents for c in self.categories.values())

    @property
    def possible_cents(self) -> int:
        return sum(c.possible_cents for c in self.categories.values())

    @property
    def earned(self) -> float:
        return self.earned_cents / CENTS

    @property
    def possible(self) -> float:
        return self.possible_cents / CENTS

    @property
    def unallocated(self) -> float:
        """Points of the maximum that no test holds (the run failed; see ``error``)."""
        return sum(c.unallocated_cents for c in self.categories.values()) / CENTS

    def failures(self) -> list[TestResult]:
        return [
            r
            for c in self.categories.values()
            for r in c.results
            if r.outcome in ("failed", "error", "missing")
        ]


@dataclass
class GradeReport:
    submission: str
    exercises: list[ExerciseScore]
    seed: int
    python: str
    cpus: int
    mechanism: str
    elapsed: float
    grader_version: str = __version__
    notices: list[str] = field(default_factory=list)

    @property
    def earned(self) -> float:
        return sum(e.earned_cents for e in self.exercises) / CENTS

    @property
    def possible(self) -> float:
        return sum(e.possible_cents for e in self.exercises) / CENTS

    @property
    def grader_errors(self) -> list[str]:
        errs = [f"{e.exercise.slug}: {e.error}" for e in self.exercises if e.error]
        errs += [
            f"{e.exercise.slug}: {r.diagnosis}"
            for e in self.exercises
            for r in e.failures()
            if r.outcome == "error"
        ]
        return errs


def score_exercise(run: ExerciseRun) -> ExerciseScore:
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


def usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


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

    def run_one(exercise: Exercise) -> tuple[ExerciseRun, ExerciseScore]:
        # One exercise's failure never loses another's results: whatever escapes the
        # run (a RecursionError, MemoryError, OSError...) is this exercise's grader fault.
        try:
            run = run_exercise(exercise, submission, seed=seed, isolation=isolation)
        except Exception as exc:
            why = f"{type(exc).__name__}: {exc}"[:300]
            run = ExerciseRun(exercise, error=f"the grader could not finish this exercise: {why}")
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
