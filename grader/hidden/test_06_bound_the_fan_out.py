"""Hidden tests for exercise 6, bound_the_fan_out (never released to students)."""

import math
import random

import pytest

from grader.harness.checks import (
    check_no_leftovers,
    check_peak,
    check_quiet,
    fail,
    raised,
    returned,
)
from grader.harness.service import SimulatedService, default_result
from grader.harness.source import TrackedSource
from grader.harness.timing import batch_ideal, median_verdict, sliding_window_ideal

# Threads a correct solution may have besides its `limit` workers: a coordinator
# or a worker that is still exiting.
EXTRA_THREADS = 2


def random_items(seed: int, n: int, tag: str = "") -> list[str]:
    """n distinct items whose names a hard-coded answer cannot know."""
    rng = random.Random(seed)
    return [f"{tag}item-{i}-{rng.randrange(10**6)}" for i in range(n)]


def run_and_snapshot(exercise, service, items, limit, snap):
    """Run map_bounded; note the calls still running when it returned or raised."""
    try:
        return list(exercise.map_bounded(service, items, limit))
    finally:
        snap["in_flight"] = service.in_flight


def watch_run(exercise, watch, service, items, limit):
    snap: dict = {}
    obs = watch(run_and_snapshot, exercise, service, items, limit, snap)
    return obs, snap


def check_finished(snap: dict, verb: str = "returned") -> None:
    __tracebackhide__ = True
    if snap.get("in_flight", 0):
        fail(
            f"map_bounded {verb} while {snap['in_flight']} call(s) were still running: "
            "wait for every call in flight before returning or raising"
        )


def check_results(got, items, what: str = "results") -> None:
    __tracebackhide__ = True
    expected = [default_result(x) for x in items]
    if got == expected:
        return
    if len(got) == len(expected) and sorted(map(str, got)) == sorted(expected):
        fail(f"{what} are in the order the calls finished, not in input order")
    if len(got) < len(expected):
        fail(f"{what}: got {len(got)} results for {len(expected)} items; some items were lost")
    fail(f"{what} do not match the items' answers (got {len(got)} for {len(expected)} items)")


def check_pull_ahead(source: TrackedSource, limit: int) -> None:
    __tracebackhide__ = True
    if source.max_pull_ahead == limit + 1:
        fail(
            f"the input was pulled {limit + 1} items ahead of the completed calls (limit {limit}): "
            "the next item was pulled before a slot was free. Take the slot first (acquire), "
            "then pull the item"
        )
    if source.max_pull_ahead > limit:
        fail(
            f"the input was pulled {source.max_pull_ahead} items ahead of the completed calls "
            f"(limit {limit}): no backpressure. Take a free slot first, then pull the next "
            "item; never list() the input or hand it all to executor.map"
        )


def check_at_most(service: SimulatedService, limit: int) -> None:
    __tracebackhide__ = True
    if service.peak_in_flight > limit:
        check_peak(service, limit)  # fails with "N calls were in flight at once; the limit is …"


# --- correctness ------------------------------------------------------------------------------


@pytest.mark.correctness
@pytest.mark.parametrize("limit", [1, 3, 8])
def test_results_in_input_order(exercise, watch, race_seed, limit):
    """Results come back in input order, whatever order the calls finish in"""
    items = random_items(race_seed, 12)
    delays = {x: 0.004 + 0.003 * (len(items) - i) for i, x in enumerate(items)}  # last is fastest
    service = SimulatedService(delays)
    obs, snap = watch_run(exercise, watch, service, items, limit)
    got = returned(obs, "map_bounded")
    check_finished(snap)
    check_results(got, items)
    check_at_most(service, limit)


@pytest.mark.correctness
def test_empty_input(exercise, watch):
    """An empty input, list or generator, gives an empty list"""
    for items in ([], (x for x in ())):
        service = SimulatedService(0.01)
        got = returned(watch(exercise.map_bounded, service, items, 4), "map_bounded")
        assert got == [], f"map_bounded on an empty input returned {got!r} instead of []"
        assert service.total_calls == 0, "func was called for an empty input"


