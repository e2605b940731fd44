"""Adoption and trust, measured from an AI usage log (one row per suggestion shown).

The log is read into these columns (the notebook maps the user's names onto them): ``group``
(team), ``user`` (agent), ``time``, ``action`` (accepted, edited or overridden), and where they
exist ``confidence`` (the model's, 0-1), ``suggestion``, ``final`` (what the user decided) and
``truth`` (the correct answer, for a reviewed sample).

* :func:`rates_by`: acceptance, edit and override rates with Wilson intervals, by any column;
* :func:`laggards`: groups whose acceptance is significantly below the rest (two-proportion
  tests, Holm-corrected), named rather than only shown;
* :func:`reliance`: appropriate reliance where the truth is known. Without each user's decision
  *before* seeing the suggestion (as Schemmer et al., 2023, define relative AI reliance and
  relative self-reliance), the log supports their behavioural counterparts: how often a correct
  suggestion is followed (AI reliance; overriding it is under-reliance) and how often a wrong
  one is rejected (self-reliance; accepting it is over-reliance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy import stats as sps

from pilot2prod.errors import DataQualityError
from pilot2prod.stats import holm, wilson_interval

ACTIONS = ("accepted", "edited", "overridden")
#: Confidence bands for calibration tables (upper edges).
BANDS = (0.5, 0.7, 0.8, 0.9, 1.0)
#: Fewer suggestions than this in a group: its rates are shown but it is never named.
MIN_EVENTS = 30


def check_actions(usage: pd.DataFrame, column: str) -> None:
    """Every action must be one of :data:`ACTIONS` (after the notebook's mapping)."""
    bad = sorted(set(usage["action"].dropna().unique()) - set(ACTIONS))
    if bad:
        raise DataQualityError(
            f"action_column: '{column}' holds {', '.join(map(str, bad[:5]))}, not only "
            f"{', '.join(ACTIONS)}; map your values with accepted_values, edited_values and "
            "overridden_values."
        )
    if usage["action"].isna().any():
        n = int(usage["action"].isna().sum())
        raise DataQualityError(f"action_column: '{column}' is empty in {n:,} rows.")


def _rate_row(actions: pd.Series, confidence: float) -> dict[str, float]:
    n = len(actions)
    row: dict[str, float] = {"suggestions": n}
    for action in ACTIONS:
        k = int((actions == action).sum())
        ci = wilson_interval(k, n, confidence) if n else None
        row[f"{action}"] = k / n if n else math.nan
        row[f"{action}_low"] = ci.low if ci else math.nan
        row[f"{action}_high"] = ci.high if ci else math.nan
    return row


def rates_by(usage: pd.DataFrame, by: str, confidence: float = 0.95) -> pd.DataFrame:
    """Acceptance, edit and override rates (with Wilson intervals) per value of ``by``."""
    rows = [
        {by: key, **_rate_row(group["action"], confidence)}
        for key, group in usage.groupby(by, observed=True, sort=True)
    ]
    return pd.DataFrame(rows)


def confidence_bands(confidence: pd.Series) -> pd.Series:
    """The model confidence as bands (``<0.5``, ``0.5-0.7``, ...)."""
    edges = [0.0, *BANDS]
    labels = [f"{lo:.1f}-{hi:.1f}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return pd.cut(confidence.clip(0, 1), edges, labels=labels, include_lowest=True)


def weekly(usage: pd.DataFrame, by: str = "group") -> pd.DataFrame:
    """Acceptance per week and group: how adoption moves after the launch."""
    week = usage["time"].dt.to_period("W").dt.start_time
    frame = usage.assign(week=week, accepted=usage["action"] == "accepted")
    return (
        frame.groupby(["week", by], observed=True)
        .agg(suggestions=("accepted", "size"), acceptance=("accepted", "mean"))
        .reset_index()
    )


@dataclass(frozen=True)
class Comparison:
    """One group against all the others on a rate: the difference, its p-value (two-sided),
    Holm-adjusted over the groups, and whether the group is named."""

    group: str
    rate: float
    others: float
    n: int
    p_value: float
    p_adjusted: float
    named: bool


def below_the_rest(
    frame: pd.DataFrame, by: str, success: pd.Series, alpha: float = 0.05
) -> list[Comparison]:
    """Each group's rate of ``success`` (a boolean Series aligned with ``frame``) against all
    other groups pooled: a two-proportion z-test, Holm-corrected; a group is named when its rate
    is lower with an adjusted p-value below ``alpha`` and it has at least
    :data:`MIN_EVENTS` events."""
    keys = sorted(frame[by].dropna().unique())
    if len(keys) < 2:
        return []
    out = []
    for key in keys:
        mine = frame[by] == key
        k1, n1 = int(success[mine].sum()), int(mine.sum())
        k2, n2 = int(success[~mine].sum()), int((~mine).sum())
        pooled = (k1 + k2) / (n1 + n2)
        se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2)) if 0 < pooled < 1 else 0.0
        diff = k1 / n1 - k2 / n2
        p = float(2 * sps.norm.sf(abs(diff) / se)) if se > 0 else 1.0
        out.append((str(key), k1 / n1, k2 / n2, n1, p, diff))
    # With two groups, "A below the rest" and "B below the rest" are one test: no correction.
    adjusted = [row[4] for row in out] if len(out) == 2 else holm([row[4] for row in out]).tolist()
    return [
        Comparison(g, r, o, n, p, a, diff < 0 and a < alpha and n >= MIN_EVENTS)
        for (g, r, o, n, p, diff), a in zip(out, adjusted, strict=True)
    ]


