r"""Exercise 12 · Async fetcher: bounded, with timeouts, reporting the slowest.

``fetch_report(urls, fetch, limit=..., timeout=...)`` fetches every url with
``await fetch(url)`` and reports how each one ended. Right now it awaits the
fetches one after another: 40 pages that each take 50 ms need two seconds, and
one page that never answers stops everything.

asyncio runs many coroutines on ONE thread. The event loop switches between
them only at an ``await``: while one task waits for the network, the others
run. Awaiting coroutines one after another is still sequential; to overlap
them, run them as tasks (``asyncio.gather``, ``asyncio.TaskGroup`` or
``asyncio.create_task``). And since there is only one thread, a blocking call
inside a coroutine (``time.sleep``, blocking I/O, a long computation) freezes
every task on the loop: use ``await asyncio.sleep`` and non-blocking I/O.

The contract:

* Call ``fetch(url)`` once for each url (the urls are distinct).
* At most ``limit`` fetches are in flight at once, and exactly ``limit`` while
  urls are left: when one fetch ends, the next one starts right away (a sliding
  window, not batches that wait for their slowest member).
* Each fetch is bounded by ``timeout`` seconds, counted from the moment that
  fetch starts (waiting for a free slot does not count). A fetch still running
  at its timeout is cancelled, and its url goes into ``timed_out``.
* A fetch that raises an ``Exception`` is recorded, never raised:
  ``errors[url]`` is the exception object ``fetch`` raised. That includes a
  ``TimeoutError`` that ``fetch`` raises itself before your timeout is up
  (say, its own network timeout): it is the fetch's error, so it goes into
  ``errors``. ``timed_out`` holds only the fetches that *you* cancelled at
  your timeout. (``async with asyncio.timeout(t) as cm`` tells the two apart:
  ``cm.expired()`` is true only when its own deadline fired.)
* A fetch that succeeds is recorded as ``results[url] = <what fetch returned>``.
* Every url lands in exactly one of ``results``, ``errors`` and ``timed_out``.
  The order of ``timed_out`` does not matter.
* ``slowest`` is ``(url, seconds)`` for the successful fetch that took longest,
  timed from the start of its fetch to its end (again, waiting for a slot does
  not count); ``None`` when no fetch succeeded. On a tie, either url is fine.
* Never block the event loop.
* When ``fetch_report`` returns, none of the tasks it started is still pending:
  keep every task you create and await it.
* ``fetch_report([], fetch, limit=..., timeout=...)`` returns an empty report
  whose ``slowest`` is ``None``. ``limit`` is at least 1 and ``timeout`` > 0.

Try it on real pages from a local web server (loopback only): two pages, a
missing page (404) and a server that accepts connections but never answers.
The example runs as a doctest: ``python -m doctest -v exercises/12_async_fetcher.py``.
Until your timeouts work, the silent server makes it wait forever (Ctrl-C).

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
    # TODO: run the fetches concurrently as tasks, at most `limit` at a time
    # (an asyncio.Semaphore, or `limit` workers sharing an asyncio.Queue); bound
    # each fetch with asyncio.timeout (or asyncio.wait_for); record errors and
    # timeouts instead of raising; time each successful fetch with
    # time.perf_counter(); await every task before returning.
    report = FetchReport(results={}, errors={}, timed_out=[], slowest=None)
    for url in urls:
        report.results[url] = await fetch(url)
    return report
