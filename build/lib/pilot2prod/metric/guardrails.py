"""Guardrails: the numbers that must not get worse while the metric improves."""

from __future__ import annotations

import pandas as pd

from pilot2prod import stats
from pilot2prod.metric.counts import GuardrailCounts
from pilot2prod.metric.params import Parameters

COLUMNS = ["guardrail", "baseline", "low", "high", "n", "limit", "rule", "response_rate"]


def guardrails(
    counts: GuardrailCounts, has_reopened: bool, has_csat: bool, p: Parameters
) -> pd.DataFrame:
    """Baselines of the reopen rate (completed events) and of the mean CSAT (scores given by
    as_of: a survey answered later did not exist on that day), each with its limit."""
    total = counts.total() if len(counts.frame) else pd.Series(dtype=float)
    rows = []
    if has_reopened and total.get("reopen_n", 0) > 0:
        ci = stats.wilson_interval(int(total["reopened"]), int(total["reopen_n"]))
        rows.append(
            {
                "guardrail": "reopen rate",
                "baseline": ci.estimate,
                "low": ci.low,
                "high": ci.high,
                "n": int(total["reopen_n"]),
                "limit": ci.estimate + p.reopen_tolerance_pp / 100.0,
                "rule": f"stays at or below baseline + {p.reopen_tolerance_pp:g} pp",
                "response_rate": None,
            }
        )
    if has_csat and total.get("csat_n", 0) >= 2:
        ci = stats.mean_interval(
            float(total["csat_n"]), float(total["csat_sum"]), float(total["csat_squares"])
        )
        rows.append(
            {
                "guardrail": "CSAT (mean score)",
                "baseline": ci.estimate,
                "low": ci.low,
                "high": ci.high,
                "n": int(total["csat_n"]),
                "limit": ci.estimate - p.csat_tolerance,
                "rule": f"stays at or above baseline - {p.csat_tolerance:g}",
                "response_rate": float(total["csat_n"]) / max(1.0, float(total["closed"])),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)
