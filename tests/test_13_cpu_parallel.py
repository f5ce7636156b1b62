"""Visible tests for exercise 13, cpu_parallel. The grade adds hidden tests."""

import pytest

from grader.harness.checks import returned
from grader.harness.processes import (
    calls_of,
    coverage_problems,
    expected,
    lingering_processes,
    peak_parallel_processes,
    worker_pids,
)
from grader.machine import usable_cpus


def test_the_sum_matches_the_sequential_sum(exercise, watch, chunk_probe):
    with chunk_probe() as probe:
        got = returned(watch(exercise.parallel_sum, probe, 1000, 2), "parallel_sum")
        problem = coverage_problems(calls_of(probe), 1000)
        assert problem is None, problem
        want = expected(0, 1000)
        assert got == want, f"parallel_sum(func, 1000, 2) returned {got!r}, expected {want}"


def test_an_empty_range_sums_to_zero(exercise, watch, chunk_probe):
    with chunk_probe() as probe:
        got = returned(watch(exercise.parallel_sum, probe, 0, 2), "parallel_sum")
        assert got == 0, f"parallel_sum(func, 0, 2) should return 0, got {got!r}"


def test_primes_below_100_000(exercise, watch):
    got = returned(watch(exercise.count_primes, 100_000, 2), "count_primes")
    assert got == 9592, f"there are 9592 primes below 100000, count_primes returned {got!r}"


def test_the_chunks_run_in_worker_processes_at_the_same_time(
    exercise, watch, chunk_probe, module_pid
):
    cpus = usable_cpus()
    if cpus < 2:
        pytest.skip(f"only {cpus} usable CPU here: parallel processes cannot be observed")
    with chunk_probe(cost=1000, rendezvous=2) as probe:
        got = returned(watch(exercise.parallel_sum, probe, 2000, 2), "parallel_sum")
        assert got == expected(1000, 2000), f"parallel_sum returned a wrong sum {got!r}"
        calls = calls_of(probe)
        pids = worker_pids(calls, module_pid)
        assert len(pids) >= 2, (
            f"func ran in {len(pids)} process(es) other than the caller; expected 2: "
            "use a pool of 2 worker processes (threads share one GIL)"
        )
        peak = peak_parallel_processes(calls, module_pid)
        assert peak >= 2, (
            f"at most {peak} worker process was busy at a time: submit every chunk first, "
            "then collect the results"
        )
        assert len(calls) <= 32, f"{len(calls)} chunks for 2 workers: use at most 32"


def test_no_worker_process_is_left_running(exercise, watch, chunk_probe, child_processes):
    with chunk_probe(cost=20) as probe:
        before = child_processes()
        returned(watch(exercise.parallel_sum, probe, 500, 2), "parallel_sum")
        left = lingering_processes(before, child_processes, grace=1.0)
        assert not left, f"still running after parallel_sum returned: {left}; shut the pool down"
