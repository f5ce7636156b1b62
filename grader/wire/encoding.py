"""Values to bytes: JSON with tagged objects, checked against the bounds before it is sent."""

from __future__ import annotations

import base64
import json
import math
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
)

_SAFE_INT_BITS = 14_000  # at most 4215 decimal digits
_SMALL = 2**63  # an exact int below this in size needs no digit count


class _Encoder(Tally):
    """Turns a value into JSON-ready data; subclasses of the plain types go as their base type."""

    def value(self, value: Any, depth: int) -> Any:
        self.count()
        kind = type(value)
        if kind is str:  # the common plain types first, exactly (no subclass to read)
            return self.text(value)
        if kind is int:
            return value if -_SMALL < value < _SMALL else self.integer(value)
        if value is None or kind is bool:
            return value
        if kind is list:
            inner = self.enter(depth)
            return [self.value(item, inner) for item in list.__iter__(value)]
        if isinstance(value, int):
            return self.integer(value)
        if isinstance(value, float):
            number = float.__float__(value)
            if math.isfinite(number):
                return number
            return {TAG: "float", "v": "nan" if math.isnan(number) else repr(number)}
        if isinstance(value, str):
            return self.text(str.__str__(value))
        if isinstance(value, bytes):
            data = bytes.__bytes__(value)
            if len(data) > self.bounds.max_text:
                raise WireError(f"bytes of length {len(data)} (at most {self.bounds.max_text})")
            return {TAG: "bytes", "v": base64.b64encode(data).decode("ascii")}
        if isinstance(value, (Remote, ExceptionInfo)):
            return self.remote(value) if isinstance(value, Remote) else self.error(value, depth)
        inner = depth + 1 if isinstance(value, (list, tuple, dict)) else depth
        if isinstance(value, list):
            self.enter(depth)
            return [self.value(item, inner) for item in list.__iter__(value)]
        if isinstance(value, tuple):
            self.enter(depth)
            return {TAG: "tuple", "v": [self.value(item, inner) for item in tuple.__iter__(value)]}
        if isinstance(value, dict):
            self.enter(depth)
            return self.mapping(value, inner)
        name = clip(str(getattr(type(value), "__qualname__", "?")), 80)
        raise WireError(f"an object of type {name} cannot be sent: only plain data can")

    def integer(self, value: int) -> int:
        number = int.__index__(value)
        if number.bit_length() <= _SAFE_INT_BITS:
            return number
        try:
            digits = len(str(abs(number)))
        except ValueError:  # over the interpreter's own limit
            digits = MAX_INT_DIGITS + 1
        if digits > MAX_INT_DIGITS:
            raise WireError(f"an int with more than {MAX_INT_DIGITS} digits")
        return number

    def key(self, key: Any) -> str | int:
        if isinstance(key, str):
            return self.text(str.__str__(key), "a dict key")
        if isinstance(key, int) and type(key) is not bool:
            return self.integer(key)
        name = clip(str(getattr(type(key), "__qualname__", "?")), 80)
        raise WireError(f"a dict key of type {name}: keys must be str or int")

    def mapping(self, value: dict[Any, Any], depth: int) -> Any:
        try:
            pairs = [(self.key(k), self.value(v, depth)) for k, v in dict.items(value)]
        except RuntimeError as error:  # changed by another thread while being read
            raise WireError(f"a dict that could not be read: {error}") from None
        if len({k for k, _ in pairs}) != len(pairs):
            raise WireError("a dict with a repeated key")
        if all(type(k) is str and k != TAG for k, _ in pairs):
            return dict(pairs)
        return {TAG: "dict", "v": [list(pair) for pair in pairs]}

    def remote(self, value: Remote) -> dict[str, Any]:
        if type(value.handle) is not int or not 0 <= value.handle < 2**63:
            raise WireError("a Remote's handle must be an int from 0 to 2**63 - 1")
        if not isinstance(value.type_name, str):
            raise WireError("a Remote's type_name must be a str")
        return {TAG: "remote", "h": value.handle, "t": self.value(value.type_name, 0)}

    def string(self, value: Any, what: str, depth: int) -> str:
        if not isinstance(value, str):
            raise WireError(f"an ExceptionInfo's {what} must be a str")
        return self.value(value, depth)

    def exception(self, info: Any, depth: int) -> dict[str, Any]:
        self.count()
        if not isinstance(info, ExceptionInfo):
            raise WireError("an ExceptionInfo's cause, context and members must be ExceptionInfo")
        return self.error(info, depth)

    def error(self, info: ExceptionInfo, depth: int) -> dict[str, Any]:
        inner = self.enter(depth)
        sequences = (info.notes, info.members, info.bases)
        if not all(isinstance(sequence, (tuple, list)) for sequence in sequences):
            raise WireError("an ExceptionInfo's notes, members and bases must be tuples")
        limit = self.bounds.max_text
        clipped = [clip(note, limit) if isinstance(note, str) else note for note in info.notes]
        message = clip(info.message, limit) if isinstance(info.message, str) else info.message
        names = [
            clip(name, min(limit, MAX_NAME)) if isinstance(name, str) else name
            for name in info.bases[:MAX_BASES]
        ]
        bases = {"bases": [self.string(name, "base", inner) for name in names]} if names else {}
        return {
            TAG: "exc",
            "type": self.string(info.type_name, "type_name", inner),
            "module": self.string(info.module, "module", inner),
            "message": self.string(message, "message", inner),
            "notes": [self.string(note, "note", inner) for note in clipped[:MAX_NOTES]],
            "cause": None if info.cause is None else self.exception(info.cause, inner),
            "context": None if info.context is None else self.exception(info.context, inner),
            "members": [self.exception(member, inner) for member in info.members],
            "tag": None if info.tag is None else self.string(info.tag, "tag", inner),
            **bases,
        }


def encode(value: object, bounds: Bounds = DEFAULT_BOUNDS) -> bytes:
    """``value`` as bytes to send; WireError if it is not plain data or is beyond ``bounds``.

    An exception's message and notes too long are cut with a marker; any other text is not.
    """
    data = _Encoder(bounds).value(value, 0)
    options: dict[str, Any] = {"separators": (",", ":"), "allow_nan": False}
    options["check_circular"] = False  # the encoder's depth bound already stops cycles
    try:
        try:
            raw = json.dumps(data, ensure_ascii=False, **options).encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: escape them
            raw = json.dumps(data, ensure_ascii=True, **options).encode("ascii")
    except ValueError as error:  # an int over a lowered interpreter limit
        raise WireError(f"a value JSON cannot carry: {error}") from None
    if len(raw) > bounds.max_bytes:
        raise WireError(f"a message of {len(raw)} bytes (at most {bounds.max_bytes})")
    return raw
