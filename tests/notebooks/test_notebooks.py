"""Notebook contract tests: run through the runner, then check results.json against truth."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from conftest import FIELD_PARAMS, acme_values
from pilot2prod.handoff import MetricSpec, ModelExport
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
        from_file=acme_values("01_success_metric"),
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
    spec = MetricSpec.load(result.folder / "metric_spec.yaml")
    assert spec.statement == results["statement"]
    assert spec.baseline.value == pytest.approx(base["km"])
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


@pytest.mark.slow
def test_simple_vs_rag_on_the_sample_company(tmp_path, truth, dataset_dir):
    run = run_notebook(
        "03_simple_vs_rag",
        from_file=acme_values("03_simple_vs_rag"),
        from_text={"learning_curve_seeds": "1", "learning_curve_sizes": "5,20"},
        out=tmp_path,
        cwd=tmp_path,
        progress=False,
    )
    results = json.loads(run.results_json.read_text())
    ladder = {row["approach"]: row for row in results["ladder"]}
    majority, rules = ladder["majority class"], ladder["keyword rules"]
    tfidf = ladder["TF-IDF + linear"]
    # The ladder is ordered sensibly: the floor, then rules, then the classifier.
    assert majority["macro-F1"] < rules["macro-F1"] < tfidf["macro-F1"]
    assert rules["accuracy"] < tfidf["accuracy"]
    # 5 % of labels are wrong on purpose: no approach can be measured much above 95 %.
    ceiling = 1 - truth["defects"]["label_noise"]["share"]
    for row in ladder.values():
        assert row["accuracy"] <= ceiling + 0.01, row["approach"]
    assert 0.8 <= tfidf["accuracy"] and 0.8 <= tfidf["macro-F1"] <= ceiling + 0.01
    hybrid = results["coverage"]["hybrid"]
    assert 0 < hybrid["coverage"] <= 1 and hybrid["evaluated"] > 0
    # Every planted resubmission that straddles the time split is reported as a near-duplicate.
    tickets = pd.read_csv(dataset_dir / "tickets.csv", usecols=["ticket_id", "created_at"])
    created = dict(zip(tickets["ticket_id"], pd.to_datetime(tickets["created_at"]), strict=True))
    cutoff = pd.Timestamp(results["split"]["cutoff"])
    straddling = [
        (a, b)
        for a, b in truth["defects"]["resubmitted_duplicates"]["pairs"]
        if created[a] < cutoff <= created[b]
    ]
    reported = {(p["train_id"], p["test_id"]) for p in results["near_duplicates"]["pairs"]}
    assert straddling and set(map(tuple, straddling)) <= reported
    recommendation = results["recommendation"]
    exported = ModelExport.load(run.folder / "model")  # the hash of the file is verified
    assert exported.approach == (recommendation["approach"] or recommendation["nearest"])
    assert len(exported.labels) == 10 and len(exported.data_sha256) == 64
    assert "rag" not in results["coverage"]  # no endpoint given: no LLM rung, nothing sent


@pytest.mark.slow
def test_data_audit_on_the_sample_estate(tmp_path, truth):
    run = run_notebook(
        "02_data_audit", from_file=acme_values("02_data_audit"), out=tmp_path, progress=False
    )
    results = json.loads(run.results_json.read_text())
    assert results["go"] is False
    glue = results["glue"]
    assert results["failed"][0]["reason"]
    assert glue["c2_failed"] == 2  # the export without a header row, the missing table
    assert glue["c2_orphan_pct"] == pytest.approx(
        100 * truth["defects"]["tickets_without_crm_account"]["share"], abs=0.01
    )
    audit = json.loads((run.folder / "audit.json").read_text())
    assert audit["gate"].startswith("NO-GO")
    assert (run.folder / "contracts").is_dir() and (run.folder / "datasheets").is_dir()
    executed = run.notebook.read_text()
    for raw in ("4111111111111111", "example-mail.com", "DE89370400440532013000"):
        assert raw not in executed  # no raw personal data in the executed notebook
