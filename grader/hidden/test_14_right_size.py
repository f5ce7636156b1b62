"""Hidden tests for exercise 14, right_size (never released to students).

The timing tests count what a call starts and locks where the module runs
(``grader.subject.counting``, made there by the ``local`` fixture): thread starts (capped,
so a thread per value fails fast) and the module's own lock acquisitions. The long inputs
are built on both sides from a seed, so they never cross. The CPU time of a call is the
module's process's word, checked against the test's own reading of ``/proc``
(``cpu_meter``); the yardstick, a plain sequential loop, runs in the test's process.
"""

import random
import statistics
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.harness.checks import fail, returned
from grader.subject.counting import values as seeded_values

# Taken at import, before any student code runs.
_cpu_clock = time.process_time
_wall_clock = time.perf_counter
TICKS_SLACK = 0.03  # /proc counts CPU time in 10 ms ticks: two ends, and some to spare

KEY = frozenset({"thread_overhead", "lock_contention"})
CHOICES = KEY | {"integer_overflow", "too_few_cores", "io_wait", "addition_order"}


def sequential_total(values):
    """The yardstick: a plain sequential Python loop."""
    total = 0
    for value in values:
        total += value
    return total


def random_values(rng, n):
    return [rng.randrange(-(10**9), 10**9) for _ in range(n)]


def check_total(got, values, workers):
    __tracebackhide__ = True
    expected = sum(values)
    if got != expected:
        remainder = len(values) % workers
        hint = (
            f" ({remainder} value(s) are left over after {workers} equal chunks: "
            "does the last chunk include them?)"
            if remainder
            else ""
        )
        fail(
            f"the total of {len(values)} values with {workers} workers was {got!r}, "
            f"expected {expected}{hint}"
        )


# --- correctness ------------------------------------------------------------------------------


@pytest.mark.correctness
@pytest.mark.weight(2)
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=st.lists(st.integers(min_value=-(10**30), max_value=10**30), max_size=120),
    workers=st.integers(min_value=1, max_value=9),
)
def test_random_inputs(exercise, watch, values, workers):
    """Random lists and worker counts give the sum of the values"""
    got = returned(
        watch(exercise.parallel_total, list(values), workers, timeout=10), "parallel_total"
    )
    check_total(got, values, workers)


@pytest.mark.correctness
def test_remainders_and_edges(exercise, watch, race_seed):
    """Lengths that do not divide evenly, one worker, more workers than values, empty"""
    rng = random.Random(race_seed)
    cases = [(0, 3), (1, 4), (3, 8), (rng.randrange(5, 50), 1)]
    # At most about 400 values: a thread-per-value submission must fail on speed, not
    # run into the sandbox's thread limit (on 3.13 that stalls the whole run).
    cases += [(rng.randrange(1, 60) * w + rng.randrange(1, w), w) for w in (2, 3, 4, 7)]
    for n, workers in cases:
        values = random_values(rng, n)
        got = returned(
            watch(exercise.parallel_total, values, workers, timeout=10), "parallel_total"
        )
        check_total(got, values, workers)


@pytest.mark.correctness
def test_amplified_combination(exercise, watch, race, race_seed):
    """With thread switches forced at every store, the partial sums combine without loss"""
    rng = random.Random(race_seed)
    with race():
        for _ in range(4):
            workers = rng.randrange(2, 6)
            values = random_values(rng, rng.randrange(10, 30))
            obs = watch(exercise.parallel_total, values, workers, timeout=10)
            got = returned(obs, "parallel_total")
            if got != sum(values):
                fail(
                    f"the total of {len(values)} values was {got!r}, expected {sum(values)}, "
                    "when thread switches were forced: a lost update while combining; let each "
                    "thread keep its own partial sum and add them up after joining"
                )


def normalised(explanation):
    if isinstance(explanation, str) or not hasattr(explanation, "__iter__"):
        return None
    items = list(explanation)
    if not all(isinstance(x, str) for x in items):
        return None
    return {x.strip().lower() for x in items}


