"""``grader gradescope``: the autograder zip, its settings, and ``run_autograder`` at work.

The end-to-end tests unzip the built autograder into a folder standing in for
``/autograder`` (``GRADER_AUTOGRADER_ROOT``), put a submission in ``submission/``
and run the zip's own ``run_autograder``, with the zip's grader package first on
the path (``GRADER_VENV`` names this venv, which has the dependencies):
``results/results.json`` must follow Gradescope's specification.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader.cli import main
from grader.dev.check import ROOT
from grader.dev.leaks import find_leaks, lines_of, secrets
from grader.grading.runner import HiddenTestRun
from grader.grading.scoring import score_exercise
from grader.release.gradescope import build, contents, write_zip
from grader.release.gradescope_run import autograde
from grader.release.gradescope_settings import CONFIG, Settings
from grader.reports.gradescope import VISIBILITIES, Visibility, not_graded, to_dict
from grader.results import GradeReport, TestInfo, TestResult

CAT = catalogue_mod.load()
WAIT, LATE = CAT.get("wait_for_all"), CAT.get("late_binding")
TOP_KEYS = {
    "score", "execution_time", "output", "output_format", "test_output_format",
    "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard",
}  # fmt: skip
TEST_KEYS = {
    "score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
    "tags", "visibility", "extra_data",
}  # fmt: skip


def cents(x: float) -> int:
    return round(x * 100)


def check_results(data: dict, visibility: Visibility) -> None:
    """results.json as Gradescope's autograder specification describes it, scores exact."""
    assert set(data) <= TOP_KEYS, set(data) - TOP_KEYS
    assert isinstance(data["score"], int | float) and isinstance(data["output"], str)
    assert data["visibility"] == visibility.default
    assert data["stdout_visibility"] == "hidden"  # the log is the instructor's
    assert sum(cents(t["score"]) for t in data["tests"]) == cents(data["score"])
    for test in data["tests"]:
        assert set(test) <= TEST_KEYS, set(test) - TEST_KEYS
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert test["visibility"] in VISIBILITIES
        _slug, category = test["tags"]
        expected = visibility.default if category == "grader-error" else visibility.of(category)
        assert test["visibility"] == expected, test["name"]


# --- visibility ---------------------------------------------------------------------------------


def test_visibility_is_set_per_category_with_a_default():
    vis = Visibility.parse(["timing=after_published, stress=hidden", "after_due_date"])
    assert vis.of("timing") == "after_published" and vis.of("stress") == "hidden"
    assert vis.of("correctness") == vis.default == "after_due_date"
    assert Visibility.parse(None) == Visibility.parse([]) == Visibility()
    assert Visibility().of("stress") == "visible"  # as before: every test visible


@pytest.mark.parametrize(
    ("spec", "words"),
    [("speed=hidden", "category"), ("timing=secret", "setting"), ("timing=", "setting"),
     ("shown", "setting")],
)  # fmt: skip
def test_an_unknown_category_or_setting_is_refused_in_plain_words(spec, words):
    with pytest.raises(ValueError, match=f"the {words} must be one of"):
        Visibility.parse(spec)


def _report() -> GradeReport:
    """A graded submission without running anything: passes, failures, an ungradable test."""
    runs = []
    for ex, outcome in ((WAIT, "passed"), (LATE, "failed")):
        found = [
            TestResult(TestInfo(f"t.py::{c}{i}", ex.slug, c, 1.0, f"{c} {i}"), outcome, "why")
            for c in ex.points
            for i in range(3)
        ]
        info = TestInfo("t.py::u", ex.slug, "timing", 1.0, "u")
        found.append(TestResult(info, "ungradable", "needs 2 CPUs"))
        runs.append(HiddenTestRun(ex, results=found))
    runs.append(HiddenTestRun(CAT.get("amdahl"), error="the grader could not finish this exercise"))
    return GradeReport("s", [score_exercise(r) for r in runs], 1, "3.11", 2, "settrace", 1.0)


