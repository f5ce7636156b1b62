"""The judge's own verdicts on a subject process, from its clocks, the channel and waitpid.

None of them is ever built from what the child sends: a child cannot claim to have hung
or died, or pass its own exception off as one of these.
"""

from __future__ import annotations


class SubjectFailed(BaseException):
    """The subject process cannot serve any more requests; the message says why.

    A ``BaseException``, so that no test's ``except Exception`` takes it for the student's
    exception: it fails the test as it is, its message the diagnosis (``diagnosis_is_message``,
    read by :func:`grader.harness.diagnosis.diagnose`).
    """

    diagnosis_is_message = True

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
            message = "the process running your code closed its channel to the grader"
        elif status < 0:
            message = f"the process running your code exited/crashed (killed by signal {-status})"
        else:
            message = f"the process running your code exited/crashed (exit status {status})"
        super().__init__(message, stderr_tail)
        self.status = status


class SubjectMisbehaved(SubjectFailed):
    """The subject sent something that breaks the protocol; the judge killed it."""

    def __init__(self, detail: str, stderr_tail: str = "") -> None:
        message = f"the process running your code broke its channel to the grader: it sent {detail}"
        super().__init__(message, stderr_tail)


class SubjectNeverStarted(SubjectFailed):
    """The subject process ended or stalled before its hello: no student code had run yet
    (the module loads only after it), so this is the machine's or the sandbox's fault. The
    launcher's own last line, if any, says why."""

    def __init__(self, detail: str, stderr_tail: str = "") -> None:
        lines = [x for x in stderr_tail.splitlines() if x.startswith("grader-sandbox: ")]
        why = lines[-1].removeprefix("grader-sandbox: ")[:300] if lines else detail
        super().__init__(f"the sandbox could not start the process for your code ({why})",
                         stderr_tail)  # fmt: skip
