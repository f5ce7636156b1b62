"""Exceptions described in the subject without running student code, and raised in the judge."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pytest

from grader.wire.codec import Bounds, ExceptionInfo, WireError, decode, encode
from grader.wire.errors import (
    CHAIN_CUT,
    MAX_DESCRIBED,
    MAX_MEMBERS,
    UNREADABLE,
    describe,
)
from grader.wire.raised import SubjectRaised, raise_in_judge

RAN: list[str] = []  # every hostile method says here that it ran, then fails or lies


class Ran(Exception):
    """What a hostile method raises after saying so in RAN."""


def _chained(cause: BaseException | None, context: BaseException | None, exc: BaseException):
    exc.__cause__, exc.__context__ = cause, context
    return exc


def height(info: ExceptionInfo | None) -> int:
    if info is None:
        return 0
    chained = [info.cause, info.context, *info.members]
    return 1 + max(map(height, chained), default=0)


def described(info: ExceptionInfo) -> int:
    chained = [e for e in (info.cause, info.context, *info.members) if e is not None]
    return 1 + sum(map(described, chained))


def round_trip(info: ExceptionInfo) -> ExceptionInfo:
    back = decode(encode({"op": "raised", "error": [info]}))
    assert isinstance(back, dict)
    return back["error"][0]


def test_a_plain_value_error_is_described_as_str_would_show_it():
    for exc in [ValueError("bad"), ValueError(), ValueError("a", 2, None), KeyError("k")]:
        info = describe(exc)
        assert (info.type_name, info.module, info.message) == (
            type(exc).__name__,
            "builtins",
            str(exc),
        )
        assert info.bases[0] == f"builtins.{type(exc).__name__}"
        assert info.bases[-1] == "builtins.BaseException"
        assert (info.cause, info.context, info.members, info.tag, info.notes) == (
            None,
            None,
            (),
            None,
            (),
        )


def test_os_errors_and_groups_keep_their_own_messages():
    for exc in [FileNotFoundError(2, "No such file", "/x"), ExceptionGroup("g", [ValueError(1)])]:
        assert describe(exc).message == str(exc)


def test_notes_are_kept_and_bounded():
    exc = ValueError("bad")
    exc.add_note("first")
    exc.add_note("x" * 10_000)
    info = describe(exc)
    assert info.notes[0] == "first" and len(info.notes) == 2
    assert len(info.notes[1]) < 10_000 and info.notes[1].endswith("truncated]")


def test_notes_that_are_not_a_list_of_str_are_not_read():
    exc = ValueError("bad")
    exc.__notes__ = ("a tuple",)  # type: ignore[assignment]
    assert describe(exc).notes == ()


def test_a_chain_keeps_its_cause_and_context():
    try:
        try:
            raise KeyError("k")
        except KeyError as key:
            raise ValueError("v") from key
    except ValueError as caught:
        info = describe(caught)
    assert info.cause is not None and info.cause.type_name == "KeyError"
    assert info.context == info.cause and info.cause.message == "'k'"


def test_a_cycle_ends_where_it_comes_back():
    a, b = ValueError("a"), TypeError("b")
    a.__context__, b.__context__ = b, a
    info = describe(a)
    assert info.context is not None and info.context.message == "b"
    assert info.context.context is None and CHAIN_CUT not in info.context.notes


def test_a_deep_chain_is_cut_with_a_note():
    exc: BaseException = ValueError("0")
    for level in range(1, 101):
        exc = _chained(exc, None, ValueError(str(level)))
    info = describe(exc)
    assert height(info) == 9 and info.message == "100"
    deepest = info
    while deepest.cause is not None:
        deepest = deepest.cause
    assert deepest.message == "92" and deepest.notes == (CHAIN_CUT,)
    assert height(describe(exc, max_chain=3)) == 4
    assert height(describe(exc, bounds=Bounds(max_depth=8))) == 8 - 4


def test_a_group_of_ten_thousand_with_nested_groups_is_cut_with_a_note():
    inner = ExceptionGroup("inner", [ValueError(i) for i in range(10_000)])
    outer = ExceptionGroup("outer", [inner, *(TypeError(i) for i in range(9_999))])
    info = describe(outer)
    assert info.message == "outer (10000 sub-exceptions)"
    assert len(info.members) == MAX_MEMBERS and info.notes == (
        f"... and {10_000 - MAX_MEMBERS} more",
    )
    assert info.members[0].bases[:2] == ("builtins.ExceptionGroup", "builtins.BaseExceptionGroup")
    assert len(info.members[0].members) == MAX_MEMBERS and described(info) <= MAX_DESCRIBED
    assert round_trip(info) == info


def test_a_group_with_a_small_budget_still_fits_the_bounds():
    exc = BaseExceptionGroup("g", [ValueError("x" * 5_000) for _ in range(500)])
    small = Bounds(max_bytes=20_000, max_items=2_000, max_text=1_000)
    info = describe(exc, bounds=small)
    assert 0 < len(info.members) < 100 and info.notes[-1].startswith("... and")
    assert len(encode(info, small)) <= small.max_bytes // 2


def test_what_the_budget_misses_is_cut_to_the_type_and_message():
    exc = ValueError("x" * 5_000)
    exc.__notes__ = ["n" * 1_000] * 60
    exc.__cause__ = KeyError("k")
    small = Bounds(max_bytes=4_000)
    info = describe(exc, tag_of=lambda e: "judge-9", bounds=small)
    assert info.notes == ("... the rest could not be described within the bounds",)
    assert info.cause is None and info.tag == "judge-9" and info.bases[0] == "builtins.ValueError"
    assert info.message.startswith("xxx") and len(encode(info, small)) <= small.max_bytes // 2


class Meta(type):
    """A metaclass that lies about its classes, or fails, whenever it is asked."""

    def __instancecheck__(cls, obj: object) -> bool:
        RAN.append("__instancecheck__")
        return True

    def __subclasscheck__(cls, sub: type) -> bool:
        RAN.append("__subclasscheck__")
        return True

    @property
    def __mro__(cls) -> tuple[type, ...]:  # type: ignore[override]
        RAN.append("__mro__")
        return (TimeoutError, BaseException, object)

    @property
    def __name__(cls) -> str:  # type: ignore[override]
        RAN.append("__name__")
        return "TimeoutError"

    def __getattribute__(cls, name: str) -> Any:
        RAN.append(f"Meta.{name}")
        return type.__getattribute__(cls, name)


class Hostile(ValueError, metaclass=Meta):
    """A student's exception whose every hook misbehaves."""

    def __init__(self, *args: object) -> None:  # never calls super().__init__
        pass

    def __str__(self) -> str:
        RAN.append("__str__")
        raise Ran("str")

    def __repr__(self) -> str:
        RAN.append("__repr__")
        raise Ran("repr")

    def __getattribute__(self, name: str) -> Any:
        RAN.append(f"__getattribute__ {name}")
        raise Ran(name)

    def __hash__(self) -> int:
        RAN.append("__hash__")
        raise Ran("hash")

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        RAN.append("__class__")
        return TimeoutError

    @property
    def args(self) -> tuple[object, ...]:  # type: ignore[override]
        RAN.append("args")
        return ("a lie",)

    @property
    def __notes__(self) -> list[str]:
        RAN.append("__notes__")
        return ["a lie"]

    @property
    def __cause__(self) -> BaseException | None:  # type: ignore[override]
        RAN.append("__cause__")
        return None


