"""Statistics the playbook relies on: intervals, censoring-aware quantiles, power.

Every function takes plain arrays and returns numbers or small dataclasses, so it can be tested
against planted truth and checked for calibration by simulation (see ``tests/test_stats.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize
from scipy import stats as sps
from statsmodels.duration.survfunc import SurvfuncRight

from pilot2prod.errors import DataQualityError


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval."""

    estimate: float
    low: float
    high: float
    confidence: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


# --------------------------------------------------------------------------- bootstrap
def bootstrap_ci(
    values: np.ndarray,
    statistic: str | Callable[[np.ndarray], np.ndarray] = "median",
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap interval for a statistic of one sample.

    ``statistic`` is ``"median"``, ``"mean"`` or a function mapping a 2-D array of resamples
    (one per row) to one value per row. Resampling is vectorised in chunks.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size < 2:
        raise DataQualityError(
            f"A confidence interval needs at least 2 values; only {x.size} remain."
        )
    func = _row_statistic(statistic)
    rng = np.random.default_rng(seed)
    replicates = []
    chunk = max(1, min(n_resamples, 4_000_000 // x.size))
    done = 0
    while done < n_resamples:
        size = min(chunk, n_resamples - done)
        idx = rng.integers(0, x.size, size=(size, x.size))
        replicates.append(func(x[idx]))
        done += size
    reps = np.concatenate(replicates)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(reps, [tail, 1.0 - tail])
    return Interval(float(func(x[None, :])[0]), float(low), float(high), confidence)


def _row_statistic(statistic: str | Callable) -> Callable[[np.ndarray], np.ndarray]:
    if statistic == "median":
        return lambda a: np.median(a, axis=1)
    if statistic == "mean":
        return lambda a: np.mean(a, axis=1)
    if callable(statistic):
        return statistic
    raise ValueError(f"statistic must be 'median', 'mean' or a function, not {statistic!r}")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a proportion (good coverage even for rare events)."""
    if n <= 0:
        raise DataQualityError("A proportion needs at least one observation; there are none.")
    z = sps.norm.ppf(0.5 + confidence / 2.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), confidence)


# --------------------------------------------------------------------------- Kaplan-Meier
def km_fit(durations: np.ndarray, observed: np.ndarray) -> SurvfuncRight:
    """Kaplan-Meier estimate (statsmodels). ``observed`` is 1 for an event, 0 if censored."""
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=int)
    if d.size == 0 or e.sum() == 0:
        raise DataQualityError("Kaplan-Meier needs at least one completed event; there are none.")
    return SurvfuncRight(d, e)


def km_quantile(durations: np.ndarray, observed: np.ndarray, q: float) -> float:
    """The q-quantile (0<q<1) of the duration, open cases censored: S(t) <= 1 - q.

    Returns ``nan`` when the curve never falls that low (too many open cases).
    """
    fit = km_fit(durations, observed)
    value = fit.quantile(q)
    return float(value) if value is not None and np.isfinite(value) else float("nan")


def km_survival_at(durations: np.ndarray, observed: np.ndarray, t: float) -> float:
    """S(t): the share of cases still open after ``t`` (KM, open cases censored)."""
    fit = km_fit(durations, observed)
    times = fit.surv_times
    idx = np.searchsorted(times, t, side="right") - 1
    return 1.0 if idx < 0 else float(fit.surv_prob[idx])


def weighted_km_curves(
    durations: np.ndarray, observed: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier curves for many weightings of one sample at once.

    ``weights`` has one row per curve (e.g. bootstrap counts). Returns the sorted times and a
    matrix of survival probabilities just after each time. Ties are handled exactly: events are
    ordered before censorings at the same time, and a run of tied events multiplies out to the
    grouped factor (1 - d/n).
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    order = np.lexsort((~e, d))  # by time, events first among ties
    d, e = d[order], e[order]
    w = np.atleast_2d(np.asarray(weights, dtype=float))[:, order]
    at_risk = np.cumsum(w[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(e & (at_risk > 0), 1.0 - w / at_risk, 1.0)
    return d, np.cumprod(factor, axis=1)


def _quantiles_from_curves(times: np.ndarray, surv: np.ndarray, q: float) -> np.ndarray:
    # First time at which S(t) <= 1 - q (the statsmodels / lifelines convention).
    hit = surv <= 1.0 - q + 1e-12
    first = np.argmax(hit, axis=1)
    out = times[first].astype(float)
    out[~hit.any(axis=1)] = np.nan
    return out


def _survival_from_curves(times: np.ndarray, surv: np.ndarray, t: float) -> np.ndarray:
    idx = np.searchsorted(times, t, side="right") - 1
    if idx < 0:
        return np.ones(surv.shape[0])
    return surv[:, idx]


def km_bootstrap_ci(
    durations: np.ndarray,
    observed: np.ndarray,
    *,
    quantile: float | None = None,
    survival_at: float | None = None,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
) -> Interval:
    """Bootstrap interval for a KM quantile or for 1 - S(t) (share done within t).

    Give exactly one of ``quantile`` or ``survival_at``. Each bootstrap replicate is a
    multinomial reweighting of the sample, so all replicates come from one vectorised pass.
    """
    if (quantile is None) == (survival_at is None):
        raise ValueError("give exactly one of quantile or survival_at")
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=int)
    n = d.size
    if n < 2 or e.sum() == 0:
        raise DataQualityError(
            f"A Kaplan-Meier interval needs at least 2 cases and one completed; got {n} cases "
            f"and {int(e.sum())} completed."
        )
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples)
    times, surv = weighted_km_curves(d, e, weights)
    times0, surv0 = weighted_km_curves(d, e, np.ones((1, n)))
    if quantile is not None:
        reps = _quantiles_from_curves(times, surv, quantile)
        point = float(_quantiles_from_curves(times0, surv0, quantile)[0])
    else:
        reps = 1.0 - _survival_from_curves(times, surv, survival_at)
        point = float(1.0 - _survival_from_curves(times0, surv0, survival_at)[0])
    tail = (1.0 - confidence) / 2.0
    finite = reps[np.isfinite(reps)]
    if finite.size < 0.9 * n_resamples:
        # Too many replicates never reach the quantile: the upper bound is unknown.
        low = float(np.quantile(finite, tail)) if finite.size else float("nan")
        return Interval(point, low, float("nan"), confidence)
    reps = np.where(np.isfinite(reps), reps, np.inf)
    low, high = np.quantile(reps, [tail, 1.0 - tail])
    return Interval(point, float(low), float(high), confidence)


# --------------------------------------------------------------------------- clustering
def icc_anova(values: np.ndarray, groups: np.ndarray) -> float:
    """Intra-class correlation by the one-way ANOVA estimator (clipped at 0).

    Handles unequal group sizes with the usual n0 correction.
    """
    x = np.asarray(values, dtype=float)
    g = np.asarray(groups)
    keep = ~np.isnan(x)
    x, g = x[keep], g[keep]
    labels, inverse = np.unique(g, return_inverse=True)
    k = labels.size
    n = x.size
    if k < 2 or n <= k:
        return float("nan")
    sizes = np.bincount(inverse)
    means = np.bincount(inverse, weights=x) / sizes
    grand = x.mean()
    ss_between = float(np.sum(sizes * (means - grand) ** 2))
    ss_within = float(np.sum((x - means[inverse]) ** 2))
    ms_between = ss_between / (k - 1)
    ms_within = ss_within / (n - k)
    n0 = (n - np.sum(sizes**2) / n) / (k - 1)
    sigma_b2 = (ms_between - ms_within) / n0
    return float(max(0.0, sigma_b2 / (sigma_b2 + ms_within)))


def design_effect(mean_cluster_size: float, icc: float) -> float:
    """Variance inflation of cluster randomisation: 1 + (m - 1) * ICC."""
    return 1.0 + max(0.0, mean_cluster_size - 1.0) * max(0.0, icc)


# --------------------------------------------------------------------------- power
def _z(alpha: float, power: float) -> float:
    return float(sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power))


def n_per_arm_log_scale(
    log_sd: float, relative_change: float, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Cases per arm to detect a multiplicative change of a duration's median.

    Under a location shift on the log scale (log-normal-like durations) a change of the median
    by ``relative_change`` (e.g. -0.2) is a shift of log(1 + change). Two-sided z approximation.
    """
    shift = abs(math.log1p(relative_change))
    if shift == 0:
        return float("inf")
    return 2.0 * (_z(alpha, power) * log_sd / shift) ** 2


def mde_log_scale(
    log_sd: float, n_per_arm: float, alpha: float = 0.05, power: float = 0.8, deff: float = 1.0
) -> float:
    """Smallest detectable relative reduction of the median, as a positive share (0.15=15%)."""
    shift = _z(alpha, power) * log_sd * math.sqrt(2.0 * deff / n_per_arm)
    return 1.0 - math.exp(-shift)


def n_per_arm_proportions(p0: float, p1: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Cases per arm to tell proportion p1 from p0 (two-sided, pooled-variance formula)."""
    if p1 == p0:
        return float("inf")
    za = sps.norm.ppf(1 - alpha / 2)
    zb = sps.norm.ppf(power)
    pbar = (p0 + p1) / 2
    top = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p0 * (1 - p0) + p1 * (1 - p1))
    return float(top**2 / (p1 - p0) ** 2)


def mde_proportion(
    p0: float,
    n_per_arm: float,
    alpha: float = 0.05,
    power: float = 0.8,
    deff: float = 1.0,
    direction: int = 1,
) -> float:
    """Smallest detectable absolute change of a proportion from p0 (in ``direction``)."""
    effective = n_per_arm / deff
    limit = (1.0 - p0) if direction > 0 else p0
    if limit <= 1e-9:
        return float("nan")

    def gap(delta: float) -> float:
        return n_per_arm_proportions(p0, p0 + direction * delta, alpha, power) - effective

    hi = limit - 1e-9
    if gap(hi) > 0:
        return float("nan")  # not detectable even at the boundary
    return float(optimize.brentq(gap, 1e-9, hi))


@dataclass(frozen=True)
class ClusterDesign:
    """What cluster randomisation costs: the ICC, clusters available, and the variance floor."""

    unit: str
    clusters: int
    icc: float


def periods_needed(
    required_effective_n: float,
    cases_per_period: float,
    design: ClusterDesign | None,
    max_periods: int = 520,
) -> int | None:
    """Whole periods (weeks) until the effective sample per arm reaches the requirement.

    Two equal arms. With clusters, each period adds cases to every cluster and so raises the
    design effect; if the requirement is beyond the floor that ``clusters`` allow, ``None``.
    """
    for periods in range(1, max_periods + 1):
        total = cases_per_period * periods
        n_arm = total / 2.0
        if design is None:
            deff = 1.0
        else:
            deff = design_effect(total / design.clusters, design.icc)
        if n_arm / deff >= required_effective_n:
            return periods
    return None
