"""The plain values that cross the wire, the bounds on one message, and the error for either.

Shared by ``encoding`` and ``decoding``; ``codec`` is the public face.
"""

from __future__ import annotations

from dataclasses import dataclass

TAG = "$"
#: A notice crosses as a list of these, in this order (a batch holds many: a list is cheaper
#: to encode and to check than a dict); a callback is a message with them as keys.
CALL_FIELDS = ("proxy", "args", "kwargs", "thread", "ident", "request")
#: The exact types that cross as they are: either side may skip its conversions for them.
PLAIN_TYPES = frozenset({str, int, float, bool, bytes, type(None)})
MAX_NOTES = 64  # notes kept on an exception; more are dropped on encode, refused on decode
MAX_BASES = 32  # names of an exception type's bases, the same way
MAX_NAME = 256  # characters of one base's qualified name: cut on encode, refused on decode
MAX_INT_DIGITS = 4300  # Python's default int max str digits
TRUNCATED = " [...truncated]"


class WireError(ValueError):
    """The peer sent something malformed or too big, or a value cannot be sent: a plain message.

    Decoding errors name what came ("an unknown tag 'x'"), to follow "the submission sent".
    """


@dataclass(frozen=True)
class Bounds:
    """Limits on one message: encoded size, nesting depth, values in all, one text's length."""

    max_bytes: int = 1_048_576
    max_depth: int = 16
    max_items: int = 100_000
    max_text: int = 262_144

    def __post_init__(self) -> None:
        ceilings = {"max_bytes": 2**32 - 1, "max_depth": 64, "max_items": 2**31, "max_text": 2**31}
        for name, ceiling in ceilings.items():
            value = getattr(self, name)
            if type(value) is not int or not 1 <= value <= ceiling:
                raise ValueError(f"Bounds.{name} must be an int from 1 to {ceiling}")


# The kinds of Remote the judge writes: its callables, iterators, notices and values by
# reference, and the subject's own objects (and threads, by serial) sent back. The subject
# writes an object's type name instead, or JUDGE_VALUE for a judge value it hands back,
# JUDGE_COPY for a copy of one (a student type named either way is renamed).
PROXY, HANDLE, ITER, NOTICE, THREAD = "proxy", "handle", "iter", "notice", "thread"
JUDGE_VALUE, JUDGE_COPY = "<judge value>", "<judge value copy>"


@dataclass(frozen=True)
class Remote:
    """A reference to an object that stays on the side that made it: a handle and a type name."""

    handle: int
    type_name: str


@dataclass(frozen=True)
class ExceptionInfo:
    """An exception as data; ``tag`` names an exception the judge made, to check it by identity.

    ``bases`` are the qualified names of the type's MRO, the type first and ``object`` left out
    (``"builtins.TimeoutError"``), so the judge can ask whether a student's subclass is a kind.
    """

    type_name: str
    module: str
    message: str
    notes: tuple[str, ...] = ()
    cause: ExceptionInfo | None = None
    context: ExceptionInfo | None = None
    members: tuple[ExceptionInfo, ...] = ()
    tag: str | None = None
    bases: tuple[str, ...] = ()


def shown(value: object, limit: int = 40) -> str:
    """A short repr of a plain value for an error message (texts are cut before repr)."""
    if isinstance(value, (str, bytes)) and len(value) > limit:
        return repr(value[:limit]) + "..."
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def clip(text: str, limit: int) -> str:
    """``text``, cut to ``limit`` characters with a marker if longer."""
    return text if len(text) <= limit else text[: max(0, limit - len(TRUNCATED))] + TRUNCATED


class Tally:
    """Counts values and depth against the bounds; shared by encoding and decoding."""

    def __init__(self, bounds: Bounds) -> None:
        self.bounds = bounds
        self.items = 0

    def count(self, what: int = 1) -> None:
        self.items += what
        if self.items > self.bounds.max_items:
            raise WireError(f"a message with more than {self.bounds.max_items} values")

    def enter(self, depth: int) -> int:
        if depth >= self.bounds.max_depth:
            raise WireError(f"values nested more than {self.bounds.max_depth} deep")
        return depth + 1

    def text(self, text: str, what: str = "a str") -> str:
        if len(text) > self.bounds.max_text:
            raise WireError(f"{what} of {len(text)} characters (at most {self.bounds.max_text})")
        return text


DEFAULT_BOUNDS = Bounds()
