"""Threads for requests served concurrently: each request has a thread to itself while it runs.

Idle threads wait for the next request instead of exiting, since starting a thread costs a
good part of a round trip; a request that finds none idle starts a new one. A thread is named
after the request it runs (``grader-call-ID`` in the subject). The judge serves its callbacks
the same way.
"""

from __future__ import annotations

import itertools
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any


class Workers:
    """An elastic set of daemon threads, one per request in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = 0
        self.threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()  # every one started
        self._tasks: queue.SimpleQueue[tuple[str, Callable[..., None], tuple]] = queue.SimpleQueue()

    def run(self, name: str, task: Callable[..., None], *args: Any) -> None:
        """Run ``task(*args)`` on a thread named ``name`` that runs nothing else meanwhile."""
        with self._lock:
            idle, self._idle = self._idle, max(0, self._idle - 1)
        self._tasks.put((name, task, args))
        if not idle:
            self.start(self._serve, name)

    def run_fresh(self, name: str, task: Callable[..., None], *args: Any) -> None:
        """Run ``task(*args)`` on a new thread of its own, which ends with it."""
        self.start(task, name, *args)

    def start(self, target: Callable[..., None], name: str, *args: Any) -> threading.Thread:
        """Start a daemon thread of the runtime's own (listed in ``threads``)."""
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self.threads.add(thread)
        thread.start()
        return thread

    def _serve(self) -> None:
        me = threading.current_thread()
        while True:
            name, task, args = self._tasks.get()
            me.name = name
            task(*args)
            with self._lock:
                self._idle += 1


class Serials:
    """A number for each thread, the same for its whole life and never given to another (a
    thread's ident can be reused once it has ended): how the judge tells threads apart."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._numbers: weakref.WeakKeyDictionary[threading.Thread, int] = (
            weakref.WeakKeyDictionary()
        )
        self._next = itertools.count(1)
        self._threads: weakref.WeakValueDictionary[int, threading.Thread] = (
            weakref.WeakValueDictionary()
        )

    def of(self, thread: threading.Thread) -> int:
        with self._lock:
            number = self._numbers.get(thread)
            if number is None:
                number = self._numbers[thread] = next(self._next)
                self._threads[number] = thread
        return number

    def thread(self, number: int) -> threading.Thread:
        """The thread given ``number`` (a LookupError once it is gone, or if it never was)."""
        with self._lock:
            found = self._threads.get(number) if type(number) is int else None
        if found is None:
            raise LookupError(f"no thread has the serial {number!r} (ended, or never seen)")
        return found
