"""Exercise 13, another style: an explicit fork context and a chunk size derived from n.

``mp_context=multiprocessing.get_context("fork")`` starts each worker as a
copy of the caller (the default on Linux up to Python 3.13), so it inherits
this module. The chunk size is ``n // (4 × workers)``, at least 1, and the last
chunk takes what is left.
"""

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor


def parallel_sum(func: Callable[[range], int], n: int, workers: int) -> int:
    if n <= 0:
        return 0
    size = max(1, n // (4 * workers))
    starts = list(range(0, n, size))
    if len(starts) > 1 and n - starts[-1] < size:
        starts.pop()  # the last chunk takes the remainder
    chunks = [range(a, b) for a, b in zip(starts, [*starts[1:], n], strict=True)]
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=fork) as pool:
        return sum(pool.map(func, chunks))


def _is_prime(k: int) -> bool:
    if k < 4:
        return k >= 2
    if k % 2 == 0:
        return False
    d = 3
    while d * d <= k:
        if k % d == 0:
            return False
        d += 2
    return True


def primes_in(chunk: range) -> int:
    return sum(1 for k in chunk if _is_prime(k))


def count_primes(limit: int, workers: int) -> int:
    return parallel_sum(primes_in, limit, workers)
