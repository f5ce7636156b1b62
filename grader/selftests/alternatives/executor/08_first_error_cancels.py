"""Exercise 8, another style: a thread pool and ``wait(return_when=FIRST_EXCEPTION)``.

``wait`` returns as soon as a task raises (or the timeout runs out), so the
failure found in ``done`` is the first in time. The pool's ``with`` block then
waits for every task after the event has been set.
"""

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar

R = TypeVar("R")


def run_until_first_error(
    tasks: Sequence[Callable[[threading.Event], R]], timeout: float | None = None
) -> list[R]:
    if not tasks:
        return []
    cancel = threading.Event()
    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        futures = [pool.submit(task, cancel) for task in tasks]
        done, pending = wait(futures, timeout=timeout, return_when=FIRST_EXCEPTION)
        failed = [f for f in done if f.exception() is not None]
        if failed or pending:
            cancel.set()
    if failed:
        raise failed[0].exception()
    if pending:
        raise TimeoutError(f"timed out after {timeout} s")
    return [f.result() for f in futures]
