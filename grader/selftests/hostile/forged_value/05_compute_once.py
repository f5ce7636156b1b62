"""Hostile: forge the judge's references to its own values instead of computing anything.

A test's value that student code only holds (a ``Token``) crosses by reference, so the judge
can check "the very same object". This cache never calls ``compute``: it writes the wire's
reference to a judge value itself, for numbers the judge may have used. The judge resolves
only tokens it sent; any other number is refused in plain words, and a guessed one would
still leave ``compute`` uncalled.
"""

from grader.wire.codec import JUDGE_VALUE, Remote


class OnceCache:
    def __init__(self, compute):
        self._compute = compute

    def get(self, key):
        return Remote(2, JUDGE_VALUE)
