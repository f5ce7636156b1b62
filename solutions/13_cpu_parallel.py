"""Exercise 13 · CPU parallel: beat sequential on CPU-bound work (reference solution).

``range(n)`` is cut into ``workers × CHUNKS_PER_WORKER`` contiguous chunks
(fewer when ``n`` is small), and a ``ProcessPoolExecutor`` with ``workers``
processes runs ``func`` on them. Each worker process has its own interpreter
and its own GIL, so the chunks really run at the same time. The ``with`` block
shuts the pool down: every worker process has exited when the sum is returned.
"""

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

CHUNKS_PER_WORKER = 4  # a few per worker evens out uneven chunks; more only adds overhead


def split(n: int, parts: int) -> list[range]:
    """``range(n)`` cut into ``parts`` contiguous chunks whose sizes differ by at most one."""
    bounds = [n * i // parts for i in range(parts + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(parts)]


def parallel_sum(func: Callable[[range], int], n: int, workers: int) -> int:
    """Sum ``func(chunk)`` over contiguous chunks of ``range(n)``, in ``workers`` processes."""
    if n <= 0:
        return 0
    chunks = split(n, min(n, workers * CHUNKS_PER_WORKER))
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
