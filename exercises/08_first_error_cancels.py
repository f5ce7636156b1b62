"""Exercise 8 · First error cancels: an errgroup with a context.

``run_until_first_error(tasks, timeout)`` runs tasks that work together: as
soon as one of them fails, the others' work is pointless and they should stop.
Go does this with ``errgroup.WithContext``: the first error cancels a shared
``context.Context`` that every goroutine watches. Python cannot kill a thread,
so cancellation is cooperative here too: every task receives the same
``threading.Event`` and checks it (for example with ``cancel.wait(interval)``
instead of ``time.sleep``), returning or raising early once it is set.

Right now the tasks run one after another, nothing is ever cancelled and the
timeout is ignored. Make it honour this contract:

* Create one ``threading.Event`` and call every task with it: ``task(cancel)``.
* Start all the tasks at the same time, each in its own thread (or a pool with
  one worker per task).
* If no task fails (and the timeout does not run out), return the results in
  task order. The event must stay clear: set it only on failure or timeout.
  ``run_until_first_error([])`` returns ``[]``.
* On the first failure *in time* (the first task to raise an ``Exception``,
  which is not necessarily the one with the lowest index): set the event, wait
  until every task has returned or raised, then raise that first exception
  itself. Exceptions raised after it, such as those the cancelled tasks raise
  because they were cancelled, are ignored.
* ``timeout`` (seconds, ``None`` for no limit) counts from the call. If it runs
  out before every task has finished and before any task failed: set the
  event, wait until every task has returned or raised, then raise
  ``TimeoutError`` (not any exception the cancelled tasks raise).
* Never return or raise while a task is still running.

Why: cancelling on the first error saves the work (and the waiting) the other
tasks would do for nothing; waiting for them before raising means no task
outlives the call, so nothing runs on in the background after the caller has
moved on.
"""

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

R = TypeVar("R")


def run_until_first_error(
    tasks: Sequence[Callable[[threading.Event], R]], timeout: float | None = None
) -> list[R]:
    """Run every task concurrently; the first failure cancels the rest and is raised."""
    cancel = threading.Event()
    # TODO: start every task in its own thread; when the first one fails (or the
    # timeout runs out) set `cancel`, wait for every task, then raise.
    return [task(cancel) for task in tasks]
