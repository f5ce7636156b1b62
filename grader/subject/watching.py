"""What a watched call did besides its value, seen from inside the subject.

``Watch.start()`` before the judge's call and ``Watch.end(grace)`` after it report the threads
and processes the call left running, the exceptions lost in its threads
(``threading.excepthook``), what it wrote to ``sys.stderr`` and the warnings it raised: the
in-process ``observe``'s hygiene checks, for the judge. ``stacks(root)`` shows a hung call's
threads in the student's own files only. The runtime's own threads are never reported.
"""

from __future__ import annotations

import io
import multiprocessing
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

MAX_TEXT = 4000  # characters of stderr or of stacks sent back
MAX_ITEMS = 50  # threads, processes, exceptions or warnings listed
_clock = time.perf_counter
_sleep = time.sleep


def _clip(items: list[str]) -> list[str]:
    return [item[:500] for item in items[:MAX_ITEMS]]


class Watch:
    """One watched call at a time: its start, then its report."""

    def __init__(self, own: Callable[[threading.Thread], bool]) -> None:
        self._own = own  # the runtime's threads: never the student's leftovers
        self._lock = threading.Lock()
        self._active = False

    def start(self) -> None:
        with self._lock:
            if self._active:
                raise RuntimeError("a watched call is already running")
            self._active = True
        self._threads = set(threading.enumerate())
        self._processes = set(multiprocessing.active_children())
        self._escaped: list[str] = []
        self._stderr, self._saved_stderr = io.StringIO(), sys.stderr
        self._saved_hook = threading.excepthook
        threading.excepthook = self._record
        sys.stderr = self._stderr
        self._warnings = warnings.catch_warnings(record=True)
        self._caught = self._warnings.__enter__()
        warnings.simplefilter("always")

    def _record(self, args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread else "?"
        kind = getattr(args.exc_type, "__name__", "?")
        self._escaped.append(f"{kind}: {args.exc_value} (in thread {name!r})")

    def end(self, grace: float) -> dict[str, Any]:
        """Wait up to ``grace`` seconds for the call's threads to end; restore; report."""
        with self._lock:
            if not self._active:
                raise RuntimeError("no watched call is running")
            self._active = False
        self._wait(grace)
        self._warnings.__exit__(None, None, None)
        threading.excepthook, sys.stderr = self._saved_hook, self._saved_stderr
        threads = [
            f"{'daemon ' if t.daemon else ''}thread {t.name!r}"
            for t in threading.enumerate()
            if t not in self._threads and not self._own(t)
        ]
        processes = [
            f"process {p.name!r} (pid {p.pid})"
            for p in multiprocessing.active_children()
            if p not in self._processes
        ]
        return {
            "leftover_threads": _clip(threads),
            "leftover_processes": _clip(processes),
            "thread_exceptions": _clip(self._escaped),
            "stderr": self._stderr.getvalue()[:MAX_TEXT],
            "warnings": _clip([f"{w.category.__name__}: {w.message}" for w in self._caught]),
        }

    def _wait(self, grace: float) -> None:
        deadline = _clock() + grace
        while _clock() < deadline:
            new = [t for t in threading.enumerate() if t not in self._threads and not self._own(t)]
            if not new:
                return
            for t in new:
                try:
                    t.join(max(0.0, deadline - _clock()))
                except RuntimeError:  # still starting
                    _sleep(0.001)


def stacks(root: str, own: Callable[[threading.Thread], bool]) -> str:
    """Every student thread's stack, frames in files under ``root`` only, innermost last."""
    names = {t.ident: t for t in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        thread = names.get(ident)
        frames = [f for f in traceback.extract_stack(frame) if f.filename.startswith(root)]
        if thread is not None and own(thread) and not frames:
            continue  # the runtime's idle or serving threads
        shown = "".join(traceback.StackSummary.from_list(frames).format())
        name = (
            "(the grader's call)"
            if thread is not None and own(thread)
            else (thread.name if thread is not None else ident)
        )
        shown = shown or "  (no frame in the submission's code)\n"
        parts.append(f"--- thread {name} ---\n{shown}")
    return "\n".join(parts)[:MAX_TEXT]
