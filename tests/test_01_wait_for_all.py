"""Visible tests for exercise 1, wait_for_all. The grade adds hidden tests."""

from grader.harness.checks import check_peak, raised, returned
from grader.harness.service import SimulatedService, default_result


def test_results_come_back_in_url_order(exercise, watch):
    # "a" answers last, "c" first: the results must still follow the urls.
    service = SimulatedService({"a": 0.06, "b": 0.03, "c": 0.01})
    got = returned(watch(exercise.fetch_all, ["a", "b", "c"], service), "fetch_all")
    expected = [default_result(u) for u in "abc"]
    assert got == expected, f"expected results in url order {expected}, got {got}"


def test_an_empty_list_gives_an_empty_list(exercise, watch):
    service = SimulatedService(0.01)
    got = returned(watch(exercise.fetch_all, [], service), "fetch_all")
    assert got == [], f"fetch_all([]) should return [], got {got!r}"


def test_every_fetch_is_in_flight_at_the_same_time(exercise, watch):
    urls = [f"https://example.test/{i}" for i in range(10)]
    service = SimulatedService(0.05, rendezvous=10)
    returned(watch(exercise.fetch_all, urls, service), "fetch_all")
    assert service.total_calls == 10, f"expected 10 calls to fetch, got {service.total_calls}"
    check_peak(service, 10, "fetches")


def test_a_failing_fetch_reaches_the_caller(exercise, watch):
    boom = ConnectionError("example.test is down")
    service = SimulatedService(0.02, failures={"down": boom})
    error = raised(watch(exercise.fetch_all, ["up", "down", "up"], service), "fetch_all")
    assert error is boom, f"expected the ConnectionError raised by fetch, got {error!r}"
