"""The record stream: authenticated before it is parsed, bounded, and never raising on any bytes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from grader import records
from grader.records import RecordWriter, read_records, verified_records
from grader.results import TestInfo as Info

KEY = b"k" * 32
INFO = Info("t.py::test_0", "wait_for_all", "correctness", 1.0, "t0")
DEEP = b"[" * 100_000 + b"]" * 100_000
HOSTILE_LINES = [
    DEEP,  # a RecursionError for json.loads
    b'{"p": ' * 50_000 + b'"x"' + b"}" * 50_000,
    b"0" * 64 + b" " + DEEP,  # a signed line's shape, a wrong MAC
    b'{"p": "' + b"[" * 100_000 + b'", "mac": "00"}',  # the former wire format
    b"a" * (records.MAX_LINE_BYTES + 100),  # too long
    os.urandom(4096).replace(b"\n", b" "),  # garbage
    b"\xff\xfe\x00" * 1000,
    b"",
]


def write(path: Path, key: bytes | None = KEY, steps=()) -> None:
    writer = RecordWriter(path, key=key)
    writer.meta(seed=1)
    writer.plan([INFO])
    for step in steps:
        step(writer)
    writer.close()


def payloads(data: bytes) -> set[bytes]:
    """The payloads of the writer's lines in ``data`` (written by it alone)."""
    return {line.split(b" ", 1)[1] for line in data.splitlines() if line}


@pytest.fixture
def guarded_loads(monkeypatch):
    """json.loads that fails the test when called on anything but a payload we allow."""
    allowed: set[bytes] = set()
    real = records._loads

    def loads(payload):
        assert payload in allowed, f"parsed before authentication: {bytes(payload)[:60]!r}"
        return real(payload)

    monkeypatch.setattr(records, "_loads", loads)
    return allowed


def test_lines_are_a_mac_and_the_payload_it_covers(tmp_path):
    path = tmp_path / "r.jsonl"
    write(path)
    lines = [line for line in path.read_bytes().splitlines() if line]
    assert len(lines) == 2
    for line in lines:
        mac, payload = line.split(b" ", 1)
        assert len(mac) == 64 and json.loads(payload)["seq"] in (0, 1)
    assert [r["event"] for r in verified_records(path, KEY)[0]] == ["meta", "plan"]
    assert verified_records(path, b"x" * 32) == ([], 2)  # another key: nothing is authentic


def test_hostile_lines_are_rejected_unparsed_and_authentic_ones_survive(tmp_path, guarded_loads):
    path = tmp_path / "r.jsonl"
    write(path)
    with open(path, "ab") as fh:  # junk, then a torn line right before the next real record
        fh.write(b"\n".join(HOSTILE_LINES) + b'\n{"event": "resu')
    writer = RecordWriter(path, key=KEY)
    writer._seq = 2
    writer.start("t.py::test_0")
    writer.close()
    guarded_loads.update(_authentic_payloads(path))
    kept, rejected = verified_records(path, KEY)
    assert [r["event"] for r in kept] == ["meta", "plan", "start"]
    assert rejected == len([x for x in HOSTILE_LINES if x]) + 1  # and the torn line


def _authentic_payloads(path: Path) -> list[bytes]:
    """Payloads of the lines with a valid MAC under KEY (the writer's)."""
    mac_object = records._mac_object(KEY)
    out = []
    for line in path.read_bytes().split(b"\n"):
        mac, _, payload = line.partition(b" ")
        if records._sign(mac_object, payload).encode() == mac:
            out.append(payload)
    return out


