"""Chapter 4's inputs: the champion model with what it was trained on, the labelled tickets it
is judged on, and the production window."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pilot2prod import timestamps
from pilot2prod.errors import DataQualityError, DataSourceError, ParameterError
from pilot2prod.handoff import MODEL_METADATA_FILE, ModelExport, load_contract, sha256_of
from pilot2prod.production import model_store
from pilot2prod.production.params import Parameters
from pilot2prod.sources import open_table, require_columns
from pilot2prod.triage.data import model_texts


@dataclass
class Champion:
    model: Any
    file: Path
    sha256: str
    labels: list[str]
    text_columns: list[str]
    label_column: str
    id_column: str
    time_column: str
    cutoff: pd.Timestamp | None  # the newest training ticket's time, when known
    threshold: float  # confidence below which the model's answer is not acted on
    export: ModelExport | None
    approach: str  # display name


def load_champion(p: Parameters) -> Champion:
    """The model to put into production, verified before it is loaded."""
    path = Path(p.model_path)
    export = None
    if path.is_dir() or path.name == MODEL_METADATA_FILE:
        export = ModelExport.load(path, "model_path")
        file = (path if path.is_dir() else path.parent) / export.model_file
        sha = export.model_sha256
    else:
        file, sha = path, sha256_of(path) if path.is_file() else ""
    model = model_store.load_verified(file, sha, "model_path")
    given = export.parameters if export else {}

    def pick(name: str) -> str:
        value = getattr(p, name) or str(given.get(name, "") or "")
        return value

    text_columns = [c.strip() for c in pick("text_columns").split(",") if c.strip()]
    for name, value, example in (
        ("text_columns", text_columns, "subject,body"),
        ("label_column", pick("label_column"), "category"),
        ("time_column", pick("time_column"), "created_at"),
    ):
        if not value:
            raise ParameterError(
                f"Parameter {name} is empty and the model has no export metadata naming it; "
                f"give it, e.g. {name}={example}."
            )
    cutoff = None
    if export and export.split.get("cutoff"):
        cutoff = pd.Timestamp(export.split["cutoff"])
    labels = model_store.labels_of(model)
    if export and export.labels and sorted(export.labels) != sorted(labels):
        raise ParameterError(
            "Parameter model_path: the model's labels differ from those in its metadata.json; "
            "export the model again with 03_simple_vs_rag."
        )
    threshold = float(export.metrics.get("threshold") or 0.0) if export else 0.0
    return Champion(
        model=model,
        file=file,
        sha256=sha or sha256_of(file),
        labels=labels,
        text_columns=text_columns,
        label_column=pick("label_column"),
        id_column=pick("id_column"),
        time_column=pick("time_column"),
        cutoff=cutoff,
        threshold=threshold,
        export=export,
        approach=export.approach_name if export else type(model).__name__,
    )


@dataclass
class Tickets:
    frame: pd.DataFrame  # id, text (masked), time, [label], slice / drift columns as text
    raw: pd.DataFrame  # input columns as read (text): the data contract checks them
    fields: pd.DataFrame  # id and the text columns as read, aligned with frame (for requests)
    source: str
    masked: dict[str, int] = field(default_factory=dict)


def _read(
    reference: str,
    parameter: str,
    champion: Champion,
    time_column: str,
    label: bool,
    extra: list[str],
    window: tuple[pd.Timestamp, int] | None = None,
) -> Tickets:
    """``window`` (boundary, n): keep every row after the boundary and the newest n before it;
    texts are masked only for the rows kept (masking is the costly part of reading)."""
    columns = {f"text_columns[{i}]": c for i, c in enumerate(champion.text_columns)}
    columns |= {"time_column": time_column, "id_column": champion.id_column}
    if label:
        columns["label_column"] = champion.label_column
    columns |= {f"{parameter}:{c}": c for c in extra}
    opened = open_table(reference, parameter, as_text=True)
    require_columns(opened.table.columns, columns, opened.name)
    table, _ = timestamps.with_epochs(opened.table, {"_t": time_column}, "")
    wanted = list(dict.fromkeys(c for c in columns.values() if c))
    raw = table.select(*wanted, "_t").execute()
    if raw.empty:
        raise DataSourceError(f"{parameter}: '{opened.name}' has no rows.")
    bad = raw["_t"].isna() & raw[time_column].notna() & (raw[time_column].str.strip() != "")
    if bad.any():
        raise DataQualityError(
            f"time_column: {int(bad.sum()):,} values of '{time_column}' in '{opened.name}' are "
            "not timestamps; check the column."
        )
    if window is not None:
        boundary, n = window
        times = pd.to_datetime(raw["_t"], unit="s")
        before = times <= boundary
        newest = times[before].sort_values(kind="stable").tail(n).index
        raw = raw[~before | raw.index.isin(newest)].reset_index(drop=True)
    texts, masked = model_texts(raw, champion.text_columns)
    frame = pd.DataFrame(
        {
            "id": raw[champion.id_column].astype("string")
            if champion.id_column
            else pd.Series(range(len(raw)), dtype="string"),
            "text": texts,
            "time": pd.to_datetime(raw["_t"], unit="s"),
        }
    )
    if label:
        frame["label"] = raw[champion.label_column].astype("string").str.strip()
    for c in extra:
        frame[c] = raw[c].astype("string")
    keep = frame["text"].fillna("") != ""
    if label:
        keep &= frame["label"].fillna("") != ""
    keep &= frame["time"].notna()
    frame, raw = frame[keep].reset_index(drop=True), raw[keep].reset_index(drop=True)
    if frame.empty:
        raise DataQualityError(
            f"{parameter}: no row of '{opened.name}' has a text, a time"
            + (" and a label." if label else ".")
        )
    order = frame["time"].argsort(kind="stable")
    raw = raw.drop(columns="_t").iloc[order].reset_index(drop=True)
    fields = raw[list(dict.fromkeys(champion.text_columns))].copy()
    fields.insert(0, "id", frame["id"].iloc[order].to_numpy())
    return Tickets(frame.iloc[order].reset_index(drop=True), raw, fields, opened.name, masked)


def load_labelled(p: Parameters, champion: Champion) -> Tickets:
    """The labelled tickets after the test boundary and the newest ``max_training_rows``
    before it (what the gate and the challenger use)."""
    window = (holdout_boundary(p, champion), p.max_training_rows)
    extra = list(dict.fromkeys(p.slices + p.drift_list))  # drift is judged against training
    tickets = _read(
        p.examples_path, "examples_path", champion, champion.time_column, True, extra, window
    )
    unknown = sorted(set(tickets.frame["label"]) - set(champion.labels))
    if unknown:
        n = int(tickets.frame["label"].isin(unknown).sum())
        raise DataQualityError(
            f"label_column: {n:,} tickets carry {len(unknown)} label(s) the model never "
            f"learned, e.g. '{unknown[0]}' (the model knows {len(champion.labels)}: "
            f"{', '.join(champion.labels[:5])}{', ...' if len(champion.labels) > 5 else ''}); "
            "retrain in Chapter 3 on data that has them, or map them to the model's labels."
        )
    return tickets


def load_production(p: Parameters, champion: Champion, contract_columns: list[str]) -> Tickets:
    time_column = p.production_time_column or champion.time_column
    extra = list(dict.fromkeys(p.drift_list))
    tickets = _read(p.production_path, "production_path", champion, time_column, False, extra)
    # The contract is checked on every input column the window carries (as read, as text).
    opened = open_table(p.production_path, "production_path", as_text=True)
    present = [c for c in contract_columns if c in opened.table.columns]
    if present:
        everything = opened.table.select(*present).execute()
        tickets.raw = everything
    return tickets


def holdout_boundary(p: Parameters, champion: Champion) -> pd.Timestamp:
    """The test is every ticket after this: the model's training cutoff unless
    ``holdout_after`` is given (never before the cutoff: the model has seen those)."""
    if p.holdout_after:
        boundary = pd.Timestamp(p.holdout_after)
    elif champion.cutoff is not None:
        boundary = champion.cutoff
    else:
        raise ParameterError(
            "Parameter holdout_after is empty and the model has no recorded training cutoff; "
            "give the date after which tickets were not used to train it, e.g. "
            "holdout_after=2026-10-01."
        )
    if champion.cutoff is not None and boundary < champion.cutoff:
        raise ParameterError(
            f"Parameter holdout_after is {boundary:%Y-%m-%d}, before the model's training "
            f"cutoff ({champion.cutoff:%Y-%m-%d %H:%M}): the model has seen some of those "
            "tickets. Use a later date or leave it empty."
        )
    return boundary


def split_holdout(
    tickets: pd.DataFrame, boundary: pd.Timestamp, max_training_rows: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training rows for a challenger, the held-out test after ``boundary``)."""
    test = tickets[tickets["time"] > boundary].reset_index(drop=True)
    train = tickets[tickets["time"] <= boundary].tail(max_training_rows).reset_index(drop=True)
    if len(test) < 30:
        raise DataQualityError(
            f"examples_path: only {len(test)} labelled tickets after {boundary:%Y-%m-%d}; the "
            "gate needs at least 30 the model never saw. Export newer tickets."
        )
    return train, test


def contract_for(path: str, source_name: str) -> tuple[Any, str] | None:
    """The contract in ``path`` (a file, or Chapter 2's contracts folder, where the one named
    after the source is taken)."""
    if not path:
        return None
    folder = Path(path)
    if folder.is_dir():
        stem = Path(source_name).stem
        candidates = sorted(folder.glob("*.yaml"))
        chosen = [c for c in candidates if c.stem == stem]
        if not chosen:
            names = ", ".join(c.stem for c in candidates[:8]) or "none"
            raise ParameterError(
                f"Parameter contract_path: the folder has no contract named after '{stem}' "
                f"(it has: {names}); give the contract file itself."
            )
        folder = chosen[0]
    return load_contract(folder, "contract_path"), folder.stem
