"""Scores from test results: points per exercise and category, from the catalogue.

A category's points are shared among its tests by weight (default 1). A test
that cannot be measured on this machine ("ungradable", e.g. a parallelism check
on one CPU) is left out of its category's share instead of failing; a category
whose tests are all ungradable is left out of the maximum and reported.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader import __version__
from grader.catalogue import CATEGORIES, Catalogue, Exercise
from grader.records import TestResult
from grader.runner import ExerciseRun, run_exercise
from grader.sandbox import Isolation


@dataclass
class CategoryScore:
    category: str
    earned: float
    possible: float
    results: list[TestResult]

    @property
    def ungradable(self) -> bool:
        return bool(self.results) and all(r.outcome == "ungradable" for r in self.results)


@dataclass
class ExerciseScore:
    exercise: Exercise
    categories: dict[str, CategoryScore]
    error: str | None = None
    elapsed: float = 0.0

    @property
    def earned(self) -> float:
        return sum(c.earned for c in self.categories.values())

    @property
    def possible(self) -> float:
        return sum(c.possible for c in self.categories.values())

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
        return sum(e.earned for e in self.exercises)

    @property
    def possible(self) -> float:
        return sum(e.possible for e in self.exercises)

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
    """Share each category's catalogue points among its tests, by weight."""
    ex = run.exercise
    categories = {}
    for category in CATEGORIES:
        points = ex.points.get(category, 0.0)
        results = [r for r in run.results if r.info.category == category]
        counted = [r for r in results if r.outcome != "ungradable"]
        total_weight = sum(r.info.weight for r in counted)
        if run.error or (not results and points):
            earned, possible = 0.0, points  # nothing ran: nothing earned
        elif not counted:
            earned, possible = 0.0, 0.0  # all ungradable here: left out of the maximum
        else:
            passed = sum(r.info.weight for r in counted if r.outcome == "passed")
            earned, possible = points * passed / total_weight, points
        categories[category] = CategoryScore(category, round(earned, 4), possible, results)
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
) -> GradeReport:
    """Grade every exercise (or ``only`` those) of one submission folder."""
    import time

    started = time.perf_counter()
    seed = random.SystemRandom().randrange(2**32) if seed is None else seed
    wanted = set(only) if only else None
    exercises = [e for e in catalogue if wanted is None or e.slug in wanted]
    jobs = jobs or usable_cpus()
    submission = Path(submission).resolve()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        runs = list(
            pool.map(
                lambda e: run_exercise(e, submission, seed=seed, isolation=isolation), exercises
            )
        )
    meta = next((r.meta for r in runs if r.meta), {})
    return GradeReport(
        submission=str(submission),
        exercises=[score_exercise(r) for r in runs],
        seed=seed,
        python=meta.get("python", sys.version.split()[0]),
        cpus=meta.get("cpus", usable_cpus()),
        mechanism=meta.get("mechanism", "?"),
        elapsed=time.perf_counter() - started,
        notices=list(dict.fromkeys(n for r in runs for n in r.notices)),
    )
