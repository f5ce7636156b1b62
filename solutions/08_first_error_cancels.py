"""Exercise 8 · First error cancels: an errgroup with a context (reference solution).

One thread per task, every task sharing one cancellation event. The first
failure, a task's exception or the timeout, is kept under a lock and sets the
event: whichever comes first in time wins, and later ones (often the very
errors that cancellation provokes) are ignored. The caller always joins every
thread before it raises or returns.
"""

import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

R = TypeVar("R")


class FirstFailure:
    """Keeps the first failure reported and cancels everything else when it arrives."""

    def __init__(self, cancel: threading.Event) -> None:
        self._cancel = cancel
        self._lock = threading.Lock()
        self.error: BaseException | None = None

    def report(self, error: BaseException) -> None:
        with self._lock:
            if self.error is None:
                self.error = error
                self._cancel.set()


def run_until_first_error(
    tasks: Sequence[Callable[[threading.Event], R]], timeout: float | None = None
) -> list[R]:
    """Run every task concurrently; the first failure cancels the rest and is raised."""
    cancel = threading.Event()
    first = FirstFailure(cancel)
    results: list = [None] * len(tasks)

    def run_into_slot(i: int, task: Callable[[threading.Event], R]) -> None:
        try:
            results[i] = task(cancel)
        except Exception as exc:
            first.report(exc)

    threads = [threading.Thread(target=run_into_slot, args=(i, t)) for i, t in enumerate(tasks)]
    for thread in threads:
        thread.start()
    if not join_all(threads, timeout):
        first.report(TimeoutError(f"the tasks did not finish within {timeout} s"))
        join_all(threads)
    if first.error is not None:
        raise first.error
    return results


def join_all(threads: Sequence[threading.Thread], timeout: float | None = None) -> bool:
    """Join every thread, all within ``timeout`` seconds; False if time ran out first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for thread in threads:
        thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            return False
    return True
