"""Notebook contract tests: run through the runner, then check results.json against truth.

The sample company's runs are checked against its planted truth in tests/book (the book build
executes them once); a client-shaped engagement runs through the installed wheel in
test_packaging.py. Here: what every committed notebook must look like."""

from __future__ import annotations

import nbformat
import pytest

from pilot2prod.runner import available_notebooks


@pytest.mark.parametrize("path", available_notebooks(), ids=lambda p: p.stem)
def test_committed_notebooks_carry_no_outputs(path):
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name} has outputs: strip them before committing"
            assert cell.execution_count is None
    assert nb.cells[0].metadata.get("tags") == ["parameters"]


def test_every_subpackage_ships_in_the_wheel():
    """pyproject.toml lists the packages by hand: a chapter left out would install without its
    code, and its notebook would fail on a client's machine."""
    import tomllib

    from pilot2prod.paths import REPO_ROOT

    listed = set(
        tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(REPO_ROOT).parts)
        for p in (REPO_ROOT / "pilot2prod").rglob("__init__.py")
    }
    assert found <= listed, sorted(found - listed)
