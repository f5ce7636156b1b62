"""Hidden tests for exercise 5, compute_once (never released to students)."""

import random
import threading
import time
from collections import Counter
from functools import partial

import pytest

from grader.harness.calling import Token
from grader.harness.checks import RATIO, check_no_leftovers, check_quiet, fail, raised, returned
from grader.harness.service import SimulatedService
from grader.harness.timing import median_verdict
from grader.harness.together import lanes_inside, outcomes_in_threads

_clock = time.perf_counter
_sleep = time.sleep


class ComputeFailed(Exception):
    """What a failing test compute raises: one fresh object per attempt."""


def random_keys(seed: int, n: int) -> list[str]:
    """n distinct keys whose names a hard-coded answer cannot know."""
    rng = random.Random(seed)
    return [f"key-{i}-{rng.randrange(10**6)}" for i in range(n)]


def fresh_value(key) -> Token:
    """A new object on every compute, so 'the same object' can be checked with ``is``."""
    return Token(key)


def ask_at_once(cache, keys):
    """One thread per entry of ``keys``, released together, each calling ``cache.get``.

    Returns each thread's outcome, ``("value", v)`` or ``("error", e)``, and the
    seconds from the release to the last thread's end.
    """
    timings: list[float] = []
    outcomes = outcomes_in_threads([partial(cache.get, key) for key in keys], timings)
    return outcomes, timings[0]


def check_values(outcomes, keys, service) -> None:
    """Every caller got its key's value; one compute and one shared object per key."""
    __tracebackhide__ = True
    for (kind, got), key in zip(outcomes, keys, strict=True):
        if kind == "error":
            fail(f"get raised {type(got).__name__}: {got} although compute succeeded")
        if got != fresh_value(key):
            fail(f"get returned {got!r} instead of the value computed for its key")
    counts = Counter(service.args)
    for key in dict.fromkeys(keys):
        asked = keys.count(key)
        if counts[key] > 1:
            fail(
                f"one key was computed {counts[key]} times for {asked} callers asking at once: "
                "they saw it missing before anyone stored it (check-then-act). Register the key "
                "as 'in progress' under the lock before computing"
            )
        if counts[key] == 0:
            fail("a key was never computed, yet get returned for it")
        firsts = [got for (_, got), k in zip(outcomes, keys, strict=True) if k == key]
        if any(got is not firsts[0] for got in firsts):
            fail(f"the {asked} callers of one key did not all get the very same object")


def create(exercise, watch, compute):
    return returned(watch(exercise.OnceCache, compute), "OnceCache(compute)")


# --- correctness ------------------------------------------------------------------------------


@pytest.mark.correctness
def test_value_is_computed_then_remembered(exercise, watch, race_seed):
    """A value is computed on the first get and returned as is afterwards"""
    key = random_keys(race_seed, 1)[0]
    service = SimulatedService(0.005, result=fresh_value)
    cache = create(exercise, watch, service)
    first = returned(watch(cache.get, key), "get")
    assert first == fresh_value(key), f"get returned {first!r} instead of compute's value"
    for _ in range(3):
        again = returned(watch(cache.get, key), "get")
        assert again is first, "a later get should return the very object computed the first time"
    assert service.total_calls == 1, f"compute ran {service.total_calls} times for one key"


@pytest.mark.correctness
def test_keys_are_independent(exercise, watch, race_seed):
    """Each key gets its own value, computed once"""
    keys = random_keys(race_seed, 5)
    service = SimulatedService(0.002, result=fresh_value)
    cache = create(exercise, watch, service)
    order = keys + keys[::-1] + keys
    for key in order:
        got = returned(watch(cache.get, key), "get")
        assert got == fresh_value(key), "get returned the value of another key"
    assert sorted(service.args) == sorted(keys), (
        f"compute ran {service.total_calls} times for {len(keys)} keys asked 3 times each: "
        "each key should be computed once"
    )


