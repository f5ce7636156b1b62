"""Hidden tests for exercise 8, first_error_cancels (never released to students)."""

import random
import threading
import time
from dataclasses import dataclass
from functools import partial

import pytest

from grader.harness.calling import is_instance
from grader.harness.checks import (
    check_no_leftovers,
    check_quiet,
    fail,
    raised,
    returned,
)
from grader.harness.timing import median_verdict

_clock = time.perf_counter
_sleep = time.sleep


class TaskFailed(Exception):
    """A test task's own failure; one fresh object per task and round."""


class Cancelled(Exception):
    """What a test task raises when it notices the cancellation (Go's ``ctx.Err()``)."""


@dataclass
class Plan:
    work: float  # seconds of work unless cancelled first
    error: Exception | None = None  # raised once the work is done
    raise_on_cancel: bool = True  # raise Cancelled when cancelled, or return quietly


class Tasks:
    """Recorded tasks that honour the cancellation event.

    Every task first waits at a gate until all of them are running (the exact
    witness that they were started together, whatever the machine's load; it
    gives up after ``patience`` seconds, once), then works by waiting on the
    event. A cancelled task takes ``cleanup`` seconds to wind down, so code that
    does not wait for it is caught with the task still running.
    """

    def __init__(self, plans, tag, cleanup=0.03, patience=2.0):
        self.plans = plans
        self.n = len(plans)
        self.tag = tag
        self.cleanup = cleanup
        self.patience = patience
        self._cond = threading.Condition()
        self.events = []
        self.started = 0
        self.in_flight = 0
        self.gave_up = False
        self.seen_at_once = self.n
        self.cancelled = set()

    def __getitem__(self, i):
        return partial(self._run, i)

    def all(self):
        return [self[i] for i in range(self.n)]

    def result(self, i):
        return f"result {self.tag}{i}"

    def expected(self):
        return [self.result(i) for i in range(self.n)]

    def _gate(self):
        deadline = _clock() + self.patience
        while self.started < self.n and not self.gave_up:
            left = deadline - _clock()
            if left <= 0:
                self.gave_up = True
                self.seen_at_once = self.in_flight
                self._cond.notify_all()
                break
            self._cond.wait(left)

    def _run(self, i, cancel):
        with self._cond:
            self.events.append(cancel)
            self.started += 1
            self.in_flight += 1
            self._cond.notify_all()
            self._gate()
        try:
            plan = self.plans[i]
            # Once the gate gave up, the test fails anyway: keep serialised code quick.
            work = min(plan.work, 0.05) if self.gave_up else plan.work
            if cancel.wait(work):
                _sleep(self.cleanup)
                with self._cond:
                    self.cancelled.add(i)
                if plan.raise_on_cancel:
                    raise Cancelled(f"task {self.tag}{i} was cancelled")
                return f"task {self.tag}{i} stopped early"
            if plan.error is not None:
                raise plan.error
            return self.result(i)
        finally:
            with self._cond:
                self.in_flight -= 1

    @property
    def event(self):
        return self.events[0] if self.events else None

    # --- checks --------------------------------------------------------------------------------

    def check_event(self):
        __tracebackhide__ = True
        if self.started and not all(is_instance(e, threading.Event) for e in self.events):
            fail("every task must be called with a threading.Event (the cancellation event)")
        if len({id(e) for e in self.events}) > 1:
            fail(
                f"the tasks received {len({id(e) for e in self.events})} different events: "
                "give every task the same one, so one set() cancels them all"
            )

    def check_together(self):
        __tracebackhide__ = True
        if not self.gave_up:
            return
        if self.seen_at_once <= 1 < self.n:
            fail(
                f"only one of the {self.n} tasks was running at a time: "
                "they ran one after another, serialised"
            )
        fail(f"at most {self.seen_at_once} of the {self.n} tasks were running at once")

    def check_finished(self, snap, verb):
        __tracebackhide__ = True
        if snap["in_flight"] or snap["started"] < self.n:
            fail(
                f"run_until_first_error {verb} while {snap['in_flight']} task(s) were still "
                f"running ({snap['started']} of {self.n} had started): wait for every task "
                "to finish first"
            )

    def check_cancelled(self, error_kind):
        __tracebackhide__ = True
        event = self.event
        if event is not None and not event.is_set():
            fail(f"the cancellation event was never set after {error_kind}: set it to cancel")

    def check_not_cancelled(self):
        __tracebackhide__ = True
        event = self.event
        if event is not None and event.is_set():
            fail(
                "the cancellation event was set although no task failed and no timeout "
                "ran out: set it only on failure or timeout"
            )


