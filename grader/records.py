"""The record stream between a pytest run and the grader: one JSON object per line.

The child process announces the plan (every test, with its exercise and
category) before any student code is imported, then a ``start`` and a
``result`` record per test. A test that started but has no result crashed or
hung the process; one that never started gets no score.

When the grader passes a key (``--grader-key-fd``), every record is
authenticated: each line is ``MAC PAYLOAD``, where ``MAC`` is the 64 hex
digits of HMAC-SHA256(key, PAYLOAD's exact bytes) and ``PAYLOAD`` is the
record as one line of ASCII JSON carrying a sequence number.
:func:`verified_records` checks each line's length and MAC over the raw bytes
*before* any JSON parsing, and keeps only records in sequence, so bytes written
to the result file by anything but the writer (a submission that prints fake
records, or writes deeply nested JSON or garbage to the file or its
descriptor) are ignored without being parsed. Even an authentic payload is
parsed only within a size and nesting bound (:func:`parse_bounded`). The key
is read from a pipe once and kept inside an OpenSSL HMAC object; it never
appears in ``argv``, the environment or a file. See the README's "Security
model" for what this does not defend against (code in the same process can
find the writer).
"""

from __future__ import annotations

import hmac
import itertools
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from grader.results import TestInfo

try:  # an OpenSSL HMAC object: immutable C type, the key is not reachable from Python
    from _hashlib import hmac_new as _hmac_new
except ImportError:  # pragma: no cover - Python built without OpenSSL
    _hmac_new = None

_dumps = json.dumps  # taken at import, before any student code runs
_loads = json.loads
_compare = hmac.compare_digest
KEY_BYTES = 32
MAX_RECORDS_BYTES = 16 * 2**20  # a flood of junk is cut off here
MAX_LINE_BYTES = 2**20  # a longer line is rejected unread (a plan is a few kB)
MAX_LINES = 10_000  # a run writes a few hundred records: the rest of a flood is not read
MAX_DEPTH = 16  # nesting of an accepted record (ours is at most 3 deep)
MAX_TEXT_CHARS = 64 * 1024  # a string field the writer shortens to keep its lines in bounds
_MAC_HEX = 64
_MAX_SIGNED_LINE = _MAC_HEX + 1 + MAX_LINE_BYTES
_HEX = frozenset(b"0123456789abcdef")
_LINE = re.compile(rb"[^\n]+")
_SPECIAL = re.compile(rb'[\[\]{}"\\]')  # the only bytes that matter to nesting
_OPEN, _CLOSE, _QUOTE, _BACKSLASH = frozenset(b"[{"), frozenset(b"]}"), ord('"'), ord("\\")


def _mac_object(key: bytes):
    if _hmac_new is not None:
        return _hmac_new(key, digestmod="sha256")
    return hmac.new(key, digestmod="sha256")  # pragma: no cover


def _sign(mac_object, payload: bytes) -> str:
    m = mac_object.copy()
    m.update(payload)
    return m.hexdigest()


def read_key(fd: int) -> bytes:
    """Read the record key from a pipe and close it."""
    chunks = b""
    try:
        while len(chunks) < KEY_BYTES:
            chunk = os.read(fd, KEY_BYTES - len(chunks))
            if not chunk:
                break
            chunks += chunk
    finally:
        os.close(fd)
    if len(chunks) != KEY_BYTES:
        raise RuntimeError("the grader's record key could not be read")
    return chunks


class RecordWriter:
    """Appends records to a file, flushing each one so a crash loses nothing.

    With ``key``, records are numbered and authenticated (see the module docstring).
    """

    def __init__(self, path: str | Path, key: bytes | None = None) -> None:
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives for the session
        self._done: set[str] = set()
        self._mac = _mac_object(key) if key is not None else None
        self._seq = 0

    def _write(self, **record: Any) -> None:
        if self._mac is None:
            line = _dumps(record)
        else:
            record["seq"] = self._seq
            self._seq += 1
            payload = _dumps(record, sort_keys=True)  # ASCII: its bytes are its characters
            # The leading newline ends any partial line written to the file by someone else.
            line = f"\n{_sign(self._mac, payload.encode())} {payload}"
        self._fh.write(line + "\n")
        self._fh.flush()

    def meta(self, **fields: Any) -> None:
        self._write(event="meta", **fields)

    def plan(self, tests: list[TestInfo]) -> None:
        self._write(event="plan", tests=[asdict(t) for t in tests])

    def start(self, nodeid: str) -> None:
        self._write(event="start", nodeid=nodeid)

    def done(self, nodeid: str) -> bool:
        return nodeid in self._done

    def result(
        self,
        nodeid: str,
        outcome: str,
        diagnosis: str,
        duration: float,
        ratio: float | None = None,
    ) -> None:
        self._done.add(nodeid)
        self._write(
            event="result",
            nodeid=nodeid,
            outcome=outcome,
            diagnosis=diagnosis[:MAX_TEXT_CHARS],
            duration=duration,
            ratio=ratio,
        )

    def end(self) -> None:
        """The session finished: the last result is confirmed (see :mod:`grader.grading.runner`)."""
        self._write(event="end")

    def close(self) -> None:
        self._fh.close()


