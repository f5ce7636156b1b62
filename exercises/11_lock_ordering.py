"""Exercise 11 · Lock ordering: transfers without deadlock.

``transfer(src, dst, amount)`` moves money between two accounts. Each
``Account`` has its own ``lock``, so transfers between different accounts can
run at the same time. Below, a transfer locks ``src`` and then ``dst``. That
looks right, and it passes a quick try. But run ``transfer(a, b, 5)`` in one
thread and ``transfer(b, a, 7)`` in another:

    thread 1: holds a.lock, waits for b.lock
    thread 2: holds b.lock, waits for a.lock

Each waits for the other, forever: a *deadlock*. It needs four things at once:
locks held exclusively, held while waiting for another, never taken away, and
a *cycle* of threads each waiting for the next. Break any one and deadlock is
impossible. The classic cure breaks the cycle: every thread takes the locks it
needs in **one global order** (for example by account ``id``), whatever order
its arguments name them in. Then no thread can hold a "later" lock while
waiting for an "earlier" one.

The contract of ``transfer(src, dst, amount)`` (``amount`` is always a
positive int, account ids are distinct ints):

* ``src is dst`` raises ``ValueError``, before taking any lock.
* If ``src.balance < amount``, return ``False`` and change nothing.
* Otherwise move the money (``src`` loses ``amount``, ``dst`` gains it), then
  call ``src.audit()`` and ``dst.audit()``, which must see the moved balances,
  and return ``True``.
* Atomic: hold **both** accounts' locks while checking the balance, moving the
  money and running both audits. Release both locks before returning.
* Never deadlock, whatever order concurrent transfers name the accounts in.
  Any design that cannot deadlock is fine: one global lock order (the classic
  cure above), or *try-lock and back off*: take one lock, only *try* the
  other (``acquire(blocking=False)``, or with a ``timeout``), and if that
  fails, release **every** lock you hold, wait a short random moment and start
  again. Retrying while still holding the first lock is no back-off: two such
  transfers each wait for the other's lock forever, spinning (a *livelock*).
* Use only the accounts' own ``lock`` attributes, never a lock shared by every
  account: transfers between disjoint pairs of accounts must run in parallel.
  Don't replace ``account.lock``: the tests swap in *recording* locks, which
  report two transfers that take the same two locks in opposite orders, even
  in a run that happened not to deadlock. (A try that cannot wait forever is
  never reported.)

Is holding the locks through the slow audits not the opposite of exercise 4,
which kept its audit *outside* the lock? No: the rule is the same in both,
*hold a lock exactly while you touch what it guards, and no longer*. Exercise
4's audit only logged the operation and never looked at the balance, so it
had no business inside. This bank's audit *reads* the settled balances and
must see them before any other transfer can change them: it touches what the
locks guard, so it belongs inside. Nothing else does (the ``src is dst``
check, for one, comes before any lock).
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


def transfer(src: Account, dst: Account, amount: int) -> bool:
    """Move ``amount`` from ``src`` to ``dst``; False (and no change) if funds are short."""
    if src is dst:
        raise ValueError("cannot transfer from an account to itself")
    # TODO: these locks are taken in argument order, so transfer(a, b) and
    # transfer(b, a) can deadlock. Take them in one global order instead.
    with src.lock, dst.lock:
        if src.balance < amount:
            return False
        src.balance -= amount
        dst.balance += amount
        src.audit()
        dst.audit()
        return True
