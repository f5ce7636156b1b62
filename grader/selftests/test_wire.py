"""The judge-subject wire: plain values round-trip; hostile bytes are a WireError, never a crash.

The subject runs beside student code, so every frame it sends is treated as hostile:
``HOSTILE`` is the corpus of malformed payloads, each refused with a plain message.
"""

from __future__ import annotations

import collections
import contextlib
import enum
import json
import math
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.wire.channel import PROTOCOL_VERSION, Channel, hello
from grader.wire.codec import Bounds, ExceptionInfo, Remote, WireError, decode, encode

SMALL = Bounds(max_bytes=4096, max_depth=4, max_items=20, max_text=50)


# -- round trips -------------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 is not 1.0 nor True; nan is nan)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(
            type(k) is type(j) and same(a[k], b[j]) for k, j in zip(a, b, strict=True)
        )
    return a == b


def depth(value: Any) -> int:
    """Containers nested in ``value``: a list, tuple, dict or exception is one level."""
    if isinstance(value, (list, tuple)):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, ExceptionInfo):
        chained = [value.cause, value.context, *value.members]
        return 1 + max((depth(e) for e in chained if e is not None), default=0)
    return 0


texts = st.text(max_size=8)  # includes lone surrogates
notes = st.lists(texts, max_size=3).map(tuple)
tags = st.none() | texts


def _exception(inner: st.SearchStrategy[ExceptionInfo]) -> st.SearchStrategy[ExceptionInfo]:
    chained = st.none() | inner
    members = st.lists(inner, max_size=3).map(tuple)
    return st.builds(ExceptionInfo, texts, texts, texts, notes, chained, chained, members, tags)


exceptions = st.recursive(
    st.builds(ExceptionInfo, texts, texts, texts, notes, tag=tags), _exception, max_leaves=6
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**4000), max_value=10**4000)
    | st.floats()  # nan, inf, -0.0 included
    | texts
    | st.binary(max_size=16)
    | st.builds(Remote, st.integers(0, 2**63 - 1), texts)
)
keys = st.integers() | texts | st.just("$") | st.sampled_from(["v", "h", "t", "tuple"])
values = st.recursive(
    scalars | exceptions,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(keys, inner, max_size=4)
        | st.dictionaries(texts, inner, max_size=4)
        | st.fixed_dictionaries({"$": inner})
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_every_plain_value_round_trips_or_is_refused_for_its_depth(value):
    if depth(value) > Bounds().max_depth:
        with pytest.raises(WireError, match="nested more than"):
            encode(value)
        return
    data = encode(value)
    back = decode(data)
    assert same(back, value)
    assert encode(back) == data


def test_tuples_lists_and_key_types_stay_apart():
    value = {1: (1,), "1": [1], "$": {"$": b"$"}, "x": 1.0, "y": True, "z": None}
    back = decode(encode(value))
    assert same(back, value) and set(map(type, back)) == {int, str}


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, -math.inf, -0.0, "\ud800", "é€😀", b"\x00\xff", 10**4000]
)
def test_the_values_json_lacks_round_trip(value):
    assert same(decode(encode(value)), value)


def test_an_exception_keeps_its_chain_members_notes_and_tag():
    cause = ExceptionInfo("KeyError", "builtins", "'k'")
    member = ExceptionInfo("ValueError", "builtins", "bad", tag="judge-3")
    info = ExceptionInfo(
        "ExceptionGroup", "builtins", "two", ("a note",), cause, cause, (member, member), "judge-1"
    )
    assert decode(encode({"raised": info})) == {"raised": info}


class _Colour(enum.IntEnum):
    RED = 1


class _Liar(str):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


def test_subclasses_of_plain_types_are_sent_as_their_base_type():
    point = collections.namedtuple("point", "x y")(1, 2)
    counts = collections.defaultdict(int, {"a": _Colour.RED})
    back = decode(encode([_Liar("no"), point, counts, _Colour.RED]))
    assert same(back, ["no", (1, 2), {"a": 1}, 1])
    assert back[0] != "yes"


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (object(), "object"),
        ({1, 2}, "set"),
        (lambda: 0, "function"),
        ([frozenset()], "frozenset"),
        ({"k": bytearray(b"x")}, "bytearray"),
        ((1j,), "complex"),
        (iter([]), "list_iterator"),
        (ValueError("x"), "ValueError"),
    ],
)
def test_anything_else_is_refused_naming_its_type(value, name):
    with pytest.raises(WireError, match=f"type {name} cannot be sent"):
        encode(value)