@pytest.mark.correctness
def test_falsy_values_are_remembered(exercise, watch, race_seed):
    """None, 0 and empty values are remembered like any other"""
    keys = random_keys(race_seed, 4)
    values = dict(zip(keys, [None, 0, "", False], strict=True))
    service = SimulatedService(0.002, result=values.__getitem__)
    cache = create(exercise, watch, service)
    for key in keys + keys:
        got = returned(watch(cache.get, key), "get")
        assert got == values[key] and type(got) is type(values[key]), (
            f"get returned {got!r} where compute returned {values[key]!r}"
        )
    assert service.total_calls == len(keys), (
        "a key whose value is None, 0 or empty was computed again: "
        "remember that a key is done, whatever its value"
    )


@pytest.mark.correctness
def test_failure_is_raised_and_not_remembered(exercise, watch, race_seed):
    """A failing compute raises its exception, and the next get computes again"""
    key, other = random_keys(race_seed, 2)
    errors = []

    def fail_first(k):
        if k == key and not errors:
            errors.append(ComputeFailed(f"cannot compute {k}"))
            return errors[0]
        return None

    service = SimulatedService(0.005, failures=fail_first, result=fresh_value)
    cache = create(exercise, watch, service)
    error = raised(watch(cache.get, key), "get")
    assert error is errors[0], f"get should raise compute's exception itself, got {error!r}"
    assert returned(watch(cache.get, other), "get") == fresh_value(other), "another key failed too"
    obs = watch(cache.get, key)
    if obs.error is errors[0]:
        fail("a failed compute was remembered: the next get must call compute again")
    value = returned(obs, "get after a failure")
    assert value == fresh_value(key), f"the retry returned {value!r} instead of compute's value"
    assert returned(watch(cache.get, key), "get") is value, "the retried value was not remembered"
    assert service.total_calls == 3, (
        f"expected 3 computes (fail, other key, retry), got {service.total_calls}"
    )


# --- timing -----------------------------------------------------------------------------------

TIMING_KEYS = 8
TIMING_DELAY = 0.1
TIMING_MAX_RATIO = 0.3  # of the sequential time (8 × 0.1 s); a global lock takes ≥ 1
# Every amplified store pauses, inside the critical section too: at 1.0, eight
# owners registering their keys one after another under load can delay the last
# compute by 100 ms. A fraction still breaks a check-then-act without a lock.
TIMING_RACE_PROBABILITY = 0.2


@pytest.mark.timing
def test_different_keys_overlap(exercise, watch, race, race_seed):
    """8 keys computing for 100 ms each, 3 callers per key, overlap: ≤ 0.3 × sequential"""
    keys = random_keys(race_seed, TIMING_KEYS)
    callers = keys * 3
    random.Random(race_seed).shuffle(callers)

    def one_round() -> float:
        service = SimulatedService(TIMING_DELAY, result=fresh_value)
        cache = create(exercise, watch, service)
        with race(probability=TIMING_RACE_PROBABILITY):
            outcomes, elapsed = returned(watch(ask_at_once, cache, callers), "get")
        check_values(outcomes, callers, service)
        if service.peak_in_flight <= 1:
            fail(
                "only one compute ran at a time, for 8 different keys: compute is serialised. "
                "Hold the lock only to look up or register a key, never while computing"
            )
        return elapsed / (TIMING_KEYS * TIMING_DELAY)

    verdict = median_verdict(one_round, lambda r: r <= TIMING_MAX_RATIO)
    if not verdict.passed:
        RATIO.set(verdict.value)  # the ratio the failure states, for the class report
        fail(
            f"8 keys computing at once took {verdict.value:.2f} × the sequential time "
            f"(limit {TIMING_MAX_RATIO}): different keys wait for each other"
        )


# --- stress -----------------------------------------------------------------------------------


