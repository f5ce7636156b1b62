"""Exercise 14 · Right size: the concurrent program that is slower than sequential.

``parallel_total(values, workers)`` returns ``sum(values)``. The version below
is the course's slow example: it starts **one thread per value**, and every
thread adds its value to a shared total under **one global lock**. Time it on
a million numbers against a plain ``for`` loop: it is not a little slower, it
is hundreds of times slower. Concurrency has costs, and here they swamp the
work:

* Creating, starting and joining a thread takes tens of microseconds; adding
  two numbers takes a few tens of nanoseconds.
* A lock taken once per value makes every thread queue for it: *contention*.
  Each hand-over can cost a context switch.
* (And because of the GIL, threads running Python code take turns anyway:
  there is no parallel speedup to win back those costs.)

Your tasks:

1. Rewrite ``parallel_total(values, workers)`` to right-size the concurrency:
   split ``values`` into at most ``workers`` contiguous chunks of about the
   same size (fewer when there are fewer values than workers), and sum each
   chunk in its own ``threading.Thread`` (or a
   ``ThreadPoolExecutor(max_workers=workers)``) into a *local* variable.
   Start at most ``workers + 1`` threads in all.

   Then combine the partial sums **once per chunk, never once per value**.
   Either design is right: the calling thread adds the partial sums up after
   the threads end, or each thread adds its partial sum to a shared total
   under a lock, taking the lock once. A lock per value (or per few values)
   is what is wrong: that is the contention that made the starter slow. And
   however you combine, no partial sum may be lost when two threads finish
   at the same time.

   Every value counts exactly once, including the last few when
   ``len(values)`` is not a multiple of ``workers``. ``values`` holds ints
   (possibly negative, possibly huge); ``workers >= 1``. The result must stay
   within a few times the time of a plain sequential loop.

2. Set ``EXPLANATION`` to the set of keys, from the list below, that name the
   causes that made the starter slow (every cause, and nothing else):

   * ``"thread_overhead"``: creating, starting and joining a thread per value
     costs far more than the addition each thread does.
   * ``"lock_contention"``: every addition waits for the same lock, so the
     threads queue up for it.
   * ``"integer_overflow"``: the total overflows when several threads add to it.
   * ``"too_few_cores"``: the machine has too few cores; with more it would
     beat the loop.
   * ``"io_wait"``: the threads spend their time waiting for the disk or the
     network.
   * ``"addition_order"``: the threads add the values in a random order, and
     putting them back in order is expensive.
"""

import threading
from collections.abc import Sequence

# TODO: the keys of the causes, for example {"some_key", "other_key"}.
EXPLANATION: set[str] = set()


def parallel_total(values: Sequence[int], workers: int) -> int:
    """The sum of ``values``, computed by ``workers`` threads."""
    # TODO: this starts one thread per value and locks once per value.
    # Use ``workers`` threads, each summing a contiguous chunk locally.
    total = 0
    lock = threading.Lock()

    def add(value: int) -> None:
        nonlocal total
        with lock:
            total += value

    threads = [threading.Thread(target=add, args=(v,)) for v in values]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return total
