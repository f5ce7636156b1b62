"""Exercise 2 · Late binding: arguments are evaluated when the thread runs.

``run_each(items, work)`` calls ``work(item)`` for every item, each call in
its own thread, and returns the results. The code below looks right but is
wrong: run it and every thread works on the *last* item.

Why: the inner function ``work_on_item`` does not capture the *values* of
``i`` and ``item`` when it is created. It captures the *variables*, and looks
them up when it runs. The threads only run after the loop has finished, and
by then ``i`` and ``item`` hold the last index and the last item. Lambdas
(``lambda: work(item)``) and comprehensions behave the same way: this is late
binding.

Compare Go: in ``go f(x)`` the arguments are evaluated at once, in the parent
goroutine, and the new goroutine gets a copy. (Go 1.22 even gives each loop
iteration its own variable, so closures over it are safe too.) In Python you
get the same effect by evaluating the values in the parent and handing them
over:

* ``threading.Thread(target=f, args=(i, item))``: the tuple is built now;
* ``functools.partial(f, i, item)``: the same, as a callable;
* ``executor.submit(f, i, item)``: the same, with a pool;
* ``lambda i=i, item=item: ...``: a default value is evaluated once, when the
  lambda is created. (That early evaluation bites the other way round with a
  mutable default such as ``results=[]``: it is created once and shared by
  every call.)

The contract:

* Create one thread per position in ``items`` (duplicates included), *then*
  start them all, *then* wait for all of them, so every ``work`` call is in
  flight at the same time.
* Each call gets its own item: ``work`` is called exactly once per position,
  with the item at that position.
* Return the results in ``items`` order (not in the order the calls
  finished). ``work`` may return any value, ``None`` included.
* ``run_each([], work)`` returns ``[]``. Every call returns a fresh list; two
  calls never share results.
* You may assume that ``work`` never raises (exercise 7 deals with errors).
"""

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_each(items: Sequence[T], work: Callable[[T], R]) -> list[R]:
    """Call ``work(item)`` for every item, each in its own thread; results in item order."""
    results: list = [None] * len(items)
    threads = []
    for i, item in enumerate(items):

        def work_on_item() -> None:
            results[i] = work(item)  # noqa: B023 - the bug: reads i and item when it runs

        threads.append(threading.Thread(target=work_on_item))
    # TODO: hand each thread its own index and item (evaluated now, in this
    # loop), for example with threading.Thread(target=..., args=(i, item)).
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
