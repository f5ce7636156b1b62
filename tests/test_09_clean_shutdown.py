"""Visible tests for exercise 9, clean_shutdown. The grade adds hidden tests."""

import itertools
import threading
import time

from grader.harness.checks import check_no_leftovers, check_quiet, raised, returned
from grader.harness.service import SimulatedService


def action_for(service):
    """A no-argument action: its n-th call is the service's call with argument n."""
    numbers = itertools.count(1)
    return lambda: service(next(numbers))


def tick_then_stop(exercise, service, interval, period):
    ticker = exercise.Ticker(interval, action_for(service))
    ticker.start()
    time.sleep(period)
    ticker.stop()
    return ticker


def test_action_is_called_repeatedly_on_a_background_thread(exercise, watch):
    service = SimulatedService(0.0)
    obs = watch(tick_then_stop, exercise, service, 0.02, 0.3, timeout=5)
    returned(obs, "the ticker")
    assert 5 <= service.total_calls <= 25, (
        f"expected about 15 calls in 0.3 s with an interval of 0.02 s, got {service.total_calls}"
    )
    assert service.distinct_threads() == 1, "every call should run on the same background thread"


def test_errors_are_kept_and_the_ticker_keeps_running(exercise, watch):
    boom = ValueError("tick 2 failed")
    service = SimulatedService(0.0, failures={2: boom})
    obs = watch(tick_then_stop, exercise, service, 0.01, 0.2, timeout=5)
    ticker = returned(obs, "the ticker")
    assert service.total_calls > 3, (
        f"action was called only {service.total_calls} times: did its exception kill the worker?"
    )
    assert ticker.errors == [boom], f"expected errors == [{boom!r}], got {ticker.errors!r}"
    check_quiet(obs, "the ticker")


def stop_with_a_long_interval(exercise):
    ticker = exercise.Ticker(10, action_for(SimulatedService(0.0)))
    ticker.start()
    time.sleep(0.05)
    start = time.perf_counter()
    ticker.stop()
    return time.perf_counter() - start


def test_stop_is_prompt_even_with_a_long_interval(exercise, watch):
    obs = watch(stop_with_a_long_interval, exercise, timeout=15)
    elapsed = returned(obs, "the ticker")
    assert elapsed < 0.1, f"stop took {elapsed:.2f} s with an interval of 10 s; expected < 0.1 s"
    check_no_leftovers(obs, "stop")


def stop_during_a_call(exercise):
    service = SimulatedService(0.2)
    ticker = exercise.Ticker(0.01, action_for(service))
    ticker.start()
    while service.in_flight == 0:
        time.sleep(0.005)
    ticker.stop()
    return service.in_flight


def test_stop_waits_for_the_worker_to_end(exercise, watch):
    obs = watch(stop_during_a_call, exercise, timeout=5)
    running = returned(obs, "the ticker")
    assert running == 0, "stop returned while action was still running: join the worker"
    check_no_leftovers(obs, "stop")


def start_stop_twice(exercise):
    ticker = exercise.Ticker(0.01, action_for(SimulatedService(0.0)))
    ticker.start()
    try:
        ticker.start()
        second_start = None
    except RuntimeError as exc:
        second_start = exc
    ticker.stop()
    ticker.stop()
    return second_start, threading.active_count()


def test_start_twice_raises_and_stop_twice_is_fine(exercise, watch):
    obs = watch(start_stop_twice, exercise, timeout=5)
    second_start, _ = returned(obs, "the ticker")
    assert isinstance(second_start, RuntimeError), "a second start should raise RuntimeError"
    check_no_leftovers(obs, "stop")


def make_and_start(exercise, interval):
    ticker = exercise.Ticker(interval, action_for(SimulatedService(0.0)))
    try:
        ticker.start()
    finally:
        ticker.stop()


def test_a_non_positive_interval_is_refused(exercise, watch):
    for interval in (0, -1):
        obs = watch(make_and_start, exercise, interval, timeout=5)
        error = raised(obs, f"a ticker with an interval of {interval}")
        assert isinstance(error, ValueError), (
            f"a ticker with an interval of {interval} should raise ValueError (when it is made "
            f"or in start), got {type(error).__name__}"
        )
        check_no_leftovers(obs, "a refused ticker")


def stop_then_start(exercise):
    service = SimulatedService(0.0)
    ticker = exercise.Ticker(0.01, action_for(service))
    ticker.stop()  # never started: does nothing
    ticker.start()
    time.sleep(0.1)
    ticker.stop()
    return service.total_calls


def test_a_stop_before_start_does_not_prevent_starting(exercise, watch):
    calls = returned(watch(stop_then_start, exercise, timeout=5), "the ticker")
    assert calls >= 2, (
        f"after a stop on a never-started ticker, start should work as usual; action was "
        f"called {calls} time(s) in 0.1 s with an interval of 0.01 s"
    )
