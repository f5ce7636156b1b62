"""Hidden tests for exercise 13, cpu_parallel (never released to students).

Parallelism is judged structurally, never by wall-clock speedup: ``func`` is a
:class:`~grader.subject.chunks.ChunkProbe`, made where the module runs (the
``chunk_probe`` fixture), that records which process ran each chunk and when;
the test reads the records as data (``calls_of``) and computes the expected sums
itself. The measured speedup is only reported. Workers start by the platform's
default method or the one the solution passes: the loader makes the submission's
module importable in workers started by spawn or forkserver. Processes left
running are the test's own reading (``child_processes``: ``/proc`` in the judge).
"""

import random
import time

import pytest

from grader.harness.checks import fail, returned
from grader.harness.processes import (
    ProbeCall,
    calls_of,
    coverage_problems,
    expected,
    lingering_processes,
    peak_parallel_processes,
    worker_pids,
)
from grader.machine import usable_cpus

MAX_CHUNKS_PER_WORKER = 16  # the stub's contract: workers <= chunks <= 16 × workers


def sum_and_calls(exercise, watch, probe, n: int, workers: int):
    """Run parallel_sum with the probe; return its value, the recorded calls and the wall time."""
    obs = watch(exercise.parallel_sum, probe, n, workers)
    value = returned(obs, "parallel_sum")
    return value, calls_of(probe), obs.elapsed


def check_sum(value, calls: list[ProbeCall], cost: int, n: int) -> None:
    """The value is the sum over range(n); if not, say how the chunks went wrong."""
    want = expected(cost, n)
    if value == want:
        return
    problem = coverage_problems(calls, n)
    if problem:
        fail(problem + ": split range(n) into contiguous, non-overlapping chunks")
    if value == 0 and not calls and n:
        fail("parallel_sum never called func: it returned 0 without doing the work")
    fail(
        f"parallel_sum returned {value!r}, but the results of func on the chunks add up to "
        f"{sum(c.value for c in calls)} (expected {want}): return the sum of every "
        "chunk's result"
    )


def check_in_worker_processes(calls: list[ProbeCall], caller_pid: int, what: str) -> set[int]:
    """func ran in at least one process other than the caller; say why not otherwise."""
    pids = worker_pids(calls, caller_pid)
    if pids:
        return pids
    threads = {c.thread for c in calls}
    if len(threads) > 1:
        fail(
            f"{what}: func ran in {len(threads)} threads of the calling process, not in worker "
            "processes: under the GIL, threads run CPU-bound Python code one at a time. "
            "Use a pool of processes"
        )
    fail(
        f"{what}: func ran in the calling process only, one chunk after another (serialised): "
        "run the chunks in a pool of worker processes"
    )
    return pids


def check_chunk_count(calls: list[ProbeCall], n: int, workers: int) -> None:
    """The stub's limits: at least ``workers`` chunks (when n >= workers), at most 16 per worker."""
    chunks = len(calls)
    if n >= workers and chunks < workers:
        fail(
            f"range({n}) was cut into only {chunks} chunk(s) for {workers} workers: make at least "
            "one chunk per worker, or some workers have nothing to do; derive the chunk size "
            "from n and workers (a fixed or rounded-up chunk size can leave workers idle)"
        )
    limit = MAX_CHUNKS_PER_WORKER * workers
    if chunks > limit:
        biggest = max(c.size for c in calls)
        fail(
            f"range({n}) was cut into {chunks} chunks (of at most {biggest} number(s)) for "
            f"{workers} workers: each task costs a round trip to a worker process, so that "
            f"many tiny tasks drown the work in overhead. Use at most {limit} chunks "
            f"({MAX_CHUNKS_PER_WORKER} per worker): derive the chunk size from n and workers, "
            "not a fixed size"
        )


def random_n(seed: int, low: int, high: int) -> int:
    return random.Random(seed).randrange(low, high)


# --- correctness ---------------------------------------------------------------------------------


@pytest.mark.correctness
@pytest.mark.parametrize(
    ("low", "high", "workers"),
    [(10, 100, 2), (500, 2000, 3), (5_000, 10_000, 4)],
    ids=["small", "medium", "large"],
)
def test_sum_matches_sequential(exercise, watch, chunk_probe, race_seed, low, high, workers):
    """The sum over the chunks equals the sequential sum"""
    n = random_n(race_seed, low, high)
    with chunk_probe() as probe:
        value, calls, _ = sum_and_calls(exercise, watch, probe, n, workers)
        check_sum(value, calls, 0, n)


