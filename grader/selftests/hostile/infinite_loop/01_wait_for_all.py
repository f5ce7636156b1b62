"""Hostile: an endless loop in the function under test."""


def fetch_all(urls, fetch):
    n = 0
    while True:
        n += 1
