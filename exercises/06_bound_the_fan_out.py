"""Exercise 6 · Bound the fan-out: a sliding window with backpressure.

``map_bounded(func, items, limit)`` calls ``func(item)`` for every item and
returns the results. Right now it makes the calls one after another.

Exercise 1 started one thread per url, all at once. That is fine for 20 urls,
but not for a million lines read from a file, or an endless stream: a thread
per item exhausts memory and the operating system's thread limit, and a
server hit by a million requests at once falls over. The cure is to *bound*
the fan-out: never more than ``limit`` calls at once. And when ``items`` is
produced lazily (a generator reading a file or a socket), read it only as fast
as the calls complete. A slow consumer that holds its producer back is called
*backpressure*: nothing piles up in memory, however long the input.

The contract:

* ``limit < 1`` raises ``ValueError``, before anything else happens (even for
  an empty ``items``; no call is made and no item is read).
* At most ``limit`` calls to ``func`` are in flight at any moment, and exactly
  ``limit`` while there is work left: a *sliding window*. As soon as any call
  finishes, the next item starts in its slot. Fixed batches (start ``limit``
  calls, wait for all of them, start the next ``limit``) are too slow: one
  slow call leaves the other slots idle.
* The results come back in input order, not in the order the calls finished.
* ``items`` may be a lazy iterator of unknown length. Never turn it into a
  list, and pull the next item only once a slot is free for it (take the slot
  first, then pull the item): at any moment at most ``limit`` items have been
  pulled but not completed. ``executor.map(func, items)`` breaks this rule: it
  reads the whole input up front.
* Use at most ``limit`` worker threads at once (a pool of ``limit`` threads,
  for example), whatever the length of ``items``.
* If a call raises, start no new call, let the calls already in flight
  finish, then raise the exception of the call that failed first (if several
  fail at the same moment, any of theirs). Return or raise only when no call
  is running any more.
* ``map_bounded(func, [], limit)`` returns ``[]``.

Useful tools: ``concurrent.futures.ThreadPoolExecutor(max_workers=limit)``,
``pool.submit``, ``concurrent.futures.wait(..., return_when=FIRST_COMPLETED)``
and ``itertools.islice``. Or raw threads with a ``threading.Semaphore``.
"""

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_bounded(func: Callable[[T], R], items: Iterable[T], limit: int) -> list[R]:
    """Call ``func`` on every item, at most ``limit`` at a time; results in input order."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    # TODO: keep `limit` calls in flight (a sliding window), pull the next
    # item only when a call has finished, and put each result at its item's
    # position. Stop starting calls after a failure.
    return [func(item) for item in items]
