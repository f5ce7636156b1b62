"""Exercise 4 · Fix the race: lost updates and the critical section.

``Account`` is a bank account shared by many threads. The code below is
correct when one thread uses it, and wrong when several do.

``self._balance += amount`` looks like one step but is three: read the
balance, add, write it back. If another thread runs between the read and the
write, both threads write a balance computed from the same old value, and one
deposit vanishes: a *lost update*. ``withdraw`` has the same flaw in another
shape, *check-then-act*: two threads can both see enough money, then both
take it, and the balance goes negative. Compound operations are not atomic.

Under CPython's GIL these races are rare, so the code usually "works" (a
free-threaded Python, or a slower machine, makes them common). Run the tests
with ``--race`` to see them: the race amplifier forces a thread switch right
before every write in your code.

The cure is a *critical section*: a ``threading.Lock`` that every thread
holds while it reads and updates the balance, so that the read, the check and
the write happen as one step. Keep the critical section small: work that
does not touch the balance (here, the slow ``audit`` call) must run outside
it, or every thread waits for every other thread's audit.

The contract:

* ``Account(balance=0, audit=None)``: the opening ``balance`` is an ``int``,
  0 or more (a negative one raises ``ValueError``). ``audit``, if given, is a
  slow callable (think of a write to a remote audit log).
* ``balance`` (a read-only property) is the current balance.
* ``deposit(amount)`` adds ``amount``.
* ``withdraw(amount)`` removes ``amount`` and returns ``True`` if the balance
  is at least ``amount``; otherwise it changes nothing and returns ``False``.
  The balance never goes negative.
* An ``amount`` of 0 or less raises ``ValueError`` (in both methods), and
  changes nothing.
* After each *successful* operation, and only then, ``audit(op, amount)`` is
  called once, with ``op`` equal to ``"deposit"`` or ``"withdraw"``. It is
  called after the balance has changed and *outside* the critical section, so
  that audits of different threads overlap. If ``audit`` raises, the
  exception reaches the caller and the change stands (it has happened).
* Any number of threads may call ``deposit``, ``withdraw`` and ``balance`` at
  the same time: no update is ever lost, and the money withdrawn is exactly
  what the successful withdrawals asked for.
"""

from collections.abc import Callable

Audit = Callable[[str, int], None]


class Account:
    """A balance shared by many threads; ``audit`` logs each successful operation."""

    def __init__(self, balance: int = 0, audit: Audit | None = None) -> None:
        if balance < 0:
            raise ValueError(f"the opening balance cannot be negative, got {balance}")
        self._balance = balance
        self._audit = audit
        # TODO: create the lock that guards self._balance.

    @property
    def balance(self) -> int:
        return self._balance

    def deposit(self, amount: int) -> None:
        """Add ``amount``; then audit the deposit."""
        check_positive(amount)
        # TODO: read-add-write is not atomic; make it a critical section.
        self._balance += amount
        self._log("deposit", amount)

    def withdraw(self, amount: int) -> bool:
        """Remove ``amount`` if the balance allows it; then audit the withdrawal."""
        check_positive(amount)
        # TODO: check-then-act is not atomic either: the check and the update
        # must happen inside the same critical section.
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
