"""Exercise 3 · I/O-bound or CPU-bound?

Some work spends its time *waiting*: for a network answer, a disk, a queue, a
timer. That work is **I/O-bound**: while it waits it uses no CPU, so many such
tasks overlap well in threads, even on one core (threads release the GIL
while they wait). Other work spends its time *computing*. That work is
**CPU-bound**: in CPython, threads that compute take turns holding the GIL, so
only processes (each with its own interpreter) compute in parallel.

You can tell the two apart by measuring. Run the work once and compare two
clocks over the same interval:

* the wall clock (``time.perf_counter()``): how much time passed;
* the CPU clock of the *calling thread* (``time.thread_time()``): how long
  this thread actually ran on a CPU.

A sleep of 1 s moves the wall clock by 1 s and the thread's CPU clock by
almost nothing; a pure-Python loop moves both by about as much. Do not use
``time.process_time()``: it adds up the CPU time of *every* thread of the
process, so any other busy thread would make a sleeping function look
CPU-bound.

The contract:

* ``classify(func)`` calls ``func()`` exactly once, in the calling thread, and
  returns ``"cpu"`` when the calling thread's CPU time during the call is at
  least **0.1 ×** the wall time of the call, ``"io"`` otherwise. (The bar is
  low on purpose: waiting keeps a thread on the CPU for well under 1% of the
  time, while computing gets close to 100% of an idle core, and still a fair
  share of a busy one that many programs compete for.)
* ``pick_executor(kind, workers)`` returns a new
  ``concurrent.futures.ThreadPoolExecutor`` for ``"io"`` and a new
  ``concurrent.futures.ProcessPoolExecutor`` for ``"cpu"``, each with
  ``max_workers=workers``. Any other ``kind`` (the check is exact:
  ``"IO"`` is unknown) or ``workers < 1`` raises ``ValueError``.
"""

import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Literal

Kind = Literal["io", "cpu"]


def classify(func: Callable[[], object]) -> Kind:
    """Run ``func()`` once in this thread; "cpu" if it kept this thread on the CPU, else "io"."""
    # TODO: also read time.thread_time() before and after the call, and compare
    # the CPU time with the wall time (threshold 0.1).
    start = time.perf_counter()
    func()
    wall = time.perf_counter() - start
    return "cpu" if wall > 0.5 else "io"


def pick_executor(kind: Kind, workers: int) -> Executor:
    """A thread pool for "io" work, a process pool for "cpu" work, with ``workers`` workers."""
    # TODO: a ProcessPoolExecutor for "cpu"; ValueError for an unknown kind or workers < 1.
    return ThreadPoolExecutor(max_workers=workers)