@pytest.mark.correctness
def test_explanation(exercise):
    """EXPLANATION names the causes of the starter's slowness"""
    chosen = normalised(getattr(exercise, "EXPLANATION", None))
    if chosen is None:
        fail("EXPLANATION must be a set of strings, the keys listed in the docstring")
    unknown = chosen - CHOICES
    if unknown:
        fail(f"EXPLANATION holds {sorted(unknown)}, which is not one of the listed keys")
    wrong, missing = len(chosen - KEY), len(KEY - chosen)
    if wrong or missing:
        fail(
            f"EXPLANATION is not right yet: {wrong} of its keys name no cause of the slowness, "
            f"and {missing} cause(s) are missing. Re-read what each thread of the starter "
            "did for each value"
        )


# --- timing -----------------------------------------------------------------------------------

WORKERS = 4
LIMIT_CPU = 5.0  # median CPU time ÷ the sequential loop's
LIMIT_WALL = 12.0  # median wall time ÷ the sequential loop's (a loose guard)


@pytest.fixture
def counted(exercise, local):
    """``counted(values, workers, locks)``: one counted call where the module runs."""
    return local({"type": "counted call", "module": exercise})


def long_values(local, seed, n):
    """The same ``n`` values here and where the module runs (built there from the seed)."""
    return seeded_values(seed, n), local({"type": "values", "seed": seed, "n": n})


def measured(fn, *args):
    """(value, CPU seconds of this whole process, wall seconds) of one call."""
    cpu, wall = _cpu_clock(), _wall_clock()
    value = fn(*args)
    return value, _cpu_clock() - cpu, _wall_clock() - wall


def measured_call(counted, meter, values, workers):
    """(value, CPU seconds as the module's process reports them, wall seconds, threads
    started, CPU seconds ``/proc`` says the process used) of one counted call."""
    used, wall = meter.process(), _wall_clock()
    value, cpu, started, _ = counted(values, workers)
    wall, used = _wall_clock() - wall, meter.process() - used
    return value, cpu, wall, started, used


def check_thread_count(started, workers, n):
    __tracebackhide__ = True
    if started == 0:
        fail(
            f"no thread was started for {n} values and {workers} workers: "
            "sum the chunks in worker threads"
        )
    if started < 2:
        fail(f"only {started} thread was started with {workers} workers: use one per chunk")
    if started > workers + 1:
        fail(
            f"more than {workers + 1} threads were started for {n} values and {workers} "
            "workers: a thread per value (or per small piece) costs far more than the "
            "addition it does; use one thread per chunk"
        )


def check_round(counted, meter, watch, values, there):
    """One student call: right result and thread count; returns (CPU, wall) seconds."""
    obs = watch(measured_call, counted, meter, there, WORKERS, timeout=15)
    value, cpu, wall, started, used = returned(obs, "parallel_total")
    if not 0.9 * used - TICKS_SLACK <= cpu:
        fail(
            f"the process running your code used {used:.2f} s of CPU during the call, but its "
            f"own clock said {cpu:.2f} s: does your code change time.process_time?"
        )
    check_thread_count(started, WORKERS, len(values))
    check_total(value, values, WORKERS)
    return cpu, wall


def yardstick(values):
    value, cpu, wall = measured(sequential_total, values)
    assert value == sum(values), "the sequential yardstick failed (grader fault)"
    return cpu, wall


