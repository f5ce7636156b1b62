"""Exercise 13, another style: chunk counts on the contract's boundaries.

Exactly ``workers`` chunks for a small ``n`` and exactly ``16 × workers`` for a
large one: the fewest and the most chunks the contract allows, so the
self-check proves both limits are inclusive.
"""

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

MAX_CHUNKS_PER_WORKER = 16  # the contract's upper limit


def split(n: int, parts: int) -> list[range]:
    """``range(n)`` cut into ``parts`` contiguous chunks whose sizes differ by at most one."""
    bounds = [n * i // parts for i in range(parts + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(parts)]


def parallel_sum(func: Callable[[range], int], n: int, workers: int) -> int:
    """Sum ``func(chunk)`` over contiguous chunks of ``range(n)``, in ``workers`` processes."""
    if n <= 0:
        return 0
    parts = workers if n < 10_000 else workers * MAX_CHUNKS_PER_WORKER
    chunks = split(n, min(n, parts))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(func, chunks))


def is_prime(k: int) -> bool:
    if k < 2:
        return False
    if k % 2 == 0:
        return k == 2
    d = 3
    while d * d <= k:
        if k % d == 0:
            return False
        d += 2
    return True


def primes_in(chunk: range) -> int:
    """How many numbers of ``chunk`` are prime (module level, so it can be pickled)."""
    return sum(1 for k in chunk if is_prime(k))


def count_primes(limit: int, workers: int) -> int:
    """How many primes are smaller than ``limit``, counted in ``workers`` processes."""
    return parallel_sum(primes_in, limit, workers)
