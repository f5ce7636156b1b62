"""``python -P -m grader.subject.main --fd N``: greet the judge on socket fd N, then serve it.

Also run by :mod:`grader.sandbox.entry`, which calls :func:`main` once in the sandbox.
"""

from __future__ import annotations

import argparse
import os
import socket

from grader.subject.runtime import serve
from grader.wire.channel import Channel, hello

HELLO_TIMEOUT = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m grader.subject.main")
    parser.add_argument("--fd", type=int, required=True, help="the channel's socket fd")
    fd = parser.parse_args().fd
    os.set_inheritable(fd, False)  # programs the student starts never get the channel
    channel = Channel(socket.socket(fileno=fd))
    hello(channel, "subject", timeout=HELLO_TIMEOUT)
    serve(channel)  # never returns: the process exits when the judge is done


if __name__ == "__main__":
    main()