def test_results_json_carries_each_categorys_visibility_and_exact_scores():
    report = _report()
    spec = ["correctness=visible,timing=after_published", "stress=hidden,after_due_date"]
    vis = Visibility.parse(spec)
    data = to_dict(report, vis)
    check_results(data, vis)
    seen = {t["tags"][1]: t["visibility"] for t in data["tests"]}
    assert seen == {"correctness": "visible", "timing": "after_published", "stress": "hidden",
                    "grader-error": "after_due_date"}  # fmt: skip
    assert cents(data["score"]) == cents(report.earned) == cents(WAIT.max_points)
    assert not_graded("no files", vis)["visibility"] == "after_due_date"
    check_results(to_dict(report), Visibility())  # the default: everything visible


def test_grade_json_takes_the_visibility_option(tmp_path, capsys):
    out = tmp_path / "results.json"
    assert main(["grade", str(tmp_path), "--json", str(out), "--visibility", "stress=x"]) == 2
    assert "the setting must be one of" in capsys.readouterr().err
    assert not out.exists()
    argv = ["grade", str(tmp_path), "--only", WAIT.slug, "--json", str(out),
            "--visibility", "stress=hidden", "--visibility", "after_published"]  # fmt: skip
    assert main(argv) == 0  # an empty folder: every test fails, quickly
    vis = Visibility.parse("stress=hidden,after_published")
    data = json.loads(out.read_text())
    check_results(data, vis)
    assert {t["visibility"] for t in data["tests"]} == {"hidden", "after_published"}


# --- the zip ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gs") / "autograder.zip"
    argv = ["gradescope", "build", str(out), "--visibility", "timing=after_published",
            "--visibility", "stress=hidden", "--only", f"{WAIT.slug},{LATE.slug}"]  # fmt: skip
    assert main(argv) == 0
    return out


