"""Visible tests for exercise 15, amdahl. The grade adds hidden tests."""

import math

import pytest

COURSE_TABLE = [(2, 1.54), (4, 2.11), (8, 2.58), (16, 2.91)]


@pytest.mark.parametrize(("workers", "expected"), COURSE_TABLE)
def test_a_30_percent_serial_program(exercise, workers, expected):
    got = exercise.speedup(0.3, workers)
    assert round(got, 2) == expected, (
        f"speedup(0.3, {workers}) should be about {expected}, got {got!r}"
    )


def test_the_cap_of_a_30_percent_serial_program(exercise):
    got = exercise.max_speedup(0.3)
    assert round(got, 2) == 3.33, f"max_speedup(0.3) should be about 3.33 (1 / 0.3), got {got!r}"


def test_no_serial_part_means_no_cap(exercise):
    got = exercise.max_speedup(0)
    assert got == math.inf, f"max_speedup(0) should be math.inf, got {got!r}"


def test_karp_flatt_recovers_the_serial_fraction(exercise):
    got = exercise.serial_fraction_from(exercise.speedup(0.3, 8), 8)
    assert math.isclose(got, 0.3, rel_tol=1e-9), (
        f"serial_fraction_from(speedup(0.3, 8), 8) should give back 0.3, got {got!r}"
    )


def test_workers_needed_for_a_speedup_of_2_45(exercise):
    # 6 workers give 2.40, 7 give 2.50: the fewest that reach 2.45 is 7.
    got = exercise.workers_needed(0.3, 2.45)
    assert got == 7, f"workers_needed(0.3, 2.45) should be 7 (6 give only 2.40), got {got!r}"


def test_an_unreachable_target_gives_none(exercise):
    got = exercise.workers_needed(0.3, 4)
    assert got is None, f"workers_needed(0.3, 4) should be None (the cap is 3.33), got {got!r}"


def test_a_fraction_above_1_is_rejected(exercise):
    with pytest.raises(ValueError):
        exercise.speedup(1.5, 4)
