"""The subject's sending side: every message goes through one ``Outbox``, so notices keep order.

A notice (a judge callable that only records, ``grader.harness.calling.Notice``) is not waited
for: its call is kept here and sent in a batch, ``{"op": "notices", "items": [...]}``, before
the next other message (a reply, a callback) or once ``NOTICES_PER_MESSAGE`` wait. The judge
serves them in channel order, so a reply's value includes every notice sent before it.
"""

from __future__ import annotations

import threading
from typing import Any

from grader.wire.channel import Channel

NOTICES_PER_MESSAGE = 64  # notices sent at most in one message


class Outbox:
    """Sends messages on ``channel``, each after the notices not sent yet."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self._notices: list[list[Any]] = []  # not sent yet
        self._lock = threading.Lock()  # held while notices and a message are sent

    def send(self, message: dict[str, Any]) -> None:
        """Send ``message`` after the waiting notices; the channel's errors propagate."""
        with self._lock:
            if self._notices:
                notices, self._notices = self._notices, []
                self.channel.send({"op": "notices", "items": notices})
            self.channel.send(message)

    def notice(self, call: list[Any]) -> None:
        """Keep one notice's call; send the batch once it is full."""
        with self._lock:
            self._notices.append(call)
            if len(self._notices) < NOTICES_PER_MESSAGE:
                return
            notices, self._notices = self._notices, []
            self.channel.send({"op": "notices", "items": notices})