def test_forged_and_replayed_lines_are_never_parsed(tmp_path, guarded_loads):
    path = tmp_path / "r.jsonl"
    write(path, steps=[lambda w: w.start("t.py::test_0")])
    genuine = path.read_bytes()
    guarded_loads.update(payloads(genuine))
    last = genuine.rstrip(b"\n").rsplit(b"\n", 1)[1]
    forged_payload = json.dumps({"event": "result", "nodeid": "t.py::test_0", "seq": 3}).encode()
    other_key = records._sign(records._mac_object(b"x" * 32), forged_payload).encode()
    with open(path, "ab") as fh:
        fh.write(other_key + b" " + forged_payload + b"\n")  # signed with another key
        fh.write(b"f" * 64 + b" " + forged_payload + b"\n")  # a made-up MAC
        fh.write(last + b"\n")  # a replay: authentic, out of sequence
    kept, rejected = verified_records(path, KEY)
    assert [r["event"] for r in kept] == ["meta", "plan", "start"]
    assert rejected == 3


def test_an_authentic_payload_too_deep_or_too_long_is_refused_before_parsing(
    tmp_path, guarded_loads
):
    mac_object = records._mac_object(KEY)
    deep = b'{"event": "meta", "seq": 0, "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    long = b'{"event": "meta", "seq": 0, "x": "' + b"a" * records.MAX_LINE_BYTES + b'"}'
    path = tmp_path / "r.jsonl"
    for payload in (deep, long):
        path.write_bytes(records._sign(mac_object, payload).encode() + b" " + payload + b"\n")
        assert verified_records(path, KEY) == ([], 1)  # guarded_loads allows nothing


def test_nothing_raises_on_any_bytes(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(b"\n".join(HOSTILE_LINES) + b"\n" + os.urandom(2**16))
    assert verified_records(path, KEY)[0] == []
    assert read_records(path) == []
    os.mkfifo(fifo := tmp_path / "fifo")  # nobody writes it: reading must not block
    assert verified_records(fifo, KEY) == ([], 0) and read_records(fifo) == []
    (tmp_path / "link").symlink_to(path)
    assert verified_records(tmp_path / "link", KEY) == ([], 0)
    assert verified_records(tmp_path / "missing", KEY) == ([], 0)


def test_a_flood_of_lines_is_cut_off(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(b"x\n" * (records.MAX_LINES + 10))
    write(path)
    kept, rejected = verified_records(path, KEY)
    assert kept == [] and rejected == records.MAX_LINES


def test_read_records_unwraps_signed_and_plain_lines_without_raising(tmp_path):
    signed, plain = tmp_path / "s.jsonl", tmp_path / "p.jsonl"
    write(signed, steps=[lambda w: w.start("t.py::test_0")])
    write(plain, key=None, steps=[lambda w: w.result("t.py::test_0", "passed", "", 0.1)])
    for path in (signed, plain):
        with open(path, "ab") as fh:
            fh.write(b"\n".join(HOSTILE_LINES) + b"\n")
    assert [r["event"] for r in read_records(signed)] == ["meta", "plan", "start"]
    assert [r["event"] for r in read_records(plain)] == ["meta", "plan", "result"]
    assert json.loads(plain.read_bytes().splitlines()[0])["event"] == "meta"  # plain JSON lines


def test_the_writer_bounds_its_own_lines(tmp_path):
    path = tmp_path / "r.jsonl"
    write(path, steps=[lambda w: w.result("t.py::test_0", "failed", "\udcff" * 10**6, 0.1)])
    kept, rejected = verified_records(path, KEY)
    assert rejected == 0 and len(kept[-1]["diagnosis"]) == records.MAX_TEXT_CHARS


@pytest.mark.parametrize(
    ("text", "deeper"),
    [
        (b'{"a": [1, {"b": [2]}]}', False),
        (b'{"a": "[[[[[[[[[["}', False),  # brackets in a string
        (b'{"a": "\\"[[[[[[[[[[["}', False),  # after an escaped quote, still in the string
        (b'{"a": "\\\\", "b": [[[[[[[[[[]]]]]]]]]]}', True),  # an escaped backslash ends it
        (b"[" * 9, True),
        (b"[" * 8 + b"]" * 8, False),
    ],
)
def test_depth_is_measured_outside_strings(text, deeper):
    assert records.deeper_than(text, 8) is deeper
