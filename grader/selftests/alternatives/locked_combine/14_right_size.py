"""Exercise 14, another right-sized design: each thread adds its partial sum under a lock, once.

The lock is taken once per thread, not once per value: the threads never queue
for it while they add up their chunks, so there is no contention to speak of.
"""

import threading
from collections.abc import Sequence

EXPLANATION = {"thread_overhead", "lock_contention"}


def parallel_total(values: Sequence[int], workers: int) -> int:
    """The sum of ``values``, computed by ``workers`` threads."""
    n = len(values)
    chunks = min(workers, n)
    total = 0
    lock = threading.Lock()

    def add_chunk(start: int, stop: int) -> None:
        nonlocal total
        local = sum(values[start:stop])
        with lock:  # once per thread
            total += local

    bounds = [(n * i // chunks, n * (i + 1) // chunks) for i in range(chunks)]
    threads = [threading.Thread(target=add_chunk, args=b) for b in bounds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return total
