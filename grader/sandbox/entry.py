"""``python -P -m grader.sandbox.entry CONFIG -- PYTHON -P -m MODULE [ARG...]``.

Runs inside the launcher, in place of a command that holds nothing secret (the judge's
subject): imports ``MODULE`` and the modules CONFIG names while still privileged, enters the
sandbox (:mod:`grader.sandbox.inside`: as root, the sandbox uid; not root, the covers locked
in a nested user namespace), then calls ``MODULE.main()`` with the arguments. Importing first
matters where the interpreter lies in a folder the sandbox uid cannot read (``/root``) and no
mount namespace makes it visible: everything the command needs is loaded before the drop.

CONFIG (JSON): ``drop`` [uid, gid] or null, ``hide`` a folder or null, ``preload`` names,
``common`` true to load ``COMMON`` as well.
"""

from __future__ import annotations

import importlib
import json
import sys

from grader.sandbox.config import LAUNCHER_FAILED
from grader.sandbox.inside import enter_sandbox, enter_user_sandbox

#: What student code commonly imports: loaded before the drop, for an unreadable interpreter.
COMMON = (
    "asyncio", "collections", "concurrent.futures", "contextlib", "dataclasses", "functools",
    "heapq", "itertools", "math", "multiprocessing", "multiprocessing.pool", "queue", "random",
    "statistics", "threading", "time", "typing",
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        config = json.loads(argv[0])
        rest = argv[argv.index("--") + 1 :]
        at = rest.index("-m")
        name, args = rest[at + 1], rest[at + 2 :]
        target = importlib.import_module(name)
        preload = [*(COMMON if config.get("common") else ()), *config.get("preload", ())]
        if config.get("drop"):
            uid, gid = config["drop"]
            enter_sandbox(uid, gid, preload=preload)
        elif config.get("hide"):
            enter_user_sandbox(config["hide"], preload=preload)
        else:
            for module in preload:
                importlib.import_module(module)
    except (ValueError, IndexError, KeyError, OSError, ImportError) as exc:
        print(f"grader-sandbox: could not enter the sandbox: {exc}", file=sys.stderr, flush=True)
        return LAUNCHER_FAILED
    sys.argv = [name, *args]
    return target.main()


if __name__ == "__main__":
    sys.exit(main())
