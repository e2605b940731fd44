"""Chapter 5's inputs: the usage log (with the model log and the reviewed sample joined on the
suggestion's id), the stakeholder register, the survey and the answer files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pilot2prod import timestamps
from pilot2prod.adoption import measures
from pilot2prod.adoption.params import Parameters
from pilot2prod.errors import DataQualityError, DataSourceError, ParameterError
from pilot2prod.handoff import load_mapping
from pilot2prod.sources import open_table, require_columns


@dataclass
class Usage:
    frame: pd.DataFrame  # id, time, user, group, action (+ work, suggestion, confidence, truth)
    source: str
    rows_read: int
    unmatched_review: int  # reviewed ids that are not in the usage log


def _values(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _read(reference: str, parameter: str, columns: dict[str, str]) -> tuple[pd.DataFrame, str]:
    opened = open_table(reference, parameter, as_text=True)
    require_columns(opened.table.columns, columns, opened.name)
    wanted = list(dict.fromkeys(c for c in columns.values() if c))
    return opened.table.select(*wanted).execute(), opened.name


def load_usage(p: Parameters) -> Usage:
    columns = {
        "id_column": p.id_column,
        "time_column": p.time_column,
        "user_column": p.user_column,
        "group_column": p.group_column,
        "action_column": p.action_column,
        "suggestion_column": p.suggestion_column,
        "usage_work_column": p.usage_work_column,
    }
    opened = open_table(p.usage_path, "usage_path", as_text=True)
    require_columns(opened.table.columns, columns, opened.name)
    raw, readings = timestamps.with_epochs(opened.table, {"_t": p.time_column}, "")
    wanted = [c for c in dict.fromkeys(columns.values()) if c]
    frame = raw.select(*wanted, "_t").execute()
    if frame.empty:
        raise DataSourceError(f"usage_path: '{opened.name}' has no rows.")
    rows_read = len(frame)
    bad_time = frame["_t"].isna() & frame[p.time_column].notna()
    if bad_time.any():
        raise DataQualityError(
            f"time_column: {int(bad_time.sum()):,} values of '{p.time_column}' are not "
            "timestamps; fix them or name the right column."
        )
    mapping = {v: "accepted" for v in _values(p.accepted_values)}
    mapping |= {v: "edited" for v in _values(p.edited_values)}
    mapping |= {v: "overridden" for v in _values(p.overridden_values)}
    action = frame[p.action_column].astype("string").str.strip()
    usage = pd.DataFrame(
        {
            "id": frame[p.id_column].astype("string"),
            "time": pd.to_datetime(frame["_t"], unit="s"),
            "user": frame[p.user_column].astype("string").fillna("(missing)"),
            "group": frame[p.group_column].astype("string").fillna("(missing)"),
            "action": action.map(lambda v: mapping.get(v, v) if v is not pd.NA else pd.NA),
        }
    )
    if p.suggestion_column:
        usage["suggestion"] = frame[p.suggestion_column].astype("string")
    if p.usage_work_column:
        usage["work"] = frame[p.usage_work_column].astype("string")
    measures.check_actions(usage, p.action_column)
    if usage["id"].duplicated().any():
        n = int(usage["id"].duplicated().sum())
        raise DataQualityError(
            f"id_column: '{p.id_column}' repeats {n:,} ids; each suggestion needs its own id "
            "(the model log and the review are joined on it)."
        )
    if p.confidence_path:
        model, _ = _read(
            p.confidence_path,
            "confidence_path",
            {"id_column": p.id_column, "confidence_column": p.confidence_column},
        )
        conf = pd.to_numeric(model[p.confidence_column], errors="coerce")
        if conf.isna().any() or ((conf < 0) | (conf > 1)).any():
            raise DataQualityError(
                f"confidence_column: '{p.confidence_column}' must hold numbers from 0 to 1."
            )
        usage = usage.merge(
            pd.DataFrame({"id": model[p.id_column].astype("string"), "confidence": conf}),
            on="id",
            how="left",
        )
    unmatched = 0
    if p.review_path:
        review, _ = _read(
            p.review_path, "review_path", {"id_column": p.id_column, "truth_column": p.truth_column}
        )
        ids = review[p.id_column].astype("string")
        unmatched = int((~ids.isin(usage["id"])).sum())
        usage = usage.merge(
            pd.DataFrame({"id": ids, "truth": review[p.truth_column].astype("string")}),
            on="id",
            how="left",
        )
    return Usage(usage, opened.name, rows_read, unmatched)


def coverage(p: Parameters, usage: pd.DataFrame) -> pd.DataFrame | None:
    """The share of the eligible work that got at least one suggestion, per group: the work
    items (``work_path``) created while the log ran, against those the log mentions."""
    if not p.work_path:
        return None
    from pilot2prod.stats import wilson_interval

    columns = {
        "work_id_column": p.work_id_column,
        "work_group_column": p.work_group_column,
        "work_time_column": p.work_time_column,
    }
    opened = open_table(p.work_path, "work_path", as_text=True)
    require_columns(opened.table.columns, columns, opened.name)
    table = opened.table
    wanted = [c for c in dict.fromkeys(columns.values()) if c]
    if p.work_time_column:
        table, _ = timestamps.with_epochs(table, {"_t": p.work_time_column}, "")
        wanted.append("_t")
    work, name = table.select(*wanted).execute(), opened.name
    if p.work_time_column:  # the work created while the log ran
        start, end = usage["time"].min(), usage["time"].max()
        created = pd.to_datetime(work["_t"], unit="s")
        work = work[(created >= start.normalize()) & (created <= end)]
    if work.empty:
        raise DataSourceError(f"work_path: '{name}' has no rows.")
    ids = work[p.work_id_column].astype("string")
    groups = (
        work[p.work_group_column].astype("string").fillna("(missing)")
        if p.work_group_column
        else pd.Series("all", index=work.index, dtype="string")
    )
    frame = pd.DataFrame({"work": ids, "group": groups}).drop_duplicates("work")
    if p.work_group_column:
        frame = frame[frame["group"].isin(set(usage["group"]))]
    if frame.empty:
        raise DataQualityError(
            f"work_group_column: no work item in '{name}' belongs to a team of the usage log; "
            "check work_group_column."
        )
    suggested = set(usage["work"].dropna())
    rows = []
    for key, g in frame.groupby("group", sort=True):
        k = int(g["work"].isin(suggested).sum())
        ci = wilson_interval(k, len(g))
        rows.append(
            {
                "group": key,
                "work_items": len(g),
                "with_suggestion": k,
                "coverage": ci.estimate,
                "coverage_low": ci.low,
                "coverage_high": ci.high,
            }
        )
    return pd.DataFrame(rows)


def read_answers(path: str, parameter: str) -> dict[str, Any]:
    """A YAML mapping of answers (``yes``/``no`` read as YAML reads them)."""
    return load_mapping(path, parameter, "mapping of questions to answers")


def read_survey(path: str, group_column: str) -> pd.DataFrame:
    p = Path(path)
    try:
        survey = pd.read_csv(p)
    except (ValueError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0][:120]
        raise ParameterError(
            f"Parameter survey_path: '{p.name}' cannot be read ({reason})."
        ) from None
    if group_column not in survey.columns:
        raise ParameterError(
            f"Parameter survey_group_column: '{group_column}' is not a column of '{p.name}'."
        )
    return survey
