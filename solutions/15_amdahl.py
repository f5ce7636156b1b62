"""Exercise 15 · Amdahl's law (reference solution).

Amdahl's law and its two rearrangements, each a line of algebra, plus the
checks that turn impossible inputs into ``ValueError``. ``workers_needed``
solves ``speedup(s, n) >= target`` for ``n`` in closed form.
"""

import math


def _check_fraction(serial_fraction: float) -> None:
    if not 0 <= serial_fraction <= 1:  # also rejects NaN
        raise ValueError(f"serial fraction must be between 0 and 1, got {serial_fraction!r}")


def _check_workers(workers: int, least: int = 1) -> None:
    if workers < least:
        raise ValueError(f"need at least {least} worker(s), got {workers!r}")


def speedup(serial_fraction: float, workers: int) -> float:
    """How many times faster ``workers`` workers run the program than one worker."""
    _check_fraction(serial_fraction)
    _check_workers(workers)
    s = serial_fraction
    return 1 / (s + (1 - s) / workers)


def max_speedup(serial_fraction: float) -> float:
    """The cap on the speedup with unlimited workers: ``1 / s`` (``math.inf`` when s is 0)."""
    _check_fraction(serial_fraction)
    if serial_fraction == 0:
        return math.inf
    return 1 / serial_fraction


def serial_fraction_from(measured_speedup: float, workers: int) -> float:
    """The serial fraction that explains a measured speedup (the Karp–Flatt metric)."""
    _check_workers(workers, least=2)
    if not 1 <= measured_speedup <= workers:
        raise ValueError(
            f"a speedup of {measured_speedup!r} is impossible with {workers} workers "
            f"(it must lie between 1 and {workers})"
        )
    return (1 / measured_speedup - 1 / workers) / (1 - 1 / workers)


def workers_needed(serial_fraction: float, target: float) -> int | None:
    """The fewest workers whose speedup reaches ``target``; ``None`` if none ever does."""
    _check_fraction(serial_fraction)
    if not target >= 1:
        raise ValueError(f"a target speedup must be at least 1, got {target!r}")
    if target == 1:
        return 1
    if target >= max_speedup(serial_fraction):
        return None
    s = serial_fraction
    # 1 / (s + (1 - s) / n) >= target  <=>  n >= (1 - s) / (1 / target - s)
    return max(1, math.ceil((1 - s) / (1 / target - s)))
