"""The processes a module's process starts, seen by the test itself from ``/proc``.

``Descendants(proc)`` samples the live descendant processes of ``/proc/PROC`` (a pid, or
"self") every few milliseconds while its block runs, and keeps the pid each one has in its
own pid namespace (the last of ``NSpid``: what ``os.getpid()`` says there, and what a
probe's records hold). Exercise 13's timing test asks whether each worker its verdict
relies on was really one of them, so records forged for processes that never ran count
for nothing. A worker that lives only between two samples can be missed: use it where the
workers live much longer than ``every`` (a rendezvous and ~0.1 s of work each).
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from grader.harness import procfs

_sleep = time.sleep  # taken at import, before any student code runs


class Descendants:
    """Within ``with Descendants(proc) as seen:``, ``seen.pids`` gathers the descendants'
    own pids."""

    def __init__(self, proc: int | str, every: float = 0.002) -> None:
        self.proc, self.every = str(proc), every
        self.pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="grader-descendants", daemon=True)

    def sample(self) -> None:
        """Add the descendants alive now."""
        queue: list[int | str] = [self.proc]
        while queue:
            for child in procfs.children(queue.pop()):
                inner = procfs.inner_pid(child)
                if inner is not None:
                    self.pids.add(inner)
                queue.append(child)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            _sleep(self.every)

    def __enter__(self) -> Descendants:
        self.sample()
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
