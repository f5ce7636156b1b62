"""The result model: what a grading found, from one test to a whole submission.

Plain data that runs nothing: the grading produces it, every report reads it.
Points are kept in hundredths (integers), so sums are exact; see
:mod:`grader.grading.scoring` for how they are shared out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader import __version__
from grader.catalogue import Exercise

CENTS = 100  # points are counted in hundredths


@dataclass(frozen=True)
class TestInfo:
    __test__ = False  # not a pytest test class

    nodeid: str
    exercise: str | None
    category: str | None
    weight: float
    title: str


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class

    info: TestInfo
    outcome: str  # passed | failed | error | ungradable | missing
    diagnosis: str
    duration: float = 0.0
    ratio: float | None = None  # wall time ÷ ideal, for timing tests


class _Points:
    """Points in hundredths (``earned_cents``, ``possible_cents``), and as numbers."""

    earned_cents: int
    possible_cents: int

    @property
    def earned(self) -> float:
        return self.earned_cents / CENTS

    @property
    def possible(self) -> float:
        return self.possible_cents / CENTS


@dataclass(frozen=True)
class TestScore(_Points):
    """One test's share of its category's points, and what it earned (in hundredths)."""

    __test__ = False  # not a pytest test class

    result: TestResult
    possible_cents: int
    earned_cents: int


@dataclass
class CategoryScore(_Points):
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
    def ungradable(self) -> bool:
        return bool(self.tests) and all(r.outcome == "ungradable" for r in self.results)


@dataclass
class ExerciseScore(_Points):
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
