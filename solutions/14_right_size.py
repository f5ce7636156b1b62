"""Exercise 14 · Right size: the concurrent program that is slower than sequential
(reference solution).

A few threads, one contiguous chunk each, summed into a local variable: no
lock, no shared state until the end. Each thread writes its partial sum into
its own slot, and the calling thread adds the slots up once every thread has
been joined.
"""

import threading
from collections.abc import Sequence

EXPLANATION: set[str] = {"thread_overhead", "lock_contention"}


def chunk_bounds(n: int, workers: int) -> list[tuple[int, int]]:
    """``workers`` contiguous [start, stop) ranges covering ``range(n)``, sizes within one."""
    size, extra = divmod(n, workers)
    bounds, start = [], 0
    for i in range(min(workers, n)):
        stop = start + size + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def parallel_total(values: Sequence[int], workers: int) -> int:
    """The sum of ``values``, computed by ``workers`` threads."""
    bounds = chunk_bounds(len(values), workers)
    partials = [0] * len(bounds)

    def sum_chunk(slot: int, start: int, stop: int) -> None:
        local = 0
        for value in values[start:stop]:
            local += value
        partials[slot] = local

    threads = [
        threading.Thread(target=sum_chunk, args=(slot, start, stop))
        for slot, (start, stop) in enumerate(bounds)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(partials)
