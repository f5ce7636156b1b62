"""Hostile: pretend the sandbox could not be set up, so that the exercise is a grader error
(not the student's fault) instead of a failure: write the launcher's message, a malformed one
too, to every descriptor, then exit with the launcher's status."""

import contextlib
import os

LAUNCHER_FAILED = 121
MESSAGE = b"\nx grader-sandbox: \ngrader-sandbox: could not set up isolation: regrade me by hand\n"

for fd in range(1, 256):  # the grader's stderr file is one of these
    with contextlib.suppress(OSError):
        os.write(fd, MESSAGE)
os._exit(LAUNCHER_FAILED)


def fetch_all(urls, fetch):
    return None
