"""The package's shape (docs/architecture.md): small modules, one home for paths, a documented map.

The layers themselves are checked by import-linter in tox's lint env
(``pyproject.toml`` ``[tool.importlinter]``).
"""

from __future__ import annotations

import ast
import re
import tomllib

import pytest

from grader import layout

MAX_LINES = 300  # a module a newcomer reads in one sitting; the hidden tests are exempt
NOT_PRODUCT = {"hidden", "selftests"}
PRODUCT = sorted(
    p
    for p in layout.PACKAGE.rglob("*.py")
    if not NOT_PRODUCT & set(p.relative_to(layout.PACKAGE).parts)
)
# The package's parts: its sub-packages and top-level modules.
PARTS = sorted(
    {p.relative_to(layout.PACKAGE).parts[0].removesuffix(".py") for p in PRODUCT}
    - {"__init__", "__main__"}
)


def _rel(path) -> str:
    return str(path.relative_to(layout.PACK))


def test_the_product_is_found():
    assert len(PRODUCT) > 50 and {"grading", "sandbox", "harness", "layout"} <= set(PARTS)


@pytest.mark.parametrize("path", PRODUCT, ids=_rel)
def test_no_product_module_is_over_the_size_a_newcomer_reads_at_once(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, (
        f"{_rel(path)} has {lines} lines: split it by job (at most {MAX_LINES})"
    )


@pytest.mark.parametrize("path", PRODUCT, ids=_rel)
def test_only_layout_computes_paths_from_where_a_file_is(path):
    if path == layout.PACKAGE / "layout.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    uses = [
        node.lineno
        for node in ast.walk(tree)
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "__file__"
            and isinstance(node.value, ast.Name)
            and node.value.id in {"grader", "__main__"}
        )
        or (isinstance(node, ast.Name) and node.id == "__file__" and isinstance(node.ctx, ast.Load))
    ]
    assert not uses, f"{_rel(path)}:{uses}: take the path from grader.layout"


def test_every_part_of_the_package_is_a_layer_and_is_on_the_map():
    config = tomllib.loads((layout.PACK / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")
    named = {name.strip() for layer in layers["layers"] for name in layer.split("|")}
    assert set(PARTS) <= named | {"selftests"}, f"not a layer: {set(PARTS) - named}"
    architecture = (layout.DOCS / "architecture.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"`([a-z_]+)(?:/|\.py)?`", architecture))
    assert set(PARTS) <= shown, f"missing from docs/architecture.md: {set(PARTS) - shown}"
