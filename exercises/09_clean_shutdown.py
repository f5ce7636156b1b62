"""Exercise 9 · Clean shutdown: a background worker that stops promptly.

``Ticker(interval, action)`` calls ``action()`` every ``interval`` seconds on a
background thread, until it is stopped. Right now it *leaks*: ``stop`` only
flips a flag and returns, while the worker sleeps on through ``time.sleep``
(up to a whole interval) and is never joined; and the first exception from
``action`` kills the worker, printed to stderr and lost.

A leak is anything you start and never end: a thread, a process, a file, a
socket. A daemon thread is still a leak: it goes on running after you are done
with it, and it is killed mid-step when the interpreter exits. A clean
shutdown *wakes* the worker (``time.sleep`` cannot be interrupted, but
``threading.Event().wait(timeout)`` can), *waits* for it to end (``join``) and
checks that it did.

The contract:

* ``Ticker(interval, action)``: ``interval`` is in seconds and must be
  positive. A zero or negative interval would make the worker spin without a
  pause, so it raises ``ValueError``, when the ticker is made or at the latest
  in ``start()``, before any thread starts (either place is fine).
* ``start()`` starts one background thread, which calls ``action()`` once
  every ``interval`` seconds; the first call comes one interval after
  ``start``. (Whether the interval is counted from the start or from the end
  of the previous call is up to you.) Every call runs on that one thread.
* ``start()`` raises ``RuntimeError`` if the ticker was already started, even
  if it has been stopped since: a ticker runs once, like a thread. A ``stop``
  on a ticker that was never started does not count as a run: ``start()``
  afterwards works as usual.
* ``stop(timeout=1.0)`` wakes the worker at once: how long it takes must not
  depend on ``interval``. It lets a call to ``action`` that is running finish,
  then joins the worker, and returns only when the worker has ended. If the
  worker has not ended within ``timeout`` seconds, it raises ``TimeoutError``
  (a later ``stop`` waits again). No call to ``action`` starts after ``stop``
  has been called.
* ``stop`` is idempotent: calling it again after it returned does nothing and
  raises nothing; calling it on a ticker that was never started does nothing.
  Do not call ``stop`` from inside ``action``.
* An ``Exception`` raised by ``action`` is appended to ``errors`` (a list, in
  the order they happened), is not printed, and the ticker keeps running.
  This is "recover at the boundary": one bad tick must not kill the worker.
* ``with Ticker(interval, action) as ticker:`` starts the ticker and gives it
  to the block; leaving the block calls ``stop()`` (without hiding the block's
  own exception).
"""

import threading
import time
from collections.abc import Callable


class Ticker:
    """Calls ``action`` every ``interval`` seconds on one background thread."""

    def __init__(self, interval: float, action: Callable[[], None]) -> None:
        self.interval = interval
        self.action = action
        self.errors: list[Exception] = []
        self._running = False
        # TODO: refuse an interval that is not positive (see the contract).

    def start(self) -> None:
        # TODO: refuse a second start; keep the thread so that stop can join it.
        self._running = True
        threading.Thread(target=self._run, daemon=True).start()

    def stop(self, timeout: float = 1.0) -> None:
        # TODO: wake the worker at once (a threading.Event), join it with the
        # timeout, and raise TimeoutError if it is still alive.
        self._running = False

    def _run(self) -> None:
        # TODO: wait on the stop event instead of sleeping, and keep every
        # exception from action in self.errors instead of letting it escape.
        while self._running:
            time.sleep(self.interval)
            if self._running:
                self.action()

    def __enter__(self) -> "Ticker":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
