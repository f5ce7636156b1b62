"""Hidden tests for exercise 15, amdahl (never released to students).

Floats are compared with a relative tolerance: Amdahl's formula and its
rearrangements differ in the last digit about a third of the time. Targets for
``workers_needed`` are drawn strictly between two consecutive speedups, never on
one, so a closed form and a search over ``n`` give the same answer. Hypothesis
runs derandomized, so a grade is reproducible.
"""

import math
import numbers
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.harness.calling import each, invoke
from grader.harness.checks import fail
from grader.harness.observe import observe

PROPERTY = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
)
#: Points per example of a batched property: one round trip checks them all, and the
#: property sees as many points as the unbatched ``PROPERTY`` (BATCH × its examples).
BATCH = 10
BATCHED = settings(PROPERTY, max_examples=PROPERTY.max_examples // BATCH)
REL = 1e-9  # far above rounding noise, far below any real mistake

fractions = st.floats(min_value=0.0, max_value=1.0)
worker_counts = st.integers(min_value=1, max_value=10**6)


def law(s: float, n: int) -> float:
    return 1 / (s + (1 - s) / n)


def close(a: float, b: float, abs_tol: float = 0.0) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=abs_tol)


def shown(name: str, args: tuple) -> str:
    return f"{name}({', '.join(repr(a) for a in args)})"


def call(exercise, name: str, *args):
    """The function's value on a valid input; any exception becomes a plain failure."""
    try:
        return invoke(exercise, name, *args)
    except Exception as exc:
        raised(name, args, exc)


def raised(name: str, args: tuple, exc: Exception):
    if isinstance(exc, ValueError):
        fail(f"{shown(name, args)} raised ValueError ({exc}), but that input is valid")
    fail(f"{shown(name, args)} raised {type(exc).__name__}: {exc}")


def calls(exercise, name: str, points: list[tuple]) -> list:
    """The function's values on valid inputs, in one round trip; as ``call`` on an exception."""
    found = []
    for point, (ok, got) in zip(points, each(getattr(exercise, name), points), strict=True):
        if not ok:
            raised(name, tuple(point), got)
        found.append(got)
    return found


def batch(*elements) -> st.SearchStrategy:
    """``BATCH`` points, each a tuple drawn from ``elements``."""
    return st.lists(st.tuples(*elements), min_size=BATCH, max_size=BATCH)


def rejects(exercise, name: str, *args, why: str) -> None:
    """The function raises ValueError on an invalid input."""
    try:
        value = invoke(exercise, name, *args)
    except ValueError:
        return
    except Exception as exc:
        fail(
            f"{shown(name, args)} raised {type(exc).__name__} instead of raising ValueError: {why}"
        )
    fail(f"{shown(name, args)} returned {value!r} instead of raising ValueError: {why}")


def check_speedup(exercise, s: float, n: int) -> float:
    return check_speedup_value(s, n, call(exercise, "speedup", s, n))


def check_speedup_value(s: float, n: int, got) -> float:
    want = law(s, n)
    if isinstance(got, numbers.Real) and close(got, want):
        return got
    if isinstance(got, numbers.Real) and close(got, 1 / ((1 - s) + s / n)):
        why = (
            "the serial and parallel parts are swapped: the serial part s keeps its full "
            "length and only the parallel part (1 - s) is divided among the workers"
        )
    elif isinstance(got, numbers.Real) and close(got, s + (1 - s) / n):
        why = "that is the new running time, not the speedup: the speedup is 1 divided by it"
    else:
        why = "Amdahl's law gives 1 / (s + (1 - s) / n)"
    fail(f"speedup({s!r}, {n!r}) returned {got!r}, expected {want:.6g}: {why}")


# --- speedup -----------------------------------------------------------------------------------


@pytest.mark.correctness
def test_course_table(exercise):
    """A 30% serial program: the course's table and its cap"""
    for n, rounded in [(2, 1.54), (4, 2.11), (8, 2.58), (16, 2.91)]:
        got = check_speedup(exercise, 0.3, n)
        assert round(got, 2) == rounded, f"speedup(0.3, {n}) returned {got!r}, not about {rounded}"
    cap = call(exercise, "max_speedup", 0.3)
    assert isinstance(cap, numbers.Real) and close(cap, 1 / 0.3), (
        f"max_speedup(0.3) returned {cap!r}, expected 3.33 (1 / 0.3): "
        "the cap is 1 divided by the serial fraction"
    )


@pytest.mark.correctness
def test_speedup_follows_the_law(exercise):
    """The speedup follows Amdahl's law for any fraction and worker count"""

    @BATCHED
    @given(points=batch(fractions, worker_counts))
    def prop(points):
        for (s, n), got in zip(points, calls(exercise, "speedup", points), strict=True):
            check_speedup_value(s, n, got)

    prop()
    check_speedup(exercise, 0.0, 12)  # no serial part: as many times faster as workers
    check_speedup(exercise, 1.0, 12)  # all serial: no speedup at all
    check_speedup(exercise, 0.45, 1)  # one worker: no speedup


