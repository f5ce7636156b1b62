"""Visible tests for exercise 14, right_size. The grade adds hidden tests."""

import random
import threading

from grader.harness.checks import returned

LISTED = {
    "thread_overhead",
    "lock_contention",
    "integer_overflow",
    "too_few_cores",
    "io_wait",
    "addition_order",
}


def test_the_total_is_right(exercise, watch):
    rng = random.Random(14)
    for n, workers in [(0, 3), (1, 4), (10, 3), (101, 4), (7, 1), (3, 8)]:
        values = [rng.randrange(-1000, 1000) for _ in range(n)]
        got = returned(watch(exercise.parallel_total, values, workers), "parallel_total")
        assert got == sum(values), (
            f"parallel_total of {n} values with {workers} workers returned {got}, "
            f"expected {sum(values)}"
        )


def test_a_few_threads_not_one_per_value(exercise, watch):
    values = list(range(5_000))
    started = []
    original = threading.Thread.start

    def counting_start(thread):
        started.append(thread)
        return original(thread)

    def call():
        threading.Thread.start = counting_start
        try:
            return exercise.parallel_total(values, 4)
        finally:
            threading.Thread.start = original

    got = returned(watch(call), "parallel_total")
    assert got == sum(values), f"expected {sum(values)}, got {got}"
    assert 2 <= len(started) <= 5, (
        f"with 4 workers, expected between 2 and 5 threads, but {len(started)} were started"
    )


def test_the_explanation_uses_the_listed_keys(exercise):
    chosen = set(exercise.EXPLANATION)
    assert chosen, "EXPLANATION is empty: pick the causes from the docstring's list"
    assert chosen <= LISTED, f"{sorted(chosen - LISTED)} are not keys from the docstring's list"
