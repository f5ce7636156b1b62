"""The hostile-submission corpus: cheats and attacks cost the cheating exercise only.

Every case in ``hostile/corpus.toml`` cheats in one exercise and carries the
reference solution of one or two others (copied in here, not duplicated).
Grading it must leave the grader alive and within its time limits, give the
cheating exercise 0 (or cost it what it tried to forge), leave the honest
exercises' full marks untouched, and say why in the diagnosis.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import socket
import tempfile
import threading
import time
import tomllib
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader import layout
from grader.dev.check import ROOT
from grader.grading.isolation import isolation
from grader.grading.scoring import grade
from grader.sandbox.probe import capabilities

pytestmark = pytest.mark.pack

CORPUS_DIR = Path(__file__).with_name("hostile")
CORPUS = tomllib.loads((CORPUS_DIR / "corpus.toml").read_text())
DEFAULTS = CORPUS["defaults"]
CASES = [{**DEFAULTS, **case} for case in CORPUS["case"]]
CAT = catalogue_mod.load()
TEST_TIMEOUT, EXERCISE_TIMEOUT = 4.0, 20.0
TIME_BOUND = EXERCISE_TIMEOUT + 30.0  # the cheat's limit, start-ups and the honest ones


def quick_catalogue(cheat: str) -> catalogue_mod.Catalogue:
    """The catalogue with small time limits for the cheating exercise."""
    exercises = tuple(
        dataclasses.replace(e, test_timeout=TEST_TIMEOUT, exercise_timeout=EXERCISE_TIMEOUT)
        if e.slug == cheat
        else e
        for e in CAT
    )
    return dataclasses.replace(CAT, exercises=exercises)


def build(case: dict, dest: Path, port: int) -> Path:
    folder = CORPUS_DIR / case["name"]
    for path in folder.rglob("*"):
        if path.is_file() and path.name != "README":
            target = dest / path.relative_to(folder)
            target = target.with_name(target.name.removesuffix(".planted"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(path.read_text().replace("PORT = 0", f"PORT = {port}"))
    dest.mkdir(parents=True, exist_ok=True)
    for name, text in case.get("files", {}).items():
        (dest / name).write_text(text)
    for slug in case["honest"]:
        module = CAT.get(slug).module_file
        shutil.copyfile(ROOT / "solutions" / module, dest / module)
    return dest


class Listener:
    """A server on 127.0.0.1 that counts who connects (loopback only)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            with conn:
                conn.sendall(b"forged answers\n")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


class UnixListener(Listener):
    """A server on a Unix socket (a path, or an abstract name) that counts who connects."""

    def __init__(self, address: str | bytes) -> None:  # no super(): no TCP socket
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(address)
        if isinstance(address, str):
            os.chmod(address, 0o777)  # the sandbox uid could connect, were it in reach
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()


def unix_listeners(port: int) -> tuple[list[UnixListener], Path]:
    """Sockets named after ``port``: abstract, and in the first of /run, /var/tmp, /tmp we may
    write (the host's daemons keep theirs there); ``host_sockets`` tries to reach them."""
    folder = next(
        Path(base, f"grader-hostile-{port}")
        for base in ("/run", "/var/tmp", tempfile.gettempdir())
        if os.access(base, os.W_OK)
    )
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    abstract = UnixListener(f"\0grader-hostile-{port}".encode())
    return [abstract, UnixListener(str(folder / "answers.sock"))], folder


class DiskWatch:
    """Samples how much the disk under the grader's temporary folder grows, at its peak."""

    def __init__(self, path: str) -> None:
        self.path, self.peak = path, 0
        self.base = self._used()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _used(self) -> int:
        st = os.statvfs(self.path)
        return (st.f_blocks - st.f_bfree) * st.f_frsize

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._used() - self.base)

    def close(self) -> int:
        """The peak growth in MB."""
        self._stop.set()
        self._thread.join()
        return self.peak // 2**20


SYSV_KEY, MQUEUE = 0x47524144, b"/grader-hostile-queue"  # what sysv_shm leaves, if it can


def host_ipc_leftovers(remove: bool = True) -> list[str]:
    """System V objects with ``SYSV_KEY`` and the POSIX queue ``MQUEUE`` on the host (removed)."""
    import ctypes
    import ctypes.util
    import subprocess

    found = []
    for kind, flag in (("shm", "-M"), ("sem", "-S"), ("msg", "-Q")):
        with contextlib.suppress(OSError):
            rows = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
            if any(row.split()[0] == str(SYSV_KEY) for row in rows):
                found.append(kind)
                if remove:
                    subprocess.run(["ipcrm", flag, str(SYSV_KEY)], check=False)
    for name in (None, ctypes.util.find_library("rt")):
        lib = ctypes.CDLL(name, use_errno=True)
        if hasattr(lib, "mq_open"):
            fd = lib.mq_open(MQUEUE, os.O_RDONLY)
            if fd >= 0:
                found.append("mqueue")
                os.close(fd)
                if remove:
                    lib.mq_unlink(MQUEUE)
            break
    return found


