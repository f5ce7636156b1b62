"""Exercise 5 · Compute once: check-then-act on a shared map (reference solution).

The map holds one ``Future`` per key. Looking a key up and, when it is
missing, registering a fresh future happen under one short lock, so exactly
one caller (the owner) finds the key missing. The owner computes *outside* the
lock, so other keys are never held up, and publishes the outcome through the
future; every other caller waits on ``future.result()`` and gets the same
object, or the same exception. A failed future is removed from the map before
it is completed, so a later ``get`` computes again.
"""

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class OnceCache(Generic[K, V]):
    """A thread-safe cache that calls ``compute(key)`` at most once per key (until it fails)."""

    def __init__(self, compute: Callable[[K], V]) -> None:
        self._compute = compute
        self._lock = threading.Lock()
        self._futures: dict[K, Future] = {}

    def get(self, key: K) -> V:
        """The value for ``key``, computed by the first caller; the others wait for it."""
        future, is_owner = self._claim(key)
        if is_owner:
            self._fill(key, future)
        return future.result()

    def _claim(self, key: K) -> tuple[Future, bool]:
        """The key's future, and whether this caller just registered it (check-then-act)."""
        with self._lock:
            future = self._futures.get(key)
            if future is not None:
                return future, False
            future = self._futures[key] = Future()
            return future, True

    def _fill(self, key: K, future: Future) -> None:
        """Compute outside the lock; on failure, forget the key so a later get retries."""
        try:
            value = self._compute(key)
        except BaseException as exc:
            with self._lock:
                del self._futures[key]
            future.set_exception(exc)
        else:
            future.set_result(value)