def run_and_snapshot(exercise, tasks, timeout, snap):
    """Call the exercise; note how many tasks were still running when it ended."""
    try:
        if timeout is None:
            return list(exercise.run_until_first_error(tasks.all()))
        return list(exercise.run_until_first_error(tasks.all(), timeout=timeout))
    finally:
        snap["in_flight"] = tasks.in_flight
        snap["started"] = tasks.started


def watch_run(exercise, watch, tasks, timeout=None):
    snap: dict = {}
    obs = watch(run_and_snapshot, exercise, tasks, timeout, snap)
    return obs, snap


def check_first_failure(error, expected, tasks, later=()):
    """``error`` is ``expected``, the first failure in time."""
    __tracebackhide__ = True
    if error is expected:
        return
    if isinstance(error, Cancelled):
        fail(
            "raised the exception of a task that failed only because it was cancelled: "
            "raise the first task to fail, in time"
        )
    if any(error is e for e in later):
        fail(
            "raised the failure of a task that failed later (lower index?): "
            "raise the first task to fail, in time"
        )
    fail(
        f"raised {type(error).__name__}: {error}; expected the exception raised by "
        "the first task to fail, itself"
    )


# --- correctness -------------------------------------------------------------------------------


@pytest.mark.correctness
@pytest.mark.parametrize(("n", "timeout"), [(1, None), (6, None), (12, None), (8, 5.0)])
def test_results_in_task_order(exercise, watch, race_seed, n, timeout):
    """With no failure, the results come back in task order and nothing is cancelled"""
    plans = [Plan(work=0.005 + 0.003 * (n - i)) for i in range(n)]  # later tasks end first
    tasks = Tasks(plans, f"{race_seed}-")
    obs, snap = watch_run(exercise, watch, tasks, timeout)
    got = returned(obs, "run_until_first_error")
    tasks.check_event()
    tasks.check_finished(snap, "returned")
    expected = tasks.expected()
    if sorted(map(str, got)) == sorted(expected) and got != expected:
        fail("results are in the order the tasks finished, not in task order")
    assert got == expected, "results do not match the tasks' return values"
    tasks.check_not_cancelled()


@pytest.mark.correctness
@pytest.mark.parametrize("timeout", [None, 0.5])
def test_empty_input(exercise, watch, timeout):
    """No task gives an empty list"""
    args = () if timeout is None else (timeout,)
    got = returned(watch(exercise.run_until_first_error, [], *args), "run_until_first_error")
    assert list(got) == [], f"run_until_first_error([]) returned {got!r} instead of []"


@pytest.mark.correctness
@pytest.mark.weight(2)
def test_first_failure_in_time_is_raised(exercise, watch, race_seed):
    """The first failure in time is raised, not the lowest index's"""
    rng = random.Random(race_seed)
    n = 8
    first = rng.randrange(2, n)
    later = rng.randrange(0, first)
    plans = [Plan(work=1.0) for _ in range(n)]
    plans[first] = Plan(work=0.04, error=TaskFailed(f"first {race_seed}"))
    plans[later] = Plan(work=0.3, error=TaskFailed(f"later {race_seed}"))
    tasks = Tasks(plans, f"{race_seed}-")
    obs, snap = watch_run(exercise, watch, tasks)
    error = raised(obs, "run_until_first_error")
    tasks.check_event()
    tasks.check_finished(snap, "raised")
    check_first_failure(error, plans[first].error, tasks, [plans[later].error])
    tasks.check_cancelled("a failure")


@pytest.mark.correctness
@pytest.mark.weight(2)
def test_failure_cancels_and_waits(exercise, watch, race_seed):
    """A failure sets the event, and every task has finished when it is raised"""
    rng = random.Random(race_seed)
    n = 7
    bad = rng.randrange(n)
    plans = [Plan(work=1.0, raise_on_cancel=False) for _ in range(n)]
    plans[bad] = Plan(work=0.03, error=TaskFailed(f"task {bad} broke ({race_seed})"))
    tasks = Tasks(plans, f"{race_seed}-")
    obs, snap = watch_run(exercise, watch, tasks, 10.0)
    error = raised(obs, "run_until_first_error")
    tasks.check_event()
    tasks.check_finished(snap, "raised")
    if isinstance(error, TimeoutError) and error is not plans[bad].error:
        fail("raised TimeoutError although a task failed long before the timeout")
    check_first_failure(error, plans[bad].error, tasks)
    tasks.check_cancelled("a failure")


