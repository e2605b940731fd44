"""Statistics checked against planted truth and for calibration by simulation (fixed seeds)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.duration.survfunc import SurvfuncRight

from pilot2prod import stats
from pilot2prod.errors import DataQualityError


def censored_lognormal(rng, n, median=10.0, sigma=1.0, censor_max=40.0):
    latent = median * np.exp(rng.normal(0, sigma, n))
    censor = rng.uniform(0, censor_max, n)
    observed = (latent <= censor).astype(int)
    return np.minimum(latent, censor), observed, latent


# --------------------------------------------------------------------------- bootstrap
def test_bootstrap_median_interval_covers_95_percent_on_skewed_data():
    rng = np.random.default_rng(11)
    true_median = 5.0
    hits = 0
    reps = 300
    for k in range(reps):
        sample = true_median * np.exp(rng.normal(0, 1.2, size=150))  # log-normal, skewed
        ci = stats.bootstrap_ci(sample, "median", n_resamples=1000, seed=k)
        hits += ci.low <= true_median <= ci.high
    coverage = hits / reps
    assert 0.91 <= coverage <= 0.98, coverage


def test_bootstrap_mean_interval_coverage():
    rng = np.random.default_rng(12)
    hits = 0
    reps = 300
    for k in range(reps):
        sample = rng.exponential(2.0, size=200)
        ci = stats.bootstrap_ci(sample, "mean", n_resamples=800, seed=k)
        hits += ci.low <= 2.0 <= ci.high
    assert 0.91 <= hits / reps <= 0.98


def test_bootstrap_needs_two_values():
    with pytest.raises(DataQualityError, match="at least 2"):
        stats.bootstrap_ci(np.array([1.0]))


def test_wilson_interval_coverage_for_rare_events():
    rng = np.random.default_rng(13)
    p, n, reps = 0.06, 400, 2000
    hits = 0
    for _ in range(reps):
        ci = stats.wilson_interval(int(rng.binomial(n, p)), n)
        hits += ci.low <= p <= ci.high
    assert 0.93 <= hits / reps <= 0.97


# --------------------------------------------------------------------------- Kaplan-Meier
def test_weighted_km_matches_statsmodels_with_ties():
    rng = np.random.default_rng(3)
    d = np.round(rng.exponential(5, 300))  # many ties
    e = (rng.random(300) < 0.7).astype(int)
    times, surv = stats.weighted_km_curves(d, e, np.ones((1, d.size)))
    fit = SurvfuncRight(d, e)
    for t, s in zip(fit.surv_times, fit.surv_prob, strict=True):
        # value of our curve at the last position with time == t
        idx = np.searchsorted(times, t, side="right") - 1
        assert surv[0, idx] == pytest.approx(s, abs=1e-12)
    assert stats.km_quantile(d, e, 0.5) == pytest.approx(
        stats.km_bootstrap_ci(d, e, quantile=0.5, n_resamples=200).estimate
    )


def test_weighted_km_with_integer_weights_equals_repeated_rows():
    rng = np.random.default_rng(4)
    d = rng.exponential(5, 50)
    e = (rng.random(50) < 0.8).astype(int)
    w = rng.integers(0, 4, size=50)
    times, surv = stats.weighted_km_curves(d, e, w[None, :])
    fit = SurvfuncRight(np.repeat(d, w), np.repeat(e, w))
    for t, s in zip(fit.surv_times, fit.surv_prob, strict=True):
        idx = np.searchsorted(times, t, side="right") - 1
        assert surv[0, idx] == pytest.approx(s, abs=1e-12)


def test_km_median_is_unbiased_under_censoring_while_naive_median_is_biased():
    rng = np.random.default_rng(5)
    true_median = 10.0
    km, naive = [], []
    for _ in range(200):
        d, e, _ = censored_lognormal(rng, 400, true_median, 1.0, censor_max=60.0)
        km.append(stats.km_quantile(d, e, 0.5))
        naive.append(np.median(d[e == 1]))
    assert np.mean(km) == pytest.approx(true_median, rel=0.03)
    assert np.mean(naive) < 0.85 * true_median  # dropping open cases makes it look faster


def test_km_bootstrap_interval_covers_true_median_under_censoring():
    rng = np.random.default_rng(6)
    true_median = 10.0
    hits, reps = 0, 200
    for k in range(reps):
        d, e, _ = censored_lognormal(rng, 250, true_median, 1.0, censor_max=60.0)
        ci = stats.km_bootstrap_ci(d, e, quantile=0.5, n_resamples=500, seed=k)
        hits += ci.low <= true_median <= ci.high
    assert 0.90 <= hits / reps <= 0.985


def test_km_share_within_sla_recovers_true_share_under_censoring():
    rng = np.random.default_rng(7)
    sla = 15.0
    true_share = sps.norm.cdf(math.log(sla / 10.0))
    estimates, naive = [], []
    for k in range(100):
        d, e, _ = censored_lognormal(rng, 400, 10.0, 1.0, censor_max=60.0)
        estimates.append(1 - stats.km_survival_at(d, e, sla))
        naive.append(np.mean(d[e == 1] <= sla))
        if k < 5:
            ci = stats.km_bootstrap_ci(d, e, survival_at=sla, n_resamples=300, seed=k)
            assert ci.low <= ci.estimate <= ci.high
    assert np.mean(estimates) == pytest.approx(true_share, abs=0.01)
    assert np.mean(naive) > true_share + 0.05


def test_km_quantile_unreachable_is_nan():
    d = np.array([1.0, 2.0, 3.0, 4.0])
    e = np.array([1, 0, 0, 0])
    assert math.isnan(stats.km_quantile(d, e, 0.9))


def test_km_needs_a_completed_event():
    with pytest.raises(DataQualityError, match="at least one completed event"):
        stats.km_quantile(np.array([1.0, 2.0]), np.array([0, 0]), 0.5)
    with pytest.raises(DataQualityError, match="one completed"):
        stats.km_bootstrap_ci(np.array([1.0, 2.0]), np.array([0, 0]), quantile=0.5)


def test_km_quantile_matches_statsmodels_on_censored_data():
    rng = np.random.default_rng(8)
    d = rng.lognormal(3, 1, 500)
    e = (rng.random(500) < 0.75).astype(int)
    fit = SurvfuncRight(d, e)
    for q in (0.25, 0.5, 0.75):
        assert stats.km_quantile(d, e, q) == pytest.approx(fit.quantile(q))


# --------------------------------------------------------------------------- clustering
def clustered(rng, clusters, per_cluster, icc, shift=0.0):
    between = rng.normal(0, math.sqrt(icc), clusters)
    values = between[:, None] + rng.normal(0, math.sqrt(1 - icc), (clusters, per_cluster))
    return values + shift


def test_icc_anova_recovers_planted_icc():
    rng = np.random.default_rng(8)
    values = clustered(rng, 200, 30, 0.1)
    groups = np.repeat(np.arange(200), 30)
    assert stats.icc_anova(values.ravel(), groups) == pytest.approx(0.1, abs=0.03)
    assert stats.icc_anova(rng.normal(size=3000), np.repeat(np.arange(100), 30)) < 0.02


def test_design_effect_matches_simulated_variance_of_cluster_means():
    rng = np.random.default_rng(9)
    icc, m, k = 0.05, 40, 20
    means = [clustered(rng, k, m, icc).mean() for _ in range(3000)]
    iid_var = 1.0 / (k * m)
    assert np.var(means) / iid_var == pytest.approx(stats.design_effect(m, icc), rel=0.1)


# --------------------------------------------------------------------------- power
def test_log_scale_sample_size_achieves_stated_power_in_simulation():
    rng = np.random.default_rng(10)
    sigma, change = 1.2, -0.2
    n = math.ceil(stats.n_per_arm_log_scale(sigma, change, alpha=0.05, power=0.8))
    hits, reps = 0, 1500
    for _ in range(reps):
        control = rng.normal(0, sigma, n)
        treated = rng.normal(math.log1p(change), sigma, n)
        hits += sps.ttest_ind(control, treated).pvalue < 0.05
    assert hits / reps == pytest.approx(0.8, abs=0.035)


def test_mean_interval_from_sums_covers_95_percent():
    """CSAT arrives as a count, a sum and a sum of squares from the database."""
    rng = np.random.default_rng(14)
    hits, reps = 0, 2000
    for _ in range(reps):
        scores = rng.choice([1, 2, 3, 4, 5], size=60, p=[0.05, 0.05, 0.15, 0.35, 0.4])
        ci = stats.mean_interval(len(scores), scores.sum(), (scores**2).sum())
        hits += ci.low <= 4.0 <= ci.high  # the true mean of that distribution
    assert hits / reps == pytest.approx(0.95, abs=0.015)


def test_counted_durations_give_the_row_by_row_estimates():
    rng = np.random.default_rng(18)
    d = rng.integers(1, 40, 600).astype(float)
    e = rng.random(600) < 0.8
    keys, counts = np.unique(np.column_stack([d, e]), axis=0, return_counts=True)
    for q in (0.25, 0.5, 0.9):
        assert stats.km_quantile(keys[:, 0], keys[:, 1].astype(bool), q, counts=counts) == (
            stats.km_quantile(d, e, q)
        )
    assert stats.km_survival_at(keys[:, 0], keys[:, 1], 10.0, counts=counts) == pytest.approx(
        stats.km_survival_at(d, e, 10.0)
    )
    rows = stats.km_bootstrap_ci(d, e, quantile=0.5, n_resamples=2000, seed=1)
    counted = stats.km_bootstrap_ci(
        keys[:, 0], keys[:, 1], counts=counts, quantile=0.5, n_resamples=2000, seed=2
    )
    assert counted.estimate == rows.estimate
    assert counted.low == pytest.approx(rows.low, abs=1) and counted.high == pytest.approx(
        rows.high, abs=1
    )


def test_icc_from_sums_equals_the_row_estimator():
    rng = np.random.default_rng(19)
    groups = rng.integers(0, 30, 2000)
    values = rng.normal(0, 1, 30)[groups] * 0.5 + rng.normal(0, 1, 2000)
    sizes = np.bincount(groups)
    sums = np.bincount(groups, weights=values)
    squares = np.bincount(groups, weights=values**2)
    # The one-way ANOVA estimator written out on the rows, as a textbook does.
    k, n = 30, 2000
    means = np.array([values[groups == g].mean() for g in range(k)])
    ms_between = np.sum(sizes * (means - values.mean()) ** 2) / (k - 1)
    ms_within = np.sum((values - means[groups]) ** 2) / (n - k)
    n0 = (n - np.sum(sizes**2) / n) / (k - 1)
    expected = (ms_between - ms_within) / (ms_between + (n0 - 1) * ms_within)
    assert stats.icc_from_sums(sizes, sums, squares) == pytest.approx(expected, rel=1e-9)


def test_mde_inverts_sample_size():
    n = stats.n_per_arm_log_scale(1.0, -0.25)
    assert stats.mde_log_scale(1.0, n) == pytest.approx(0.25, rel=1e-9)


def test_proportion_sample_size_achieves_stated_power_in_simulation():
    rng = np.random.default_rng(15)
    p0, p1 = 0.52, 0.57
    n = math.ceil(stats.n_per_arm_proportions(p0, p1))
    hits, reps = 0, 1500
    for _ in range(reps):
        a, b = rng.binomial(n, p0), rng.binomial(n, p1)
        pooled = (a + b) / (2 * n)
        z = (b - a) / n / math.sqrt(2 * pooled * (1 - pooled) / n)
        hits += abs(z) > 1.959964
    assert hits / reps == pytest.approx(0.8, abs=0.035)
    delta = stats.mde_proportion(p0, n)
    assert delta == pytest.approx(p1 - p0, abs=0.002)


def test_cluster_design_with_design_effect_keeps_power_and_false_positive_rate():
    """Cluster-randomised pilot sized with the design effect: power and alpha hold."""
    rng = np.random.default_rng(16)
    icc, clusters, alpha = 0.05, 60, 0.05
    design = stats.ClusterDesign("agent", clusters, icc)
    effect = -0.35  # on the log scale, unit variance
    required = stats.n_per_arm_log_scale(1.0, math.expm1(effect))
    weekly = 120
    weeks = stats.periods_needed(required, weekly, design)
    assert weeks is not None
    per_cluster = round(weekly * weeks / clusters)
    rejections = {0.0: 0, effect: 0}
    reps = 800
    for shift in rejections:
        for _ in range(reps):
            a = clustered(rng, clusters // 2, per_cluster, icc).mean(axis=1)
            b = clustered(rng, clusters // 2, per_cluster, icc, shift).mean(axis=1)
            rejections[shift] += sps.ttest_ind(a, b).pvalue < alpha
    assert rejections[0.0] / reps == pytest.approx(alpha, abs=0.025)
    assert rejections[effect] / reps == pytest.approx(0.8, abs=0.06)


def test_periods_needed_is_none_when_clusters_cap_the_precision():
    design = stats.ClusterDesign("team", 5, 0.3)
    assert stats.periods_needed(1000, 250, design) is None
    assert stats.periods_needed(1000, 250, None) == 8
