"""Assertions with plain-words messages, shared by visible and hidden tests.

Each check names the concurrency concept behind a failure ("the calls ran one
after another"), so a student learns what went wrong without reading the test.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable

from grader.harness.observe import Observation
from grader.harness.service import _Recorder
from grader.harness.timing import Verdict, median_verdict

#: The last timing ratio judged by :func:`check_speed` in this test (reported
#: with the test's result, e.g. for the class report's fastest/slowest ratios).
RATIO: contextvars.ContextVar[float | None] = contextvars.ContextVar("ratio", default=None)


def fail(message: str, cause: BaseException | None = None) -> None:
    __tracebackhide__ = True
    raise AssertionError(message) from cause


def returned(obs: Observation, what: str = "the function"):
    """The call's value, or a failure that says how it ended instead."""
    __tracebackhide__ = True
    if obs.hung:
        fail(f"{what} {obs.hang_message()}")
    if obs.error is not None:
        err = obs.error
        fail(f"{what} raised {type(err).__name__}: {err}", cause=err)
    return obs.value


def raised(obs: Observation, what: str = "the function") -> BaseException:
    """The exception the call raised, or a failure if it returned or hung."""
    __tracebackhide__ = True
    if obs.hung:
        fail(f"{what} {obs.hang_message()}")
    if obs.error is None:
        fail(f"{what} returned {obs.value!r} instead of raising: the exception was lost")
    return obs.error


def check_peak(service: _Recorder, expected: int, what: str = "calls") -> None:
    """Exactly ``expected`` calls were in flight at the busiest moment."""
    __tracebackhide__ = True
    peak = service.peak_in_flight
    if peak == expected:
        return
    if peak <= 1 < expected:
        _serial_ratio(service)
        fail(
            f"only one of the {what} was in flight at a time (expected {expected} at once): "
            "they ran one after another, serialised"
        )
    if peak < expected:
        fail(f"at most {peak} {what} were in flight at once; expected {expected} at the same time")
    fail(f"{peak} {what} were in flight at once; the limit is {expected}")


def _serial_ratio(service: _Recorder) -> None:
    """Record the serialised calls' span ÷ their sequential time as the test's ratio, so a
    serialised submission shows among the slowest (its round fails before any ratio)."""
    calls = [c for c in service.calls if c.end is not None]
    if calls:
        sequential = sum(service.delay_for(c.arg) for c in calls)
        if sequential > 0:
            RATIO.set((max(c.end for c in calls) - min(c.start for c in calls)) / sequential)


def preview(items: list[str], limit: int = 3) -> str:
    """The first few items, comma-separated, with "…" when there are more."""
    return ", ".join(items[:limit]) + (" …" if len(items) > limit else "")


def check_no_leftovers(obs: Observation, what: str = "the function") -> None:
    """No thread or process started by the call outlived it."""
    __tracebackhide__ = True
    left = obs.leftover_threads + obs.leftover_processes
    if left:
        shown = preview(left)
        fail(
            f"{len(left)} thread(s)/process(es) still running after {what} returned ({shown}): "
            "wait for (join) everything you start before returning"
        )


def check_quiet(obs: Observation, what: str = "the function") -> None:
    """Nothing escaped to ``threading.excepthook`` or stderr."""
    __tracebackhide__ = True
    if obs.thread_exceptions:
        fail(
            f"an exception escaped from a thread and was lost: {obs.thread_exceptions[0]}; "
            "catch it inside the thread and hand it back to the caller"
        )
    if obs.stderr.strip():
        first = obs.stderr.strip().splitlines()[0][:200]
        fail(f"{what} wrote to stderr ({first!r}); report errors to the caller instead")


def check_speed(
    run_round: Callable[[], float],
    max_ratio: float,
    *,
    what: str = "the calls",
    rounds: int = 3,
) -> Verdict:
    """``run_round()`` returns wall time ÷ the sequential time (the known delays one after
    another); its median must be ≤ ``max_ratio``."""
    __tracebackhide__ = True
    verdict = median_verdict(run_round, lambda r: r <= max_ratio, rounds=rounds)
    RATIO.set(verdict.value)
    if not verdict.passed:
        fail(
            f"{what} took {verdict.value:.2f} × the sequential time (limit {max_ratio}): "
            "they do not overlap enough"
        )
    return verdict
