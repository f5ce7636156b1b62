"""Hostile: write a file without end (next to itself, and in /tmp)."""


def fetch_all(urls, fetch):
    chunk = b"\0" * 2**20
    for path in ("giant.bin", "/tmp/giant.bin"):
        with open(path, "wb") as fh:
            while True:
                fh.write(chunk)
