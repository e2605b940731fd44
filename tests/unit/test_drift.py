"""Drift against planted truth: named features shifted in a production window are flagged and
the others are not; on undrifted windows the flag rate stays low; a real data set (the ticket
texts of the sample company, split by time) shows the drift it really has."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import repo_file
from pilot2prod.production import drift


def _frame(rng: np.random.Generator, n: int, shift: dict[str, float] | None = None) -> pd.DataFrame:
    shift = shift or {}
    channel_p = np.array([0.6, 0.3, 0.1])
    if "channel" in shift:
        channel_p = np.array([0.35, 0.35, 0.3])
    return pd.DataFrame(
        {
            "amount": rng.lognormal(3.0 + shift.get("amount", 0.0), 1.0, n),
            "age_days": rng.exponential(30.0, n),
            "channel": rng.choice(["email", "web", "phone"], n, p=channel_p),
            "priority": rng.choice(["low", "normal", "high"], n, p=[0.2, 0.6, 0.2]),
        }
    )


def test_psi_is_zero_for_the_same_data_and_grows_with_the_shift():
    rng = np.random.default_rng(1)
    x = pd.Series(rng.normal(0, 1, 20000))
    assert drift.psi(x, x) == pytest.approx(0.0, abs=1e-9)
    values = [drift.psi(x, pd.Series(rng.normal(m, 1, 20000))) for m in (0.0, 0.2, 0.5, 1.0)]
    assert values == sorted(values)
    assert drift.band(values[0]) == "stable" and drift.band(values[-1]) == "significant shift"


def test_planted_drift_in_named_features_is_flagged_and_nothing_else():
    rng = np.random.default_rng(2)
    reference = _frame(rng, 5000)
    current = _frame(rng, 2000, {"amount": 0.5, "channel": 1.0})
    table = drift.feature_drift(reference, current).set_index("feature")
    assert set(table.index[table["flagged"]]) == {"amount", "channel"}
    assert table.loc["amount", "band"] != "stable"


@pytest.mark.slow
def test_undrifted_windows_are_rarely_flagged():
    """Calibration: 200 windows drawn like the reference, four features each: the share of
    windows with any flag stays small, for PSI (large windows) and for the tests (small ones)."""
    rng = np.random.default_rng(3)
    reference = _frame(rng, 5000)
    flagged_large = sum(
        bool(drift.feature_drift(reference, _frame(rng, 1000))["flagged"].any()) for _ in range(100)
    )
    flagged_small = sum(
        bool(drift.feature_drift(reference, _frame(rng, 120))["flagged"].any()) for _ in range(100)
    )
    assert flagged_large <= 2
    assert flagged_small <= 4  # alpha 0.01 over four features, Holm-corrected


def test_new_categories_and_missing_values_count_as_drift():
    reference = pd.Series(["a", "b"] * 500)
    current = pd.Series(["a", "b", "c", None] * 250)
    assert drift.band(drift.psi(reference, current)) == "significant shift"
    numbers = pd.Series(np.arange(1000.0))
    holes = numbers.where(numbers % 3 != 0)
    assert drift.psi(numbers, holes) > 0.25


def test_text_length_and_vocabulary_drift_on_real_ticket_texts():
    """The sample company's ticket bodies: training on the first months, production on the
    last; then the same production texts with a new product's words planted in a third.
    Measured against the training texts' own vocabulary, the typos every month has would read
    as a significant shift (PSI above 0.5): the reference is a held-out part."""
    tickets = pd.read_csv(
        repo_file("datasets", "acme", "tickets.csv"),
        usecols=["created_at", "body"],
        parse_dates=["created_at"],
    )
    train = tickets[tickets["created_at"] < "2025-06-01"]["body"]
    prod = tickets[tickets["created_at"] >= "2026-09-01"]["body"].reset_index(drop=True)
    vocab, reference = drift.text_reference(train)
    same = drift.feature_drift(reference, drift.text_features(prod, vocab))
    assert not same["flagged"].any()  # typos happen in every month: not drift
    planted = prod.copy()
    third = planted.index % 3 == 0
    planted[third] = planted[third] + " quantumflux hyperdrive telepad warpcoil"
    moved = drift.feature_drift(reference, drift.text_features(planted, vocab)).set_index("feature")
    assert moved.loc["oov_share", "flagged"]


def test_drift_by_window_finds_the_week_it_started():
    rng = np.random.default_rng(4)
    reference = _frame(rng, 5000)
    weeks = [_frame(rng, 700, {"amount": 0.6} if w >= 2 else None) for w in range(4)]
    current = pd.concat(weeks, ignore_index=True)
    time = pd.Series(np.repeat(pd.date_range("2026-03-02", periods=4, freq="7D"), 700))
    report = drift.by_window(reference, current, time)
    amount = report.windows[report.windows["feature"] == "amount"].set_index("window")
    assert list(amount["flagged"]) == [False, False, True, True]
    assert report.overall != "stable"
