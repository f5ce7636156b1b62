"""Hostile: two threads take two locks in opposite orders, then wait for each other."""

import threading


def fetch_all(urls, fetch):
    a, b = threading.Lock(), threading.Lock()
    ready = threading.Barrier(2)

    def one(first, second):
        with first:
            ready.wait()
            with second:
                pass

    threads = [threading.Thread(target=one, args=(a, b)), threading.Thread(target=one, args=(b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [fetch(u) for u in urls]
