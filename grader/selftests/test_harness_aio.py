"""The asyncio probes: values, errors, leaked tasks, lost exceptions, blocked loops.

Also checks that exercise 12's docstring example runs against real pages from a
local ``http.server`` (loopback only).
"""

from __future__ import annotations

import asyncio
import doctest
import time
import warnings
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader.harness.aio import (
    LoopRun,
    check_no_pending,
    check_not_blocked,
    check_nothing_lost,
    finished,
    returned_value,
    run_in_loop,
)
from grader.harness.loading import load_exercise
from grader.harness.observe import Observation, observe

ROOT = Path(__file__).resolve().parents[2]


async def answer(x: int, *, plus: int = 0) -> int:
    await asyncio.sleep(0.01)
    return x + plus


def test_value_args_and_elapsed() -> None:
    run = run_in_loop(answer, 40, plus=2)
    assert run.value == 42 and run.error is None
    assert 0.009 <= run.elapsed < 1.0
    assert run.pending == [] and run.never_retrieved == [] and run.never_awaited == []


def test_the_calls_exception_is_reported_not_raised() -> None:
    boom = ValueError("boom")

    async def fails() -> None:
        await asyncio.sleep(0)
        raise boom

    assert run_in_loop(fails).error is boom


def test_cancelled_error_is_reported_too() -> None:
    async def cancels_itself() -> None:
        raise asyncio.CancelledError

    assert isinstance(run_in_loop(cancels_itself).error, asyncio.CancelledError)


def test_a_plain_function_is_not_a_coroutine_function() -> None:
    def not_async() -> int:
        return 1

    run = run_in_loop(not_async)
    assert isinstance(run.error, TypeError)
    assert "async def" in str(run.error)


def test_tasks_left_pending_are_named_then_cleaned_up() -> None:
    cancelled_later: list[bool] = []

    async def leaves_tasks() -> None:
        async def fetch_one() -> None:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                cancelled_later.append(True)
                raise

        for _ in range(2):
            asyncio.create_task(fetch_one())  # noqa: RUF006 - the leak under test
        await asyncio.sleep(0)

    start = time.perf_counter()
    run = run_in_loop(leaves_tasks)
    assert time.perf_counter() - start < 2.0, "leftover tasks must be cancelled, not awaited"
    assert len(run.pending) == 2
    assert all("fetch_one" in name for name in run.pending)
    assert cancelled_later == [True, True], "leftover tasks are cancelled like asyncio.run does"
    assert run.loop_errors == [], "no 'Task was destroyed but it is pending' after cleanup"
    with pytest.raises(AssertionError, match=r"2 task\(s\) were still pending"):
        check_no_pending(run, "fetch_report")


def test_a_cancelled_task_not_awaited_is_still_pending() -> None:
    async def cancels_without_waiting() -> None:
        task = asyncio.create_task(asyncio.sleep(10))
        await asyncio.sleep(0)
        task.cancel()

    run = run_in_loop(cancels_without_waiting)
    assert len(run.pending) == 1
    assert "cancelled but not awaited" in run.pending[0]


def test_no_pending_when_every_task_is_awaited() -> None:
    async def awaits_all() -> list[int]:
        tasks = [asyncio.create_task(answer(i)) for i in range(5)]
        return await asyncio.gather(*tasks)

    run = run_in_loop(awaits_all)
    assert run.value == [0, 1, 2, 3, 4]
    check_no_pending(run)
    check_nothing_lost(run)


def test_task_exception_never_retrieved_is_caught() -> None:
    async def fire_and_forget() -> None:
        async def fails() -> None:
            raise ConnectionError("lost")

        asyncio.create_task(fails())  # noqa: RUF006 - the leak under test
        await asyncio.sleep(0.01)  # the task fails; nobody looks at it

    run = run_in_loop(fire_and_forget)
    assert run.pending == []
    assert len(run.never_retrieved) == 1
    assert "ConnectionError: lost" in run.never_retrieved[0]
    with pytest.raises(AssertionError, match="never retrieved"):
        check_nothing_lost(run)