@pytest.mark.correctness
def test_speedup_is_monotone_and_capped(exercise):
    """More workers never hurt, more serial work never helps, and the cap holds"""

    @BATCHED
    @given(points=batch(fractions, st.integers(1, 10**5), st.integers(1, 10**5)))
    def more_workers(points):
        asked = [p for s, n, k in points for p in ((s, n), (s, n + k))]
        speedups = calls(exercise, "speedup", asked)
        caps = calls(exercise, "max_speedup", [(s,) for s, _, _ in points])
        for (s, n, k), fewer, more, cap in zip(
            points, speedups[::2], speedups[1::2], caps, strict=True
        ):
            more_workers_hold(s, n, k, fewer, more, cap)

    def more_workers_hold(s, n, k, fewer, more, cap):
        assert more >= fewer * (1 - REL), (
            f"speedup({s!r}, {n + k}) = {more!r} is below speedup({s!r}, {n}) = {fewer!r}: "
            "adding workers never makes Amdahl's program slower"
        )
        assert more <= cap * (1 + REL), (
            f"speedup({s!r}, {n + k}) = {more!r} exceeds max_speedup({s!r}) = {cap!r}: "
            "no number of workers beats the cap 1 / s"
        )
        assert 1 - REL <= fewer <= n * (1 + REL), (
            f"speedup({s!r}, {n}) = {fewer!r} is outside [1, {n}]: "
            "n workers are never slower than one, nor more than n times faster"
        )

    @BATCHED
    @given(points=batch(fractions, fractions, worker_counts))
    def more_serial(points):
        asked = [p for a, b, n in points for p in ((min(a, b), n), (max(a, b), n))]
        speedups = calls(exercise, "speedup", asked)
        for (a, b, n), best, worst in zip(points, speedups[::2], speedups[1::2], strict=True):
            more_serial_holds(min(a, b), max(a, b), n, best, worst)

    def more_serial_holds(low, high, n, best, worst):
        assert worst <= best * (1 + REL), (
            f"speedup({high!r}, {n}) = {worst!r} beats speedup({low!r}, {n}) = {best!r}: "
            "a larger serial fraction can only lower the speedup"
        )

    more_workers()
    more_serial()


# --- max_speedup -------------------------------------------------------------------------------


@pytest.mark.correctness
def test_max_speedup(exercise):
    """The cap is 1 / s, and infinite with no serial part"""
    for zero in (0, 0.0):
        try:
            got = exercise.max_speedup(zero)
        except Exception as exc:
            got = f"an exception ({type(exc).__name__}: {exc})"
        assert got == math.inf, (
            f"max_speedup({zero!r}) gave {got}: a program with no serial part has no cap, "
            "so the answer is math.inf"
        )
    rng = random.Random(15)
    for s in [1.0, 0.25, 0.5, *(rng.uniform(0.001, 1) for _ in range(20))]:
        got = call(exercise, "max_speedup", s)
        assert isinstance(got, numbers.Real) and close(got, 1 / s), (
            f"max_speedup({s!r}) returned {got!r}, expected {1 / s:.6g}: "
            "the cap is 1 divided by the serial fraction"
        )


# --- serial_fraction_from (Karp–Flatt) ---------------------------------------------------------


def check_fraction(exercise, measured: float, n: int, want: float) -> None:
    check_fraction_value(measured, n, want, call(exercise, "serial_fraction_from", measured, n))


def check_fraction_value(measured: float, n: int, want: float, got) -> None:
    if isinstance(got, numbers.Real) and close(got, want, abs_tol=1e-9):
        return
    hint = "it must undo speedup: solve speedup(s, workers) = measured_speedup for s"
    if isinstance(got, numbers.Real) and close(got, 1 / measured - 1 / n, abs_tol=1e-9):
        hint += "; 1/speedup - 1/workers still has to be divided by 1 - 1/workers"
    fail(f"serial_fraction_from({measured!r}, {n}) returned {got!r}, expected {want:.6g}: {hint}")


