"""A CPU hog: busy processes that load every core, to prove results hold under load.

``with cpu_hog():`` runs one busy-looping process per usable CPU for the block.
``python -m grader.dev.hog SECONDS`` does the same from a shell.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from grader.machine import usable_cpus


def _spin(stop_at: float) -> None:
    x = 0
    while time.monotonic() < stop_at:
        x = (x * 31 + 7) % 1_000_003


@contextmanager
def cpu_hog(processes: int | None = None, max_seconds: float = 600) -> Iterator[None]:
    count = processes or usable_cpus()
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_spin, args=(time.monotonic() + max_seconds,)) for _ in range(count)
    ]
    for p in procs:
        p.start()
    try:
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.join()


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30
    with cpu_hog():
        time.sleep(seconds)
