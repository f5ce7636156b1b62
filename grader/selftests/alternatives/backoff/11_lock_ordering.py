"""Exercise 11, another style: try-lock and back off instead of a global lock order.

Take the source's lock (waiting), then only *try* the destination's lock. If it
is busy, release everything, wait a random moment and start again: a thread
never waits while holding a lock, so no cycle of waiting threads can form.
"""

import random
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


def transfer(src: Account, dst: Account, amount: int) -> bool:
    """Move ``amount`` from ``src`` to ``dst``; False (and no change) if funds are short."""
    if src is dst:
        raise ValueError("cannot transfer from an account to itself")
    while True:
        src.lock.acquire()
        try:
            if dst.lock.acquire(blocking=False):
                try:
                    if src.balance < amount:
                        return False
                    src.balance -= amount
                    dst.balance += amount
                    src.audit()
                    dst.audit()
                    return True
                finally:
                    dst.lock.release()
        finally:
            src.lock.release()
        time.sleep(random.uniform(0, 0.002))  # back off, so the other transfer can finish
