"""Exercise 5 · Compute once: check-then-act on a shared map.

``OnceCache(compute)`` remembers the result of an expensive ``compute(key)``
(a slow query, a model loaded from disk), so that it runs once per key. The
code below works in one thread, but not in many:

    if key not in self._values:                  # check
        self._values[key] = self._compute(key)   # act

Two threads asking for the same missing key can both pass the check before
either has stored anything: both compute, and their callers get two different
objects. This is a *check-then-act* race. Each step is harmless on its own;
the bug is the gap between them, and ``compute`` being slow makes the gap
wide.

The obvious fix, one lock held around the whole ``get``, is correct but slow:
while one key computes, every other key waits for the lock, so a cache meant
to speed things up serialises all its users. The lock must only protect the
*bookkeeping* (is this key done, in progress, or missing?) and never be held
while computing.

The contract:

* ``get(key)`` returns ``compute(key)``. Each key is computed exactly once,
  even when many threads ask for it at the same moment: the first caller
  computes, and every caller that arrives while the compute is running waits
  for it and receives *the same object*. Later calls return the stored object
  without calling ``compute``. Any value counts, ``None`` included.
* Different keys compute at the same time: never hold a lock shared by all
  keys while ``compute`` runs.
* If ``compute(key)`` raises, the caller that ran it and every caller waiting
  for that same attempt get that very exception object (not a copy, not
  ``None``). Nothing is stored: the next ``get(key)`` after the failure calls
  ``compute`` again.
* Keys are hashable. ``compute`` never calls ``get`` itself.

Useful tools: a ``threading.Lock`` held only to look up or register a key, and
a per-key "in progress" entry that waiters can block on: a
``concurrent.futures.Future`` (``set_result``, ``set_exception``, ``result()``)
or a ``threading.Event`` next to a slot for the value or the exception.
"""

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class OnceCache(Generic[K, V]):
    """A thread-safe cache that calls ``compute(key)`` at most once per key (until it fails)."""

    def __init__(self, compute: Callable[[K], V]) -> None:
        self._compute = compute
        self._values: dict[K, V] = {}

    def get(self, key: K) -> V:
        """The value for ``key``, computed by the first caller; the others wait for it."""
        # TODO: this check-then-act is a race. Under a short lock, find the
        # key's entry or register a new "in progress" one; compute outside the
        # lock; hand the value or the exception to every waiter.
        if key not in self._values:
            self._values[key] = self._compute(key)
        return self._values[key]
