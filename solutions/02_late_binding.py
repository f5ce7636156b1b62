"""Exercise 2 · Late binding: arguments are evaluated when the thread runs (reference solution).

The index and the item are evaluated in the parent, in the loop, and handed
to each thread through ``args``: the same as Go's ``go f(i, item)``. Every
thread writes into its own slot, which keeps item order without a lock.
"""

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_each(items: Sequence[T], work: Callable[[T], R]) -> list[R]:
    """Call ``work(item)`` for every item, each in its own thread; results in item order."""
    results: list = [None] * len(items)

    def work_into_slot(i: int, item: T) -> None:
        results[i] = work(item)

    threads = [
        threading.Thread(target=work_into_slot, args=(i, item)) for i, item in enumerate(items)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
