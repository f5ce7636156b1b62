"""Exercise 1, another style: a thread pool with one worker per url.

Leaving the ``with`` block waits for every call, so results and exceptions are
collected only after all fetches ended; ``result()`` re-raises a fetch's error.
"""

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def fetch_all(urls: Sequence[str], fetch: Callable[[str], T]) -> list[T]:
    if not urls:
        return []
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        futures = [pool.submit(fetch, url) for url in urls]
    return [future.result() for future in futures]
