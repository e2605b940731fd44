"""Chapter 1: define what "working" means - one success metric, its baseline, its guardrails.

Input is an event table (one row per ticket, case, order...) with a start and an end timestamp.
Open events (no end yet) are right-censored: they enter Kaplan-Meier estimates instead of being
dropped, which would bias the baseline towards fast cases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from pilot2prod import stats
from pilot2prod.errors import DataQualityError, DataSourceError, ParameterError
from pilot2prod.params import ParameterSet, check_date, choice_param, path_param
from pilot2prod.privacy import masked_examples
from pilot2prod.sources import read_table, require_columns

UNIT_SECONDS = {"minutes": 60.0, "hours": 3600.0, "days": 86400.0}
UNIT_SHORT = {"minutes": "min", "hours": "h", "days": "d"}
MIN_EVENTS = 30
MIN_COMPLETED = 10
_TRUE_TEXT = {"1", "true", "yes", "y", "t"}
_FALSE_TEXT = {"0", "false", "no", "n", "f"}


@dataclass(frozen=True)
class SuccessMetricParameters(ParameterSet):
    """Parameters of ``notebooks/01_success_metric.ipynb`` (same names, types and defaults)."""

    notebook: ClassVar[str] = "01_success_metric"

    events_path: str = path_param("datasets/acme/tickets.csv")
    id_column: str = "ticket_id"
    start_column: str = "created_at"
    end_column: str = "resolved_at"
    segment_column: str = "team"
    focus_segment: str = ""
    metric: str = choice_param("median", ("median", "percentile", "sla_share"))
    percentile: float = 90.0
    sla: float = 24.0
    unit: str = choice_param("hours", ("minutes", "hours", "days"))
    as_of: str = "2026-03-02"
    baseline_weeks: int = 8
    target_change: float = -0.20
    alpha: float = 0.05
    power: float = 0.80
    randomisation_unit: str = "ticket"
    reopened_column: str = "reopened"
    csat_column: str = "csat"
    reopen_tolerance_pp: float = 1.0
    csat_tolerance: float = 0.1
    timestamp_format: str = ""
    drop_unparseable: bool = False
    n_bootstrap: int = 2000
    seed: int = 7
    output_dir: str = path_param("", kind="output")

    def check(self) -> None:
        if not 0 < self.percentile < 100:
            raise ParameterError(
                f"Parameter percentile is {self.percentile}; use a value "
                "between 0 and 100, e.g. 90."
            )
        if self.sla <= 0:
            raise ParameterError(
                f"Parameter sla is {self.sla}; use a positive duration in {self.unit}."
            )
        if self.baseline_weeks < 1:
            raise ParameterError("Parameter baseline_weeks must be at least 1 (e.g. 8).")
        if not 0 < self.alpha < 0.5:
            raise ParameterError(f"Parameter alpha is {self.alpha}; use e.g. 0.05.")
        if not 0.5 <= self.power < 1:
            raise ParameterError(f"Parameter power is {self.power}; use e.g. 0.8.")
        if self.n_bootstrap < 200:
            raise ParameterError("Parameter n_bootstrap must be at least 200 (e.g. 2000).")
        if self.target_change == 0 or self.target_change <= -1:
            raise ParameterError(
                f"Parameter target_change is {self.target_change}; give the relative change to "
                "aim for, e.g. -0.2 for 20 % lower durations or 0.1 for a 10 % higher share."
            )
        if self.lower_is_better and self.target_change > 0:
            raise ParameterError(
                f"Parameter target_change is {self.target_change}, but a lower {self.metric} "
                "is better; use a negative change such as -0.2."
            )
        if not self.lower_is_better and self.target_change < 0:
            raise ParameterError(
                f"Parameter target_change is {self.target_change}, but a higher share within "
                "the SLA is better; use a positive change such as 0.1."
            )
        check_date("as_of", self.as_of, "2026-03-02", "the newest timestamp in the data")

    @property
    def lower_is_better(self) -> bool:
        return self.metric != "sla_share"

    @property
    def quantile(self) -> float | None:
        if self.metric == "median":
            return 0.5
        if self.metric == "percentile":
            return self.percentile / 100.0
        return None

    @property
    def metric_label(self) -> str:
        if self.metric == "median":
            return "median resolution time"
        if self.metric == "percentile":
            return f"p{self.percentile:g} resolution time"
        return f"share resolved within {self.sla:g} {UNIT_SHORT[self.unit]}"


@dataclass
class CleaningReport:
    """What happened to the rows on the way in: every exclusion is counted and explained."""

    rows_read: int = 0
    unparseable_start: int = 0
    unparseable_end: int = 0
    unparseable_examples: list[str] = field(default_factory=list)
    end_before_start: int = 0
    started_after_as_of: int = 0
    resolved_after_as_of: int = 0
    outside_focus: int = 0
    duplicate_ids: int = 0
    rows_used: int = 0

    def as_table(self) -> pd.DataFrame:
        rows = [
            ("rows read", self.rows_read, ""),
            ("unparseable start timestamp", self.unparseable_start, "dropped"),
            ("unparseable end timestamp", self.unparseable_end, "dropped"),
            ("end before start", self.end_before_start, "excluded (clock or entry errors)"),
            ("duplicate ids", self.duplicate_ids, "later copies dropped"),
            ("started after as_of", self.started_after_as_of, "not yet in the data on as_of"),
            ("resolved after as_of", self.resolved_after_as_of, "kept, treated as open"),
            ("outside focus segment", self.outside_focus, "left out"),
            ("rows used", self.rows_used, ""),
        ]
        return pd.DataFrame(rows, columns=["step", "rows", "what happens"])


@dataclass
class Events:
    """Clean events: duration in the chosen unit, ``observed`` False when still open."""

    frame: pd.DataFrame  # columns: id, start, end, duration, observed, segment, reopened, csat
    as_of: pd.Timestamp
    report: CleaningReport
    has_segments: bool
    has_reopened: bool
    has_csat: bool

    def window(self, weeks: int) -> pd.DataFrame:
        start = self.as_of - pd.Timedelta(weeks=weeks)
        f = self.frame
        return f[(f["start"] >= start) & (f["start"] < self.as_of)]


# --------------------------------------------------------------------------- loading
def _parse_times(values: pd.Series, fmt: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        text = values.astype("string").str.strip()
        text = text.mask(text == "")
        if fmt:
            parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        else:
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
            if parsed.isna().sum() > text.isna().sum():
                parsed = pd.to_datetime(text, format="mixed", errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def _parse_flag(values: pd.Series, column: str) -> pd.Series:
    text = values.astype("string").str.strip().str.lower()
    out = pd.Series(np.nan, index=values.index, dtype=float)
    out[text.isin(_TRUE_TEXT)] = 1.0
    out[text.isin(_FALSE_TEXT)] = 0.0
    bad = text.notna() & (text != "") & out.isna()
    if bad.any():
        raise DataSourceError(
            f"reopened_column: column '{column}' has {int(bad.sum())} values that are not yes/no "
            f"flags (e.g. {', '.join(masked_examples(values[bad]))}); use 0/1, true/false or "
            'yes/no, or set reopened_column to "".'
        )
    return out


def load_events(p: SuccessMetricParameters) -> Events:
    """Read, parse and clean the event table; every dropped row is counted in the report."""
    raw = read_table(p.events_path, "events_path")
    wanted = {"id_column": p.id_column, "start_column": p.start_column, "end_column": p.end_column}
    for name in ("segment_column", "reopened_column", "csat_column"):
        wanted[name] = getattr(p, name)
    if p.randomisation_unit != "ticket":
        wanted["randomisation_unit"] = p.randomisation_unit
    require_columns(raw, wanted, f"'{p.events_path.rsplit('/', 1)[-1]}'")
    report = CleaningReport(rows_read=len(raw))

    start = _parse_times(raw[p.start_column], p.timestamp_format)
    end = _parse_times(raw[p.end_column], p.timestamp_format)
    end_text = raw[p.end_column].astype("string").str.strip()
    bad_start = start.isna()
    bad_end = end.isna() & end_text.notna() & (end_text != "")
    if not pd.api.types.is_datetime64_any_dtype(raw[p.end_column]):
        bad_end &= ~end_text.str.lower().isin(["nan", "nat", "none", "null"])
    report.unparseable_start = int(bad_start.sum())
    report.unparseable_end = int(bad_end.sum())
    if bad_start.any() or bad_end.any():
        examples = masked_examples(
            pd.concat([raw.loc[bad_start, p.start_column], raw.loc[bad_end, p.end_column]]).fillna(
                "(empty)"
            )
        )
        report.unparseable_examples = examples
        if not p.drop_unparseable:
            column = p.start_column if bad_start.any() else p.end_column
            parameter = "start_column" if bad_start.any() else "end_column"
            count = report.unparseable_start if bad_start.any() else report.unparseable_end
            raise DataQualityError(
                f"{parameter}: {count:,} of {len(raw):,} values in '{column}' are not "
                f"timestamps (e.g. {', '.join(examples)}); fix them, set timestamp_format, or "
                "set drop_unparseable=True to leave those rows out."
            )
    keep = ~(bad_start | bad_end)
    frame = pd.DataFrame(
        {
            "id": raw[p.id_column].astype("string"),
            "start": start,
            "end": end.where(~bad_end),
            "segment": (
                raw[p.segment_column].astype("string").fillna("(missing)")
                if p.segment_column
                else "all"
            ),
            "reopened": (
                _parse_flag(raw[p.reopened_column], p.reopened_column)
                if p.reopened_column
                else np.nan
            ),
            "csat": (
                pd.to_numeric(raw[p.csat_column], errors="coerce") if p.csat_column else np.nan
            ),
            "cluster": (
                raw[p.randomisation_unit].astype("string")
                if p.randomisation_unit != "ticket"
                else raw[p.id_column].astype("string")
            ),
        }
    )[keep]

    dup = frame["id"].duplicated()
    report.duplicate_ids = int(dup.sum())
    frame = frame[~dup]

    negative = frame["end"].notna() & (frame["end"] < frame["start"])
    report.end_before_start = int(negative.sum())
    frame = frame[~negative]

    if frame.empty:
        raise DataQualityError("events_path: no rows are left after dropping unusable ones.")
    newest = max(frame["start"].max(), frame["end"].max())
    as_of = pd.Timestamp(p.as_of) if p.as_of else newest
    after = frame["start"] >= as_of
    report.started_after_as_of = int(after.sum())
    frame = frame[~after]
    late = frame["end"].notna() & (frame["end"] >= as_of)
    report.resolved_after_as_of = int(late.sum())
    frame = frame.assign(end=frame["end"].where(~late))

    if p.focus_segment:
        values = sorted(frame["segment"].dropna().unique().tolist())
        if p.focus_segment not in values:
            raise ParameterError(
                f"Parameter focus_segment is '{p.focus_segment}', which is not a value of "
                f"'{p.segment_column}'; use one of: {', '.join(values[:20])}."
            )
        inside = frame["segment"] == p.focus_segment
        report.outside_focus = int((~inside).sum())
        frame = frame[inside]

    observed = frame["end"].notna()
    stop = frame["end"].where(observed, as_of)
    duration = (stop - frame["start"]).dt.total_seconds() / UNIT_SECONDS[p.unit]
    frame = frame.assign(duration=duration.astype(float), observed=observed)
    report.rows_used = len(frame)
    if frame.empty:
        raise DataQualityError(
            f"as_of: no events started before {as_of:%Y-%m-%d %H:%M}; the data starts "
            f"{start[keep].min():%Y-%m-%d}. Move as_of later or leave it empty."
        )
    return Events(
        frame=frame.reset_index(drop=True),
        as_of=as_of,
        report=report,
        has_segments=bool(p.segment_column),
        has_reopened=bool(p.reopened_column),
        has_csat=bool(p.csat_column),
    )


def baseline_window(events: Events, p: SuccessMetricParameters) -> pd.DataFrame:
    """Events that started in the ``baseline_weeks`` before ``as_of``, checked for size."""
    window = events.window(p.baseline_weeks)
    first, last = events.frame["start"].min(), events.frame["start"].max()
    if window.empty:
        raise DataQualityError(
            f"baseline_weeks: no events started in the {p.baseline_weeks} weeks before "
            f"{events.as_of:%Y-%m-%d}; the data runs from {first:%Y-%m-%d} to "
            f"{last:%Y-%m-%d}. Adjust as_of or baseline_weeks."
        )
    completed = int(window["observed"].sum())
    if len(window) < MIN_EVENTS or completed < MIN_COMPLETED:
        raise DataQualityError(
            f"baseline_weeks: only {len(window)} events ({completed} completed) in the "
            f"{p.baseline_weeks}-week baseline window; at least {MIN_EVENTS} events and "
            f"{MIN_COMPLETED} completed are needed. Use a longer window (more baseline_weeks)."
        )
    return window


# --------------------------------------------------------------------------- the metric
def metric_estimates(frame: pd.DataFrame, p: SuccessMetricParameters, seed: int) -> dict[str, Any]:
    """The metric three ways for one group: KM (censoring-aware), naive closed-only, CIs."""
    d = frame["duration"].to_numpy()
    e = frame["observed"].to_numpy().astype(int)
    closed = d[e == 1]
    out: dict[str, Any] = {"events": int(len(d)), "open": int((e == 0).sum())}
    out["share_open"] = out["open"] / max(1, out["events"])
    if len(closed) < 2:
        out.update(
            km=math.nan,
            km_low=math.nan,
            km_high=math.nan,
            naive=math.nan,
            naive_low=math.nan,
            naive_high=math.nan,
        )
        return out
    q = p.quantile
    if q is not None:
        km = stats.km_quantile(d, e, q)
        ci = stats.km_bootstrap_ci(d, e, quantile=q, n_resamples=p.n_bootstrap // 2, seed=seed)
        naive = stats.bootstrap_ci(
            closed, lambda a: np.quantile(a, q, axis=1), n_resamples=p.n_bootstrap, seed=seed
        )
    else:
        km = 1.0 - stats.km_survival_at(d, e, p.sla)
        ci = stats.km_bootstrap_ci(
            d, e, survival_at=p.sla, n_resamples=p.n_bootstrap // 2, seed=seed
        )
        naive = stats.bootstrap_ci(
            (closed <= p.sla).astype(float), "mean", n_resamples=p.n_bootstrap, seed=seed
        )
    out.update(
        km=km,
        km_low=ci.low,
        km_high=ci.high,
        naive=naive.estimate,
        naive_low=naive.low,
        naive_high=naive.high,
    )
    out["naive_bias"] = (naive.estimate - km) / km if km else math.nan
    return out


def baseline_table(window: pd.DataFrame, p: SuccessMetricParameters) -> pd.DataFrame:
    """Baseline overall and by segment: KM metric with bootstrap CI beside the naive one."""
    rows = [{"segment": "all", **metric_estimates(window, p, p.seed)}]
    if p.segment_column and not p.focus_segment:
        for k, (name, group) in enumerate(sorted(window.groupby("segment"))):
            rows.append({"segment": str(name), **metric_estimates(group, p, p.seed + k + 1)})
    return pd.DataFrame(rows)


def km_curve(frame: pd.DataFrame) -> pd.DataFrame:
    """The Kaplan-Meier curve (time, share still open) for plotting."""
    fit = stats.km_fit(frame["duration"].to_numpy(), frame["observed"].to_numpy().astype(int))
    return pd.DataFrame({"time": fit.surv_times, "still_open": fit.surv_prob})


def weekly_series(events: Events, p: SuccessMetricParameters) -> pd.DataFrame:
    """Per week of creation: volume, share still open at as_of, the metric (KM and naive)."""
    f = events.frame
    week = f["start"].dt.to_period("W-SUN").dt.start_time
    rows = []
    for start, group in f.groupby(week):
        d = group["duration"].to_numpy()
        e = group["observed"].to_numpy().astype(int)
        closed = d[e == 1]
        if p.quantile is not None:
            km = stats.km_quantile(d, e, p.quantile) if e.sum() else math.nan
            naive = float(np.quantile(closed, p.quantile)) if closed.size else math.nan
        else:
            km = 1.0 - stats.km_survival_at(d, e, p.sla) if e.sum() else math.nan
            naive = float((closed <= p.sla).mean()) if closed.size else math.nan
        rows.append(
            {
                "week": start,
                "events": len(group),
                "open": int((e == 0).sum()),
                "km": km,
                "naive": naive,
            }
        )
    return pd.DataFrame(rows)


def seasonality(events: Events, p: SuccessMetricParameters) -> dict[str, pd.DataFrame]:
    """Volume (events per week) and the metric by weekday and by calendar month of creation.

    Volume is normalised by the days the data covers in each weekday or month, so a month
    only partly inside the data is not mistaken for a quiet month.
    """
    f = events.frame
    days = pd.date_range(f["start"].min().normalize(), f["start"].max().normalize(), freq="D")
    out = {}
    for key, labels in (
        ("weekday", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
        (
            "month",
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
        ),
    ):
        part = f["start"].dt.day_of_week if key == "weekday" else f["start"].dt.month - 1
        day_part = days.day_of_week if key == "weekday" else days.month - 1
        rows = []
        for idx, label in enumerate(labels):
            group = f[part == idx]
            covered_days = int((day_part == idx).sum())
            if group.empty or covered_days == 0:
                continue
            d = group["duration"].to_numpy()
            e = group["observed"].to_numpy().astype(int)
            if p.quantile is not None:
                value = stats.km_quantile(d, e, p.quantile) if e.sum() else math.nan
            else:
                value = 1.0 - stats.km_survival_at(d, e, p.sla) if e.sum() else math.nan
            per_week = len(group) / covered_days * (1 if key == "weekday" else 7)
            rows.append(
                {key: label, "events": len(group), "events_per_week": per_week, "metric_km": value}
            )
        out[key] = pd.DataFrame(rows)
    return out


# --------------------------------------------------------------------------- guardrails
def guardrails(window: pd.DataFrame, events: Events, p: SuccessMetricParameters) -> pd.DataFrame:
    """Baselines of the guardrails: reopen rate (closed events) and CSAT where present."""
    rows = []
    if events.has_reopened:
        closed = window[window["observed"]]
        flags = closed["reopened"].dropna()
        if len(flags):
            ci = stats.wilson_interval(int(flags.sum()), len(flags))
            rows.append(
                {
                    "guardrail": "reopen rate",
                    "baseline": ci.estimate,
                    "low": ci.low,
                    "high": ci.high,
                    "n": len(flags),
                    "limit": ci.estimate + p.reopen_tolerance_pp / 100.0,
                    "rule": f"stays at or below baseline + {p.reopen_tolerance_pp:g} pp",
                }
            )
    if events.has_csat:
        # Only scores given by as_of: a survey answered later did not exist on that day.
        scores = window.loc[window["observed"], "csat"].dropna()
        if len(scores) >= 2:
            ci = stats.bootstrap_ci(
                scores.to_numpy(), "mean", n_resamples=p.n_bootstrap, seed=p.seed
            )
            rows.append(
                {
                    "guardrail": "CSAT (mean score)",
                    "baseline": ci.estimate,
                    "low": ci.low,
                    "high": ci.high,
                    "n": len(scores),
                    "limit": ci.estimate - p.csat_tolerance,
                    "rule": f"stays at or above baseline - {p.csat_tolerance:g}",
                    "response_rate": len(scores) / max(1, int(window["observed"].sum())),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- power
@dataclass
class PowerPlan:
    weekly_volume: float
    spread: float  # log-scale SD (durations) or baseline share (SLA)
    design: stats.ClusterDesign | None
    target_value: float
    weeks_needed: int | None
    mde_table: pd.DataFrame
    note: str


def log_sd_from_km(frame: pd.DataFrame) -> float:
    """Robust log-scale spread from KM quartiles (open events included): IQR / 1.349."""
    d = frame["duration"].to_numpy()
    e = frame["observed"].to_numpy().astype(int)
    q25 = stats.km_quantile(d, e, 0.25)
    q75 = stats.km_quantile(d, e, 0.75)
    if not (q25 > 0 and np.isfinite(q75)):
        closed = d[(e == 1) & (d > 0)]
        return float(np.std(np.log(closed), ddof=1))
    return float((math.log(q75) - math.log(q25)) / 1.349)


def power_plan(
    window: pd.DataFrame,
    baseline: float,
    p: SuccessMetricParameters,
    horizon_weeks: tuple[int, ...] = (1, 2, 4, 8, 12, 26, 52),
) -> PowerPlan:
    """Minimum detectable effect by experiment length, and the weeks needed for the target.

    Two equal arms split the weekly volume. Durations are compared on the log scale (a
    multiplicative change of the median); shares within the SLA as proportions. With cluster
    randomisation the design effect 1 + (m - 1) ICC grows with the cases per cluster, so a
    target can be out of reach for any length when there are few clusters.
    """
    weekly = len(window) / p.baseline_weeks
    design = None
    if p.randomisation_unit != "ticket":
        closed = window[window["observed"] & (window["duration"] > 0)]
        outcome = (
            np.log(closed["duration"])
            if p.lower_is_better
            else (closed["duration"] <= p.sla).astype(float)
        )
        if p.segment_column and p.randomisation_unit != p.segment_column:
            # Clusters are randomised within segments (stratified), so only the variation
            # between clusters of the same segment inflates the variance.
            outcome = outcome - outcome.groupby(closed["segment"]).transform("mean")
        icc = stats.icc_anova(outcome.to_numpy(), closed["cluster"].to_numpy())
        design = stats.ClusterDesign(p.randomisation_unit, int(window["cluster"].nunique()), icc)
    target_value = baseline * (1.0 + p.target_change)
    if p.lower_is_better:
        spread = log_sd_from_km(window)
        required = stats.n_per_arm_log_scale(spread, p.target_change, p.alpha, p.power)
    else:
        target_value = min(target_value, 0.999)
        spread = baseline
        required = stats.n_per_arm_proportions(baseline, target_value, p.alpha, p.power)
    weeks_needed = stats.periods_needed(required, weekly, design)
    rows = []
    for weeks in horizon_weeks:
        n_arm = weekly * weeks / 2.0
        deff = stats.design_effect(weekly * weeks / design.clusters, design.icc) if design else 1.0
        if p.lower_is_better:
            mde = stats.mde_log_scale(spread, n_arm, p.alpha, p.power, deff)
            mde_abs = baseline * mde
        else:
            mde_abs = stats.mde_proportion(baseline, n_arm, p.alpha, p.power, deff)
            mde = mde_abs / baseline if baseline else math.nan
        rows.append(
            {
                "weeks": weeks,
                "events_per_arm": n_arm,
                "design_effect": deff,
                "mde_relative": mde,
                "mde_absolute": mde_abs,
            }
        )
    note = ""
    if design is not None and weeks_needed is None:
        note = (
            f"With {design.clusters} clusters of '{design.unit}' (ICC {design.icc:.3f}) the "
            "target cannot be detected at any length: randomise a finer unit or aim for a "
            "larger change."
        )
    elif design is not None and design.clusters < 10:
        note = (
            f"Only {design.clusters} clusters of '{design.unit}': the normal approximation "
            "is optimistic; prefer a finer unit."
        )
    return PowerPlan(weekly, spread, design, target_value, weeks_needed, pd.DataFrame(rows), note)


# --------------------------------------------------------------------------- the statement
def format_value(value: float, p: SuccessMetricParameters) -> str:
    if not np.isfinite(value):
        return "n/a"
    if p.lower_is_better:
        return f"{value:.1f} {UNIT_SHORT[p.unit]}"
    return f"{100 * value:.1f} %"


def success_statement(
    overall: dict[str, Any],
    plan: PowerPlan,
    guard: pd.DataFrame,
    p: SuccessMetricParameters,
) -> str:
    """The one-sentence success metric the team signs up to."""
    if p.focus_segment:
        scope = f"{p.segment_column} '{p.focus_segment}'"
    else:
        scope = "all segments" if p.segment_column else "all events"
    verb = "Reduce" if p.lower_is_better else "Raise"
    sentence = (
        f"{verb} {p.metric_label} for {scope} from {format_value(overall['km'], p)} "
        f"[95 % CI {format_value(overall['km_low'], p)} to {format_value(overall['km_high'], p)}]"
        f" to {format_value(plan.target_value, p)}, measured weekly by week of creation with "
        "open cases counted (Kaplan-Meier)"
    )
    rules = []
    for row in guard.itertuples():
        if row.guardrail == "reopen rate":
            rules.append(
                f"reopen rate at or below {100 * row.limit:.1f} % "
                f"(baseline {100 * row.baseline:.1f} %)"
            )
        else:
            rules.append(f"mean CSAT at or above {row.limit:.2f} (baseline {row.baseline:.2f})")
    if rules:
        sentence += "; guardrails: " + " and ".join(rules)
    return sentence + "."


def metric_spec(
    overall: dict[str, Any],
    plan: PowerPlan,
    guard: pd.DataFrame,
    events: Events,
    p: SuccessMetricParameters,
    sentence: str,
) -> dict[str, Any]:
    """Everything the impact notebook needs to measure against this baseline."""
    return {
        "statement": sentence,
        "metric": {
            "kind": p.metric,
            "label": p.metric_label,
            "quantile": p.quantile,
            "sla": p.sla if p.metric == "sla_share" else None,
            "unit": p.unit,
            "lower_is_better": p.lower_is_better,
            "estimator": "Kaplan-Meier (open events right-censored)",
        },
        "data": {
            "events_path": p.events_path,
            "columns": {
                "id": p.id_column,
                "start": p.start_column,
                "end": p.end_column,
                "segment": p.segment_column or None,
            },
            "focus_segment": p.focus_segment or None,
        },
        "baseline": {
            "window_start": str((events.as_of - pd.Timedelta(weeks=p.baseline_weeks)).date()),
            "window_end_exclusive": str(events.as_of.date()),
            "as_of": str(events.as_of),
            "value": overall["km"],
            "ci_low": overall["km_low"],
            "ci_high": overall["km_high"],
            "events": overall["events"],
            "open_at_as_of": overall["open"],
        },
        "target": {
            "relative_change": p.target_change,
            "value": plan.target_value,
            "alpha": p.alpha,
            "power": p.power,
            "randomisation_unit": p.randomisation_unit,
            "weekly_volume": plan.weekly_volume,
            "weeks_needed": plan.weeks_needed,
        },
        "guardrails": [
            {"name": row.guardrail, "baseline": row.baseline, "limit": row.limit, "rule": row.rule}
            for row in guard.itertuples()
        ],
    }


@dataclass
class SuccessMetricResult:
    """Everything the Chapter 1 notebook shows and writes."""

    params: SuccessMetricParameters
    events: Events
    window: pd.DataFrame
    baseline: pd.DataFrame
    weekly: pd.DataFrame
    seasonality: dict[str, pd.DataFrame]
    guardrails: pd.DataFrame
    plan: PowerPlan
    statement: str
    spec: dict[str, Any]

    @property
    def overall(self) -> dict[str, Any]:
        return self.baseline.iloc[0].to_dict()

    def guardrail_baseline(self, name: str) -> float:
        if self.guardrails.empty:
            return math.nan
        return float(self.guardrails.set_index("guardrail")["baseline"].get(name, math.nan))

    def glue_values(self) -> dict[str, Any]:
        """The numbers the Chapter 1 prose quotes (glued as ``c1_*``)."""
        o = self.overall
        mde = self.plan.mde_table.set_index("weeks")["mde_relative"]
        return {
            "c1_baseline": o["km"],
            "c1_baseline_low": o["km_low"],
            "c1_baseline_high": o["km_high"],
            "c1_naive": o["naive"],
            "c1_bias_pct": 100 * o["naive_bias"],
            "c1_open": o["open"],
            "c1_events": o["events"],
            "c1_weekly_volume": self.plan.weekly_volume,
            "c1_weeks_needed": self.plan.weeks_needed,
            "c1_target": self.plan.target_value,
            "c1_mde_8w_pct": 100 * float(mde.get(8, math.nan)),
            "c1_reopen_pct": 100 * self.guardrail_baseline("reopen rate"),
            "c1_csat": self.guardrail_baseline("CSAT (mean score)"),
            "c1_end_before_start": self.events.report.end_before_start,
            "c1_target_change_pct": 100 * abs(self.params.target_change),
        }

    def results(self) -> dict[str, Any]:
        """The machine-readable findings written to ``results.json``."""
        o = self.overall
        cluster = self.plan.design
        return {
            "notebook": SuccessMetricParameters.notebook,
            "as_of": str(self.events.as_of),
            "metric": self.params.metric,
            "unit": self.params.unit,
            "baseline": {
                "events": o["events"],
                "open": o["open"],
                "km": o["km"],
                "km_low": o["km_low"],
                "km_high": o["km_high"],
                "naive_closed_only": o["naive"],
                "naive_low": o["naive_low"],
                "naive_high": o["naive_high"],
                "naive_bias_relative": o.get("naive_bias"),
            },
            "by_segment": self.baseline.iloc[1:].to_dict(orient="records"),
            "cleaning": self.events.report.__dict__,
            "guardrails": self.guardrails.to_dict(orient="records"),
            "power": {
                "weekly_volume": self.plan.weekly_volume,
                "spread": self.plan.spread,
                "target_value": self.plan.target_value,
                "weeks_needed": self.plan.weeks_needed,
                "randomisation_unit": self.params.randomisation_unit,
                "clusters": cluster.clusters if cluster else None,
                "icc": cluster.icc if cluster else None,
                "mde": self.plan.mde_table.to_dict(orient="records"),
                "note": self.plan.note,
            },
            "statement": self.statement,
        }


def analyse(p: SuccessMetricParameters) -> SuccessMetricResult:
    """Run the whole Chapter 1 analysis on validated parameters."""
    events = load_events(p)
    window = baseline_window(events, p)
    base = baseline_table(window, p)
    overall = base.iloc[0].to_dict()
    if not np.isfinite(overall["km"]):
        raise DataQualityError(
            f"metric: the {p.metric_label} cannot be estimated because too many events are "
            "still open; use the median or a lower percentile, or a longer baseline window."
        )
    weekly = weekly_series(events, p)
    season = seasonality(events, p)
    guard = guardrails(window, events, p)
    plan = power_plan(window, overall["km"], p)
    sentence = success_statement(overall, plan, guard, p)
    spec = metric_spec(overall, plan, guard, events, p, sentence)
    return SuccessMetricResult(p, events, window, base, weekly, season, guard, plan, sentence, spec)