def _read_bounded(path: str | Path, limit: int = MAX_RECORDS_BYTES) -> bytes:
    """At most ``limit`` bytes of a regular file (never a FIFO, device or symlink); b"" if none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return b""
    chunks: list[bytes] = []
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            left = limit
            while left > 0:
                chunk = os.read(fd, min(left, 2**20))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
    except OSError:
        pass
    finally:
        os.close(fd)
    return b"".join(chunks)


def _lines(path: str | Path) -> Iterator[bytes]:
    """The file's non-empty lines as raw bytes, at most ``MAX_LINES`` of them, one at a time.

    A flood of junk lines is cut off cheaply (the scan for lines runs in C), and a
    line too long to be a record is cut to a length that is still too long.
    """
    data = _read_bounded(path)
    for match in itertools.islice(_LINE.finditer(data), MAX_LINES):
        start, end = match.span()
        yield data[start : min(end, start + _MAX_SIGNED_LINE + 1)]


def deeper_than(payload: bytes, limit: int) -> bool:
    """Whether ``[``/``{`` nest more than ``limit`` deep in JSON text (strings aside).

    A loop over the brackets, quotes and backslashes only: no recursion, linear
    time, and it stops at the first level too deep.
    """
    depth, in_string, escaped = 0, False, -1
    for match in _SPECIAL.finditer(payload):
        pos = match.start()
        if pos == escaped:
            continue
        byte = payload[pos]
        if in_string:
            if byte == _BACKSLASH:
                escaped = pos + 1
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif byte in _CLOSE:
            depth -= 1
    return False


def parse_bounded(payload: bytes) -> dict[str, Any] | None:
    """The JSON object in ``payload``, or None: too long, too deep, not JSON or not an object.

    Never raises: the size and depth are checked without recursion before
    ``json.loads`` runs, and anything it still raises is a rejection.
    """
    if len(payload) > MAX_LINE_BYTES or deeper_than(payload, MAX_DEPTH):
        return None
    try:
        record = _loads(payload)
    except (ValueError, RecursionError, MemoryError, TypeError, OverflowError):
        return None
    return record if isinstance(record, dict) else None


def _split_signed(line: bytes) -> tuple[bytes, bytes] | None:
    """``(mac, payload)`` of a line shaped ``MAC PAYLOAD`` (64 lowercase hex digits), or None."""
    if len(line) > _MAX_SIGNED_LINE or line[_MAC_HEX : _MAC_HEX + 1] != b" ":
        return None
    mac = line[:_MAC_HEX]
    if not _HEX.issuperset(mac):
        return None
    return mac, line[_MAC_HEX + 1 :]


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Every record in the file, authenticated or not, without checking any MAC.

    For tools that run pytest with the plugin themselves (the self-check); use
    :func:`verified_records` wherever a score depends on the records. Bounded
    like it: a long, deep or malformed line, or an object without an ``event``,
    is skipped, never raised.
    """
    records = []
    for line in _lines(path):
        signed = _split_signed(line)
        record = parse_bounded(signed[1] if signed else line)
        if record is not None and isinstance(record.get("event"), str):
            records.append(record)
    return records


def verified_records(path: str | Path, key: bytes) -> tuple[list[dict[str, Any]], int]:
    """The authentic records, in order, and how many non-empty lines were rejected.

    A line is kept only if it is short enough, its MAC over the payload's raw
    bytes is valid under ``key`` and its sequence number is the next one
    expected: forged, replayed, reordered or duplicated records are dropped.
    Nothing is parsed before its MAC is checked, and nothing here raises.
    """
    mac_object = _mac_object(key)
    kept: list[dict[str, Any]] = []
    rejected = 0
    for line in _lines(path):
        signed = _split_signed(line)
        if signed is None or not _compare(_sign(mac_object, signed[1]).encode(), signed[0]):
            rejected += 1
            continue
        record = parse_bounded(signed[1])
        if record is None or record.get("seq") != len(kept):
            rejected += 1
            continue
        kept.append(record)
    return kept, rejected