@pytest.mark.correctness
def test_limit_larger_than_the_input(exercise, watch, race_seed):
    """A limit larger than the input runs every item at once"""
    items = random_items(race_seed, 4)
    service = SimulatedService(0.1)
    obs, snap = watch_run(exercise, watch, service, items, 10)
    got = returned(obs, "map_bounded")
    check_finished(snap)
    check_results(got, items)
    check_peak(service, 4, "calls")


@pytest.mark.correctness
def test_limit_one(exercise, watch, race_seed):
    """With a limit of one, the calls run one at a time, in order"""
    items = random_items(race_seed, 5)
    service = SimulatedService(0.01)
    obs, snap = watch_run(exercise, watch, service, items, 1)
    got = returned(obs, "map_bounded")
    check_finished(snap)
    check_results(got, items)
    check_at_most(service, 1)
    assert service.args == items, "with limit 1 the calls should start in input order"


@pytest.mark.correctness
def test_generator_input(exercise, watch, race_seed):
    """A generator is accepted as input"""
    items = random_items(race_seed, 15)
    service = SimulatedService(0.01)
    obs, snap = watch_run(exercise, watch, service, (x for x in items), 4)
    got = returned(obs, "map_bounded")
    check_finished(snap)
    check_results(got, items, "results for a generator input")
    assert sorted(service.args) == sorted(items), "func must be called exactly once per item"


@pytest.mark.correctness
@pytest.mark.parametrize("limit", [0, -3])
def test_invalid_limit(exercise, watch, race_seed, limit):
    """A limit below one raises ValueError before anything runs"""
    service = SimulatedService(0.01)
    source = TrackedSource(random_items(race_seed, 3), service)
    error = raised(
        watch(exercise.map_bounded, service, source, limit), f"map_bounded(limit={limit})"
    )
    assert isinstance(error, ValueError), (
        f"a limit of {limit} should raise ValueError, got {type(error).__name__}: {error}"
    )
    assert service.total_calls == 0 and source.pulled == 0, (
        "a limit below one must be refused before any item is read or any call is made"
    )
    obs = watch(exercise.map_bounded, service, [], limit)
    if obs.error is None and not obs.hung:
        fail(
            f"map_bounded([], {limit}) returned {obs.value!r}: a limit below one must raise "
            "ValueError even for an empty input"
        )
    error = raised(obs, f"map_bounded([], {limit})")
    assert isinstance(error, ValueError), (
        f"a limit of {limit} should raise ValueError even for an empty input, "
        f"got {type(error).__name__}: {error}"
    )


@pytest.mark.correctness
@pytest.mark.parametrize("limit", [2, 5])
def test_window_fills_to_the_limit(exercise, watch, race_seed, limit):
    """With more items than the limit, exactly `limit` calls run at once"""
    items = random_items(race_seed, 3 * limit)
    # Each call waits (up to 0.3 s without a new arrival) until `limit` are in flight.
    service = SimulatedService(0.02, rendezvous=limit, rendezvous_idle=0.3)
    obs, snap = watch_run(exercise, watch, service, items, limit)
    got = returned(obs, "map_bounded")
    check_finished(snap)
    check_results(got, items)
    if service.peak_in_flight < limit:
        fail(
            f"at most {service.peak_in_flight} calls were in flight at once with a limit of "
            f"{limit} and {len(items)} items: keep exactly `limit` calls running while there "
            "is work left"
        )
    check_at_most(service, limit)


@pytest.mark.correctness
def test_exception_reaches_the_caller(exercise, watch, race_seed):
    """A call's exception reaches the caller once the calls in flight have finished"""
    items = random_items(race_seed, 6)
    boom = TimeoutError(f"{items[2]} timed out")
    service = SimulatedService(0.03, failures={items[2]: boom})
    obs, snap = watch_run(exercise, watch, service, items, 3)
    error = raised(obs, "map_bounded")
    if error is not boom:
        fail(f"the caller got {type(error).__name__} instead of the TimeoutError func raised")
    check_finished(snap, "raised")


