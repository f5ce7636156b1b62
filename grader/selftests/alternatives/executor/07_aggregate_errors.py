"""Exercise 7, another style: a thread pool with one worker per task.

``Future.exception()`` waits for its task and hands back what it raised, so the
exceptions never escape; ``except*``-friendly grouping happens after the pool's
``with`` block has waited for every task.
"""

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

R = TypeVar("R")


def run_all(tasks: Sequence[Callable[[], R]]) -> list[R]:
    if not tasks:
        return []
    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        futures = [pool.submit(task) for task in tasks]
    failed = [(i, f.exception()) for i, f in enumerate(futures) if f.exception() is not None]
    if failed:
        for i, exc in failed:
            exc.add_note(f"in task #{i}")
        raise ExceptionGroup(f"{len(failed)}/{len(tasks)} tasks failed", [exc for _, exc in failed])
    return [f.result() for f in futures]
