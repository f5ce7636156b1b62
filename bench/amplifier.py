"""Benchmark: the race amplifier's detection rate and slowdown. Prints figures.

    python bench/amplifier.py [--trials N]

Detection: racy snippets (every store kind, 2 threads × 1 update up to 8 × 50)
run N times under the amplifier; a trial counts as caught when an update is
lost. False flags: the same with a lock, where any lost update would be a
false alarm. Slowdown: a single-threaded loop of stores in "student" code,
amplified with no pause (pure instrumentation cost) and with the default
pause, against the plain loop; and the same loop in non-student code, which
must not slow down at all.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time

from grader.amplifier import MECHANISM, amplify, code_objects

SOURCE = """
import threading
lock = threading.Lock()
class Box:
    def __init__(self):
        self.n = 0
counter = 0
slots = {"n": 0}

def attr(box):
    box.n += 1

def attr_locked(box):
    with lock:
        box.n += 1

def glob(box):
    global counter
    counter += 1

def subscript(box):
    slots["n"] += 1

def closure_factory():
    n = 0
    def bump(box):
        nonlocal n
        n += 1
    return bump, lambda: n

def loop(box, times):
    for _ in range(times):
        box.n += 1
"""


def student():
    code = compile(SOURCE, "/bench/student.py", "exec")
    ns: dict = {}
    exec(code, ns)
    return code, ns


def trial(kind: str, threads: int, repeats: int, probability: float, seed: int) -> bool:
    """One run; True when an update was lost."""
    code, ns = student()
    box = ns["Box"]()
    if kind == "closure":
        target, read = ns["closure_factory"]()
    else:
        target = ns[kind]
        read = {
            "attr": lambda: box.n,
            "attr_locked": lambda: box.n,
            "glob": lambda: ns["counter"],
            "subscript": lambda: ns["slots"]["n"],
        }[kind]

    def work():
        for _ in range(repeats):
            target(box)

    with amplify(code_objects(code), probability=probability, seed=seed):
        ts = [threading.Thread(target=work) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    return read() < threads * repeats


def loop_time(
    amplified: bool, delay: float, student_code: bool, times: int = 2000, probability: float = 1.0
) -> float:
    code, ns = student()
    if not student_code:
        other = compile(SOURCE, "/bench/not_student.py", "exec")
        ns = {}
        exec(other, ns)
    box = ns["Box"]()
    if amplified:
        with amplify(code_objects(code), delay=delay, probability=probability, seed=1):
            start = time.perf_counter()
            ns["loop"](box, times)
            return time.perf_counter() - start
    start = time.perf_counter()
    ns["loop"](box, times)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=50)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, mechanism {MECHANISM}, {args.trials} trials each")
    print(f"{'snippet':<14}{'threads×updates':>16}{'p':>6}{'caught':>9}{'ms/trial':>10}")
    configs = [
        ("attr", 2, 1, 1.0), ("attr", 4, 100, 0.05), ("attr", 8, 50, 0.05),
        ("glob", 2, 1, 1.0), ("subscript", 2, 1, 1.0), ("closure", 2, 1, 1.0),
        ("attr_locked", 8, 50, 0.05), ("attr_locked", 2, 1, 1.0),
    ]  # fmt: skip
    for kind, threads, repeats, p in configs:
        start = time.perf_counter()
        caught = sum(trial(kind, threads, repeats, p, seed) for seed in range(args.trials))
        ms = (time.perf_counter() - start) / args.trials * 1000
        label = "FALSE FLAGS" if kind.endswith("locked") else "caught"
        print(f"{kind:<14}{f'{threads}×{repeats}':>16}{p:>6}{caught:>5}/{args.trials} "
              f"{label:<0}{ms:>8.1f}")  # fmt: skip
    plain = statistics.median(loop_time(False, 0, True) for _ in range(5))
    instr = statistics.median(loop_time(True, 0.0, True, probability=0.0) for _ in range(5))
    paused = statistics.median(loop_time(True, 0.001, True, times=200) for _ in range(3)) * 10
    other = statistics.median(loop_time(True, 0.001, False) for _ in range(5))
    print(f"slowdown of a store loop in student code, no pauses (p=0): {instr / plain:.1f}×")
    print(
        f"with the default 1 ms pause before each store: {paused / plain:.0f}× "
        f"({paused / 2000 * 1000:.2f} ms per store)"
    )
    print(f"the same loop outside the student's code: {other / plain:.2f}×")


if __name__ == "__main__":
    main()
