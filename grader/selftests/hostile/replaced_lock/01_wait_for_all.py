"""Hostile: replace threading.Lock (and RLock) with do-nothing locks."""

import threading


class NoLock:
    def acquire(self, *args, **kwargs):
        return True

    def release(self):
        pass

    def locked(self):
        return False

    __enter__ = acquire

    def __exit__(self, *exc):
        return False


threading.Lock = NoLock
threading.RLock = NoLock


def fetch_all(urls, fetch):
    return [fetch(u) for u in urls]
