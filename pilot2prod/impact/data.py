"""The impact analysis's inputs: the metric (from Chapter 1's spec or the parameters) and the
events around the launch, cleaned exactly as Chapter 1 cleans them.

Events still open when the data was read are handled two ways, each where it belongs:

* the metric before and after (:func:`pilot2prod.impact.analysis.before_after`) counts them as
  censored (Kaplan-Meier), as Chapter 1's baseline does;
* the tests on single events and the daily series use *matured* events only, those that started
  at least a horizon ``H`` before the data was read, with each duration capped at ``H``. Every
  matured event has either ended or is known to have lasted at least ``H``, so the capped
  durations are all known, and a median (or the share within an SLA below ``H``) is unchanged by
  the cap. ``H`` is a high quantile of the durations before the launch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from pilot2prod import metric, stats
from pilot2prod.errors import DataQualityError, DataSourceError, ParameterError
from pilot2prod.handoff import MetricSpec
from pilot2prod.impact.params import Parameters

#: The horizon is at least this quantile of the pre-launch durations (KM).
HORIZON_QUANTILE = 0.95
#: Designs, strongest first.
DESIGN_NAMES = {
    "randomised": "randomised comparison",
    "did": "difference-in-differences",
    "its": "interrupted time series",
}


@dataclass(frozen=True)
class GuardrailRule:
    name: str  # "reopen rate" or "CSAT (mean score)"
    margin: float  # allowed rise of the rate, or allowed drop of the mean
    baseline: float | None  # the baseline Chapter 1 measured, when there is a spec
    limit: float | None


@dataclass(frozen=True)
class Settings:
    """The metric and design as the analysis uses them, whichever way they were given."""

    kind: str  # median, percentile or sla_share
    quantile: float | None
    sla: float | None  # the SLA in `unit` (the metric for sla_share; else an extra measure)
    unit: str  # "" until the data chooses
    label: str
    lower_is_better: bool
    target_change: float
    alpha: float
    design: str
    launch: pd.Timestamp
    spec: MetricSpec | None
    spec_baseline: float | None
    focus_segment: str | None
    segment_column: str | None
    guardrails: list[GuardrailRule] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        return 1 - self.alpha

    @property
    def design_name(self) -> str:
        return DESIGN_NAMES[self.design]

    @property
    def log_scale(self) -> bool:
        """Durations are compared on the log scale: a relative change becomes a difference."""
        return self.kind != "sla_share"


def _pick(name: str, given, from_spec, empty):  # noqa: ANN001, ANN202
    """A parameter given explicitly must agree with the metric spec; empty takes the spec's."""
    if given in (empty, None):
        return from_spec
    if from_spec not in (None, "") and given != from_spec:
        raise ParameterError(
            f"Parameter {name} is {given!r}, but the metric spec says {from_spec!r}; leave "
            f"{name} empty to measure the metric that was signed off, or drop metric_spec_path."
        )
    return given


