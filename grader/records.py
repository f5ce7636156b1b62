"""The record stream between a pytest run and the grader: one JSON object per line.

The child process announces the plan (every test, with its exercise and
category) before any student code is imported, then a ``start`` and a
``result`` record per test. A test that started but has no result crashed or
hung the process; one that never started gets no score.

When the grader passes a key (``--grader-key-fd``), every record is
authenticated: each line is ``{"p": PAYLOAD, "mac": HMAC-SHA256(key, PAYLOAD)}``
where the payload carries a sequence number. :func:`verified_records` keeps
only records with a valid MAC, in sequence, so bytes written to the result
file by anything but the writer (a submission that prints fake records, or
writes to the file or its descriptor) are ignored. The key is read from a pipe
once and kept inside an OpenSSL HMAC object; it never appears in ``argv``, the
environment or a file. See the README's "Security model" for what this does
not defend against (code in the same process can find the writer).
"""

from __future__ import annotations

import hmac
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

try:  # an OpenSSL HMAC object: immutable C type, the key is not reachable from Python
    from _hashlib import hmac_new as _hmac_new
except ImportError:  # pragma: no cover - Python built without OpenSSL
    _hmac_new = None

_dumps = json.dumps  # taken at import, before any student code runs
_loads = json.loads
_compare = hmac.compare_digest
KEY_BYTES = 32
MAX_RECORDS_BYTES = 16 * 2**20  # a flood of junk is cut off here


def _mac_object(key: bytes):
    if _hmac_new is not None:
        return _hmac_new(key, digestmod="sha256")
    return hmac.new(key, digestmod="sha256")  # pragma: no cover


def _sign(mac_object, payload: str) -> str:
    m = mac_object.copy()
    m.update(payload.encode())
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


@dataclass(frozen=True)
class TestInfo:
    nodeid: str
    exercise: str | None
    category: str | None
    weight: float
    title: str


@dataclass
class TestResult:
    info: TestInfo
    outcome: str  # passed | failed | error | ungradable | missing
    diagnosis: str
    duration: float = 0.0
    ratio: float | None = None  # wall time ÷ ideal, for timing tests


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
            payload = _dumps(record, sort_keys=True)
            line = _dumps({"p": payload, "mac": _sign(self._mac, payload)})
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
            diagnosis=diagnosis,
            duration=duration,
            ratio=ratio,
        )

    def end(self) -> None:
        """The session finished: the last result is confirmed (see :mod:`grader.runner`)."""
        self._write(event="end")

    def close(self) -> None:
        self._fh.close()


def _lines(path: str | Path) -> list[str]:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_RECORDS_BYTES)
    except FileNotFoundError:
        return []
    return data.decode("utf-8", errors="replace").splitlines()


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Every complete record in the file; a torn last line (crash mid-write) is ignored.

    Authenticated lines are unwrapped without checking their MAC: use
    :func:`verified_records` wherever a score depends on the records.
    """
    records = []
    for line in _lines(path):
        try:
            record = _loads(line)
            if isinstance(record, dict) and set(record) == {"p", "mac"}:
                record = _loads(record["p"])
        except (json.JSONDecodeError, TypeError):
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def verified_records(path: str | Path, key: bytes) -> tuple[list[dict[str, Any]], int]:
    """The authentic records, in order, and how many lines were rejected.

    A line is kept only if its MAC is valid under ``key`` and its sequence
    number is the next one expected: forged, replayed, reordered or
    duplicated records are dropped.
    """
    mac_object = _mac_object(key)
    kept: list[dict[str, Any]] = []
    rejected = 0
    for line in _lines(path):
        try:
            outer = _loads(line)
            payload, mac = outer["p"], outer["mac"]
            if not (isinstance(payload, str) and isinstance(mac, str)):
                raise TypeError
            if not _compare(_sign(mac_object, payload), mac):
                raise ValueError
            record = _loads(payload)
            if record.get("seq") != len(kept):
                raise ValueError
        except (json.JSONDecodeError, TypeError, ValueError, KeyError, AttributeError):
            rejected += 1
            continue
        kept.append(record)
    return kept, rejected
