"""Exercise 13, another style: a multiprocessing.Pool whose workers a fork server starts.

``multiprocessing.get_context("forkserver")`` (the default on Linux from
Python 3.14) forks each worker from a clean server process, which imports this
module by name to find ``func``. ``Pool.map`` submits every chunk at once;
leaving the ``with`` block terminates the pool, and ``join`` waits for its
processes to exit.
"""

import multiprocessing
from collections.abc import Callable


def split(n: int, parts: int) -> list[range]:
    size, extra = divmod(n, parts)
    chunks, start = [], 0
    for i in range(parts):
        stop = start + size + (i < extra)
        chunks.append(range(start, stop))
        start = stop
    return chunks


def parallel_sum(func: Callable[[range], int], n: int, workers: int) -> int:
    if n <= 0:
        return 0
    chunks = split(n, min(n, 2 * workers))
    pool = multiprocessing.get_context("forkserver").Pool(processes=workers)
    with pool:
        total = sum(pool.map(func, chunks))
    pool.join()
    return total


def count_in(chunk: range) -> int:
    count = 0
    for k in chunk:
        if k == 2 or (k > 2 and k % 2 and all(k % d for d in range(3, int(k**0.5) + 1, 2))):
            count += 1
    return count


def count_primes(limit: int, workers: int) -> int:
    return parallel_sum(count_in, limit, workers)
