"""Visible tests for exercise 4, fix_the_race. The grade adds hidden tests.

The concurrent tests run with the race amplifier on (``race()``): it forces a
thread switch right before every write in your code, so a race that the GIL
would hide almost every time shows up at once.
"""

import threading

import pytest

from grader.harness.checks import returned
from grader.harness.service import SimulatedService


def in_threads(calls):
    """Run each call in its own thread, all released at once; return their results."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_deposit_and_withdraw_change_the_balance(exercise):
    account = exercise.Account(100)
    account.deposit(50)
    assert account.balance == 150, (
        f"after depositing 50 into 100, expected 150, got {account.balance}"
    )
    assert account.withdraw(30) is True, "withdrawing 30 from 150 should return True"
    assert account.balance == 120, f"expected 120 after withdrawing 30, got {account.balance}"


def test_withdraw_refuses_when_funds_are_short(exercise):
    account = exercise.Account(20)
    assert account.withdraw(21) is False, "withdrawing 21 from 20 should return False"
    assert account.balance == 20, f"a refused withdrawal changed the balance to {account.balance}"


@pytest.mark.parametrize("amount", [0, -5])
def test_non_positive_amounts_raise_value_error(exercise, amount):
    account = exercise.Account(10)
    with pytest.raises(ValueError):
        account.deposit(amount)
    with pytest.raises(ValueError):
        account.withdraw(amount)
    assert account.balance == 10, f"a rejected amount changed the balance to {account.balance}"


def test_each_successful_operation_is_audited(exercise):
    log = []
    account = exercise.Account(10, audit=lambda op, amount: log.append((op, amount)))
    account.deposit(5)
    account.withdraw(100)  # refused: not audited
    account.withdraw(3)
    assert log == [("deposit", 5), ("withdraw", 3)], f"expected two audit calls, got {log}"


def test_concurrent_deposits_lose_no_update(exercise, watch, race):
    account = exercise.Account(0)
    calls = [lambda: [account.deposit(1) for _ in range(10)] for _ in range(4)]
    with race():
        returned(watch(in_threads, calls), "the deposits")
    assert account.balance == 40, (
        f"4 threads × 10 deposits of 1 should give 40, got {account.balance}: lost updates. "
        "`+=` reads, adds and writes; another thread ran in between"
    )


def test_concurrent_withdrawals_never_overdraw(exercise, watch, race):
    account = exercise.Account(100)
    calls = [lambda: account.withdraw(60) for _ in range(4)]
    with race():
        results = returned(watch(in_threads, calls), "the withdrawals")
    assert results.count(True) == 1, (
        f"100 allows one withdrawal of 60, but {results.count(True)} succeeded: "
        "the check and the update must happen under the same lock"
    )
    assert account.balance == 40, f"expected 40 left, got {account.balance}"


def test_audits_overlap(exercise, watch):
    service = SimulatedService(0.05)
    account = exercise.Account(0, audit=lambda op, amount: service((op, amount)))
    returned(watch(in_threads, [lambda: account.deposit(1) for _ in range(10)]), "the deposits")
    assert service.peak_in_flight > 1, (
        "the 10 audits ran one at a time: is the lock held while audit runs? "
        "Call audit after the critical section"
    )
