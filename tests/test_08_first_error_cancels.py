"""Visible tests for exercise 8, first_error_cancels. The grade adds hidden tests."""

import threading
import time


def run(watch, exercise, tasks, timeout=None):
    """Call run_until_first_error under the watchdog; return the observation."""
    return watch(exercise.run_until_first_error, tasks, timeout)


def test_results_come_back_in_task_order(exercise, watch):
    events = []

    def make(i, seconds):
        def task(cancel):
            events.append(cancel)
            time.sleep(seconds)
            return i * 10

        return task

    # Task 0 finishes last, task 2 first: the results must still follow the tasks.
    obs = run(watch, exercise, [make(0, 0.06), make(1, 0.03), make(2, 0.01)])
    assert obs.error is None and not obs.hung, f"expected results, got {obs.error!r}"
    assert obs.value == [0, 10, 20], f"expected [0, 10, 20] in task order, got {obs.value}"
    assert all(isinstance(e, threading.Event) for e in events), (
        "every task should be called with a threading.Event"
    )
    assert len({id(e) for e in events}) == 1, "every task should receive the same event"
    assert not events[0].is_set(), "the event must stay clear when no task fails"


def test_no_task_gives_an_empty_list(exercise, watch):
    obs = run(watch, exercise, [])
    assert obs.error is None and obs.value == [], (
        f"run_until_first_error([]) should return [], got {obs.value!r} / {obs.error!r}"
    )


def test_every_task_runs_at_the_same_time(exercise, watch):
    barrier = threading.Barrier(5)

    def task(cancel):
        barrier.wait(timeout=2)  # only opens when all five are running
        return "met"

    obs = run(watch, exercise, [task] * 5)
    assert obs.error is None and obs.value == ["met"] * 5, (
        f"the five tasks did not all run at the same time (got {obs.error!r}): "
        "start every task in its own thread before waiting for any"
    )


def test_the_first_failure_cancels_the_others(exercise, watch):
    boom = ConnectionError("the database went away")
    stopped = []

    def fails_soon(cancel):
        time.sleep(0.03)
        raise boom

    def waits_long(cancel):
        if cancel.wait(5):  # set: stop early, as Go code does on ctx.Done()
            stopped.append(True)
            return "stopped"
        return "finished"

    obs = run(watch, exercise, [waits_long, fails_soon, waits_long, waits_long])
    assert obs.error is boom, f"expected the ConnectionError the task raised, got {obs.error!r}"
    assert obs.elapsed < 1.5, (
        f"raising took {obs.elapsed:.1f}s: set the event at the first failure so the "
        "others stop early"
    )
    assert len(stopped) == 3, (
        f"{len(stopped)} of the 3 other tasks had stopped when the error was raised: "
        "wait for every task before raising"
    )


def test_a_timeout_cancels_and_raises_timeout_error(exercise, watch):
    def waits_long(cancel):
        cancel.wait(1)
        return "done"

    obs = run(watch, exercise, [waits_long] * 3, 0.1)
    assert isinstance(obs.error, TimeoutError), (
        f"expected TimeoutError after 0.1 s, got {obs.value!r} / {obs.error!r}"
    )
    assert obs.elapsed < 0.8, f"TimeoutError came after {obs.elapsed:.1f}s for a 0.1 s timeout"
