"""Visible tests for exercise 11, lock_ordering. The grade adds hidden tests.

The accounts here get *recording* locks (``grader.locks.recorder``): they note,
for every lock taken, which locks the thread already held. Two transfers that
take the same two locks in opposite orders are reported as a possible
deadlock, even when this run was lucky and did not deadlock.
"""

import threading

from grader.harness.checks import raised, returned
from grader.harness.lock_checks import check_hang, check_lock_order
from grader.locks.recorder import LockOrderRecorder


def make_accounts(exercise, recorder, *balances):
    accounts = []
    for i, balance in enumerate(balances, start=1):
        account = exercise.Account(i * 10, balance)
        account.lock = recorder.lock(f"account {account.id}'s lock")
        account.AUDIT_SECONDS = 0.001
        accounts.append(account)
    return accounts


def test_a_transfer_moves_the_money(exercise, watch):
    a, b = make_accounts(exercise, LockOrderRecorder(), 100, 20)
    got = returned(watch(exercise.transfer, a, b, 30), "transfer")
    assert got is True, f"transfer(a, b, 30) with enough funds should return True, got {got!r}"
    assert (a.balance, b.balance) == (70, 50), (
        f"after moving 30, expected balances 70 and 50, got {a.balance} and {b.balance}"
    )
    assert not a.lock.locked() and not b.lock.locked(), "both locks must be released at the end"


def test_short_funds_are_refused(exercise, watch):
    a, b = make_accounts(exercise, LockOrderRecorder(), 10, 0)
    got = returned(watch(exercise.transfer, a, b, 11), "transfer")
    assert got is False, f"moving 11 out of a balance of 10 should return False, got {got!r}"
    assert (a.balance, b.balance) == (10, 0), "a refused transfer must change nothing"


def test_a_transfer_to_the_same_account_is_an_error(exercise, watch):
    recorder = LockOrderRecorder()
    (a,) = make_accounts(exercise, recorder, 10)
    obs = watch(exercise.transfer, a, a, 5)
    check_hang(recorder, obs.hung, "transfer(a, a, 5)")
    error = raised(obs, "transfer(a, a, 5)")
    assert isinstance(error, ValueError), f"expected ValueError, got {type(error).__name__}"


def test_opposite_transfers_take_the_locks_in_one_order(exercise, watch):
    recorder = LockOrderRecorder()
    a, b = make_accounts(exercise, recorder, 50, 50)
    returned(watch(exercise.transfer, a, b, 5), "transfer(a, b, 5)")
    returned(watch(exercise.transfer, b, a, 5), "transfer(b, a, 5)")
    check_lock_order(recorder, "transfer")


def test_concurrent_transfers_conserve_money(exercise, watch):
    recorder = LockOrderRecorder()
    accounts = make_accounts(exercise, recorder, 30, 30, 30)

    def many_transfers():
        def work(k):
            for i in range(20):
                src, dst = accounts[(i + k) % 3], accounts[(i + 2 * k + 1) % 3]
                if src is not dst:
                    exercise.transfer(src, dst, 1 + (i * k) % 7)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    obs = watch(many_transfers)
    check_hang(recorder, obs.hung, "concurrent transfers")
    check_lock_order(recorder, "concurrent transfers")
    returned(obs, "concurrent transfers")
    total = sum(a.balance for a in accounts)
    assert total == 90, f"the total should stay 90, got {total}: money was created or lost"
    assert all(a.balance >= 0 for a in accounts), "an account went negative"


def test_the_audits_see_the_moved_balances(exercise, watch):
    a, b = make_accounts(exercise, LockOrderRecorder(), 100, 20)
    seen = []
    for account in (a, b):
        account.audit = lambda account=account: seen.append((account.id, account.balance))
    returned(watch(exercise.transfer, a, b, 30), "transfer")
    assert sorted(seen) == [(a.id, 70), (b.id, 50)], (
        f"each audit should see its account's balance after the move (70 and 50), saw {seen}"
    )