class Evil:
    """An argument whose repr and str fail."""

    def __repr__(self) -> str:
        RAN.append("Evil.__repr__")
        raise Ran("repr")

    __str__ = __repr__


def test_a_hostile_exception_is_described_truly_without_running_its_code():
    exc = Hostile("msg", Evil(), ("t", Evil()))
    BaseException.__dict__["__dict__"].__get__(exc)["__notes__"] = ["a real note"]
    cause = Hostile(Evil())
    BaseException.__cause__.__set__(exc, cause)  # type: ignore[attr-defined]
    RAN.clear()
    info = describe(exc, tag_of=lambda e: "judge-1" if id(e) == id(exc) else None)
    assert RAN == []
    assert (info.type_name, info.module) == ("Hostile", __name__)
    assert info.bases == (
        f"{__name__}.Hostile",
        "builtins.ValueError",
        "builtins.Exception",
        "builtins.BaseException",
    )
    assert info.message == "('msg', <Evil object>, ('t', <Evil object>))"
    assert info.notes == ("a real note",) and info.tag == "judge-1"
    assert info.cause is not None and info.cause.message == "<Evil object>"
    assert not SubjectRaised(round_trip(info)).is_a(TimeoutError)


def test_an_argument_with_a_hostile_repr_is_shown_by_its_type():
    RAN.clear()
    for exc in [ValueError(Evil()), KeyError(Evil()), ValueError(1, [Evil()])]:
        assert "<Evil object>" in describe(exc).message
    assert RAN == []


