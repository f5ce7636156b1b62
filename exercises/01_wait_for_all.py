"""Exercise 1 · Beat sequential timing: spawn and wait.

``fetch_all(urls, fetch)`` calls ``fetch(url)`` for every url and returns the
results. Right now it calls them one after another: 20 urls that each take
50 ms to answer take a whole second, almost all of it spent *waiting*.

Make it concurrent:

* Call ``fetch(url)`` once for each position in ``urls`` (duplicates included),
  with all the calls in flight at the same time, each in its own thread.
* Return only after every call has ended, with the results in ``urls`` order
  (not in the order the calls finished).
* If a call raises, the caller gets that exception, after the other calls have
  finished. Never lose it. If several raise, raising any one of them is fine.
* ``fetch_all([], fetch)`` returns ``[]``.

Why this helps even on a machine with a single core: a thread that waits for
I/O (a network answer, a disk, ``time.sleep``) does not use the CPU, and
CPython releases the GIL while it waits. The other threads run meanwhile, so
the waits overlap: concurrency without parallelism.
"""

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def fetch_all(urls: Sequence[str], fetch: Callable[[str], T]) -> list[T]:
    """Call ``fetch`` on every url concurrently; return the results in url order."""
    # TODO: make this concurrent. Start one threading.Thread per url, start
    # them all, then join them all; keep each result at its url's position.
    return [fetch(url) for url in urls]