@pytest.mark.correctness
@pytest.mark.weight(2)
def test_timeout_raises_timeout_error(exercise, watch, race_seed):
    """When the timeout runs out, the tasks are cancelled and TimeoutError is raised"""
    rng = random.Random(race_seed)
    n = 6
    plans = [Plan(work=1.5, raise_on_cancel=rng.random() < 0.5) for _ in range(n)]
    plans[rng.randrange(n)].raise_on_cancel = True
    tasks = Tasks(plans, f"{race_seed}-")
    obs, snap = watch_run(exercise, watch, tasks, 0.1)
    if obs.error is None and not obs.hung:
        fail(
            f"returned after {obs.elapsed:.2f}s although the timeout of 0.1 s ran out: "
            "on timeout, set the event and raise TimeoutError"
        )
    error = raised(obs, "run_until_first_error")
    tasks.check_event()
    tasks.check_finished(snap, "raised")
    if isinstance(error, Cancelled):
        fail(
            "raised the exception of a task that was cancelled by the timeout: "
            "on timeout, raise TimeoutError"
        )
    if not isinstance(error, TimeoutError):
        fail(f"expected TimeoutError when the timeout ran out, got {type(error).__name__}")
    tasks.check_cancelled("the timeout")
    if obs.elapsed > 1.0:
        fail(
            f"TimeoutError came after {obs.elapsed:.2f}s for a timeout of 0.1 s: "
            "the timeout was not applied while waiting"
        )


@pytest.mark.correctness
def test_no_timeout_means_no_limit(exercise, watch, race_seed):
    """With timeout None, tasks longer than a second still finish and return"""
    plans = [Plan(work=1.2 + 0.05 * i) for i in range(3)]
    tasks = Tasks(plans, f"{race_seed}-")
    obs, snap = watch_run(exercise, watch, tasks, None)
    if isinstance(obs.error, TimeoutError):
        fail(
            f"raised TimeoutError after {obs.elapsed:.2f}s although timeout was None: "
            "None means no time limit"
        )
    got = returned(obs, "run_until_first_error")
    tasks.check_finished(snap, "returned")
    assert got == tasks.expected(), "results do not match the tasks' return values"
    tasks.check_not_cancelled()


@pytest.mark.correctness
def test_timeout_counts_from_the_call(exercise, watch, race_seed):
    """The timeout is one limit for the whole call, not a limit per task"""
    n = 5
    # Each task ends 0.2 s after the previous one, within a timeout of 0.3 s of
    # it, but the last ends 1 s after the call: time runs out at 0.3 s.
    plans = [Plan(work=0.2 * (i + 1), raise_on_cancel=False) for i in range(n)]
    tasks = Tasks(plans, f"{race_seed}-")
    obs, snap = watch_run(exercise, watch, tasks, 0.3)
    if obs.error is None and not obs.hung:
        fail(
            f"returned after {obs.elapsed:.2f}s although the tasks needed 1 s and the timeout "
            "was 0.3 s: the timeout counts from the call, for all the tasks together (not "
            "for each task in turn)"
        )
    error = raised(obs, "run_until_first_error")
    tasks.check_event()
    tasks.check_finished(snap, "raised")
    if not isinstance(error, TimeoutError):
        fail(f"expected TimeoutError when the timeout ran out, got {type(error).__name__}")
    tasks.check_cancelled("the timeout")


# --- timing ------------------------------------------------------------------------------------