@pytest.mark.parametrize("key", [True, None, 1.5, (1,)])
def test_dict_keys_are_str_or_int(key):
    with pytest.raises(WireError, match="dict key of type"):
        encode({key: 1})


def test_encode_keeps_to_the_bounds():
    cycle: list[Any] = []
    cycle.append(cycle)
    for value, words in [
        (cycle, "nested more than 4"),
        ([0] * 20, "more than 20 values"),
        ("x" * 51, "51 characters"),
        (b"x" * 51, "bytes of length 51"),
        ({"k" * 51: 1}, "a dict key of 51"),
        (10**4300, "more than 4300 digits"),
    ]:
        with pytest.raises(WireError, match=words):
            encode(value, SMALL)
    with pytest.raises(WireError, match="bytes \\(at most 100\\)"):
        encode(["x" * 40] * 3, Bounds(max_bytes=100))


def test_an_exceptions_long_message_and_notes_are_cut_not_refused():
    chained = ExceptionInfo("E", "m", "x" * 500, tuple("n" * 99 for _ in range(100)))
    short = Bounds(max_text=50)
    back = decode(encode(ExceptionInfo("E", "m", "y", cause=chained), short), short)
    assert isinstance(back, ExceptionInfo) and back.cause is not None
    assert len(back.cause.message) == 50 and back.cause.message.endswith("truncated]")
    assert len(back.cause.notes) == 64 and all(len(n) == 50 for n in back.cause.notes)


def test_an_exception_chain_counts_towards_depth():
    info = ExceptionInfo("E", "m", "0")
    for level in range(1, 5):
        info = ExceptionInfo("E", "m", str(level), context=info)
    with pytest.raises(WireError, match="nested more than 4"):
        encode(info, SMALL)
    assert decode(encode(info.context, SMALL), SMALL) == info.context


def test_shared_values_cannot_multiply_the_work():
    info = ExceptionInfo("E", "m", "x")
    shared: list[Any] = []
    for _ in range(15):
        info = ExceptionInfo("E", "m", "x", cause=info, context=info)
        shared = [shared] * 4
    for value in (info, shared):
        with pytest.raises(WireError, match="more than 100000 values"):
            encode(value)


@pytest.mark.parametrize("field", ["type_name", "message", "notes", "cause", "members", "tag"])
def test_an_exception_info_of_the_wrong_shape_is_refused(field):
    wrong = {"notes": ("x", 1), "cause": "x", "members": ("x",)}.get(field, 1)
    info = ExceptionInfo(**{"type_name": "E", "module": "m", "message": "x", field: wrong})
    with pytest.raises(WireError, match="ExceptionInfo"):
        encode(info)


def test_remote_handles_are_bounded_ints_and_types_are_named_by_a_str():
    with pytest.raises(WireError, match="handle"):
        encode(Remote(-1, "T"))
    with pytest.raises(WireError, match="type_name"):
        encode(Remote(1, ["T"]))  # type: ignore[arg-type]


@pytest.mark.parametrize("leaf", [b"x", math.nan, Remote(1, "T"), "[{"])
def test_the_deepest_value_the_bounds_allow_round_trips_and_one_more_level_does_not(leaf):
    value: Any = leaf
    for level in range(16):
        value = [{1: value}, {"$": value}, (value,)][level % 3]
    assert same(decode(encode(value)), value)
    with pytest.raises(WireError, match="nested more than 16"):
        encode({1: value})
    with pytest.raises(WireError, match="nested more than 16"):
        decode(b'{"$": "dict", "v": [[1, ' + encode(value) + b"]]}")


def test_bounds_are_checked():
    for bad in [{"max_depth": 0}, {"max_depth": 65}, {"max_bytes": 2**32}, {"max_text": 1.5}]:
        with pytest.raises(ValueError, match="Bounds"):
            Bounds(**bad)


# -- hostile bytes -----------------------------------------------------------------------------


def exc_json(**fields: Any) -> dict[str, Any]:
    """An encoded exception's fields, with ``fields`` replaced."""
    base = {"type": "E", "module": "m", "message": "x", "notes": [], "cause": None}
    base |= {"context": None, "members": [], "tag": None}
    return {"$": "exc", **base, **fields}


def nested_causes(levels: int) -> bytes:
    info: dict[str, Any] | None = None
    for _ in range(levels):
        info = exc_json(cause=info)
    return json.dumps(info).encode()


def j(value: Any) -> bytes:
    return json.dumps(value).encode()


