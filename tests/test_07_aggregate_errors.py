"""Visible tests for exercise 7, aggregate_errors. The grade adds hidden tests."""

import re
import threading
from functools import partial

from grader.harness.checks import check_quiet, raised, returned
from grader.harness.service import SimulatedService


def test_results_come_back_in_task_order(exercise, watch):
    # Task 0 finishes last, task 2 first: the results must still follow the tasks.
    service = SimulatedService({0: 0.06, 1: 0.03, 2: 0.01}, result=lambda i: i * 10)
    tasks = [partial(service, i) for i in range(3)]
    got = returned(watch(exercise.run_all, tasks), "run_all")
    assert got == [0, 10, 20], f"expected results in task order [0, 10, 20], got {got}"


def test_no_task_gives_an_empty_list(exercise, watch):
    got = returned(watch(exercise.run_all, []), "run_all")
    assert got == [], f"run_all([]) should return [], got {got!r}"


def test_every_task_runs_at_the_same_time(exercise, watch):
    barrier = threading.Barrier(10)

    def task():
        barrier.wait(timeout=2)  # only opens when all ten are running at once
        return "met"

    obs = watch(exercise.run_all, [task] * 10)
    assert obs.error is None and obs.value == ["met"] * 10, (
        f"the ten tasks did not all run at the same time (got {obs.error!r}): "
        "start every task in its own thread before waiting for any"
    )


def test_every_failure_reaches_the_caller(exercise, watch):
    first, second = KeyError("task 1 broke"), ValueError("task 3 broke")
    service = SimulatedService(0.02, failures={1: first, 3: second})
    tasks = [partial(service, i) for i in range(5)]
    obs = watch(exercise.run_all, tasks)
    check_quiet(obs, "run_all")
    error = raised(obs, "run_all")
    assert isinstance(error, ExceptionGroup), (
        f"expected an ExceptionGroup holding both failures, got {type(error).__name__}: {error}"
    )
    got = list(error.exceptions)
    assert len(got) == 2 and got[0] is first and got[1] is second, (
        f"expected the group to hold the two exceptions the tasks raised, in task order, got {got}"
    )
    numbers = [int(x) for x in re.findall(r"\d+", error.message)]
    assert 2 in numbers and 5 in numbers[numbers.index(2) + 1 :], (
        f"the group's message should say how many of how many tasks failed "
        f"(e.g. '2 of 5 tasks failed'), got {error.message!r}"
    )
    for index, exc in [(1, first), (3, second)]:
        notes = getattr(exc, "__notes__", [])
        assert any(str(index) in note for note in notes), (
            f"the exception of task {index} should carry a note naming its index "
            f"(exc.add_note(f'task {{i}}')), got notes {notes}"
        )


def test_a_quick_failure_waits_for_the_slow_tasks(exercise, watch):
    service = SimulatedService({0: 0.15, 1: 0.005, 2: 0.15}, failures={1: OSError("disk full")})
    tasks = [partial(service, i) for i in range(3)]
    obs = watch(exercise.run_all, tasks)
    raised(obs, "run_all")
    assert service.total_calls == 3 and service.in_flight == 0 and obs.elapsed >= 0.15, (
        "run_all raised before every task had finished: wait for all of them first"
    )