@pytest.mark.correctness
def test_empty_range(exercise, watch, chunk_probe):
    """An empty range sums to 0"""
    with chunk_probe() as probe:
        value, calls, _ = sum_and_calls(exercise, watch, probe, 0, 2)
        assert value == 0, f"parallel_sum(func, 0, 2) returned {value!r} instead of 0"
        assert all(c.size == 0 for c in calls), "func was given numbers although n is 0"


@pytest.mark.correctness
def test_fewer_numbers_than_workers(exercise, watch, chunk_probe, race_seed):
    """Fewer numbers than workers still sum correctly"""
    n = random_n(race_seed, 1, 4)
    with chunk_probe() as probe:
        value, calls, _ = sum_and_calls(exercise, watch, probe, n, 5)
        check_sum(value, calls, 0, n)


def primes_below(limit: int) -> int:
    """Sieve of Eratosthenes: how many primes are smaller than ``limit``."""
    if limit < 3:
        return 0
    sieve = bytearray([1]) * limit
    sieve[0] = sieve[1] = 0
    for k in range(2, int(limit**0.5) + 1):
        if sieve[k]:
            sieve[k * k :: k] = bytearray(len(range(k * k, limit, k)))
    return sum(sieve)


@pytest.mark.correctness
def test_small_prime_counts(exercise, watch):
    """Prime counts below small limits, including 0, 1, 2 and a prime limit"""
    for limit, workers in [(0, 2), (1, 2), (2, 3), (3, 2), (11, 2), (12, 4), (100, 3)]:
        got = returned(watch(exercise.count_primes, limit, workers), "count_primes")
        want = primes_below(limit)
        assert got == want, (
            f"count_primes({limit}, {workers}) returned {got!r}; there are {want} primes "
            f"smaller than {limit} (primes p with p < limit; 0 and 1 are not prime)"
        )


@pytest.mark.correctness
@pytest.mark.parametrize("workers", [2, 3])
def test_prime_counts(exercise, watch, race_seed, workers):
    """Prime counts below larger limits"""
    limit = random_n(race_seed, 3_000, 10_000)
    got = returned(watch(exercise.count_primes, limit, workers), "count_primes")
    want = primes_below(limit)
    assert got == want, (
        f"count_primes({limit}, {workers}) returned {got!r}; there are {want} primes smaller "
        f"than {limit}"
    )


@pytest.mark.correctness
def test_count_primes_uses_parallel_sum(exercise, watch, race_seed):
    """count_primes does its counting through parallel_sum"""
    limit = random_n(race_seed, 1000, 5000)
    real = exercise.parallel_sum
    seen = []

    def spy(*args, **kwargs):
        seen.append((args, kwargs))
        return real(*args, **kwargs)

    exercise.parallel_sum = spy
    try:
        got = returned(watch(exercise.count_primes, limit, 3), "count_primes")
    finally:
        exercise.parallel_sum = real
    assert seen, "count_primes did not call parallel_sum: count the primes of each chunk with it"
    assert got == primes_below(limit), f"count_primes({limit}, 3) returned a wrong count {got!r}"


# --- timing (structural) -------------------------------------------------------------------------

PARALLEL_N = 2000  # numbers, each about 0.1 ms of pure-Python arithmetic: ~0.2 s in all
PARALLEL_COST = 700


