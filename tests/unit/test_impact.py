"""The impact analysis against planted truth: the sample company's launch (TRUTH.yaml), a
generated randomised experiment with a known effect, null data for calibration, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import acme_values
from pilot2prod.errors import ParameterError, Pilot2ProdError
from pilot2prod.impact import Parameters
from pilot2prod.impact.result import run


@pytest.fixture(scope="module")
def acme():
    values = acme_values("06_impact", n_bootstrap=400, published_checks=False)
    return run(Parameters.parse(values))


def test_the_planted_launch_is_found_with_its_size_inside_the_interval(acme, truth):
    launch = truth["ai_triage_launch"]
    r = acme.estimate.relative
    planted = launch["resolution_time_multiplier"] - 1  # -0.2
    assert acme.settings.design == "did"
    assert r.low <= planted <= r.high
    assert r.high < 0 and r.p_value < 0.05
    # The target is the planted change itself: the verdict may say met or inconclusive, never
    # "not met" (the whole interval would have to fall short of -20 %).
    assert acme.verdict.verdict in ("MET", "INCONCLUSIVE")
    assert acme.placebo.passed is True


def test_the_planted_guardrail_breach_is_flagged_and_the_other_holds(acme, truth):
    launch = truth["ai_triage_launch"]
    g = acme.guardrails.set_index("guardrail")
    reopen = g.loc["reopen rate"]
    assert reopen["status"] == "breached"
    assert abs(reopen["before"] - launch["reopen_rate_before"]) < 0.01
    assert abs(reopen["after"] - launch["reopen_rate_treated_after"]) < 0.01
    assert g.loc["CSAT (mean score)", "status"] == "holds"
    assert "breached" in acme.verdict.sentence
    assert acme.headline().verdict.endswith("GUARDRAIL BREACHED")


def test_the_before_after_measures_see_the_treated_teams_faster(acme):
    table = acme.measures.table.set_index("measure")
    km = table.iloc[0]
    assert km["high"] < 0  # the KM median of the treated teams fell
    assert acme.measures.shift.high < 0 and acme.measures.shift.p_value < 0.001
    assert acme.measures.sla_after > acme.measures.sla_before


@pytest.mark.slow
def test_the_treated_teams_alone_are_an_interrupted_time_series(truth):
    values = acme_values(
        "06_impact", design="its", control_groups="", n_bootstrap=300, published_checks=False
    )
    result = run(Parameters.parse(values))
    assert result.settings.design == "its"
    assert set(result.window.frame["segment"]) == set(truth["ai_triage_launch"]["treated_teams"])
    r = result.estimate.relative
    assert r.low <= truth["ai_triage_launch"]["resolution_time_multiplier"] - 1 <= r.high
    # Eight weeks before, so eight weeks after: the trend is carried on no further.
    series = result.estimate.series
    assert series["date"].max() < pd.Timestamp("2026-04-27")
    assert {"date", "observed", "counterfactual"} <= set(series.columns)


def _experiment(seed: int, effect: float, n: int = 3000, treated_share: float = 0.5):
    """Tickets before and after a launch; after it, each ticket is randomised to the new system
    (arm 'new') or not ('old'); the new system multiplies durations by ``1 + effect``. Agents
    differ (a covariate for CUPED)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-05") + pd.to_timedelta(rng.uniform(0, 140, n), unit="D")
    agent = rng.integers(0, 40, n)
    agent_effect = rng.normal(0, 0.5, 40)[agent]
    post = start >= pd.Timestamp("2026-03-02")
    arm = np.where(post & (rng.uniform(size=n) < treated_share), "new", "old")
    hours = np.exp(np.log(20) + agent_effect + rng.normal(0, 0.8, n))
    hours = hours * np.where(arm == "new", 1 + effect, 1.0)
    end = start + pd.to_timedelta(hours, unit="h")
    return pd.DataFrame(
        {
            "case": np.arange(n),
            "opened": start.strftime("%Y-%m-%d %H:%M"),
            "closed": end.strftime("%Y-%m-%d %H:%M"),
            "variant": arm,
            "agent": agent,
        }
    )


def _randomised(tmp_path, frame: pd.DataFrame, **extra) -> Parameters:
    path = tmp_path / "experiment.csv"
    frame.to_csv(path, index=False)
    values = {
        "events_path": str(path),
        "id_column": "case",
        "start_column": "opened",
        "end_column": "closed",
        "launch_date": "2026-03-02",
        "treatment_column": "variant",
        "control_arm": "old",
        "unit": "hours",
        "target_change": -0.2,
        "n_bootstrap": 400,
        "published_checks": False,
    } | extra
    return Parameters.parse(values)


def test_a_randomised_experiment_finds_its_planted_effect_with_cuped(tmp_path):
    result = run(_randomised(tmp_path, _experiment(3, -0.3), covariate_unit_column="agent"))
    assert result.settings.design == "randomised"
    r = result.estimate.relative
    assert r.low <= -0.3 <= r.high and r.high < 0
    assert result.verdict.verdict in ("MET", "INCONCLUSIVE")
    assert result.measures.srm_p_value > 0.001
    c = result.measures.cuped
    assert c["variance_reduction"] > 0.15  # agents explain a share of the spread
    width = lambda e: e.high - e.low  # noqa: E731
    assert width(c["adjusted"]) < width(c["unadjusted"])
    # CUPED compares mean capped log durations: capping the slow tail shrinks a change a little
    # towards zero (the verdict uses the Kaplan-Meier ratio above, which has no such cap).
    assert np.log(0.7) <= c["adjusted"].estimate < c["adjusted"].high < 0


