"""Detach what is mounted below a folder being removed (root only; none in a normal run).

The walk never crosses onto another file system, so a mount left below the
stage (by a sandbox that was stopped mid-way) would keep its folder alive: it
is lazily unmounted first, deepest first, as listed in ``/proc/self/mountinfo``.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from grader.cleanup.problems import Report

_MNT_DETACH = 2


def umount(path: str) -> bool:
    """Lazily detach what is mounted on ``path`` (root only)."""
    if os.geteuid() != 0:
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.umount2(os.fsencode(path), _MNT_DETACH) == 0
    except (OSError, AttributeError):  # pragma: no cover - no libc umount2
        return False


def unmount_below(path: Path, report: Report) -> None:
    """Detach every mount at or below ``path``, deepest first (none in a normal run)."""
    try:
        with open("/proc/self/mountinfo", "rb") as fh:
            text = fh.read(4 * 2**20)
    except OSError:
        return
    root = os.fsencode(path)
    found = []
    for line in text.splitlines():
        fields = line.split(b" ")
        if len(fields) > 4:
            point = _unescape(fields[4])
            if point == root or point.startswith(root + b"/"):
                found.append(point)
    for point in sorted(found, key=len, reverse=True):
        if not umount(os.fsdecode(point)):
            report.add(lambda p=point: os.fsdecode(p), "a mount point that could not be unmounted")


def _unescape(field: bytes) -> bytes:
    r"""Mount points in ``mountinfo`` escape space, tab, newline and backslash as ``\ooo``."""
    out, i = bytearray(), 0
    while i < len(field):
        if field[i : i + 1] == b"\\" and field[i + 1 : i + 4].isdigit():
            out.append(int(field[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:
            out.append(field[i])
            i += 1
    return bytes(out)