@pytest.mark.timing
def test_within_a_few_times_a_sequential_loop(counted, cpu_meter, local, watch, race_seed):
    """Within a few times a plain sequential loop, with 2 to workers + 1 threads"""
    rng = random.Random(race_seed)
    # A small probe first: per-value overhead fails here at once, not after minutes.
    probe, there = long_values(local, rng.randrange(2**32), 20_000)
    cpu, _ = check_round(counted, cpu_meter, watch, probe, there)
    loop_cpu, _ = yardstick(probe)
    loop_cpu = max(loop_cpu, 1e-4)  # a coarse CPU clock can read 0 for a short loop
    if cpu > 50 * loop_cpu:
        fail(
            f"{len(probe)} values took {cpu / loop_cpu:.0f} × the CPU time of a plain loop "
            f"(limit {LIMIT_CPU:g}): per-value overhead swamps the additions (a lock taken "
            "for every value: contention; or a thread or task per value)"
        )
    values, there = long_values(local, rng.randrange(2**32), 400_000)
    cpu_ratios, wall_ratios = [], []
    for _ in range(5):  # alternate, so both see the same machine load
        loop_cpu, loop_wall = yardstick(values)
        cpu, wall = check_round(counted, cpu_meter, watch, values, there)
        cpu_ratios.append(cpu / loop_cpu)
        wall_ratios.append(wall / loop_wall)
    cpu_ratio, wall_ratio = statistics.median(cpu_ratios), statistics.median(wall_ratios)
    if cpu_ratio > LIMIT_CPU or wall_ratio > LIMIT_WALL:
        fail(
            f"{len(values)} values took {cpu_ratio:.1f} × the CPU time and {wall_ratio:.1f} × "
            f"the wall time of a plain sequential loop (limits {LIMIT_CPU:g} and {LIMIT_WALL:g}): "
            "per-value overhead, such as a lock taken for every value (contention), swamps "
            "the additions; sum each chunk in a local variable and combine once"
        )


def uneven_cases(rng):
    """(n, workers) where n = q × workers + r with r > q > 0: the floor size n // workers
    would make ``workers + ceil(r / q)`` chunks, at least ``workers + 2``."""
    cases = [(7, 4), (11, 4)]
    for _ in range(3):
        workers = rng.randrange(4, 10)
        q = rng.randrange(1, workers - 1)
        cases.append((q * workers + rng.randrange(q + 1, workers), workers))
    return cases


@pytest.mark.timing
def test_uneven_lengths_start_at_most_workers_chunks(counted, watch, race_seed):
    """Lengths that do not divide evenly still make at most one chunk per worker"""
    rng = random.Random(race_seed)
    for n, workers in uneven_cases(rng):
        values = random_values(rng, n)
        obs = watch(counted, values, workers, timeout=15)
        value, _, started, _ = returned(obs, "parallel_total")
        if started > workers + 1:
            size = n // workers
            fail(
                f"more than {workers + 1} threads were started for {n} values and {workers} "
                f"workers, a length that does not divide evenly: too many chunks. With a chunk "
                f"size of {n} // {workers} = {size}, the {n % workers} left-over values become "
                f"extra chunks ({-(-n // size)} in all). Make at most {workers} chunks, one "
                "thread each, and spread the left-over values over them"
            )
        check_thread_count(started, workers, n)
        check_total(value, values, workers)


@pytest.mark.timing
def test_locks_are_taken_per_chunk_not_per_value(counted, watch, race_seed):
    """Locks, if any, are taken a few times per thread, never once per value"""
    rng = random.Random(race_seed)
    for workers in (rng.randrange(2, 5), rng.randrange(5, 9)):
        values = random_values(rng, rng.randrange(3_000, 5_000))
        obs = watch(counted, values, workers, True, timeout=15)
        value, _, started, taken = returned(obs, "parallel_total")
        if started > workers + 1:  # (a pool may start fewer threads for quick chunks)
            check_thread_count(started, workers, len(values))
        bound = 4 * (workers + 1)
        if taken > bound:
            fail(
                f"locks were taken {taken} times to add up {len(values)} values with {workers} "
                f"workers (a few times per thread, at most {bound}, is plenty): a lock per value, "
                "or per few values, makes every thread queue for it: contention. Add up each "
                "chunk in a local variable and combine once per chunk"
            )
        check_total(value, values, workers)
