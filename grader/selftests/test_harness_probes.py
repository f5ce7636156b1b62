"""The simulated service, the timing ideals and the observer (watchdog and hygiene)."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import warnings

import pytest

from grader.harness import checks, timing
from grader.harness.observe import Hang, observe
from grader.harness.service import AsyncSimulatedService, SimulatedService
from grader.harness.source import TrackedSource


def run_in_threads(service, args) -> None:
    threads = [threading.Thread(target=service, args=(a,)) for a in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# --- service -----------------------------------------------------------------------------------


def test_service_records_calls_and_peak_in_flight():
    service = SimulatedService(0.03)
    run_in_threads(service, range(5))
    assert service.total_calls == 5
    assert service.peak_in_flight == 5
    assert service.in_flight == 0
    assert service.distinct_threads() == 5
    assert all(c.end is not None and c.duration >= 0.025 for c in service.calls)


def test_sequential_calls_have_peak_one():
    service = SimulatedService({"a": 0.01, "b": 0.02})
    assert [service(x) for x in "ab"] == ["response to 'a'", "response to 'b'"]
    assert service.peak_in_flight == 1
    assert service.ideal_sequential("ab") == pytest.approx(0.03)


def test_service_fails_on_chosen_inputs_after_its_delay():
    boom = ValueError("boom")
    service = SimulatedService(lambda a: 0.01, failures={"bad": boom})
    with pytest.raises(ValueError) as info:
        service("bad")
    assert info.value is boom
    assert service.calls[0].error is boom and service.calls[0].end is not None
    assert service("good") == "response to 'good'"


def test_async_service_records_cancellation():
    service = AsyncSimulatedService(1.0)

    async def main():
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(service("slow"), 0.02)

    asyncio.run(main())
    call = service.calls[0]
    assert isinstance(call.error, asyncio.CancelledError)
    assert call.duration < 0.5
    assert service.in_flight == 0


def test_async_service_overlaps_on_one_loop():
    service = AsyncSimulatedService(0.03)

    async def main():
        return await asyncio.gather(*(service(i) for i in range(10)))

    assert len(asyncio.run(main())) == 10
    assert service.peak_in_flight == 10


def test_tracked_source_measures_pull_ahead():
    service = SimulatedService(0.0)
    source = TrackedSource(range(100), service, limit=10)
    pulled = list(source)  # pulled everything before any call completed
    assert pulled == list(range(10))
    assert source.max_pull_ahead == 10 and source.pulled == 10


# --- timing -------------------------------------------------------------------------------------


def test_ideals():
    delays = [0.2, 0.02, 0.02, 0.02, 0.2, 0.02]
    assert timing.sequential_ideal(delays) == pytest.approx(0.48)
    assert timing.batch_ideal(delays, 2) == pytest.approx(0.2 + 0.02 + 0.2)
    assert timing.sliding_window_ideal(delays, 2) == pytest.approx(0.26)
    assert timing.sliding_window_ideal([], 3) == 0.0


def test_median_verdict_stops_early_and_judges_the_median():
    values = iter([0.1, 0.1, 5.0])
    verdict = timing.median_verdict(lambda: next(values), lambda v: v < 1)
    assert verdict.passed and verdict.rounds == (0.1, 0.1)
    values = iter([5.0, 0.1, 5.0])
    verdict = timing.median_verdict(lambda: next(values), lambda v: v < 1)
    assert not verdict.passed and verdict.value == 5.0
    values = iter([5.0, 0.1, 0.2])
    assert timing.median_verdict(lambda: next(values), lambda v: v < 1).passed


def test_check_speed_fails_with_a_plain_message():
    with pytest.raises(AssertionError, match="do not overlap"):
        checks.check_speed(lambda: 1.0, 0.3, what="the calls")


# --- observe ------------------------------------------------------------------------------------


def test_observe_returns_value_and_time():
    obs = observe(lambda: time.sleep(0.02) or 42)
    assert obs.value == 42 and obs.error is None and obs.elapsed >= 0.015
    assert checks.returned(obs) == 42


def test_observe_keeps_the_exception():
    def boom():
        raise KeyError("k")

    obs = observe(boom)
    assert isinstance(obs.error, KeyError)
    assert isinstance(checks.raised(obs), KeyError)
    with pytest.raises(AssertionError, match="raised KeyError"):
        checks.returned(obs)


def test_a_hang_becomes_a_failure_with_every_stack(monkeypatch):
    from grader.harness import observe as observe_mod

    monkeypatch.setattr(observe_mod, "hung_threads_left", False)
    gate = threading.Event()

    def stuck_here():
        gate.wait()

    obs = observe(stuck_here, timeout=0.2)
    gate.set()
    assert obs.hung
    assert "stuck_here" in obs.stacks
    with pytest.raises(Hang, match="hang or deadlock"):
        obs.result()
    monkeypatch.setattr(observe_mod, "hung_threads_left", False)


def test_stacks_can_be_limited_to_the_submission(monkeypatch):
    from grader.harness import observe as observe_mod

    monkeypatch.setattr(observe_mod, "hung_threads_left", False)
    gate = threading.Event()
    obs = observe(gate.wait, timeout=0.1, student_root="/nowhere/")
    gate.set()
    assert "no frame in the submission's code" in obs.stacks
    assert __file__ not in obs.stacks
    monkeypatch.setattr(observe_mod, "hung_threads_left", False)


def test_leftover_threads_are_reported():
    gate = threading.Event()

    def leaky():
        threading.Thread(target=gate.wait, name="left-behind").start()

    obs = observe(leaky, grace=0.05)
    gate.set()
    assert any("left-behind" in t for t in obs.leftover_threads)
    with pytest.raises(AssertionError, match="still running"):
        checks.check_no_leftovers(obs)


def test_threads_that_finish_within_the_grace_period_are_not_leftovers():
    def waitgroup_style():
        done = threading.Semaphore(0)

        def work():
            done.release()
            time.sleep(0.01)  # still exiting when the caller returns

        for _ in range(3):
            threading.Thread(target=work).start()
        for _ in range(3):
            done.acquire()

    obs = observe(waitgroup_style)
    assert obs.leftover_threads == []
    checks.check_no_leftovers(obs)


def test_escaped_thread_exceptions_and_stderr_are_reported():
    def noisy():
        t = threading.Thread(target=lambda: 1 / 0, name="doomed")
        t.start()
        t.join()
        print("oops", file=sys.stderr)

    obs = observe(noisy)
    assert obs.thread_exceptions and "ZeroDivisionError" in obs.thread_exceptions[0]
    assert "oops" in obs.stderr
    with pytest.raises(AssertionError, match="escaped from a thread"):
        checks.check_quiet(obs)


def test_warnings_are_recorded():
    obs = observe(lambda: warnings.warn("careful", ResourceWarning, stacklevel=1))
    assert obs.warnings == ["ResourceWarning: careful"]


def test_check_peak_messages():
    service = SimulatedService(0.0)
    service("x")
    with pytest.raises(AssertionError, match="serialised"):
        checks.check_peak(service, 4)
    service.peak_in_flight = 5
    with pytest.raises(AssertionError, match="the limit is 4"):
        checks.check_peak(service, 4)
    service.peak_in_flight = 3
    with pytest.raises(AssertionError, match="at most 3"):
        checks.check_peak(service, 4)


def test_rendezvous_makes_the_peak_exact_and_releases_at_the_last_arrival():
    service = SimulatedService(0.0, rendezvous=6)
    started = time.perf_counter()
    run_in_threads(service, range(6))
    assert service.peak_in_flight == 6
    assert time.perf_counter() - started < 0.15  # no idle wait for concurrent callers


def test_rendezvous_releases_serial_callers_after_the_idle_time():
    service = SimulatedService(0.0, rendezvous=3, rendezvous_idle=0.05)
    started = time.perf_counter()
    for i in range(3):
        service(i)
    elapsed = time.perf_counter() - started
    assert service.peak_in_flight == 1
    assert 0.14 <= elapsed < 1.0
