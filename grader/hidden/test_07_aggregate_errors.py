"""Hidden tests for exercise 7, aggregate_errors (never released to students)."""

import random
import re
import threading
import time
from functools import partial

import pytest

from grader.harness.checks import (
    check_no_leftovers,
    check_quiet,
    check_speed,
    fail,
    raised,
    returned,
)
from grader.harness.service import SimulatedService


class TaskFailed(Exception):
    """What a failing test task raises; one fresh object per task and round."""


_clock = time.perf_counter  # taken at import, before student code runs
_sleep = time.sleep


class Gate:
    """Holds every task until all ``n`` are in flight at once: the witness of concurrency.

    Peak in-flight counts of short tasks depend on how fast threads start (a
    pool starts its threads one by one); the gate does not. It gives up after
    ``patience`` seconds (once per round), so serialised code is only slowed
    down, and then reports how many tasks it ever saw at once.
    """

    def __init__(self, n: int, patience: float = 2.0) -> None:
        self.n = n
        self.patience = patience
        self.arrived = 0
        self.gave_up = False
        self._cond = threading.Condition()

    def __call__(self, task, i):
        with self._cond:
            self.arrived += 1
            self._cond.notify_all()
            deadline = _clock() + self.patience
            while self.arrived < self.n and not self.gave_up:
                left = deadline - _clock()
                if left <= 0:
                    self.gave_up = True
                    self.seen_at_once = self.arrived
                    self._cond.notify_all()
                    break
                self._cond.wait(left)
        return task(i)

    def check(self) -> None:
        """Every task was in flight at the same moment."""
        __tracebackhide__ = True
        if not self.gave_up:
            return
        seen = self.seen_at_once
        if seen <= 1 < self.n:
            fail(
                f"only one of the {self.n} tasks was running at a time: "
                "they ran one after another, serialised"
            )
        fail(f"at most {seen} of the {self.n} tasks were running at once; expected all of them")


def make_tasks(n, delays, failing=(), tag="", gate=None):
    """n tasks calling a recorded service with their index; ``failing`` ones raise.

    ``gate`` (a ``Gate`` or ``ReverseFailures``) wraps each call when given.
    """
    errors = {i: TaskFailed(f"task failure {tag}{i}") for i in failing}
    service = SimulatedService(delays, failures=errors, result=lambda i: f"result {tag}{i}")
    if gate is None:
        tasks = [partial(service, i) for i in range(n)]
    else:
        tasks = [partial(gate, service, i) for i in range(n)]
    expected = [f"result {tag}{i}" for i in range(n)]
    return tasks, service, errors, expected


class ReverseFailures:
    """Failing tasks raise in reverse task order: the witness of completion-order grouping.

    Delays alone (later failures a few ms sooner) are not a witness on a loaded
    machine, where starting the threads can take longer than the gaps. Here a
    failing task, once its own work is done, waits until every later failing
    task that has started has raised, then ``margin`` more, so the caller sees
    the failures happen newest-first. A task never waits for one that has not
    started within ``grace``: code that runs tasks one at a time or in a small
    pool is only slowed down, never deadlocked.
    """

    def __init__(self, failing, grace: float = 0.1, margin: float = 0.02) -> None:
        self.failing = sorted(failing)
        self.grace = grace
        self.margin = margin
        self.started: set[int] = set()
        self.raised: set[int] = set()
        self._cond = threading.Condition()

    def __call__(self, task, i):
        with self._cond:
            self.started.add(i)
            self._cond.notify_all()
        try:
            return task(i)
        except TaskFailed:
            self._wait_for_later_failures(i)
            raise
        finally:
            with self._cond:
                self.raised.add(i)
                self._cond.notify_all()

    def _wait_for_later_failures(self, i) -> None:
        later = [j for j in self.failing if j > i]
        start = _clock()
        with self._cond:
            for j in later:
                while j not in self.raised:
                    waited = _clock() - start
                    if j not in self.started and waited >= self.grace:
                        break
                    if waited >= 10.0:  # a safety net, never reached by a started task
                        break
                    self._cond.wait(0.01)
        if later:
            _sleep(self.margin)


def run_and_snapshot(exercise, tasks, service, snap):
    """Run run_all; note how many tasks were still running when it returned or raised."""
    try:
        return list(exercise.run_all(tasks))
    finally:
        snap["in_flight"] = service.in_flight
        snap["started"] = service.total_calls


def watch_run(exercise, watch, tasks, service):
    snap: dict = {}
    obs = watch(run_and_snapshot, exercise, tasks, service, snap)
    return obs, snap