HOSTILE: dict[str, tuple[bytes, str]] = {
    "deep lists": (b"[" * 100_000 + b"]" * 100_000, "nested more than 16"),
    "deep objects": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested more than 16"),
    "deep open brackets, no close": (b"[" * 100_000, "nested more than 16"),
    "deep exception chain": (nested_causes(17), "nested more than 16"),
    "too big": (b" " * 1_048_577 + b"1", "1048578 bytes \\(at most 1048576\\)"),
    "empty": (b"", "not valid JSON"),
    "truncated list": (b"[1, 2", "not valid JSON"),
    "truncated tuple": (b'{"$": "tuple", "v": [1', "not valid JSON"),
    "truncated string": (b'"abc', "not valid JSON"),
    "two documents": (b"1 2", "not valid JSON"),
    "not UTF-8": (b'"\xff"', "not UTF-8"),
    "a broken UTF-8 sequence": (b'"\xc3("', "not UTF-8"),
    "UTF-16": ('"x"'.encode("utf-16"), "not UTF-8"),
    "a byte order mark": (b'\xef\xbb\xbf{"a": 1}', "not valid JSON"),
    "an unknown tag": (j({"$": "set", "v": []}), "unknown tag 'set'"),
    "a tag that is not a str": (j({"$": 5}), "unknown tag 5"),
    "a module path as a tag": (j({"$": "os.system", "v": "echo"}), "unknown tag 'os.system'"),
    "a tag without its fields": (j({"$": "tuple"}), "tuple with the fields '\\$'"),
    "a tag with a field too many": (j({"$": "tuple", "v": [], "x": 1}), "expected \\$, v"),
    "a tuple that is not a list": (j({"$": "tuple", "v": {"a": 1}}), "tuple that is not a list"),
    "a remote handle as a str": (j({"$": "remote", "h": "1", "t": "T"}), "remote handle"),
    "a negative remote handle": (j({"$": "remote", "h": -1, "t": "T"}), "remote handle"),
    "a bool remote handle": (j({"$": "remote", "h": True, "t": "T"}), "remote handle"),
    "a remote type that is not a str": (j({"$": "remote", "h": 1, "t": 1}), "type name"),
    "an int with 100k digits": (b"9" * 100_000, "more than 4300 digits"),
    "an int with 4301 digits": (b"-" + b"9" * 4301, "more than 4300 digits"),
    "an int with 100k digits in a dict key": (
        b'{"$": "dict", "v": [[' + b"1" * 100_000 + b", 1]]}",
        "more than 4300 digits",
    ),
    "a float given as a str": (j({"$": "float", "v": "1.5"}), "but '1.5'"),
    "a float given as a number in a tag": (j({"$": "float", "v": 1.5}), "but 1.5"),
    "NaN literal": (b"[NaN]", "bare NaN"),
    "Infinity literal": (b"-Infinity", "bare -Infinity"),
    "a float overflowing to inf": (b"1e999", "too large for a float"),
    "bytes not base64": (j({"$": "bytes", "v": "!!!"}), "not valid base64"),
    "bytes as a list": (j({"$": "bytes", "v": [1, 2]}), "not base64 text"),
    "a repeated key": (b'{"a": 1, "a": 2}', "repeated key"),
    "a repeated tag": (b'{"$": "tuple", "$": "bytes", "v": []}', "repeated key"),
    "a dict pair too short": (j({"$": "dict", "v": [[1]]}), "not \\[key, value\\]"),
    "a dict pair as an object": (j({"$": "dict", "v": [{"k": 1}]}), "not \\[key, value\\]"),
    "a float dict key": (j({"$": "dict", "v": [[1.5, 1]]}), "key of type float"),
    "a bool dict key": (j({"$": "dict", "v": [[True, 1]]}), "key of type bool"),
    "a list dict key": (j({"$": "dict", "v": [[[1], 1]]}), "key of type list"),
    "a repeated dict key": (j({"$": "dict", "v": [[1, 1], [1, 2]]}), "repeated key"),
    "an exception message that is an int": (j(exc_json(message=1)), "is not a str"),
    "an exception tag that is an int": (j(exc_json(tag=0)), "is not a str"),
    "exception notes as a str": (j(exc_json(notes="n")), "notes that is not a list"),
    "too many exception notes": (j(exc_json(notes=["n"] * 65)), "more than 64 notes"),
    "an exception cause that is a str": (j(exc_json(cause="x")), "not an exception"),
    "an exception member that is null": (j(exc_json(members=[None])), "not an exception"),
    "an exception member that is a list": (j(exc_json(members=[[]])), "not an exception"),
    "an exception with a field missing": (j({"$": "exc", "type": "E"}), "exc with the fields"),
    "a str too long": (j("x" * 262_145), "262145 characters"),
    "too many values": (b"[" + b"0," * 100_000 + b"0]", "more than 100000 values"),
}


