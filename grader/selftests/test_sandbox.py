"""The sandbox's parts in isolation: authenticated records, their reading rules, patch detection."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader import layout
from grader.cli import main
from grader.grading.attempt import FORGED, read_attempt
from grader.grading.isolation import isolation
from grader.harness import tamper
from grader.records import RecordWriter, read_records, verified_records
from grader.results import TestInfo as Info
from grader.sandbox import config, mounts, probe, uids
from grader.sandbox import stage as stage_mod

CAT = catalogue_mod.load()
KEY = b"k" * 32
INFOS = [Info(f"t.py::test_{i}", "wait_for_all", "correctness", 1.0, f"t{i}") for i in range(3)]


def write(path: Path, steps, key: bytes = KEY) -> None:
    writer = RecordWriter(path, key=key)
    writer.meta(seed=1)
    writer.plan(INFOS)
    for step in steps:
        step(writer)
    writer.close()


def read(path: Path, expected=None):
    plan, finished = {}, {}
    seen = read_attempt(path, KEY, plan, expected, finished)
    return seen, {k: (v.outcome, v.diagnosis) for k, v in finished.items()}


def test_authentic_records_round_trip_and_forgeries_are_dropped(tmp_path):
    path = tmp_path / "r.jsonl"
    write(path, [lambda w: w.start("t.py::test_0")])
    with open(path, "a") as fh:  # a forged line, a replay, junk
        fh.write(json.dumps({"event": "result", "nodeid": "t.py::test_0", "outcome": "passed"}))
        fh.write("\n" + path.read_text().splitlines()[-1] + "\nnot json\n")
    records, rejected = verified_records(path, KEY)
    assert [r["event"] for r in records] == ["meta", "plan", "start"]
    assert rejected == 3
    assert verified_records(path, b"x" * 32)[0] == []  # another key: nothing is authentic
    assert [r["event"] for r in read_records(path)][:3] == ["meta", "plan", "start"]


def test_a_result_counts_once_confirmed(tmp_path):
    path = tmp_path / "r.jsonl"
    write(path, [
        lambda w: w.start("t.py::test_0"), lambda w: w.result("t.py::test_0", "passed", "", 0.1),
        lambda w: w.start("t.py::test_1"), lambda w: w.result("t.py::test_1", "passed", "", 0.1),
    ])  # fmt: skip
    seen, finished = read(path)
    assert finished == {"t.py::test_0": ("passed", "")}  # test_1's result is unconfirmed
    assert seen.started == ["t.py::test_0", "t.py::test_1"] and not seen.tampered
    write(path2 := tmp_path / "r2.jsonl", [
        lambda w: w.start("t.py::test_0"), lambda w: w.result("t.py::test_0", "failed", "x", 0.1),
        lambda w: w.end(),
    ])  # fmt: skip
    assert read(path2)[1] == {"t.py::test_0": ("failed", "x")}


def test_a_forged_second_result_fails_the_test(tmp_path):
    path = tmp_path / "r.jsonl"
    write(path, [
        lambda w: w.start("t.py::test_0"),
        lambda w: w.result("t.py::test_0", "passed", "", 0.1),  # forged from inside
        lambda w: w.result("t.py::test_0", "failed", "real", 0.1),
        lambda w: w.end(),
    ])  # fmt: skip
    seen, finished = read(path)
    assert seen.tampered and finished == {"t.py::test_0": ("failed", FORGED)}


def test_starts_outside_the_plan_or_repeated_are_refused(tmp_path):
    path = tmp_path / "r.jsonl"
    write(path, [lambda w: w.start("t.py::not_planned")])
    assert read(path)[0].tampered
    write(path3 := tmp_path / "r3.jsonl", [lambda w: w.start("t.py::test_0")])
    assert read(path3, expected={"t.py::test_1"})[0].tampered  # not pending in this attempt


def test_patches_to_watched_modules_are_named():
    import threading

    baseline = tamper.snapshot()
    saved_clock, saved_start = time.perf_counter, threading.Thread.start
    try:
        time.perf_counter = lambda: 0.0
        threading.Thread.start = lambda self: None
        assert tamper.changes(baseline) == ["time.perf_counter", "threading.Thread.start"]
    finally:
        time.perf_counter, threading.Thread.start = saved_clock, saved_start
    assert tamper.changes(baseline) == []


def test_only_a_regular_module_is_copied(tmp_path):
    sub, dest = tmp_path / "sub", tmp_path / "dest"
    sub.mkdir(), dest.mkdir()
    (sub / "secret.txt").write_text("x")
    os.symlink(sub / "secret.txt", sub / "01_wait_for_all.py")
    assert not stage_mod.copy_module(sub, "01_wait_for_all.py", dest)
    (sub / "02_late_binding.py").write_text("x = 1\n")
    assert stage_mod.copy_module(sub, "02_late_binding.py", dest)
    assert sorted(p.name for p in dest.iterdir()) == ["02_late_binding.py"]


def test_the_environment_is_an_allowlist(monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "x")
    monkeypatch.setenv("COVERAGE_PROCESS_CONFIG", "y")
    env = config.base_env(seed=7)
    assert "SECRET_TOKEN" not in env and env["COVERAGE_PROCESS_CONFIG"] == "y"
    assert env["PYTHONHASHSEED"] == "7" and env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] == "1"


def test_limits_come_from_the_catalogue_and_can_be_overridden():
    iso = isolation(CAT)
    assert iso.enabled and iso.limits.address_space_mb == CAT.sandbox["limits"]["address_space_mb"]
    small = isolation(CAT, processes=9, enabled=False)
    assert small.limits.processes == 9 and not small.enabled


def test_cli_rejects_an_unknown_limit(tmp_path, capsys):
    assert main(["grade", str(tmp_path), "--limit", "bogus=1"]) == 2
    assert "bogus" in capsys.readouterr().err


def test_the_mount_plan_hides_the_hidden_tests(tmp_path):
    plan = mounts.mount_plan(tmp_path, os.sys.executable, secrets=layout.SECRET_FOLDERS)
    hidden = [op["target"] for op in plan if op["op"] == "hide"]
    assert str(layout.HIDDEN) in hidden
    tmp = next(op for op in plan if op["target"] == "/tmp")
    assert tmp["writable"] and any(str(tmp_path.resolve()).startswith(k) for k in tmp["keep"])


def test_the_mount_plan_hides_the_submission_and_its_class(tmp_path, monkeypatch):
    monkeypatch.setattr(mounts, "PRIVATE_TMP", ())  # tmp_path stays in view
    student = tmp_path / "class" / "alice"
    student.mkdir(parents=True)
    stage = tmp_path / "stage"
    stage.mkdir()
    plan = mounts.mount_plan(stage, os.sys.executable, student)
    hidden = [op["target"] for op in plan if op["op"] == "hide"]
    assert str(student.parent.resolve()) in hidden  # the class, and the submission with it
    plan = mounts.mount_plan(student.parent, os.sys.executable, student)  # the stage holds it
    assert str(student.resolve()) in [op["target"] for op in plan if op["op"] == "hide"]
    # A folder that holds the stage stays; one already covered is left alone.
    plan = mounts.mount_plan(tmp_path / "class", os.sys.executable, student)
    assert str(student.parent.resolve()) not in [op["target"] for op in plan]
    monkeypatch.setattr(mounts, "PRIVATE_TMP", (str(tmp_path),))
    plan = mounts.mount_plan(stage, os.sys.executable, student)
    assert str(student.resolve()) not in [op["target"] for op in plan]
    # A submission inside a hidden folder (the self-check's alternatives): one cover.
    monkeypatch.setattr(mounts, "PRIVATE_TMP", ())
    alternative = layout.PACKAGE / "selftests" / "alternatives" / "executor"
    plan = mounts.mount_plan(stage, os.sys.executable, alternative, secrets=layout.SECRET_FOLDERS)
    targets = [op["target"] for op in plan]
    assert str(layout.PACKAGE / "selftests") in targets
    assert not [t for t in targets if t.startswith(str(alternative.parent))]


def test_as_the_same_user_the_home_folder_disappears_but_for_what_is_needed(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "secrets").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    stage = home / "stage"
    stage.mkdir()
    plan = mounts.mount_plan(stage, os.sys.executable, same_user=True)
    cover = next(op for op in plan if op["target"] == str(home.resolve()))
    assert cover["op"] == "overmount" and not cover["writable"]
    assert cover["keep"] == [str(stage.resolve())]
    as_root = mounts.mount_plan(stage, os.sys.executable, same_user=False)
    assert all(op["target"] != str(home.resolve()) for op in as_root)


@pytest.mark.skipif(os.geteuid() != 0, reason="uids are switched only when grading as root")
def test_kill_uid_leaves_nothing():
    import subprocess

    uid = isolation().uid_base + 63
    procs = [
        subprocess.Popen(["/bin/sleep", "30"], user=uid, group=uid, start_new_session=True)
        for _ in range(3)
    ]
    assert uids.kill_uid(uid)
    assert uids.processes_of_uid(uid) == []
    for p in procs:
        p.wait(timeout=5)


def test_every_folder_outside_the_operating_system_is_covered(tmp_path, monkeypatch):
    def targets() -> list[str]:
        return [op["target"] for op in mounts.mount_plan(tmp_path, os.sys.executable)]

    assert "/usr" not in targets() and "/etc" not in targets()
    for top in mounts._non_system_folders():
        assert str(top) in targets()
    monkeypatch.setattr(mounts, "SYSTEM_FOLDERS", frozenset({"proc", "sys", "dev", "tmp"}))
    covered = targets()
    assert "/usr" in covered and "/etc" in covered and "/proc" not in covered


def test_run_and_var_are_covered_but_for_the_private_tmp_mount_points(tmp_path):
    # /run and /var hold host sockets (D-Bus, docker, databases) and the uid locks.
    plan = {op["target"]: op for op in mounts.mount_plan(tmp_path, os.sys.executable)}
    for top, inside in (("/run", "/run/lock"), ("/var", "/var/tmp")):
        if os.path.isdir(top) and not os.path.islink(top):
            assert plan[top]["op"] == "overmount" and not plan[top]["writable"]
            if os.path.isdir(inside):
                assert inside in plan[top]["keep"] and plan[inside]["writable"]
    assert isolation(CAT).limits.work_size_mb == (CAT.sandbox["limits"]["work_size_mb"])


PROBE_INSIDE = r"""
import ctypes, json, os
def ns(kind):
    return os.stat(f"/proc/self/ns/{kind}").st_ino
