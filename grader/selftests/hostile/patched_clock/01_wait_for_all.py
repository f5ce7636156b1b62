"""Hostile: a sequential solution that freezes the clocks so it looks instant."""

import time

_frozen = time.perf_counter()
time.perf_counter = lambda: _frozen
time.monotonic = lambda: _frozen
time.time = lambda: _frozen


def fetch_all(urls, fetch):
    return [fetch(u) for u in urls]
