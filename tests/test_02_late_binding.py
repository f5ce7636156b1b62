"""Visible tests for exercise 2, late_binding. The grade adds hidden tests."""

from grader.harness.checks import check_peak, returned
from grader.harness.service import SimulatedService, default_result


def test_each_item_is_processed_with_its_own_value(exercise, watch):
    service = SimulatedService(0.01)
    returned(watch(exercise.run_each, ["apple", "banana", "cherry"], service), "run_each")
    assert sorted(service.args) == ["apple", "banana", "cherry"], (
        f"expected work to be called once with each item, got calls with {service.args}: "
        "did every thread read the loop variable after the loop had moved on?"
    )


def test_results_come_back_in_item_order(exercise, watch):
    # "a" finishes last, "c" first: the results must still follow the items.
    service = SimulatedService({"a": 0.06, "b": 0.03, "c": 0.01})
    got = returned(watch(exercise.run_each, ["a", "b", "c"], service), "run_each")
    expected = [default_result(x) for x in "abc"]
    assert got == expected, f"expected results in item order {expected}, got {got}"


def test_an_empty_list_gives_an_empty_list(exercise, watch):
    got = returned(watch(exercise.run_each, [], SimulatedService(0.01)), "run_each")
    assert got == [], f"run_each([]) should return [], got {got!r}"


def test_every_call_is_in_flight_at_the_same_time(exercise, watch):
    items = [f"item-{i}" for i in range(10)]
    service = SimulatedService(0.05, rendezvous=10)
    returned(watch(exercise.run_each, items, service), "run_each")
    assert service.total_calls == 10, f"expected 10 calls to work, got {service.total_calls}"
    check_peak(service, 10, "calls")
