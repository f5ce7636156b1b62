"""Recording locks: find lock-order cycles (possible deadlocks) even when none happened.

A deadlock between two transfers A→B and B→A needs an unlucky interleaving, so
a test run usually passes by luck. Like the Linux kernel's *lockdep*, a
:class:`LockOrderRecorder` hands out :class:`RecordingLock` objects, drop-in
replacements for ``threading.Lock`` / ``threading.RLock``, and remembers, for
every blocking acquire, which locks the thread already held: an edge
``held → wanted`` in the *lock-order graph*. A cycle in that graph (A before B
in one place, B before A in another) is a deadlock waiting to happen, whether
or not this run hit it.

A real deadlock never hangs the run either. A thread blocked in ``acquire``
wakes up every ``poll`` seconds and looks at the *wait-for graph* (who holds
what, who waits for what). If the threads waiting without a timeout form a
cycle, the deadlock is certain: it is recorded in ``deadlocks`` and, with
``break_deadlocks`` (the default), exactly one thread of the cycle gets a
:class:`DeadlockError` from ``acquire``, so its ``with`` blocks unwind and the
others go on. When a watchdog sees a hang anyway, :meth:`describe_waits` says
who waits for whom and :meth:`abort` makes every blocked ``acquire`` raise.

Acquires with ``blocking=False`` or a ``timeout`` cannot wait forever, so they
add no edge: try-lock-and-back-off is a correct way to avoid deadlock.
"""

from __future__ import annotations

import _thread
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from grader.harness.checks import fail

# Taken at import, before any student code runs: patching ``threading`` or
# ``time`` from a submission cannot change how the recorder works.
_allocate_lock = _thread.allocate_lock
_get_ident = _thread.get_ident
_clock = time.monotonic


class DeadlockError(RuntimeError):
    """Raised by a blocked ``acquire`` that the recorder chose to break a deadlock."""


@dataclass(frozen=True)
class Edge:
    """``before`` was held when ``after`` was acquired, first seen in ``thread``."""

    before: RecordingLock
    after: RecordingLock
    thread: str


def _thread_name(ident: int) -> str:
    for t in threading.enumerate():
        if t.ident == ident:
            return t.name
    return f"thread {ident}"


class LockOrderRecorder:
    """Hands out recording locks and keeps the lock-order and wait-for graphs."""

    def __init__(self, *, break_deadlocks: bool = True, poll: float = 0.02) -> None:
        self.break_deadlocks = break_deadlocks
        self.poll = poll
        self._meta = _allocate_lock()
        self._edges: dict[tuple[int, int], Edge] = {}
        self._held: dict[int, list[RecordingLock]] = {}  # thread → locks, oldest first
        self._waiting: dict[int, tuple[RecordingLock, bool]] = {}  # thread → (lock, untimed)
        self._aborted = False
        self.deadlocks: list[str] = []  # descriptions of the wait-for cycles found

    # --- making locks ---------------------------------------------------------------------

    def lock(self, name: str) -> RecordingLock:
        """A recording ``threading.Lock`` called ``name`` in messages."""
        return RecordingLock(self, name, reentrant=False)

    def rlock(self, name: str) -> RecordingLock:
        """A recording ``threading.RLock`` called ``name`` in messages."""
        return RecordingLock(self, name, reentrant=True)

    # --- what was seen --------------------------------------------------------------------

    @property
    def edges(self) -> list[Edge]:
        with self._meta:
            return list(self._edges.values())

    def held_by_current_thread(self) -> list[RecordingLock]:
        """The recording locks the calling thread holds, oldest first."""
        with self._meta:
            return list(self._held.get(_get_ident(), ()))

    def waiters(self, lock: RecordingLock) -> int:
        """How many threads are blocked in ``lock.acquire`` right now."""
        with self._meta:
            return sum(1 for wanted, _ in self._waiting.values() if wanted is lock)

    def order_cycles(self) -> list[list[RecordingLock]]:
        """Cycles of the lock-order graph, shortest first, one per set of locks."""
        edges = self.edges
        graph: dict[RecordingLock, set[RecordingLock]] = {}
        for e in edges:
            graph.setdefault(e.before, set()).add(e.after)
        found: dict[frozenset[int], list[RecordingLock]] = {}
        for e in edges:
            path = _shortest_path(graph, e.after, e.before)
            if path is not None:
                cycle = [e.before, *path[:-1]]
                found.setdefault(frozenset(id(lk) for lk in cycle), cycle)
        return sorted(found.values(), key=len)

    def describe_cycle(self, cycle: list[RecordingLock]) -> str:
        """``A → B → A``, with the thread that first took each step."""
        by_pair = {(id(e.before), id(e.after)): e for e in self.edges}
        steps = []
        for a, b in zip(cycle, [*cycle[1:], cycle[0]], strict=True):
            edge = by_pair.get((id(a), id(b)))
            where = f" (in {edge.thread})" if edge else ""
            steps.append(f"{a.name} then {b.name}{where}")
        return "; ".join(steps)

    def order_report(self) -> str | None:
        """A plain-words description of the first lock-order cycle, or None."""
        cycles = self.order_cycles()
        if not cycles:
            return None
        path = " → ".join(lk.name for lk in [*cycles[0], cycles[0][0]])
        return f"lock-order cycle {path}: {self.describe_cycle(cycles[0])}"

    def wait_cycle(self) -> list[tuple[str, RecordingLock]] | None:
        """A cycle of the wait-for graph right now: (thread name, lock it waits for)."""
        with self._meta:
            ident = _find_wait_cycle(self._waiting, self._owner_of)
            return None if ident is None else self._describe_wait_cycle(ident)

    def describe_waits(self) -> str:
        """Who waits for which lock, and who holds it: for a hang's diagnosis."""
        cycle = self.wait_cycle()
        if cycle:
            return _cycle_text(cycle)
        with self._meta:
            parts = [
                f"{_thread_name(t)} waits for {lk.name} (held by "
                f"{_thread_name(o) if (o := lk._owner) is not None else 'nobody'})"
                for t, (lk, _) in self._waiting.items()
            ]
        return "; ".join(parts) or "no thread is waiting for a recorded lock"

    def abort(self) -> None:
        """Make every blocked ``acquire``, and every one after, raise :class:`DeadlockError`.

        Later tries (``blocking=False``) raise too: threads that spin on a
        try-lock while holding another lock (a livelock) never block, so only
        this ends them.
        """
        self._aborted = True

    # --- bookkeeping called by RecordingLock (under self._meta) ---------------------------------

    def _owner_of(self, lock: RecordingLock) -> int | None:
        return lock._owner

    def _describe_wait_cycle(self, start: int) -> list[tuple[str, RecordingLock]]:
        cycle, ident = [], start
        while True:
            lock = self._waiting[ident][0]
            cycle.append((_thread_name(ident), lock))
            ident = lock._owner  # type: ignore[assignment]
            if ident == start:
                return cycle

    def _record_edges(self, ident: int, lock: RecordingLock) -> None:
        for before in self._held.get(ident, ()):
            key = (id(before), id(lock))
            if before is not lock and key not in self._edges:
                self._edges[key] = Edge(before, lock, threading.current_thread().name)

    def _deadlock_victim(self, ident: int) -> str | None:
        """If ``ident`` is on a wait-for cycle: its description (and it stops waiting)."""
        if ident not in self._waiting:
            return None
        on_cycle = _find_wait_cycle({ident: self._waiting[ident]}, self._owner_of, self._waiting)
        if on_cycle is None:
            return None
        text = _cycle_text(self._describe_wait_cycle(ident))
        self.deadlocks.append(text)
        return text