def test_the_zip_holds_the_grader_with_its_hidden_tests_and_nothing_secret(autograder, tmp_path):
    with zipfile.ZipFile(autograder) as zf:
        names = set(zf.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        zf.extractall(tmp_path)
    assert {"setup.sh", "run_autograder", CONFIG, "requirements.txt", "pyproject.toml",
            "README.md", "grader/cli.py", "grader/catalogue.toml",
            "grader/hidden/pytest.ini"} <= names  # fmt: skip
    assert {f"grader/hidden/{e.test_file}" for e in CAT} <= names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert not modes["grader/cli.py"] & 0o111
    for name in names:
        parts = set(Path(name).parts)
        assert not parts & {"selftests", "solutions", "exercises", "tests", ".git", "venv",
                            ".venv", "__pycache__", ".tox"}, name  # fmt: skip
        assert not name.endswith((".pyc", ".pyo")), name
    found = secrets(ROOT)
    in_hidden = set().union(*(lines_of(p) for p in (ROOT / "grader" / "hidden").glob("*.py")))
    solution_lines = [
        s for s in found if not s.source.startswith("grader/hidden/") and s.line not in in_hidden
    ]
    hidden_lines = [s for s in found if s.source.startswith("grader/hidden/")]
    assert len(solution_lines) > 100 and len(hidden_lines) > 500
    leaks = find_leaks(tmp_path, solution_lines)
    assert not leaks, "the autograder leaks solutions:\n" + "\n".join(leaks[:20])
    assert len(find_leaks(tmp_path, hidden_lines)) >= len(hidden_lines)  # all of them, shipped


def test_the_zip_stores_its_settings_and_is_reproducible(autograder, tmp_path):
    with zipfile.ZipFile(autograder) as zf:
        config = zf.read(CONFIG).decode()
        requirements = zf.read("requirements.txt").decode()
    assert config.startswith("# Generated by `grader gradescope build`")
    settings = Settings.from_toml(config)
    assert settings.exercises == (WAIT.slug, LATE.slug)
    assert settings.visibility.settings() == {
        "default": "visible", "correctness": "visible", "timing": "after_published",
        "stress": "hidden",
    }  # fmt: skip
    assert "\npytest==" in requirements and "\nrich==" in requirements
    files = build(tmp_path / "again.zip", settings)
    with zipfile.ZipFile(autograder) as zf:
        assert sorted(files) == sorted(zf.namelist())
    write_zip(tmp_path / "once.zip", files)
    write_zip(tmp_path / "twice.zip", files)
    assert (tmp_path / "once.zip").read_bytes() == (tmp_path / "twice.zip").read_bytes()


def test_build_refuses_bad_options_in_plain_words(tmp_path, capsys):
    assert main(["gradescope", "build", str(tmp_path / "a.zip"), "--only", "nope"]) == 2
    assert main(["gradescope", "build", str(tmp_path / "a.tar")]) == 2
    assert main(["gradescope", "build", str(tmp_path / "a.zip"), "--visibility", "all=x"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and ".zip" in err and "must be one of" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["setup.sh", "run_autograder"])
def test_the_scripts_are_valid_bash(name):
    text = contents(Settings())[name].decode()
    assert text.startswith("#!/usr/bin/env bash\n# Generated by `grader gradescope build`")
    subprocess.run(["bash", "-n", "-c", text], check=True)
    if shutil.which("shellcheck"):
        subprocess.run(["shellcheck", "-s", "bash", "-"], input=text.encode(), check=True)


@pytest.mark.parametrize(
    "config",
    ['exercises = ["nope"]', "[visibility]\nstress = 'secret'", "exercises = 3", "= broken"],
)
def test_a_broken_config_grades_nothing_and_says_why(tmp_path, capsys, config):
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / CONFIG).write_text(config)
    assert autograde(tmp_path) == 2
    assert "cannot read" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    ("v2", "v1", "quota", "jobs"),
    [("50000 100000", None, 0.5, 1), ("max 100000", None, None, 8),
     (None, ("-1", "100000"), None, 8), (None, ("200000", "100000"), 2.0, 2),
     (None, None, None, 8), ("garbage", None, None, 8)],
)  # fmt: skip
def test_the_cpu_quota_of_a_container_bounds_the_exercises_graded_at_once(
    tmp_path, monkeypatch, v2, v1, quota, jobs
):
    from grader.release import gradescope_run

    monkeypatch.setattr(gradescope_run, "CGROUP_V2", tmp_path / "cpu.max")
    monkeypatch.setattr(gradescope_run, "CGROUP_V1", tmp_path / "cpu")
    if v2 is not None:
        (tmp_path / "cpu.max").write_text(v2 + "\n")
    if v1 is not None:
        (tmp_path / "cpu").mkdir()
        (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text(v1[0])
        (tmp_path / "cpu" / "cpu.cfs_period_us").write_text(v1[1])
    assert gradescope_run.cpu_quota() == quota
    assert gradescope_run.grading_jobs(8, quota) == jobs


def test_the_submission_is_found_flat_in_a_repository_or_in_one_zip(tmp_path):
    from grader.release.gradescope_run import read_submission

    module = (ROOT / "solutions" / WAIT.module_file).read_bytes()
    flat, repo, zipped = (tmp_path / n for n in ("flat", "repo", "zipped"))
    (repo / "exercises").mkdir(parents=True)
    (repo / "exercises" / WAIT.module_file).write_bytes(module)
    (repo / "README.md").write_text("mine")
    flat.mkdir()
    (flat / WAIT.module_file).write_bytes(module)
    zipped.mkdir()
    with zipfile.ZipFile(zipped / "my work.zip", "w") as zf:
        zf.writestr(f"pack/exercises/{WAIT.module_file}", module)
    for folder in (flat, repo, zipped):
        assert read_submission(folder, CAT) == {WAIT.module_file: module}, folder


def test_check_reads_the_settings_and_grades_nothing(autograder, tmp_path, capsys):
    with zipfile.ZipFile(autograder) as zf:
        zf.extractall(tmp_path / "source")
    assert autograde(tmp_path, check=True) == 0
    assert "2 exercise(s); visibility default=visible" in capsys.readouterr().out
    assert not (tmp_path / "results").exists()


def test_autograde_grades_a_fresh_copy_of_the_modules_only(autograder, tmp_path, monkeypatch):
    """The plumbing, without grading: what reaches ``grade``, and what is written."""
    from grader.grading import scoring

    seen = {}

    def fake_grade(folder, cat, *, only, seed, jobs, isolation):
        seen.update(files=sorted(p.name for p in folder.iterdir()), only=only, jobs=jobs,
                    isolated=isolation.enabled, original=folder == root / "submission")  # fmt: skip
        return _report()

    monkeypatch.setattr(scoring, "grade", fake_grade)
    root = layout(autograder, tmp_path)
    (root / "results" / "results.json").write_text('{"score": 999}')
    repo = root / "submission" / "repo"
    (repo / "exercises").mkdir(parents=True)
    for name in (WAIT.module_file, "conftest.py", "notes.md"):
        (repo / "exercises" / name).write_text("x = 1\n")
    assert autograde(root) == 0
    assert seen.pop("jobs") >= 1
    assert seen == {"files": [WAIT.module_file], "only": [WAIT.slug, LATE.slug],
                    "isolated": True, "original": False}  # fmt: skip
    data = json.loads((root / "results" / "results.json").read_text())
    check_results(data, VIS)
    assert cents(data["score"]) == cents(_report().earned)


# --- run_autograder in a simulated /autograder --------------------------------------------------


def layout(autograder: Path, root: Path) -> Path:
    """A folder laid out as Gradescope's /autograder: source/ (the zip), submission/, results/."""
    with zipfile.ZipFile(autograder) as zf:
        zf.extractall(root / "source")
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    return root


def run_autograder(root: Path) -> tuple[dict, str]:
    env = {
        # Not measured by the coverage run: it would count the zip's copy of the package.
        **{k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")},
        "GRADER_AUTOGRADER_ROOT": str(root),
        "GRADER_VENV": sys.prefix,  # this venv: the dependencies
        "PYTHONPATH": str(root / "source"),  # the zip's grader, not this checkout's
    }
    proc = subprocess.run(["bash", str(root / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=600, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"from {root / 'source' / 'grader'}" in proc.stdout  # the zip's own grader ran
    return json.loads((root / "results" / "results.json").read_text()), proc.stdout


VIS = Visibility.parse("timing=after_published,stress=hidden")


def _scores(data: dict) -> dict[str, int]:
    out: dict[str, int] = {}
    for test in data["tests"]:
        out[test["tags"][0]] = out.get(test["tags"][0], 0) + cents(test["score"])
    return out


@pytest.mark.pack
def test_run_autograder_gives_the_solutions_full_marks(autograder, tmp_path):
    root = layout(autograder, tmp_path)
    for ex in (WAIT, LATE):  # submitted flat, as files uploaded one by one
        shutil.copyfile(ROOT / "solutions" / ex.module_file, root / "submission" / ex.module_file)
    data, log = run_autograder(root)
    check_results(data, VIS)
    assert cents(data["score"]) == cents(WAIT.max_points + LATE.max_points)
    assert {t["tags"][0] for t in data["tests"]} == {WAIT.slug, LATE.slug}  # --only, kept
    assert "Total 20/20" in log


@pytest.mark.pack
def test_run_autograder_finds_a_repositorys_exercises_and_gives_a_stub_partial_marks(
    autograder, tmp_path
):
    root = layout(autograder, tmp_path)
    repo = root / "submission" / "concurrency-pack-student"  # a GitHub submission
    (repo / "exercises").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "README.md").write_text("my work")
    shutil.copyfile(ROOT / "solutions" / WAIT.module_file, repo / "exercises" / WAIT.module_file)
    shutil.copyfile(ROOT / "exercises" / LATE.module_file, repo / "exercises" / LATE.module_file)
    shutil.copyfile(ROOT / "solutions" / LATE.module_file, repo / "tests" / LATE.module_file)
    data, _ = run_autograder(root)
    check_results(data, VIS)
    scores = _scores(data)
    assert scores[WAIT.slug] == cents(WAIT.max_points)
    assert 0 <= scores[LATE.slug] < cents(LATE.max_points)  # the stub, not tests/'s copy
    assert cents(data["score"]) == sum(scores.values())


def test_run_autograder_without_exercise_files_says_so(autograder, tmp_path):
    root = layout(autograder, tmp_path)
    (root / "source" / CONFIG).write_text(Settings(Visibility.parse("hidden")).to_toml("test"))
    (root / "submission" / "notes.txt").write_text("forgot the files")
    data, _ = run_autograder(root)
    assert data["score"] == 0 and data["tests"] == []
    assert data["visibility"] == "visible"  # whatever the settings: the student must fix it
    assert data["output"].startswith("Not graded:") and "01_wait_for_all.py" in data["output"]
    if os.geteuid() == 0:  # as on Gradescope: graded code (another uid) can enter neither
        for folder in (root / "results", root / "source" / "grader" / "hidden"):
            assert folder.stat().st_mode & 0o077 == 0, folder


HOSTILE = '''
"""Hostile: forge Gradescope's results.json and read the hidden tests, then report."""

from pathlib import Path

ROOT = Path({root!r})


def fetch_all(urls, fetch):
    tried = []
    for target in (ROOT / "results" / "results.json", Path("/autograder/results/results.json")):
        try:
            target.write_text('{{"score": 1000, "tests": []}}')
            tried.append(f"wrote {{target}}")
        except OSError as exc:
            tried.append(f"write {{type(exc).__name__}}")
    loot = []
    for hidden in (ROOT / "source" / "grader" / "hidden", ROOT / "venv"):
        try:
            for path in sorted(hidden.rglob("test_01_wait_for_all.py")):
                loot.append(path.read_text())
        except OSError as exc:
            tried.append(f"read {{type(exc).__name__}}")
    tried.append(f"{{len(loot)}} stolen")
    raise RuntimeError("tried: " + "; ".join(tried) + " || " + " || ".join(loot))
'''


@pytest.mark.pack
def test_a_submission_cannot_forge_results_or_read_the_hidden_tests(autograder, tmp_path):
    root = layout(autograder, tmp_path)
    forged = '{"score": 999, "tests": []}'
    (root / "results" / "results.json").write_text(forged)  # left over: must not count
    sub = root / "submission"
    (sub / WAIT.module_file).write_text(HOSTILE.format(root=str(root)))
    shutil.copyfile(ROOT / "solutions" / LATE.module_file, sub / LATE.module_file)
    data, _ = run_autograder(root)
    check_results(data, VIS)
    scores = _scores(data)
    assert scores[WAIT.slug] == 0 and scores[LATE.slug] == cents(LATE.max_points)
    outputs = "\n".join(t["output"] for t in data["tests"] if t["tags"][0] == WAIT.slug)
    assert "tried: write" in outputs and "0 stolen" in outputs, outputs  # it ran, and failed
    assert "wrote" not in outputs
    text = (root / "results" / "results.json").read_text()
    hidden = [s for s in secrets(ROOT) if s.source == f"grader/hidden/{WAIT.test_file}"]
    assert hidden and not [s for s in hidden if s.line in text]


@pytest.mark.pack
@pytest.mark.skipif(os.geteuid() != 0, reason="Gradescope grades as root: needs root")
def test_without_namespaces_permissions_still_stop_the_submission(
    autograder, tmp_path, monkeypatch
):
    """A container that allows no namespaces (Docker's default seccomp profile may not):
    graded code runs as a sandbox uid only, and root-only folders must stop it."""
    from grader.grading import runner
    from grader.sandbox.probe import Capabilities

    caps = Capabilities(root=True, netns=False, userns=False, mountns=False)
    monkeypatch.setattr(runner, "capabilities", lambda *args, **kwargs: caps)
    root = layout(autograder, tmp_path)
    (root / "results" / "results.json").write_text('{"score": 999, "tests": []}')
    (root / "submission" / WAIT.module_file).write_text(HOSTILE.format(root=str(root)))
    shutil.copyfile(ROOT / "solutions" / LATE.module_file, root / "submission" / LATE.module_file)
    assert autograde(root) == 0
    data = json.loads((root / "results" / "results.json").read_text())
    check_results(data, VIS)
    assert "mount namespaces unavailable" in data["output"]  # the run is the degraded one
    scores = _scores(data)
    assert scores[WAIT.slug] == 0 and scores[LATE.slug] == cents(LATE.max_points)
    outputs = "\n".join(t["output"] for t in data["tests"] if t["tags"][0] == WAIT.slug)
    assert "tried: write PermissionError" in outputs and "0 stolen" in outputs, outputs
