"""Before/after comparisons: did the shipped system move the metric, and did it break a guardrail?

The estimators the impact analysis chooses between, by what the data supports:

* :func:`interrupted_time_series`: one series, pre/post. Segmented regression of the daily
  metric on time, a level change and a slope change counted from the launch, and weekday terms,
  with autoregressive errors (daily values are autocorrelated; see :func:`_gls_ar_fit` for why
  not Newey-West errors).
* :func:`difference_in_differences`: treated and control groups. The daily difference between
  the groups, before against after, with autoregressive errors on that difference series.
  :func:`fixed_effects_did` does the same for panels and repeated cross-sections (groups by
  periods) with two-way fixed effects.
* :func:`hodges_lehmann`: the shift between two samples (median of all pairwise differences)
  with the interval that inverts the Mann-Whitney test, and that test's p-value. The test asks
  whether a value after launch tends to be larger or smaller than one before; it is not a test
  of medians.
* :func:`non_inferiority_rate`: a guardrail rate (reopens) may rise by at most a margin;
  Newcombe's hybrid score interval for the difference of two proportions.
* :func:`non_inferiority_mean`: the same for a mean that may drop by at most a margin (CSAT).
* :func:`cuped`: variance reduction with a pre-period covariate.
* :func:`sample_ratio_mismatch`: whether the arms of a randomised comparison hold the shares
  they were assigned.

Every function takes plain arrays or a pandas Series and returns a small dataclass; each is
checked for calibration by simulation in ``tests/unit/test_comparisons.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from pilot2prod.errors import DataQualityError
from pilot2prod.stats import Interval, wilson_interval


@dataclass(frozen=True)
class Effect(Interval):
    """An estimated change with its interval and a two-sided p-value (of "no change")."""

    p_value: float = float("nan")

    @property
    def significant(self) -> bool:
        return self.p_value < 1 - self.confidence


#: Order of the autoregressive errors the time-series estimators allow for.
AR_ORDER = 1


def _gls_ar_fit(y: np.ndarray, x: pd.DataFrame, order: int):  # noqa: ANN202 - statsmodels
    """OLS with AR(``order``) errors by iterated feasible GLS (Cochrane-Orcutt, statsmodels
    GLSAR): daily values are autocorrelated, and ordinary standard errors would call a
    change where there is none.

    Why not Newey-West (HAC) errors on OLS: on 180 simulated days with AR(1) errors
    (coefficient 0.5), HAC with the usual lag length declared a launch effect where there was
    none in 14 % of the series (alpha 0.05); HAC after this GLS in 9 %; this GLS alone in 6 %
    (``tests/unit/test_comparisons.py``)."""
    import statsmodels.api as sm

    return sm.GLSAR(y, sm.add_constant(x, has_constant="add"), rho=order).iterative_fit(maxiter=20)


def _effect(fit, names: list[str], name: str, confidence: float) -> Effect:  # noqa: ANN001
    i = names.index(name)
    low, high = np.asarray(fit.conf_int(alpha=1 - confidence))[i]
    return Effect(
        float(np.asarray(fit.params)[i]),
        float(low),
        float(high),
        confidence,
        float(np.asarray(fit.pvalues)[i]),
    )


def daily(
    timestamps: pd.Series, values: pd.Series, statistic: str = "median", log: bool = False
) -> pd.Series:
    """One value per calendar day: the median (or mean, or share for 0/1 values with
    ``"mean"``) of the values of the events that started that day, optionally of their
    logarithm (durations: a relative change becomes a difference). Events without a value are
    left out; days without an event are absent, not zero."""
    frame = pd.DataFrame(
        {"day": pd.to_datetime(timestamps).dt.normalize(), "value": pd.to_numeric(values)}
    ).dropna()
    if log:
        frame = frame[frame["value"] > 0]
        frame["value"] = np.log(frame["value"])
    if statistic not in ("median", "mean"):
        raise ValueError(f"statistic must be 'median' or 'mean', not {statistic!r}")
    return frame.groupby("day")["value"].agg(statistic)


# --------------------------------------------------------------------------- one series
@dataclass(frozen=True)
class SegmentedRegression:
    """Interrupted time series: the level change at launch and the change of slope after it
    (per day), in the units of the series, and the series with its counterfactual."""

    level: Effect
    slope: Effect
    average: Effect  # the mean effect over the days after launch (level + slope x mean day)
    days_before: int
    days_after: int
    ar_order: int
    series: pd.DataFrame  # date, observed, fitted (without the errors), counterfactual

    def change_at(self, days_after_launch: float) -> float:
        """The estimated effect this many days after launch (level plus slope change)."""
        return self.level.estimate + self.slope.estimate * days_after_launch


def interrupted_time_series(
    series: pd.Series,
    launch: pd.Timestamp | str,
    *,
    weekday_terms: bool = True,
    ar_order: int = AR_ORDER,
    confidence: float = 0.95,
    min_days: int = 14,
) -> SegmentedRegression:
    """Segmented regression of a daily series (index: dates) on a launch date.

    ``y_t = b0 + b1 t + b2 post_t + b3 (t - t0) post_t (+ weekday terms) + e_t`` with
    autoregressive errors of order ``ar_order`` (see :func:`_gls_ar_fit`). For a metric on a
    log scale (log of the daily median duration), ``exp(level) - 1`` is the relative change.
    Days without a value are left out."""
    launch = pd.Timestamp(launch)
    s = pd.Series(series, dtype=float).dropna()
    s.index = pd.DatetimeIndex(s.index).normalize()
    s = s.groupby(level=0).mean().sort_index()
    before, after = int((s.index < launch).sum()), int((s.index >= launch).sum())
    if before < min_days or after < min_days:
        raise DataQualityError(
            f"An interrupted time series needs at least {min_days} days with a value on each "
            f"side of the launch; there are {before} before and {after} after. Give a longer "
            "window (or a later as_of)."
        )
    t = (s.index - s.index[0]).days.to_numpy(dtype=float)
    t0 = float((launch - s.index[0]).days)
    post = np.asarray(s.index >= launch, dtype=float)
    x = pd.DataFrame({"time": t, "level": post, "slope": (t - t0) * post}, index=s.index)
    if weekday_terms:
        days = pd.get_dummies(s.index.day_of_week, prefix="dow", drop_first=True, dtype=float)
        days.index = s.index
        x = x.join(days.loc[:, days.std() > 0])
    fit = _gls_ar_fit(s.to_numpy(), x, ar_order)
    names = ["const", *x.columns]
    params = np.asarray(fit.params)
    design = np.column_stack([np.ones(len(x)), x.to_numpy()])
    counter = np.column_stack([np.ones(len(x)), x.assign(level=0.0, slope=0.0).to_numpy()])
    frame = pd.DataFrame(
        {
            "date": s.index,
            "observed": s.to_numpy(),
            "fitted": design @ params,
            "counterfactual": counter @ params,
        }
    )
    # The average effect over the observed days after launch: one linear combination.
    contrast = np.zeros(len(names))
    contrast[names.index("level")] = 1.0
    contrast[names.index("slope")] = float(x.loc[post == 1, "slope"].mean())
    test = fit.t_test(contrast)
    low, high = np.asarray(test.conf_int(alpha=1 - confidence))[0]
    average = Effect(
        float(np.squeeze(test.effect)), float(low), float(high), confidence, float(test.pvalue)
    )
    return SegmentedRegression(
        _effect(fit, names, "level", confidence),
        _effect(fit, names, "slope", confidence),
        average,
        before,
        after,
        ar_order,
        frame,
    )


# --------------------------------------------------------------------------- two groups
@dataclass(frozen=True)
class DifferenceInDifferences:
    """The change in the treated group beyond the control group's change, in the units of the
    daily values, with the daily differences it was computed from."""

    effect: Effect
    days_before: int
    days_after: int
    ar_order: int
    differences: pd.DataFrame  # date, treated, control, difference, post


def difference_in_differences(
    treated: pd.Series,
    control: pd.Series,
    launch: pd.Timestamp | str,
    *,
    ar_order: int = AR_ORDER,
    confidence: float = 0.95,
    min_days: int = 14,
) -> DifferenceInDifferences:
    """Two daily series (index: dates), the treated and the control group's metric. The
    estimate is the mean daily difference (treated minus control) after launch minus before,
    from a regression of the difference on a post-launch indicator with autoregressive errors
    (see :func:`_gls_ar_fit`); days on which either group has no value are left out. A common
    shock on both groups cancels."""
    launch = pd.Timestamp(launch)
    both = pd.concat(
        {"treated": pd.Series(treated, dtype=float), "control": pd.Series(control, dtype=float)},
        axis=1,
        sort=True,
    ).dropna()
    both.index = pd.DatetimeIndex(both.index)
    both = both.sort_index()
    both["difference"] = both["treated"] - both["control"]
    both["post"] = (both.index >= launch).astype(float)
    before, after = int((both["post"] == 0).sum()), int((both["post"] == 1).sum())
    if before < min_days or after < min_days:
        raise DataQualityError(
            f"A difference-in-differences needs at least {min_days} days on which both groups "
            f"have a value on each side of the launch; there are {before} before and {after} "
            "after."
        )
    fit = _gls_ar_fit(both["difference"].to_numpy(), both[["post"]], ar_order)
    return DifferenceInDifferences(
        _effect(fit, ["const", "post"], "post", confidence),
        before,
        after,
        ar_order,
        both.rename_axis("date").reset_index(),
    )


#: Standard errors are clustered by group from this many groups on; with fewer, clustering
#: is unreliable and heteroskedasticity-robust (HC1) errors are used.
MIN_CLUSTERS = 20


def fixed_effects_did(
    frame: pd.DataFrame,
    outcome: str,
    group: str,
    period: str,
    treated: str,
    confidence: float = 0.95,
) -> Effect:
    """Difference-in-differences on a panel or on repeated cross-sections: ``outcome`` on the
    0/1 column ``treated`` (a treated group in a period after its launch) with group and period
    fixed effects (two-way fixed effects). Standard errors are clustered by group when there
    are at least :data:`MIN_CLUSTERS` groups, else heteroskedasticity-robust (HC1). With one
    launch date for every treated group this is the classic 2x2 estimate; with staggered
    launches two-way fixed effects can be biased, and the estimate should be read with care."""
    import statsmodels.formula.api as smf

    data = frame[[outcome, group, period, treated]].dropna().copy()
    data.columns = ["y", "g", "t", "d"]
    data["d"] = data["d"].astype(float)
    if data["d"].nunique() < 2 or data["g"].nunique() < 2 or data["t"].nunique() < 2:
        raise DataQualityError(
            f"A difference-in-differences needs treated and untreated rows, at least two groups "
            f"('{group}') and two periods ('{period}'); check the columns and the launch."
        )
    model = smf.ols("y ~ d + C(g) + C(t)", data)
    clusters = data["g"].nunique()
    if clusters >= MIN_CLUSTERS:
        codes = data["g"].astype("category").cat.codes
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": codes})
    else:
        fit = model.fit(cov_type="HC1")
    low, high = fit.conf_int(alpha=1 - confidence).loc["d"]
    return Effect(
        float(fit.params["d"]), float(low), float(high), confidence, float(fit.pvalues["d"])
    )


# --------------------------------------------------------------------------- two samples
def _pairs_at_most(after: np.ndarray, before_sorted: np.ndarray, d: float) -> int:
    """How many pairs (a, b) have a - b <= d (that is, b >= a - d), without forming them."""
    return int((before_sorted.size - np.searchsorted(before_sorted, after - d, side="left")).sum())


def _kth_difference(after: np.ndarray, before_sorted: np.ndarray, k: int) -> float:
    """The k-th smallest (1-based) of all pairwise differences after - before, by bisection
    on pair counts (to a relative 1e-10), in memory O(n) however many pairs there are."""
    smallest = float(after.min() - before_sorted[-1])
    hi = float(after.max() - before_sorted[0])
    lo = smallest - max(1e-12, 1e-12 * abs(smallest))  # no pair is at or below it
    tolerance = 1e-10 * max(1.0, abs(lo), abs(hi))
    while hi - lo > tolerance:
        mid = lo + (hi - lo) / 2
        if mid <= lo or mid >= hi:
            break
        if _pairs_at_most(after, before_sorted, mid) >= k:
            hi = mid
        else:
            lo = mid
    # Snap to the pair itself: the smallest difference above lo is the k-th.
    index = np.searchsorted(before_sorted, after - lo, side="left") - 1
    found = index >= 0
    return float((after[found] - before_sorted[index[found]]).min()) if found.any() else hi


def _two_samples(before: np.ndarray, after: np.ndarray, need: str) -> tuple[np.ndarray, np.ndarray]:
    """Both samples as floats without missing values; ``need`` starts the message when a side
    has fewer than two."""
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    b, a = b[~np.isnan(b)], a[~np.isnan(a)]
    if b.size < 2 or a.size < 2:
        raise DataQualityError(
            f"{need} on each side of the launch; there are {b.size} before and {a.size} after."
        )
    return b, a


def hodges_lehmann(before: np.ndarray, after: np.ndarray, confidence: float = 0.95) -> Effect:
    """The Hodges-Lehmann shift (median of all pairwise differences after - before), its
    distribution-free interval (by inverting the Mann-Whitney test, normal approximation), and
    the two-sided Mann-Whitney p-value. The test asks whether a value after launch tends to be
    larger or smaller than one before (P(after > before) = 1/2 under no change), which is a
    statement about the shift only when both distributions have the same shape."""
    b, a = _two_samples(before, after, "A before/after comparison needs at least 2 values")
    b = np.sort(b)
    n = a.size * b.size
    if n % 2:
        shift = _kth_difference(a, b, n // 2 + 1)
    else:
        shift = (_kth_difference(a, b, n // 2) + _kth_difference(a, b, n // 2 + 1)) / 2
    z = sps.norm.ppf(0.5 + confidence / 2)
    c = int(math.floor(n / 2 - z * math.sqrt(a.size * b.size * (a.size + b.size + 1) / 12)))
    c = max(c, 1)
    low = _kth_difference(a, b, c)
    high = _kth_difference(a, b, n - c + 1)
    p = float(sps.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    return Effect(shift, low, high, confidence, p)


# --------------------------------------------------------------------------- guardrails
@dataclass(frozen=True)
class NonInferiority:
    """A guardrail rate after launch against before: the difference, the upper end of its
    one-sided interval, the margin it may not exceed, and whether that was shown."""

    before: float
    after: float
    difference: float
    upper: float
    margin: float
    alpha: float

    @property
    def holds(self) -> bool:
        """Non-inferiority shown: the whole interval lies below the margin."""
        return self.upper < self.margin

    @property
    def breached(self) -> bool:
        """The rise is beyond the margin even at the lower end of the two-sided interval."""
        return self.difference > self.margin and not self.holds


def non_inferiority_rate(
    events_before: int,
    n_before: int,
    events_after: int,
    n_after: int,
    margin: float,
    alpha: float = 0.05,
) -> NonInferiority:
    """Is the rise of a rate (after minus before) below ``margin``? One-sided at ``alpha``,
    with Newcombe's hybrid score interval (Wilson intervals of each rate), which keeps its level
    for rare events where the Wald interval does not."""
    if n_before <= 0 or n_after <= 0:
        raise DataQualityError(
            "A guardrail needs cases before and after the launch; one side has none."
        )
    level = 1 - 2 * alpha  # the two-sided level whose upper end is the one-sided bound
    w0 = wilson_interval(events_before, n_before, level)
    w1 = wilson_interval(events_after, n_after, level)
    d = w1.estimate - w0.estimate
    upper = d + math.sqrt((w1.high - w1.estimate) ** 2 + (w0.estimate - w0.low) ** 2)
    return NonInferiority(w0.estimate, w1.estimate, d, upper, margin, alpha)


def non_inferiority_mean(
    before: np.ndarray, after: np.ndarray, margin: float, alpha: float = 0.05
) -> NonInferiority:
    """Has a mean where higher is better (a satisfaction score) dropped by less than
    ``margin``? Welch's one-sided interval for the drop (before minus after) at ``alpha``; the
    result reads like :func:`non_inferiority_rate`, with the drop as the difference."""
    b, a = _two_samples(before, after, "A guardrail mean needs at least 2 scores")
    vb, va = b.var(ddof=1) / b.size, a.var(ddof=1) / a.size
    drop = float(b.mean() - a.mean())
    se = math.sqrt(vb + va)
    df = (vb + va) ** 2 / (vb**2 / (b.size - 1) + va**2 / (a.size - 1)) if se > 0 else 1.0
    upper = drop + float(sps.t.ppf(1 - alpha, df)) * se
    return NonInferiority(float(b.mean()), float(a.mean()), drop, upper, margin, alpha)


# --------------------------------------------------------------------------- variance, arms
def cuped(y: np.ndarray, pre: np.ndarray) -> tuple[np.ndarray, float]:
    """The outcome adjusted by a pre-period covariate (CUPED): ``y - theta (pre - mean)``,
    with ``theta = cov(y, pre) / var(pre)``; same mean, less variance when they correlate.
    Returns the adjusted values and theta."""
    y = np.asarray(y, dtype=float)
    x = np.asarray(pre, dtype=float)
    if y.shape != x.shape or y.size < 3:
        raise DataQualityError("CUPED needs one pre-period value per outcome, at least 3.")
    var = float(np.var(x, ddof=1))
    theta = float(np.cov(y, x, ddof=1)[0, 1] / var) if var > 0 else 0.0
    return y - theta * (x - x.mean()), theta


def sample_ratio_mismatch(counts: dict[str, int], expected: dict[str, float]) -> float:
    """The chi-square p-value of the arms' counts against the shares they were assigned; a
    p-value below 0.001 means the assignment or the logging is broken and the comparison
    cannot be trusted."""
    arms = sorted(expected)
    observed = np.array([counts.get(arm, 0) for arm in arms], dtype=float)
    shares = np.array([expected[arm] for arm in arms], dtype=float)
    if observed.sum() == 0 or shares.sum() <= 0:
        raise DataQualityError("A sample-ratio check needs counts and expected shares.")
    return float(sps.chisquare(observed, shares / shares.sum() * observed.sum()).pvalue)
