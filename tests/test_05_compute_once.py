"""Visible tests for exercise 5, compute_once. The grade adds hidden tests."""

import threading

from grader.harness.checks import check_peak, raised, returned
from grader.harness.service import SimulatedService


def ask_at_once(cache, keys):
    """One thread per key, all released together; each thread's value or exception."""
    barrier = threading.Barrier(len(keys))
    outcomes: list = [None] * len(keys)

    def ask(i, key):
        barrier.wait()
        try:
            outcomes[i] = cache.get(key)
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=ask, args=(i, k)) for i, k in enumerate(keys)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def failing_the_first_time(error):
    """A failure plan for the service: the first call raises ``error``, later ones succeed."""
    calls = []

    def failure(key):
        calls.append(key)
        return error if len(calls) == 1 else None

    return failure


def test_a_key_is_computed_once_and_remembered(exercise, watch):
    service = SimulatedService(0.01, result=lambda key: [key])  # a new list every call
    cache = exercise.OnceCache(service)
    first = returned(watch(cache.get, "alpha"), "get")
    second = returned(watch(cache.get, "alpha"), "get")
    assert first == ["alpha"], f"get('alpha') should return compute('alpha'), got {first!r}"
    assert second is first, "the second get should return the very object stored by the first"
    assert service.total_calls == 1, f"compute ran {service.total_calls} times for one key"


def test_many_threads_asking_for_one_key_share_one_compute(exercise, watch):
    service = SimulatedService(0.05, result=lambda key: [key])
    cache = exercise.OnceCache(service)
    got = returned(watch(ask_at_once, cache, ["alpha"] * 8), "get")
    assert service.total_calls == 1, (
        f"8 threads asking for one key at once made compute run {service.total_calls} times: "
        "they all saw the key missing before anyone stored it (check-then-act)"
    )
    assert all(value is got[0] for value in got), "every caller should get the very same object"


def test_different_keys_compute_at_the_same_time(exercise, watch):
    service = SimulatedService(0.05, result=lambda key: [key])
    cache = exercise.OnceCache(service)
    got = returned(watch(ask_at_once, cache, ["a", "b", "c", "d"]), "get")
    assert got == [["a"], ["b"], ["c"], ["d"]], f"each key should get its own value, got {got}"
    check_peak(service, 4, "computes")


def test_a_failure_is_not_remembered(exercise, watch):
    boom = ConnectionError("database is down")
    service = SimulatedService(0.01, failures=failing_the_first_time(boom))
    cache = exercise.OnceCache(service)
    error = raised(watch(cache.get, "alpha"), "get")
    assert error is boom, f"the first get should raise compute's ConnectionError, got {error!r}"
    value = returned(watch(cache.get, "alpha"), "get")
    assert service.total_calls == 2, "after a failure, the next get should call compute again"
    assert value == "response to 'alpha'", f"the retry should return compute's value, got {value!r}"
