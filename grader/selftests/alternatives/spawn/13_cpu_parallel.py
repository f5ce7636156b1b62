"""Exercise 13, another style: workers started by spawn, every chunk submitted, then collected.

``mp_context=multiprocessing.get_context("spawn")`` starts each worker as a
fresh interpreter that imports this module by name to find ``func`` (the
default on macOS and Windows). Every chunk is submitted before any result is
awaited, and the results are added up as they complete.
"""

import itertools
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed


def parallel_sum(func: Callable[[range], int], n: int, workers: int) -> int:
    if n <= 0:
        return 0
    parts = min(n, 3 * workers)
    bounds = [n * i // parts for i in range(parts + 1)]
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
        futures = [pool.submit(func, range(lo, hi)) for lo, hi in itertools.pairwise(bounds)]
        return sum(f.result() for f in as_completed(futures))


def is_prime(k: int) -> bool:
    if k < 2:
        return False
    return all(k % d for d in range(2, int(k**0.5) + 1))


def primes_in(chunk: range) -> int:
    return sum(map(is_prime, chunk))


def count_primes(limit: int, workers: int) -> int:
    return parallel_sum(primes_in, limit, workers)
