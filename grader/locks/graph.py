"""The graphs of the lock recorder: shortest paths of the lock-order graph, cycles of the
wait-for graph, and their plain-words descriptions (see :mod:`grader.locks.recorder`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from grader.locks.recording import RecordingLock

Node = TypeVar("Node", bound=Hashable)
Waits = Mapping[int, "tuple[RecordingLock, bool]"]  # thread → (lock it waits for, untimed)


def thread_name(ident: int) -> str:
    """The name of the live thread ``ident``, for messages."""
    for t in threading.enumerate():
        if t.ident == ident:
            return t.name
    return f"thread {ident}"


def cycle_text(cycle: list[tuple[str, RecordingLock]]) -> str:
    """A wait-for cycle in plain words: who waits for which lock, held by whom."""
    names = [thread for thread, _ in cycle]
    parts = [
        f"{thread} waits for {lock.name}, held by {names[(i + 1) % len(names)]}"
        for i, (thread, lock) in enumerate(cycle)
    ]
    if len(cycle) == 1:
        return f"{names[0]} waits for {cycle[0][1].name}, which it already holds"
    return "; ".join(parts)


def find_wait_cycle(
    starts: Waits, owner_of: Callable[[RecordingLock], int | None], waiting: Waits | None = None
) -> int | None:
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


def shortest_path(graph: Mapping[Node, set[Node]], start: Node, goal: Node) -> list[Node] | None:
    """Nodes from ``start`` to ``goal`` (both included), breadth first."""
    previous: dict[Node, Node | None] = {start: None}
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
