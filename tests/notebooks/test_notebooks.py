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
