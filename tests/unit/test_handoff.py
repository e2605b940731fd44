"""Hand-offs between chapters: typed, versioned, and loaders that name the parameter and the fix."""

from __future__ import annotations

import json

import pytest
import yaml

from pilot2prod.errors import ParameterError
from pilot2prod.handoff import (
    Baseline,
    Guardrail,
    MetricData,
    MetricDefinition,
    MetricSpec,
    ModelExport,
    Target,
    load_contract,
    sha256_of,
)


def spec() -> MetricSpec:
    return MetricSpec(
        statement="Reduce median resolution time from 22.6 h to 18.1 h.",
        metric=MetricDefinition("median", "median resolution time", "hours", True, quantile=0.5),
        data=MetricData("tickets.csv", {"id": "ticket_id", "start": "created_at", "end": None}),
        baseline=Baseline(
            "2026-01-05", "2026-03-02", "2026-03-02 00:00:00", 22.6, 21.1, 24.3, 2100, 87
        ),
        target=Target(-0.2, 18.1, 0.05, 0.8, "event", 262.5, 7),
        guardrails=[Guardrail("reopen rate", 0.06, 0.07, "at most baseline + 1 pp")],
    )


def test_metric_spec_round_trips(tmp_path):
    path = spec().save(tmp_path)
    assert path.name == "metric_spec.yaml"
    loaded = MetricSpec.load(path)
    assert loaded == spec()
    assert loaded.unit_minutes == 60.0
    assert yaml.safe_load(path.read_text())["schema_version"] == MetricSpec.SCHEMA_VERSION


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["baseline"].pop("value"), "lacks baseline.value; run 01_success_metric"),
        (lambda d: d.pop("schema_version"), "has no schema_version"),
        (lambda d: d.update(schema_version=99), "has schema_version 99"),
        (lambda d: d["baseline"].update(value="fast"), "baseline.value must be float"),
        (lambda d: d["guardrails"][0].pop("limit"), "lacks guardrails[0].limit"),
    ],
)
def test_a_broken_metric_spec_names_the_parameter_and_the_problem(tmp_path, change, message):
    data = yaml.safe_load(spec().save(tmp_path).read_text())
    change(data)
    (tmp_path / "metric_spec.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ParameterError) as err:
        MetricSpec.load(tmp_path / "metric_spec.yaml")
    assert str(err.value).startswith("Parameter metric_spec_path: ")
    assert message in str(err.value)


def test_a_file_that_is_not_a_metric_spec(tmp_path):
    (tmp_path / "x.yaml").write_text("- just\n- a list\n")
    with pytest.raises(ParameterError, match="'x.yaml' is not a metric spec"):
        MetricSpec.load(tmp_path / "x.yaml")
    (tmp_path / "y.yaml").write_text("a: [unclosed\n")
    with pytest.raises(ParameterError, match="cannot be read as a metric spec"):
        MetricSpec.load(tmp_path / "y.yaml")
    with pytest.raises(ParameterError, match="there is no metric spec at 'z.yaml'"):
        MetricSpec.load(tmp_path / "z.yaml")


def export(tmp_path) -> ModelExport:
    model = tmp_path / "model.skops"
    model.write_bytes(b"model bytes")
    return ModelExport(
        name="ticket-triage",
        version="1",
        approach="tfidf",
        approach_name="TF-IDF + linear",
        meets_target=True,
        created="2026-11-26T00:00:00+00:00",
        model_file=model.name,
        model_sha256=sha256_of(model),
        data_sha256="0" * 64,
        training_rows=100,
        labels=["a", "b"],
        split={"policy": "time"},
        metrics={"accuracy": 0.9},
        parameters={},
        runtime={"pilot2prod": "0.1.0"},
    )


def test_model_export_is_verified_before_it_is_used(tmp_path):
    export(tmp_path).save(tmp_path)
    assert ModelExport.load(tmp_path).labels == ["a", "b"]
    (tmp_path / "model.skops").write_bytes(b"tampered")
    with pytest.raises(ParameterError, match="does not match the hash"):
        ModelExport.load(tmp_path, "model_path")
    (tmp_path / "model.skops").unlink()
    with pytest.raises(ParameterError, match="'model.skops' named in metadata.json is missing"):
        ModelExport.load(tmp_path)
    meta = json.loads((tmp_path / "metadata.json").read_text())
    del meta["labels"]
    (tmp_path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ParameterError, match="lacks labels"):
        ModelExport.load(tmp_path)


def test_a_contract_that_is_not_one(tmp_path):
    (tmp_path / "c.yaml").write_text("nonsense: true\n")
    with pytest.raises(ParameterError, match="'c.yaml' is not a data contract"):
        load_contract(tmp_path / "c.yaml")
