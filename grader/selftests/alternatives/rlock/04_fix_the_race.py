"""Exercise 4, another correct style: a re-entrant lock and one guarded helper.

Every change of the balance goes through ``_try_change``, which checks and
updates under an ``RLock`` (re-entrant, so the guarded ``balance`` property
can be used inside it). The audit runs after ``_try_change`` has returned.
"""

import threading


class Account:
    def __init__(self, balance=0, audit=None):
        if balance < 0:
            raise ValueError("negative opening balance")
        self._guard = threading.RLock()
        self._balance = balance
        self._audit = audit or (lambda op, amount: None)

    @property
    def balance(self):
        with self._guard:
            return self._balance

    def _try_change(self, delta):
        with self._guard:
            if self.balance + delta < 0:
                return False
            self._balance = self.balance + delta
            return True

    def deposit(self, amount):
        if amount <= 0:
            raise ValueError("amount must be positive")
        self._try_change(amount)
        self._audit("deposit", amount)

    def withdraw(self, amount):
        if amount <= 0:
            raise ValueError("amount must be positive")
        if not self._try_change(-amount):
            return False
        self._audit("withdraw", amount)
        return True