@pytest.mark.stress
@pytest.mark.weight(2)
def test_one_key_many_threads(exercise, watch, race, race_seed):
    """Amplified: 16 threads asking for one key at once share one compute and one object"""
    for round_ in range(6):
        key = random_keys(race_seed + round_, 1)[0]
        service = SimulatedService(0.02, result=fresh_value)
        cache = create(exercise, watch, service)
        with race():
            obs = watch(ask_at_once, cache, [key] * 16)
        outcomes, _ = returned(obs, "get")
        check_values(outcomes, [key] * 16, service)
        check_no_leftovers(obs, "get")
        check_quiet(obs, "get")


@pytest.mark.stress
def test_several_keys_many_threads(exercise, watch, race, race_seed):
    """Amplified: 4 keys × 6 threads at once, one compute and one object per key"""
    rng = random.Random(race_seed)
    for round_ in range(4):
        keys = random_keys(race_seed + round_, 4)
        callers = keys * 6
        rng.shuffle(callers)
        service = SimulatedService(0.05, result=fresh_value)
        cache = create(exercise, watch, service)
        with race():
            obs = watch(ask_at_once, cache, callers)
        outcomes, _ = returned(obs, "get")
        check_values(outcomes, callers, service)
        if service.peak_in_flight <= 1:
            fail(
                "only one compute ran at a time for different keys: compute is serialised. "
                "Never hold a lock shared by all keys while computing"
            )
        check_no_leftovers(obs, "get")
        check_quiet(obs, "get")


class FailingFirstAttempt:
    """A compute whose first attempt fails once every caller is waiting; later ones succeed.

    The first attempt blocks until each of the ``n`` caller threads is inside ``get``
    (``lanes_inside``: in the code under test, or done), lets them settle for ``settle``
    seconds so each finds the attempt in progress, then raises ``error``. So every
    caller arrived before the failure: each must receive that very exception object.
    Later attempts return a fresh value; it records when each attempt started and
    ended, and how many ran at once.
    """

    def __init__(self, key, n: int, settle: float = 0.1, patience: float = 3.0) -> None:
        self.n = n
        self.error = ComputeFailed(f"the first compute of {key} failed")
        self.settle = settle
        self.patience = patience
        self.failed_at: float | None = None
        self.starts: list[float] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self.anchor = None  # the cache, once made: where the caller threads run
        self._lock = threading.Lock()

    def all_inside(self) -> bool:
        """All n callers have called get: each is in it or done."""
        inside, total = lanes_inside(self.anchor)
        return total >= self.n and inside >= total

    def __call__(self, key):
        with self._lock:
            attempt = len(self.starts)
            self.starts.append(_clock())
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if attempt > 0:
                _sleep(0.005)
                return fresh_value(key)
            deadline = _clock() + self.patience
            while not self.all_inside() and _clock() < deadline:
                _sleep(0.002)
            _sleep(self.settle)
            self.failed_at = _clock()
            raise self.error
        finally:
            with self._lock:
                self.in_flight -= 1

    def attempts_before_failure(self) -> int:
        if self.failed_at is None:
            return len(self.starts)
        return sum(1 for t in self.starts if t <= self.failed_at)


def ask_during_a_failure(cache, key, compute: FailingFirstAttempt):
    """compute.n threads released together ask for ``key``; each one's outcome (ask_at_once)."""
    compute.anchor = cache
    return outcomes_in_threads([partial(cache.get, key)] * compute.n)


