"""Exercise 15, another reading: range checks that forgive rounding of up to 1e-9.

A value a hair outside its range (``speedup(0.0, 49)`` is
``49.00000000000001`` for 49 workers) is snapped to the end of the range
before it is used; anything farther outside raises ``ValueError``.
"""

import math

SLACK = 1e-9  # relative to the end of the range; absolute at an end of 0


def _snapped(value: float, low: float, high: float, what: str) -> float:
    """``value`` clamped into ``[low, high]`` if it is within rounding of it; else ValueError."""
    if low <= value <= high:
        return value
    for end in (low, high):
        if abs(value - end) <= SLACK * max(abs(end), 1.0):
            return end
    raise ValueError(f"{what} must lie in [{low}, {high}], got {value!r}")


def speedup(serial_fraction: float, workers: int) -> float:
    """How many times faster ``workers`` workers run the program than one worker."""
    s = _snapped(serial_fraction, 0.0, 1.0, "the serial fraction")
    if workers < 1:
        raise ValueError(f"need at least one worker, got {workers!r}")
    return 1 / (s + (1 - s) / workers)


def max_speedup(serial_fraction: float) -> float:
    """The cap on the speedup with unlimited workers: ``1 / s`` (``math.inf`` when s is 0)."""
    s = _snapped(serial_fraction, 0.0, 1.0, "the serial fraction")
    return math.inf if s == 0 else 1 / s


def serial_fraction_from(measured_speedup: float, workers: int) -> float:
    """The serial fraction that explains a measured speedup (the Karp–Flatt metric)."""
    if workers < 2:
        raise ValueError(f"need at least two workers, got {workers!r}")
    measured = _snapped(measured_speedup, 1.0, float(workers), "the measured speedup")
    return (workers / measured - 1) / (workers - 1)


def workers_needed(serial_fraction: float, target: float) -> int | None:
    """The fewest workers whose speedup reaches ``target``; ``None`` if none ever does."""
    s = _snapped(serial_fraction, 0.0, 1.0, "the serial fraction")
    if not target >= 1 - SLACK:
        raise ValueError(f"a target speedup must be at least 1, got {target!r}")
    if target <= 1:
        return 1
    if target >= max_speedup(s):
        return None
    return max(1, math.ceil((1 - s) / (1 / target - s)))
