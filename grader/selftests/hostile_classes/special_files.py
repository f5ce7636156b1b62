"""Entries that are neither folders nor files: a named pipe and a socket (named like zips,
so reading them would block or fail), a device file (root only); and an honest-looking
folder whose exercise module is a named pipe (never opened: it would block)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from grader.selftests.hostile_classes._kit import MODULE, honest


def build(class_dir: Path) -> None:
    honest(class_dir)
    os.mkfifo(class_dir / "pipe.zip")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(class_dir / "sock.zip"))
    finally:
        sock.close()
    if os.geteuid() == 0:
        os.mknod(class_dir / "zero.zip", 0o600 | 0o020000, os.makedev(1, 5))  # /dev/zero
    (class_dir / "fifo_module").mkdir()
    os.mkfifo(class_dir / "fifo_module" / MODULE)


EXPECT = {
    "refused": {
        "pipe.zip": "named pipe",
        "sock.zip": "socket",
        "zero.zip": "device file",
        "fifo_module": "no exercise files found",
    },
    "optional": {"zero.zip"},
    "graded": {"honest": "full"},
}
