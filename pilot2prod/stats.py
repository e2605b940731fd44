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


def mean_interval(n: float, total: float, squares: float, confidence: float = 0.95) -> Interval:
    """Student-t interval for a mean from the count, sum and sum of squares of the values (what
    a database returns without sending the values)."""
    if n < 2:
        raise DataQualityError(f"A mean's interval needs at least 2 values; only {n:.0f} remain.")
    mean = total / n
    variance = max(squares - n * mean * mean, 0.0) / (n - 1)
    half = sps.t.ppf(0.5 + confidence / 2.0, n - 1) * math.sqrt(variance / n)
    return Interval(mean, mean - half, mean + half, confidence)


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
# Every estimator below takes durations, an event flag and optional ``counts``: a row may stand
# for many events with the same duration (a duration bucket counted in the database), so that
# the baseline of a hundred million events needs only their counts per bucket.
def _counts(durations: np.ndarray, counts: np.ndarray | None) -> np.ndarray:
    if counts is None:
        return np.ones(np.asarray(durations).size)
    return np.asarray(counts, dtype=float)


def weighted_km_curves(
    durations: np.ndarray, observed: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier curves for many weightings of one sample at once.

    ``weights`` has one row per curve (counts, or bootstrap counts). Returns the sorted times
    and a matrix of survival probabilities just after each time. Ties are handled exactly:
    events are ordered before censorings at the same time, and a run of tied events multiplies
    out to the grouped factor (1 - d/n).
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    order = np.lexsort((~e, d))  # by time, events first among ties
    d, e = d[order], e[order]
    w = np.atleast_2d(np.asarray(weights, dtype=float))[:, order]
    if e.all():  # nothing censored: the curve is one minus the empirical distribution
        total = w.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            return d, np.clip(1.0 - np.cumsum(w, axis=1) / total, 0.0, 1.0)
    at_risk = np.cumsum(w[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(e & (at_risk > 0), 1.0 - w / at_risk, 1.0)
    return d, np.cumprod(factor, axis=1)


def km_curve(
    durations: np.ndarray, observed: np.ndarray, counts: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The Kaplan-Meier curve: distinct event times and the share still open just after each.

    Raises :class:`DataQualityError` when no event is complete."""
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    w = _counts(d, counts)
    if d.size == 0 or w[e].sum() == 0:
        raise DataQualityError("Kaplan-Meier needs at least one completed event; there are none.")
    times, surv = weighted_km_curves(d, e, w[None, :])
    order = np.lexsort((~e, d))  # the order weighted_km_curves sorts into
    keep = e[order] & (w[order] > 0)
    times, surv = times[keep], surv[0][keep]
    # One point per distinct time: the last factor of a run of ties is the grouped one.
    last = np.r_[times[1:] != times[:-1], True]
    return times[last], surv[last]


def km_quantile(
    durations: np.ndarray, observed: np.ndarray, q: float, counts: np.ndarray | None = None
) -> float:
    """The q-quantile (0<q<1) of the duration, open cases censored: the first time at which
    S(t) <= 1 - q (the convention of statsmodels and lifelines).

    With no open case this is the lower empirical quantile, so a closed-only quantile computed
    with the same function differs from the KM one only through censoring. Returns ``nan`` when
    the curve never falls that low (too many open cases)."""
    times, surv = km_curve(durations, observed, counts)
    return float(_quantiles_from_curves(times, surv[None, :], q)[0])


def km_survival_at(
    durations: np.ndarray, observed: np.ndarray, t: float, counts: np.ndarray | None = None
) -> float:
    """S(t): the share of cases still open after ``t`` (KM, open cases censored)."""
    times, surv = km_curve(durations, observed, counts)
    return float(_survival_from_curves(times, surv[None, :], t)[0])


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
    counts: np.ndarray | None = None,
    quantile: float | None = None,
    survival_at: float | None = None,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
) -> Interval:
    """Bootstrap interval for a KM quantile or for 1 - S(t) (share done within t).

    Give exactly one of ``quantile`` or ``survival_at``. Each replicate resamples the events
    (rows weighted by ``counts``) with replacement: a multinomial draw of counts over the rows,
    so replicates are computed in vectorised chunks and counted buckets resample exactly as the
    events they stand for."""
    point, reps = km_bootstrap_replicates(
        durations,
        observed,
        counts=counts,
        quantile=quantile,
        survival_at=survival_at,
        n_resamples=n_resamples,
        seed=seed,
    )
    tail = (1.0 - confidence) / 2.0
    finite = reps[np.isfinite(reps)]
    if finite.size < 0.9 * n_resamples:
        # Too many replicates never reach the quantile: the upper bound is unknown.
        low = float(np.quantile(finite, tail)) if finite.size else float("nan")
        return Interval(point, low, float("nan"), confidence)
    reps = np.where(np.isfinite(reps), reps, np.inf)
    low, high = np.quantile(reps, [tail, 1.0 - tail])
    return Interval(point, float(low), float(high), confidence)


#: Bootstrap replicates of Kaplan-Meier curves are computed this many at a time (memory).
KM_CHUNK = 250


def km_bootstrap_replicates(
    durations: np.ndarray,
    observed: np.ndarray,
    *,
    counts: np.ndarray | None = None,
    quantile: float | None = None,
    survival_at: float | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, np.ndarray]:
    """The KM quantile (or 1 - S(t)) and ``n_resamples`` bootstrap replicates of it (``nan``
    where a replicate never reaches the quantile); see :func:`km_bootstrap_ci`."""
    if (quantile is None) == (survival_at is None):
        raise ValueError("give exactly one of quantile or survival_at")
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=int)
    w = _counts(d, counts)
    n = int(round(w.sum()))
    if n < 2 or w[e == 1].sum() == 0:
        raise DataQualityError(
            f"A Kaplan-Meier interval needs at least 2 cases and one completed; got {n} cases "
            f"and {int(w[e == 1].sum())} completed."
        )
    rng = np.random.default_rng(seed)

    def statistic(times: np.ndarray, surv: np.ndarray) -> np.ndarray:
        if quantile is not None:
            return _quantiles_from_curves(times, surv, quantile)
        return 1.0 - _survival_from_curves(times, surv, survival_at)

    reps = []
    for start in range(0, n_resamples, KM_CHUNK):
        weights = rng.multinomial(n, w / w.sum(), size=min(KM_CHUNK, n_resamples - start))
        reps.append(statistic(*weighted_km_curves(d, e, weights)))
    point = float(statistic(*weighted_km_curves(d, e, w[None, :]))[0])
    return point, np.concatenate(reps)


# --------------------------------------------------------------------------- many tests
def holm(p_values) -> np.ndarray:  # noqa: ANN001 - any sequence of floats
    """Holm's step-down adjustment of p-values (family-wise error); a missing p-value counts
    as 1."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.empty(len(p))
    running = 0.0
    for rank, i in enumerate(np.argsort(p)):
        value = p[i] if np.isfinite(p[i]) else 1.0
        running = max(running, min(1.0, (len(p) - rank) * value))
        adjusted[i] = running
    return adjusted


# --------------------------------------------------------------------------- clustering
def icc_anova(values: np.ndarray, groups: np.ndarray) -> float:
    """Intra-class correlation by the one-way ANOVA estimator (clipped at 0).

    Handles unequal group sizes with the usual n0 correction."""
    x = np.asarray(values, dtype=float)
    g = np.asarray(groups)
    keep = ~np.isnan(x)
    x, g = x[keep], g[keep]
    _, inverse = np.unique(g, return_inverse=True)
    sizes = np.bincount(inverse)
    sums = np.bincount(inverse, weights=x)
    squares = np.bincount(inverse, weights=x * x)
    return icc_from_sums(sizes, sums, squares)


def icc_from_sums(sizes: np.ndarray, sums: np.ndarray, squares: np.ndarray) -> float:
    """The ANOVA ICC from each group's size, sum and sum of squares: the sufficient statistics
    a database returns with one GROUP BY, so the rows never leave it."""
    n_i = np.asarray(sizes, dtype=float)
    s_i = np.asarray(sums, dtype=float)
    q_i = np.asarray(squares, dtype=float)
    keep = n_i > 0
    n_i, s_i, q_i = n_i[keep], s_i[keep], q_i[keep]
    k = n_i.size
    n = n_i.sum()
    if k < 2 or n <= k:
        return float("nan")
    means = s_i / n_i
    grand = s_i.sum() / n
    ss_between = float(np.sum(n_i * (means - grand) ** 2))
    ss_within = float(np.sum(q_i - n_i * means**2))
    ms_between = ss_between / (k - 1)
    ms_within = max(ss_within, 0.0) / (n - k)
    n0 = (n - np.sum(n_i**2) / n) / (k - 1)
    sigma_b2 = (ms_between - ms_within) / n0
    total = sigma_b2 + ms_within
    return float(max(0.0, sigma_b2 / total)) if total > 0 else float("nan")


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
    """Cluster randomisation: the unit randomised, how many clusters there are, and the ICC
    that sets how much each extra case per cluster adds to the variance."""

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
