"""Exercise 10 · Pipeline, alternative style: an executor and "drain to the end marker".

No polling and no timeouts. The workers run in a ``ThreadPoolExecutor`` (its
``with`` block joins them). On an error, nothing is abandoned: every worker
keeps taking items from its inbox, throws them away instead of processing
them, and passes the end marker on when it arrives. The source thread stops
reading and sends the end marker at once. So a blocked ``put`` always has a
taker behind it, and every thread ends with the marker. Nothing is pushed
back into a queue, so nothing can chase itself forever, even with maxsize=1.
"""

import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

END = object()  # the end marker; never equal to a real item


class _Run:
    """The shared state of one run: its queues and its first error."""

    def __init__(self, n_queues: int, maxsize: int) -> None:
        self.queues = [queue.Queue(maxsize) for _ in range(n_queues)]
        self.failed = threading.Event()
        self.first_error: BaseException | None = None
        self._lock = threading.Lock()

    def record(self, exc: BaseException) -> None:
        with self._lock:
            if self.first_error is None:
                self.first_error = exc
        self.failed.set()

    def produce(self, source: Iterable[Any]) -> None:
        out = self.queues[0]
        try:
            for item in source:
                if self.failed.is_set():
                    break
                out.put(item)
        except BaseException as exc:
            self.record(exc)
        out.put(END)

    def transform(self, stage: Callable[[Any], Any], index: int) -> None:
        inbox, out = self.queues[index], self.queues[index + 1]
        while (item := inbox.get()) is not END:
            if self.failed.is_set():
                continue  # draining: take items so nobody stays blocked, skip the work
            try:
                result = stage(item)
            except BaseException as exc:
                self.record(exc)
                continue
            out.put(result)
        out.put(END)

    def consume(self, sink: Callable[[Any], None]) -> int:
        inbox = self.queues[-1]
        delivered = 0
        while (item := inbox.get()) is not END:
            if self.failed.is_set():
                continue
            try:
                sink(item)
            except BaseException as exc:
                self.record(exc)
                continue
            delivered += 1
        return delivered


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
    run = _Run(len(stages) + 1, maxsize)
    with ThreadPoolExecutor(max_workers=len(stages) + 1) as pool:
        pool.submit(run.produce, source)
        for index, stage in enumerate(stages):
            pool.submit(run.transform, stage, index)
        delivered = run.consume(sink)
    if run.first_error is not None:
        raise run.first_error
    return delivered
