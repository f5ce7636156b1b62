"""Bytes to values: size, depth and UTF-8 checked before parsing, then every shape and count."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from itertools import accumulate
from typing import Any

from grader.wire.values import (
    DEFAULT_BOUNDS,
    MAX_BASES,
    MAX_INT_DIGITS,
    MAX_NAME,
    MAX_NOTES,
    TAG,
    Bounds,
    ExceptionInfo,
    Remote,
    Tally,
    WireError,
    clip,
    shown,
)

_TAGGED_FIELDS = {
    "tuple": {TAG, "v"},
    "bytes": {TAG, "v"},
    "float": {TAG, "v"},
    "dict": {TAG, "v"},
    "remote": {TAG, "h", "t"},
    "exc": {TAG, "type", "module", "message", "notes", "cause", "context", "members", "tag"},
}
_OPTIONAL_FIELDS = {"exc": {"bases"}}  # sent only when not empty
_TAG_TYPES = (str, type(None))
_SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_JSON_PER_LEVEL = 3  # JSON brackets one value level may take: {"$": "dict", "v": [[k, v]]}
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


class _Object(list):  # type: ignore[type-arg]
    """A JSON object as its ``(key, value)`` pairs, so repeated keys are seen."""


def _refuse_constant(name: str) -> None:
    raise WireError(f"a bare {name} (not JSON)")


def _parse_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise WireError(f"a number too large for a float: {shown(text)}")
    return number


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS + 1:
        raise WireError(f"an int with more than {MAX_INT_DIGITS} digits")
    return int(text)


_DECODER = json.JSONDecoder(
    object_pairs_hook=_Object,
    parse_float=_parse_float,
    parse_int=_parse_int,
    parse_constant=_refuse_constant,
)


def _deeper_than(data: bytes, limit: int) -> bool:
    """Whether ``[``/``{`` nest more than ``limit`` deep in JSON bytes, strings aside; no recursion.

    Strings go first (one C regex), then the brackets' running depth is taken in C iterators.
    """
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


class _Decoder(Tally):
    """Rebuilds values from parsed JSON, checking every shape, count and length."""

    def value(self, node: Any, depth: int) -> Any:
        self.items += 1  # Tally.count, inline: this runs for every value received
        if self.items > self.bounds.max_items:
            raise WireError(f"a message with more than {self.bounds.max_items} values")
        kind = type(node)
        if kind is str:
            return node if len(node) <= self.bounds.max_text else self.text(node)
        if node is None or kind is int or kind is float or kind is bool:
            return node
        if kind is list:
            inner = self.enter(depth)
            return [self.value(item, inner) for item in node]
        fields = dict(node)
        if len(fields) != len(node):
            raise WireError("an object with a repeated key")
        if TAG not in fields:
            inner = self.enter(depth)
            return {self.text(k, "a dict key"): self.value(v, inner) for k, v in fields.items()}
        tag = fields[TAG]
        expected = _TAGGED_FIELDS.get(tag) if type(tag) is str else None
        if expected is None:
            raise WireError(f"an unknown tag {shown(tag)}")
        if fields.keys() - _OPTIONAL_FIELDS.get(tag, set()) != expected:
            got = ", ".join(shown(key, 20) for key in sorted(fields)[:10])
            wanted = ", ".join(sorted(expected))
            raise WireError(f"a {tag} with the fields {got}; expected {wanted}")
        return getattr(self, f"tagged_{tag}")(fields, depth)

    def listed(self, node: Any, what: str) -> list[Any]:
        if type(node) is not list:
            raise WireError(f"{what} that is not a list")
        return node

    def tagged_tuple(self, fields: dict[str, Any], depth: int) -> tuple[Any, ...]:
        inner = self.enter(depth)
        return tuple(self.value(item, inner) for item in self.listed(fields["v"], "a tuple"))

    def tagged_bytes(self, fields: dict[str, Any], depth: int) -> bytes:
        text = fields["v"]
        if type(text) is not str or len(text) > 4 * (self.bounds.max_text // 3 + 1):
            raise WireError("bytes that are not base64 text within bounds")
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise WireError("bytes that are not valid base64") from None
        if len(data) > self.bounds.max_text:
            raise WireError(f"bytes of length {len(data)} (at most {self.bounds.max_text})")
        return data

    def tagged_float(self, fields: dict[str, Any], depth: int) -> float:
        name = fields["v"]
        if type(name) is not str or name not in _SPECIAL_FLOATS:
            raise WireError(f"a tagged float that is not nan, inf or -inf but {shown(name)}")
        return _SPECIAL_FLOATS[name]

    def tagged_dict(self, fields: dict[str, Any], depth: int) -> dict[str | int, Any]:
        inner = self.enter(depth)
        result: dict[str | int, Any] = {}
        for pair in self.listed(fields["v"], "a dict's pairs"):
            if type(pair) is not list or len(pair) != 2:
                raise WireError("a dict's pair that is not [key, value]")
            key = pair[0]
            if type(key) is str:
                self.text(key, "a dict key")
            elif type(key) is not int:
                raise WireError(f"a dict key of type {type(key).__name__}: keys must be str or int")
            if key in result:
                raise WireError("a dict with a repeated key")
            result[key] = self.value(pair[1], inner)
        return result

    def tagged_remote(self, fields: dict[str, Any], depth: int) -> Remote:
        handle, name = fields["h"], fields["t"]
        if type(handle) is not int or not 0 <= handle < 2**63:
            raise WireError("a remote handle that is not an int from 0 to 2**63 - 1")
        if type(name) is not str:
            raise WireError("a remote type name that is not a str")
        return Remote(handle, self.text(name))

    def tagged_exc(self, fields: dict[str, Any], depth: int) -> ExceptionInfo:
        inner = self.enter(depth)
        texts = [fields[name] for name in ("type", "module", "message")]
        notes = self.listed(fields["notes"], "an exception's notes")
        tag = fields["tag"]
        if any(type(text) is not str for text in texts + notes) or type(tag) not in _TAG_TYPES:
            raise WireError("an exception whose type, module, message, notes or tag is not a str")
        if len(notes) > MAX_NOTES:
            raise WireError(f"an exception with more than {MAX_NOTES} notes")
        self.count(len(notes))
        bases = self.names(fields.get("bases", []))
        type_name, module, message = (self.text(text) for text in texts)
        cause, context = (self.chained(fields[name], inner) for name in ("cause", "context"))
        members = self.listed(fields["members"], "an exception's members")
        return ExceptionInfo(
            type_name,
            module,
            message,
            tuple(self.text(note) for note in notes),
            cause,
            context,
            tuple(self.chained(member, inner, optional=False) for member in members),
            None if tag is None else self.text(tag),
            bases,
        )

    def names(self, node: Any) -> tuple[str, ...]:
        bases = self.listed(node, "an exception's bases")
        if any(type(name) is not str for name in bases):
            raise WireError("an exception's base name that is not a str")
        if len(bases) > MAX_BASES:
            raise WireError(f"an exception with more than {MAX_BASES} bases")
        if any(len(name) > MAX_NAME for name in bases):
            raise WireError(f"an exception's base name of more than {MAX_NAME} characters")
        self.count(len(bases))
        return tuple(self.text(name, "a base name") for name in bases)

    def chained(self, node: Any, depth: int, optional: bool = True) -> ExceptionInfo | None:
        if node is None and optional:
            return None
        info = self.value(node, depth)
        if not isinstance(info, ExceptionInfo):
            raise WireError("an exception's cause, context or member that is not an exception")
        return info


def decode(data: bytes, bounds: Bounds = DEFAULT_BOUNDS) -> object:
    """The value ``data`` encodes; WireError if it is malformed or beyond ``bounds``."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("decode takes bytes")
    if len(data) > bounds.max_bytes:
        raise WireError(f"a message of {len(data)} bytes (at most {bounds.max_bytes})")
    data = bytes(data)
    if _deeper_than(data, _JSON_PER_LEVEL * bounds.max_depth + 1):
        raise WireError(f"values nested more than {bounds.max_depth} deep")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise WireError(f"a message that is not UTF-8 (at byte {error.start})") from None
    try:
        parsed = _DECODER.decode(text)
    except WireError:
        raise
    except (ValueError, RecursionError) as error:
        raise WireError(f"a message that is not valid JSON: {clip(str(error), 120)}") from None
    return _Decoder(bounds).value(parsed, 0)
