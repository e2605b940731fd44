"""Notebook contract tests: run through the runner, then check results.json against truth."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import FIELD_PARAMS
from pilot2prod.runner import available_notebooks, run_notebook


@pytest.mark.parametrize("path", available_notebooks(), ids=lambda p: p.stem)
def test_committed_notebooks_carry_no_outputs(path):
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name} has outputs: strip them before committing"
            assert cell.execution_count is None
    assert nb.cells[0].metadata.get("tags") == ["parameters"]


@pytest.mark.slow
def test_success_metric_on_the_sample_company(tmp_path, truth):
    result = run_notebook(
        "01_success_metric",
        from_text={"n_bootstrap": "1000"},
        out=tmp_path,
        cwd=tmp_path,
        progress=False,
    )
    assert result.folder.parent == tmp_path / "01_success_metric"
    names = {p.name for p in result.folder.iterdir()}
    assert {
        "01_success_metric.ipynb",
        "01_success_metric.html",
        "01_success_metric.no-code.html",
        "results.json",
        "metric_spec.yaml",
        "parameters.yaml",
    } <= names
    results = json.loads(result.results_json.read_text())
    planted = truth["chapter1_baseline"]
    base = results["baseline"]
    assert base["events"] == planted["tickets_in_window"]
    assert base["open"] == planted["open_at_as_of"]
    assert base["km_low"] <= planted["true_median_hours"] <= base["km_high"]
    assert base["naive_closed_only"] == pytest.approx(
        planted["naive_closed_only_median_hours"], rel=0.002
    )
    assert (
        results["cleaning"]["end_before_start"]
        == truth["defects"]["tickets_end_before_start"]["count"]
    )
    assert results["power"]["weeks_needed"] >= 2
    spec = yaml.safe_load((result.folder / "metric_spec.yaml").read_text())
    assert spec["statement"] == results["statement"]
    assert spec["baseline"]["value"] == pytest.approx(base["km"])
    used = yaml.safe_load((result.folder / "parameters.yaml").read_text())
    assert used["output_dir"] == str(result.folder)
    assert Path(used["events_path"]).is_absolute()
    no_code = result.html_no_code.read_text()
    assert 'class="jp-CodeMirrorEditor' not in no_code  # no code cells for executives
    assert 'class="jp-CodeMirrorEditor' in result.html.read_text()
    assert "<img" in no_code  # figures survive the no-code export


@pytest.mark.slow
def test_success_metric_on_a_fixture_with_other_columns_and_unit(field_service, tmp_path):
    path, planted = field_service
    values = {"events_path": path.name, **FIELD_PARAMS}
    params_file = tmp_path / "field.yaml"
    params_file.write_text(yaml.safe_dump(values))
    run = run_notebook(
        "01", from_file=yaml.safe_load(params_file.read_text()), cwd=path.parent, progress=False
    )
    results = json.loads(run.results_json.read_text())
    assert results["unit"] == "days"
    base = results["baseline"]
    assert base["km_low"] <= planted["true_median_days"] <= base["km_high"]
    assert base["naive_closed_only"] < planted["true_median_days"]
    assert base["open"] == pytest.approx(planted["open"], abs=2)
    assert results["guardrails"] == []
    assert {row["segment"] for row in results["by_segment"]} == {"East", "North", "South"}
    assert " d " in results["statement"]
