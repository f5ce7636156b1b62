"""The hostile-submission corpus: cheats and attacks cost the cheating exercise only.

Every case in ``hostile/corpus.toml`` cheats in one exercise and carries the
reference solution of one or two others (copied in here, not duplicated).
Grading it must leave the grader alive and within its time limits, give the
cheating exercise 0 (or cost it what it tried to forge), leave the honest
exercises' full marks untouched, and say why in the diagnosis.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import threading
import time
import tomllib
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader.runner import HIDDEN_DIR
from grader.sandbox import Isolation, capabilities
from grader.scoring import grade
from grader.selftests.devcheck import ROOT

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


def secrets() -> list[str]:
    """Lines that exist only in the hidden tests and the solutions."""
    hidden = (HIDDEN_DIR / "test_01_wait_for_all.py").read_text().splitlines()[0]
    solution = (ROOT / "solutions" / "01_wait_for_all.py").read_text().splitlines()[0]
    return [hidden.strip('"'), solution.strip('"'), "Later urls answer first"]


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
    listener = Listener()
    try:
        submission = build(case, tmp_path / "submission", listener.port)
        started = time.perf_counter()
        report = grade(
            submission,
            quick_catalogue(case["cheat"]),
            only=[case["cheat"], *case["honest"]],
            seed=1,
            isolation=Isolation.from_catalogue(**case["limits"]),
        )
        elapsed = time.perf_counter() - started
    finally:
        listener.close()
    scores = {e.exercise.slug: e for e in report.exercises}
    cheat = scores[case["cheat"]]
    failures = cheat.failures()
    shown = "; ".join(sorted({r.diagnosis[:160] for r in failures})) or "none"

    assert elapsed < TIME_BOUND, f"grading took {elapsed:.0f}s"
    if case.get("prompt"):
        assert elapsed < EXERCISE_TIMEOUT, f"grading took {elapsed:.0f}s: it waited for a limit"
    assert cheat.error is None, cheat.error
    assert cheat.possible == cheat.exercise.max_points, "the cheat shrank its maximum"
    if case.get("expect", "zero") == "zero":
        assert cheat.earned == 0, f"the cheat earned {cheat.earned:g}: {shown}"
    else:
        assert cheat.earned <= cheat.possible / 2, f"the cheat earned {cheat.earned:g}"
    for slug in case["honest"]:
        honest = scores[slug]
        lost = "; ".join(r.diagnosis for r in honest.failures())
        assert honest.earned == honest.possible == honest.exercise.max_points, lost
    assert any(
        phrase.lower() in r.diagnosis.lower() for r in failures for phrase in case["diagnosis"]
    ), f"no diagnosis says {case['diagnosis']}: {shown}"

    checks = set(case.get("check", ()))
    if "no_daemon" in checks:
        time.sleep(0.2)
        assert not processes_matching(b"sleep\x0031337.4242"), "the daemon outlived the grading"
    if "no_leftovers" in checks and caps.root:
        from grader.sandbox import processes_of_uid

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
            for secret in secrets():
                assert secret not in everything, f"hidden material leaked: {secret!r}"
        else:
            assert any("can read the hidden tests" in n for n in report.notices)


def _leftovers_of_free_uids(processes_of_uid) -> list[int]:
    import fcntl

    iso = Isolation.from_catalogue()
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
def test_the_corpus_holds_for_a_grader_without_root():
    """The whole corpus again, graded by ``nobody``: user namespaces instead of a sandbox uid."""
    import sys
    import tempfile

    from grader.selftests.unprivileged import NOBODY, run_as_nobody

    if not (ROOT / "grader" / "__init__.py").stat().st_mode & 0o004:
        pytest.skip("this checkout is not readable by other users (umask 077?)")
    home = Path(tempfile.mkdtemp(prefix="grader-nobody-"))
    try:
        os.chmod(home, 0o700)
        os.chown(home, NOBODY, NOBODY)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip

        def as_nobody(*args: str, timeout: float) -> str:
            proc = run_as_nobody(
                [sys.executable, *args], needed={ROOT}, env=env, cwd=ROOT, timeout=timeout
            )
            out = (proc.stdout + proc.stderr).strip()
            assert proc.returncode == 0, out[-3000:]
            return out

        probe = "from grader.sandbox import capabilities as c; print(repr(c()))"
        caps = as_nobody("-c", probe, timeout=60)
        assert "root=False" in caps, caps
        as_nobody(
            "-m", "pytest", str(Path(__file__)), "-q", "-p", "no:cacheprovider", "-n", "2",
            "-k", "test_hostile_submission", "--timeout=900", timeout=1200,
        )  # fmt: skip
    finally:
        shutil.rmtree(home, ignore_errors=True)