def check_finished(snap, n, verb="returned"):
    if snap.get("in_flight", 0) or snap.get("started", n) < n:
        fail(
            f"run_all {verb} while {snap.get('in_flight', 0)} task(s) were still running "
            f"({snap.get('started', 0)} of {n} had started): wait for every task to finish first"
        )


def numbers_in(text) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", str(text))]


def says_k_of_n(message, k, n) -> bool:
    """The message holds the number k and, later, the number n."""
    nums = numbers_in(message)
    return any(nums[i] == k and n in nums[i + 1 :] for i in range(len(nums)))


def check_group(error, errors, n):
    """``error`` is an ExceptionGroup of exactly ``errors`` (index → exception), noted."""
    __tracebackhide__ = True
    expected = [errors[i] for i in sorted(errors)]
    k = len(expected)
    if not isinstance(error, BaseExceptionGroup):
        if any(error is e for e in expected):
            fail(
                f"only one of the {k} failures reached the caller: raise an ExceptionGroup "
                "holding every task's exception"
            )
        fail(
            f"expected an ExceptionGroup holding the {k} tasks' exceptions, "
            f"got {type(error).__name__}: {error}"
        )
    got = list(error.exceptions)
    if len(got) != k:
        fail(f"the ExceptionGroup holds {len(got)} exception(s) but {k} of {n} tasks failed")
    if {id(e) for e in got} != {id(e) for e in expected}:
        fail(
            "the ExceptionGroup must hold the very exception objects the tasks raised "
            "(not copies, wrappers or nested groups)"
        )
    if any(g is not e for g, e in zip(got, expected, strict=True)):
        fail("the exceptions in the ExceptionGroup are not in task order")
    for i in sorted(errors):
        notes = getattr(errors[i], "__notes__", None) or []
        if not any(i in numbers_in(note) for note in notes):
            fail(
                f"the exception of task {i} has no note naming its task index "
                f"(its notes: {notes!r}); use add_note"
            )
    if not says_k_of_n(error.message, k, n):
        fail(
            f"the ExceptionGroup's message {error.message!r} should say how many of how many "
            f"tasks failed ({k} of {n})"
        )


@pytest.mark.correctness
@pytest.mark.parametrize("n", [1, 6, 30])
def test_results_in_task_order(exercise, watch, race_seed, n):
    """With no failure, the results come back in task order"""
    tag = f"{race_seed % 1000}-"
    delays = {i: 0.004 + 0.002 * (n - i) for i in range(n)}  # later tasks finish first
    tasks, service, _, expected = make_tasks(n, delays, tag=tag)
    obs, snap = watch_run(exercise, watch, tasks, service)
    got = returned(obs, "run_all")
    check_finished(snap, n)
    if sorted(map(str, got)) == sorted(expected) and got != expected:
        fail("results are in the order the tasks finished, not in task order")
    assert got == expected, "results do not match the tasks' return values"
    assert service.total_calls == n, f"{service.total_calls} task calls for {n} tasks"


@pytest.mark.correctness
def test_empty_input(exercise, watch):
    """No task gives an empty list"""
    obs = watch(exercise.run_all, [])
    got = returned(obs, "run_all")
    assert list(got) == [], f"run_all([]) returned {got!r} instead of []"


@pytest.mark.correctness
@pytest.mark.weight(2)
@pytest.mark.parametrize("n", [5, 12])
def test_some_tasks_fail(exercise, watch, race_seed, n):
    """Every failure is reported, in task order, with notes, after all tasks finished"""
    rng = random.Random(race_seed)
    failing = sorted(rng.sample(range(n), rng.randrange(2, n - 1)))
    # Failures are raised newest task first, and the successes outlast the first of them.
    delays = {i: (0.01 if i in failing else 0.06 + 0.003 * i) for i in range(n)}
    reverse = ReverseFailures(failing)
    tasks, service, errors, _ = make_tasks(n, delays, failing, f"{race_seed}-", reverse)
    obs, snap = watch_run(exercise, watch, tasks, service)
    error = raised(obs, "run_all")
    check_finished(snap, n, "raised")
    check_group(error, errors, n)


@pytest.mark.correctness
def test_every_task_fails(exercise, watch, race_seed):
    """When every task fails, every failure is reported"""
    n = 4 + race_seed % 5
    tasks, service, errors, _ = make_tasks(n, 0.01, range(n), tag=f"{race_seed}-")
    obs, snap = watch_run(exercise, watch, tasks, service)
    error = raised(obs, "run_all")
    check_finished(snap, n, "raised")
    check_group(error, errors, n)


