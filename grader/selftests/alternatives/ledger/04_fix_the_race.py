"""Exercise 4, another correct style: a ledger of movements instead of a balance.

The balance is the sum of a list of movements. withdraw checks that sum and
appends its movement under one lock, so no other withdrawal can pass the check
in between; deposit only appends (still under the lock, as the contract asks of
every change). The writes are method calls, not stores: the grader's stress test
pauses before calls too, and this correct design must keep full marks there.
"""

import threading


class Account:
    def __init__(self, balance: int = 0, audit=None) -> None:
        if balance < 0:
            raise ValueError(f"the opening balance cannot be negative, got {balance}")
        self._moves = [balance]
        self._audit = audit
        self._lock = threading.Lock()

    @property
    def balance(self) -> int:
        with self._lock:
            return sum(self._moves)

    def deposit(self, amount: int) -> None:
        _check(amount)
        with self._lock:
            self._moves.append(amount)
        if self._audit is not None:
            self._audit("deposit", amount)

    def withdraw(self, amount: int) -> bool:
        _check(amount)
        with self._lock:
            if sum(self._moves) < amount:
                return False
            self._moves.append(-amount)
        if self._audit is not None:
            self._audit("withdraw", amount)
        return True


def _check(amount: int) -> None:
    if amount <= 0:
        raise ValueError(f"the amount must be positive, got {amount}")
