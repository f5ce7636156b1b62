"""Visible tests for exercise 12, async_fetcher. The grade adds hidden tests."""

import asyncio
from functools import partial

import pytest

from grader.harness.aio import (
    check_no_pending,
    check_not_blocked,
    check_nothing_lost,
    finished,
    returned_value,
    run_in_loop,
)
from grader.harness.checks import check_peak
from grader.harness.service import AsyncSimulatedService


def page(url: str) -> bytes:
    return f"<html>{url}</html>".encode()


def fetch_report(exercise, watch, urls, service, *, limit, timeout):
    call = partial(exercise.fetch_report, limit=limit, timeout=timeout)
    obs = watch(run_in_loop, call, urls, service)
    run = finished(obs, "fetch_report")
    return returned_value(run, "fetch_report"), run


def test_every_url_lands_in_exactly_one_place(exercise, watch):
    boom = ConnectionError("down.test refused the connection")
    delays = {"a.test": 0.02, "b.test": 0.04, "down.test": 0.01, "stuck.test": 1.0}
    service = AsyncSimulatedService(delays, failures={"down.test": boom}, result=page)
    report, _ = fetch_report(exercise, watch, list(delays), service, limit=4, timeout=0.3)
    expected = {"a.test": page("a.test"), "b.test": page("b.test")}
    assert report.results == expected, f"expected results {expected}, got {report.results}"
    assert report.errors == {"down.test": boom}, (
        f"expected errors to hold the ConnectionError of down.test, got {report.errors}"
    )
    assert list(report.timed_out) == ["stuck.test"], (
        f"expected timed_out == ['stuck.test'] (it never answers), got {report.timed_out}"
    )


def test_a_timeout_error_raised_by_fetch_is_an_error(exercise, watch):
    own = TimeoutError("slow.test gave up on its own")
    delays = {"a.test": 0.02, "slow.test": 0.02, "stuck.test": 1.0}
    service = AsyncSimulatedService(delays, failures={"slow.test": own}, result=page)
    report, _ = fetch_report(exercise, watch, list(delays), service, limit=3, timeout=0.3)
    assert report.errors == {"slow.test": own}, (
        "slow.test's fetch raised its own TimeoutError long before the timeout of 0.3 s: "
        f"expected errors to hold it, got {report.errors}"
    )
    assert list(report.timed_out) == ["stuck.test"], (
        "timed_out holds only the fetches cancelled at your timeout: expected ['stuck.test'], "
        f"got {report.timed_out}"
    )


def test_slowest_is_the_longest_successful_fetch(exercise, watch):
    delays = {"a.test": 0.02, "b.test": 0.12, "c.test": 0.05, "down.test": 0.2}
    service = AsyncSimulatedService(delays, failures={"down.test": OSError("no")}, result=page)
    report, _ = fetch_report(exercise, watch, list(delays), service, limit=4, timeout=0.5)
    assert report.slowest is not None, "slowest is None, but three fetches succeeded"
    url, seconds = report.slowest
    assert url == "b.test", f"the slowest successful fetch was b.test (0.12 s), not {url}"
    assert 0.11 <= seconds <= 0.3, f"b.test took about 0.12 seconds, but slowest says {seconds!r}"


def test_an_empty_list_gives_an_empty_report(exercise, watch):
    service = AsyncSimulatedService(0.01, result=page)
    report, _ = fetch_report(exercise, watch, [], service, limit=3, timeout=0.1)
    got = (report.results, report.errors, list(report.timed_out), report.slowest)
    assert got == ({}, {}, [], None), f"expected an empty report with slowest None, got {report}"


def test_exactly_limit_fetches_are_in_flight(exercise, watch):
    urls = [f"https://example.test/{i}" for i in range(12)]
    service = AsyncSimulatedService(0.05, result=page)
    report, _ = fetch_report(exercise, watch, urls, service, limit=4, timeout=1.0)
    assert sorted(report.results) == sorted(urls), "every fetch should have succeeded"
    check_peak(service, 4, "fetches")


def test_a_fetch_past_its_timeout_is_cancelled(exercise, watch):
    service = AsyncSimulatedService({"fast.test": 0.01, "stuck.test": 2.0}, result=page)
    report, _ = fetch_report(
        exercise, watch, ["fast.test", "stuck.test"], service, limit=2, timeout=0.2
    )
    stuck = next(c for c in service.calls if c.arg == "stuck.test")
    assert isinstance(stuck.error, asyncio.CancelledError), (
        "the fetch of stuck.test was not cancelled at its timeout"
    )
    assert stuck.duration < 0.5, (
        f"stuck.test was cancelled {stuck.duration:.2f} s after it started; the timeout is 0.2 s"
    )
    assert list(report.timed_out) == ["stuck.test"], "expected timed_out == ['stuck.test']"


def test_waiting_for_a_slot_does_not_count_toward_the_timeout(exercise, watch):
    urls = [f"https://example.test/{i}" for i in range(5)]
    service = AsyncSimulatedService(0.05, result=page)
    report, _ = fetch_report(exercise, watch, urls, service, limit=1, timeout=0.2)
    assert sorted(report.results) == sorted(urls), (
        f"each fetch takes 0.05 s, well within the 0.2 s timeout, but timed_out is "
        f"{report.timed_out}: start the timeout when the fetch starts, not while it waits"
    )


def test_the_event_loop_is_never_blocked(exercise, watch, request):
    if request.config.getoption("race"):
        pytest.skip("the race amplifier pauses the loop on purpose")
    urls = [f"https://example.test/{i}" for i in range(20)]
    service = AsyncSimulatedService(0.03, result=page)
    _, run = fetch_report(exercise, watch, urls, service, limit=5, timeout=1.0)
    check_not_blocked(run, 0.1, "fetch_report")


def test_no_task_is_left_pending_and_no_error_is_lost(exercise, watch):
    delays = {"a.test": 0.01, "b.test": 0.03, "down.test": 0.02, "stuck.test": 1.0}
    service = AsyncSimulatedService(delays, failures={"down.test": ValueError("bad")}, result=page)
    _, run = fetch_report(exercise, watch, list(delays), service, limit=2, timeout=0.15)
    check_no_pending(run, "fetch_report")
    check_nothing_lost(run, "fetch_report")
