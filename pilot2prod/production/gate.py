"""The promotion gate: a challenger replaces the champion only when it has earned it.

Four checks, each with its reason:

* **better overall**: the challenger's accuracy minus the champion's on the same held-out
  tickets, with a paired bootstrap 95 % interval; its lower bound must be above
  ``-margin`` (margin 0: the challenger must be shown better; a small positive margin accepts
  "not worse by more than the margin", e.g. for a cheaper model);
* **no slice regresses**: in every slice (category, channel, team, ...) with at least
  ``min_slice`` tickets, the challenger's accuracy may not drop more than ``tolerance`` below
  the champion's, where the drop is also more than chance (a paired one-sided test, Holm over
  the slices: two equally good models differ by a few points in a slice of a few hundred
  tickets by chance alone). An overall gain that hides a team losing ground is refused;
* **inputs pass the data contract** (Chapter 2's), on the production window;
* **latency within budget**: the challenger's p95 per ticket, measured in process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.stats as sps

from pilot2prod.stats import holm

BOOTSTRAP = 2000


@dataclass(frozen=True)
class Difference:
    champion: float
    challenger: float
    difference: float
    low: float
    high: float
    n: int


def paired_difference(
    truth: np.ndarray,
    champion: np.ndarray,
    challenger: np.ndarray,
    seed: int = 0,
    replicates: int = BOOTSTRAP,
) -> Difference:
    """Accuracy of each model on the same items and a percentile bootstrap interval of the
    difference (challenger minus champion), resampling items (pairs stay together)."""
    t = np.asarray(truth, dtype=object)
    a = (np.asarray(champion, dtype=object) == t).astype(float)
    b = (np.asarray(challenger, dtype=object) == t).astype(float)
    n = len(t)
    if n == 0:
        return Difference(np.nan, np.nan, np.nan, np.nan, np.nan, 0)
    d = b - a
    rng = np.random.default_rng(seed)
    means = np.empty(replicates)
    for start in range(0, replicates, 250):  # chunks keep memory flat for large test sets
        size = min(250, replicates - start)
        idx = rng.integers(0, n, size=(size, n))
        means[start : start + size] = d[idx].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return Difference(float(a.mean()), float(b.mean()), float(d.mean()), low, high, n)


def slice_table(
    truth: np.ndarray,
    champion: np.ndarray,
    challenger: np.ndarray,
    slices: pd.DataFrame,
    tolerance: float,
    min_slice: int,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """One row per (slice column, value): n, both accuracies, the change and whether it
    regresses beyond ``tolerance`` (slices under ``min_slice`` tickets are shown, not judged)."""
    t = np.asarray(truth, dtype=object)
    a = np.asarray(champion, dtype=object) == t
    b = np.asarray(challenger, dtype=object) == t
    rows = []
    d_all = b.astype(float) - a.astype(float)
    for column in slices.columns:
        values = slices[column].astype("string").fillna("(missing)").to_numpy()
        for value in sorted(set(values)):
            rows_in = values == value
            n = int(rows_in.sum())
            acc_a, acc_b = float(a[rows_in].mean()), float(b[rows_in].mean())
            judged = n >= min_slice
            d = d_all[rows_in]
            se = d.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
            # One-sided p-value of "the challenger is worse here" (normal approximation).
            p = float(sps.norm.cdf(d.mean() / se)) if se > 0 else (1.0 if d.mean() >= 0 else 0.0)
            rows.append(
                {
                    "slice": column,
                    "value": str(value),
                    "n": n,
                    "champion": acc_a,
                    "challenger": acc_b,
                    "change": acc_b - acc_a,
                    "judged": judged,
                    "p_value": p,
                }
            )
    columns = ["slice", "value", "n", "champion", "challenger", "change", "judged", "p_value"]
    table = pd.DataFrame(rows, columns=columns)
    table["p_adjusted"] = np.nan
    judged_rows = table["judged"].to_numpy(dtype=bool)
    if judged_rows.any():
        table.loc[judged_rows, "p_adjusted"] = holm(table.loc[judged_rows, "p_value"].to_numpy())
    table["regresses"] = (
        table["judged"] & (table["change"] < -tolerance) & (table["p_adjusted"] < alpha)
    )
    return table


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool | None  # None: not checked (what it needs was not given)
    detail: str


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    checks: list[Check]
    overall: Difference
    slices: pd.DataFrame
    reasons: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "check": c.name,
                    "result": {True: "pass", False: "FAIL", None: "not checked"}[c.passed],
                    "detail": c.detail,
                }
                for c in self.checks
            ]
        )

    def sentence(self) -> str:
        if self.promote:
            return "The challenger passes every check of the gate and may be promoted."
        return "The challenger is refused: " + "; ".join(self.reasons) + "."


def decide(
    truth: np.ndarray,
    champion: np.ndarray,
    challenger: np.ndarray,
    slices: pd.DataFrame,
    *,
    margin: float = 0.0,
    tolerance: float = 0.03,
    min_slice: int = 30,
    contract_failures: int | None = None,
    contract_rows: int = 0,
    latency_p95_ms: float | None = None,
    latency_budget_ms: float = 0.0,
    seed: int = 0,
) -> GateDecision:
    """Judge a challenger against the champion on the same held-out tickets (``truth``)."""
    overall = paired_difference(truth, champion, challenger, seed)
    slice_rows = slice_table(truth, champion, challenger, slices, tolerance, min_slice)
    checks: list[Check] = []
    reasons: list[str] = []

    better = bool(overall.n > 0 and overall.low > -margin)
    wording = "better than" if margin == 0 else f"at most {margin:.1%} worse than"
    checks.append(
        Check(
            "better overall",
            better,
            f"accuracy {overall.challenger:.1%} vs {overall.champion:.1%}, change "
            f"{overall.difference:+.1%} (95 % interval {overall.low:+.1%} to {overall.high:+.1%},"
            f" {overall.n:,} tickets); required: shown {wording} the champion",
        )
    )
    if not better:
        reasons.append(
            f"it is not shown {wording} the champion (change {overall.difference:+.1%}, "
            f"interval {overall.low:+.1%} to {overall.high:+.1%})"
        )

    worse = slice_rows[slice_rows["regresses"]]
    judged = int(slice_rows["judged"].sum())
    if len(worse):
        named = ", ".join(
            f"{r.slice} {r.value} ({r.change:+.1%})" for r in worse.head(3).itertuples()
        )
        detail = f"{len(worse)} of {judged} slices drop more than {tolerance:.0%}: {named}"
        reasons.append(f"{len(worse)} slice(s) regress beyond {tolerance:.0%}: {named}")
    else:
        detail = f"none of {judged} slices (at least {min_slice} tickets) drops more than " + (
            f"{tolerance:.0%}"
        )
    checks.append(Check("no slice regresses", bool(worse.empty), detail))

    if contract_failures is None:
        checks.append(Check("inputs pass the data contract", None, "no contract given"))
    else:
        ok = bool(contract_failures == 0)
        checks.append(
            Check(
                "inputs pass the data contract",
                ok,
                f"{contract_failures:,} failing value(s) in {contract_rows:,} production rows",
            )
        )
        if not ok:
            reasons.append(f"production inputs break the data contract ({contract_failures:,})")

    if latency_p95_ms is None or latency_budget_ms <= 0:
        checks.append(Check("latency within budget", None, "no latency budget given"))
    else:
        ok = bool(latency_p95_ms <= latency_budget_ms)
        checks.append(
            Check(
                "latency within budget",
                ok,
                f"p95 {latency_p95_ms:.2f} ms per ticket; budget {latency_budget_ms:g} ms",
            )
        )
        if not ok:
            reasons.append(
                f"its p95 latency {latency_p95_ms:.1f} ms exceeds the {latency_budget_ms:g} ms "
                "budget"
            )
    promote = all(c.passed is not False for c in checks)
    return GateDecision(promote, checks, overall, slice_rows, reasons)
