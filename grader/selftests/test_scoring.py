"""Exact scores: each category's points are apportioned to its tests in hundredths.

Properties (hypothesis): the tests of a category hold exactly its catalogue
points; a category earns the sum of its tests; the total is the sum of every
test; every value has at most two decimals, in the reports too.
"""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import catalogue as catalogue_mod
from grader import results as results_mod
from grader.catalogue import CATEGORIES, Exercise
from grader.grading.runner import HiddenTestRun
from grader.grading.scoring import apportion, score_exercise, to_cents
from grader.reports import formats
from grader.results import GradeReport

OUTCOMES = ("passed", "failed", "error", "missing", "ungradable")


def exercise(points: dict[str, float], slug: str = "demo", order: int = 1) -> Exercise:
    return Exercise(slug, order, "Demo", "demo", points, (), 10.0, 60.0)


def result(category: str, weight: float, outcome: str, i: int) -> results_mod.TestResult:
    info = results_mod.TestInfo(f"t.py::test_{category}_{i}", "demo", category, weight, f"test {i}")
    return results_mod.TestResult(info, outcome, "" if outcome == "passed" else "why")


def two_decimals(value: float) -> bool:
    """``value`` prints as a number with at most two decimals (json and repr alike)."""
    text = json.dumps(value)
    return Decimal(text) == Decimal(text).quantize(Decimal("0.01"))


# --- apportionment -------------------------------------------------------------------------------


def test_equal_weights_share_every_hundredth():
    assert apportion(1000, [1.0] * 3) == [334, 333, 333]  # a tie goes to the earlier test
    assert apportion(16000, [1.0] * 195)[:3] == [83, 83, 83]
    assert sum(apportion(16000, [1.0] * 195)) == 16000  # 195 × 0.8205…: not 159.9981


def test_largest_remainder_wins_the_leftover_hundredth():
    # quotas 1.4, 2.8 (×1 and ×2 of 7 over 5): the larger remainder (.8) gets the spare one
    assert apportion(7, [1.0, 2.0, 2.0]) == [1, 3, 3]
    assert apportion(5, [0.5, 0.25, 0.25]) == [3, 1, 1]


@pytest.mark.parametrize("weights", [[0.0], [-1.0, 2.0], [float("nan")], [float("inf")]])
def test_weights_must_be_positive_and_finite(weights):
    with pytest.raises(ValueError, match="positive"):
        apportion(100, weights)


def test_points_with_more_than_two_decimals_are_refused():
    assert to_cents(3) == 300 and to_cents(2.5) == 250 and to_cents(0.1) == 10
    with pytest.raises(ValueError, match="two decimals"):
        to_cents(0.125)


def test_every_catalogue_points_value_has_two_decimals_at_most():
    """Scoring counts hundredths: the catalogue must not hold a value it would refuse."""
    for ex in catalogue_mod.load():
        assert sum(to_cents(p) for p in ex.points.values()) == to_cents(ex.max_points), ex.slug


@settings(max_examples=300, deadline=None)
@given(
    total=st.integers(0, 100_000),
    weights=st.lists(st.floats(0.01, 100, allow_nan=False), min_size=1, max_size=60),
)
def test_apportioned_shares_add_up_and_stay_within_a_hundredth(total, weights):
    shares = apportion(total, weights)
    assert sum(shares) == total
    whole = sum(Fraction(w) for w in weights)
    for share, w in zip(shares, weights, strict=True):
        assert abs(share - total * Fraction(w) / whole) < 1


# --- scores of a run -----------------------------------------------------------------------------

points_st = st.integers(0, 2000).map(lambda c: c / 100)
test_st = st.tuples(st.sampled_from([1.0, 2.0, 0.5, 3.0]), st.sampled_from(OUTCOMES))


@st.composite
def runs(draw) -> HiddenTestRun:
    points = {c: draw(points_st) for c in CATEGORIES}
    ex = exercise(points, slug=f"ex{draw(st.integers(1, 99))}")
    results = [
        result(c, w, o, i)
        for c in CATEGORIES
        for i, (w, o) in enumerate(draw(st.lists(test_st, max_size=40)))
    ]
    error = draw(st.sampled_from([None, None, None, "the sandbox could not be prepared"]))
    return HiddenTestRun(ex, results=results, error=error)


