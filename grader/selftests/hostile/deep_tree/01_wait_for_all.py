"""Hostile: leave a folder tree deeper than PATH_MAX and the recursion limit, read-only and
unsearchable folders, FIFOs, unreadable files and symlinks out of the tree (to the root and
to the grader's stage) in its work folder, its home and /tmp, for the cleanup to trip on."""

import contextlib
import os
import tempfile

DEPTH = 3000


def plant(base: str) -> None:
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in range(DEPTH):
            os.mkdir("d", dir_fd=fd)
            child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            if i % 500 == 0:
                os.mkfifo("fifo", dir_fd=fd)
                os.symlink("/", "root", dir_fd=fd)
                os.symlink(os.path.dirname(os.getcwd()), "stage", dir_fd=fd)
                os.close(os.open("locked", os.O_WRONLY | os.O_CREAT, 0o000, dir_fd=fd))
            if i % 7 == 0:
                os.fchmod(fd, 0o500)  # read-only
            elif i % 11 == 0:
                os.fchmod(fd, 0o000)  # neither readable nor searchable
            os.close(fd)
            fd = child
    except OSError:
        pass  # as deep as the limits allowed
    finally:
        os.close(fd)


for where in (os.getcwd(), tempfile.mkdtemp(dir="/tmp")):
    with contextlib.suppress(OSError):
        plant(where)
with contextlib.suppress(OSError):
    os.chmod(os.getcwd(), 0o500)


def fetch_all(urls, fetch):
    return None
