"""Exercise 7 · Aggregate errors: report every failure (reference solution).

One thread per task, all started before any is joined. Each thread writes its
result or its exception into its own slot, so nothing escapes the thread and
task order is kept without a lock. Only after every join does the caller look
at the exceptions: it notes each one with its task index and raises them all
together in an ``ExceptionGroup``.
"""

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

R = TypeVar("R")


def run_all(tasks: Sequence[Callable[[], R]]) -> list[R]:
    """Run every task concurrently; return the results or raise every failure."""
    results: list = [None] * len(tasks)
    errors: list[Exception | None] = [None] * len(tasks)

    def run_into_slot(i: int, task: Callable[[], R]) -> None:
        try:
            results[i] = task()
        except Exception as exc:  # handed back to the caller below
            errors[i] = exc

    threads = [threading.Thread(target=run_into_slot, args=(i, t)) for i, t in enumerate(tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    raise_failures(errors, len(tasks))
    return results


def raise_failures(errors: Sequence[Exception | None], total: int) -> None:
    """Raise one ExceptionGroup holding every failure, in task order, if any."""
    failures = [(i, exc) for i, exc in enumerate(errors) if exc is not None]
    if not failures:
        return
    for i, exc in failures:
        exc.add_note(f"raised by task {i}")
    raise ExceptionGroup(f"{len(failures)} of {total} tasks failed", [exc for _, exc in failures])
