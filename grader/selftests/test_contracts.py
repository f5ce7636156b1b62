"""The contract table: every clause of every stub is tested and shown by a mutant.

The per-mutant check that a clause's mutants really fail its tests is in
``devcheck.check_mutant`` (run by ``grader dev check`` and ``test_pack.py``);
these fast checks read only the files.
"""

from __future__ import annotations

import pytest

from grader import catalogue as catalogue_mod
from grader.cli import main as cli_main
from grader.dev import contracts

CATALOGUE = catalogue_mod.load()


def test_contract_table_is_generated_from_the_mutants_files(cat):
    current = contracts.TABLE_PATH.read_text(encoding="utf-8")
    assert current == contracts.table(cat), (
        "docs/contracts.md is out of date: run 'grader dev contracts --write'"
    )


@pytest.mark.parametrize("exercise", list(CATALOGUE), ids=lambda e: e.slug)
def test_every_clause_has_a_hidden_test_and_a_mutant(exercise):
    found = contracts.problems(exercise)
    assert not found, "\n".join(found)


def _clause(id='"a"', text='"t"', tests='["test_real"]', mutants='["m"]', extra="") -> str:
    return f"[[clause]]\nid = {id}\ntext = {text}\ntests = {tests}\nmutants = {mutants}\n{extra}"


BAD_CLAUSES = {
    "no clause": "",
    "duplicate id": _clause() + _clause(),
    "no test": _clause(tests="[]"),
    "no mutant": _clause(mutants="[]"),
    "unknown test": _clause(tests='["test_gone"]'),
    "helper, not a test": _clause(tests='["helper"]'),
    "unknown mutant": _clause(mutants='["x"]'),
    "unknown key": _clause(extra="mutant = 1\n"),
    "empty text": _clause(text='" "'),
    "tests not a list": _clause(tests='"test_real"'),
    "not toml": "[[clause]\n",
    "clause not tables": "clause = [1, 2]\n",
    "clause a string": 'clause = "id"\n',
    "id not a string": _clause(id="3"),
}
MUTANT = """[[mutant]]
name = "m"
description = "d"
loses = ["correctness"]
diagnosis = "x"
append = "x = 1"
"""


def _fake_exercise(tmp_path, clauses: str):
    exercise = CATALOGUE.get("wait_for_all")
    (tmp_path / "mutants").mkdir()
    (tmp_path / "hidden").mkdir()
    (tmp_path / "mutants" / f"{exercise.stem}.toml").write_text(MUTANT + clauses)
    (tmp_path / "hidden" / exercise.test_file).write_text(
        "import pytest\n\ndef helper():\n    pass\n\n@pytest.mark.parametrize('x', [1])\n"
        "def test_real(x):\n    assert x\n"
    )
    return exercise


@pytest.mark.parametrize("case", list(BAD_CLAUSES))
def test_a_bad_clause_is_reported(tmp_path, case):
    exercise = _fake_exercise(tmp_path, BAD_CLAUSES[case])
    assert contracts.problems(exercise, tmp_path / "mutants", tmp_path / "hidden")


def test_a_good_clause_passes(tmp_path):
    exercise = _fake_exercise(tmp_path, _clause())
    assert contracts.problems(exercise, tmp_path / "mutants", tmp_path / "hidden") == []


def test_a_parametrised_node_id_names_its_function():
    assert contracts.base_name("grader/hidden/t.py::test_x[3-a::b]") == "test_x"
    assert contracts.base_name("t.py::test_y") == "test_y"


def test_dev_contracts_writes_then_checks_the_table(tmp_path, monkeypatch, capsys):
    table = tmp_path / "contracts.md"
    monkeypatch.setattr(contracts, "TABLE_PATH", table)
    monkeypatch.setattr(contracts, "problems", lambda exercise: [])
    assert cli_main(["dev", "contracts"]) == 1  # no table yet
    assert "out of date" in capsys.readouterr().out
    assert cli_main(["dev", "contracts", "--write"]) == 0
    assert table.read_text(encoding="utf-8").startswith("# Contract coverage")
    assert cli_main(["dev", "contracts"]) == 0
    table.write_text(table.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    assert cli_main(["dev", "contracts"]) == 1


def test_dev_contracts_reports_a_clause_problem(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(contracts, "TABLE_PATH", tmp_path / "contracts.md")
    monkeypatch.setattr(contracts, "problems", lambda exercise: [f"{exercise.slug}: broken"])
    assert cli_main(["dev", "contracts", "--write"]) == 1
    assert "wait_for_all: broken" in capsys.readouterr().out


def test_a_mutant_that_fails_none_of_its_clause_tests_is_reported(tmp_path):
    exercise = _fake_exercise(tmp_path, _clause())
    mutants, hidden = tmp_path / "mutants", tmp_path / "hidden"
    shown = ["grader/hidden/test_x.py::test_real[1]", "grader/hidden/test_x.py::test_other"]
    assert contracts.unshown(exercise, "m", shown, mutants) == []
    assert contracts.unshown(exercise, "m", ["t.py::test_other"], mutants) == ["a"]
    assert contracts.unshown(exercise, "m", [], mutants) == ["a"]
    assert contracts.unshown(exercise, "not_in_any_clause", [], mutants) == []
    assert contracts.problems(exercise, mutants, hidden) == []
