"""Chapter 1 as a whole: ``run(p) -> Result``, the one-sentence metric and its hand-off."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pilot2prod.chapter import Headline
from pilot2prod.errors import DataQualityError
from pilot2prod.handoff import Baseline, Guardrail, MetricData, MetricDefinition, MetricSpec, Target
from pilot2prod.metric import counts as engine_counts
from pilot2prod.metric.baseline import baseline_table, seasonality, weekly_series
from pilot2prod.metric.counts import Durations
from pilot2prod.metric.events import UNIT_SHORT, Events, load_events
from pilot2prod.metric.guardrails import guardrails
from pilot2prod.metric.params import Parameters
from pilot2prod.metric.power import PowerPlan, cluster_design, power_plan

#: The baseline window needs at least this many events, and this many completed ones.
MIN_EVENTS = 30
MIN_COMPLETED = 10


def format_value(value: float, p: Parameters, unit: str) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    if p.lower_is_better:
        return f"{value:.1f} {UNIT_SHORT[unit]}"
    return f"{100 * value:.1f} %"


@dataclass
class Result:
    """Everything the Chapter 1 notebook shows and writes."""

    params: Parameters
    events: Events
    window: Durations
    baseline: pd.DataFrame
    weekly: pd.DataFrame
    seasonality: dict[str, pd.DataFrame]
    guardrails: pd.DataFrame
    plan: PowerPlan
    statement: str
    spec: MetricSpec

    @property
    def unit(self) -> str:
        return self.events.unit

    @property
    def metric_label(self) -> str:
        return self.params.metric_label(self.unit)

    @property
    def window_start(self) -> pd.Timestamp:
        return self.events.as_of - pd.Timedelta(weeks=self.params.baseline_weeks)

    @property
    def overall(self) -> dict[str, Any]:
        return self.baseline.iloc[0].to_dict()

    def fmt(self, value: float) -> str:
        return format_value(value, self.params, self.unit)

    def guardrail_baseline(self, name: str) -> float:
        if self.guardrails.empty:
            return math.nan
        return float(self.guardrails.set_index("guardrail")["baseline"].get(name, math.nan))

    def headline(self) -> Headline:
        o, plan = self.overall, self.plan
        weeks = f"{plan.weeks_needed} weeks" if plan.weeks_needed is not None else "not detectable"
        facts = [
            (
                "Baseline",
                f"{self.fmt(o['km'])} (95 % CI {self.fmt(o['km_low'])} to "
                f"{self.fmt(o['km_high'])})",
            ),
            ("Target", f"{self.fmt(plan.target_value)} ({self.params.target_change:+.0%})"),
            ("Pilot length to detect it", weeks),
            ("Events in the baseline", f"{int(o['events']):,} ({int(o['open']):,} still open)"),
        ]
        facts += [
            (
                f"Guardrail: {row.guardrail}",
                f"limit {self._guardrail_text(row.guardrail, row.limit)}",
            )
            for row in self.guardrails.itertuples()
        ]
        return Headline(self.statement, "", facts)

    @staticmethod
    def _guardrail_text(name: str, value: float) -> str:
        return f"{100 * value:.1f} %" if name == "reopen rate" else f"{value:.2f}"

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
            "notebook": Parameters.notebook,
            "source": self.events.source,
            "as_of": str(self.events.as_of),
            "metric": self.params.metric,
            "unit": self.unit,
            "timestamps": [r.__dict__ for r in self.events.readings],
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
            "implausible_durations": self.events.implausible.to_dict(orient="records"),
            "guardrails": self.guardrails.to_dict(orient="records"),
            "power": {
                "weekly_volume": self.plan.weekly_volume,
                "spread": self.plan.spread,
                "target_value": self.plan.target_value,
                "weeks_needed": self.plan.weeks_needed,
                "randomisation_unit": self.params.randomisation_unit or None,
                "clusters": cluster.clusters if cluster else None,
                "icc": cluster.icc if cluster else None,
                "mde": self.plan.mde_table.to_dict(orient="records"),
                "note": self.plan.note,
            },
            "statement": self.statement,
        }


def success_statement(
    overall: dict[str, Any], plan: PowerPlan, guard: pd.DataFrame, p: Parameters, unit: str
) -> str:
    """The one-sentence success metric the team signs up to."""
    if p.focus_segment:
        scope = f"{p.segment_column} '{p.focus_segment}'"
    else:
        scope = "all segments" if p.segment_column else "all events"
    verb = "Reduce" if p.lower_is_better else "Raise"

    def v(x: float) -> str:
        return format_value(x, p, unit)

    sentence = (
        f"{verb} {p.metric_label(unit)} for {scope} from {v(overall['km'])} "
        f"[95 % CI {v(overall['km_low'])} to {v(overall['km_high'])}]"
        f" to {v(plan.target_value)}, measured weekly by week of creation with "
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
    p: Parameters,
    sentence: str,
) -> MetricSpec:
    """Everything the later chapters need to measure against this baseline."""

    def number(value: Any) -> float | None:
        return float(value) if value is not None and np.isfinite(value) else None

    window_start = events.as_of - pd.Timedelta(weeks=p.baseline_weeks)
    return MetricSpec(
        statement=sentence,
        metric=MetricDefinition(
            kind=p.metric,
            label=p.metric_label(events.unit),
            unit=events.unit,
            lower_is_better=p.lower_is_better,
            quantile=p.quantile,
            sla=p.sla if p.metric == "sla_share" else None,
        ),
        data=MetricData(
            source=events.source,
            columns={
                "id": p.id_column or None,
                "start": p.start_column,
                "end": p.end_column,
                "segment": p.segment_column or None,
            },
            focus_segment=p.focus_segment or None,
        ),
        baseline=Baseline(
            window_start=str(window_start.date()),
            window_end_exclusive=str(events.as_of.date()),
            as_of=str(events.as_of),
            value=float(overall["km"]),
            ci_low=number(overall["km_low"]),
            ci_high=number(overall["km_high"]),
            events=int(overall["events"]),
            open_at_as_of=int(overall["open"]),
        ),
        target=Target(
            relative_change=p.target_change,
            value=float(plan.target_value),
            alpha=p.alpha,
            power=p.power,
            randomisation_unit=p.randomisation_unit or "event",
            weekly_volume=float(plan.weekly_volume),
            weeks_needed=plan.weeks_needed,
        ),
        guardrails=[
            Guardrail(
                name=row.guardrail,
                baseline=float(row.baseline),
                limit=float(row.limit),
                rule=row.rule,
                higher_is_worse=row.guardrail == "reopen rate",
            )
            for row in guard.itertuples()
        ],
    )


def check_window(window: Durations, events: Events, p: Parameters) -> None:
    """The baseline window must hold enough events, and enough completed ones."""
    if window.events == 0:
        row = (
            events.table.aggregate(
                first=events.table.start_s.min(), last=events.table.start_s.max()
            )
            .execute()
            .iloc[0]
        )
        from pilot2prod.metric.events import from_epoch

        raise DataQualityError(
            f"baseline_weeks: no events started in the {p.baseline_weeks} weeks before "
            f"{events.as_of:%Y-%m-%d}; the data runs from {from_epoch(row['first']):%Y-%m-%d} to "
            f"{from_epoch(row['last']):%Y-%m-%d}. Adjust as_of or baseline_weeks."
        )
    if window.events < MIN_EVENTS or window.completed < MIN_COMPLETED:
        raise DataQualityError(
            f"baseline_weeks: only {window.events} events ({window.completed} completed) in the "
            f"{p.baseline_weeks}-week baseline window; at least {MIN_EVENTS} events and "
            f"{MIN_COMPLETED} completed are needed. Use a longer window (more baseline_weeks)."
        )


def run(p: Parameters) -> Result:
    """Run the whole Chapter 1 analysis on validated parameters."""
    events = load_events(p)
    window = engine_counts.window_durations(events, p.baseline_weeks)
    check_window(window, events, p)
    base = baseline_table(window, p)
    overall = base.iloc[0].to_dict()
    if not np.isfinite(overall["km"]):
        lower = (
            "a lower percentile (metric=percentile, e.g. percentile=25)"
            if p.metric == "median"
            else "the median or a lower percentile"
        )
        raise DataQualityError(
            f"metric: the {p.metric_label(events.unit)} cannot be estimated because too many "
            f"events are still open (fewer than that share ever ended); use {lower}, or a "
            "longer baseline window."
        )
    daily = engine_counts.daily_durations(events)
    guard = guardrails(
        engine_counts.guardrail_counts(events, p.baseline_weeks),
        events.has_reopened,
        events.has_csat,
        p,
    )
    design = None
    if events.has_clusters:
        outcome = "log" if p.lower_is_better else "sla"
        sums = engine_counts.cluster_sums(events, p.baseline_weeks, outcome, p.sla)
        clusters = engine_counts.window_clusters(events, p.baseline_weeks)
        design = cluster_design(sums, clusters, p)
    plan = power_plan(window, overall["km"], p, design)
    sentence = success_statement(overall, plan, guard, p, events.unit)
    spec = metric_spec(overall, plan, guard, events, p, sentence)
    return Result(
        p,
        events,
        window,
        base,
        weekly_series(daily, p),
        seasonality(daily, p),
        guard,
        plan,
        sentence,
        spec,
    )
