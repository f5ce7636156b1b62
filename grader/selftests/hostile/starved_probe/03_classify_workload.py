"""Hostile: answer "io" always, and keep the GIL while func runs, so a computing function's
thread gets almost no CPU. In-process, a thread that got less than 15% of a core made the
test "ungradable" (the machine looked too busy), leaving the maximum at the waiting half. In
the judge, the kernel's books say the thread was not queued for a CPU but blocked, and the
module's own thread computed beside it: the submission's doing, so the test fails."""

import threading
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor


def _hold_the_gil(stop: threading.Event) -> None:
    while not stop.is_set():
        sum(range(3_000_000))  # one C call: the GIL is not given up until it returns


def classify(func):
    stop = threading.Event()
    hog = threading.Thread(target=_hold_the_gil, args=(stop,))
    hog.start()
    try:
        func()
    finally:
        stop.set()
        hog.join()
    return "io"


def pick_executor(kind, workers) -> Executor:
    if kind not in ("io", "cpu") or workers < 1:
        raise ValueError(kind)
    return (ThreadPoolExecutor if kind == "io" else ProcessPoolExecutor)(max_workers=workers)