@pytest.mark.stress
def test_failure_reaches_every_waiter_then_retry(exercise, watch, race, race_seed):
    """Amplified: a failing compute raises in every waiting caller; a later get retries"""
    for round_ in range(3):
        key = random_keys(race_seed + round_, 1)[0]
        compute = FailingFirstAttempt(key, 8)
        cache = create(exercise, watch, compute)
        with race():
            obs = watch(ask_during_a_failure, cache, key, compute)
        outcomes = returned(obs, "get")
        if compute.peak_in_flight > 1 or compute.attempts_before_failure() > 1:
            fail(
                f"{compute.attempts_before_failure()} computes of one key started before the "
                "first one ended: callers saw it missing before anyone registered it "
                "(check-then-act)"
            )
        for kind, got in outcomes:
            if kind == "value" and got is None:
                fail("a waiting caller got None when the compute failed: re-raise its exception")
        for kind, got in outcomes:
            if kind == "value":
                fail(
                    "a caller that was waiting while compute ran got a value when that compute "
                    "failed: it ran compute again instead of receiving the failure. Every caller "
                    "waiting for an attempt must get that attempt's exception"
                )
            if got is not compute.error:
                fail(
                    f"a waiting caller got {type(got).__name__}: {got} instead of the exception "
                    "compute raised: hand that very exception to every waiter"
                )
        check_quiet(obs, "get")

        calls = len(compute.starts)
        retry = watch(cache.get, key)
        if retry.error is compute.error:
            fail("a failed compute was remembered: the next get must call compute again")
        value = returned(retry, "get after a failure")
        assert value == fresh_value(key), f"the retry returned {value!r} instead of the value"
        assert len(compute.starts) == calls + 1, "the get after a failure did not compute again"
        again = returned(watch(cache.get, key), "get")
        assert again is value and len(compute.starts) == calls + 1, (
            "after a successful retry the value should be remembered"
        )


def keep_asking(cache, key, service, n: int, tail: float, limit: float = 5.0):
    """n threads call get(key) in a loop until ``tail`` seconds after the compute ended.

    A third of them start at once and wait for the compute. The others start
    one after another just as it ends (a step of about 0.4 ms each): they come
    in while the owner publishes the value, not woken up by it. Returns each
    thread's outcomes, ("value", v) or ("error", e), in order.
    """
    early = max(1, n // 3)
    barrier = threading.Barrier(early)
    outcomes: list[list] = [[] for _ in range(n)]
    hard_stop = _clock() + limit

    def compute_end() -> float | None:
        calls = service.calls
        return calls[0].end if calls else None

    def ask(i):
        if i < early:
            barrier.wait()
        else:
            while compute_end() is None and _clock() < hard_stop:
                _sleep(0.0005)
            _sleep(0.0004 * (i - early))
        while True:
            end = compute_end()
            if _clock() > hard_stop or (end is not None and _clock() > end + tail):
                return
            try:
                outcomes[i].append(("value", cache.get(key)))
            except BaseException as exc:
                outcomes[i].append(("error", exc))
                return

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


GAP_ROUNDS = 8
GAP_CALLERS = 9
# Besides stores, pause before taking a lock (``with``) and before calls: an owner
# that ends "in progress" and stores the value in two steps then leaves a wide
# window between them, and the woken callers come back through it.
GAP_PAUSE_BEFORE = ("BEFORE_WITH", "CALL", "CALL_KW")


@pytest.mark.stress
def test_callers_arriving_while_the_value_is_published(exercise, watch, race, race_seed):
    """Amplified: callers that keep arriving as a compute ends all share its one value"""
    for round_ in range(GAP_ROUNDS):
        key = random_keys(race_seed + 50 + round_, 1)[0]
        service = SimulatedService(0.02, result=fresh_value)
        cache = create(exercise, watch, service)
        with race(also_before=GAP_PAUSE_BEFORE):
            obs = watch(keep_asking, cache, key, service, GAP_CALLERS, 0.03)
        outcomes = [o for per_thread in returned(obs, "get") for o in per_thread]
        for kind, got in outcomes:
            if kind == "error":
                fail(f"get raised {type(got).__name__}: {got} although compute succeeded")
        if service.peak_in_flight > 1:
            fail(
                f"{service.peak_in_flight} computes of one key ran at the same time: callers saw "
                "it missing before anyone registered it (check-then-act)"
            )
        if service.total_calls > 1:
            fail(
                f"one key was computed {service.total_calls} times by callers arriving one after "
                "another: a caller came in while the key was neither in progress nor done (the "
                "owner removed its 'in progress' entry before storing the value). Mark the key "
                "done in the same critical section that ends its 'in progress' state"
            )
        if any(got is not outcomes[0][1] for _, got in outcomes):
            fail("callers of one key did not all get the very same object")
        check_no_leftovers(obs, "get")
        check_quiet(obs, "get")
