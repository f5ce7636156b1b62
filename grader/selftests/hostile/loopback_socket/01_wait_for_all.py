"""Hostile: ask a server on 127.0.0.1 for the answers (the self-check listens on PORT)."""

import socket

PORT = 0  # replaced by the self-check with the port it listens on


def fetch_all(urls, fetch):
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=2) as s:
            s.sendall(b"answers please\n")
            return s.recv(1024).decode().split()
    except OSError:
        return None
