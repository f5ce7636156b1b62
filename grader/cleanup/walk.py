"""The walk that removes a folder: iterative, one open folder at a time, never following a link.

The walk holds one directory open at a time (``os.scandir``, ``os.unlink``,
``os.rmdir`` relative to it, so a path is never longer than one name: no
``PATH_MAX``, no recursion limit) and climbs back through ``..``, checked
against the inode it came from. It never follows a symlink and never crosses
onto another file system (a mount point met on the way is detached, as root).
Folders are made ``u+rwx`` as it goes (root needs no permission). A folder that
keeps refilling is given up on after ``_MAX_SCANS`` listings.
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass, field

from grader.cleanup.mounts import umount
from grader.cleanup.problems import Report, Where, why

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_MAX_SCANS = 64  # listings of one folder (a folder that keeps refilling is given up on)
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


def remove_dir(top_parent: int, top: str, st: os.stat_result, root: str, report: Report,
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
            up = os.open("..", DIR_FLAGS, dir_fd=fd)
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


def _open_dir(parent: int, name: str, where: Where, report: Report) -> int | None:
    """Open a sub-folder (never through a symlink), making it ``u+rwx`` first if need be.

    None if it could not be opened (reported), ``_GONE`` if it is not there.
    """
    for attempt in range(2):
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=parent)
        except PermissionError as exc:
            if attempt:
                report.add(where, f"could not be opened ({why(exc)})")
                return None
            with contextlib.suppress(OSError):
                mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
                if stat.S_ISDIR(mode):
                    os.chmod(name, stat.S_IMODE(mode) | stat.S_IRWXU, dir_fd=parent)
            continue
        except FileNotFoundError:
            return _GONE
        except OSError as exc:
            report.add(where, f"could not be opened ({why(exc)})")
            return None
        with contextlib.suppress(OSError):  # entries in it can be removed
            mode = os.fstat(fd).st_mode
            if mode & stat.S_IRWXU != stat.S_IRWXU:
                os.fchmod(fd, stat.S_IMODE(mode) | stat.S_IRWXU)
        return fd
    return None  # pragma: no cover


def _clear_files(fd: int, frame: _Frame, where, report: Report, wipe: bool) -> list[str]:
    """Unlink every entry of the open folder that is not a folder; return its sub-folders.

    ``where(name)`` says where an entry is, for the report.
    """
    subdirs = []
    with os.scandir(fd) as entries:
        names = [(e.name, _is_dir(e)) for e in entries if e.name not in frame.failed]
    for name, is_dir in names:
        if is_dir or not unlink(fd, name, where(name), report, wipe, dir_ok=True):
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


def unlink(fd: int, name: str, where: Where, report: Report, wipe: bool, *,
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
        report.add(where, f"could not be removed ({why(exc)})")
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


def _rmdir(fd: int, name: str, where: Where, report: Report, *, unmount: bool = False) -> bool:
    try:
        os.rmdir(name, dir_fd=fd)
        return True
    except FileNotFoundError:
        return True
    except OSError as exc:
        if unmount and umount(f"/proc/self/fd/{fd}/{name}"):
            with contextlib.suppress(OSError):
                os.rmdir(name, dir_fd=fd)
                return True
        report.add(where, f"could not be removed ({why(exc)})")
        return False
