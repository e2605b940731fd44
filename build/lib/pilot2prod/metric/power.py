"""How long a pilot must run to detect the target change (minimum detectable effect)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pilot2prod import stats
from pilot2prod.metric.counts import Durations
from pilot2prod.metric.params import Parameters

HORIZON_WEEKS = (1, 2, 4, 8, 12, 26, 52)
#: The longest pilot the search considers, in weeks (ten years).
MAX_WEEKS = 520
#: Below this many clusters the normal approximation is optimistic.
FEW_CLUSTERS = 10


@dataclass
class PowerPlan:
    weekly_volume: float
    spread: float  # log-scale SD (durations) or baseline share (SLA)
    design: stats.ClusterDesign | None
    target_value: float
    weeks_needed: int | None
    mde_table: pd.DataFrame
    note: str


def log_sd_from_km(window: Durations) -> float:
    """Robust log-scale spread from KM quartiles (open events included): IQR / 1.349."""
    d, observed, n = window.arrays()
    q25 = stats.km_quantile(d, observed, 0.25, counts=n)
    q75 = stats.km_quantile(d, observed, 0.75, counts=n)
    if q25 > 0 and np.isfinite(q75):
        return float((math.log(q75) - math.log(q25)) / 1.349)
    closed, counts = window.closed()
    keep = closed > 0
    logs, weights = np.log(closed[keep]), counts[keep]
    mean = np.average(logs, weights=weights)
    return float(math.sqrt(np.average((logs - mean) ** 2, weights=weights)))


def cluster_design(sums: pd.DataFrame, clusters: int, p: Parameters) -> stats.ClusterDesign:
    """The ICC of the outcome between clusters. With segments, clusters are randomised within
    segments (stratified), so only the variation between clusters of the same segment counts:
    each cluster's values are centred on its segment's mean first."""
    frame = sums.copy()
    if p.segment_column and p.randomisation_unit != p.segment_column:
        segment = frame.groupby("segment")[["n", "total"]].sum()
        mean = frame["segment"].map(segment["total"] / segment["n"])
        # Sum of squares of (x - m) = squares - 2 m total + n m^2, per cluster.
        frame["squares"] = frame["squares"] - 2 * mean * frame["total"] + frame["n"] * mean**2
        frame["total"] = frame["total"] - frame["n"] * mean
    per_cluster = frame.groupby("cluster")[["n", "total", "squares"]].sum()
    icc = stats.icc_from_sums(per_cluster["n"], per_cluster["total"], per_cluster["squares"])
    return stats.ClusterDesign(p.randomisation_unit, clusters, icc)


def power_plan(
    window: Durations,
    baseline: float,
    p: Parameters,
    design: stats.ClusterDesign | None,
    horizon_weeks: tuple[int, ...] = HORIZON_WEEKS,
) -> PowerPlan:
    """Minimum detectable effect by pilot length, and the weeks needed for the target.

    Two equal arms split the weekly volume. Durations are compared on the log scale (a
    multiplicative change of the median); shares within the SLA as proportions. With cluster
    randomisation the design effect 1 + (m - 1) ICC grows with the cases per cluster, so a
    target can be out of reach for any length when there are few clusters."""
    weekly = window.events / p.baseline_weeks
    target_value = baseline * (1.0 + p.target_change)
    if p.lower_is_better:
        spread = log_sd_from_km(window)
        required = stats.n_per_arm_log_scale(spread, p.target_change, p.alpha, p.power)
    else:
        target_value = min(target_value, 0.999)
        spread = baseline
        required = stats.n_per_arm_proportions(baseline, target_value, p.alpha, p.power)
    weeks_needed = stats.periods_needed(required, weekly, design, MAX_WEEKS)
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
            f"target cannot be detected within {MAX_WEEKS // 52} years: randomise a finer unit "
            "or aim for a larger change."
        )
    elif weeks_needed is None:
        note = (
            f"The target change cannot be detected within {MAX_WEEKS // 52} years at this "
            "volume: aim for a larger change or widen the scope."
        )
    elif design is not None and design.clusters < FEW_CLUSTERS:
        note = (
            f"Only {design.clusters} clusters of '{design.unit}': the normal approximation "
            "is optimistic; prefer a finer unit."
        )
    return PowerPlan(weekly, spread, design, target_value, weeks_needed, pd.DataFrame(rows), note)