@pytest.mark.parametrize("data, words", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_bytes_are_a_wire_error_with_a_plain_message(data, words):
    with pytest.raises(WireError, match=words) as caught:
        decode(data)
    assert caught.type is WireError and len(str(caught.value)) < 200


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64) | values.map(encode).map(lambda b: b[: len(b) // 2]))
def test_any_bytes_decode_or_are_a_wire_error(data):
    with contextlib.suppress(WireError):
        decode(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["$", "v", "h", "t", "tuple", "x"]), inner, max_size=3)
    ),
    max_leaves=12,
)
fields = st.sampled_from(["v", "h", "t", "type", "message", "notes", "cause", "members", "tag"])
tagged = st.builds(
    lambda tag, rest: {**rest, "$": tag},
    st.sampled_from(["tuple", "dict", "exc", "bytes", "float", "remote"]),
    st.dictionaries(fields, json_values, max_size=9),
)
exc_shaped = st.fixed_dictionaries(
    {"$": st.just("exc")}
    | {name: json_values for name in ("type", "module", "message", "notes", "tag")}
    | {name: st.none() | tagged for name in ("cause", "context")}
    | {"members": st.lists(st.none() | tagged, max_size=2)}
)


@settings(max_examples=300, deadline=None)
@given(json_values | tagged | st.lists(tagged, max_size=3) | exc_shaped)
def test_any_json_decodes_or_is_a_wire_error(value):
    with contextlib.suppress(WireError):
        decode(j(value))


def test_brackets_and_quotes_inside_strings_are_not_nesting():
    text = '\\"[' * 1000 + "{" * 1000
    assert decode(j([text])) == [text]


def test_the_limit_is_the_bounds_not_the_interpreters():
    old = sys.get_int_max_str_digits()
    try:
        sys.set_int_max_str_digits(640)
        with pytest.raises(WireError, match="JSON"):
            decode(b"1" * 1000)
        with pytest.raises(WireError, match="JSON cannot carry"):
            encode(10**1000)
        sys.set_int_max_str_digits(0)
        with pytest.raises(WireError, match="more than 4300 digits"):
            decode(b"1" * 5000)
    finally:
        sys.set_int_max_str_digits(old)


def test_depth_items_and_text_follow_the_bounds_given():
    for data in [j([[[[[1]]]]]), j(list(range(20))), j("x" * 51), j({"k" * 51: 1})]:
        with pytest.raises(WireError):
            decode(data, SMALL)
    assert decode(j([[[[1]]]]), SMALL) == [[[[1]]]]


# -- the channel -------------------------------------------------------------------------------


def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


@pytest.fixture
def ends() -> Iterator[tuple[Channel, socket.socket]]:
    """A channel and the raw socket of its peer, to send it any bytes."""
    mine, theirs = socket.socketpair()
    with mine, theirs:
        yield Channel(mine), theirs


@pytest.fixture
def pair() -> Iterator[tuple[Channel, Channel]]:
    left, right = socket.socketpair()
    with left, right:
        yield Channel(left), Channel(right)


