"""Exercise 1 · Beat sequential timing: spawn and wait (reference solution).

One thread per url, all started before any is joined, so every ``fetch`` is
in flight at once. Each thread writes into its own slot, which keeps url order
without a lock; exceptions are kept the same way and re-raised after the join.
"""

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def fetch_all(urls: Sequence[str], fetch: Callable[[str], T]) -> list[T]:
    """Call ``fetch`` on every url concurrently; return the results in url order."""
    results: list = [None] * len(urls)
    errors: list[BaseException | None] = [None] * len(urls)

    def fetch_into_slot(i: int, url: str) -> None:
        try:
            results[i] = fetch(url)
        except BaseException as exc:  # handed back to the caller below
            errors[i] = exc

    threads = [threading.Thread(target=fetch_into_slot, args=(i, u)) for i, u in enumerate(urls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
    return results
