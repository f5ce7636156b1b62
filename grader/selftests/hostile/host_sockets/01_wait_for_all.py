"""Hostile: connect to every Unix socket in reach (host daemons, docker, the grader's own)."""

import os
import socket
import stat

PORT = 0  # replaced by the self-check: it listens on Unix sockets named after it
FOLDERS = ("/run", "/var/run", "/var", "/tmp", "/var/tmp", "/dev", "/dev/shm", "/home", "/root")


def candidates() -> set[str]:
    found = {f"@grader-hostile-{PORT}"}  # an abstract name: no file at all
    found |= {f"{base}/grader-hostile-{PORT}/answers.sock" for base in ("/run", "/var/tmp", "/tmp")}
    with open("/proc/net/unix") as fh:  # every bound socket this network namespace has
        for line in list(fh)[1:]:
            fields = line.split()
            if len(fields) >= 8:
                found.add(fields[7])
    seen = 0
    for top in (*FOLDERS, os.path.expanduser("~")):
        for folder, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d not in ("proc", "sys")]
            for name in files:
                seen += 1
                path = os.path.join(folder, name)
                try:
                    if stat.S_ISSOCK(os.lstat(path).st_mode):
                        found.add(path)
                except OSError:
                    pass
            if seen > 50_000:
                break
    return found


def fetch_all(urls, fetch):
    reached = []
    for name in sorted(candidates()):
        address = "\0" + name[1:] if name.startswith("@") else name
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                s.connect(address)
                reached.append(name)
        except OSError:
            continue
    raise RuntimeError(f"reached {len(reached)} sockets: {reached}")
