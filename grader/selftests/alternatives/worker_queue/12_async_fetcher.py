"""Exercise 12 · Async fetcher, another style: ``limit`` workers pulling from an asyncio.Queue.

A TaskGroup runs ``min(limit, len(urls))`` workers; each takes the next url off
a shared queue until it is empty, so exactly ``limit`` fetches run while urls
remain. ``asyncio.wait_for`` bounds each fetch, the loop's clock times it, and
the TaskGroup awaits every worker before returning. Each fetch is wrapped so
that its own exceptions (a ``TimeoutError`` included) come back as values:
a ``TimeoutError`` from ``wait_for`` then always means our timeout.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass


@dataclass
class FetchReport:
    results: dict[str, bytes]
    errors: dict[str, Exception]
    timed_out: list[str]
    slowest: tuple[str, float] | None


async def fetch_report(
    urls: Sequence[str],
    fetch: Callable[[str], Awaitable[bytes]],
    *,
    limit: int,
    timeout: float,
) -> FetchReport:
    report = FetchReport(results={}, errors={}, timed_out=[], slowest=None)
    todo: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        todo.put_nowait(url)
    durations: dict[str, float] = {}

    async def attempt(url: str) -> tuple[bool, object]:
        """(True, body), or (False, the exception fetch raised, a TimeoutError included)."""
        try:
            return True, await fetch(url)
        except Exception as exc:
            return False, exc

    async def worker() -> None:
        loop = asyncio.get_running_loop()
        while not todo.empty():
            url = todo.get_nowait()
            started = loop.time()
            try:
                ok, value = await asyncio.wait_for(attempt(url), timeout)
            except TimeoutError:  # only wait_for's own: attempt never raises
                report.timed_out.append(url)
                continue
            if ok:
                report.results[url] = value
                durations[url] = loop.time() - started
            else:
                report.errors[url] = value

    async with asyncio.TaskGroup() as group:
        for _ in range(min(limit, len(urls))):
            group.create_task(worker())
    if durations:
        report.slowest = max(durations.items(), key=lambda item: item[1])
    return report
