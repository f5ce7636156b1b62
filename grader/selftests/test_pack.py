"""The pack, graded end to end: stubs, solutions, alternatives and mutants.

These are the slow checks (each grades code in child processes, as
``grader grade`` does). Per exercise: the stub fails its visible tests and
scores 0 for timing and stress; the reference passes its visible tests; every
alternative correct solution gets full marks; every catalogued mutant loses
points in its categories with the promised diagnosis. For the whole pack: the
reference solutions get full marks three times in a row, and once with a CPU
hog on every core.
"""

from __future__ import annotations

import pytest

from grader import catalogue as catalogue_mod
from grader.dev.check import (
    ROOT,
    alternatives_for,
    check_full_marks,
    check_mutant,
    check_solution_passes_visible,
    check_stub_fails_visible,
    check_stub_scores_zero,
    full_marks,
)
from grader.dev.hog import cpu_hog
from grader.dev.mutation import mutants_of
from grader.grading.scoring import grade

pytestmark = pytest.mark.pack

CATALOGUE = catalogue_mod.load()
EXERCISES = list(CATALOGUE)
MUTANTS = [m for ex in EXERCISES for m in mutants_of(ex)]
ALTERNATIVES = [(ex, style) for ex in EXERCISES for style in alternatives_for(ex)]


def _assert_ok(finding) -> None:
    assert finding.ok, f"{finding.exercise}: {finding.check}: {finding.detail}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.slug)
def test_stub_fails_its_visible_tests(exercise):
    _assert_ok(check_stub_fails_visible(exercise))


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.slug)
def test_solution_passes_its_visible_tests(exercise):
    _assert_ok(check_solution_passes_visible(exercise))


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.slug)
def test_stub_scores_zero_for_timing_and_stress(exercise, cat):
    _assert_ok(check_stub_scores_zero(exercise, cat))


@pytest.mark.parametrize(
    ("exercise", "style"), ALTERNATIVES, ids=lambda v: getattr(v, "slug", getattr(v, "name", ""))
)
def test_alternative_solution_gets_full_marks(exercise, style, cat):
    _assert_ok(check_full_marks(exercise, cat, style, f"alternative '{style.name}'"))


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_mutant_is_caught(mutant, cat):
    ok, detail = check_mutant(mutant, cat, ROOT / "solutions")
    assert ok, f"mutant {mutant.id} ({mutant.description}): {detail}"


def _assert_full_marks(report) -> None:
    problems = []
    for ex in report.exercises:
        ok, detail = full_marks(ex)
        if not ok:
            problems.append(f"{ex.exercise.slug}: {detail}")
    assert not problems, f"seed {report.seed}: " + " | ".join(problems)


@pytest.mark.serial
@pytest.mark.parametrize("round_", [1, 2, 3])
def test_solutions_get_full_marks_three_times_in_a_row(round_, cat):
    _assert_full_marks(grade(ROOT / "solutions", cat))


@pytest.mark.serial
def test_solutions_get_full_marks_under_a_cpu_hog(cat):
    with cpu_hog():
        _assert_full_marks(grade(ROOT / "solutions", cat))
