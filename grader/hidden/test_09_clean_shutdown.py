"""Hidden tests for exercise 9, clean_shutdown (never released to students)."""

import itertools
import random
import threading
import time
from collections.abc import Callable

import pytest

from grader.harness.calling import caller
from grader.harness.checks import check_no_leftovers, check_quiet, fail, returned
from grader.harness.service import SimulatedService
from grader.harness.timing import median_verdict

# Taken at import, before any student code runs.
_clock = time.perf_counter
_sleep = time.sleep

LIMIT = 6.0  # watchdog for one scenario; a correct ticker needs well under 2 s
CANNOT_WAKE = (
    "stop must wake the worker at once: a worker in time.sleep cannot be woken, "
    "wait on a threading.Event with a timeout instead"
)


class Action:
    """A ticker's action: its n-th call is the service's call with argument n."""

    def __init__(self, service: SimulatedService) -> None:
        self.service = service
        self._numbers = itertools.count(1)
        # The callers' identities (caller()): unlike a thread's ident, never reused by a
        # later thread once one has ended.
        self.threads: list[object] = []

    def __call__(self) -> None:
        self.threads.append(caller())
        self.service(next(self._numbers))


Threads = Callable[[], frozenset]  # the thread_set fixture: the student's threads now


def ticker_for(exercise, interval, delay=0.0, failures=None):
    service = SimulatedService(delay, failures=failures)
    return exercise.Ticker(interval, Action(service)), service


def wait_until(condition, timeout: float) -> bool:
    deadline = _clock() + timeout
    while not condition():
        if _clock() > deadline:
            return False
        _sleep(0.002)
    return True


def still_alive(threads: Threads, before: frozenset, grace: float = 0.1) -> list:
    """Threads started since ``before`` that are still alive after a short grace.

    The grace accepts a worker that signals "done" as its last step instead of
    being joined: it returns microseconds before its thread is gone.
    """
    late = threads() - before
    if late:
        wait_until(lambda: not (threads() & late), grace)
    return list(threads() & late)


def raised_errors(service: SimulatedService) -> list[BaseException]:
    return [c.error for c in service.calls if c.error is not None]


