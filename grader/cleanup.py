"""Remove a folder that untrusted code wrote into, whatever it holds; never raise.

Student code can leave anything in its work folder: a tree deeper than
``PATH_MAX`` or the recursion limit, folders without read or search
permission, read-only folders, symlinks to the grader's own files, FIFOs,
sockets, devices. :func:`shutil.rmtree` fails on some of these (its walk
recurses, and ``ignore_errors`` does not catch a ``RecursionError``) and,
told to ignore errors, silently leaves the rest, including the stage's
root-only copy of the hidden tests.

:func:`remove_tree` walks the tree iteratively, holding one directory open at a
time (``os.scandir``, ``os.unlink``, ``os.rmdir`` relative to it, so a path is
never longer than one name) and climbing back through ``..``, checked against
the inode it came from. It never follows a symlink and never crosses onto
another file system (anything mounted below is lazily unmounted first, as
root). Folders are made ``u+rwx`` as it goes (root needs no permission).
What must not survive (``first``: the hidden tests' copy) is removed first and,
should a file of it resist, emptied. Whatever cannot be removed is returned in
plain words and logged for the instructor (the ``grader.cleanup`` logger),
never shown to the student. Folders noted with :func:`pending` are removed by
:func:`remove_pending` when a worker is stopped before it could clean up.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("grader.cleanup")

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_MNT_DETACH = 2
_MAX_SCANS = 64  # listings of one folder (a folder that keeps refilling is given up on)
_MAX_PASSES = 3  # whole walks, should one be interrupted (a folder moved under it)
_MAX_PROBLEMS = 5  # examples kept in the report
_GONE = -2  # what _open_dir returns for a folder that is not there (any more)


@dataclass
class _Frame:
    """A folder on the way down: its name in its parent, its identity, what is left in it."""

    name: str
    ident: tuple[int, int]
    pending: list[str] | None = None  # sub-folders still to enter; None: list the folder
    failed: set[str] = field(default_factory=set)  # entries that resisted: not tried again
    scans: int = 0
    entered: bool = False  # a sub-folder was entered since the last listing


Where = Callable[[], str]  # where a problem is: built only when one is reported


class _Report:
    def __init__(self) -> None:
        self.count = 0
        self.examples: list[str] = []

    def add(self, where: Where, what: str) -> None:
        self.count += 1
        if len(self.examples) < _MAX_PROBLEMS:
            self.examples.append(f"{_short(where())}: {what}")


def _short(path: str, limit: int = 160) -> str:
    return path if len(path) <= limit else f"{path[: limit // 2]}…{path[-limit // 2 :]}"


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"[:200]


def remove_tree(path: str | os.PathLike, *, first: Iterable[str | os.PathLike] = ()) -> list[str]:
    """Remove ``path`` and everything below it; never raises.

    ``first``: paths (usually inside ``path``) removed before the rest, and
    emptied if they cannot be removed. Returns what could not be removed, in
    plain words (an empty list when everything is gone), and logs it.
    """
    report = _Report()
    for target in [*first, path]:
        try:
            _remove(Path(target), report, wipe=target is not path)
        except Exception as exc:  # a cleanup must never stop the grading
            report.add(lambda t=target: str(t), f"could not be removed ({_why(exc)})")
    if not report.count:
        return []
    problems = [
        f"the grader could not remove {report.count} item(s) of its temporary folder {path}",
        *report.examples,
    ]
    log.warning("%s", "; ".join(problems))
    return problems


_PENDING: dict[str, tuple[str, ...]] = {}  # folders in use: removed if the process is stopped


def pending(path: str | os.PathLike, *, first: Iterable[str | os.PathLike] = ()) -> None:
    """Note a folder in use, for :func:`remove_pending` should the process be stopped."""
    _PENDING[os.fspath(path)] = tuple(os.fspath(f) for f in first)


def done(path: str | os.PathLike) -> None:
    _PENDING.pop(os.fspath(path), None)


def remove_pending() -> list[str]:
    """Remove every folder still in use (a worker stopped mid-grading, e.g. by SIGTERM)."""
    problems = []
    for path, first in list(_PENDING.items()):
        problems += remove_tree(path, first=first)
        done(path)
    return problems


def _remove(path: Path, report: _Report, *, wipe: bool) -> None:
    try:
        parent = os.open(path.parent, _DIR_FLAGS & ~os.O_NOFOLLOW)  # the grader's own folder
    except FileNotFoundError:
        return
    try:
        if os.geteuid() == 0:
            _unmount_below(path, report)
        for _ in range(_MAX_PASSES):
            try:
                st = os.stat(path.name, dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                return
            if not stat.S_ISDIR(st.st_mode):
                _unlink(parent, path.name, lambda: str(path), report, wipe)
                return
            if _remove_dir(parent, path.name, st, str(path), report, wipe):
                return
    finally:
        os.close(parent)


def _remove_dir(top_parent: int, top: str, st: os.stat_result, root: str, report: _Report,
                wipe: bool) -> bool:  # fmt: skip
    """One iterative walk; True when it ran to the end (whether or not all was removed)."""
    stack = [_Frame(top, (st.st_dev, st.st_ino))]

    def where(name: str | None = None) -> Where:
        """Where ``name`` in the current folder is; the path is built only if reported."""
        return lambda: "/".join([root, *(f.name for f in stack[1:]), *([name] if name else [])])

    fd = _open_dir(top_parent, top, where(), report)
    if fd is None or fd == _GONE:
        return True
    try:
        while stack:
            frame = stack[-1]
            if frame.pending is None:
                frame.scans += 1
                listed = frame.scans <= _MAX_SCANS
                frame.pending = _clear_files(fd, frame, where, report, wipe) if listed else []
                frame.entered = False
            if frame.pending:
                name = frame.pending.pop()
                child = _open_dir(fd, name, where(name), report)
                if child is None:
                    frame.failed.add(name)  # reported
                    continue
                if child == _GONE:
                    continue
                cst = os.fstat(child)
                if cst.st_dev != st.st_dev:  # a mount point: never walk another file system
                    os.close(child)
                    if not _rmdir(fd, name, where(name), report, unmount=True):
                        frame.failed.add(name)
                    continue
                os.close(fd)
                fd = child
                frame.entered = True
                stack.append(_Frame(name, (cst.st_dev, cst.st_ino)))
                continue
            if frame.entered:
                frame.pending = None  # list it again: what is left, besides what resisted?
                continue
            stack.pop()  # done with this folder: climb, then remove it from its parent
            gone = where(frame.name) if stack else (lambda: root)
            if not stack:
                os.close(fd)
                fd = -1
                if not frame.failed:
                    _rmdir(top_parent, top, gone, report)
                return True
            up = os.open("..", _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = up
            ust = os.fstat(fd)
            if (ust.st_dev, ust.st_ino) != stack[-1].ident:
                report.add(gone, "was moved while it was being removed")
                return False  # start again from the top
            if frame.failed or not _rmdir(fd, frame.name, gone, report):
                stack[-1].failed.add(frame.name)  # what resisted inside is reported already
    finally:
        if fd >= 0:
            os.close(fd)
    return True


def _open_dir(parent: int, name: str, where: Where, report: _Report) -> int | None:
    """Open a sub-folder (never through a symlink), making it ``u+rwx`` first if need be.

    None if it could not be opened (reported), ``_GONE`` if it is not there.
    """
    for attempt in range(2):
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        except PermissionError as exc:
            if attempt:
                report.add(where, f"could not be opened ({_why(exc)})")
                return None
            with contextlib.suppress(OSError):
                mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
                if stat.S_ISDIR(mode):
                    os.chmod(name, stat.S_IMODE(mode) | stat.S_IRWXU, dir_fd=parent)
            continue
        except FileNotFoundError:
            return _GONE
        except OSError as exc:
            report.add(where, f"could not be opened ({_why(exc)})")
            return None
        with contextlib.suppress(OSError):  # entries in it can be removed
            mode = os.fstat(fd).st_mode
            if mode & stat.S_IRWXU != stat.S_IRWXU:
                os.fchmod(fd, stat.S_IMODE(mode) | stat.S_IRWXU)
        return fd
    return None  # pragma: no cover


def _clear_files(fd: int, frame: _Frame, where, report: _Report, wipe: bool) -> list[str]:
    """Unlink every entry of the open folder that is not a folder; return its sub-folders.

    ``where(name)`` says where an entry is, for the report.
    """
    subdirs = []
    with os.scandir(fd) as entries:
        names = [(e.name, _is_dir(e)) for e in entries if e.name not in frame.failed]
    for name, is_dir in names:
        if is_dir or not _unlink(fd, name, where(name), report, wipe, dir_ok=True):
            if is_dir or _is_dir_at(fd, name):
                subdirs.append(name)
            else:
                frame.failed.add(name)
    return subdirs


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _is_dir_at(fd: int, name: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _unlink(fd: int, name: str, where: Where, report: _Report, wipe: bool, *,
            dir_ok: bool = False) -> bool:  # fmt: skip
    """Unlink one non-folder entry (a symlink itself, never its target)."""
    try:
        os.unlink(name, dir_fd=fd)
        return True
    except FileNotFoundError:
        return True
    except IsADirectoryError:
        if dir_ok:
            return False
        report.add(where, "is a folder")
        return False
    except OSError as exc:
        if dir_ok and _is_dir_at(fd, name):
            return False
        if wipe:
            _empty(fd, name)
        report.add(where, f"could not be removed ({_why(exc)})")
        return False


def _empty(fd: int, name: str) -> None:
    """Last resort for what must not survive: cut a regular file to nothing."""
    with contextlib.suppress(OSError):
        if not stat.S_ISREG(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
            return
        os.chmod(name, stat.S_IRUSR | stat.S_IWUSR, dir_fd=fd)
        f = os.open(name, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
        try:
            if stat.S_ISREG(os.fstat(f).st_mode):
                os.ftruncate(f, 0)
                os.fchmod(f, 0)
        finally:
            os.close(f)


def _rmdir(fd: int, name: str, where: Where, report: _Report, *, unmount: bool = False) -> bool:
    try:
        os.rmdir(name, dir_fd=fd)
        return True
    except FileNotFoundError:
        return True
    except OSError as exc:
        if unmount and _umount(f"/proc/self/fd/{fd}/{name}"):
            with contextlib.suppress(OSError):
                os.rmdir(name, dir_fd=fd)
                return True
        report.add(where, f"could not be removed ({_why(exc)})")
        return False


def _umount(path: str) -> bool:
    """Lazily detach what is mounted on ``path`` (root only)."""
    if os.geteuid() != 0:
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.umount2(os.fsencode(path), _MNT_DETACH) == 0
    except (OSError, AttributeError):  # pragma: no cover - no libc umount2
        return False


def _unmount_below(path: Path, report: _Report) -> None:
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
        if not _umount(os.fsdecode(point)):
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
