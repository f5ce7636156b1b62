"""The subject's process: started in its own session, its output drained, its group killed.

stdout and stderr are pipes read by threads that keep only a bounded tail, so a child that
prints heavily never blocks and never fills the judge's memory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import IO, NoReturn

from grader.grading.judge.verdicts import SubjectMisbehaved, SubjectNeverStarted
from grader.wire.channel import Channel
from grader.wire.codec import WireError

TAIL_BYTES = 4096
_READ = 65536


class _Tail:
    """The last ``TAIL_BYTES`` of a stream, read to its end by a daemon thread."""

    def __init__(self, stream: IO[bytes], name: str) -> None:
        self._data = bytearray()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, args=(stream,), name=name, daemon=True)
        self._thread.start()

    def _drain(self, stream: IO[bytes]) -> None:
        with stream:
            while chunk := stream.read1(_READ):
                with self._lock:
                    self._data += chunk
                    del self._data[:-TAIL_BYTES]

    def text(self, wait: float = 0.0) -> str:
        self._thread.join(wait)
        with self._lock:
            return self._data.decode("utf-8", "replace")


class Child:
    """A started subject process, with ``fd`` passed to it and nothing else inherited."""

    def __init__(
        self,
        command: list[str],
        fd: int,
        env: dict[str, str] | None,
        cwd: Path | None,
        wrapped: bool = False,
    ) -> None:
        self.wrapped = wrapped  # started by a launcher: the subject is the launcher's child
        self.process = subprocess.Popen(
            command,
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,  # its own process group, killed as one
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self._stdout = _Tail(self.process.stdout, "judge-subject-stdout")
        self._stderr = _Tail(self.process.stderr, "judge-subject-stderr")

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """Kill the subject's whole process group (its workers too) and reap it."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.kill()
        self.process.wait()

    def status(self, wait: float) -> int | None:
        """The exit status, waiting up to ``wait`` seconds; None if it is still running."""
        try:
            return self.process.wait(wait)
        except subprocess.TimeoutExpired:
            return None

    def stderr_tail(self, wait: float = 0.0) -> str:
        return self._stderr.text(wait)

    def stdout_tail(self, wait: float = 0.0) -> str:
        return self._stdout.text(wait)


def refuse_start(channel: Channel, child: Child, error: BaseException, timeout: float) -> NoReturn:
    """End a subject that did not greet properly, and raise the verdict.

    Before the hello no student code has run: a subject that ended or stalled there is the
    sandbox's or the machine's fault (``SubjectNeverStarted``); garbage instead of a hello
    is only possible from a subject that is not ours.
    """
    child.kill()
    channel.close()
    tail = child.stderr_tail(wait=1.0)
    if isinstance(error, TimeoutError):
        raise SubjectNeverStarted(f"no hello within {timeout:g}s", tail) from None
    if isinstance(error, (EOFError, OSError)):
        raise SubjectNeverStarted(f"exit status {child.status(0.0)}", tail) from None
    if isinstance(error, WireError):
        raise SubjectMisbehaved(str(error), tail) from None
    raise error
