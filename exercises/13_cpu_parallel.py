"""Exercise 13 · CPU parallel: beat sequential on CPU-bound work.

``parallel_sum(func, n, workers)`` adds up ``func(chunk)`` over chunks of
``range(n)``. Right now it calls ``func`` once, on the whole range, in the
calling process: one core works, the others watch.

Why threads do not help here: CPython runs Python bytecode only while holding
the GIL (global interpreter lock), one lock per interpreter. Threads that
*wait* (for I/O, for ``time.sleep``) release it, so waiting overlaps nicely;
threads that *compute* take turns holding it, so CPU-bound Python code in 4
threads still runs on one core at a time. Processes each have their own
interpreter and their own GIL, so they really compute in parallel. The number
of worker processes is CPython's answer to Go's ``GOMAXPROCS``: it decides how
many cores your Python code can use at once (``len(os.sched_getaffinity(0))``
tells how many this process may use).

The contract:

* Split ``range(n)`` into contiguous chunks, each a ``range`` with step 1, that
  together cover every number of ``range(n)`` exactly once. Make at least
  ``workers`` chunks (when ``n >= workers``) and at most ``16 × workers``:
  each chunk is a round trip to a worker process (pickling, a pipe, a context
  switch), so one task per number drowns the work in overhead, while a few
  chunks per worker keep every core busy. One to four per worker is typical.
* Run ``func`` on every chunk in a pool of ``workers`` **processes**, all
  submitted before you wait for any result, and return the sum of the results.
  ``parallel_sum(func, 0, workers)`` returns 0.
* Shut the pool down before returning: no worker process may still be running
  when ``parallel_sum`` returns (use the pool in a ``with`` block).
* ``count_primes(limit, workers)`` returns how many primes ``p`` satisfy
  ``p < limit``, computed with ``parallel_sum``. For example
  ``count_primes(10**6, 2) == 78498``.

What you may assume: ``func`` is picklable (for example a function defined at
module level), so it can be sent to a worker process. Any start method works:
the default (``"fork"`` on Linux up to Python 3.13, ``"forkserver"`` from 3.14,
``"spawn"`` on macOS and Windows) or the one you pass as ``mp_context``. A
worker started by ``"spawn"`` or ``"forkserver"`` imports this module afresh to
find ``func``: it sees what the module defines, not values your code assigned
while running, so give the pool module-level functions and pass data as
arguments.
"""

from collections.abc import Callable


def parallel_sum(func: Callable[[range], int], n: int, workers: int) -> int:
    """Sum ``func(chunk)`` over contiguous chunks of ``range(n)``, in ``workers`` processes."""
    # TODO: cut range(n) into between `workers` and 16 × `workers` contiguous
    # chunks, run func on them in a concurrent.futures.ProcessPoolExecutor
    # (in a `with` block), and add up the results.
    return func(range(n))


def is_prime(k: int) -> bool:
    """Trial division: slow on purpose, so that the work is CPU-bound."""
    if k < 2:
        return False
    if k % 2 == 0:
        return k == 2
    d = 3
    while d * d <= k:
        if k % d == 0:
            return False
        d += 2
    return True


def count_primes(limit: int, workers: int) -> int:
    """How many primes are smaller than ``limit``, counted in ``workers`` processes."""
    # TODO: count with parallel_sum, giving it a module-level function that
    # counts the primes of one chunk (a lambda cannot be pickled).
    return sum(1 for k in range(limit) if is_prime(k))
