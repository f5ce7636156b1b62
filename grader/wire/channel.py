"""Messages over one connected socket: 4-byte big-endian length, then the encoded payload.

Threads may share a channel: sends are serialised by a lock, and so are receives. The
socket is made non-blocking and every wait is a ``poll`` with a deadline, so a peer that
announces a frame and stalls cannot hold ``recv`` past its timeout; a partial frame stays
buffered for the next ``recv``. A length over ``Bounds.max_bytes`` is refused before the
payload is read, and the channel is then unusable (the stream can no longer be trusted).
"""

from __future__ import annotations

import math
import select
import socket
import struct
import threading
import time
from typing import Any

from grader.wire.decoding import decode
from grader.wire.encoding import encode
from grader.wire.values import DEFAULT_BOUNDS, Bounds, WireError, shown

PROTOCOL_VERSION = 2
_HEADER = struct.Struct(">I")
_CHUNK = 1 << 18
_monotonic = time.monotonic  # taken at import: student code may replace the time module's clocks


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else _monotonic() + max(0.0, timeout)


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - _monotonic())


class Channel:
    """One end of the judge-subject channel; it owns ``sock`` and makes it non-blocking.

    ``send_timeout`` bounds how long ``send`` waits for a peer that does not read
    (None: no bound); a send cut off mid-frame leaves the channel unusable. Sending to a
    closed peer raises the socket's own ``BrokenPipeError``.
    """

    def __init__(
        self,
        sock: socket.socket,
        bounds: Bounds = DEFAULT_BOUNDS,
        send_timeout: float | None = None,
    ) -> None:
        sock.setblocking(False)
        self.bounds = bounds
        self._sock = sock
        self._send_timeout = send_timeout
        self._send_lock = threading.Lock()
        self._recv_lock = threading.Lock()
        self._pending = bytearray()  # the frame being received, header included
        self._broken: str | None = None

    def fileno(self) -> int:
        """The socket's file descriptor (to hand to a child process)."""
        return self._sock.fileno()

    def close(self) -> None:
        """Close the socket; the peer's next ``recv`` sees the end."""
        self._sock.close()

    def _check(self) -> None:
        if self._broken is not None:
            raise WireError(f"the channel is unusable: {self._broken}")

    def _wait(self, events: int, deadline: float | None, doing: str) -> None:
        """Wait until the socket is ready for ``events``; TimeoutError at the deadline."""
        remaining = _remaining(deadline)
        if remaining == 0.0:
            raise TimeoutError(f"timed out waiting to {doing}")
        poller = select.poll()
        poller.register(self._sock, events)
        wait_ms = None if remaining is None else math.ceil(remaining * 1000)
        if not poller.poll(wait_ms) and _remaining(deadline) == 0.0:
            raise TimeoutError(f"timed out waiting to {doing}")

    def send(self, message: dict[str, Any]) -> None:
        """Encode and send one message (thread-safe); WireError if it cannot cross."""
        if type(message) is not dict:
            raise WireError(f"a message must be a dict, not {type(message).__name__}")
        payload = encode(message, self.bounds)
        view = memoryview(_HEADER.pack(len(payload)) + payload)
        deadline = _deadline(self._send_timeout)
        timeout = _remaining(deadline)
        if not self._send_lock.acquire(timeout=-1 if timeout is None else timeout):
            raise TimeoutError("timed out waiting for another thread's send")
        try:
            self._check()
            started = False
            try:
                while view:
                    try:
                        sent = self._sock.send(view)
                    except BlockingIOError:
                        self._wait(select.POLLOUT, deadline, "send")
                        continue
                    started, view = True, view[sent:]
            except BaseException:
                if started:
                    self._broken = "a message was cut off while it was being sent"
                raise
        finally:
            self._send_lock.release()

    def recv(self, timeout: float | None = None) -> dict[str, Any]:
        """The next message (a dict); WireError if malformed, EOFError at the end, TimeoutError."""
        deadline = _deadline(timeout)
        wait = _remaining(deadline)
        if not self._recv_lock.acquire(timeout=-1 if wait is None else wait):
            raise TimeoutError("timed out waiting for another thread's recv")
        try:
            self._check()
            self._fill(_HEADER.size, deadline)
            (size,) = _HEADER.unpack_from(self._pending)
            if size > self.bounds.max_bytes:
                self._broken = (
                    f"the peer announced a message of {size} bytes "
                    f"(at most {self.bounds.max_bytes}); nothing more is read from it"
                )
                raise WireError(f"the channel is unusable: {self._broken}")
            self._fill(_HEADER.size + size, deadline)
            payload = bytes(self._pending[_HEADER.size :])
            self._pending.clear()
        finally:
            self._recv_lock.release()
        message = decode(payload, self.bounds)
        if type(message) is not dict:
            raise WireError(f"a message that is not a dict but {shown(message)}")
        return message

    def _fill(self, size: int, deadline: float | None) -> None:
        """Read until ``size`` bytes of the current frame are buffered, and no further."""
        while len(self._pending) < size:
            try:
                chunk = self._sock.recv(min(size - len(self._pending), _CHUNK))
            except BlockingIOError:
                self._wait(select.POLLIN, deadline, "receive")
                continue
            except ConnectionResetError:
                chunk = b""
            if chunk:
                self._pending += chunk
            elif self._pending:
                self._broken = (
                    f"the peer closed the channel in the middle of a message "
                    f"({len(self._pending)} bytes of it came)"
                )
                raise WireError(self._broken)
            else:
                raise EOFError("the peer closed the channel")


def hello(channel: Channel, role: str, timeout: float | None = None) -> dict[str, Any]:
    """Exchange greetings; the peer's hello, or WireError if it speaks another protocol."""
    channel.send({"op": "hello", "version": PROTOCOL_VERSION, "role": role})
    reply = channel.recv(timeout)
    if reply.get("op") != "hello":
        raise WireError(f"the first message was not a hello but {shown(reply.get('op'))}")
    version = reply.get("version")
    if type(version) is not int or version != PROTOCOL_VERSION:
        theirs = shown(version)
        raise WireError(f"the peer speaks protocol version {theirs}; this one {PROTOCOL_VERSION}")
    if type(reply.get("role")) is not str:
        raise WireError("the peer's hello names no role")
    return reply