@pytest.mark.correctness
def test_karp_flatt_undoes_speedup(exercise):
    """The Karp–Flatt metric recovers the serial fraction from a speedup"""

    @BATCHED
    @given(points=batch(st.floats(0.01, 0.99), st.integers(2, 1000)))
    def from_fraction(points):
        asked = [(law(s, n), n) for s, n in points]
        found = calls(exercise, "serial_fraction_from", asked)
        for (s, n), (measured, _), got in zip(points, asked, found, strict=True):
            check_fraction_value(measured, n, s, got)

    @BATCHED
    @given(points=batch(st.floats(0.0, 1.0), st.integers(2, 1000)))
    def from_speedup(points):
        asked = [(1 + u * (n - 1), n) for u, n in points]  # anywhere in [1, n]
        found = calls(exercise, "serial_fraction_from", asked)
        for (measured, n), s in zip(asked, found, strict=True):
            undoes_speedup(measured, n, s)

    def undoes_speedup(measured, n, s):
        assert isinstance(s, numbers.Real) and math.isclose(law(s, n), measured, rel_tol=1e-7), (
            f"serial_fraction_from({measured!r}, {n}) returned {s!r}, but that fraction gives "
            f"a speedup of {law(s, n) if isinstance(s, numbers.Real) else '?'} on {n} workers: "
            "it must undo speedup"
        )

    from_fraction()
    from_speedup()


@pytest.mark.correctness
def test_karp_flatt_extremes(exercise):
    """A perfect speedup means no serial part; no speedup means all serial"""
    for n in (2, 3, 8, 49, 1000):
        check_fraction(exercise, n, n, 0.0)
        check_fraction(exercise, 1, n, 1.0)
        check_fraction(exercise, float(n), n, 0.0)


# --- workers_needed ----------------------------------------------------------------------------


def check_workers(exercise, s: float, target: float, want: int) -> None:
    check_workers_value(s, target, want, call(exercise, "workers_needed", s, target))


def check_workers_value(s: float, target: float, want: int, got) -> None:
    if got is None:
        fail(
            f"workers_needed({s!r}, {target!r}) returned None, but {want} workers reach it "
            f"(a speedup of {law(s, want):.6g}; the cap is {1 / s if s else math.inf:.6g})"
        )
    if not isinstance(got, numbers.Integral) or isinstance(got, bool):
        fail(
            f"workers_needed({s!r}, {target!r}) returned {got!r}: "
            "it must return a whole number of workers (an int)"
        )
    if got < want:
        fail(
            f"workers_needed({s!r}, {target!r}) returned {got}, but the speedup with {got} "
            f"worker(s) is only {law(s, got) if got >= 1 else 0:.6g}, below the target: "
            f"{want - got} worker(s) too few"
        )
    if got > want:
        fail(
            f"workers_needed({s!r}, {target!r}) returned {got}, but {want} workers already give "
            f"{law(s, want):.6g}: {got - want} worker(s) too many, return the fewest"
        )


@pytest.mark.correctness
def test_workers_needed_is_the_fewest(exercise):
    """The fewest workers that reach a target speedup"""

    @BATCHED
    @given(points=batch(st.floats(0.0, 0.95), st.integers(2, 200), st.floats(0.05, 0.95)))
    def prop(points):
        targets = []
        for s, n, t in points:
            below, reached = law(s, n - 1), law(s, n)
            targets.append(below + t * (reached - below))  # strictly between n - 1 and n
        asked = [(s, target) for (s, _, _), target in zip(points, targets, strict=True)]
        found = calls(exercise, "workers_needed", asked)
        for (s, n, _), target, got in zip(points, targets, found, strict=True):
            check_workers_value(s, target, n, got)

    prop()
    check_workers(exercise, 0.3, 2.45, 7)
    check_workers(exercise, 0.9, 1.01, 2)
    check_workers(exercise, 0.0, 7.5, 8)  # no serial part: n workers, n times faster
    check_workers(exercise, 0.0, 1000.5, 1001)


@pytest.mark.correctness
def test_workers_needed_edges(exercise, impl_root):
    """A target of 1 needs one worker; a target at or past the cap is never reached"""
    for s in (0.0, 0.5, 0.75):
        check_workers(exercise, s, 1, 1)
    for target in (1, 1.0):  # all serial: the cap is exactly 1, and a target of 1 is reached
        got = call(exercise, "workers_needed", 1.0, target)
        if got is None:
            fail(
                f"workers_needed(1.0, {target!r}) returned None, but one worker already gives "
                "a speedup of 1: decide in the stated order, a target of exactly 1 needs 1 "
                "worker before the cap (here also 1) is checked"
            )
        check_workers(exercise, 1.0, target, 1)
    for s, target in [(0.3, 3.4), (0.5, 2.5), (0.1, 10.5), (1.0, 1.5), (0.3, 1e9), (0.01, 1e300)]:
        obs = observe(
            exercise.workers_needed, s, target, timeout=3.0, grace=0.0, student_root=str(impl_root)
        )
        if obs.hung:
            fail(
                f"workers_needed({s!r}, {target!r}) did not return: a target above the cap "
                f"({1 / s:.6g}) is never reached, so searching for it never ends; return None"
            )
        if obs.error is not None:
            err = obs.error
            fail(
                f"workers_needed({s!r}, {target!r}) raised {type(err).__name__} ({err}): "
                f"a target above the cap ({1 / s:.6g}) is never reached, so return None"
            )
        assert obs.value is None, (
            f"workers_needed({s!r}, {target!r}) returned {obs.value!r}, but no number of "
            f"workers reaches that target (the cap is 1 / s = {1 / s:.6g}): "
            "it should return None"
        )


