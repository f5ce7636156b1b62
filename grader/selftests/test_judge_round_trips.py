"""Round trips the judge saves: definitions read once, batches of calls, local call logs.

Each saving must keep the meaning of the thing it replaces: a definition rebound by the
judge, or a module loaded afresh, is read again; data is never kept; a batch reports each
call's value or exception as the calls one by one would; a call log keeps exactly its calls.
"""

from __future__ import annotations

import textwrap
import time
from functools import partial
from pathlib import Path

import pytest

from grader.grading.judge.subject import Subject
from grader.grading.judge.verdicts import SubjectDied
from grader.harness.calling import each
from grader.subject.local import CallLog, build
from grader.wire.codec import WireError
from grader.wire.raised import SubjectRaised

SOURCE = """
class Box:
    def __init__(self):
        self.n = 0

    def bump(self, by=1):
        self.n += by
        return self.n


def half(x):
    if x < 0:
        raise ValueError(f"negative: {x}")
    return x / 2


def other(x):
    return -x


LIMIT = 3
"""


def _module(tmp_path: Path) -> Path:
    path = tmp_path / "submission.py"
    path.write_text(textwrap.dedent(SOURCE), encoding="utf-8")
    return path


def _counting(subject: Subject) -> list[str]:
    sent: list[str] = []
    request = subject.request
    subject.request = lambda op, *args, **kwargs: (  # type: ignore[method-assign]
        sent.append(op) or request(op, *args, **kwargs)
    )
    return sent


def test_definitions_and_bound_methods_are_read_once_and_data_every_time(tmp_path):
    with Subject.start(_module(tmp_path), name="defs") as subject:
        sent = _counting(subject)
        module = subject.module
        assert module.half is module.half and sent == ["get"]  # a function: read once
        box = module.Box()
        assert box.bump is box.bump and box.bump() == 1
        assert box.n == 1 and box.n == 1  # data: read each time
        assert sent == ["get", "get", "call", "get", "call", "get", "get"]
        assert module.Box is module.Box and sent.count("get") == 5  # a class: read once
        assert module.LIMIT == 3 and module.LIMIT == 3 and sent[-2:] == ["get", "get"]


def test_a_definition_rebound_or_reloaded_is_read_again(tmp_path):
    path = _module(tmp_path)
    with Subject.start(path, name="defs") as subject:
        module = subject.module
        assert module.half(4) == 2
        module.half = module.other  # the judge rebinds it: the next read sees the new one
        assert module.half(4) == -4
        subject.load(path, "defs")  # a fresh module: its own functions
        assert subject.module.half(4) == 2
        released = subject.module.half
        subject.release(released)
        assert subject.module.half(6) == 3  # a released handle is not served again


def test_a_failed_subject_answers_a_kept_definition_with_its_verdict(tmp_path):
    with Subject.start(_module(tmp_path), name="defs") as subject:
        assert subject.module.half(2) == 1
        subject.child.kill()
        deadline = time.monotonic() + 10
        while subject.connection.failure is None and time.monotonic() < deadline:
            time.sleep(0.01)  # until the judge has seen the end
        with pytest.raises(SubjectDied):
            _ = subject.module.half


def test_each_reports_every_calls_value_or_exception_in_one_request(tmp_path):
    path = _module(tmp_path)
    with Subject.start(path, name="defs") as subject:
        half = subject.module.half
        sent = _counting(subject)
        outcomes = each(half, [(4,), (-1,), (3,)])
        assert sent == ["each"]
        assert [ok for ok, _ in outcomes] == [True, False, True]
        assert outcomes[0][1] == 2 and outcomes[2][1] == 1.5
        error = outcomes[1][1]
        assert isinstance(error, SubjectRaised) and isinstance(error, ValueError)
        assert "negative: -1" in str(error)
        assert each(half, []) == []
    namespace: dict = {}
    exec(textwrap.dedent(SOURCE), namespace)  # in-process: the same outcomes, call by call
    local = each(namespace["half"], [(4,), (-1,)])
    assert local[0] == (True, 2) and local[1][0] is False and isinstance(local[1][1], ValueError)


def test_each_refuses_a_batch_beyond_its_bound(tmp_path):
    with (
        Subject.start(_module(tmp_path), name="defs") as subject,
        pytest.raises(SubjectRaised, match="at most 1000"),
    ):
        each(subject.module.half, [(1,)] * 1001)


def test_a_lane_call_crosses_with_its_keywords_only_when_it_has_some(tmp_path):
    with Subject.start(_module(tmp_path), name="defs") as subject:
        box = subject.module.Box()
        lane = [box.bump, partial(box.bump, by=10), partial(box.bump, 5)]
        results, errors = subject.lanes([lane])
        assert errors == [None] and results == [[1, 11, 16]]


def test_a_call_log_keeps_exactly_its_calls():
    log = build({"type": "call log"})
    assert isinstance(log, CallLog) and log.calls() == []
    log("deposit", 5)
    log("withdraw", 7)
    log()
    assert log.calls() == [["deposit", 5], ["withdraw", 7], []]


@pytest.mark.parametrize("reply", [[[True, 1]], [[True, 1], 5], [[True, 1], [True]], "x"])
def test_a_batch_reply_of_the_wrong_shape_is_refused(tmp_path, reply):
    with Subject.start(_module(tmp_path), name="defs") as subject:
        half = subject.module.half
        subject.request = lambda *args, **kwargs: reply  # type: ignore[method-assign]
        with pytest.raises(WireError, match="one \\[ok, value\\] per call"):
            subject.each(half, [[1], [2]])