def settings(p: Parameters) -> Settings:
    """Merge the metric spec and the parameters (a conflict is refused, naming both)."""
    spec = MetricSpec.load(p.metric_spec_path) if p.metric_spec_path else None
    m = spec.metric if spec else None
    kind = _pick("metric", p.metric, m.kind if m else None, "") or "median"
    percentile = p.percentile or (
        100 * m.quantile if m and m.quantile and kind == "percentile" else 90.0
    )
    if (
        m
        and kind == "percentile"
        and m.quantile
        and p.percentile
        and p.percentile != 100 * m.quantile
    ):
        raise ParameterError(
            f"Parameter percentile is {p.percentile:g}, but the metric spec measures "
            f"p{100 * m.quantile:g}; leave percentile at 0 to use the spec's."
        )
    quantile = {"median": 0.5, "percentile": percentile / 100, "sla_share": None}[kind]
    sla = p.sla or (m.sla if m and m.sla else None)
    if kind == "sla_share" and not sla:
        raise ParameterError(
            "Parameter sla is 0, but the metric is the share within an SLA; give the limit, "
            "e.g. sla=24 (in `unit`)."
        )
    unit = _pick("unit", p.unit, m.unit if m else None, "") or ""
    if kind == "sla_share" and not unit:
        raise ParameterError(
            "Parameter unit is empty, but the SLA is a duration; set unit (minutes, hours or "
            "days) so that sla is read in it."
        )
    target = _pick(
        "target_change", p.target_change, spec.target.relative_change if spec else None, 0.0
    )
    lower_is_better = kind != "sla_share"
    if lower_is_better and target > 0 or not lower_is_better and target < 0:
        better = "lower" if lower_is_better else "higher"
        raise ParameterError(
            f"Parameter target_change is {target:+g}, but a {better} value of this metric is "
            f"better; use a {'negative' if lower_is_better else 'positive'} change."
        )
    design = p.design
    if design == "auto":
        design = (
            "randomised" if p.treatment_column else "did" if p.group_column and p.treated else "its"
        )
    rules = []
    spec_rules = {g.name: g for g in spec.guardrails} if spec else {}
    if p.reopened_column:
        g = spec_rules.get("reopen rate")
        margin = g.limit - g.baseline if g else p.reopen_tolerance_pp / 100
        rules.append(
            GuardrailRule("reopen rate", margin, g.baseline if g else None, g.limit if g else None)
        )
    if p.csat_column:
        g = spec_rules.get("CSAT (mean score)")
        margin = g.baseline - g.limit if g else p.csat_tolerance
        rules.append(
            GuardrailRule(
                "CSAT (mean score)", margin, g.baseline if g else None, g.limit if g else None
            )
        )
    label = (
        "median resolution time"
        if kind == "median"
        else f"p{percentile:g} resolution time"
        if kind == "percentile"
        else f"share resolved within {sla:g} {metric.UNIT_SHORT.get(unit, unit)}"
    )
    return Settings(
        kind=kind,
        quantile=quantile,
        sla=sla,
        unit=unit,
        label=label,
        lower_is_better=lower_is_better,
        target_change=float(target),
        alpha=spec.target.alpha if spec and p.alpha == 0.05 else p.alpha,
        design=design,
        launch=pd.Timestamp(p.launch_date),
        spec=spec,
        spec_baseline=spec.baseline.value if spec else None,
        focus_segment=spec.data.focus_segment if spec and design != "did" else None,
        segment_column=(spec.data.columns.get("segment") if spec else None),
        guardrails=rules,
    )


@dataclass
class Window:
    """The events around the launch, one row each: ``start`` (timestamp), ``duration`` (in
    ``unit``, to the end or, while open, to ``as_of``), ``observed``, ``group`` (the treated or
    control label, or ``all``), ``arm`` (randomised design), ``unit_id`` (CUPED), ``reopened``,
    ``csat``, ``post`` (started on or after the launch), ``segment`` (the value of the group
    or treatment column)."""

    frame: pd.DataFrame
    as_of: pd.Timestamp
    unit: str
    source: str
    report: object  # pilot2prod.metric.events.CleaningReport
    readings: list
    horizon: float = math.nan

    @property
    def matured(self) -> pd.DataFrame:
        """Events that started at least the horizon before ``as_of``, durations capped at it."""
        cut = self.as_of - pd.Timedelta(self.horizon * _UNIT_SECONDS[self.unit], unit="s")
        out = self.frame[self.frame["start"] <= cut].copy()
        out["capped"] = np.minimum(out["duration"], self.horizon)
        return out


_UNIT_SECONDS = {"minutes": 60.0, "hours": 3600.0, "days": 86400.0}
_CONTROL_VALUES = ("0", "false", "no", "control", "a", "off", "n", "f")


def _metric_parameters(p: Parameters, s: Settings) -> metric.Parameters:
    spec_columns = s.spec.data.columns if s.spec else {}
    segment = ""
    if s.design == "did" or s.design == "its" and p.group_column and p.treated:
        segment = p.group_column
    elif s.design == "randomised":
        segment = p.treatment_column
    elif s.focus_segment and s.segment_column:
        segment = s.segment_column
    return metric.Parameters(
        events_path=p.events_path,
        id_column=p.id_column or spec_columns.get("id") or "",
        start_column=p.start_column or spec_columns.get("start") or "",
        end_column=p.end_column or spec_columns.get("end") or "",
        segment_column=segment,
        focus_segment=(s.focus_segment or "") if s.design == "its" else "",
        metric=s.kind,
        percentile=100 * s.quantile if s.quantile else 90.0,
        sla=s.sla or 24.0,
        unit=s.unit,
        as_of=p.as_of,
        reopened_column=p.reopened_column,
        csat_column=p.csat_column,
        randomisation_unit=p.covariate_unit_column,
        timestamp_format=p.timestamp_format,
        drop_unparseable=p.drop_unparseable,
    )


#: Chapter 1's parameter names in its loader's messages, as this notebook calls them.
_RENAMED = {
    "segment_column": {"did": "group_column", "randomised": "treatment_column"},
    "randomisation_unit": {"did": "covariate_unit_column", "randomised": "covariate_unit_column"},
}