def laggards(usage: pd.DataFrame, by: str = "group", alpha: float = 0.05) -> list[Comparison]:
    """Groups whose acceptance rate is significantly below the rest's."""
    return below_the_rest(usage, by, usage["action"] == "accepted", alpha)


@dataclass(frozen=True)
class Reliance:
    """Appropriate reliance per group, where the truth is known (see the module's note)."""

    table: pd.DataFrame  # group, reviewed, ai_correct, ai_reliance (+ CI), self_reliance (+ CI)
    over_relying: list[Comparison]  # rejecting wrong suggestions less often than the rest
    under_relying: list[Comparison]  # following correct suggestions less often than the rest
    reviewed: int


def reliance(usage: pd.DataFrame, by: str = "group", alpha: float = 0.05) -> Reliance | None:
    """``None`` when no row has the truth (the notebook then asks for a reviewed sample)."""
    if "truth" not in usage or usage["truth"].notna().sum() == 0:
        return None
    reviewed = usage[usage["truth"].notna()].copy()
    reviewed["ai_correct"] = reviewed["suggestion"].astype(str) == reviewed["truth"].astype(str)
    followed = reviewed["action"] == "accepted"
    rows = []
    for key, g in reviewed.groupby(by, observed=True, sort=True):
        right, wrong = g[g["ai_correct"]], g[~g["ai_correct"]]
        ai = (
            wilson_interval(int((right["action"] == "accepted").sum()), len(right))
            if len(right)
            else None
        )
        self_ = (
            wilson_interval(int((wrong["action"] != "accepted").sum()), len(wrong))
            if len(wrong)
            else None
        )
        rows.append(
            {
                by: key,
                "reviewed": len(g),
                "ai_correct": float(g["ai_correct"].mean()),
                "ai_reliance": ai.estimate if ai else math.nan,
                "ai_reliance_low": ai.low if ai else math.nan,
                "ai_reliance_high": ai.high if ai else math.nan,
                "self_reliance": self_.estimate if self_ else math.nan,
                "self_reliance_low": self_.low if self_ else math.nan,
                "self_reliance_high": self_.high if self_ else math.nan,
            }
        )
    right = reviewed[reviewed["ai_correct"]]
    wrong = reviewed[~reviewed["ai_correct"]]
    under = below_the_rest(right, by, followed[right.index], alpha)
    over = below_the_rest(wrong, by, ~followed[wrong.index], alpha)
    return Reliance(pd.DataFrame(rows), over, under, len(reviewed))


def user_spread(usage: pd.DataFrame, low: float = 0.25) -> pd.DataFrame:
    """How acceptance spreads over the users of each group, without naming anyone (a per-user
    ranking would be an evaluation of employees): users, the median and the 10th and 90th
    percentiles of their acceptance, and how many accept less than ``low``."""
    per_user = (
        usage.assign(accepted=usage["action"] == "accepted")
        .groupby(["group", "user"], observed=True)["accepted"]
        .mean()
        .reset_index()
    )
    rows = []
    for key, g in per_user.groupby("group", sort=True):
        rates = g["accepted"]
        rows.append(
            {
                "group": key,
                "users": len(g),
                "p10": float(rates.quantile(0.1)),
                "median": float(rates.median()),
                "p90": float(rates.quantile(0.9)),
                f"below {low:.0%}": int((rates < low).sum()),
            }
        )
    return pd.DataFrame(rows)
