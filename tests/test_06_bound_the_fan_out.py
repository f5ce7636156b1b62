"""Visible tests for exercise 6, bound_the_fan_out. The grade adds hidden tests."""

from grader.harness.checks import check_peak, raised, returned
from grader.harness.service import SimulatedService, default_result
from grader.harness.source import TrackedSource


def test_results_come_back_in_input_order(exercise, watch):
    # "a" answers last, "d" first: the results must still follow the items.
    service = SimulatedService({"a": 0.06, "b": 0.04, "c": 0.02, "d": 0.01})
    got = returned(watch(exercise.map_bounded, service, ["a", "b", "c", "d"], 2), "map_bounded")
    expected = [default_result(x) for x in "abcd"]
    assert got == expected, f"expected results in input order {expected}, got {got}"


def test_an_empty_input_gives_an_empty_list(exercise, watch):
    got = returned(watch(exercise.map_bounded, SimulatedService(0.01), [], 3), "map_bounded")
    assert got == [], f"map_bounded(func, [], 3) should return [], got {got!r}"


def test_a_limit_below_one_is_refused(exercise, watch):
    service = SimulatedService(0.01)
    error = raised(watch(exercise.map_bounded, service, ["a", "b"], 0), "map_bounded(limit=0)")
    assert isinstance(error, ValueError), f"expected ValueError for limit=0, got {error!r}"
    assert service.total_calls == 0, "no call should be made when the limit is invalid"


def test_exactly_limit_calls_are_in_flight(exercise, watch):
    items = [f"item-{i}" for i in range(12)]
    service = SimulatedService(0.04)
    got = returned(watch(exercise.map_bounded, service, items, 3), "map_bounded")
    assert got == [default_result(x) for x in items], "results do not match the items' answers"
    check_peak(service, 3, "calls")


def test_a_generator_is_read_only_as_slots_free_up(exercise, watch):
    service = SimulatedService(0.02)
    source = TrackedSource((f"item-{i}" for i in range(20)), service)
    got = returned(watch(exercise.map_bounded, service, source, 4), "map_bounded")
    assert len(got) == 20, f"expected 20 results from a generator of 20 items, got {len(got)}"
    assert source.max_pull_ahead <= 4, (
        f"{source.max_pull_ahead} items were pulled before earlier calls completed (limit 4): "
        "pull the next item only when a slot is free"
    )
    check_peak(service, 4, "calls")


def test_a_failing_call_reaches_the_caller(exercise, watch):
    boom = ConnectionError("item-2 is down")
    service = SimulatedService(0.02, failures={"item-2": boom})
    items = [f"item-{i}" for i in range(4)]
    error = raised(watch(exercise.map_bounded, service, items, 2), "map_bounded")
    assert error is boom, f"expected the ConnectionError raised by func, got {error!r}"
