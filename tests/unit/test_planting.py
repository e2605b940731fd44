"""Planted defects: the generator plants what its manifest says, and the audit finds every class
on real tables nobody here wrote (benchmarks/audit_recall.py prints the same across the whole
corpus)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import real_corpus

from pilot2prod.audit import Parameters, run
from pilot2prod.audit.planting import CLASSES, plant, score

NOW = "2026-11-02"


def _clean(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "status": rng.choice(["open", "closed", "pending"], n),
            "team": rng.choice(["north", "south"], n),
            "channel": rng.choice(["phone", "email", "chat"], n),
            "minutes": rng.lognormal(3, 0.6, n).round(1),
            "score": rng.integers(1, 6, n).astype(float) * rng.uniform(0.9, 1.1, n),
            "items": rng.integers(0, 40, n),
        }
    )


def test_plant_leaves_the_input_alone_and_plants_what_it_says():
    frame = _clean()
    before = frame.copy()
    copy, manifest = plant(frame, seed=1, as_of=NOW)
    pd.testing.assert_frame_equal(frame, before)
    assert {p.rule for p in manifest} == set(CLASSES)
    by_rule = {p.rule: p for p in manifest}
    assert (copy[by_rule["negative_values"].column] < 0).sum() == by_rule["negative_values"].rows
    sentinel = by_rule["sentinel_values"]
    assert (copy[sentinel.column] == sentinel.values[0]).sum() == sentinel.rows
    variant = by_rule["spelling_variants"]
    # (counted before the near-duplicate copies, which may repeat a planted variant)
    original = copy.iloc[: len(frame)]
    assert (original[variant.column] == variant.values[0]).sum() == variant.rows
    a, b = by_rule["missing_together"].values
    assert (copy[a].isna() == copy[b].isna()).all() and copy[a].isna().sum() > 0
    assert len(copy) == len(frame) + by_rule["near_duplicate_rows"].rows
    broken = copy["planted_updated_at"] < copy["planted_created_at"]
    assert broken.sum() == by_rule["time_order"].rows
    early = copy["planted_created_at"] < pd.Timestamp("1971-01-01")
    assert early.sum() == by_rule["early_dates"].rows >= 2
    again, _ = plant(frame, seed=1, as_of=NOW)
    pd.testing.assert_frame_equal(copy, again)  # reproducible


def test_tiny_tables_get_nothing_planted():
    copy, manifest = plant(_clean(20), as_of=NOW)
    assert manifest == [] and len(copy) == 20


def _audit(frame: pd.DataFrame, folder):  # noqa: ANN202
    folder.mkdir()
    frame.to_csv(folder / "t.csv", index=False)
    (audit,) = run(
        Parameters.parse({"sources": str(folder / "t.csv"), "as_of": NOW})
    ).audits.values()
    return audit


@pytest.mark.slow
@pytest.mark.parametrize(
    "key",
    # MASS's Boston: 999 planted in 'zn', a percentage that is mostly 0, fenced on the log scale
    # (its far-out fence lies near 3,800: the sentinel is found by its gap to the other values,
    # and the column's real zeros are not called sentinels).
    ["palmerpenguins_penguins", "carData_Salaries", "AER_CPS1985", "MASS_Boston"],
)
def test_every_planted_class_is_found_in_real_tables(key, tmp_path):
    frame = real_corpus.load(only=(key.lower(),))[key.lower()]
    clean = _audit(frame, tmp_path / "clean")
    copy, manifest = plant(frame, seed=0, as_of=NOW)
    assert len(manifest) >= 8
    result = score(clean, _audit(copy, tmp_path / "planted"), manifest)
    assert all(result.found.values()), {r: f for r, f in result.found.items() if not f}
    assert result.false_alarms == []
    assert result.outliers_exact is True
    assert not clean.personal_data
