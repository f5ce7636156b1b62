"""Exercise 15 · Amdahl's law, another correct style.

The speedup written as ``n / (1 + s * (n - 1))``, Karp–Flatt as
``(n / S - 1) / (n - 1)``, and ``workers_needed`` found by searching: double
``n`` until the target is reached, then bisect for the fewest workers.
"""

import math


def _validate_fraction(s):
    if math.isnan(s) or s < 0 or s > 1:
        raise ValueError("the serial fraction must lie in [0, 1]")


def speedup(serial_fraction, workers):
    _validate_fraction(serial_fraction)
    if workers < 1:
        raise ValueError("at least one worker is needed")
    return workers / (1 + serial_fraction * (workers - 1))


def max_speedup(serial_fraction):
    _validate_fraction(serial_fraction)
    return math.inf if serial_fraction == 0 else 1 / serial_fraction


def serial_fraction_from(measured_speedup, workers):
    if workers < 2:
        raise ValueError("the serial fraction needs at least two workers to be measured")
    if measured_speedup < 1 or measured_speedup > workers:
        raise ValueError("impossible speedup")
    return (workers / measured_speedup - 1) / (workers - 1)


def workers_needed(serial_fraction, target):
    _validate_fraction(serial_fraction)
    if target < 1:
        raise ValueError("a target below 1 is impossible")
    if target == 1:
        return 1
    if target >= max_speedup(serial_fraction):
        return None

    def reaches(n):
        return speedup(serial_fraction, n) >= target

    high = 1
    while not reaches(high):
        high *= 2
    low = high // 2  # does not reach (or is 0)
    while high - low > 1:
        middle = (low + high) // 2
        if reaches(middle):
            high = middle
        else:
            low = middle
    return high
