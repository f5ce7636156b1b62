"""Exercise 9 · Clean shutdown: a background worker that stops promptly (reference solution).

The worker waits on a stop ``Event`` with a timeout instead of sleeping: the
wait lasts one interval, or ends at once when ``stop`` sets the event. ``stop``
then joins the worker, so nothing outlives the ticker. Exceptions from
``action`` are caught at the boundary of each tick and kept in ``errors``.
"""

import threading
from collections.abc import Callable


class Ticker:
    """Calls ``action`` every ``interval`` seconds on one background thread."""

    def __init__(self, interval: float, action: Callable[[], None]) -> None:
        if not interval > 0:  # zero, negative (or NaN): the worker would spin without a pause
            raise ValueError(f"the interval must be positive, got {interval!r}")
        self.interval = interval
        self.action = action
        self.errors: list[Exception] = []
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None

    def start(self) -> None:
        if self._worker is not None:
            raise RuntimeError("a Ticker can be started only once")
        self._worker = threading.Thread(target=self._run, name="ticker")
        self._worker.start()

    def stop(self, timeout: float = 1.0) -> None:
        if self._worker is None:
            return  # never started: nothing to stop
        self._stopping.set()
        self._worker.join(timeout)
        if self._worker.is_alive():
            raise TimeoutError(f"the ticker's worker did not end within {timeout} s")

    def _run(self) -> None:
        # wait() returns False when the interval passed, True as soon as stop() is called.
        while not self._stopping.wait(self.interval):
            self._tick()

    def _tick(self) -> None:
        try:
            self.action()
        except Exception as exc:  # recover at the boundary: keep it and keep ticking
            self.errors.append(exc)

    def __enter__(self) -> "Ticker":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
