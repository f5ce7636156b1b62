"""Exercise 3, another style: explicit POSIX clock ids and a table of executor factories."""

import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

_FACTORIES = {"io": ThreadPoolExecutor, "cpu": ProcessPoolExecutor}


def classify(func):
    wall0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    cpu0 = time.clock_gettime_ns(time.CLOCK_THREAD_CPUTIME_ID)
    func()
    cpu = time.clock_gettime_ns(time.CLOCK_THREAD_CPUTIME_ID) - cpu0
    wall = time.clock_gettime_ns(time.CLOCK_MONOTONIC) - wall0
    return "cpu" if 10 * cpu >= wall else "io"


def pick_executor(kind, workers) -> Executor:
    try:
        factory = _FACTORIES[kind]
    except (KeyError, TypeError):
        raise ValueError(f"unknown kind of work: {kind!r}") from None
    if not workers >= 1:
        raise ValueError("at least one worker is needed")
    return factory(max_workers=workers)