def test_coroutine_never_awaited_is_caught() -> None:
    async def forgets_await() -> None:
        answer(1)  # creates a coroutine and drops it
        await asyncio.sleep(0)

    run = run_in_loop(forgets_await)
    assert any("'answer' was never awaited" in w for w in run.never_awaited)
    with pytest.raises(AssertionError, match="never awaited"):
        check_nothing_lost(run)


def test_warnings_state_is_restored() -> None:
    before = list(warnings.filters)
    run_in_loop(answer, 1)
    assert warnings.filters == before


def test_other_loop_errors_are_recorded() -> None:
    async def bad_callback() -> None:
        asyncio.get_running_loop().call_soon(lambda: 1 / 0)
        await asyncio.sleep(0.01)

    run = run_in_loop(bad_callback)
    assert any("ZeroDivisionError" in e for e in run.loop_errors)
    with pytest.raises(AssertionError, match="the event loop reported an error"):
        check_nothing_lost(run)


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_a_blocking_sleep_shows_as_lag_and_busy_time(where: str) -> None:
    async def blocks() -> None:
        if where == "start":
            time.sleep(0.1)
        await asyncio.sleep(0.02)
        if where == "middle":
            time.sleep(0.1)
        await asyncio.sleep(0.02)
        if where == "end":
            time.sleep(0.1)

    run = run_in_loop(blocks)
    assert 0.095 <= run.max_busy < 1.0
    assert run.max_lag >= 0.09
    with pytest.raises(AssertionError, match=r"blocked the event loop for \d+ ms"):
        check_not_blocked(run, 0.05, "fetch_report")


def test_awaiting_does_not_count_as_blocking() -> None:
    async def waits() -> None:
        for _ in range(10):
            await asyncio.sleep(0.01)

    run = run_in_loop(waits)
    assert run.ticks >= 5, "the heartbeat ran while the coroutine waited"
    assert run.max_busy < 0.05  # well above noise: a blocked loop shows 0.1 s above
    check_not_blocked(run, 0.05)


def test_through_the_watchdog_in_another_thread() -> None:
    obs = observe(run_in_loop, answer, 1, plus=1, timeout=10)
    run = finished(obs, "answer")
    assert returned_value(run, "answer") == 2
    assert obs.leftover_threads == []


def test_finished_and_returned_value_messages() -> None:
    with pytest.raises(AssertionError, match="did not return within the time limit"):
        finished(Observation(hung=True), "fetch_report")
    with pytest.raises(AssertionError, match="fetch_report raised KeyError: 'x'; do better"):
        returned_value(LoopRun(error=KeyError("x")), "fetch_report", "; do better")


# --- exercise 12's docstring example: real pages from a loopback http.server -----------------


def example_of(text: str) -> str:
    """The doctest part of a module docstring, from its first ``>>>`` line."""
    docstring = text.split('"""')[1]
    return docstring[docstring.index(">>> ") :]


def test_async_fetcher_example_runs_against_the_solution() -> None:
    exercise = catalogue_mod.load().get("async_fetcher")
    module = load_exercise(ROOT / "solutions", exercise).module
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    output: list[str] = []
    for test in finder.find(module, globs=dict(vars(module))):
        runner.run(test, out=output.append)
    assert runner.tries >= 10, "the example is a doctest in the module docstring"
    assert runner.failures == 0, "".join(output)
    assert "127.0.0.1" in module.__doc__ and "localhost" not in module.__doc__


def test_async_fetcher_stub_shows_the_same_example() -> None:
    exercise = catalogue_mod.load().get("async_fetcher")
    stub = (ROOT / "exercises" / exercise.module_file).read_text(encoding="utf-8")
    solution = (ROOT / "solutions" / exercise.module_file).read_text(encoding="utf-8")
    assert example_of(stub) == example_of(solution)
