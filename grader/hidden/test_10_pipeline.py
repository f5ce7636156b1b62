"""Hidden tests for exercise 10, pipeline (never released to students)."""

import itertools
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from grader.harness.calling import caller
from grader.harness.checks import check_no_leftovers, check_quiet, check_speed, fail, returned

# Taken at import, before any student code runs.
_clock = time.perf_counter
_sleep = time.sleep

LIMIT = 2.0  # watchdog for one run; a correct pipeline needs 0.3 s at most here
TIMING_LIMIT = 4.0  # the same for a timing round, which needs about 0.7 s
SINK = "sink"
SOURCE = "source"


class PlannedFailure(Exception):
    """The exception a probe raises on purpose."""


class Probe:
    """A source, stages and a sink that record every call.

    Stage ``k`` turns ``x`` into ``(k, x)``, so the sink's values show which
    stages an item went through, in which order. ``fail_at = (where, n)`` makes
    the ``n``-th call of ``where`` (``"source"``, a stage index or ``"sink"``)
    raise :attr:`boom`.
    """

    def __init__(
        self,
        delay: Callable[[Any, Any], float] = lambda where, x: 0.0,
        fail_at: tuple[Any, int] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._delay = delay
        self.fail_at = fail_at
        self.boom = PlannedFailure(f"planned failure at {fail_at}")
        self.failed_at: float | None = None  # clock when boom was raised
        self.counts: Counter = Counter()
        self.in_flight: Counter = Counter()
        self.total_in_flight = 0
        self.peak_all = 0  # source, stage and sink calls at once
        self.peak_stages = 0  # stage calls at once
        self.peak_per_stage: Counter = Counter()
        self.threads: defaultdict[Any, set[int]] = defaultdict(set)
        self.seen: defaultdict[Any, list] = defaultdict(list)
        self.busy: Counter = Counter()  # seconds spent in the calls of each place
        self.delivered: list = []
        self.pulled = 0
        self.max_ahead = 0

    def _maybe_fail(self, where: Any, n: int) -> None:
        if self.fail_at == (where, n):
            self.failed_at = _clock()
            raise self.boom

    def _call(self, where: Any, x: Any) -> int:
        with self._lock:
            self.counts[where] += 1
            n = self.counts[where]
            self.seen[where].append(x)
            self.threads[where].add(caller())
            self.in_flight[where] += 1
            self.total_in_flight += 1
            self.peak_all = max(self.peak_all, self.total_in_flight)
            if where not in (SOURCE, SINK):
                stages_now = self.total_in_flight - self.in_flight[SINK] - self.in_flight[SOURCE]
                self.peak_stages = max(self.peak_stages, stages_now)
                self.peak_per_stage[where] = max(self.peak_per_stage[where], self.in_flight[where])
        start = _clock()
        try:
            delay = self._delay(where, x)
            if delay > 0:
                _sleep(delay)
        finally:
            with self._lock:
                self.busy[where] += _clock() - start
                self.in_flight[where] -= 1
                self.total_in_flight -= 1
        return n

    def stage(self, k: int) -> Callable[[Any], Any]:
        def run(x: Any) -> Any:
            self._maybe_fail(k, self._call(k, x))
            return (k, x)

        return run

    def stages(self, n: int) -> list[Callable[[Any], Any]]:
        return [self.stage(k) for k in range(n)]

    def sink(self, x: Any) -> None:
        self._maybe_fail(SINK, self._call(SINK, x))
        with self._lock:
            self.delivered.append(x)

    def source(self, items: Iterable[Any], stop_after_delivered: int | None = None) -> "Source":
        return Source(self, items, stop_after_delivered)


class Source:
    """An iterator that records how far ahead of the sink it has been pulled."""

    def __init__(self, probe: Probe, items: Iterable[Any], stop_after: int | None) -> None:
        self.probe = probe
        self.items = iter(items)
        self.stop_after = stop_after

    def __iter__(self) -> "Source":
        return self

    def __next__(self) -> Any:
        probe = self.probe
        if self.stop_after is not None and len(probe.delivered) >= self.stop_after:
            raise StopIteration
        item = next(self.items)
        with probe._lock:
            probe.pulled += 1
            probe.max_ahead = max(probe.max_ahead, probe.pulled - len(probe.delivered))
        probe._maybe_fail(SOURCE, probe._call(SOURCE, item))
        return item


def through(x: Any, n_stages: int) -> Any:
    for k in range(n_stages):
        x = (k, x)
    return x


def random_items(rng: random.Random, n: int, nones: bool = False) -> list[Any]:
    items: list[Any] = [rng.randrange(10**6) for _ in range(n)]
    if nones:
        for i in rng.sample(range(n), max(1, n // 4)):
            items[i] = None
    return items


def timed_run(exercise, finish: list[float], *args: Any, **kwargs: Any) -> Any:
    """Run the pipeline; note in ``finish`` the clock when it returned or raised."""
    try:
        return exercise.run_pipeline(*args, **kwargs)
    finally:
        finish.append(_clock())


def completed(obs, what: str = "run_pipeline"):
    """The pipeline's return value; a hang is explained as a missing end signal."""
    __tracebackhide__ = True
    if obs.hung:
        fail(
            f"{what} did not return after the source ran out (hang): every stage must learn "
            "that the input has ended; send a sentinel down the pipeline after the last item\n"
            f"{obs.stacks}"
        )
    return returned(obs, what)


def stopped(obs, what: str = "run_pipeline") -> BaseException:
    """The pipeline's exception; a hang is explained as a thread left blocked."""
    __tracebackhide__ = True
    if obs.hung:
        fail(
            f"{what} did not return after an error (deadlock): a thread blocked on a full or "
            "an empty queue was never released; make every put and get notice a stop event\n"
            f"{obs.stacks}"
        )
    if obs.error is None:
        fail(f"{what} returned {obs.value!r} instead of raising: the exception was lost")
    return obs.error


def check_delivery(probe: Probe, items: list[Any], n_stages: int, count: Any) -> None:
    __tracebackhide__ = True
    expected = [through(x, n_stages) for x in items]
    got = probe.delivered
    if got != expected:
        if Counter(map(repr, got)) == Counter(map(repr, expected)):
            fail("items reached the sink out of order: keep source order through every stage")
        missing = len(expected) - len(got)
        if any(x is None for x in items) and missing > 0:
            fail(
                f"the sink got {len(got)} of {len(expected)} items, and some items were None: "
                "None is a valid item; mark the end with a private sentinel object"
            )
        fail(
            f"the sink got {len(got)} item(s) for {len(items)} source items, or items that did "
            "not go through every stage once"
        )
    if count != len(items):
        fail(f"run_pipeline returned {count!r}, but the sink got {len(items)} items")


def check_one_worker_per_stage(probe: Probe, n_stages: int) -> None:
    __tracebackhide__ = True
    for k in range(n_stages):
        if probe.peak_per_stage[k] > 1 or len(probe.threads[k]) > 1:
            fail(
                f"stage {k} ran in {len(probe.threads[k])} threads, up to "
                f"{probe.peak_per_stage[k]} items at once: with more than one worker per stage, "
                "items overtake each other and order breaks; run each stage in one thread"
            )


def check_overlap(probe: Probe) -> None:
    __tracebackhide__ = True
    if probe.peak_all < 2:
        fail(
            "the source, the stages and the sink never worked at the same time: they ran one "
            "after another, serialised; run each stage in its own thread"
        )


def jittery(rng: random.Random, top: float) -> Callable[[Any, Any], float]:
    """Random delays, drawn once per call, so a second worker would reorder items."""
    seeds = itertools.count(rng.randrange(10**6))
    return lambda where, x: random.Random(next(seeds)).random() * top


# --- correctness ------------------------------------------------------------------------------


@pytest.mark.correctness
@pytest.mark.parametrize("n_stages", [0, 1, 3])
def test_order_and_count(exercise, watch, race_seed, n_stages):
    """Every item goes through every stage and reaches the sink in source order"""
    rng = random.Random(race_seed)
    items = random_items(rng, rng.randrange(15, 26))
    probe = Probe(delay=jittery(rng, 0.006))
    obs = watch(
        exercise.run_pipeline,
        probe.source(items),
        probe.stages(n_stages),
        probe.sink,
        maxsize=rng.randrange(1, 4),
        timeout=LIMIT,
    )
    count = completed(obs)
    check_delivery(probe, items, n_stages, count)
    check_one_worker_per_stage(probe, n_stages)
    check_no_leftovers(obs, "run_pipeline")
    check_quiet(obs, "run_pipeline")


@pytest.mark.correctness
def test_empty_source(exercise, watch):
    """An empty source delivers nothing and returns 0"""
    probe = Probe()
    obs = watch(exercise.run_pipeline, probe.source([]), probe.stages(2), probe.sink, timeout=LIMIT)
    count = completed(obs)
    assert count == 0, f"run_pipeline returned {count!r} for an empty source instead of 0"
    assert not probe.counts, "a stage or the sink was called although the source was empty"
    check_no_leftovers(obs, "run_pipeline")


@pytest.mark.correctness
def test_none_is_an_item(exercise, watch, race_seed):
    """None is an ordinary item, not the end of the input"""
    rng = random.Random(race_seed)
    items = random_items(rng, 12, nones=True)
    items[0] = None
    probe = Probe()
    identity = [lambda x: x, lambda x: x]
    obs = watch(
        exercise.run_pipeline, probe.source(items), identity, probe.sink, maxsize=1, timeout=LIMIT
    )
    count = completed(obs)
    check_delivery(probe, items, 0, count)
    check_no_leftovers(obs, "run_pipeline")


@pytest.mark.correctness
@pytest.mark.parametrize("maxsize", [0, -2])
def test_maxsize_below_one(exercise, watch, maxsize):
    """A maxsize below 1 raises ValueError before anything starts"""
    probe = Probe()
    obs = watch(
        exercise.run_pipeline,
        probe.source(range(30)),  # finite: a pipeline that starts anyway must still end
        probe.stages(2),
        probe.sink,
        maxsize=maxsize,
        timeout=LIMIT,
    )
    if obs.error is None and not obs.hung:
        fail(
            f"run_pipeline with maxsize={maxsize} returned {obs.value!r} instead of ValueError: "
            "a maxsize below 1 is an error (queue.Queue(0) would even be unbounded)"
        )
    error = stopped(obs)
    assert isinstance(error, ValueError), (
        f"maxsize={maxsize} raised {type(error).__name__} instead of ValueError"
    )
    assert probe.pulled == 0 and not probe.counts, (
        "the source was read before maxsize was checked: raise ValueError before starting"
    )
    check_no_leftovers(obs, "run_pipeline")


@pytest.mark.correctness
def test_a_stage_error_reaches_the_caller(exercise, watch, race_seed):
    """A stage's exception reaches the caller, and every thread ends"""
    rng = random.Random(race_seed)
    items = random_items(rng, 12)
    probe = Probe(delay=lambda where, x: 0.002, fail_at=(1, rng.randrange(3, 8)))
    obs = watch(
        exercise.run_pipeline, probe.source(items), probe.stages(3), probe.sink, timeout=LIMIT
    )
    error = stopped(obs)
    assert error is probe.boom, (
        f"the caller got {error!r} instead of the exception the stage raised"
    )
    check_no_leftovers(obs, "run_pipeline")
    check_quiet(obs, "run_pipeline")


FIRST_AT, SECOND_AT = 0.02, 0.15  # when the two planned failures happen, in seconds


class TwoFailures:
    """Two planned failures in two places, the first at ``FIRST_AT``, the other at ``SECOND_AT``.

    Each place raises its own exception and notes the clock when it did, so
    the test knows which one really happened first.
    """

    def __init__(self) -> None:
        self.errors: dict[str, PlannedFailure] = {}
        self.raised_at: dict[str, float] = {}

    def fail(self, where: str, after: float) -> None:
        _sleep(after)
        self.errors[where] = PlannedFailure(f"planned failure in the {where}")
        self.raised_at[where] = _clock()
        raise self.errors[where]

    def source(self, fail_after: float | None) -> Iterable[Any]:
        yield 0
        if fail_after is None:
            yield from (1, 2, 3)
        else:
            self.fail(SOURCE, fail_after)

    def stage(self, fail_after: float | None, on_item: int) -> Callable[[Any], Any]:
        def run(x: Any) -> Any:
            if fail_after is not None and x == on_item:
                self.fail("stage", fail_after)
            return x

        return run

    def sink(self, fail_after: float | None) -> Callable[[Any], None]:
        def run(x: Any) -> None:
            if fail_after is not None:
                self.fail(SINK, fail_after)

        return run


@pytest.mark.correctness
@pytest.mark.parametrize(("first", "second"), [(SOURCE, "stage"), ("stage", SINK), (SINK, SOURCE)])
def test_the_first_of_two_errors_wins(exercise, watch, first, second):
    """When two parts fail one after the other, the caller gets the first exception"""
    plan = TwoFailures()
    after = {first: FIRST_AT, second: SECOND_AT}
    # The stage fails on item 0 while the source fails after it; when the sink
    # fails second, it holds item 0 while the stage fails on item 1.
    on_item = 1 if second == SINK else 0
    obs = watch(
        exercise.run_pipeline,
        plan.source(after.get(SOURCE)),
        [plan.stage(after.get("stage"), on_item)],
        plan.sink(after.get(SINK)),
        timeout=LIMIT,
    )
    error = stopped(obs)
    order = sorted(plan.raised_at, key=plan.raised_at.get) or [first]
    if not any(error is planned for planned in plan.errors.values()):
        fail(f"the caller got {error!r} instead of the exception raised in the {order[0]}")
    if len(order) == 2 and error is plan.errors[order[1]]:
        gap = plan.raised_at[order[1]] - plan.raised_at[order[0]]
        fail(
            f"the caller got the exception of the {order[1]}, which was raised {gap:.2f} s "
            f"after the one of the {order[0]}: re-raise the first exception that happened "
            "(keep the first error; drop the ones that come later)"
        )
    assert error is plan.errors[order[0]], (
        f"the caller got {error!r} instead of the first exception, raised in the {order[0]}"
    )
    check_no_leftovers(obs, "run_pipeline")
    check_quiet(obs, "run_pipeline")


def timed_items(reads: list[float], n: int) -> Iterable[int]:
    """``range(n)``, noting in ``reads`` the clock at the start of every read."""
    for i in range(n):
        reads.append(_clock())
        yield i


READ_STAGE = 0.03  # seconds per call of stage 0 in the reads-after-an-error test


@pytest.mark.correctness
@pytest.mark.parametrize("maxsize", [1, 3])
def test_no_more_reads_after_an_error(exercise, watch, race_seed, maxsize):
    """After an error, the source is asked for at most one more item"""
    # A fast finite source in front of a slow first stage that fails: the first
    # queue is full when the error happens, and nothing takes from it again.
    rng = random.Random(race_seed)
    n_items = 200
    probe = Probe(
        delay=lambda w, x: READ_STAGE if w == 0 else 0.0, fail_at=(0, rng.randrange(3, 6))
    )
    reads: list[float] = []
    obs = watch(
        exercise.run_pipeline,
        probe.source(timed_items(reads, n_items)),
        probe.stages(2),
        probe.sink,
        maxsize=maxsize,
        timeout=LIMIT,
    )
    error = stopped(obs)
    assert error is probe.boom, (
        f"the caller got {error!r} instead of the exception the stage raised"
    )
    later = sum(1 for t in reads if t > probe.failed_at)
    if later > 1:
        fail(
            f"the source was asked for {later} more items after the error"
            + (f" ({len(reads)} of {n_items}: read on to its end)" if len(reads) == n_items else "")
            + ": no more items are read after an error, at most the one read already on its "
            "way; make the reader notice the stop before it reads on"
        )
    check_no_leftovers(obs, "run_pipeline")
    check_quiet(obs, "run_pipeline")


# --- timing -----------------------------------------------------------------------------------


def overlap_ratio(exercise, watch, items: list[Any]) -> float:
    """One round: 20 items × 3 stages × 30 ms; wall time ÷ the stage calls' total time.

    The calls' total is what one thread doing them one after another would
    need. It is measured rather than computed from the delays: on a loaded
    machine every 30 ms sleep overshoots, in a pipeline as in a sequence, and
    a sequence can never get below 1.
    """
    probe = Probe(delay=lambda where, x: 0.0 if where == SINK else 0.03)
    obs = watch(
        exercise.run_pipeline,
        probe.source(items),
        probe.stages(3),
        probe.sink,
        timeout=TIMING_LIMIT,
    )
    count = completed(obs)
    check_delivery(probe, items, 3, count)
    check_one_worker_per_stage(probe, 3)
    if probe.peak_stages < 3:
        fail(
            f"at most {probe.peak_stages} of the 3 stages worked at the same time: "
            + (
                "they ran one after another, serialised; run each stage in its own thread"
                if probe.peak_stages <= 1
                else "every stage should work on its own item while the others work on theirs"
            )
        )
    return obs.elapsed / sum(probe.busy[k] for k in range(3))


@pytest.mark.timing
def test_stages_overlap(exercise, watch, race_seed):
    """20 items through 3 stages of 30 ms: at most 0.5 × the sequential time"""
    items = random_items(random.Random(race_seed), 20)
    check_speed(
        lambda: overlap_ratio(exercise, watch, items),
        0.5,
        what="20 items through 3 stages of 30 ms",
    )


# --- stress -----------------------------------------------------------------------------------


@pytest.mark.stress
@pytest.mark.parametrize("maxsize", [1, 3])
def test_backpressure(exercise, watch, maxsize):
    """With an endless source and a slow sink, the source is never read far ahead"""
    n_stages, slow_phase = 2, 20
    probe = Probe()

    def delay(where: Any, x: Any) -> float:
        if len(probe.delivered) >= slow_phase:
            return 0.0  # draining: no need to wait any more
        if where == SINK:
            # A long stall first (producers stay blocked on full queues for a
            # while), then a steady slow sink.
            return 0.08 if len(probe.delivered) < 2 else 0.02
        return 0.001

    probe._delay = delay
    source = probe.source(range(2000), stop_after_delivered=slow_phase)
    obs = watch(
        exercise.run_pipeline,
        source,
        probe.stages(n_stages),
        probe.sink,
        maxsize=maxsize,
        timeout=LIMIT,
    )
    count = completed(obs)
    bound = (n_stages + 2) * (maxsize + 1)
    if probe.max_ahead > bound:
        fail(
            f"the source was read {probe.max_ahead} items ahead of the sink (at most {bound} "
            f"fit in {n_stages + 1} queues of maxsize={maxsize} and the threads): no "
            "backpressure; use queue.Queue(maxsize) so a fast producer blocks"
        )
    check_delivery(probe, list(range(probe.pulled)), n_stages, count)
    check_overlap(probe)
    check_no_leftovers(obs, "run_pipeline")


@pytest.mark.stress
@pytest.mark.parametrize("maxsize", [1, 4])
@pytest.mark.parametrize("where", [SOURCE, "stage", SINK])
def test_an_error_stops_an_endless_pipeline(exercise, watch, race_seed, where, maxsize):
    """An error with an endless source stops everything within 1 s"""
    rng = random.Random(race_seed)
    place = 1 if where == "stage" else where
    probe = Probe(delay=lambda w, x: 0.003, fail_at=(place, rng.randrange(10, 20)))
    finish: list[float] = []
    obs = watch(
        timed_run,
        exercise,
        finish,
        probe.source(itertools.count()),
        probe.stages(3),
        probe.sink,
        maxsize=maxsize,
        timeout=LIMIT,
    )
    check_stopped_promptly(obs, probe, finish, where, "a blocked put or get")


def check_stopped_promptly(obs, probe: Probe, finish: list[float], place, waiter: str) -> None:
    """The planned error reached the caller within 1 s, and nothing was left behind."""
    error = stopped(obs)
    assert error is probe.boom, (
        f"the caller got {error!r} instead of the exception raised in the {place}"
    )
    latency = finish[0] - probe.failed_at
    assert latency <= 1.0, (
        f"run_pipeline raised {latency:.2f} s after the error: stop promptly; {waiter} "
        "should notice the stop within a fraction of a second"
    )
    check_no_leftovers(obs, "run_pipeline")
    check_quiet(obs, "run_pipeline")
    check_overlap(probe)


SLOW_STAGE = 0.025  # seconds per call of stage 0 in the blocked-source test
STOP_LIMIT = 1.5  # watchdog there: a correct pipeline needs about 0.2 s


@pytest.mark.stress
@pytest.mark.parametrize("where", [0, 1, SINK])
def test_an_error_releases_a_source_blocked_on_a_full_queue(exercise, watch, race_seed, where):
    """An error while the source waits on a full queue stops everything within 1 s"""
    # A fast endless source in front of a slow first stage, with maxsize=1: from
    # the first item on, the source spends its time blocked in put on the full
    # first queue, and it is blocked there when the error happens.
    rng = random.Random(race_seed)
    probe = Probe(
        delay=lambda w, x: SLOW_STAGE if w == 0 else 0.0, fail_at=(where, rng.randrange(4, 8))
    )
    finish: list[float] = []
    obs = watch(
        timed_run,
        exercise,
        finish,
        probe.source(itertools.count()),
        probe.stages(2),
        probe.sink,
        maxsize=1,
        timeout=STOP_LIMIT,
    )
    if obs.hung:
        fail(
            "run_pipeline did not return after an error (deadlock): in this run the source was "
            "waiting in put on a full queue when the error happened, and nothing ever took from "
            "that queue again. Checking the stop event before each put is not enough: the put "
            "itself must wait in short slices and notice the stop\n"
            f"{obs.stacks}"
        )
    place = "stage" if isinstance(where, int) else where
    check_stopped_promptly(obs, probe, finish, place, "a put blocked on a full queue")


@pytest.mark.stress
def test_amplified_repeats(exercise, watch, race, race_seed):
    """Amplified repeats: ordered, complete, one worker per stage, errors stop everything"""
    rng = random.Random(race_seed)
    peak = 0
    with race():
        for round_ in range(10):
            n_stages = rng.randrange(2, 5) if round_ else 1
            items = random_items(rng, rng.randrange(5, 16), nones=rng.random() < 0.5)
            fail_at = None
            if round_ % 3 == 2:
                fail_at = (rng.choice([SOURCE, SINK, *range(n_stages)]), rng.randrange(1, 5))
            probe = Probe(delay=jittery(rng, 0.003), fail_at=fail_at)
            obs = watch(
                exercise.run_pipeline,
                probe.source(items),
                probe.stages(n_stages),
                probe.sink,
                maxsize=rng.randrange(1, 4),
                timeout=LIMIT,
            )
            if fail_at is None:
                count = completed(obs)
                check_delivery(probe, items, n_stages, count)
            else:
                error = stopped(obs)
                assert error is probe.boom, (
                    f"round {round_}: the caller got {error!r} instead of the exception raised "
                    f"in the {'stage' if isinstance(fail_at[0], int) else fail_at[0]}"
                )
            check_one_worker_per_stage(probe, n_stages)
            check_no_leftovers(obs, "run_pipeline")
            check_quiet(obs, "run_pipeline")
            peak = max(peak, probe.peak_stages)
    if peak < 2:
        fail(
            "no two stages ever worked at the same time: they ran one after another, "
            "serialised; run each stage in its own thread"
        )
