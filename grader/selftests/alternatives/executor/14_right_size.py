"""Exercise 14, another style: a ThreadPoolExecutor mapping ``sum`` over slices."""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

EXPLANATION = {"lock_contention", "thread_overhead"}


def parallel_total(values: Sequence[int], workers: int) -> int:
    """The sum of ``values``, computed by ``workers`` threads."""
    if not values:
        return 0
    size = -(-len(values) // workers)  # ceiling: the last chunk takes what is left
    chunks = [values[i : i + size] for i in range(0, len(values), size)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(sum, chunks))
