"""Turn a test failure into one plain-words line that never quotes test source.

Hidden tests fail with messages written for students ("results are in
completion order, not url order"). A bare ``assert`` without a message would
make pytest print the hidden test's source; such a failure is replaced by a
neutral line instead, and the self-check forbids message-less asserts.
"""

from __future__ import annotations

from grader.amplifier import AmplifierInactive

GRADER_FAULT = "grader fault"


def first_line(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def diagnose(exc: BaseException, limit: int = 300) -> str:
    """One line describing why a test failed."""
    if isinstance(exc, AmplifierInactive):
        return f"{GRADER_FAULT}: {first_line(str(exc), limit)}"
    message = first_line(str(exc), limit)
    if getattr(type(exc), "diagnosis_is_message", False) is True:  # the judge's own verdicts
        return message
    if isinstance(exc, AssertionError):
        if not message or message.startswith("assert "):
            return "a hidden check failed (no description available)"
        return message
    if type(exc).__name__ == "Failed":  # pytest.fail(...)
        return message or "failed"
    if isinstance(exc, RuntimeError) and _out_of_threads(message):
        return (
            "could not start a thread: the process ran out of memory or threads "
            f"(does your code start too many threads or hold too much memory?) [{message}]"
        )
    # Anything else escaped from the student's code or from a broken test.
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def is_grader_fault(exc: BaseException) -> bool:
    return isinstance(exc, AmplifierInactive)


def _out_of_threads(message: str) -> bool:
    return "can't start new thread" in message or "can't create new thread" in message
