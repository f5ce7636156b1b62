"""Exercise 11 · Lock ordering: transfers without deadlock (reference solution).

Both accounts' locks are taken in one global order, by account ``id``, whatever
the direction of the transfer: no two transfers can each hold the lock the
other one wants. The balance is checked, moved and audited under both locks.
"""

import threading
import time


class Account:
    """A bank account (given: do not change it)."""

    AUDIT_SECONDS = 0.01

    def __init__(self, id: int, balance: int = 0) -> None:
        self.id = id
        self.balance = balance
        self.lock = threading.Lock()

    def audit(self) -> None:
        """The bank's compliance check: slow, and it must see a locked, settled balance."""
        if self.balance < 0:  # pragma: no cover - only a wrong transfer gets here
            raise RuntimeError(f"account {self.id} is overdrawn: {self.balance}")
        time.sleep(self.AUDIT_SECONDS)


def lock_order(a: Account, b: Account) -> tuple[Account, Account]:
    """The two accounts in the one order every transfer locks them in."""
    return (a, b) if a.id < b.id else (b, a)


def transfer(src: Account, dst: Account, amount: int) -> bool:
    """Move ``amount`` from ``src`` to ``dst``; False (and no change) if funds are short."""
    if src is dst:
        raise ValueError("cannot transfer from an account to itself")
    first, second = lock_order(src, dst)
    with first.lock, second.lock:
        if src.balance < amount:
            return False
        src.balance -= amount
        dst.balance += amount
        src.audit()
        dst.audit()
        return True
