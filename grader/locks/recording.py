"""A drop-in ``threading.Lock`` / ``RLock`` that reports every acquire to its recorder.

A blocked ``acquire`` wakes up every ``poll`` seconds to let the recorder look
for a wait-for cycle (see :mod:`grader.locks.recorder`); the thread it
chooses to break a deadlock, or every one after :meth:`abort`, gets a
:class:`DeadlockError`.
"""

from __future__ import annotations

import _thread
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.locks.recorder import LockOrderRecorder

# Taken at import, before any student code runs: patching ``threading`` or
# ``time`` from a submission cannot change how the recorder works.
_allocate_lock = _thread.allocate_lock
_get_ident = _thread.get_ident
_clock = time.monotonic


class DeadlockError(RuntimeError):
    """Raised by a blocked ``acquire`` that the recorder chose to break a deadlock."""


class RecordingLock:
    """A ``threading.Lock`` (or ``RLock``) that reports to its recorder.

    Supports ``acquire(blocking=True, timeout=-1)``, ``release()``, ``locked()``
    and ``with``; ``held_by_current_thread()`` tells whether the caller holds it.
    """

    def __init__(self, recorder: LockOrderRecorder, name: str, *, reentrant: bool) -> None:
        self.recorder = recorder
        self.name = name
        self.reentrant = reentrant
        self._inner = _allocate_lock()
        self._owner: int | None = None
        self._count = 0
        self.acquisitions = 0
        self.attempts = 0

    def __repr__(self) -> str:
        kind = "RLock" if self.reentrant else "Lock"
        state = "locked" if self._inner.locked() else "unlocked"
        return f"<Recording{kind} {self.name} {state}>"

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not blocking and timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        if timeout < 0 and timeout != -1:
            raise ValueError("timeout value must be a non-negative number")
        rec, ident = self.recorder, _get_ident()
        untimed = blocking and timeout == -1
        with rec._meta:
            self.attempts += 1
            if rec._aborted:
                raise DeadlockError("aborted by the test")
            if self.reentrant and self._owner == ident:
                self._count += 1
                return True
            if untimed:
                rec._record_edges(ident, self)
        if self._inner.acquire(False):
            self._taken(ident)
            return True
        if not blocking:
            return False
        return self._wait(ident, untimed, None if untimed else _clock() + timeout)

    def _wait(self, ident: int, untimed: bool, deadline: float | None) -> bool:
        rec = self.recorder
        with rec._meta:
            rec._waiting[ident] = (self, untimed)
        try:
            while True:
                with rec._meta:
                    victim = rec._deadlock_victim(ident) if rec.break_deadlocks else None
                    if victim is not None or rec._aborted:
                        del rec._waiting[ident]
                        raise DeadlockError(f"deadlock: {victim or 'aborted by the test'}")
                wait = rec.poll if deadline is None else min(rec.poll, deadline - _clock())
                if wait <= 0:
                    with rec._meta:
                        rec._waiting.pop(ident, None)
                    return False
                if self._inner.acquire(True, wait):
                    self._taken(ident)
                    return True
        except BaseException:
            with rec._meta:
                rec._waiting.pop(ident, None)
            raise

    def _taken(self, ident: int) -> None:
        rec = self.recorder
        with rec._meta:
            rec._waiting.pop(ident, None)
            self._owner = ident
            self._count = 1
            self.acquisitions += 1
            rec._held.setdefault(ident, []).append(self)

    def release(self) -> None:
        rec, ident = self.recorder, _get_ident()
        with rec._meta:
            if not self._inner.locked():
                raise RuntimeError("release unlocked lock")
            if self.reentrant:
                if self._owner != ident:
                    raise RuntimeError("cannot release un-acquired lock")
                self._count -= 1
                if self._count:
                    return
            owner = self._owner
            if owner is not None:
                held = rec._held.get(owner, [])
                if self in held:
                    held.remove(self)
            self._owner = None
            self._count = 0
            self._inner.release()

    def locked(self) -> bool:
        return self._inner.locked()

    def held_by_current_thread(self) -> bool:
        return self._owner == _get_ident()

    _is_owned = held_by_current_thread  # what threading.Condition asks

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
