"""Exercise 9 · Clean shutdown, alternative style: a Thread subclass and a Condition.

The worker keeps a fixed-rate schedule (tick ``n`` is due at ``start + n ×
interval``) and sleeps with ``Condition.wait_for``, which returns as soon as
``stop`` sets the flag and notifies. ``stop`` always joins; joining a finished
thread again is instant, which makes it idempotent for free.
"""

import threading
import time
from collections.abc import Callable


class _Worker(threading.Thread):
    def __init__(self, ticker: "Ticker") -> None:
        super().__init__(name="ticker-worker", daemon=False)
        self.ticker = ticker

    def run(self) -> None:
        ticker = self.ticker
        due = time.monotonic() + ticker.interval
        while ticker._sleep_until(due):
            try:
                ticker.action()
            except Exception as exc:  # recover at the boundary
                ticker.errors.append(exc)
            # Fixed rate; after an overlong call, tick once at once rather than in a burst.
            due = max(due + ticker.interval, time.monotonic())


class Ticker:
    """Calls ``action`` every ``interval`` seconds on one background thread."""

    def __init__(self, interval: float, action: Callable[[], None]) -> None:
        self.interval = interval
        self.action = action
        self.errors: list[Exception] = []
        self._changed = threading.Condition()
        self._stopping = False
        self._worker: _Worker | None = None

    def _sleep_until(self, due: float) -> bool:
        """Wait until ``due``; True if it is time to tick, False if stopping."""
        with self._changed:
            stopping = self._changed.wait_for(
                lambda: self._stopping, timeout=max(0.0, due - time.monotonic())
            )
        return not stopping

    def start(self) -> None:
        if not self.interval > 0:  # checked here rather than in __init__: both are allowed
            raise ValueError(f"the interval must be positive, got {self.interval!r}")
        with self._changed:
            if self._worker is not None:
                raise RuntimeError("this ticker was already started")
            self._worker = _Worker(self)
        self._worker.start()

    def stop(self, timeout: float = 1.0) -> None:
        with self._changed:
            worker = self._worker
            if worker is None:
                return  # never started: nothing to stop, and it may still be started
            self._stopping = True
            self._changed.notify_all()
        worker.join(timeout)
        if worker.is_alive():
            raise TimeoutError(f"the ticker did not stop within {timeout} s")

    def __enter__(self) -> "Ticker":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