# --- invalid input -----------------------------------------------------------------------------


@pytest.mark.correctness
def test_invalid_fraction_or_workers(exercise):
    """A serial fraction outside [0, 1] or too few workers raises ValueError"""
    outside = "a serial fraction lies between 0 and 1"
    for s in (-0.1, 1.5, -1e-7, 2.0):
        rejects(exercise, "speedup", s, 4, why=outside)
        rejects(exercise, "max_speedup", s, why=outside)
        rejects(exercise, "workers_needed", s, 2.0, why=outside)
    for n in (0, -3):
        rejects(exercise, "speedup", 0.3, n, why="a program needs at least one worker")
    for n in (1, 0, -2):
        rejects(
            exercise,
            "serial_fraction_from",
            1.0,
            n,
            why="with fewer than 2 workers the serial fraction cannot be recovered",
        )


@pytest.mark.correctness
def test_impossible_speedups(exercise):
    """An impossible measured speedup or target raises ValueError"""
    for measured, n in [(0.5, 4), (0.0, 4), (-2.0, 4), (5.0, 4), (8.5, 8), (100.0, 2)]:
        rejects(
            exercise,
            "serial_fraction_from",
            measured,
            n,
            why=f"with {n} workers a speedup lies between 1 and {n}",
        )
    for target in (0.5, 0.0, -3.0):
        rejects(
            exercise,
            "workers_needed",
            0.3,
            target,
            why="a target speedup below 1 would need fewer than one worker",
        )


# --- how exact the range checks are --------------------------------------------------------------

FAR = 1e-7  # beyond the forgiven rounding (at most 1e-9): must raise
HAIR = 1e-12  # within it: either raise, or be treated as the end of the range
BEYOND_ROUNDING = "it lies 1e-7 outside the range, more than rounding explains (at most 1e-9)"


def just_outside(exercise, name: str, args: tuple, end_value, what: str) -> None:
    """A value a hair outside its range raises ValueError, or counts as the end itself."""
    try:
        got = invoke(exercise, name, *args)
    except ValueError:
        return
    except Exception as exc:
        fail(f"{shown(name, args)} raised {type(exc).__name__}: {exc}")
    if end_value is None or isinstance(end_value, int):
        ok = got == end_value and (end_value is None or not isinstance(got, bool))
    elif math.isinf(end_value):
        ok = got == end_value
    else:
        ok = isinstance(got, numbers.Real) and close(got, end_value, abs_tol=1e-9)
    if not ok:
        fail(
            f"{shown(name, args)} returned {got!r}: {what} lies a hair outside its range, "
            "which you may forgive as rounding, but then treat it as the end of the range "
            f"exactly (expected {end_value!r}), or raise ValueError"
        )


@pytest.mark.correctness
def test_range_checks_forgive_at_most_rounding(exercise):
    """Values a hair outside a range may count as its end; farther outside they raise"""
    for s in (-FAR, 1 + FAR):
        rejects(exercise, "speedup", s, 4, why=BEYOND_ROUNDING)
        rejects(exercise, "max_speedup", s, why=BEYOND_ROUNDING)
        rejects(exercise, "workers_needed", s, 2.0, why=BEYOND_ROUNDING)
    for n in (2, 8, 49):
        rejects(exercise, "serial_fraction_from", n * (1 + FAR), n, why=BEYOND_ROUNDING)
        rejects(exercise, "serial_fraction_from", 1 - FAR, n, why=BEYOND_ROUNDING)
    rejects(exercise, "workers_needed", 0.3, 1 - FAR, why=BEYOND_ROUNDING)
    fraction = "the serial fraction"
    just_outside(exercise, "speedup", (-HAIR, 8), law(0.0, 8), fraction)
    just_outside(exercise, "speedup", (1 + HAIR, 8), 1.0, fraction)
    just_outside(exercise, "max_speedup", (-HAIR,), math.inf, fraction)
    just_outside(exercise, "max_speedup", (1 + HAIR,), 1.0, fraction)
    just_outside(exercise, "workers_needed", (-HAIR, 2.5), 3, fraction)
    for n in (2, 8, 49):
        measured = "the measured speedup"
        just_outside(exercise, "serial_fraction_from", (n * (1 + HAIR), n), 0.0, measured)
        just_outside(exercise, "serial_fraction_from", (1 - HAIR, n), 1.0, measured)
    just_outside(exercise, "workers_needed", (0.3, 1 - HAIR), 1, "the target")
