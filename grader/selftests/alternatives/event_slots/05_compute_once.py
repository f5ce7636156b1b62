"""Exercise 5 · Compute once (alternative: an Event-based slot per key).

Each key has a slot: a ``threading.Event`` plus room for the value or the
exception. Under a short lock, the first caller finds no slot and registers
one; it computes outside the lock, fills the slot and sets the event. Every
other caller waits on the event and reads the same slot. A failed slot is
removed from the map before its event is set, so a later ``get`` retries.
"""

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Slot:
    """One key's attempt: done once ``ready`` is set, then ``value`` or ``error`` holds it."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.value = None
        self.error: BaseException | None = None


class OnceCache(Generic[K, V]):
    """A thread-safe cache that calls ``compute(key)`` at most once per key (until it fails)."""

    def __init__(self, compute: Callable[[K], V]) -> None:
        self._compute = compute
        self._lock = threading.Lock()
        self._slots: dict[K, _Slot] = {}

    def get(self, key: K) -> V:
        """The value for ``key``, computed by the first caller; the others wait for it."""
        with self._lock:
            slot = self._slots.get(key)
            is_owner = slot is None
            if is_owner:
                slot = self._slots[key] = _Slot()
        if is_owner:
            try:
                slot.value = self._compute(key)
            except BaseException as exc:
                slot.error = exc
                with self._lock:
                    del self._slots[key]
            finally:
                slot.ready.set()
        slot.ready.wait()
        if slot.error is not None:
            raise slot.error
        return slot.value
