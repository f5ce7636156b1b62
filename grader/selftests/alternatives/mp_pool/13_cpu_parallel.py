"""Exercise 13, another style: multiprocessing.Pool, two divmod-sized chunks per worker.

The first ``n % parts`` chunks get one number more; results are taken in
completion order with ``imap_unordered`` (a sum does not care), and leaving the
``with`` block terminates and joins the pool's processes.
"""

import math
import multiprocessing
from collections.abc import Callable


def chunks_of(n: int, workers: int) -> list[range]:
    parts = min(n, 2 * workers)
    if parts <= 0:
        return []
    size, extra = divmod(n, parts)
    chunks, start = [], 0
    for i in range(parts):
        stop = start + size + (1 if i < extra else 0)
        chunks.append(range(start, stop))
        start = stop
    return chunks


def parallel_sum(func: Callable[[range], int], n: int, workers: int) -> int:
    chunks = chunks_of(n, workers)
    if not chunks:
        return 0
    with multiprocessing.Pool(processes=workers) as pool:
        return sum(pool.imap_unordered(func, chunks))


def _count_in(chunk: range) -> int:
    count = 0
    for k in chunk:
        if k >= 2 and all(k % d for d in range(2, math.isqrt(k) + 1)):
            count += 1
    return count


def count_primes(limit: int, workers: int) -> int:
    return parallel_sum(_count_in, limit, workers)
