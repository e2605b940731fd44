"""The metric's baseline from duration counts: Kaplan-Meier (open events censored) beside the
closed-only figure a naive query gives, overall, by segment, by week, weekday and month.

One estimator and one convention for both: the closed-only figure is the same Kaplan-Meier
quantile computed without the open events, so the two differ only through censoring (with no
open event they are equal).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from pilot2prod import stats
from pilot2prod.metric.counts import Durations
from pilot2prod.metric.params import Parameters

#: Segments with fewer events show no closed-only bias: too noisy to read anything into.
MIN_SEGMENT_EVENTS = 30
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def metric_value(durations: Durations, p: Parameters, closed_only: bool = False) -> float:
    """The metric of a group of events (KM, open events censored; or closed events only)."""
    d, observed, n = durations.arrays()
    if closed_only:
        d, n = d[observed], n[observed]
        observed = np.ones(d.size, dtype=bool)
    if n[observed].sum() == 0:
        return math.nan
    if p.quantile is not None:
        return stats.km_quantile(d, observed, p.quantile, counts=n)
    return 1.0 - stats.km_survival_at(d, observed, p.sla, counts=n)


def metric_interval(
    durations: Durations, p: Parameters, seed: int, closed_only: bool = False
) -> stats.Interval:
    d, observed, n = durations.arrays()
    resamples = p.n_bootstrap if closed_only else p.n_bootstrap // 2
    if closed_only:
        d, n = d[observed], n[observed]
        observed = np.ones(d.size, dtype=bool)
    target = {"quantile": p.quantile} if p.quantile is not None else {"survival_at": p.sla}
    # For the SLA metric this is the interval of 1 - S(sla): the share done within the SLA.
    return stats.km_bootstrap_ci(d, observed, counts=n, n_resamples=resamples, seed=seed, **target)


def estimates(durations: Durations, p: Parameters, seed: int) -> dict[str, Any]:
    """The metric two ways for one group of events, with 95 % bootstrap intervals."""
    out: dict[str, Any] = {"events": durations.events, "open": durations.open}
    out["share_open"] = out["open"] / max(1, out["events"])
    nan = dict.fromkeys(("km", "km_low", "km_high", "naive", "naive_low", "naive_high"), math.nan)
    if durations.completed < 2:
        return out | nan | {"naive_bias": math.nan}
    km = metric_interval(durations, p, seed)
    naive = metric_interval(durations, p, seed, closed_only=True)
    out.update(
        km=km.estimate,
        km_low=km.low,
        km_high=km.high,
        naive=naive.estimate,
        naive_low=naive.low,
        naive_high=naive.high,
    )
    enough = out["events"] >= MIN_SEGMENT_EVENTS and km.estimate
    out["naive_bias"] = (naive.estimate - km.estimate) / km.estimate if enough else math.nan
    return out


def baseline_table(window: Durations, p: Parameters) -> pd.DataFrame:
    """Baseline overall and by segment."""
    rows = [{"segment": "all", **estimates(window, p, p.seed)}]
    segments = sorted(window.frame["segment"].unique()) if p.segment_column else []
    if len(segments) > 1 or (segments and not p.focus_segment):
        for k, name in enumerate(segments):
            rows.append(
                {"segment": str(name), **estimates(window.subset(segment=name), p, p.seed + k + 1)}
            )
    return pd.DataFrame(rows)


def km_curve(durations: Durations) -> pd.DataFrame:
    """The Kaplan-Meier curve (time, share still open) for plotting."""
    d, observed, n = durations.arrays()
    times, surv = stats.km_curve(d, observed, counts=n)
    return pd.DataFrame({"time": times, "still_open": surv})


def _grouped(daily: Durations, key: pd.Series) -> dict[object, Durations]:
    frame = daily.frame.assign(_key=key.to_numpy())
    return {k: Durations(g.drop(columns="_key")) for k, g in frame.groupby("_key", sort=True)}


def weekly_series(daily: Durations, p: Parameters) -> pd.DataFrame:
    """Per calendar week of creation (weeks start on Monday): volume, open, the metric."""
    week = daily.frame["day"].dt.to_period("W-SUN").dt.start_time
    rows = []
    for start, group in _grouped(daily, week).items():
        rows.append(
            {
                "week": start,
                "events": group.events,
                "open": group.open,
                "km": metric_value(group, p),
                "naive": metric_value(group, p, closed_only=True),
            }
        )
    return pd.DataFrame(rows, columns=["week", "events", "open", "km", "naive"])


def seasonality(daily: Durations, p: Parameters) -> dict[str, pd.DataFrame]:
    """Volume (events per week) and the metric by weekday and by calendar month of creation.

    Volume is normalised by the days the data covers in each weekday or month, so a month only
    partly inside the data is not mistaken for a quiet month."""
    first, last = daily.frame["day"].min(), daily.frame["day"].max()
    days = pd.date_range(first, last, freq="D")
    out = {}
    for key, labels in (("weekday", WEEKDAYS), ("month", MONTHS)):
        part = (
            daily.frame["day"].dt.day_of_week
            if key == "weekday"
            else daily.frame["day"].dt.month - 1
        )
        covered = pd.Series(days.day_of_week if key == "weekday" else days.month - 1).value_counts()
        rows = []
        for idx, group in _grouped(daily, part).items():
            covered_days = int(covered.get(idx, 0))
            if not covered_days:
                continue
            per_week = group.events / covered_days * (1 if key == "weekday" else 7)
            rows.append(
                {
                    key: labels[int(idx)],
                    "events": group.events,
                    "events_per_week": per_week,
                    "metric_km": metric_value(group, p),
                }
            )
        out[key] = pd.DataFrame(rows, columns=[key, "events", "events_per_week", "metric_km"])
    return out
