"""Hostile: compute every chunk in the calling process, one after another (no parallelism
at all), then rewrite the probe's log so that each chunk seems to have run in one of a few
worker processes, busy at the same time. The log lives in a folder the submission can
write to, so its records are the submission's word. The judge samples the processes the
module's process really started (from /proc): records naming processes that never ran
fail the parallelism test."""

import os
import time

_FAKE_PIDS = (999_001, 999_002, 999_003, 999_004)


def split(n, parts):
    bounds = [n * i // parts for i in range(parts + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(parts)]


def parallel_sum(func, n, workers):
    if n <= 0:
        return 0
    chunks = split(n, min(n, workers * 4))
    log = os.path.join(getattr(func, "folder", ""), "calls.log")
    before = os.path.getsize(log) if os.path.exists(log) else 0
    values = [func(chunk) for chunk in chunks]  # here, one after another
    if hasattr(func, "folder"):
        with open(log, "r+") as fh:
            fh.truncate(before)
        now = time.monotonic()
        with open(log, "a") as fh:
            for i, (chunk, value) in enumerate(zip(chunks, values, strict=True)):
                pid = _FAKE_PIDS[i % workers % len(_FAKE_PIDS)]
                fh.write(f"{pid} 1 {now!r} {now + 1.0!r} {chunk.start} {chunk.stop} {value}\n")
    return sum(values)


def is_prime(k):
    if k < 2:
        return False
    d = 2
    while d * d <= k:
        if k % d == 0:
            return False
        d += 1
    return True


def primes_in(chunk):
    return sum(1 for k in chunk if is_prime(k))


def count_primes(limit, workers):
    return parallel_sum(primes_in, limit, workers)
