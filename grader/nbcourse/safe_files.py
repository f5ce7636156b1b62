"""A student's files, read without following a link, and in bounded amounts.

The class folder is the students' data, and what is read from it goes back to
them as feedback (``grader nbgrader import``, :mod:`grader.nbcourse.submissions`),
so only what is theirs is read:

* each student folder, its ``exercises/`` and each module is opened one name at
  a time, relative to its parent's descriptor, with ``O_NOFOLLOW``: a symbolic
  link anywhere (a module, ``exercises/``, the student folder) is never
  followed, so nothing outside the student's folder is read;
* a module must be a regular file (``fstat`` on the opened descriptor; opened
  with ``O_NONBLOCK``, so a FIFO cannot hang the import), at most
  :data:`grader.sandbox.config.MAX_MODULE_BYTES`, and UTF-8 text.

A file or folder refused is :class:`Refused`, with a plain-words reason for
that student. The folders of ``submitted/`` are opened the same way
(:func:`subdir`), so a link already there is refused, never followed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator

from grader.sandbox.config import MAX_MODULE_BYTES

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class Refused(Exception):
    """A file or folder of a student's that is not read, in plain words."""


@contextlib.contextmanager
def open_dir(name: str, parent: int | None, what: str) -> Iterator[int]:
    """A folder opened without following a link (``parent``: a dir fd, or None for a path)."""
    try:
        fd = os.open(name, DIR_FLAGS, dir_fd=parent)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Refused(f"{what} is a symbolic link or not a folder: not read") from None
        raise Refused(f"{what} cannot be opened ({exc.strerror})") from None
    try:
        yield fd
    finally:
        os.close(fd)


def read_module(folder: int, name: str, limit: int = MAX_MODULE_BYTES) -> str | None:
    """The text of ``name`` in the folder ``folder`` (a dir fd); None when it is missing.

    Refused (:class:`Refused`): a symbolic link, anything but a regular file, more than
    ``limit`` bytes, or not UTF-8.
    """
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused(f"{name} is a symbolic link: not read") from None
        raise Refused(f"{name} cannot be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise Refused(f"{name} is not a regular file (a folder, FIFO or device): not read")
        if st.st_size > limit:
            raise Refused(f"{name} is larger than {limit} bytes: not read")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise Refused(f"{name} is larger than {limit} bytes: not read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(f"{name} is not UTF-8 text (byte {exc.start}): not read") from None


def read_modules(class_fd: int, student: str, names: list[str]) -> tuple[dict[str, str], list[str]]:
    """The student's modules (of ``names``) found, and the reasons for those refused."""
    found: dict[str, str] = {}
    reasons: list[str] = []
    with open_dir(student, class_fd, "the student folder") as top:
        try:
            code = os.open("exercises", DIR_FLAGS, dir_fd=top)
        except FileNotFoundError:
            code = os.dup(top)
        except OSError as exc:
            if exc.errno not in (errno.ENOTDIR, errno.ELOOP):
                return {}, [f"exercises/ cannot be opened ({exc.strerror})"]
            if stat.S_ISLNK(os.stat("exercises", dir_fd=top, follow_symlinks=False).st_mode):
                return {}, ["exercises/ is a symbolic link: not read"]
            code = os.dup(top)  # a file named exercises: the modules are next to it
        try:
            for name in names:
                try:
                    text = read_module(code, name)
                except Refused as exc:
                    reasons.append(str(exc))
                    continue
                if text is not None:
                    found[name] = text
        finally:
            os.close(code)
    return found, reasons


def subdir(parent: int, name: str, shown_as: str) -> int:
    """The folder ``name`` in ``parent`` (a dir fd), made if missing; a link there is refused."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o755, dir_fd=parent)
    try:
        return os.open(name, DIR_FLAGS, dir_fd=parent)
    except OSError as exc:
        raise Refused(f"{shown_as} is a symbolic link or not a folder ({exc.strerror})") from None