@pytest.mark.slow
def test_a_broken_assignment_fails_the_sample_ratio_check(tmp_path):
    frame = _experiment(4, 0.0, treated_share=0.6)  # logged as 60/40, declared 50/50
    result = run(_randomised(tmp_path, frame))
    assert result.measures.srm_p_value < 0.001


@pytest.mark.slow
def test_no_effect_means_not_met_when_the_interval_excludes_the_target(tmp_path):
    result = run(_randomised(tmp_path, _experiment(5, 0.0, n=6000)))
    assert result.verdict.verdict == "NOT MET"
    assert result.estimate.relative.low > -0.2


@pytest.mark.slow
def test_the_randomised_design_holds_its_false_positive_rate_on_null_data(tmp_path):
    """Calibration: 200 null experiments, the design's interval excludes no change in 3-7 %
    of them (alpha 0.05). The file is read once, through the notebook's own loader; each
    experiment then re-draws the arms and the durations of the same events in memory."""
    from dataclasses import replace

    from pilot2prod.impact import analysis
    from pilot2prod.impact.data import load_window, settings, with_horizon

    p = _randomised(tmp_path, _experiment(99, 0.0, n=800), n_bootstrap=200)
    s = settings(p)
    base = with_horizon(load_window(p, s), s)
    post = base.frame["post"].to_numpy()
    hits = 0
    runs = 200
    for seed in range(runs):
        rng = np.random.default_rng(100 + seed)
        frame = base.frame.copy()
        frame["duration"] = np.exp(np.log(20) + rng.normal(0, 0.9, len(frame)))
        frame["arm"] = np.where(
            post, np.where(rng.random(len(frame)) < 0.5, "treated", "control"), "control"
        )
        window = replace(base, frame=frame)
        e = analysis.randomised_estimate(window, s, p.n_bootstrap, p.seed)
        hits += e.relative.low > 0 or e.relative.high < 0
    assert 0.03 * runs <= hits <= 0.07 * runs + 3  # binomial slack on 200 runs


# --------------------------------------------------------------------------- bad input
def test_a_metric_spec_that_disagrees_with_a_parameter_is_refused(tmp_path):
    from pilot2prod.handoff import (
        Baseline,
        MetricData,
        MetricDefinition,
        MetricSpec,
        Target,
    )

    spec = MetricSpec(
        statement="Reduce median resolution time.",
        metric=MetricDefinition("median", "median resolution time", "hours", True, 0.5),
        data=MetricData("tickets.csv", {"id": "case", "start": "opened", "end": "closed"}),
        baseline=Baseline("2026-01-05", "2026-03-02", "2026-03-02", 20.0, 18.0, 22.0, 500, 3),
        target=Target(-0.2, 16.0, 0.05, 0.8, "event", 100.0, 6),
    )
    spec.save(tmp_path)
    frame = _experiment(6, -0.2)
    frame.to_csv(tmp_path / "experiment.csv", index=False)
    base = {
        "events_path": str(tmp_path / "experiment.csv"),
        "metric_spec_path": str(tmp_path / "metric_spec.yaml"),
        "launch_date": "2026-03-02",
        "published_checks": False,
        "n_bootstrap": 300,
    }
    result = run(Parameters.parse(base))  # columns, unit and target from the spec
    assert result.settings.spec is not None and result.settings.target_change == -0.2
    with pytest.raises(ParameterError, match="metric spec says 'hours'"):
        run(Parameters.parse(base | {"unit": "days"}))
    with pytest.raises(ParameterError, match="target_change"):
        run(Parameters.parse(base | {"target_change": -0.5}))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"launch_date": ""}, "launch_date is empty"),
        ({"launch_date": "2027-06-01"}, "nothing after the launch"),
        ({"treated_groups": "Billing,Sales"}, "'Sales' is not a value of 'team'"),
        ({"group_column": "teem"}, "group_column: column 'teem'"),
        ({"target_change": 0.2}, "lower value of this metric is better"),
        ({"control_groups": "Billing"}, "both name Billing"),
    ],
)
def test_bad_input_stops_with_one_sentence_naming_the_parameter(overrides, message):
    values = acme_values("06_impact", published_checks=False, n_bootstrap=200) | overrides
    with pytest.raises(Pilot2ProdError, match=message):
        run(Parameters.parse(values))


@settings(max_examples=200, deadline=None)
@given(
    estimate=st.floats(-0.9, 0.9),
    half=st.floats(0.001, 0.5),
    target=st.floats(-0.5, -0.01),
)
def test_the_verdict_agrees_with_the_interval(estimate, half, target):
    """Met only when the interval excludes no change and the estimate reaches the target; not
    met only when the whole interval falls short of it."""
    from pilot2prod.comparisons import Effect
    from pilot2prod.impact.analysis import DesignEstimate, verdict
    from pilot2prod.impact.data import Settings

    low, high = estimate - half, estimate + half
    relative = Effect(estimate, low, high, 0.95, 0.5)
    s = Settings(
        kind="median",
        quantile=0.5,
        sla=None,
        unit="hours",
        label="median",
        lower_is_better=True,
        target_change=target,
        alpha=0.05,
        design="its",
        launch=pd.Timestamp("2026-03-02"),
        spec=None,
        spec_baseline=None,
        focus_segment=None,
        segment_column=None,
    )
    e = DesignEstimate("its", relative, relative, pd.DataFrame(), [])
    v = verdict(e, s, pd.DataFrame(columns=["guardrail", "status"]), 8.0)
    if v.verdict == "MET":
        assert high < 0 and estimate <= target
    elif v.verdict == "NOT MET":
        assert low > target
    else:
        assert not (high < 0 and estimate <= target) and not low > target
        assert v.weeks_more is None or v.weeks_more >= 0
