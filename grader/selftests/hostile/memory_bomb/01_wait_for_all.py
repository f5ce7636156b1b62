"""Hostile: allocate memory without end."""


def fetch_all(urls, fetch):
    hoard = []
    while True:
        hoard.append(bytearray(64 * 2**20))
