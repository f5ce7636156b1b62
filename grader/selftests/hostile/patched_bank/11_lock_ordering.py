"""Hostile: neutralise the hidden tests' checks, and take no lock at all.

In-process, the hidden test module and its ``Bank`` sit in ``sys.modules`` while student code
runs: replacing their ``check_*`` helpers and ``fail`` with no-ops lets a transfer that never
locks anything pass the audit, ledger and lock-order checks (run in-process, it passes 6 of
the 9 tests). In the judge's split there is nothing of the tests here to patch: the judge's
audit asks the recorder which locks the calling thread holds, and it holds none.
"""

import sys


def _neutralise():
    for module in list(sys.modules.values()):
        names = getattr(module, "__dict__", {})
        if "check_run" not in names:
            continue
        for name in list(names):
            if name.startswith("check_") or name == "fail":
                setattr(module, name, lambda *args, **kwargs: None)
        bank = names.get("Bank")
        for name in list(getattr(bank, "__dict__", {})):
            if name.startswith("check_"):
                setattr(bank, name, lambda *args, **kwargs: None)


class Account:
    def __init__(self, id, balance=0):
        import threading

        self.id = id
        self.balance = balance
        self.lock = threading.Lock()

    def audit(self):
        pass


def transfer(src, dst, amount):
    _neutralise()
    if src is dst:
        raise ValueError("a transfer needs two different accounts")
    if src.balance < amount:
        return False
    src.balance -= amount
    dst.balance += amount
    src.audit()
    dst.audit()
    return True
