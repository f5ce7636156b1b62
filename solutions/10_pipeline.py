"""Exercise 10 · Pipeline: stages, bounded queues and a clean stop (reference solution).

One thread reads the source, one thread runs each stage, and the calling
thread feeds the sink. Neighbours are joined by ``queue.Queue(maxsize)``, so a
fast producer blocks on a full queue: backpressure. A private sentinel object
follows the last item down the pipeline, so every stage knows when to stop.

On an error, the failing thread records it and sets a shared stop event. No
thread blocks for good: ``put`` and ``get`` wait in short slices and check the
event between them, so every thread notices the stop within one slice, gives
up its item and ends. Then every thread is joined and the first error raised.
"""

import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

_END = object()  # the sentinel: "no more items"; never equal to a real item
_SLICE = 0.05  # seconds a blocked put/get waits before it checks the stop event again


class _Stopped(Exception):
    """Raised in a thread that finds the pipeline stopping: it should just end."""


class _Shutdown:
    """The stop event every thread watches, and the errors that set it."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.errors: list[BaseException] = []

    def fail(self, exc: BaseException) -> None:
        self.errors.append(exc)
        self.event.set()

    def put(self, q: queue.Queue, item: Any) -> None:
        while not self.event.is_set():
            try:
                q.put(item, timeout=_SLICE)
                return
            except queue.Full:
                pass
        raise _Stopped

    def get(self, q: queue.Queue) -> Any:
        while not self.event.is_set():
            try:
                return q.get(timeout=_SLICE)
            except queue.Empty:
                pass
        raise _Stopped


def _read_source(source: Iterable[Any], first: queue.Queue, shutdown: _Shutdown) -> None:
    for item in source:
        shutdown.put(first, item)
    shutdown.put(first, _END)


def _run_stage(stage: Callable[[Any], Any], inbox: queue.Queue, outbox: queue.Queue,
               shutdown: _Shutdown) -> None:  # fmt: skip
    while (item := shutdown.get(inbox)) is not _END:
        shutdown.put(outbox, stage(item))
    shutdown.put(outbox, _END)


def _feed_sink(sink: Callable[[Any], None], last: queue.Queue, shutdown: _Shutdown) -> int:
    delivered = 0
    while (item := shutdown.get(last)) is not _END:
        sink(item)
        delivered += 1
    return delivered


def _guarded(shutdown: _Shutdown, work: Callable[..., Any], *args: Any) -> Any:
    """Run ``work``; an error stops the whole pipeline instead of escaping."""
    try:
        return work(*args, shutdown)
    except _Stopped:
        return None
    except BaseException as exc:  # handed to the caller by run_pipeline
        shutdown.fail(exc)
        return None


def run_pipeline(
    source: Iterable[Any],
    stages: Sequence[Callable[[Any], Any]],
    sink: Callable[[Any], None],
    *,
    maxsize: int = 4,
) -> int:
    """Run ``source → stages → sink`` concurrently; return how many items reached the sink."""
    if maxsize < 1:
        raise ValueError(f"maxsize must be at least 1, got {maxsize}")
    shutdown = _Shutdown()
    queues = [queue.Queue(maxsize) for _ in range(len(stages) + 1)]
    jobs = [(_read_source, source, queues[0])]
    jobs += [(_run_stage, stage, queues[i], queues[i + 1]) for i, stage in enumerate(stages)]
    threads = [threading.Thread(target=_guarded, args=(shutdown, *job)) for job in jobs]
    for thread in threads:
        thread.start()
    try:
        delivered = _guarded(shutdown, _feed_sink, sink, queues[-1])
    finally:
        shutdown.event.set()  # whatever happened, no thread may wait any longer
        for thread in threads:
            thread.join()
    if shutdown.errors:
        raise shutdown.errors[0]
    return delivered
