"""Hostile: a lock taken for every value (far slower than a plain loop), hidden by patching
the instruments that run beside it: the counted call's CPU clock reads 0, and the lock count
reads 0. In-process, the CPU clock was the hidden test's own module global, as easy to
reach. In the judge, the CPU time the subject reports must agree with what /proc says the
process used: the timing test fails. (The lock count is the subject's word: it is listed as
not defended.)"""

import sys
import threading

EXPLANATION = {"thread_overhead", "lock_contention"}

_counting = sys.modules.get("grader.subject.counting")
if _counting is not None:
    _counting._cpu_clock = lambda: 0.0
    _counting.CountingThreading.taken = property(lambda self: 0)

_LOCK = threading.Lock()


def parallel_total(values, workers):
    size, extra = divmod(len(values), workers)
    bounds, start = [], 0
    for i in range(min(workers, len(values))):
        stop = start + size + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    total = [0]

    def run(start, stop):
        for value in values[start:stop]:
            with _LOCK:
                total[0] += value

    threads = [threading.Thread(target=run, args=bound) for bound in bounds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return total[0]
