"""Hostile: skip every test from code that claims to be the standard library's, so the
grader's "raised by the submission" check (by file name) misses it and the tests become
"ungradable", leaving the maximum at nothing answered. In the judge, a skip raised in the
subject is only the description of an exception: the test fails."""

import threading

from _pytest.outcomes import Skipped

_SKIP = compile(
    "def skip(*args, **kwargs):\n    raise Skipped('this machine cannot measure it')\n",
    threading.__file__,
    "exec",
)
_space = {"Skipped": Skipped}
exec(_SKIP, _space)
skip = _space["skip"]

speedup = max_speedup = serial_fraction_from = workers_needed = skip
