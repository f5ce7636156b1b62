"""Exercise 6 · Bound the fan-out (alternative: a fixed crew of raw worker threads).

``limit`` worker threads share one iterator. Each worker pulls an item, calls
``func`` on it, and only then pulls the next: a worker is a slot, so at most
``limit`` items are pulled but not completed, and a free slot is refilled at
once (a sliding window). One lock guards the iterator, the results and the
first error; a worker that sees an error pulls nothing more.
"""

import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_bounded(func: Callable[[T], R], items: Iterable[T], limit: int) -> list[R]:
    """Call ``func`` on every item, at most ``limit`` at a time; results in input order."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    numbered = enumerate(items)
    lock = threading.Lock()
    results: dict[int, R] = {}
    errors: list[BaseException] = []

    def next_item() -> tuple[int, T] | None:
        with lock:
            if errors:
                return None
            return next(numbered, None)

    def work() -> None:
        while (pair := next_item()) is not None:
            index, item = pair
            try:
                value = func(item)
            except BaseException as exc:
                with lock:
                    errors.append(exc)  # the first one appended failed first
                return
            with lock:
                results[index] = value

    workers = [threading.Thread(target=work, name=f"worker-{i}") for i in range(limit)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    return [results[index] for index in range(len(results))]