class StageRecorder:
    """Records the stage folder (``grader.sandbox.config.STAGE_PREFIX``...) of every exercise graded
    while it is installed: only this grading's, not a concurrent one's on a shared machine."""

    def __init__(self) -> None:
        from grader.sandbox.stage import Stage

        self.roots: list[str] = []
        self._stage, self._init = Stage, Stage.__init__

        def init(stage, *args, **kwargs):
            try:
                self._init(stage, *args, **kwargs)
            finally:
                if getattr(stage, "root", None) is not None:
                    self.roots.append(str(stage.root))

        Stage.__init__ = init

    def close(self) -> None:
        self._stage.__init__ = self._init


def processes_matching(needle: bytes) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if needle in cmdline:
                found.append(int(pid))
    return found


def secrets(slug: str) -> list[str]:
    """Lines that exist only in the exercise's hidden tests and its solution."""
    exercise = CAT.get(slug)
    hidden = (layout.HIDDEN / exercise.test_file).read_text().splitlines()
    solution = (ROOT / "solutions" / exercise.module_file).read_text().splitlines()[0]
    found = [hidden[0].strip('"'), solution.strip('"')]
    # a line of test code: for 01 a test's title, else the first helper's signature
    found += (
        ["Later urls answer first"]
        if slug == "wait_for_all"
        else [line.strip() for line in hidden if line.startswith("def ")][:1]
    )
    return found


