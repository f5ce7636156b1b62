"""Hostile: neutralise the hidden tests' checks, and keep the check-then-act race.

In-process, the hidden test module sits in ``sys.modules`` while student code runs: replacing
its ``check_*`` helpers and ``fail`` with no-ops lets a cache with no lock at all pass the
amplified stress tests, which would otherwise see one key computed twice and two callers
holding different objects (run in-process, it earns them). In the judge's split there is no
test module here to patch: the judge counts the computes itself and compares the values
by identity.
"""

import sys


def _neutralise():
    for module in list(sys.modules.values()):
        names = getattr(module, "__dict__", {})
        if "check_values" in names:
            for name in list(names):
                if name.startswith("check_") or name == "fail":
                    setattr(module, name, lambda *args, **kwargs: None)


class OnceCache:
    def __init__(self, compute):
        _neutralise()
        self._compute = compute
        self._values = {}

    def get(self, key):
        if key not in self._values:
            self._values[key] = self._compute(key)
        return self._values[key]
