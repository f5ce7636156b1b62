"""The process probe: records survive every start method; overlap and coverage are read right."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from grader.harness.processes import (
    ChunkProbe,
    ProbeCall,
    calls_of,
    coverage_problems,
    expected,
    lingering_processes,
    peak_parallel_processes,
    worker_pids,
)
from grader.machine import usable_cpus

START_METHODS = [
    m for m in ("fork", "spawn", "forkserver") if m in multiprocessing.get_all_start_methods()
]
CHUNKS = [range(0, 300), range(300, 600), range(600, 900), range(900, 1000)]


def call(pid: int, start: float, end: float, first: int = 0, stop: int = 1) -> ProbeCall:
    return ProbeCall(pid, 1, start, end, first, stop, 0)


def test_the_probe_sums_like_its_expected_value():
    with ChunkProbe.create(cost=3) as probe:
        assert sum(probe(c) for c in CHUNKS) == expected(probe.cost, 1000)
        assert [(c.first, c.stop) for c in calls_of(probe)] == [(c.start, c.stop) for c in CHUNKS]
        assert worker_pids(calls_of(probe), os.getpid()) == set()  # all in the caller


def test_the_probe_pickles_and_refuses_non_ranges():
    with ChunkProbe.create() as probe:
        clone = pickle.loads(pickle.dumps(probe))
        assert clone.folder == probe.folder and clone.caller_pid == os.getpid()
        with pytest.raises(TypeError, match="range with step 1"):
            probe([1, 2, 3])
        with pytest.raises(TypeError):
            probe(range(0, 10, 2))


@pytest.mark.parametrize("method", START_METHODS)
def test_records_come_back_from_every_start_method(method):
    if usable_cpus() < 2:
        pytest.skip("needs 2 CPUs to observe parallel workers")
    ctx = multiprocessing.get_context(method)
    with ChunkProbe.create(cost=300, rendezvous=2) as probe:
        with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
            total = sum(pool.map(probe, CHUNKS))
        calls = calls_of(probe)
        assert total == expected(probe.cost, 1000)
        assert coverage_problems(calls, 1000) is None
        assert len(worker_pids(calls, os.getpid())) == 2
        assert peak_parallel_processes(calls, os.getpid()) == 2
        assert not probe.gave_up_waiting()


def test_threads_of_the_caller_never_count_as_workers():
    with ChunkProbe.create(cost=50, rendezvous=2) as probe:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            total = sum(pool.map(probe, CHUNKS))
        assert time.perf_counter() - started < 2.0, "threads of the caller must not wait"
        assert total == expected(probe.cost, 1000)
        assert worker_pids(calls_of(probe), os.getpid()) == set()
        assert peak_parallel_processes(calls_of(probe), os.getpid()) == 0


def test_a_lone_worker_waits_once_then_gives_up():
    ctx = multiprocessing.get_context("fork" if "fork" in START_METHODS else "spawn")
    with ChunkProbe.create(rendezvous=2, rendezvous_timeout=0.3) as probe:
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            started = time.perf_counter()
            total = sum(pool.map(probe, CHUNKS))
            elapsed = time.perf_counter() - started
        assert total == expected(probe.cost, 1000)
        assert probe.gave_up_waiting()
        assert 0.3 <= elapsed < 0.3 + 2.0, "one wait for the whole call, not one per chunk"
        assert len(worker_pids(calls_of(probe), os.getpid())) == 1


def test_peak_counts_distinct_processes_busy_at_once():
    me = os.getpid()
    # pid 10 twice in a row, pid 11 overlapping the second: 2 at once.
    assert peak_parallel_processes([call(10, 0, 1), call(10, 1, 2), call(11, 1.5, 3)], me) == 2
    # Back to back (half-open intervals) is not overlap.
    assert peak_parallel_processes([call(10, 0, 1), call(11, 1, 2)], me) == 1
    # Two overlapping calls in one process count once.
    assert peak_parallel_processes([call(10, 0, 2), call(10, 1, 3)], me) == 1
    # The caller's own calls never count.
    assert peak_parallel_processes([call(me, 0, 2), call(11, 1, 3)], me) == 1
    assert peak_parallel_processes([call(10, 0, 2), call(11, 1, 3), call(12, 1.5, 4)], me) == 3


def test_coverage_names_missing_repeated_and_outside_numbers():
    assert coverage_problems([call(1, 0, 1, 0, 5), call(1, 0, 1, 5, 10)], 10) is None
    assert coverage_problems([], 0) is None
    gap = coverage_problems([call(1, 0, 1, 0, 4), call(1, 0, 1, 5, 10)], 10)
    assert gap is not None and "1 number(s) never given to func (e.g. 4)" in gap
    overlap = coverage_problems([call(1, 0, 1, 0, 6), call(1, 0, 1, 5, 11)], 10)
    assert overlap is not None and "more than once (e.g. 5)" in overlap
    assert "outside range(n) (e.g. 10)" in overlap


def _children() -> set[int]:
    return {p.pid for p in multiprocessing.active_children() if p.pid is not None}


def test_lingering_processes_sees_a_pool_left_open():
    ctx = multiprocessing.get_context("fork" if "fork" in START_METHODS else "spawn")
    before = _children()
    pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
    try:
        pool.submit(abs, -1).result()
        assert len(lingering_processes(before, _children, grace=0.2)) == 1
    finally:
        pool.shutdown()
    assert lingering_processes(before, _children, grace=0.2) == []


@pytest.mark.parametrize(
    "record",
    [[1, 2, 3.0, 4.0, 0, 1], [1, 2, 3, 4, 0, 1, 5], ["1", 2, 3.0, 4.0, 0, 1, 5], "1 2", None],
)
def test_a_tampered_record_is_refused(record):
    class Forged:
        def records(self):
            return [record]

    with pytest.raises(ValueError, match="tampered"):
        calls_of(Forged())


def test_a_chunk_probe_spec_is_checked():
    from grader.subject.chunks import build

    assert build({"type": "values"}) is None
    probe = build({"type": "chunk probe", "cost": 3, "rendezvous": 2})
    try:
        assert (probe.cost, probe.rendezvous) == (3, 2)
    finally:
        probe.close()
    for bad in ({"cost": -1}, {"cost": 10**9}, {"rendezvous": 1000}, {"rendezvous_timeout": 99}):
        with pytest.raises(ValueError):
            build({"type": "chunk probe", **bad})