def test_the_corpus_lists_every_case_folder_and_the_readme_counts_them():
    folders = {p.name for p in CORPUS_DIR.iterdir() if p.is_dir() and p.name != "__pycache__"}
    listed = [c["name"] for c in CASES]
    assert len(listed) == len(set(listed)), "a case is listed twice in corpus.toml"
    unlisted = folders - set(listed)
    assert not unlisted, f"case folders missing from corpus.toml: {sorted(unlisted)}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`grader/selftests/hostile/`, {len(CASES)} cheating" in readme, (
        f"README.md should count the hostile corpus's {len(CASES)} cases"
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hostile_submission(case, tmp_path):
    caps = capabilities()
    checks = set(case.get("check", ()))
    listener = Listener()
    sockets, socket_dir = (
        unix_listeners(listener.port) if "no_unix_connection" in checks else ([], None)
    )
    disk = DiskWatch(tempfile.gettempdir()) if "no_disk_growth" in checks else None
    stages = StageRecorder() if "no_stage_left" in checks else None
    try:
        submission = build(case, tmp_path / "submission", listener.port)
        started = time.perf_counter()
        report = grade(
            submission,
            quick_catalogue(case["cheat"]),
            only=[case["cheat"], *case["honest"]],
            seed=1,
            isolation=isolation(**case["limits"]),
        )
        elapsed = time.perf_counter() - started
        if "no_ipc_left" in checks:  # a second submission looks for what the first left
            again = grade(submission, quick_catalogue(case["cheat"]), only=[case["cheat"]],
                          seed=2, isolation=isolation(**case["limits"]))  # fmt: skip
    finally:
        if stages is not None:
            stages.close()
        listener.close()
        for server in sockets:
            server.close()
        if socket_dir is not None:
            shutil.rmtree(socket_dir, ignore_errors=True)
        grown_mb = disk.close() if disk else 0
        leaked_ipc = host_ipc_leftovers() if "no_ipc_left" in checks else []
    scores = {e.exercise.slug: e for e in report.exercises}
    cheat = scores[case["cheat"]]
    failures = cheat.failures()
    shown = "; ".join(sorted({r.diagnosis[:160] for r in failures})) or "none"

    assert elapsed < TIME_BOUND, f"grading took {elapsed:.0f}s"
    if case.get("prompt"):
        assert elapsed < EXERCISE_TIMEOUT, f"grading took {elapsed:.0f}s: it waited for a limit"
    assert cheat.error is None, cheat.error
    assert cheat.possible == cheat.exercise.max_points, "the cheat shrank its maximum"
    expect = case.get("expect", "zero")
    if expect == "zero":
        assert cheat.earned == 0, f"the cheat earned {cheat.earned:g}: {shown}"
    elif expect == "loses":
        assert cheat.earned <= cheat.possible / 2, f"the cheat earned {cheat.earned:g}"
    else:  # "counted": the maximum (asserted above) and the diagnosis are the point
        assert expect == "counted", f"unknown expect {expect!r}"
        assert cheat.earned < cheat.possible, f"the cheat earned {cheat.earned:g}"
    for slug in case["honest"]:
        honest = scores[slug]
        lost = "; ".join(r.diagnosis for r in honest.failures())
        assert honest.earned == honest.possible == honest.exercise.max_points, lost
    assert any(
        phrase.lower() in r.diagnosis.lower() for r in failures for phrase in case["diagnosis"]
    ), f"no diagnosis says {case['diagnosis']}: {shown}"

    if "no_daemon" in checks:
        time.sleep(0.2)
        assert not processes_matching(b"sleep\x0031337.4242"), "the daemon outlived the grading"
    if "no_leftovers" in checks and caps.root:
        from grader.sandbox.uids import processes_of_uid

        # Our own runs' uids are free again; any process of theirs would be a leftover
        # (uids still locked by a concurrent run are skipped).
        assert not _leftovers_of_free_uids(processes_of_uid)
    if "no_connection" in checks:
        if caps.netns:
            assert listener.connections == 0, "student code reached the grader's loopback"
        else:
            assert any("network isolation unavailable" in n for n in report.notices)
    if "no_secret" in checks:
        everything = " ".join(r.diagnosis for e in report.exercises for c in e.categories.values()
                              for r in c.results)  # fmt: skip
        if caps.mountns:
            for secret in secrets(case["cheat"]):
                assert secret not in everything, f"hidden material leaked: {secret!r}"
        else:
            assert any("can read the hidden tests" in n for n in report.notices)
    if "no_ipc_left" in checks:
        assert not leaked_ipc, f"IPC objects outlived the grading on the host: {leaked_ipc}"
        second = "; ".join(r.diagnosis for r in again.exercises[0].failures())
        assert "found 0 objects" in second, f"a later submission found them: {second}"
    if "no_unix_connection" in checks:
        abstract, path = (server.connections for server in sockets)
        if caps.mountns:
            assert path == 0, "student code reached a Unix socket of the host"
        if caps.netns:
            assert abstract == 0, "student code reached an abstract Unix socket of the host"
    if "no_disk_growth" in checks and caps.mountns:
        # The case writes 400 MB; the sandbox lets it keep 8 MB of stderr on the disk. The
        # margin is for other processes of a shared machine writing meanwhile.
        assert grown_mb <= 128, f"the disk grew by {grown_mb} MB while grading"
    if "no_stage_left" in checks:
        assert stages.roots, "no stage was recorded: the check would prove nothing"
        left = [r for r in stages.roots if os.path.lexists(r)]
        assert not left, f"stage folders left behind (hidden tests' copy included?): {left}"


def _leftovers_of_free_uids(processes_of_uid) -> list[int]:
    import fcntl

    iso = isolation()
    left = []
    for uid in range(iso.uid_base, iso.uid_base + iso.uid_count):
        lock = Path(f"/run/grader-sandbox/uid-{uid}.lock")
        if not lock.exists():
            continue
        with open(lock, "a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # in use by a concurrent grading
            try:
                left += processes_of_uid(uid)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    return left


@pytest.mark.skipif(os.geteuid() != 0, reason="not root: the corpus above is the unprivileged case")
@pytest.mark.full  # the corpus a second time, as nobody: a few minutes
def test_the_corpus_holds_for_a_grader_without_root():
    """The whole corpus again, graded by ``nobody``: user namespaces instead of a sandbox uid."""
    import sys

    from grader.dev.unprivileged import nobody_home, readable_by_others, run_as_nobody

    if not readable_by_others(ROOT / "grader" / "__init__.py"):
        pytest.skip("this checkout is not readable by other users (umask 077?)")
    with nobody_home() as (_home, env):

        def as_nobody(*args: str, timeout: float) -> str:
            proc = run_as_nobody(
                [sys.executable, *args], needed={ROOT}, env=env, cwd=ROOT, timeout=timeout
            )
            out = (proc.stdout + proc.stderr).strip()
            assert proc.returncode == 0, out[-3000:]
            return out

        probe = "from grader.sandbox.probe import capabilities as c; print(repr(c()))"
        caps = as_nobody("-c", probe, timeout=60)
        assert "root=False" in caps, caps
        as_nobody(
            "-m", "pytest", str(Path(__file__)), "-q", "-p", "no:cacheprovider", "-n", "2",
            "-k", "test_hostile_submission", "--timeout=900", timeout=1200,
        )  # fmt: skip
