"""Exercise 4 · Fix the race: lost updates and the critical section (reference solution).

One lock, created with the account, guards ``_balance``. Every
read-modify-write (and withdraw's check together with its update) happens
while holding it; the slow ``audit`` runs after the lock is released, so
audits of different threads overlap.
"""

import threading
from collections.abc import Callable

Audit = Callable[[str, int], None]


class Account:
    """A balance shared by many threads; ``audit`` logs each successful operation."""

    def __init__(self, balance: int = 0, audit: Audit | None = None) -> None:
        if balance < 0:
            raise ValueError(f"the opening balance cannot be negative, got {balance}")
        self._balance = balance
        self._audit = audit
        self._lock = threading.Lock()

    @property
    def balance(self) -> int:
        return self._balance

    def deposit(self, amount: int) -> None:
        """Add ``amount``; then audit the deposit."""
        check_positive(amount)
        with self._lock:
            self._balance += amount
        self._log("deposit", amount)

    def withdraw(self, amount: int) -> bool:
        """Remove ``amount`` if the balance allows it; then audit the withdrawal."""
        check_positive(amount)
        with self._lock:
            if self._balance < amount:
                return False
            self._balance -= amount
        self._log("withdraw", amount)
        return True

    def _log(self, op: str, amount: int) -> None:
        if self._audit is not None:
            self._audit(op, amount)


def check_positive(amount: int) -> None:
    if amount <= 0:
        raise ValueError(f"the amount must be positive, got {amount}")
