"""The race amplifier on the loaded module, switched on and off by the judge.

``amplify`` is entered and left on a thread of its own, which only waits in between: on
3.11 the mechanism traces the thread that starts it and every thread started later, so the
judge's requests run on fresh threads while it is on (``Runtime``). Its canary runs on every
start; a canary not caught is reported as ``AmplifierInactive`` to the judge, which alone
decides what that means.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from types import CodeType
from typing import Any

from grader.amplifier import Stats, amplify, code_objects

START_TIMEOUT = 60.0  # the canary's few attempts, each bounded by its own timeout


class Amplifying:
    """At most one amplifier at a time, on its own thread."""

    def __init__(self) -> None:
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._stats: Stats | None = None

    @property
    def active(self) -> bool:
        return self._thread is not None

    def start(self, code: CodeType, options: dict[str, Any]) -> None:
        if self._thread is not None:
            raise RuntimeError("the race amplifier is already on")
        started, stop = threading.Event(), threading.Event()
        failure: list[BaseException] = []

        def hold() -> None:
            try:
                with amplify(code_objects(code), **options) as stats:
                    self._stats = stats
                    started.set()
                    stop.wait()
            except BaseException as error:  # the canary, or bad options: the judge hears it
                failure.append(error)
            finally:
                started.set()

        thread = threading.Thread(target=hold, name="grader-amplifier", daemon=True)
        thread.start()
        started.wait(START_TIMEOUT)
        if failure or not started.is_set():
            stop.set()
            thread.join(1.0)
            raise failure[0] if failure else TimeoutError("the race amplifier did not start")
        self._stop, self._thread = stop, thread

    def stop(self) -> dict[str, Any]:
        """Switch it off; its statistics."""
        if self._thread is None or self._stop is None:
            return {}
        self._stop.set()
        self._thread.join(START_TIMEOUT)
        self._stop = self._thread = None
        stats, self._stats = self._stats, None
        return asdict(stats) if stats is not None else {}