def load_window(p: Parameters, s: Settings) -> Window:
    """Read and clean the events (in their engine), keep those from ``weeks_before`` before the
    launch on, and label them by design."""
    from pilot2prod.metric.events import load_events

    mp = _metric_parameters(p, s)
    try:
        events = load_events(mp)
    except (DataSourceError, DataQualityError, ParameterError) as exc:
        message = str(exc)
        for old, new in _RENAMED.items():
            if message.startswith(f"{old}:") and s.design in new:
                message = new[s.design] + message[len(old) :]
        raise type(exc)(message) from None
    if events.as_of <= s.launch:
        raise ParameterError(
            f"Parameter launch_date is {s.launch:%Y-%m-%d}, but the data ends "
            f"{events.as_of:%Y-%m-%d}; there is nothing after the launch to measure. Check "
            "launch_date and as_of."
        )
    from pilot2prod.metric.events import epoch

    t = events.table
    start_s = epoch(s.launch - pd.Timedelta(weeks=p.weeks_before))
    frame = (
        t.filter(t.start_s >= start_s)
        .select("start_s", "duration", "observed", "segment", "reopened", "csat", "cluster")
        .execute()
    )
    frame["start"] = pd.to_datetime(frame.pop("start_s"), unit="s")
    frame["post"] = frame["start"] >= s.launch
    frame["observed"] = frame["observed"].astype(bool)
    if not (~frame["post"]).any():
        raise DataQualityError(
            f"launch_date: no events started in the {p.weeks_before} weeks before "
            f"{s.launch:%Y-%m-%d}; the comparison needs a before. Check launch_date."
        )
    frame = _label(frame, p, s)
    return Window(
        frame.drop(columns=["cluster"]),
        events.as_of,
        events.unit,
        events.source,
        events.report,
        events.readings,
    )


def _label(frame: pd.DataFrame, p: Parameters, s: Settings) -> pd.DataFrame:
    segment = frame["segment"].astype(str)
    frame["group"] = "all"
    frame["arm"] = ""
    frame["unit_id"] = frame["cluster"].astype(str) if p.covariate_unit_column else ""
    if s.design == "did":
        present = set(segment.unique())
        missing = [g for g in p.treated + p.controls if g not in present]
        if missing:
            shown = ", ".join(sorted(present)[:20])
            raise DataQualityError(
                f"treated_groups/control_groups: '{missing[0]}' is not a value of "
                f"'{p.group_column}' in the comparison window; its values are: {shown}."
            )
        controls = p.controls or sorted(present - set(p.treated))
        if not controls:
            raise DataQualityError(
                f"control_groups: every value of '{p.group_column}' is treated; a "
                "difference-in-differences needs at least one control group."
            )
        frame["group"] = np.where(
            segment.isin(p.treated), "treated", np.where(segment.isin(controls), "control", "")
        )
        frame = frame[frame["group"] != ""]
    elif s.design == "its" and p.treated:  # one series: the groups that got the new system
        missing = [g for g in p.treated if g not in set(segment.unique())]
        if missing:
            raise DataQualityError(
                f"treated_groups: '{missing[0]}' is not a value of '{p.group_column}' in the "
                "comparison window."
            )
        frame = frame[segment.isin(p.treated)]
    elif s.design == "randomised":
        values = segment.str.strip()
        arms = sorted(values[frame["post"]].unique())
        control = (
            [v for v in arms if v == p.control_arm]
            if p.control_arm
            else [v for v in arms if v.lower() in _CONTROL_VALUES]
        )
        if len(arms) != 2 or len(control) != 1:
            raise DataQualityError(
                f"treatment_column: a randomised comparison needs exactly two arms after the "
                f"launch, one of them the control; '{p.treatment_column}' has "
                f"{len(arms)} ({', '.join(arms[:5])}). Set control_arm to the control's value."
            )
        frame["arm"] = np.where(values == control[0], "control", "treated")
    return frame


def horizon(window: Window, s: Settings) -> float:
    """The cap ``H`` on durations for the matured-event comparisons (see the module's note)."""
    before = window.frame[~window.frame["post"]]
    q = max(HORIZON_QUANTILE, (s.quantile or 0) + 0.04)
    h = stats.km_quantile(before["duration"], before["observed"], min(q, 0.995))
    if not np.isfinite(h):
        h = float(before["duration"].max())
    if s.sla:
        h = max(h, 1.01 * s.sla)
    return float(h)


def with_horizon(window: Window, s: Settings) -> Window:
    return replace(window, horizon=horizon(window, s))
