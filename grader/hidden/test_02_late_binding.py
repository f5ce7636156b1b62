"""Hidden tests for exercise 2, late_binding (never released to students)."""

import random
from collections import Counter

import pytest

from grader.harness.checks import (
    check_no_leftovers,
    check_peak,
    check_quiet,
    check_speed,
    fail,
    returned,
)
from grader.harness.service import SimulatedService, default_result


def random_items(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    return [
        f"{rng.choice(['job', 'task', 'order', 'row'])}-{rng.randrange(10**6)}" for _ in range(n)
    ]


def reversed_delays(items: list[str]) -> dict[str, float]:
    """Later items finish first, so completion order is the reverse of item order."""
    return {x: 0.005 + 0.002 * (len(items) - i) for i, x in enumerate(items)}


def run_and_snapshot(exercise, items, service):
    """Run run_each; copy its result and note the calls in flight and started at return."""
    result = exercise.run_each(items, service)
    return list(result), (service.in_flight, service.total_calls)


def check_each_item_once(service: SimulatedService, items: list, what: str = "") -> None:
    """work was called exactly once per position, each time with that position's item."""
    called, wanted = Counter(map(repr, service.args)), Counter(map(repr, items))
    if called == wanted:
        return
    prefix = f"{what}: " if what else ""
    last = repr(items[-1]) if items else None
    if len(items) > 1 and called[last] > wanted[last] and len(called) < len(wanted):
        fail(
            f"{prefix}work was called {called[last]} times with the last item and never with "
            f"{len(wanted) - len(called)} other item(s): late binding. The thread's function "
            "looked up the loop variable when it ran, after the loop had moved on; hand each "
            "thread its own item when you create it (args=(...), a default value or partial)"
        )
    if set(called) == set(wanted) and sum(called.values()) < len(items):
        fail(
            f"{prefix}work was called {sum(called.values())} times for {len(items)} items: "
            "duplicates were processed once, not once per position. Start one thread per "
            "position (enumerate the items), not one per distinct item"
        )
    if sum(called.values()) != len(items):
        fail(
            f"{prefix}work was called {sum(called.values())} times for {len(items)} items: "
            "call it exactly once per position, duplicates included"
        )
    fail(f"{prefix}work was not called with each item once: some item was skipped or repeated")


def check_results(got: list, expected: list, what: str = "") -> None:
    """The results are exactly ``expected``, with a diagnosis of the usual ways to miss."""
    if got == expected:
        return
    prefix = f"{what}: " if what else ""
    if len(got) > len(expected):
        fail(
            f"{prefix}run_each returned {len(got)} results for {len(expected)} items: results "
            "of an earlier call leaked into this one. Is a list shared between calls (a global, "
            "or a mutable default argument such as results=[], created once for every call)?"
        )
    if len(got) == len(expected) and Counter(map(repr, got)) == Counter(map(repr, expected)):
        fail(f"{prefix}results are in the order the calls finished, not in item order")
    if len(got) == len(expected):
        fail(
            f"{prefix}results are missing or in the wrong positions although work ran for "
            "every item: was the index looked up when the thread ran (late binding)?"
        )
    fail(f"{prefix}run_each returned {len(got)} results for {len(expected)} items")


def check_finished(at_return: tuple[int, int], service: SimulatedService, n: int) -> None:
    """No call was running at return, and none started afterwards.

    ``at_return`` is (calls in flight, calls started) when run_each returned.
    Fewer calls in all than items is not a waiting problem: check_each_item_once
    diagnoses it.
    """
    still_running, started = at_return
    started_later = max(0, service.total_calls - started)
    if still_running or started_later:
        fail(
            f"run_each returned while {still_running + started_later} call(s) were still "
            "running or about to start: wait for (join) every thread before returning"
        )


def check_run(exercise, watch, items, service, what: str = "", answer=default_result) -> list:
    """One watched call: each item once, results in item order, nothing left running."""
    got, at_return = returned(watch(run_and_snapshot, exercise, items, service), "run_each")
    check_finished(at_return, service, len(items))
    check_each_item_once(service, items, what)
    check_results(got, [answer(x) for x in items], what)
    return got


@pytest.mark.correctness
@pytest.mark.parametrize("n", [1, 2, 7, 30])
def test_each_item_with_its_own_value(exercise, watch, race_seed, n):
    """Each item is processed once, with its own value; results in item order"""
    items = list(dict.fromkeys(random_items(race_seed, n)))
    check_run(exercise, watch, items, SimulatedService(reversed_delays(items)))


@pytest.mark.correctness
def test_duplicate_items(exercise, watch, race_seed):
    """Duplicate items are each processed once per position"""
    base = random_items(race_seed, 4)
    items = [base[0], base[1], base[0], base[2], base[0], base[3], base[1]]
    check_run(exercise, watch, items, SimulatedService(0.01))


@pytest.mark.correctness
def test_any_result_value(exercise, watch, race_seed):
    """Results may be None, zero or empty: each stays at its item's position"""
    rng = random.Random(race_seed)
    blanks = [None, 0, "", [], False]
    # Every blank at least twice, whatever the seed: items x with x % 3 != 0 and x % 5 == k.
    pool = rng.sample(range(1000), 1000)
    items = [x for k in range(5) for x in [y for y in pool if y % 3 and y % 5 == k][:2]]
    items += [x for x in pool if x % 3 == 0][:2]
    rng.shuffle(items)

    def answer(x: int) -> object:
        return blanks[x % 5] if x % 3 else x

    service = SimulatedService(lambda x: 0.002 * (x % 7), result=answer)
    check_run(exercise, watch, items, service, answer=answer)


@pytest.mark.correctness
def test_empty_input(exercise, watch):
    """An empty list gives an empty list"""
    service = SimulatedService(0.01)
    got, _ = returned(watch(run_and_snapshot, exercise, [], service), "run_each")
    assert got == [], f"run_each([]) returned {got!r} instead of []"
    assert service.total_calls == 0, "work was called for an empty list"


@pytest.mark.correctness
def test_calls_are_independent(exercise, watch, race_seed):
    """Calls in a row are independent: each returns only its own results"""
    first, second = random_items(race_seed, 5), random_items(race_seed + 1, 3)
    check_run(exercise, watch, first, SimulatedService(0.01), "first call")
    check_run(exercise, watch, second, SimulatedService(0.01), "second call")
    service = SimulatedService(0.01)
    got, _ = returned(watch(run_and_snapshot, exercise, [], service), "run_each")
    if got != []:
        fail(
            f"run_each([]) after other calls returned {len(got)} results: results of an earlier "
            "call leaked into this one (a shared list, such as a mutable default argument?)"
        )


def two_calls(exercise, keep, first, second):
    """Call run_each twice in a row; the first call's list itself, a copy of it, the second's."""
    got = keep(exercise.run_each)(first, SimulatedService(0.005))
    copy = list(got)
    again = keep(exercise.run_each)(second, SimulatedService(0.005))
    return got, copy, again


@pytest.mark.correctness
def test_each_call_returns_a_fresh_list(exercise, watch, keep, race_seed):
    """Each call returns a new list, left alone by later calls"""
    first, second = random_items(race_seed + 2, 4), random_items(race_seed + 3, 6)
    got, copy, again = returned(watch(two_calls, exercise, keep, first, second), "run_each")
    check_results(copy, [default_result(x) for x in first], "first call")
    if got is again:
        fail(
            "two calls of run_each returned the very same list object: every call must return "
            "a fresh list (is one list shared between calls, a global or a mutable default?)"
        )
    if list(got) != copy:
        fail(
            "the list returned by a first call changed when run_each was called again: every "
            "call must return a fresh list (is one list shared between calls, a global or a "
            "mutable default?)"
        )
    check_results(list(again), [default_result(x) for x in second], "second call")


@pytest.mark.correctness
def test_no_call_running_at_return(exercise, watch, race_seed):
    """No call is still running when run_each returns"""
    items = random_items(race_seed, 12)
    check_run(exercise, watch, items, SimulatedService(0.04))


def overlap_ratio(exercise, watch, items: list[str]) -> float:
    """One round: 20 calls × 50 ms; wall time ÷ the 1 s sequential ideal."""
    service = SimulatedService(0.05, rendezvous=len(items), rendezvous_idle=0.1)
    obs = watch(run_and_snapshot, exercise, items, service)
    got, at_return = returned(obs, "run_each")
    check_finished(at_return, service, len(items))
    check_each_item_once(service, items)
    check_results(got, [default_result(x) for x in items])
    check_peak(service, len(items), "calls")
    return obs.elapsed / service.ideal_sequential(items)


@pytest.mark.timing
def test_calls_overlap(exercise, watch, race_seed):
    """20 calls of 50 ms overlap: at most 0.3 × the sequential time"""
    items = random_items(race_seed, 20)
    check_speed(lambda: overlap_ratio(exercise, watch, items), 0.3, what="20 calls of 50 ms")


@pytest.mark.stress
def test_amplified_repeats(exercise, watch, race, race_seed):
    """Amplified repeats: each item once, in order, concurrent, nothing left running"""
    rng = random.Random(race_seed)
    with race():
        for round_ in range(15):
            base = random_items(race_seed + round_, rng.randrange(4, 14))
            items = base + rng.sample(base, 2)  # duplicates too
            rng.shuffle(items)
            # Calls wait for each other (rendezvous), then finish in a random order.
            service = SimulatedService(
                lambda x, r=rng: 0.002 + r.random() * 0.01, rendezvous=len(items)
            )
            obs = watch(run_and_snapshot, exercise, items, service)
            got, at_return = returned(obs, "run_each")
            what = f"round {round_}"
            check_finished(at_return, service, len(items))
            check_each_item_once(service, items, what)
            check_results(got, [default_result(x) for x in items], what)
            check_peak(service, len(items), "calls")
            check_no_leftovers(obs, "run_each")
            check_quiet(obs, "run_each")


@pytest.mark.stress
def test_closures_read_late_under_amplification(exercise, watch, race, race_seed):
    """With closure reads delayed too, every thread still gets its own item"""
    rng = random.Random(race_seed)
    # Pausing before closure reads (LOAD_DEREF) lets the creating loop move on
    # first, which is exactly what late binding needs to show itself.
    with race(also_before=("LOAD_DEREF",)):
        for round_ in range(6):
            items = random_items(race_seed + 100 + round_, rng.randrange(5, 10))
            service = SimulatedService(0.005, rendezvous=len(items))
            obs = watch(run_and_snapshot, exercise, items, service)
            got, at_return = returned(obs, "run_each")
            what = f"round {round_}"
            check_finished(at_return, service, len(items))
            check_each_item_once(service, items, what)
            check_results(got, [default_result(x) for x in items], what)
            check_peak(service, len(items), "calls")
