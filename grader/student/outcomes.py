"""The visible tests' outcomes as the student's tools keep them: one per test, and a
tally per exercise (what the progress summary and the CI reports are made of)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TestOutcome:
    """One visible test, as a student sees it (and as CI reports it)."""

    nodeid: str
    name: str
    exercise: str
    outcome: str  # passed | failed
    message: str = ""
    file: str | None = None  # where to look: the student's file
    line: int | None = None
    frames: list[str] = field(default_factory=list)  # the student's own frames, innermost last
    test_location: str | None = None  # tests/test_NN_slug.py:LINE (visible tests only)
    duration: float = 0.0


@dataclass
class Tally:
    """One exercise's visible tests in a run: passes counted, failures kept."""

    passed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (test name, message)
    tests: list[TestOutcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + len(self.failed)

    def first_failure(self) -> TestOutcome | None:
        return next((t for t in self.tests if t.outcome == "failed"), None)
