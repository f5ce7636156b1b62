"""Exercise 6 · Bound the fan-out: a sliding window with backpressure (reference solution).

A pool of ``limit`` threads runs the calls. The loop keeps ``limit`` calls in
flight: each time some finish, it pulls exactly that many new items, so a lazy
or endless ``items`` is never read ahead of the free slots (backpressure).
Each future remembers its item's position, which puts the results back in
input order. After the first failure nothing new starts; the ``with`` block
waits for the calls still running before the exception is raised.
"""

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_bounded(func: Callable[[T], R], items: Iterable[T], limit: int) -> list[R]:
    """Call ``func`` on every item, at most ``limit`` at a time; results in input order."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    numbered = enumerate(items)
    results: dict[int, R] = {}
    first_error: BaseException | None = None
    with ThreadPoolExecutor(max_workers=limit) as pool:
        running: dict[Future, int] = {}

        def start(count: int) -> None:
            for index, item in islice(numbered, count):
                running[pool.submit(func, item)] = index

        start(limit)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                index = running.pop(future)
                error = future.exception()
                if error is None:
                    results[index] = future.result()
                elif first_error is None:
                    first_error = error
            if first_error is None:
                start(len(done))  # one new call per freed slot
    if first_error is not None:
        raise first_error
    return [results[index] for index in range(len(results))]