@pytest.mark.correctness
def test_one_task_fails(exercise, watch, race_seed):
    """A single failure is still raised inside an ExceptionGroup"""
    n = 7
    bad = race_seed % n
    tasks, service, errors, _ = make_tasks(n, 0.01, [bad], tag=f"{race_seed}-")
    obs, snap = watch_run(exercise, watch, tasks, service)
    error = raised(obs, "run_all")
    check_finished(snap, n, "raised")
    check_group(error, errors, n)


@pytest.mark.correctness
def test_quick_failure_waits_for_slow_tasks(exercise, watch, race_seed):
    """A quick failure is raised only after the slow tasks finished"""
    n = 6
    bad = race_seed % n
    delays = {i: 0.005 if i == bad else 0.15 for i in range(n)}
    # One task takes 1.6 s: longer than any "reasonable" join timeout (1 s),
    # so code that gives up waiting raises while it still runs.
    slowest = random.Random(race_seed).choice([i for i in range(n) if i != bad])
    delays[slowest] = 1.6
    tasks, service, errors, _ = make_tasks(n, delays, [bad], tag=f"{race_seed}-")
    obs, snap = watch_run(exercise, watch, tasks, service)
    error = raised(obs, "run_all")
    check_finished(snap, n, "raised")
    check_group(error, errors, n)


def overlap_ratio(exercise, watch, n, delays, failing, tag):
    """One round: wall time ÷ the sequential ideal, after checking the outcome."""
    gate = Gate(n)
    tasks, service, errors, expected = make_tasks(n, delays, failing, tag=tag, gate=gate)
    obs, snap = watch_run(exercise, watch, tasks, service)
    gate.check()
    if failing:
        error = raised(obs, "run_all")
        check_finished(snap, n, "raised")
        check_group(error, errors, n)
        slowest = max(service.delay_for(i) for i in range(n))
        if obs.elapsed < slowest:
            fail(
                f"run_all raised after {obs.elapsed:.3f}s, before its slowest task "
                f"({slowest:.2f}s) finished: tasks were still running"
            )
    else:
        got = returned(obs, "run_all")
        check_finished(snap, n)
        assert got == expected, "results do not match the tasks' return values"
    return obs.elapsed / service.ideal_sequential(range(n))


@pytest.mark.timing
def test_tasks_overlap(exercise, watch, race_seed):
    """20 tasks of 50 ms overlap: at most 0.3 × the sequential time"""
    check_speed(
        lambda: overlap_ratio(exercise, watch, 20, 0.05, (), f"{race_seed}-"),
        0.3,
        what="20 tasks of 50 ms",
    )


@pytest.mark.timing
def test_failing_tasks_overlap_and_wait_for_the_slowest(exercise, watch, race_seed):
    """With failures, tasks still overlap and the raise comes after the slowest task"""
    rng = random.Random(race_seed)
    n = 20
    failing = sorted(rng.sample(range(n), 4))
    slow = rng.choice([i for i in range(n) if i not in failing])
    delays = {i: 0.01 if i in failing else (0.12 if i == slow else 0.08) for i in range(n)}
    rounds = iter(range(100))
    check_speed(
        lambda: overlap_ratio(exercise, watch, n, delays, failing, f"{race_seed}-{next(rounds)}-"),
        0.3,
        what="20 tasks, 4 of them failing",
    )


@pytest.mark.stress
def test_amplified_repeats(exercise, watch, race, race_seed):
    """Amplified repeats: every failure reported, nothing lost or left running"""
    rng = random.Random(race_seed)
    with race():
        for round_ in range(14):
            n = rng.randrange(3, 13)
            failing = sorted(rng.sample(range(n), rng.randrange(0, n + 1)))
            delays = {i: 0.002 + rng.random() * 0.012 for i in range(n)}
            gate = Gate(n)
            tasks, service, errors, expected = make_tasks(n, delays, failing, f"{round_}-", gate)
            obs, snap = watch_run(exercise, watch, tasks, service)
            check_quiet(obs, "run_all")
            gate.check()
            if failing:
                error = raised(obs, "run_all")
                check_finished(snap, n, "raised")
                check_group(error, errors, n)
            else:
                got = returned(obs, "run_all")
                check_finished(snap, n)
                assert got == expected, f"round {round_}: results are incomplete or out of order"
            check_no_leftovers(obs, "run_all")
