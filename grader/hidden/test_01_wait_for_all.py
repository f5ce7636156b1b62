"""Hidden tests for exercise 1, wait_for_all (never released to students)."""

import random

import pytest

from grader.harness.checks import (
    check_no_leftovers,
    check_peak,
    check_quiet,
    check_speed,
    fail,
    raised,
    returned,
)
from grader.harness.service import SimulatedService, default_result


def random_urls(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    return [f"https://{rng.choice('abcdefgh')}.test/{rng.randrange(10**6)}" for _ in range(n)]


def reversed_delays(urls: list[str]) -> dict[str, float]:
    """Later urls answer first, so completion order is the reverse of url order."""
    return {u: 0.005 + 0.002 * (len(urls) - i) for i, u in enumerate(urls)}


def fetch_and_snapshot(exercise, urls, service):
    """Run fetch_all; copy its result and note the calls still in flight at return."""
    result = exercise.fetch_all(urls, service)
    return list(result), service.in_flight


def check_finished(still_running: int, service: SimulatedService, n: int) -> None:
    if still_running or service.total_calls < n:
        fail(
            f"fetch_all returned while {still_running} fetch(es) were still running: "
            "wait for (join) every thread before returning"
        )


@pytest.mark.correctness
@pytest.mark.parametrize("n", [1, 7, 50])
def test_results_in_url_order(exercise, watch, race_seed, n):
    """Results have the right content, in url order"""
    urls = list(dict.fromkeys(random_urls(race_seed, n)))
    service = SimulatedService(reversed_delays(urls))
    got, _ = returned(watch(fetch_and_snapshot, exercise, urls, service), "fetch_all")
    if sorted(map(str, got)) == sorted(default_result(u) for u in urls) and got != [
        default_result(u) for u in urls
    ]:
        fail("results are in the order the calls finished, not in url order")
    assert got == [default_result(u) for u in urls], "results do not match the urls' answers"


@pytest.mark.correctness
def test_duplicate_urls(exercise, watch, race_seed):
    """Duplicate urls are each fetched once per position"""
    base = random_urls(race_seed, 4)
    urls = [base[0], base[1], base[0], base[2], base[0], base[3], base[1]]
    service = SimulatedService(0.01)
    got, _ = returned(watch(fetch_and_snapshot, exercise, urls, service), "fetch_all")
    assert sorted(service.args) == sorted(urls), (
        f"fetch was called {service.total_calls} times for {len(urls)} urls with duplicates: "
        "call it once per position"
    )
    assert got == [default_result(u) for u in urls], "results do not match the urls' answers"


@pytest.mark.correctness
def test_empty_input(exercise, watch):
    """An empty list gives an empty list"""
    service = SimulatedService(0.01)
    got, _ = returned(watch(fetch_and_snapshot, exercise, [], service), "fetch_all")
    assert got == [], f"fetch_all([]) returned {got!r} instead of []"
    assert service.total_calls == 0, "fetch was called for an empty list"


@pytest.mark.correctness
def test_no_call_running_at_return(exercise, watch, race_seed):
    """No fetch is still running when fetch_all returns"""
    urls = random_urls(race_seed, 12)
    service = SimulatedService(0.04)
    got, still_running = returned(watch(fetch_and_snapshot, exercise, urls, service), "fetch_all")
    check_finished(still_running, service, len(urls))
    assert got == [default_result(u) for u in urls], "results do not match the urls' answers"


def fetch_and_note(exercise, urls, service, snap):
    """Run fetch_all; note the calls still in flight the moment it returns or raises."""
    try:
        return list(exercise.fetch_all(urls, service))
    finally:
        snap["in_flight"] = service.in_flight
        snap["started"] = service.total_calls


@pytest.mark.correctness
def test_exception_reaches_caller_after_the_others(exercise, watch, race_seed):
    """A fetch's exception reaches the caller, after the other calls finished"""
    urls = list(dict.fromkeys(random_urls(race_seed, 6)))
    # The first url fails at once; the others answer 150-300 ms later. Code that
    # joins in order and raises as soon as it has joined the failed thread raises
    # while the others still run: the in-flight count is taken at the raise.
    rng = random.Random(race_seed)
    delays = {u: 0.15 + 0.15 * rng.random() for u in urls[1:]}
    delays[urls[0]] = 0.005
    boom = TimeoutError(f"{urls[0]} timed out")
    service = SimulatedService(delays, failures={urls[0]: boom})
    snap: dict = {}
    obs = watch(fetch_and_note, exercise, urls, service, snap)
    error = raised(obs, "fetch_all")
    if error is not boom:
        fail(f"the caller got {type(error).__name__} instead of the TimeoutError fetch raised")
    if snap["in_flight"] or snap["started"] < len(urls):
        fail(
            f"fetch_all raised while {snap['in_flight']} other fetch(es) were still running "
            f"({snap['started']} of {len(urls)} had started): wait for (join) every thread, "
            "then raise"
        )


@pytest.mark.correctness
def test_one_of_several_exceptions(exercise, watch, race_seed):
    """With several failures, one of them reaches the caller"""
    urls = random_urls(race_seed, 5)
    errors = {urls[1]: KeyError("one"), urls[3]: ValueError("three")}
    service = SimulatedService(0.01, failures=errors)
    error = raised(watch(exercise.fetch_all, urls, service), "fetch_all")
    assert any(error is e for e in errors.values()), (
        f"the caller got {error!r}, which none of the fetches raised"
    )


def overlap_ratio(exercise, watch, urls: list[str]) -> float:
    """One round: 20 calls × 50 ms; wall time ÷ the 1 s sequential ideal."""
    service = SimulatedService(0.05, rendezvous=len(urls), rendezvous_idle=0.1)
    obs = watch(fetch_and_snapshot, exercise, urls, service)
    got, still_running = returned(obs, "fetch_all")
    check_finished(still_running, service, len(urls))
    assert got == [default_result(u) for u in urls], "results do not match the urls' answers"
    check_peak(service, len(urls), "fetches")
    return obs.elapsed / service.ideal_sequential(urls)


@pytest.mark.timing
def test_calls_overlap(exercise, watch, race_seed):
    """20 fetches of 50 ms overlap: at most 0.3 × the sequential time"""
    urls = random_urls(race_seed, 20)
    check_speed(lambda: overlap_ratio(exercise, watch, urls), 0.3, what="20 fetches of 50 ms")


@pytest.mark.timing
def test_calls_overlap_on_one_cpu(exercise, watch, race_seed, pin_to_one_cpu):
    """Pinned to one CPU, 20 fetches of 50 ms still overlap: waiting needs no core"""
    with pin_to_one_cpu():  # threads started from here inherit it
        urls = random_urls(race_seed, 20)
        check_speed(lambda: overlap_ratio(exercise, watch, urls), 0.3, what="20 fetches on one CPU")


@pytest.mark.timing
def test_fifty_calls_all_in_flight(exercise, watch, race_seed):
    """50 fetches are all in flight at once: no cap on the number of threads"""
    urls = list(dict.fromkeys(random_urls(race_seed, 50)))
    # Each call waits until every one is in flight (rendezvous): a pool capped
    # at 32 workers (ThreadPoolExecutor's default) never gets there.
    service = SimulatedService(0.02, rendezvous=len(urls), rendezvous_idle=0.1)
    got, still_running = returned(watch(fetch_and_snapshot, exercise, urls, service), "fetch_all")
    check_finished(still_running, service, len(urls))
    assert got == [default_result(u) for u in urls], "results do not match the urls' answers"
    peak = service.peak_in_flight
    if 1 < peak < len(urls):
        fail(
            f"at most {peak} of {len(urls)} fetches were in flight at once: the calls were "
            "capped (a pool with a fixed max_workers, such as 32?); start one thread per url"
        )
    check_peak(service, len(urls), "fetches")


@pytest.mark.stress
def test_amplified_repeats(exercise, watch, race, race_seed):
    """Amplified repeats: complete, ordered, concurrent, nothing left running"""
    rng = random.Random(race_seed)
    with race():
        for round_ in range(15):
            urls = list(dict.fromkeys(random_urls(race_seed + round_, rng.randrange(5, 16))))
            service = SimulatedService(
                lambda u, r=rng: 0.002 + r.random() * 0.01, rendezvous=len(urls)
            )
            obs = watch(fetch_and_snapshot, exercise, urls, service)
            got, still_running = returned(obs, "fetch_all")
            check_finished(still_running, service, len(urls))
            assert got == [default_result(u) for u in urls], (
                f"round {round_}: results are incomplete or out of url order"
            )
            check_peak(service, len(urls), "fetches")
            check_no_leftovers(obs, "fetch_all")
            check_quiet(obs, "fetch_all")
