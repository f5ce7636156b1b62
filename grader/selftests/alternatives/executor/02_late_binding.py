"""Exercise 2, another correct style: a thread pool with one worker per item.

``submit(work, item)`` evaluates ``item`` now, in the parent, like Go's
``go work(item)``; the futures are kept in item order.
"""

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_each(items: Sequence[T], work: Callable[[T], R]) -> list[R]:
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        futures = [pool.submit(work, item) for item in items]
    return [future.result() for future in futures]