@pytest.mark.timing
@pytest.mark.parametrize("workers", [2, 4])
def test_chunks_run_in_parallel_processes(
    exercise, watch, chunk_probe, module_pid, descendants, request, workers
):
    """func runs in several worker processes at the same time"""
    cpus = usable_cpus()
    if cpus < 2:
        pytest.skip(f"only {cpus} usable CPU here: parallel processes cannot be observed")
    wanted = min(workers, cpus)
    with chunk_probe(cost=PARALLEL_COST, rendezvous=wanted) as probe:
        started = time.perf_counter()
        expected(PARALLEL_COST, PARALLEL_N)  # the sequential time, for the report only
        sequential = time.perf_counter() - started
        with descendants() as seen:
            value, calls, elapsed = sum_and_calls(exercise, watch, probe, PARALLEL_N, workers)
        speedup = f"measured speedup {sequential / elapsed:.2f}× (shown, not scored)"
        request.node.user_properties.append(("feedback", speedup))
        check_sum(value, calls, PARALLEL_COST, PARALLEL_N)
        pids = check_in_worker_processes(calls, module_pid, f"with {workers} workers")
        never = sorted(pids - seen.pids)
        if never:
            fail(
                f"func's records name {len(never)} worker process(es) that never ran (e.g. "
                f"pid {never[0]}): records written by your code count for nothing; run the "
                "chunks in a pool of worker processes"
            )
        if len(pids) < wanted:
            fail(
                f"func ran in only {len(pids)} worker process(es) with {workers} workers on "
                f"{cpus} CPUs (expected at least {wanted}): give the pool {workers} processes "
                f"and at least one chunk per worker; {speedup}"
            )
        peak = peak_parallel_processes(calls, module_pid)
        if peak < wanted:
            fail(
                f"func ran in {len(pids)} worker processes, but at most {peak} of them were "
                f"busy at the same time (expected {wanted}): the chunks ran one after another, "
                f"serialised. Submit every chunk before waiting for any result; {speedup}"
            )


@pytest.mark.timing
def test_sensible_number_of_chunks(exercise, watch, chunk_probe, module_pid, race_seed):
    """range(n) is cut into a sensible number of chunks"""
    n, workers = random_n(race_seed, 2000, 4000), 3
    with chunk_probe(cost=5) as probe:
        value, calls, _ = sum_and_calls(exercise, watch, probe, n, workers)
        check_sum(value, calls, 5, n)
        check_in_worker_processes(calls, module_pid, f"with {workers} workers")
        check_chunk_count(calls, n, workers)


def chunk_count_cases(seed: int) -> list[tuple[int, int]]:
    """(n, workers) from as many numbers as workers up to a few hundred thousand numbers.

    A chunk count that follows n and workers meets the limits in every case; a
    fixed chunk size gives too few chunks for a small n (idle workers) or far
    too many for a large one, and a rounded-up ``ceil(n / workers)`` gives
    fewer chunks than workers for 5, 6 or 9 numbers on 4 workers.
    """
    rng = random.Random(seed)
    return [
        (3, 3),
        (rng.choice([5, 6, 9]), 4),
        (rng.randrange(100, 1_000), 3),
        (rng.randrange(250_000, 350_000), 2),
    ]


@pytest.mark.timing
def test_chunk_count_follows_n_and_workers(exercise, watch, chunk_probe, module_pid, race_seed):
    """From a handful of numbers to 300 000: between 1 and 16 chunks per worker"""
    for n, workers in chunk_count_cases(race_seed):
        with chunk_probe() as probe:
            value, calls, _ = sum_and_calls(exercise, watch, probe, n, workers)
            check_sum(value, calls, 0, n)
            check_in_worker_processes(calls, module_pid, f"range({n}) with {workers} workers")
            check_chunk_count(calls, n, workers)


# --- stress --------------------------------------------------------------------------------------


@pytest.mark.stress
def test_no_worker_process_left(
    exercise, watch, chunk_probe, module_pid, child_processes, race_seed
):
    """Repeated calls: correct sums, in worker processes, none left running"""
    rng = random.Random(race_seed)
    for round_ in range(6):
        n, workers = rng.randrange(50, 3000), rng.randrange(2, 5)
        with chunk_probe(cost=20) as probe:
            before = child_processes()
            obs = watch(exercise.parallel_sum, probe, n, workers)
            value = returned(obs, "parallel_sum")
            left = lingering_processes(before, child_processes, grace=1.0)
            calls = calls_of(probe)
            check_sum(value, calls, 20, n)
            check_in_worker_processes(calls, module_pid, f"round {round_}")
            if left:
                fail(
                    f"{len(left)} worker process(es) still running after parallel_sum returned "
                    f"({', '.join(left[:2])}): shut the pool down before returning, for "
                    "example by using it in a with block"
                )
            if obs.leftover_threads:
                fail(
                    f"{len(obs.leftover_threads)} thread(s) still running after parallel_sum "
                    f"returned ({obs.leftover_threads[0]}): shut the pool down before returning"
                )