def _cycle_text(cycle: list[tuple[str, RecordingLock]]) -> str:
    names = [thread for thread, _ in cycle]
    parts = [
        f"{thread} waits for {lock.name}, held by {names[(i + 1) % len(names)]}"
        for i, (thread, lock) in enumerate(cycle)
    ]
    if len(cycle) == 1:
        return f"{names[0]} waits for {cycle[0][1].name}, which it already holds"
    return "; ".join(parts)


def _find_wait_cycle(starts, owner_of, waiting=None) -> int | None:
    """A thread of ``starts`` whose chain of untimed waits leads back to itself."""
    waiting = starts if waiting is None else waiting
    for start, (lock, untimed) in starts.items():
        if not untimed:
            continue
        seen, ident = {start}, owner_of(lock)
        while ident is not None:
            if ident == start:
                return start
            if ident in seen or ident not in waiting or not waiting[ident][1]:
                break
            seen.add(ident)
            ident = owner_of(waiting[ident][0])
    return None


def _shortest_path(graph, start, goal) -> list | None:
    """Nodes from ``start`` to ``goal`` (both included), breadth first."""
    previous = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            if node is goal:
                path = []
                while node is not None:
                    path.append(node)
                    node = previous[node]
                return path[::-1]
            for nxt in graph.get(node, ()):
                if nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    return None


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


def check_lock_order(recorder: LockOrderRecorder, what: str = "the code") -> None:
    """Fail if a deadlock happened or the locks were taken in conflicting orders."""
    __tracebackhide__ = True
    if recorder.deadlocks:
        fail(
            f"deadlock in {what}: {recorder.deadlocks[0]}. "
            "Take locks in one global order (for example by id) whatever the call's arguments"
        )
    report = recorder.order_report()
    if report:
        fail(
            f"{what} can deadlock: {report}. "
            "Take locks in one global order (for example by id) whatever the call's arguments"
        )


def check_hang(recorder: LockOrderRecorder, hung: bool, what: str = "the code") -> None:
    """After a watchdog timeout: name the wait-for cycle, free the blocked threads, fail."""
    __tracebackhide__ = True
    if not hung:
        return
    cycle = recorder.wait_cycle()
    waits = recorder.describe_waits()
    recorder.abort()
    if cycle is not None:
        fail(
            f"deadlock in {what}: {waits}. "
            "Take locks in one global order (for example by id) whatever the call's arguments"
        )
    fail(f"{what} did not finish in time (a hang?): {waits}")


def all_released(locks: Iterable[RecordingLock]) -> list[RecordingLock]:
    """The locks of ``locks`` that are still held."""
    return [lk for lk in locks if lk.locked()]
