"""Exercise 3 · I/O-bound or CPU-bound? (reference solution).

``classify`` times one call of ``func`` twice: with the wall clock and with the
calling thread's CPU clock (``time.thread_time``). Waiting (a sleep, a queue, a
socket) moves only the wall clock; computing moves both. Process CPU time would
also count every other busy thread of the process, so it is not used.
"""

import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Literal

Kind = Literal["io", "cpu"]

CPU_SHARE_THRESHOLD = 0.1  # "cpu" when the thread was on the CPU for at least 10% of the time


def classify(func: Callable[[], object]) -> Kind:
    """Run ``func()`` once in this thread; "cpu" if it kept this thread on the CPU, else "io"."""
    wall_start, cpu_start = time.perf_counter(), time.thread_time()
    func()
    cpu = time.thread_time() - cpu_start
    wall = time.perf_counter() - wall_start
    return "cpu" if wall > 0 and cpu / wall >= CPU_SHARE_THRESHOLD else "io"


def pick_executor(kind: Kind, workers: int) -> Executor:
    """A thread pool for "io" work, a process pool for "cpu" work, with ``workers`` workers."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if kind == "io":
        return ThreadPoolExecutor(max_workers=workers)
    if kind == "cpu":
        return ProcessPoolExecutor(max_workers=workers)
    raise ValueError(f'kind must be "io" or "cpu", got {kind!r}')
