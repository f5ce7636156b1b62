"""Hostile: write deeply nested JSON and garbage to every descriptor and to the result file.

A line the grader parsed before checking its MAC would raise RecursionError in
the grading process and lose every exercise's results, the honest ones too.
"""

import contextlib
import fcntl
import os
import sys

DEEP = b"[" * 100_000 + b"]" * 100_000
NESTED = b'{"p": ' * 50_000 + b'"x"' + b"}" * 50_000
SIGNED_SHAPE = b"0" * 64 + b" " + DEEP  # looks like a signed line; its MAC cannot be right
OLD_SHAPE = b'{"p": "' + b"[" * 100_000 + b'", "mac": "00"}'  # the former wire format
GARBAGE = bytes(range(256)) * 16 + b"\xff\xfe\x00\x80" * 1024
# No newline at the end: the grader's next record would be torn, were it not preceded by one.
JUNK = b"\n".join([b"", DEEP, NESTED, SIGNED_SHAPE, OLD_SHAPE, GARBAGE, b'{"event": "resu'])
_flooded = 0


def _write_nonblocking(fd: int) -> None:
    """Never block on a pipe nobody drains (that would only be a hang)."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
    try:
        os.write(fd, JUNK)
    finally:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags)


def flood() -> None:
    paths = set()
    for fd in range(1024):
        with contextlib.suppress(OSError):
            paths.add(os.readlink(f"/proc/self/fd/{fd}"))
        with contextlib.suppress(OSError):
            _write_nonblocking(fd)
    if "--grader-results" in sys.argv:
        paths.add(sys.argv[sys.argv.index("--grader-results") + 1])
    for path in paths:
        if path.startswith("/") and not path.startswith(("/dev", "/proc")):
            with contextlib.suppress(OSError), open(path, "ab") as fh:
                fh.write(JUNK)


def fetch_all(urls, fetch):
    global _flooded
    if _flooded < 2:  # at import, and once more with the first records written
        _flooded += 1
        flood()
    return None


fetch_all(None, None)