class Deep0(TimeoutError):
    """The root of a student's hierarchy deeper than the bases kept."""


def test_a_deep_hierarchy_keeps_its_own_end_and_the_built_in_end():
    kind: type[BaseException] = Deep0
    for level in range(1, 40):
        kind = type(f"Deep{level}", (kind,), {})
    info = describe(kind())
    assert len(info.bases) == 32 and info.bases[0].endswith(".Deep39")
    assert info.bases[-5:-3] == (f"{__name__}.Deep0", "builtins.TimeoutError")
    assert SubjectRaised(round_trip(info)).is_a(TimeoutError)


def test_what_cannot_be_read_is_said_so_and_a_faulty_tag_of_names_nothing():
    def faulty(exc: BaseException) -> str:
        raise RuntimeError("tag_of")

    huge = ValueError(10**5000)
    info = describe(huge, tag_of=faulty)
    assert info.tag is None and info.message.startswith("<int of")
    wrong_tag = describe(ValueError("x"), tag_of=lambda e: 5)  # type: ignore[arg-type, return-value]
    assert wrong_tag == ExceptionInfo(
        "ValueError", "builtins", "x", bases=describe(ValueError()).bases
    )
    assert describe(object()).message == UNREADABLE  # type: ignore[arg-type]


class LateError(TimeoutError):
    """A student's subclass of a built-in kind."""


def test_a_round_trip_to_the_judge_keeps_the_kind_of_a_students_subclass():
    try:
        try:
            raise concurrent.futures.CancelledError()
        except concurrent.futures.CancelledError:
            raise ExceptionGroup("two", [LateError("late"), KeyError("k")]) from None
    except ExceptionGroup as caught:
        info = round_trip(describe(caught))
    raised = SubjectRaised(info)
    assert str(raised) == "ExceptionGroup: two (2 sub-exceptions)"
    assert raised.is_a(ExceptionGroup) and raised.is_a("builtins.BaseExceptionGroup")
    late, key = raised.members
    assert late.is_a(TimeoutError) and late.is_a((KeyError, OSError)) and late.is_a(LateError)
    assert not late.is_a(ValueError) and not key.is_a(TimeoutError) and str(key) == "'k'"
    assert isinstance(late, TimeoutError) and type(late).__name__ == "LateError"
    assert isinstance(key, KeyError) and not isinstance(key, TimeoutError)
    assert raised.cause is None and raised.context is not None
    assert raised.context.is_a("concurrent.futures._base.CancelledError")
    with pytest.raises(SubjectRaised) as caught_again:
        raise_in_judge(info)
    assert caught_again.value.info == info and caught_again.value.__context__ is not None
    with pytest.raises(TypeError):
        late.is_a(3)  # type: ignore[arg-type]