def userns_made():
    pid = os.fork()
    if pid == 0:
        os._exit(0 if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) == 0 else 1)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
work = os.statvfs(".")
try:
    open(os.path.join(os.path.dirname(os.getcwd()), "junk"), "w").close()
    stage_writable = True
except OSError:
    stage_writable = False
print(json.dumps({
    "ipc": ns("ipc"), "work_mb": work.f_blocks * work.f_frsize // 2**20,
    "module": sorted(os.listdir(".")), "stage_writable": stage_writable,
    "run": sorted(os.listdir("/run")), "userns_made": userns_made(),
    "dev": sorted(os.listdir("/dev")), "null": open("/dev/null", "w").write("x"),
}))
"""


def test_the_launcher_isolates_ipc_the_work_folder_and_user_namespaces(tmp_path):
    import subprocess
    import sys

    caps = probe.capabilities()
    if not caps.mountns:
        pytest.skip("no mount namespace here")
    (tmp_path / "01_wait_for_all.py").write_text("x = 1\n")
    iso = isolation(CAT, work_size_mb=3)
    ex = CAT.get("wait_for_all")
    stage = stage_mod.Stage(ex.slug, ex.module_file, tmp_path, iso, caps,
                            private_files=[layout.HIDDEN / ex.test_file])  # fmt: skip
    try:
        work = stage.work(0)
        cmd = stage.wrap([sys.executable, "-c", PROBE_INSIDE], sys.executable)
        proc = subprocess.run(cmd, env=stage.env(1, work), cwd=work, capture_output=True,
                              text=True, timeout=60, check=False)  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        seen = json.loads(proc.stdout.splitlines()[-1])
    finally:
        stage.close()
    assert seen["module"] == ["01_wait_for_all.py"]  # its copy, on a tmpfs of the limit's size
    assert seen["work_mb"] == 3 and not seen["stage_writable"]
    assert seen["run"] in ([], ["lock"])  # no host sockets, no uid locks
    assert "null" in seen["dev"] and set(seen["dev"]) <= {
        *(Path(d).name for d in (*config.DEVICES, *config.DEV_LINKS)),
        "shm",
        "mqueue",
    }  # no /dev/log, /dev/pts, /dev/kvm: a minimal /dev
    if caps.ipcns:
        assert seen["ipc"] != os.stat("/proc/self/ns/ipc").st_ino
    if caps.no_userns and caps.root:  # (not root: the plugin's own nested one is still allowed)
        assert not seen["userns_made"]


def test_what_cannot_be_isolated_here_is_said():
    caps = probe.Capabilities(root=True, netns=True, userns=False, mountns=True, ipcns=True)
    assert any("user namespaces" in n for n in caps.notices())
    no_ipc = probe.Capabilities(True, True, False, True, no_userns=True)
    assert any("IPC namespace" in n for n in no_ipc.notices())
    locked = probe.Capabilities(True, True, False, True, ipcns=True, no_userns=True)
    assert locked.notices() == []


def test_every_folder_on_the_interpreters_link_chain_stays_visible(tmp_path):
    # A venv's python -> ~/.local/bin/python3.x (uv) -> the real prefix: the child
    # follows the same links, so each link's folder must be visible, not only the ends.
    real = Path(os.path.realpath(sys.executable))
    (tmp_path / "local" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "local" / "bin" / "python3").symlink_to(real)
    (tmp_path / "venv" / "bin" / "python").symlink_to("../../local/bin/python3")
    python = str(tmp_path / "venv" / "bin" / "python")
    assert mounts.link_folders(python) == {
        tmp_path / "venv" / "bin", tmp_path / "local" / "bin", real.parent,
    }  # fmt: skip
    needed = mounts.needed_paths(python)
    assert tmp_path / "local" / "bin" in needed, "a link's folder on the way is covered"
    (tmp_path / "loop").symlink_to("loop")
    assert mounts.link_folders(str(tmp_path / "loop")) == {tmp_path}  # a loop ends
