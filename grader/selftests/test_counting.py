"""Exercise 14's instruments, run where the module runs (grader/subject/counting.py)."""

from __future__ import annotations

import threading
import types

import pytest

from grader.subject.counting import CountedCall, build, values


def _module(source: str) -> types.ModuleType:
    module = types.ModuleType("submission")
    exec(source, vars(module))
    return module


CHUNKED = """
import threading

def parallel_total(values, workers):
    size = -(-len(values) // workers) or 1
    parts = [values[i:i + size] for i in range(0, len(values), size)]
    totals = [0] * len(parts)
    lock = threading.Lock()
    def run(i):
        subtotal = sum(parts[i])
        with lock:
            totals[i] = subtotal
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(parts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(totals)
"""

PER_VALUE = """
import threading
from threading import Lock

LOCK = Lock()

def parallel_total(values, workers):
    total = 0
    for value in values:
        with LOCK:
            total += value
    threads = [threading.Thread(target=lambda: None) for _ in values]
    for t in threads:
        t.start()
    return total
"""


def test_the_same_values_on_both_sides_from_a_seed():
    assert values(7, 1000) == values(7, 1000) != values(8, 1000)
    assert all(-(10**9) <= v < 10**9 for v in values(7, 1000))


@pytest.mark.parametrize(("seed", "n"), [("7", 10), (7, -1), (7, 10**8), (7, 1.5)])
def test_a_values_spec_is_checked(seed, n):
    with pytest.raises(ValueError):
        values(seed, n)


def test_a_counted_call_counts_threads_locks_and_its_cpu():
    counted = CountedCall(_module(CHUNKED))
    data = values(1, 10_000)
    value, cpu, started, taken = counted(data, 4, True)
    assert value == sum(data) and started == 4 and taken == 4 and cpu >= 0


def test_thread_starts_are_capped_and_locks_put_back():
    module = _module(PER_VALUE)
    lock, lock_type = module.LOCK, module.Lock
    value, _, started, taken = CountedCall(module)(list(range(50)), 3, True)
    assert value is None and started == 3 + 2 and taken == 50  # the start refused counts
    assert module.LOCK is lock and module.Lock is lock_type
    assert threading.Thread.start is CountedCall.__init__.__globals__["_thread_start"]


def test_build_makes_values_and_counted_calls_only():
    module = _module(CHUNKED)
    assert build({"type": "values", "seed": 3, "n": 5}) == values(3, 5)
    assert type(build({"type": "counted call", "module": module})) is CountedCall
    assert build({"type": "nothing"}) is None
    with pytest.raises(TypeError):
        build({"type": "counted call", "module": "os"})
