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
from dataclasses import dataclass

from grader.locks.graph import cycle_text, find_wait_cycle, shortest_path, thread_name
from grader.locks.recording import RecordingLock

# Taken at import, before any student code runs: patching ``threading`` or
# ``time`` from a submission cannot change how the recorder works.
_allocate_lock = _thread.allocate_lock
_get_ident = _thread.get_ident


@dataclass(frozen=True)
class Edge:
    """``before`` was held when ``after`` was acquired, first seen in ``thread``."""

    before: RecordingLock
    after: RecordingLock
    thread: str


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

    def held_by(self, thread: threading.Thread) -> list[RecordingLock]:
        """The recording locks ``thread`` holds, oldest first."""
        with self._meta:
            return list(self._held.get(thread.ident or 0, ()))

    def held_names(self, thread: threading.Thread) -> list[str]:
        """The names of the recording locks ``thread`` holds, oldest first (plain data)."""
        return [lock.name for lock in self.held_by(thread)]

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
            path = shortest_path(graph, e.after, e.before)
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
            ident = find_wait_cycle(self._waiting, self._owner_of)
            return None if ident is None else self._describe_wait_cycle(ident)

    def describe_waits(self) -> str:
        """Who waits for which lock, and who holds it: for a hang's diagnosis."""
        cycle = self.wait_cycle()
        if cycle:
            return cycle_text(cycle)
        with self._meta:
            parts = [
                f"{thread_name(t)} waits for {lk.name} (held by "
                f"{thread_name(o) if (o := lk._owner) is not None else 'nobody'})"
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
            cycle.append((thread_name(ident), lock))
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
        on_cycle = find_wait_cycle({ident: self._waiting[ident]}, self._owner_of, self._waiting)
        if on_cycle is None:
            return None
        text = cycle_text(self._describe_wait_cycle(ident))
        self.deadlocks.append(text)
        return text
