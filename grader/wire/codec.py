"""Plain values to bytes and back, within bounds: all that crosses between judge and subject.

The format is UTF-8 JSON. What JSON lacks travels as an object tagged by its ``"$"`` key:
``tuple``, ``bytes`` (base64), ``float`` (nan, inf, -inf), ``dict`` (as pairs: int keys, or a
``"$"`` key), ``remote`` and ``exc``. Decoding checks the size and the bracket depth of the
bytes before ``json.loads`` runs, then rebuilds the values with a depth counter, counting
items and text against ``Bounds``. It never imports or calls anything named in the data.
Encoding sends a subclass of a plain type as its base type (a namedtuple as a tuple, an
IntEnum as an int), read with the base type's own methods; any other type is a WireError.
This module is the API; ``values``, ``encoding`` and ``decoding`` are its parts.
"""

from __future__ import annotations

from grader.wire.decoding import decode
from grader.wire.encoding import encode
from grader.wire.values import (
    CALL_FIELDS,
    HANDLE,
    ITER,
    JUDGE_COPY,
    JUDGE_VALUE,
    NOTICE,
    PLAIN_TYPES,
    PROXY,
    THREAD,
    Bounds,
    ExceptionInfo,
    Remote,
    WireError,
    shown,
)

__all__ = [
    "CALL_FIELDS",
    "HANDLE",
    "ITER",
    "JUDGE_COPY",
    "JUDGE_VALUE",
    "NOTICE",
    "PLAIN_TYPES",
    "PROXY",
    "THREAD",
    "Bounds",
    "ExceptionInfo",
    "Remote",
    "WireError",
    "decode",
    "encode",
    "shown",
]
