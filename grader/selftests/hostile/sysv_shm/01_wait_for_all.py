"""Hostile: leave System V shared memory, semaphores, a message queue and a POSIX message
queue behind for the next submission graded on this machine, and look for an earlier one's."""

import ctypes
import ctypes.util
import os

KEY = 0x47524144  # "GRAD": the self-check looks for objects with this key on the host
QUEUE = b"/grader-hostile-queue"
IPC_CREAT = 0o1000


def _mq_open():
    for name in (None, ctypes.util.find_library("rt")):
        lib = ctypes.CDLL(name, use_errno=True)
        if hasattr(lib, "mq_open"):
            return lib.mq_open
    return None


def found_and_left() -> tuple[int, int]:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    found = sum(
        get(*args) >= 0
        for get, args in ((libc.shmget, (KEY, 0, 0)), (libc.semget, (KEY, 0, 0)),
                          (libc.msgget, (KEY, 0)))
    )  # fmt: skip
    shm = libc.shmget(KEY, 4096, IPC_CREAT | 0o666)
    left = shm >= 0
    if shm >= 0:
        addr = libc.shmat(shm, None, 0)
        if addr not in (None, ctypes.c_void_p(-1).value):
            ctypes.memmove(addr, b"answers: [1, 2, 3]\0", 19)
    left += libc.semget(KEY, 1, IPC_CREAT | 0o666) >= 0
    left += libc.msgget(KEY, IPC_CREAT | 0o666) >= 0
    mq_open = _mq_open()
    if mq_open is not None:
        old = mq_open(QUEUE, os.O_RDONLY)
        found += old >= 0
        left += mq_open(QUEUE, os.O_RDWR | os.O_CREAT, 0o666, None) >= 0
    return found, left


def fetch_all(urls, fetch):
    found, left = found_and_left()
    raise RuntimeError(f"found {found} objects of an earlier run; left {left} behind")
