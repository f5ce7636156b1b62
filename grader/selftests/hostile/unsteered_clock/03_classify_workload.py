"""Hostile: read the clocks where the test cannot steer them (the wall clock from os.times,
the thread's CPU clock from /proc) and use a wrong threshold. In-process, the boundary tests
skipped when classify read no clock of the time module ("ungradable"), so the wrong
threshold cost nothing. Now reading no clock the test can steer fails those tests."""

import os
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

_TICK = os.sysconf("SC_CLK_TCK")


def _thread_cpu() -> float:
    with open("/proc/thread-self/schedstat") as fh:
        return int(fh.read().split()[0]) / 1e9


def classify(func):
    wall, cpu = os.times().elapsed, _thread_cpu()
    func()
    wall, cpu = os.times().elapsed - wall, _thread_cpu() - cpu
    return "cpu" if wall > 0 and cpu / wall >= 0.5 else "io"


def pick_executor(kind, workers) -> Executor:
    if kind not in ("io", "cpu") or workers < 1:
        raise ValueError(kind)
    return (ThreadPoolExecutor if kind == "io" else ProcessPoolExecutor)(max_workers=workers)