@settings(max_examples=200, deadline=None)
@given(run_list=st.lists(runs(), min_size=1, max_size=5))
def test_tests_hold_the_points_exactly_and_totals_are_their_sums(run_list):
    scores = [score_exercise(run) for run in run_list]
    report = GradeReport("sub", scores, seed=1, python="3", cpus=2, mechanism="x", elapsed=0)
    all_tests = []
    for score, run in zip(scores, run_list, strict=True):
        for category, cat in score.categories.items():
            points = to_cents(run.exercise.points[category])
            held = sum(t.possible_cents for t in cat.tests)
            counted = [t for t in cat.tests if t.result.outcome != "ungradable"]
            if counted:
                assert held == cat.possible_cents == points  # exactly the catalogue's points
            elif cat.tests and not run.error:
                assert cat.possible_cents == 0  # every test ungradable: out of the maximum
            assert held + cat.unallocated_cents == cat.possible_cents
            assert cat.earned_cents == sum(t.earned_cents for t in cat.tests)
            for t in cat.tests:
                won = t.result.outcome == "passed" and not run.error
                assert t.earned_cents == (t.possible_cents if won else 0)
                assert two_decimals(t.earned) and two_decimals(t.possible)
            all_tests += cat.tests
        assert score.earned_cents == sum(c.earned_cents for c in score.categories.values())
        assert two_decimals(score.earned) and two_decimals(score.possible)
    # What a report prints (the float's shortest repr) is the exact sum of the tests.
    assert Decimal(str(report.earned)) == sum(Decimal(str(t.earned)) for t in all_tests)
    assert Decimal(str(report.earned)) * 100 == sum(t.earned_cents for t in all_tests)
    assert Decimal(str(report.possible)) * 100 == sum(s.possible_cents for s in scores)
    # results.json prints the same numbers: its tests add up to its score and the maximum.
    data = json.loads(formats.render(report, "gradescope"))
    assert sum(Decimal(str(t["score"])) for t in data["tests"]) == Decimal(str(data["score"]))
    maximum = sum(Decimal(str(t["max_score"])) for t in data["tests"])
    # Points no test holds are shown on the exercise's "grading" entry, written when the
    # run failed; without a run error, a category with points but no test holds them nowhere.
    lost = sum(Decimal(str(s.unallocated)) for s in scores if not s.error)
    assert maximum == Decimal(str(report.possible)) - lost
    assert two_decimals(report.earned) and two_decimals(report.possible)


def test_195_tests_of_160_points_sum_to_160():
    ex = exercise({"correctness": 160.0, "timing": 0, "stress": 0})
    score = score_exercise(HiddenTestRun(ex, results=[result("correctness", 1.0, "passed", i)
                                                    for i in range(195)]))  # fmt: skip
    assert score.possible == score.earned == 160.0
    assert sum(Decimal(str(t.possible)) for t in score.categories["correctness"].tests) == 160
    assert score.categories["correctness"].tests[0].possible == 0.83


# --- the reports print the same numbers ----------------------------------------------------------


def report_of(run: HiddenTestRun) -> GradeReport:
    return GradeReport("sub", [score_exercise(run)], seed=1, python="3", cpus=2, mechanism="x",
                       elapsed=0)  # fmt: skip


def test_results_json_and_csv_tests_add_up_to_the_category_points():
    """Three equal tests of 10 points: 3.34 + 3.33 + 3.33 in every report, total 10."""
    ex = exercise({"correctness": 10.0, "timing": 3.0, "stress": 0})
    results = [result("correctness", 1.0, o, i) for i, o in enumerate(["passed"] * 3)]
    results += [result("timing", 2.0, "passed", 0), result("timing", 1.0, "failed", 1)]
    results += [result("timing", 1.0, "ungradable", 2)]
    report = report_of(HiddenTestRun(ex, results=results))
    data = json.loads(formats.render(report, "gradescope"))
    tests = data["tests"]
    assert [t["max_score"] for t in tests] == [3.34, 3.33, 3.33, 2.0, 1.0, 0.0]
    assert sum(Decimal(str(t["score"])) for t in tests) == Decimal(str(data["score"])) == 12
    rows = formats.render(report, "csv").splitlines()[1:]
    assert [r.split(",")[5] for r in rows] == ["3.34", "3.33", "3.33", "2.0", "1.0", "0.0"]


@pytest.mark.pack
def test_grading_a_real_submission_adds_up(tmp_path):
    """End to end on two real exercises: results.json's tests add up to its score and maximum."""
    from grader.grading.scoring import grade

    cat = catalogue_mod.load()
    slugs = ["late_binding", "concepts"]
    report = grade(catalogue_mod.CATALOGUE_PATH.parents[1] / "solutions", cat, only=slugs, seed=3)
    data = json.loads(formats.render(report, "gradescope"))
    score = sum(Decimal(str(t["score"])) for t in data["tests"])
    maximum = sum(Decimal(str(t["max_score"])) for t in data["tests"])
    assert (
        score
        == Decimal(str(data["score"]))
        == maximum
        == sum(Decimal(str(cat.get(s).max_points)) for s in slugs)
    )
    assert all(two_decimals(t["score"]) and two_decimals(t["max_score"]) for t in data["tests"])