def same_objects(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def stop_and_time(ticker, timeout: float = 1.0) -> tuple[float, BaseException | None]:
    start = _clock()
    try:
        ticker.stop(timeout)
    except Exception as exc:
        return _clock() - start, exc
    return _clock() - start, None


# --- correctness ------------------------------------------------------------------------------


def tick_for(exercise, interval: float, period: float):
    service = SimulatedService(0.0)
    action = Action(service)
    ticker = exercise.Ticker(interval, action)
    ticker.start()
    _sleep(period)
    ticker.stop()
    return service, action.threads, threading.current_thread()


@pytest.mark.correctness
def test_calls_action_every_interval(exercise, watch):
    """Calls action about once per interval, all on one background thread"""
    interval, period = 0.03, 0.45
    service, threads_seen, caller = returned(
        watch(tick_for, exercise, interval, period, timeout=LIMIT), "the ticker"
    )
    expected = period / interval
    n = service.total_calls
    if n < expected / 3:
        fail(
            f"action was called {n} time(s) in {period} s with an interval of {interval} s "
            f"(about {expected:.0f} expected): call it again every interval until stopped"
        )
    if n > expected * 1.5 + 2:
        fail(
            f"action was called {n} times in {period} s with an interval of {interval} s "
            f"(about {expected:.0f} expected): wait one interval between calls"
        )
    threads = set(threads_seen)
    assert len(threads) == 1, (
        f"action was called from {len(threads)} different threads: "
        "every call must run on the ticker's one background thread"
    )
    assert caller not in threads, (
        "action was called from the thread that called start/stop: run it on a background thread"
    )


def first_call_delay(exercise, interval: float) -> float | None:
    ticker, service = ticker_for(exercise, interval)
    started = _clock()
    ticker.start()
    wait_until(lambda: service.total_calls >= 1, interval + 2.0)
    ticker.stop()
    first = min((c.start for c in service.calls), default=None)
    return None if first is None else first - started


@pytest.mark.correctness
def test_first_call_comes_one_interval_after_start(exercise, watch, race_seed):
    """The first call to action comes one interval after start, not at once"""
    interval = random.Random(race_seed).choice([0.25, 0.3, 0.35])
    obs = watch(first_call_delay, exercise, interval, timeout=LIMIT)
    delay = returned(obs, "the ticker")
    if delay is None:
        fail(f"action was never called in the {interval + 2:.1f} s after start")
    assert delay >= interval * 0.9, (
        f"the first call to action came {delay:.3f} s after start, with an interval of "
        f"{interval} s: the first call comes one interval after start, not at once"
    )
    check_no_leftovers(obs, "stop")


def start_after_stopping_a_fresh_ticker(exercise, threads: Threads):
    before = threads()
    ticker, service = ticker_for(exercise, 0.01)
    ticker.stop()
    try:
        ticker.start()
    except Exception as exc:
        return exc, 0, []
    ticked = wait_until(lambda: service.total_calls >= 3, 2.0)
    ticker.stop()
    return None, ticked, still_alive(threads, before)


@pytest.mark.correctness
def test_start_after_stopping_a_never_started_ticker(exercise, watch, thread_set):
    """A stop before any start changes nothing: the ticker can still be started and ticks"""
    obs = watch(start_after_stopping_a_fresh_ticker, exercise, thread_set, timeout=LIMIT)
    error, ticked, alive = returned(obs, "the ticker")
    if error is not None:
        fail(
            f"start after a stop on a never-started ticker raised {error!r}: that stop does "
            "nothing, so start should work as usual"
        )
    if not ticked:
        fail(
            "after a stop on a never-started ticker, start ran but action was never called: "
            "that stop does nothing, so it must not leave the ticker stopping"
        )
    assert not alive, "the worker was still running after stop: join it"
    check_no_leftovers(obs, "stop")


def refuse_interval(
    exercise, threads: Threads, interval: float
) -> tuple[str, BaseException | None, list]:
    """Where a bad interval was refused: "init", "start", or "nowhere"."""
    before = threads()
    service = SimulatedService(0.0)
    try:
        ticker = exercise.Ticker(interval, Action(service))
    except Exception as exc:
        return "init", exc, still_alive(threads, before)
    try:
        ticker.start()
    except Exception as exc:
        return "start", exc, still_alive(threads, before)
    _sleep(0.02)
    calls = service.total_calls
    ticker.stop()
    return f"nowhere ({calls} calls in 0.02 s)", None, still_alive(threads, before)


@pytest.mark.correctness
@pytest.mark.parametrize("interval", [0, -1, -0.05])
def test_a_non_positive_interval_is_refused(exercise, watch, thread_set, interval):
    """An interval of zero or less raises ValueError before any thread starts"""
    where, error, alive = returned(
        watch(refuse_interval, exercise, thread_set, interval, timeout=LIMIT), "the ticker"
    )
    if error is None:
        fail(
            f"a ticker with an interval of {interval} started and ran, {where.split(' ', 1)[1]}: "
            "a non-positive interval would spin the worker without a pause; raise ValueError "
            "when the ticker is made or in start"
        )
    assert isinstance(error, ValueError), (
        f"a ticker with an interval of {interval} raised {error!r} in {where}, not ValueError"
    )
    assert not alive, (
        f"a ticker with an interval of {interval} refused to run but left a thread running: "
        "raise before starting any thread"
    )


def keep_ticking_through_errors(exercise, failing: dict[int, Exception]):
    ticker, service = ticker_for(exercise, 0.01, failures=failing)
    ticker.start()
    kept_going = wait_until(lambda: service.total_calls >= max(failing) + 3, 2.0)
    ticker.stop()
    return kept_going, service, list(ticker.errors)


@pytest.mark.correctness
def test_errors_are_kept_and_ticking_goes_on(exercise, watch, race_seed):
    """Exceptions from action are kept in errors, in order, and ticking goes on"""
    rng = random.Random(race_seed)
    first, second = sorted(rng.sample(range(1, 5), 2))
    failing = {first: ValueError(f"tick {first} failed"), second: KeyError(f"tick {second}")}
    obs = watch(keep_ticking_through_errors, exercise, failing, timeout=LIMIT)
    kept_going, service, errors = returned(obs, "the ticker")
    if not kept_going:
        fail(
            f"the ticker stopped calling action after it raised (only {service.total_calls} "
            "calls): an exception must not kill the worker; catch it inside the loop, "
            "keep it in errors and go on ticking"
        )
    assert same_objects(errors, [failing[first], failing[second]]), (
        f"errors holds {errors!r}: it should hold exactly the exceptions action raised, "
        "in the order they happened"
    )
    check_quiet(obs, "the ticker")


def start_twice(exercise, threads: Threads):
    before = threads()
    ticker, _ = ticker_for(exercise, 0.01)
    ticker.start()
    try:
        ticker.start()
        second = None
    except Exception as exc:
        second = exc
    workers = len(threads() - before)
    ticker.stop()
    try:
        ticker.start()
        again = None
    except Exception as exc:
        again = exc
    ticker.stop()
    return second, workers, again


@pytest.mark.correctness
def test_start_twice_raises(exercise, watch, thread_set):
    """Starting a ticker twice raises RuntimeError and starts no second worker"""
    obs = watch(start_twice, exercise, thread_set, timeout=LIMIT)
    second, workers, again = returned(obs, "the ticker")
    assert isinstance(second, RuntimeError), (
        f"a second start {'returned' if second is None else f'raised {second!r}'}: "
        "it should raise RuntimeError"
    )
    assert workers == 1, f"{workers} threads were running after two starts; expected one worker"
    assert isinstance(again, RuntimeError), (
        f"start after stop {'returned' if again is None else f'raised {again!r}'}: "
        "a ticker runs once, so it should raise RuntimeError"
    )
    check_no_leftovers(obs, "stop")


def stop_again_and_again(exercise):
    problems = []
    never, _ = ticker_for(exercise, 0.01)
    try:
        never.stop()
    except Exception as exc:
        problems.append(f"stop on a ticker that was never started raised {exc!r}")
    ticker, _ = ticker_for(exercise, 0.01)
    ticker.start()
    _sleep(0.03)
    ticker.stop()
    for _ in range(2):
        try:
            ticker.stop()
        except Exception as exc:
            problems.append(f"calling stop again raised {type(exc).__name__}: {exc}")
    managed, _ = ticker_for(exercise, 0.01)
    with managed:
        _sleep(0.02)
    try:
        managed.stop()
    except Exception as exc:
        problems.append(f"stop after leaving the with block raised {type(exc).__name__}: {exc}")
    return problems


@pytest.mark.correctness
def test_stop_is_idempotent(exercise, watch):
    """Stopping twice, or stopping a ticker never started, does nothing"""
    obs = watch(stop_again_and_again, exercise, timeout=LIMIT)
    problems = returned(obs, "the ticker")
    assert not problems, f"{problems[0]}: stop must be idempotent (a second call does nothing)"
    check_no_leftovers(obs, "stop")


def stop_during_action(exercise, threads: Threads, timeout: float):
    ticker, service = ticker_for(exercise, 0.01, delay=lambda n: 0.15 if n == 1 else 0.0)
    before = threads()
    ticker.start()
    in_action = wait_until(lambda: service.in_flight == 1, 2.0)
    stop_called = _clock()
    elapsed, error = stop_and_time(ticker, timeout)
    running_at_return = service.in_flight
    calls_at_return = service.total_calls
    _sleep(0.05)
    return {
        "started_after_stop": sum(1 for c in service.calls if c.start >= stop_called),
        "in_action": in_action,
        "elapsed": elapsed,
        "error": error,
        "running_at_return": running_at_return,
        "late_calls": service.total_calls - calls_at_return,
        "alive": still_alive(threads, before),
    }


@pytest.mark.correctness
def test_stop_waits_for_the_running_action(exercise, watch, thread_set):
    """Stop lets a running call to action finish, then joins the worker"""
    obs = watch(stop_during_action, exercise, thread_set, 1.0, timeout=LIMIT)
    facts = returned(obs, "the ticker")
    assert facts["in_action"], "action was never called with an interval of 0.01 s"
    if facts["error"] is not None:
        fail(f"stop raised {facts['error']!r} while the worker finished a 0.15 s call")
    if facts["running_at_return"]:
        fail(
            "stop returned while action was still running: join the worker "
            "(thread.join) before returning"
        )
    assert not facts["alive"], (
        "stop returned while the worker thread was still running: join it before returning"
    )
    assert not facts["late_calls"], "action was called again after stop returned"
    assert not facts["started_after_stop"], (
        "a call to action started after stop had been called: once stop is called, "
        "let the running call finish but start no new one"
    )


def stop_times_out(exercise, threads: Threads):
    ticker, service = ticker_for(exercise, 0.01, delay=lambda n: 0.6 if n == 1 else 0.0)
    before = threads()
    ticker.start()
    in_action = wait_until(lambda: service.in_flight == 1, 2.0)
    elapsed, error = stop_and_time(ticker, 0.1)
    running_at_return = service.in_flight
    _, later_error = stop_and_time(ticker, 3.0)
    return {
        "in_action": in_action,
        "elapsed": elapsed,
        "error": error,
        "running_at_return": running_at_return,
        "later_error": later_error,
        "running_after_later": service.in_flight,
        "alive": still_alive(threads, before),
    }


@pytest.mark.correctness
def test_stop_raises_timeout_error(exercise, watch, thread_set):
    """Stop raises TimeoutError when the worker does not end in time"""
    facts = returned(watch(stop_times_out, exercise, thread_set, timeout=LIMIT), "the ticker")
    assert facts["in_action"], "action was never called with an interval of 0.01 s"
    error, elapsed = facts["error"], facts["elapsed"]
    if error is None:
        fail(
            "stop(timeout=0.1) returned while action was still running: join the worker "
            "with the timeout and raise TimeoutError if it is still alive"
        )
    if not isinstance(error, TimeoutError):
        fail(f"stop(timeout=0.1) raised {error!r} instead of TimeoutError")
    if elapsed < 0.08:
        fail(f"stop raised TimeoutError after {elapsed:.3f} s: wait up to the timeout first")
    if elapsed > 0.6:
        fail(f"stop(timeout=0.1) took {elapsed:.2f} s to give up: it should wait about 0.1 s")
    if facts["later_error"] is not None:
        fail(
            f"a later stop, once the worker could end, raised {facts['later_error']!r}: "
            "it should wait again and return"
        )
    assert not facts["running_after_later"] and not facts["alive"], (
        "a later stop returned while the worker was still running: join it"
    )


class Marker(Exception):
    """Raised inside a with block: it must come out of the block unchanged."""


def with_block(exercise, threads: Threads):
    ticker, service = ticker_for(exercise, 0.01)
    before = threads()
    entered_as = None
    escaped = None
    marker = Marker("raised inside the block")
    try:
        with ticker as entered_as:
            wait_until(lambda: service.total_calls >= 2, 2.0)
            raise marker
    except Marker as exc:
        escaped = exc
    return (
        entered_as is ticker,
        service.total_calls,
        escaped is marker,
        still_alive(threads, before),
    )


@pytest.mark.correctness
def test_with_block(exercise, watch, thread_set):
    """A with block starts the ticker and stops it on the way out"""
    obs = watch(with_block, exercise, thread_set, timeout=LIMIT)
    same, calls, propagated, alive = returned(obs, "the ticker")
    assert same, "`with Ticker(...) as t` should give the ticker itself to the block"
    assert calls >= 2, f"action was called {calls} time(s) inside the with block: start it there"
    assert propagated, "an exception raised inside the with block was hidden: let it propagate"
    assert not alive, "the worker was still running after the with block: stop it in __exit__"


# --- timing -----------------------------------------------------------------------------------


def stop_latency(exercise, threads: Threads):
    ticker, _ = ticker_for(exercise, 10)
    before = threads()
    ticker.start()
    _sleep(0.05)  # the worker is now waiting for its first tick, 10 s away
    elapsed, error = stop_and_time(ticker, 1.0)
    return elapsed, error, still_alive(threads, before)


@pytest.mark.timing
def test_stop_is_prompt_with_a_long_interval(exercise, watch, thread_set):
    """With an interval of 10 s, stop returns within 0.1 s"""

    def one_round() -> float:
        obs = watch(stop_latency, exercise, thread_set, timeout=LIMIT)
        elapsed, error, alive = returned(obs, "the ticker")
        if isinstance(error, TimeoutError) or elapsed > 0.5:
            fail(f"stop took {elapsed:.2f} s with an interval of 10 s: {CANNOT_WAKE}")
        if error is not None:
            fail(f"stop raised {error!r}")
        if alive:
            fail(
                "stop returned while the worker was still running (asleep in its interval): "
                "wake it and join it"
            )
        return elapsed

    verdict = median_verdict(one_round, lambda s: s <= 0.1)
    assert verdict.passed, (
        f"stop took {verdict.value:.3f} s with an interval of 10 s (limit 0.1 s): {CANNOT_WAKE}"
    )


# --- stress -----------------------------------------------------------------------------------


def one_cycle(exercise, threads: Threads, rng: random.Random, kind: str) -> str | None:
    """One start/stop cycle of the given kind; returns the first problem seen, or None."""
    before = threads()
    if kind == "failing":
        ticker, service = ticker_for(exercise, 0.002, failures=lambda n: RuntimeError(f"tick {n}"))
    elif kind == "busy":
        ticker, service = ticker_for(exercise, 0.002, delay=0.02)
    else:
        ticker, service = ticker_for(exercise, rng.choice([0.002, 1.0, 10]))
    ticker.start()
    if kind == "failing" and not wait_until(lambda: service.total_calls >= 3, 1.0):
        ticker.stop()
        return "the ticker stopped calling action after it raised: catch it and keep ticking"
    if kind == "busy" and not wait_until(lambda: service.in_flight == 1, 1.0):
        ticker.stop()
        return "action was never called with an interval of 0.002 s"
    if kind == "idle":
        _sleep(rng.choice([0.0, 0.0, 0.001, 0.01]))
    elapsed, error = stop_and_time(ticker, 1.0)
    if isinstance(error, TimeoutError) or elapsed > 0.6:
        return f"stop took {elapsed:.2f} s with an interval of {ticker.interval} s: {CANNOT_WAKE}"
    if error is not None:
        return f"stop raised {type(error).__name__}: {error}"
    if service.in_flight:
        return "stop returned while action was still running: join the worker before returning"
    if still_alive(threads, before):
        return "stop returned while the worker thread was still running: join it"
    _, again = stop_and_time(ticker, 1.0)
    if again is not None:
        return f"calling stop again raised {type(again).__name__}: stop must be idempotent"
    if not same_objects(list(ticker.errors), raised_errors(service)):
        return "errors does not hold exactly the exceptions action raised, in order"
    return None


def many_cycles(exercise, threads: Threads, seed: int, cycles: int) -> list[str]:
    rng = random.Random(seed)
    kinds = ["idle", "busy", "failing"] * (cycles // 3 + 1)
    rng.shuffle(kinds)
    problems = []
    for i, kind in enumerate(kinds[:cycles]):
        problem = one_cycle(exercise, threads, rng, kind)
        if problem:
            problems.append(f"cycle {i + 1}: {problem}")
            break
    return problems


@pytest.mark.stress
def test_many_start_stop_cycles(exercise, watch, thread_set, race, race_seed):
    """Amplified: 50 start/stop cycles, idle, busy or failing, leave nothing running"""
    with race(probability=0.3):
        obs = watch(many_cycles, exercise, thread_set, race_seed, 50, timeout=20)
    problems = returned(obs, "the ticker")
    assert not problems, problems[0] if problems else ""
    check_no_leftovers(obs, "the ticker's stop")
    check_quiet(obs, "the ticker")


def stop_while_busy(exercise, threads: Threads, rounds: int) -> str | None:
    for i in range(rounds):
        ticker, service = ticker_for(exercise, 0.001, delay=0.03)
        before = threads()
        ticker.start()
        wait_until(lambda s=service: s.in_flight == 1, 1.0)
        _, error = stop_and_time(ticker, 1.0)
        if error is not None:
            return f"round {i + 1}: stop raised {type(error).__name__}: {error}"
        if service.in_flight or still_alive(threads, before):
            return (
                f"round {i + 1}: stop returned while action was still running: "
                "join the worker before returning"
            )
    return None


@pytest.mark.stress
def test_stop_always_joins_a_busy_worker(exercise, watch, thread_set, race):
    """Amplified: stopping a busy ticker always waits for its worker to end"""
    with race():
        obs = watch(stop_while_busy, exercise, thread_set, 15, timeout=LIMIT)
    problem = returned(obs, "the ticker")
    assert problem is None, problem
    check_no_leftovers(obs, "the ticker's stop")
    check_quiet(obs, "the ticker")
