"""The runtime's ops that look at student code rather than call it: watching a call, a hung
call's stacks, and the race amplifier on the loaded module (ops ``INSPECTING``)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from types import CodeType
from typing import Any

from grader.amplifier import MECHANISM, amplify
from grader.subject import watching
from grader.subject.amplifying import Amplifying
from grader.subject.watching import Watch

INSPECTING = frozenset({"watch_start", "watch_end", "stacks", "amplify", "amplify_stop", "canary"})


class Inspector:
    """Serves the ``INSPECTING`` ops for the module loaded last."""

    def __init__(self, own: Callable[[threading.Thread], bool]) -> None:
        self._own = own
        self._amplifying = Amplifying()
        self._watch = Watch(own)
        self._code: CodeType | None = None
        self._root = ""  # the loaded module's folder: the student's frames are there

    def loaded(self, code: CodeType, path: str) -> None:
        """The module now loaded: its code (to amplify) and its file (to find its frames)."""
        self._code = code
        self._root = os.path.dirname(os.path.abspath(path)) + os.sep

    @property
    def fresh_threads(self) -> bool:
        """Whether requests must run on new threads: 3.11's amplifier traces only those."""
        return self._amplifying.active and MECHANISM == "settrace"

    def handle(self, op: str, message: dict[str, Any]) -> Any:
        if op == "watch_start":
            return self._watch.start()
        if op == "watch_end":
            return self._watch.end(float(message.get("grace", 0.5)))
        if op == "stacks":
            return watching.stacks(self._root, self._own)
        if op == "amplify":
            if self._code is None:
                raise RuntimeError("no module is loaded")
            return self._amplifying.start(self._code, dict(message["options"]))
        if op == "amplify_stop":
            return self._amplifying.stop()
        with amplify([], seed=0):  # "canary": the amplifier alone, on no student code
            return None
