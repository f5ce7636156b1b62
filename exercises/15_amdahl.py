"""Exercise 15 · Amdahl's law.

Why do 16 cores rarely make a program 16 times faster? Because part of almost
every program cannot be split: reading the input, combining the results,
anything done under one lock. Amdahl's law puts a number on it.

Measure the program's running time with one worker and call it 1. A fraction
``s`` of it is *serial*: it takes ``s`` whatever the number of workers. The
rest, ``1 - s``, divides evenly among ``n`` workers and takes ``(1 - s) / n``.
The speedup is the old time divided by the new one::

    speedup(s, n) = 1 / (s + (1 - s) / n)

With ``s = 0.3`` (30% serial): 2 workers give 1.54, 4 give 2.11, 8 give 2.58,
16 give 2.91, and no number of workers ever reaches ``1 / 0.3 = 3.33``: the
serial part caps the speedup. Doubling the workers from 8 to 16 buys only 13%.

Write the law and its two rearrangements:

* ``speedup(serial_fraction, workers)``: the formula above.
* ``max_speedup(serial_fraction)``: the cap with unlimited workers, ``1 / s``.
  A program with no serial part has no cap: return ``math.inf`` when
  ``serial_fraction == 0`` (do not divide by zero).
* ``serial_fraction_from(measured_speedup, workers)``: the inverse, known as
  the Karp–Flatt metric. You measured a speedup with ``workers`` workers;
  return the serial fraction ``s`` for which ``speedup(s, workers)`` equals
  it. A speedup equal to ``workers`` gives 0; a speedup of 1 gives 1.
* ``workers_needed(serial_fraction, target)``: the smallest whole number of
  workers ``n >= 1`` with ``speedup(serial_fraction, n) >= target``. Decide in
  this order: a target of exactly 1 needs 1 worker; otherwise a target at or
  above ``max_speedup(serial_fraction)`` is never reached, so return ``None``.

Invalid input raises ``ValueError`` (never another exception):

* a serial fraction outside ``[0, 1]``, in every function;
* ``workers < 1`` in ``speedup``; ``workers < 2`` in ``serial_fraction_from``
  (with one worker every fraction gives a speedup of 1, so none can be
  recovered);
* an impossible speedup: a ``measured_speedup`` outside ``[1, workers]``, or a
  ``target`` below 1 (under Amdahl's law a speedup is never below 1).

Floating point: ``1 / (1 / 49)`` is ``49.00000000000001``, and the formula and
its rearrangements often differ in the last digit. The grader compares floats
with a small relative tolerance, and never asks ``workers_needed`` for a target
that a whole number of workers hits exactly, so both a closed form (solve the
formula for ``n`` and round up) and a search over ``n`` are correct.

How exact the range checks are: a value can land a hair outside its range by
rounding alone (``speedup(0.0, 49)`` is ``49.00000000000001``, a hair above
the 49 that 49 workers allow). Your checks may be exact, or
forgive rounding of up to 1e-9 relative to the end of the range (1e-9
absolute at an end of 0): such a value is then treated as that end exactly
(``max_speedup(-1e-12)`` is ``math.inf``). Either choice is correct. A value
farther outside, such as 1e-7 beyond an end, must raise ``ValueError``.
"""

import math  # noqa: F401  (you will want math.inf and math.ceil)


def speedup(serial_fraction: float, workers: int) -> float:
    """How many times faster ``workers`` workers run the program than one worker."""
    # TODO: validate, then apply Amdahl's law.
    raise NotImplementedError("speedup")


def max_speedup(serial_fraction: float) -> float:
    """The cap on the speedup with unlimited workers: ``1 / s`` (``math.inf`` when s is 0)."""
    # TODO
    raise NotImplementedError("max_speedup")


def serial_fraction_from(measured_speedup: float, workers: int) -> float:
    """The serial fraction that explains a measured speedup (the Karp–Flatt metric)."""
    # TODO: solve speedup(s, workers) == measured_speedup for s.
    raise NotImplementedError("serial_fraction_from")


def workers_needed(serial_fraction: float, target: float) -> int | None:
    """The fewest workers whose speedup reaches ``target``; ``None`` if none ever does."""
    # TODO: solve speedup(serial_fraction, n) >= target for the smallest whole n.
    raise NotImplementedError("workers_needed")