def in_thread(work: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``work`` in a thread; the returned function joins it and returns its result."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as error:  # handed to the joining thread
            box["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> Any:
        thread.join(60)  # a safety net against a hang, not a measurement
        assert not thread.is_alive(), "the thread did not finish"
        if "error" in box:
            raise box["error"]
        return box["value"]

    return join


def test_threads_share_a_channel_pair_in_both_directions(pair):
    left, right = pair
    senders, count = 4, 150

    def send_all(channel: Channel, side: str, sender: int) -> None:
        for n in range(count):
            channel.send({"side": side, "sender": sender, "n": n, "body": (b"x" * n, [n] * 5)})

    def receive_all(channel: Channel) -> list[dict[str, Any]]:
        return [channel.recv(timeout=30) for _ in range(senders * count)]

    receivers = [in_thread(lambda c=c: receive_all(c)) for c in (left, right)]
    workers = [
        in_thread(lambda c=c, s=s, i=i: send_all(c, s, i))
        for c, s in ((left, "left"), (right, "right"))
        for i in range(senders)
    ]
    for join in workers:
        join()
    for join, side in zip(receivers, ("right", "left"), strict=True):
        got = join()
        assert {m["side"] for m in got} == {side}
        for sender in range(senders):
            mine = [m for m in got if m["sender"] == sender]
            assert [m["n"] for m in mine] == list(range(count))  # each sender's order kept
            assert all(m["body"] == (b"x" * m["n"], [m["n"]] * 5) for m in mine)


def test_a_stalled_peer_times_out_and_its_frame_is_kept_for_the_next_recv(ends):
    channel, peer = ends
    data = frame(encode({"op": "call", "args": ["x" * 1000]}))
    peer.sendall(data[:2])
    with pytest.raises(TimeoutError):
        in_thread(lambda: channel.recv(timeout=0.05))()
    peer.sendall(data[2:700])
    with pytest.raises(TimeoutError):
        in_thread(lambda: channel.recv(timeout=0.05))()
    peer.sendall(data[700:])
    assert channel.recv(timeout=30) == {"op": "call", "args": ["x" * 1000]}


def test_a_header_over_the_bound_is_refused_unread_and_the_channel_is_unusable(ends):
    channel, peer = ends
    peer.sendall(struct.pack(">I", Bounds().max_bytes + 1) + b"{}")
    with pytest.raises(WireError, match=r"unusable: .* 1048577 bytes"):
        channel.recv(timeout=30)
    with pytest.raises(WireError, match="unusable"):
        channel.recv(timeout=30)
    with pytest.raises(WireError, match="unusable"):
        channel.send({"op": "x"})


def test_a_frame_cut_short_by_the_peer_closing_is_a_wire_error(ends):
    channel, peer = ends
    peer.sendall(frame(b'{"op": "result"}')[:10])
    peer.close()
    with pytest.raises(WireError, match="in the middle of a message"):
        channel.recv(timeout=30)


def test_the_peer_closing_between_frames_is_the_end(ends):
    channel, peer = ends
    peer.sendall(frame(b'{"op": "bye"}'))
    peer.close()
    assert channel.recv(timeout=30) == {"op": "bye"}
    with pytest.raises(EOFError):
        channel.recv(timeout=30)


@pytest.mark.parametrize(
    ("data", "words"),
    [(b"[" * 100_000, "nested"), (b"\xff", "UTF-8"), (b"[1, 2]", "not a dict"), (b"", "JSON")],
)
def test_a_malformed_frame_is_refused_and_the_next_one_is_read(ends, data, words):
    channel, peer = ends
    peer.sendall(frame(data) + frame(b'{"op": "ok"}'))
    with pytest.raises(WireError, match=words):
        channel.recv(timeout=30)
    assert channel.recv(timeout=30) == {"op": "ok"}


def test_what_cannot_cross_is_refused_before_anything_is_sent(pair):
    left, right = pair
    for message in [["not", "a", "dict"], {"big": b"x" * 262_144 * 2}, {"f": print}]:
        with pytest.raises(WireError):
            left.send(message)  # type: ignore[arg-type]
    left.send({"op": "ok"})
    assert right.recv(timeout=30) == {"op": "ok"}


def test_a_send_to_a_peer_that_never_reads_times_out_and_breaks_the_channel():
    mine, theirs = socket.socketpair()
    with mine, theirs:
        channel = Channel(mine, send_timeout=0.05)
        with pytest.raises(TimeoutError):
            for _ in range(1000):  # more than any socket buffer
                channel.send({"v": b"x" * 200_000})
        with pytest.raises(WireError, match="cut off"):
            channel.send({"op": "x"})


def test_hello_exchanges_roles(pair):
    left, right = pair
    theirs = in_thread(lambda: hello(right, "subject", timeout=30))
    assert hello(left, "judge", timeout=30)["role"] == "subject"
    assert theirs() == {"op": "hello", "version": PROTOCOL_VERSION, "role": "judge"}


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        ({"op": "hello", "version": PROTOCOL_VERSION + 1, "role": "subject"}, "version 3"),
        ({"op": "hello", "version": 1, "role": "subject"}, "version 1"),
        ({"op": "hello", "version": True, "role": "subject"}, "version True"),
        ({"op": "hello", "version": "1", "role": "subject"}, "version '1'"),
        ({"op": "hello", "role": "subject"}, "version None"),
        ({"op": "call", "version": PROTOCOL_VERSION, "role": "subject"}, "not a hello"),
        ({"op": "hello", "version": PROTOCOL_VERSION}, "no role"),
    ],
)
def test_hello_refuses_another_protocol(ends, reply, words):
    channel, peer = ends
    peer.sendall(frame(encode(reply)))
    with pytest.raises(WireError, match=words):
        hello(channel, "judge", timeout=30)