def cancel_delay(exercise, watch, seed, n, timeout, fails_at):
    """One round: seconds until the call raised; checks the outcome first."""
    rng = random.Random(seed)
    plans = [Plan(work=5.0, raise_on_cancel=rng.random() < 0.5) for _ in range(n)]
    bad = None
    if fails_at is not None:
        bad = rng.randrange(1, n)
        plans[bad] = Plan(work=fails_at, error=TaskFailed(f"task {bad} broke ({seed})"))
    tasks = Tasks(plans, f"{seed}-", cleanup=0.01)
    obs, snap = watch_run(exercise, watch, tasks, timeout)
    what = "a failure" if bad is not None else "the timeout"
    if obs.error is None and not obs.hung:
        fail(
            f"returned after {obs.elapsed:.2f}s without raising after {what}: the tasks "
            "were not cancelled"
        )
    error = raised(obs, "run_until_first_error")
    tasks.check_together()
    tasks.check_event()
    tasks.check_finished(snap, "raised")
    if bad is not None:
        check_first_failure(error, plans[bad].error, tasks)
    elif not isinstance(error, TimeoutError):
        fail(f"expected TimeoutError when the timeout ran out, got {type(error).__name__}")
    tasks.check_cancelled(what)
    if obs.elapsed > 2.0:  # the others ran on: no need for more rounds
        fail(
            f"raised only after {obs.elapsed:.1f}s: the other tasks ran on instead of being "
            f"cancelled at once after {what}"
        )
    return obs.elapsed


def check_prompt(measure, limit, what):
    __tracebackhide__ = True
    verdict = median_verdict(measure, lambda s: s <= limit)
    if not verdict.passed:
        fail(f"{what} took {verdict.value:.2f}s (limit {limit}s): cancel the others at once")


@pytest.mark.timing
@pytest.mark.weight(2)
def test_first_failure_cancels_promptly(exercise, watch, race_seed):
    """One task fails at 50 ms while nine would run 5 s: the call raises within 0.5 s"""
    seeds = iter(range(race_seed, race_seed + 10))
    check_prompt(
        lambda: cancel_delay(exercise, watch, next(seeds), 10, None, 0.05),
        0.5,
        "raising after a failure at 50 ms",
    )


@pytest.mark.timing
def test_timeout_cancels_promptly(exercise, watch, race_seed):
    """Eight tasks would run 5 s; a timeout of 0.1 s raises within 0.6 s"""
    seeds = iter(range(race_seed, race_seed + 10))
    check_prompt(
        lambda: cancel_delay(exercise, watch, next(seeds), 8, 0.1, None),
        0.6,
        "raising after a timeout of 0.1 s",
    )


# --- stress ------------------------------------------------------------------------------------


@pytest.mark.stress
def test_amplified_repeats(exercise, watch, race, race_seed):
    """Amplified repeats: right outcome, tasks cancelled, nothing left running"""
    rng = random.Random(race_seed)
    with race():
        for round_ in range(14):
            n = rng.randrange(3, 11)
            scenario = ("success", "failure", "timeout")[round_ % 3]
            tag = f"{race_seed}-{round_}-"
            timeout = None
            if scenario == "success":
                plans = [Plan(work=0.002 + rng.random() * 0.015) for _ in range(n)]
                timeout = rng.choice([None, 5.0])
            else:
                plans = [Plan(work=0.5, raise_on_cancel=rng.random() < 0.5) for _ in range(n)]
                if scenario == "failure":
                    bad = rng.randrange(n)
                    plans[bad] = Plan(work=0.005 + rng.random() * 0.02, error=TaskFailed(tag))
                else:
                    timeout = 0.05
            tasks = Tasks(plans, tag, cleanup=0.005)
            obs, snap = watch_run(exercise, watch, tasks, timeout)
            check_quiet(obs, "run_until_first_error")
            tasks.check_together()
            tasks.check_event()
            if scenario == "success":
                got = returned(obs, "run_until_first_error")
                tasks.check_finished(snap, "returned")
                assert got == tasks.expected(), (
                    f"round {round_}: results are incomplete or out of order"
                )
                tasks.check_not_cancelled()
            else:
                error = raised(obs, "run_until_first_error")
                tasks.check_finished(snap, "raised")
                if scenario == "failure":
                    check_first_failure(error, plans[bad].error, tasks)
                elif not isinstance(error, TimeoutError):
                    fail(
                        f"round {round_}: expected TimeoutError when the timeout ran out, "
                        f"got {type(error).__name__}"
                    )
                tasks.check_cancelled(f"{'a failure' if scenario == 'failure' else 'the timeout'}")
                if len(tasks.cancelled) < n - (scenario == "failure"):
                    fail(
                        f"round {round_}: only {len(tasks.cancelled)} of the running tasks "
                        "were cancelled: set the event as soon as the first failure happens"
                    )
            check_no_leftovers(obs, "run_until_first_error")
