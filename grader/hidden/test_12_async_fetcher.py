"""Hidden tests for exercise 12, async_fetcher (never released to students)."""

import asyncio
import random
from collections.abc import Iterable
from functools import partial
from types import SimpleNamespace

import pytest

from grader.harness.aio import (
    LoopRun,
    blocked_message,
    check_no_pending,
    check_nothing_lost,
    finished,
    returned_value,
    run_in_loop,
)
from grader.harness.calling import type_name
from grader.harness.checks import check_peak, fail
from grader.harness.service import AsyncSimulatedService
from grader.harness.timing import median_verdict, sliding_window_ideal

STUCK = 1.2  # seconds a stuck fetch would take: far past every timeout used here


def page(url: str) -> bytes:
    return f"<html>{url}</html>".encode()


def random_urls(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    urls: dict[str, None] = {}
    while len(urls) < n:
        urls[f"https://{rng.choice('abcdefgh')}.test/{rng.randrange(10**6)}"] = None
    return list(urls)


def random_failure(rng: random.Random, url: str) -> Exception:
    kind = rng.choice([ConnectionError, OSError, ValueError, RuntimeError])
    return kind(f"{url} failed ({rng.randrange(1000)})")


class Plan:
    """The urls of one call and how each one ends: ok, failing or stuck past the timeout."""

    def __init__(self, delays: dict[str, float], failures: dict[str, Exception], timeout: float):
        self.urls = list(delays)
        self.delays = delays
        self.failures = failures
        self.timeout = timeout
        self.stuck = {u for u, d in delays.items() if d > timeout and u not in failures}
        self.ok = [u for u in self.urls if u not in failures and u not in self.stuck]

    def service(self) -> AsyncSimulatedService:
        # Local: in the judge, the fetches sleep on the student's event loop and tell their
        # starts and ends by notices (a round trip per fetch would stall the loop's timing).
        return AsyncSimulatedService(self.delays, failures=self.failures, result=page, local=True)


def mixed_plan(seed: int, n: int, timeout: float, fast: tuple[float, float]) -> Plan:
    """About 60% ok, 20% failing, 20% stuck; one ok url clearly slower than the rest."""
    rng = random.Random(seed)
    urls = random_urls(seed, n)
    delays: dict[str, float] = {}
    failures: dict[str, Exception] = {}
    for url in urls:
        roll = rng.random()
        if roll < 0.2:
            failures[url] = random_failure(rng, url)
            delays[url] = rng.uniform(0.002, fast[1])
        elif roll < 0.4:
            delays[url] = STUCK
        else:
            delays[url] = rng.uniform(*fast)
    ok = [u for u in urls if u not in failures and delays[u] < timeout]
    if ok:
        delays[rng.choice(ok)] = fast[1] + (timeout - fast[1]) * 0.4  # the slowest, well apart
    return Plan(delays, failures, timeout)


def run_fetch_report(exercise, watch, plan: Plan, service, *, limit: int) -> tuple[object, LoopRun]:
    """Await fetch_report in a fresh loop; the report, or a failure that says why there is none."""
    call = partial(exercise.fetch_report, limit=limit, timeout=plan.timeout)
    run = finished(watch(run_in_loop, call, list(plan.urls), service), "fetch_report")
    hint = ""
    if isinstance(run.error, BaseExceptionGroup) or any(
        run.error is e for e in plan.failures.values()
    ):
        hint = "; record each failed fetch in errors instead of raising it"
    report = returned_value(run, "fetch_report", hint)
    read = {}  # each field read once: the checks below look up every url in them
    for name in ("results", "errors", "timed_out", "slowest"):
        try:
            read[name] = getattr(report, name)
        except AttributeError:
            kind = type_name(report)
            fail(f"fetch_report returned {kind} without .{name}: return a FetchReport")
    return SimpleNamespace(**read), run


def check_partition(report, run: LoopRun, plan: Plan) -> None:
    """Every url is in exactly one place, the right one, with the right content."""
    places = {
        "results": set(report.results),
        "errors": set(report.errors),
        "timed_out": set(report.timed_out),
    }
    timed_out = list(report.timed_out)
    if len(timed_out) != len(places["timed_out"]):
        twice = next(u for u in timed_out if timed_out.count(u) > 1)
        fail(f"{twice} is listed more than once in timed_out")
    asked = set(plan.urls)
    unknown = [u for where in places.values() for u in where if u not in asked]
    if unknown:
        fail(f"the report lists {unknown[0]!r}, which is not one of the urls asked for")
    missing = [u for u in plan.urls if not any(u in where for where in places.values())]
    if missing:
        hint = (
            f" ({len(run.pending)} task(s) were still pending at return: await them)"
            if run.pending
            else ""
        )
        fail(
            f"{len(missing)} of {len(plan.urls)} urls are missing from the report "
            f"(e.g. {missing[0]}): every url must land in results, errors or timed_out{hint}"
        )
    for url in plan.urls:
        found = [name for name, where in places.items() if url in where]
        if len(found) > 1:
            fail(f"{url} is in both {found[0]} and {found[1]}: each url lands in exactly one place")
        check_place(report, run, plan, url, found[0])


def check_place(report, run: LoopRun, plan: Plan, url: str, place: str) -> None:
    timeout = plan.timeout
    if url in plan.stuck:
        if place == "results":
            fail(
                f"{url} took longer than the timeout ({timeout} s) but is in results: "
                "a fetch must be cancelled at its timeout and its url put in timed_out"
            )
        if place == "errors":
            error = report.errors[url]
            fail(
                f"{url} ran past its timeout, so it belongs in timed_out, not in errors "
                f"({type(error).__name__})"
            )
    elif url in plan.failures:
        expected = plan.failures[url]
        if place == "timed_out" and isinstance(expected, TimeoutError):
            fail(
                f"{url} is in timed_out, but its fetch raised its own TimeoutError after "
                f"{plan.delays[url]:.2f} s, well before your timeout of {timeout} s: that is "
                "the fetch's error, so it belongs in errors; timed_out holds only the fetches "
                "you cancelled at your timeout"
            )
        if place == "timed_out":
            fail(f"{url} failed with {expected!r} but is in timed_out; it belongs in errors")
        if report.errors[url] is not expected:
            fail(
                f"errors[{url!r}] is {report.errors[url]!r}, not the exception its fetch raised "
                f"({expected!r}): record the exception object itself"
            )
    else:
        if place == "timed_out" and run.max_busy >= timeout / 2:
            fail(
                blocked_message(run.max_busy, timeout / 2, "fetch_report")
                + f"; timers fired late, so {url} timed out although its fetch is quick"
            )
        if place == "timed_out":
            fail(
                f"{url} is in timed_out, but its fetch takes {plan.delays[url]:.2f} s, well "
                f"within the timeout of {timeout} s: the timeout must start when the fetch "
                "starts, not while it waits for a free slot"
            )
        if place == "errors":
            fail(f"{url} is in errors ({report.errors[url]!r}) but its fetch succeeded")
        if report.results[url] != page(url):
            fail(f"results[{url!r}] is not what fetch returned for it")


def check_slowest(report, plan: Plan, service: AsyncSimulatedService) -> None:
    """``slowest`` names the longest successful fetch, with that fetch's own duration."""
    if not plan.ok:
        if report.slowest is not None:
            fail(f"no fetch succeeded, so slowest should be None, not {report.slowest!r}")
        return
    if report.slowest is None:
        fail(f"slowest is None, but {len(plan.ok)} fetch(es) succeeded")
    try:
        url, took = report.slowest
        took = float(took)
    except (TypeError, ValueError):
        fail(f"slowest should be a (url, seconds) pair, not {report.slowest!r}")
    took_by_url = {c.arg: c.duration for c in service.calls if c.arg in plan.ok}
    expected = max(took_by_url, key=took_by_url.__getitem__)
    longest = took_by_url[expected]
    # A loaded machine can stretch a short fetch by a few tens of ms: accept any url
    # whose fetch took nearly the longest, as long as the duration reported matches it.
    if url not in took_by_url or took_by_url[url] < longest - 0.1:
        fail(
            f"slowest names {url}, but the slowest successful fetch was {expected} "
            f"({longest:.3f} s against {took_by_url.get(url, 0):.3f} s): time each fetch "
            "from its own start to its end, not including the wait for a free slot"
        )
    actual = took_by_url[url]
    if not actual - 0.01 <= took <= actual + 0.1:
        fail(
            f"slowest says {url} took {took:.3f} s, but its fetch took {actual:.3f} s: time it "
            "in seconds, from the start of the fetch to its end"
        )


def check_each_url_fetched_once(service: AsyncSimulatedService, plan: Plan) -> None:
    if sorted(service.args) != sorted(plan.urls):
        fail(
            f"fetch was called {service.total_calls} times for {len(plan.urls)} distinct urls: "
            "call it exactly once per url"
        )


def stalled(run: LoopRun) -> bool:
    """The machine, not the code, kept the loop from running: timers fired late."""
    return run.max_lag > 0.08 and run.max_busy < 0.04


def check_report(exercise, watch, plan: Plan, *, limit: int, attempts: int = 3):
    """One full call, checked for content; returns the service and the loop run.

    Timeouts and durations are judged with margins of 0.1 s or more, but a
    loaded machine can stall a process for longer. A call whose check failed
    while the machine stalled the loop (not the code: it was not busy) is
    repeated, up to ``attempts`` calls in all.
    """
    for attempt in range(1, attempts + 1):
        service = plan.service()
        report, run = run_fetch_report(exercise, watch, plan, service, limit=limit)
        check_no_pending(run, "fetch_report")
        check_nothing_lost(run, "fetch_report")
        try:
            check_partition(report, run, plan)
            check_each_url_fetched_once(service, plan)
            check_slowest(report, plan, service)
        except AssertionError:
            if attempt < attempts and stalled(run):
                continue
            raise
        return service, run
    raise AssertionError("unreachable")  # pragma: no cover


# --- correctness ------------------------------------------------------------------------------


@pytest.mark.correctness
@pytest.mark.parametrize(("n", "limit"), [(1, 3), (9, 3), (30, 6)])
def test_every_url_in_its_place(exercise, watch, race_seed, n, limit):
    """Every url lands in exactly one place, and slowest is right"""
    plan = mixed_plan(race_seed, n, timeout=0.4, fast=(0.01, 0.06))
    check_report(exercise, watch, plan, limit=limit)


@pytest.mark.correctness
def test_empty_input(exercise, watch):
    """An empty list gives an empty report"""
    plan = Plan({}, {}, timeout=0.1)
    service = plan.service()
    report, _ = run_fetch_report(exercise, watch, plan, service, limit=3)
    got = (dict(report.results), dict(report.errors), list(report.timed_out), report.slowest)
    if got != ({}, {}, [], None):
        fail(f"fetch_report([]) should give an empty report with slowest None, not {got}")
    if service.total_calls:
        fail("fetch was called for an empty list of urls")


@pytest.mark.correctness
def test_nothing_succeeds(exercise, watch, race_seed):
    """With no successful fetch, slowest is None"""
    urls = random_urls(race_seed, 6)
    rng = random.Random(race_seed)
    failures = {u: random_failure(rng, u) for u in urls[::2]}
    delays = {u: (0.01 if u in failures else STUCK) for u in urls}
    check_report(exercise, watch, Plan(delays, failures, timeout=0.15), limit=3)


@pytest.mark.correctness
def test_waiting_does_not_count_toward_the_timeout(exercise, watch, race_seed):
    """The timeout starts when a fetch starts, not while it waits for a slot"""
    urls = random_urls(race_seed, 10)
    plan = Plan(dict.fromkeys(urls, 0.05), {}, timeout=0.3)
    check_report(exercise, watch, plan, limit=1)


@pytest.mark.correctness
def test_slowest_ignores_the_wait(exercise, watch, race_seed):
    """slowest times the fetch itself, not the wait for a free slot"""
    urls = random_urls(race_seed, 14)
    # The first url's fetch is the slowest; the last ones wait longer than it takes.
    delays = {u: (0.3 if i == 0 else 0.02 if i == 1 else 0.04) for i, u in enumerate(urls)}
    check_report(exercise, watch, Plan(delays, {}, timeout=0.8), limit=2)


@pytest.mark.correctness
def test_a_timeout_error_from_fetch_is_an_error(exercise, watch, race_seed):
    """A TimeoutError that fetch raises itself, before the timeout, is recorded as an error"""
    rng = random.Random(race_seed)
    urls = random_urls(race_seed, 8)
    failures: dict[str, Exception] = {
        u: TimeoutError(f"{u}: the server's own timeout ({rng.randrange(1000)})") for u in urls[::3]
    }
    delays = {u: rng.uniform(0.01, 0.05) for u in urls}
    delays.update({u: rng.uniform(0.005, 0.03) for u in failures})
    delays[urls[1]] = STUCK  # and one that really times out
    check_report(exercise, watch, Plan(delays, failures, timeout=0.3), limit=3)


# --- timing -----------------------------------------------------------------------------------


def bounded_round(exercise, watch, plan: Plan, limit: int) -> float:
    """One round: content, exact peak, nothing pending; returns wall time ÷ the ideal."""
    service, run = check_report(exercise, watch, plan, limit=limit)
    check_peak(service, min(limit, len(plan.urls)), "fetches")
    delays = [plan.delays[u] for u in plan.urls]
    return run.elapsed / sliding_window_ideal(delays, limit)


@pytest.mark.timing
def test_bounded_and_near_ideal(exercise, watch, race_seed):
    """40 fetches of 50 ms, 10 at a time: peak 10, near-ideal time"""
    plan = Plan(dict.fromkeys(random_urls(race_seed, 40), 0.05), {}, timeout=1.0)
    verdict = median_verdict(lambda: bounded_round(exercise, watch, plan, 10), lambda r: r <= 2.5)
    if not verdict.passed:
        fail(
            f"40 fetches of 50 ms, 10 at a time, took {verdict.value:.2f} × the ideal time "
            "(limit 2.5): the fetches do not overlap enough"
        )


@pytest.mark.timing
def test_sliding_window(exercise, watch, race_seed):
    """A free slot is refilled at once, without waiting for the slowest fetch"""
    urls = random_urls(race_seed, 16)
    plan = Plan({u: (0.25 if i % 4 == 0 else 0.01) for i, u in enumerate(urls)}, {}, timeout=1.0)
    verdict = median_verdict(lambda: bounded_round(exercise, watch, plan, 4), lambda r: r <= 2.2)
    if not verdict.passed:
        fail(
            f"with one slow fetch among every 4, the calls took {verdict.value:.2f} × the ideal "
            "time (limit 2.2): when a fetch ends, start the next url at once; fixed batches "
            "that wait for their slowest fetch leave slots idle"
        )


def cancellation_round(exercise, watch, plan: Plan) -> float:
    """One round; returns how far the latest cancellation was from the timeout, in seconds."""
    service, _ = check_report(exercise, watch, plan, limit=4)
    check_peak(service, 4, "fetches")
    worst = 0.0
    for call in service.calls:
        if call.arg not in plan.stuck:
            continue
        if not isinstance(call.error, asyncio.CancelledError):
            fail(f"the fetch of {call.arg} was not cancelled at its timeout ({plan.timeout} s)")
        worst = max(worst, abs(call.duration - plan.timeout))
    return worst


@pytest.mark.timing
def test_cancelled_at_the_timeout(exercise, watch, race_seed):
    """Fetches that run too long are cancelled at about the timeout"""
    urls = random_urls(race_seed, 12)
    plan = Plan({u: (STUCK if i % 3 == 1 else 0.03) for i, u in enumerate(urls)}, {}, timeout=0.3)
    verdict = median_verdict(lambda: cancellation_round(exercise, watch, plan), lambda d: d <= 0.25)
    if not verdict.passed:
        fail(
            f"fetches past their timeout were cancelled up to {verdict.value:.2f} s away from "
            f"the timeout of {plan.timeout} s: bound each fetch with its own timeout"
        )


MAX_BLOCK = 0.05  # seconds the event loop may run code without polling timers and I/O


def blocking_round(exercise, watch, plan: Plan) -> float:
    """One round; returns the longest stretch the loop went without polling, in seconds."""
    service, run = check_report(exercise, watch, plan, limit=12)
    check_peak(service, 12, "fetches")
    return run.max_busy


@pytest.mark.timing
def test_never_blocks_the_event_loop(exercise, watch, race_seed):
    """The event loop keeps running other tasks while fetches are in flight"""
    plan = mixed_plan(race_seed, 36, timeout=0.4, fast=(0.02, 0.06))
    verdict = median_verdict(
        lambda: blocking_round(exercise, watch, plan), lambda block: block <= MAX_BLOCK
    )
    if not verdict.passed:
        fail(blocked_message(verdict.value, MAX_BLOCK, "fetch_report"))


# --- stress -----------------------------------------------------------------------------------


@pytest.mark.stress
def test_repeats(exercise, watch, race_seed):
    """Repeats: complete, bounded, nothing pending, no exception lost"""
    rng = random.Random(race_seed)
    for round_ in range(8):
        n, limit = rng.randrange(4, 25), rng.randrange(3, 9)
        plan = mixed_plan(race_seed + round_, n, timeout=0.15, fast=(0.001, 0.01))
        service, _ = check_report(exercise, watch, plan, limit=limit)
        check_peak(service, min(limit, n), "fetches")


def many_tiny(urls: Iterable[str]) -> Plan:
    return Plan(dict.fromkeys(urls, 0.001), {}, timeout=0.5)


@pytest.mark.stress
def test_many_tiny_fetches(exercise, watch, race_seed):
    """500 tiny fetches, 25 at a time: complete, bounded, nothing pending"""
    plan = many_tiny(random_urls(race_seed, 500))
    service = plan.service()
    report, run = run_fetch_report(exercise, watch, plan, service, limit=25)
    check_no_pending(run, "fetch_report")
    check_nothing_lost(run, "fetch_report")
    check_partition(report, run, plan)
    check_each_url_fetched_once(service, plan)
    check_peak(service, 25, "fetches")
