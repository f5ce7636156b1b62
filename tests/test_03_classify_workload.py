"""Visible tests for exercise 3, classify_workload. The grade adds hidden tests."""

import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from grader.harness.checks import raised, returned


def sleep_a_while():
    time.sleep(0.2)


class ComputeAWhile:
    """Computes until its thread has used 0.2 s of CPU; remembers its own CPU share."""

    share = 0.0

    def __call__(self):
        start, wall = time.thread_time(), time.perf_counter()
        x = 0
        while time.thread_time() - start < 0.2:
            for i in range(1000):
                x = (x * 31 + i) % 1_000_003
        self.share = (time.thread_time() - start) / (time.perf_counter() - wall)


def test_sleeping_is_io_bound(exercise, watch):
    got = returned(watch(exercise.classify, sleep_a_while), "classify")
    assert got == "io", f'a function that sleeps 0.2 s should be classified "io", got {got!r}'


def test_a_python_loop_is_cpu_bound(exercise, watch):
    compute_a_while = ComputeAWhile()
    got = returned(watch(exercise.classify, compute_a_while), "classify")
    if got != "cpu" and compute_a_while.share < 0.15:
        pytest.skip(
            f"this machine is too busy: the loop got only {compute_a_while.share:.0%} of a core"
        )
    assert got == "cpu", (
        f'a function that computes for 0.2 s should be classified "cpu", got {got!r}'
    )


def test_io_work_gets_a_thread_pool(exercise):
    pool = exercise.pick_executor("io", 4)
    try:
        assert isinstance(pool, ThreadPoolExecutor), f"expected a ThreadPoolExecutor, got {pool!r}"
    finally:
        pool.shutdown()


def test_cpu_work_gets_a_process_pool(exercise):
    pool = exercise.pick_executor("cpu", 2)
    try:
        assert isinstance(pool, ProcessPoolExecutor), (
            f"expected a ProcessPoolExecutor (threads share one GIL), got {pool!r}"
        )
    finally:
        pool.shutdown()


@pytest.mark.parametrize(("kind", "workers"), [("gpu", 2), ("io", 0)])
def test_bad_arguments_raise_value_error(exercise, watch, kind, workers):
    error = raised(watch(exercise.pick_executor, kind, workers), "pick_executor")
    assert isinstance(error, ValueError), f"expected ValueError, got {error!r}"
