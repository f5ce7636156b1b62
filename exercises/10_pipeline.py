"""Exercise 10 · Pipeline: stages, bounded queues and a clean stop.

``run_pipeline(source, stages, sink)`` takes every item of ``source``, passes
it through each stage in turn (``stages[0]``, then ``stages[1]``, …) and hands
the result to ``sink``. Right now it does everything in the calling thread,
one item at a time: while one stage works, all the others wait. With three
stages of 30 ms, 20 items take 1.8 s.

A pipeline lets the stages work at the same time, like an assembly line: while
stage 2 handles item 1, stage 1 already handles item 2. Each stage is a
consumer of the queue before it and a producer for the queue after it.

The contract:

* One thread reads ``source``, one thread runs each stage, and ``sink`` is
  called from the calling thread or from a thread of its own (either is fine).
  Neighbours are connected by ``queue.Queue(maxsize)``: source → stage 0 →
  stage 1 → … → sink (with no stages, source → sink through one queue).
* **Order.** Each stage is called once per item, in source order, always from
  its one thread; the sink receives ``stages[-1](…stages[0](item))`` for every
  item, in source order. Items may be any value, including ``None``: to say
  "no more items", send a private sentinel (``_END = object()``) that no real
  item can be equal to.
* **Backpressure.** The queues are bounded, so a fast producer blocks on a full
  queue until the slower stage behind it catches up. ``source`` may be endless:
  never read it ahead into a list.
* ``run_pipeline`` returns the number of items the sink accepted, and only
  after every thread it started has ended. ``maxsize < 1`` raises
  ``ValueError`` before anything starts.
* **Stopping on an error.** If reading the source, a stage or the sink raises,
  the whole pipeline stops promptly (within a fraction of a second, once the
  calls already running have returned): threads blocked on a full or an empty
  queue are released, every thread is joined, and the first exception that
  happened (the very object) is re-raised. Later exceptions are dropped.
* **No more reading after an error.** Once the error has happened, ``source``
  is asked for at most **one** more item (a read that was already on its way
  before the reader noticed the stop), never read on to its end.

Why stopping is the hard part: a thread blocked in ``queue.put`` on a full queue
(or ``queue.get`` on an empty one) never wakes up by itself if the thread at
the other end is gone. Give every thread a way to notice the stop: wait in
short slices (``q.put(item, timeout=0.05)``) and check a shared
``threading.Event`` between them; the reader stops at the stop too, before it
reads on. Beware of "clever" cleanups that drain the queues and push
sentinels again: with ``maxsize=1`` they can chase each other forever.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any


def run_pipeline(
    source: Iterable[Any],
    stages: Sequence[Callable[[Any], Any]],
    sink: Callable[[Any], None],
    *,
    maxsize: int = 4,
) -> int:
    """Run ``source → stages → sink`` concurrently; return how many items reached the sink."""
    # TODO: check maxsize; connect one thread per stage (and one for the source)
    # with queue.Queue(maxsize); end with a sentinel; on an error, set a stop
    # event that every blocked put/get notices, join every thread, re-raise.
    delivered = 0
    for item in source:
        for stage in stages:
            item = stage(item)
        sink(item)
        delivered += 1
    return delivered