def test_the_judge_raises_a_students_exception_as_its_built_in_kinds():
    """``except ValueError`` reads in the judge as in-process; only built-in classes are used."""

    class Invalid(ValueError):
        pass

    with pytest.raises(ValueError, match=r"^bad input$") as caught:
        raise_in_judge(describe(Invalid("bad input")))
    assert type(caught.value).__name__ == "Invalid" and isinstance(caught.value, SubjectRaised)
    group = SubjectRaised.of(describe(ExceptionGroup("two", [Invalid("a"), KeyError("k")])))
    assert isinstance(group, ExceptionGroup) and isinstance(group.members[0], ValueError)
    assert group.message == "two" and str(group) == "two (2 sub-exceptions)"
    first, second = group.exceptions
    assert type(first).__name__ == "Invalid" and isinstance(second, KeyError)
    assert repr(first) == "Invalid('a')"
    # A built-in that cannot be built from a descriptor falls back to its next base.
    unicode = SubjectRaised.of(describe(_decode_error()))
    assert isinstance(unicode, UnicodeDecodeError) and str(unicode).startswith("('utf-8'")
    memory = SubjectRaised.of(describe(MemoryError("out")))  # its __new__ refuses subclasses
    assert not isinstance(memory, MemoryError) and str(memory) == "out"
    assert type(memory).__name__ == "MemoryError" and isinstance(memory, SubjectRaised)
    # A student's class named like a built-in is not one; BaseException is caught as Exception.
    fake = ExceptionInfo("ValueError", "evil", "x", bases=("evil.ValueError", "builtins.Exception"))
    assert not isinstance(SubjectRaised.of(fake), ValueError)
    exiting = SubjectRaised.of(describe(SystemExit(3)))
    assert isinstance(exiting, Exception) and not isinstance(exiting, SystemExit)
    assert type(exiting).__name__ == "SystemExit"


def _decode_error() -> UnicodeDecodeError:
    try:
        b"\xff".decode("utf-8")
    except UnicodeDecodeError as error:
        return error
    raise AssertionError("decoding did not fail")


def test_the_judge_wraps_a_chain_notes_and_tag():
    info = ExceptionInfo("E", "m", "", ("n",), ExceptionInfo("C", "m", "c"), tag="judge-2")
    raised = SubjectRaised(info)
    assert str(raised) == "E" and raised.tag == "judge-2" and raised.__notes__ == ["n"]
    assert isinstance(raised.__cause__, SubjectRaised) and str(raised.cause) == "c"
    assert type(raised.cause).__name__ == "C"
    assert raised.is_a("m.E") and not raised.is_a("m.C")  # no bases: its own name only


def test_bases_cross_the_wire_bounded():
    info = ExceptionInfo("E", "m", "x", bases=tuple(f"m.B{i}" for i in range(40)))
    back = decode(encode(info))
    assert isinstance(back, ExceptionInfo) and back.bases == info.bases[:32]
    long_name = ExceptionInfo("E", "m", "x", bases=("y" * 999,))
    back = decode(encode(long_name))
    assert isinstance(back, ExceptionInfo) and len(back.bases[0]) == 256
    assert b"bases" not in encode(ExceptionInfo("E", "m", "x"))
    with pytest.raises(WireError, match="ExceptionInfo"):
        encode(ExceptionInfo("E", "m", "x", bases="m.E"))  # type: ignore[arg-type]
    with pytest.raises(WireError, match="ExceptionInfo"):
        encode(ExceptionInfo("E", "m", "x", bases=(1,)))  # type: ignore[arg-type]


def _exc_json(**fields: Any) -> bytes:
    import json

    base = {"$": "exc", "type": "E", "module": "m", "message": "x", "notes": [], "cause": None}
    return json.dumps(base | {"context": None, "members": [], "tag": None} | fields).encode()


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"bases": "m.E"}, "bases that is not a list"),
        ({"bases": [1]}, "base name that is not a str"),
        ({"bases": ["b"] * 33}, "more than 32 bases"),
        ({"bases": ["b" * 257]}, "more than 256 characters"),
        ({"bases": [], "extra": 1}, "exc with the fields"),
    ],
)
def test_hostile_bases_are_a_wire_error(fields, words):
    with pytest.raises(WireError, match=words):
        decode(_exc_json(**fields))
