"""The judge's own verdicts on a subject process, from its clocks, the channel and waitpid.

None of them is ever built from what the child sends: a child cannot claim to have hung
or died, or pass its own exception off as one of these.
"""

from __future__ import annotations


class SubjectFailed(Exception):
    """The subject process cannot serve any more requests; the message says why."""

    def __init__(self, message: str, stderr_tail: str = "") -> None:
        super().__init__(message)
        self.stderr_tail = stderr_tail


class SubjectHung(SubjectFailed):
    """A request was not answered within the call timeout; the judge killed the subject."""

    def __init__(self, what: str, timeout: float, stderr_tail: str = "") -> None:
        super().__init__(f"{what} did not finish within {timeout:g}s", stderr_tail)
        self.what, self.timeout = what, timeout


class SubjectDied(SubjectFailed):
    """The subject closed the channel or ended; ``status`` is its exit status if known."""

    def __init__(self, status: int | None, stderr_tail: str = "") -> None:
        if status is None:
            message = "the student's process closed the channel"
        elif status < 0:
            message = f"the student's process was ended by signal {-status}"
        else:
            message = f"the student's process exited with status {status}"
        super().__init__(message, stderr_tail)
        self.status = status


class SubjectMisbehaved(SubjectFailed):
    """The subject sent something that breaks the protocol; the judge killed it."""