@pytest.mark.correctness
@pytest.mark.parametrize("limit", [2, 4])
def test_no_new_call_after_a_failure(exercise, watch, race_seed, limit):
    """After a call fails, no new call starts and the running ones finish"""
    items = random_items(race_seed, 12)
    failing = items[limit - 1]
    boom = ConnectionError(f"{failing} is down")
    # The failing call ends long before the others: its slot is the first to free up.
    delays = {x: 0.01 if x == failing or i >= limit else 0.2 for i, x in enumerate(items)}
    service = SimulatedService(delays, failures={failing: boom})
    obs, snap = watch_run(exercise, watch, service, items, limit)
    error = raised(obs, "map_bounded")
    assert error is boom, f"expected the ConnectionError func raised, got {error!r}"
    started = service.total_calls
    if started > limit:
        fail(
            f"{started - limit} new call(s) started after a call had failed: "
            "once a call raises, start no new call"
        )
    check_finished(snap, "raised")
    assert started == limit, f"only {started} calls started; expected {limit} before the failure"


@pytest.mark.correctness
def test_first_failure_wins(exercise, watch, race_seed):
    """With two failures, the one that happened first is raised"""
    items = random_items(race_seed, 8)
    late, early = KeyError("late failure"), LookupError("early failure")
    delays = {x: 0.01 if i == 2 else 0.2 if i == 0 else 0.12 for i, x in enumerate(items)}
    service = SimulatedService(delays, failures={items[0]: late, items[2]: early})
    obs, snap = watch_run(exercise, watch, service, items, 4)
    error = raised(obs, "map_bounded")
    check_finished(snap, "raised")
    # Judged on what happened: one at a time, the earlier item would also fail first.
    failures = sorted((c for c in service.calls if c.error is not None), key=lambda c: c.end)
    if not failures:
        fail(f"map_bounded raised {type(error).__name__}: {error} although no call failed")
    first = failures[0].error
    if error is not first and any(error is c.error for c in failures):
        fail(
            "the exception of a later failure was raised: raise the exception of the call "
            "that failed first"
        )
    assert error is first, f"expected the exception of the first failing call, got {error!r}"


# --- timing -----------------------------------------------------------------------------------

TIMING_LIMIT = 8
TIMING_MAX_RATIO = 1.9  # wall time ÷ sliding-window ideal; fixed batches need ≥ 2.4
# Amplified stores in the loop that refills the slots delay every refill; at
# 1.0 on a loaded machine the window of a correct solution never fills.
TIMING_RACE_PROBABILITY = 0.2


