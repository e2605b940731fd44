"""Chapter 4 end to end through ``run`` (without the notebook): another company's column names,
and the bad inputs a real engagement brings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pilot2prod.errors import DataQualityError, DataSourceError, ParameterError
from pilot2prod.production import Parameters, run
from pilot2prod.sample_company.model import export_sample_model

RENAMED = {
    "ticket_id": "Nr",
    "created_at": "Erstellt",
    "subject": "Betreff",
    "body": "Text",
    "category": "Kategorie",
    "channel": "Kanal",
}


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory) -> Path:
    return export_sample_model(tmp_path_factory.mktemp("model"), rows=1500)


@pytest.fixture(scope="module")
def renamed(tmp_path_factory, dataset_dir) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("renamed")
    tickets = pd.read_csv(dataset_dir / "tickets.csv").tail(2500).rename(columns=RENAMED)
    # Day-first text timestamps, as a European export writes them.
    tickets["Erstellt"] = pd.to_datetime(tickets["Erstellt"]).dt.strftime("%d.%m.%Y %H:%M")
    tickets.to_csv(folder / "tickets.csv", index=False, sep=";")
    window = pd.read_csv(dataset_dir / "production_window.csv").rename(columns=RENAMED)
    window.to_csv(folder / "window.csv", index=False)
    return folder / "tickets.csv", folder / "window.csv"


@pytest.fixture(scope="module")
def recent(tmp_path_factory, dataset_dir) -> Path:
    """The newest 3,000 sample tickets: enough for a test window, quick to read and mask."""
    path = tmp_path_factory.mktemp("recent") / "tickets.csv"
    pd.read_csv(dataset_dir / "tickets.csv").tail(3000).to_csv(path, index=False)
    return path


def _params(tmp_path: Path, **values) -> Parameters:
    return Parameters.parse(values | {"output_dir": str(tmp_path / "out")}, cwd=tmp_path)


@pytest.mark.slow
def test_another_companys_columns_run_end_to_end(tmp_path, model_folder, renamed):
    tickets, window = renamed
    p = _params(
        tmp_path,
        model_path=str(model_folder),
        examples_path=str(tickets),
        text_columns="Betreff,Text",
        label_column="Kategorie",
        id_column="Nr",
        time_column="Erstellt",
        slice_columns="Kanal",
        production_path=str(window),
        drift_columns="Kanal",
        serve_requests=0,
        max_training_rows=1500,
        compute_price_per_hour=0.2,
    )
    result = run(p)
    assert len(result.test) >= 30 and result.decision is not None
    assert set(result.decision.slices["slice"]) == {"Kategorie", "Kanal"}
    assert result.reproducible is True
    assert result.drill is not None and result.drill.passed
    assert result.smoke is None and result.skew is None
    assert "Kanal" in result.drifted_features()  # the planted chat surge, under its new name
    values = result.results()
    assert values["readiness"]["verdict"] == result.decision_go.verdict
    assert result.cost is not None and result.cost.per_1000 > 0
    headline = result.headline()
    assert headline.verdict in ("GO", "NO-GO") and headline.answer


def test_a_file_that_is_not_a_model_is_refused(tmp_path, dataset_dir):
    fake = tmp_path / "model.skops"
    fake.write_bytes(b"PK\x03\x04 not really a zip")
    p = _params(
        tmp_path,
        model_path=str(fake),
        examples_path=str(dataset_dir / "tickets.csv"),
        text_columns="subject,body",
        label_column="category",
        time_column="created_at",
    )
    with pytest.raises(ParameterError, match="model_path: 'model.skops' is not a skops model"):
        run(p)


def test_labels_the_model_never_learned_are_named(tmp_path, model_folder, dataset_dir):
    tickets = pd.read_csv(dataset_dir / "tickets.csv").tail(1200)
    tickets.loc[tickets.index[-40:], "category"] = "warranty_claim"
    path = tmp_path / "tickets.csv"
    tickets.to_csv(path, index=False)
    p = _params(tmp_path, model_path=str(model_folder), examples_path=str(path))
    with pytest.raises(DataQualityError, match="40 tickets carry 1 label.*'warranty_claim'"):
        run(p)


def test_an_empty_production_window_is_one_sentence(tmp_path, model_folder, recent):
    empty = tmp_path / "window.csv"
    empty.write_text("ticket_id,created_at,channel,priority,subject,body\n")
    p = _params(
        tmp_path,
        model_path=str(model_folder),
        examples_path=str(recent),
        production_path=str(empty),
        challenger="none",
        serve_requests=0,
    )
    with pytest.raises(DataSourceError, match="production_path: 'window.csv' has no rows"):
        run(p)


def test_a_test_window_without_tickets_is_refused(tmp_path, model_folder, recent):
    p = _params(
        tmp_path,
        model_path=str(model_folder),
        examples_path=str(recent),
        holdout_after="2030-01-01",
    )
    with pytest.raises(DataQualityError, match="only 0 labelled tickets after 2030-01-01"):
        run(p)


def test_a_holdout_the_model_has_seen_is_refused(tmp_path, model_folder, recent):
    p = _params(
        tmp_path,
        model_path=str(model_folder),
        examples_path=str(recent),
        holdout_after="2025-01-01",
    )
    with pytest.raises(ParameterError, match="the model has seen some of those tickets"):
        run(p)


def test_a_pickle_model_is_refused_before_loading(tmp_path, dataset_dir):
    pickle = tmp_path / "model.pkl"
    pickle.write_bytes(b"\x80\x04\x95")
    p = _params(tmp_path, model_path=str(pickle), examples_path=str(dataset_dir / "tickets.csv"))
    with pytest.raises(ParameterError, match="pickle file, which runs code when it is loaded"):
        run(p)
