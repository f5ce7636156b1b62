r"""Exercise 12 · Async fetcher: bounded, with timeouts, reporting the slowest (reference solution).

One task per url, all gathered at once; an ``asyncio.Semaphore`` lets at most
``limit`` of them fetch at a time, and a slot that frees up goes straight to the
next waiting task. Inside its slot each task bounds its fetch with
``asyncio.timeout`` and records the outcome itself, so no task ever raises (a
``TimeoutError`` is a timeout only when that deadline expired; otherwise
``fetch`` raised it, and it is an error):
``gather`` returns once every url is accounted for and leaves nothing pending.

Try it on real pages from a local web server (loopback only): two pages, a
missing page (404) and a server that accepts connections but never answers.
The example runs as a doctest: ``python -m doctest -v solutions/12_async_fetcher.py``.

>>> import asyncio, http.server, pathlib, socket, tempfile, threading, urllib.parse
>>> folder = tempfile.TemporaryDirectory()
>>> site = pathlib.Path(folder.name)
>>> _ = (site / "a.html").write_bytes(b"<h1>A</h1>")
>>> _ = (site / "b.html").write_bytes(b"<p>B</p>" * 1000)
>>> class QuietHandler(http.server.SimpleHTTPRequestHandler):
...     def __init__(self, *args, **kwargs):
...         super().__init__(*args, directory=str(site), **kwargs)
...     def log_message(self, *args):
...         pass
>>> server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), QuietHandler)
>>> threading.Thread(target=server.serve_forever, daemon=True).start()
>>> silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
>>> async def http_get(url):
...     '''GET ``url`` with HTTP/1.0 over asyncio streams; raise on any status but 200.'''
...     parts = urllib.parse.urlsplit(url)
...     reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
...     try:
...         writer.write(f"GET {parts.path} HTTP/1.0\r\nHost: {parts.netloc}\r\n\r\n".encode())
...         head, _, body = (await reader.read()).partition(b"\r\n\r\n")
...     finally:
...         writer.close()
...     status = int(head.split()[1])
...     if status != 200:
...         raise OSError(f"HTTP {status} for {parts.path}")
...     return body
>>> base = f"http://127.0.0.1:{server.server_port}"
>>> stuck = f"http://127.0.0.1:{silent.getsockname()[1]}/never"
>>> urls = [f"{base}/a.html", f"{base}/b.html", f"{base}/missing.html", stuck]
>>> report = asyncio.run(fetch_report(urls, http_get, limit=2, timeout=0.5))
>>> sorted(len(body) for body in report.results.values())
[10, 8000]
>>> [str(error) for error in report.errors.values()]
['HTTP 404 for /missing.html']
>>> report.timed_out == [stuck]
True
>>> report.slowest[0] in report.results
True
>>> server.shutdown(); server.server_close(); silent.close(); folder.cleanup()
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass


@dataclass
class FetchReport:
    """Where every url ended up, and the slowest successful fetch."""

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
    """Fetch every url, ``limit`` at a time, each within ``timeout``; report every outcome."""
    report = FetchReport(results={}, errors={}, timed_out=[], slowest=None)
    slots = asyncio.Semaphore(limit)

    async def fetch_in_a_slot(url: str) -> None:
        async with slots:
            await fetch_and_record(report, url, fetch, timeout)

    await asyncio.gather(*(fetch_in_a_slot(url) for url in urls))
    return report


async def fetch_and_record(
    report: FetchReport, url: str, fetch: Callable[[str], Awaitable[bytes]], timeout: float
) -> None:
    """Fetch one url within ``timeout`` and record how it ended. Never raises."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout) as deadline:
            body = await fetch(url)
    except TimeoutError as exc:
        if deadline.expired():  # our deadline fired and cancelled the fetch
            report.timed_out.append(url)
        else:  # fetch raised a TimeoutError of its own: one of its errors
            report.errors[url] = exc
    except Exception as exc:  # recorded for the caller, not raised
        report.errors[url] = exc
    else:
        took = time.perf_counter() - started
        report.results[url] = body
        if report.slowest is None or took > report.slowest[1]:
            report.slowest = (url, took)