def varied_delays(seed: int, n: int = 40, limit: int = TIMING_LIMIT) -> list[float]:
    """In each group of ``limit`` calls, one slow call and fast ones around it.

    A sliding window keeps the other slots busy while a slow call runs; fixed
    batches wait for the slow call before starting anything new, which takes
    at least 2.4 × as long with these delays.
    """
    rng = random.Random(seed)
    delays: list[float] = []
    for _ in range(n // limit):
        slow = rng.randrange(limit)
        delays += [0.15 if i == slow else round(rng.uniform(0.015, 0.03), 4) for i in range(limit)]
    return delays


def window_round(exercise, watch, race, items, delays) -> tuple[float, int]:
    """One round: wall time ÷ the sliding-window ideal, and the peak in flight."""
    service = SimulatedService(dict(zip(items, delays, strict=True)))
    with race(probability=TIMING_RACE_PROBABILITY):
        obs, snap = watch_run(exercise, watch, service, items, TIMING_LIMIT)
    got = returned(obs, "map_bounded")
    check_finished(snap)
    check_results(got, items)
    if not 1 < service.peak_in_flight <= TIMING_LIMIT:
        check_peak(service, TIMING_LIMIT, "calls")  # fails: serialised, or over the limit
    return obs.elapsed / sliding_window_ideal(delays, TIMING_LIMIT), service.peak_in_flight


@pytest.mark.timing
def test_sliding_window_speed(exercise, watch, race, race_seed):
    """40 calls of varied length keep 8 slots busy: close to the sliding-window time"""
    items = random_items(race_seed, 40)
    delays = varied_delays(race_seed)
    assert batch_ideal(delays, TIMING_LIMIT) >= 2 * sliding_window_ideal(delays, TIMING_LIMIT), (
        "grader fault: the timing test's delays do not separate batches from a window"
    )
    peaks: list[int] = []

    def measure() -> float:
        ratio, peak = window_round(exercise, watch, race, items, delays)
        peaks.append(peak)
        return ratio if peak == TIMING_LIMIT else math.inf  # a window never full fails

    verdict = median_verdict(measure, lambda r: r <= TIMING_MAX_RATIO)
    if verdict.passed:
        return
    peak = sorted(peaks)[(len(peaks) - 1) // 2]
    if peak < TIMING_LIMIT:
        fail(
            f"at most {peak} calls were in flight at once, although 8 were allowed and items "
            "were waiting: keep the window full by starting the next item as soon as any "
            "call finishes"
        )
    fail(
        f"40 calls with limit 8 took {verdict.value:.2f} × the sliding-window time "
        f"(limit {TIMING_MAX_RATIO}): slots sat idle, as when calls run in fixed batches "
        "that wait for their slowest call. Start the next item as soon as any call finishes"
    )


# --- stress -----------------------------------------------------------------------------------


class CountingService(SimulatedService):
    """A service that samples the live threads at each call."""

    def __init__(self, *args, live_threads, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_live_threads = 0
        self._live_threads = live_threads

    def _begin(self, arg, *args, **kwargs):
        live = self._live_threads()
        with self._lock:
            self.max_live_threads = max(self.max_live_threads, live)
        return super()._begin(arg, *args, **kwargs)


@pytest.mark.stress
@pytest.mark.weight(2)
def test_ten_thousand_items_from_a_generator(exercise, watch, race_seed, live_threads):
    """10,000 items from a generator: bounded threads, bounded read-ahead, all results"""
    limit, n = 8, 10_000
    tag = f"{race_seed % 1000}-"
    items = [f"{tag}{i}" for i in range(n)]
    # Local: in the judge, the calls sleep and the items are pulled in the student's process,
    # each told by a one-way notice (thousands of round trips would time the wire instead).
    service = CountingService(0.001, live_threads=live_threads, local=True)
    source = TrackedSource(items, service, cut_short=4 * limit)  # ends a bad run early
    baseline = live_threads()
    obs, snap = watch_run(exercise, watch, service, source, limit)
    got = returned(obs, "map_bounded")
    check_finished(snap)
    check_peak(service, limit, "calls")
    check_pull_ahead(source, limit)
    started = service.max_live_threads - baseline - 1  # the watched call runs in one more
    if started > limit + EXTRA_THREADS:
        fail(
            f"{started} threads were running at once (limit {limit}): "
            "reuse a pool of at most `limit` worker threads, not a thread per item"
        )
    check_results(got, items, "results for 10,000 items")
    if service.total_calls != n:
        fail(f"func was called {service.total_calls} times for {n} items: once per item")
    check_no_leftovers(obs, "map_bounded")
    check_quiet(obs, "map_bounded")


@pytest.mark.stress
def test_amplified_repeats(exercise, watch, race, race_seed):
    """Amplified repeats: in order, never over the limit, never reading ahead"""
    rng = random.Random(race_seed)
    with race(probability=0.1):
        for round_ in range(12):
            limit = rng.randint(2, 6)
            items = random_items(
                race_seed + round_, rng.randint(limit + 2, 4 * limit), f"r{round_}-"
            )
            service = SimulatedService({x: rng.uniform(0.01, 0.025) for x in items})
            source = TrackedSource(iter(items), service)
            obs, snap = watch_run(exercise, watch, service, source, limit)
            got = returned(obs, "map_bounded")
            check_finished(snap)
            if service.peak_in_flight <= 1:
                check_peak(service, limit, "calls")  # fails: "… serialised"
            check_at_most(service, limit)
            check_pull_ahead(source, limit)
            check_results(got, items, f"round {round_}: results")
            check_no_leftovers(obs, "map_bounded")
            check_quiet(obs, "map_bounded")
