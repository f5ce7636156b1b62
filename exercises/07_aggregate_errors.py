"""Exercise 7 · Aggregate errors: report every failure.

``run_all(tasks)`` calls every task (a function without arguments) and returns
their results. Right now it calls them one after another, and the first task
that raises stops everything: the later tasks never run, and if several tasks
would fail, the caller only ever hears about one of them.

Make it concurrent, and make it report *every* failure:

* Run every task at the same time, each in its own thread (or a pool with one
  worker per task), and wait for all of them to finish.
* If no task raises, return the results in task order (not completion order).
  ``run_all([])`` returns ``[]``.
* If some tasks raise (any ``Exception``), raise one ``ExceptionGroup`` once
  every task has finished:

  - its message says how many of how many tasks failed, for example
    ``"3 of 10 tasks failed"``;
  - it holds the very exception objects the tasks raised (not copies, not
    wrappers, not nested groups), in task order;
  - each exception carries a note, added with ``exc.add_note(...)``, that names
    the 0-based index of its task in ``tasks``, for example ``"task 3"``.

* Nothing may escape to ``threading.excepthook`` or be printed to stderr: an
  exception that ends a thread is printed and then lost, which is exactly the
  bug this exercise is about.
* Every task has finished when ``run_all`` returns or raises, even when some
  failed early.

Why: a worker thread's exception does not travel to the thread that started
it. Unless you catch it inside the worker and hand it back, it vanishes. And
when several workers fail, reporting only the first hides the others: Python
3.11's ``ExceptionGroup`` (and ``except*``) carries all of them at once, as
Trio's nurseries and ``asyncio.TaskGroup`` do.
"""

from collections.abc import Callable, Sequence
from typing import TypeVar

R = TypeVar("R")


def run_all(tasks: Sequence[Callable[[], R]]) -> list[R]:
    """Run every task concurrently; return the results or raise every failure."""
    # TODO: run the tasks concurrently, catch each task's exception inside its
    # thread, and after every task has finished raise them all together in an
    # ExceptionGroup (with a note naming each one's task index).
    return [task() for task in tasks]
