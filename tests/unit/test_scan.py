"""The one-scan-per-table query plan: its counts equal the row-by-row truth."""

from __future__ import annotations

from dataclasses import replace

import ibis
import numpy as np
import pandas as pd
import real_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from pilot2prod.audit.checks import audit_source
from pilot2prod.audit.scan import (
    DATE_SHAPES,
    NUMBER,
    TYPED_SHAPE,
    more_symmetric_on_log,
    scan_table,
    trimmed,
)
from pilot2prod.sources import discover, open_source


def _planted(rows: int = 3000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    status = rng.choice(["open", "closed", "N/A", "", "0", "unknown"], size=rows)
    status = pd.Series(status, dtype="object")
    status[rng.choice(rows, 100, replace=False)] = None
    dates = [
        ("2026-01-05", "05.01.2026", "01/05/2026", "January 5, 2026")[i % 4] for i in range(rows)
    ]
    amounts = [f"{x:.2f}" for x in rng.normal(100, 10, size=rows)]
    for i in range(0, rows, 100):
        amounts[i] = "n/a"
    when = pd.Series(pd.date_range("2026-01-01", periods=rows, freq="h"))
    when[:25] = pd.Timestamp("1900-01-01")
    return pd.DataFrame(
        {
            "status": status,
            "date_text": dates,
            "amount_text": amounts,
            "when": when,
            "phone_number": np.full(rows, 4930123456789, dtype="int64"),
            "score": rng.integers(1, 6, size=rows),
        }
    )


def test_text_counts_match_the_rows():
    frame = _planted()
    scan = scan_table(ibis.memtable(frame))
    assert scan.rows == len(frame)
    status = scan.columns["status"]
    values = frame["status"]
    assert status.kind == "text"
    assert status.nulls == values.isna().sum()
    assert status.blanks == (values == "").sum()
    assert status.placeholders == values.isin(["N/A", "unknown"]).sum()
    assert status.zeros == (values == "0").sum()
    assert status.distinct == values.dropna().nunique()
    shapes = scan.columns["date_text"].date_shapes
    assert shapes == {name: 750 for name in DATE_SHAPES}
    amount = scan.columns["amount_text"]
    assert amount.numbers == len(frame) - 30 and amount.placeholders == 30
    assert amount.q1 is not None and 85 < amount.q1 < amount.q3 < 115


def test_the_guard_expression_changes_no_count():
    """Every value the five specific patterns accept, the combined guard accepts too."""
    import re

    samples = [
        "12",
        "-3.5",
        "1,234.50",
        "1.234,5",
        "2026-01-05",
        "2026-01-05 10:00:01",
        "5.1.2026",
        "01/05/2026",
        "March 3, 2026",
        "abc",
        "12 apples",
        "1e5",
    ]
    specific = [NUMBER, *DATE_SHAPES.values()]
    for value in samples:
        expected = any(re.search(p, value) for p in specific)
        assert bool(re.search(TYPED_SHAPE, value)) == expected, value


def test_typed_columns_sentinel_dates_and_long_integers():
    frame = _planted()
    scan = scan_table(ibis.memtable(frame))
    when = scan.columns["when"]
    assert when.kind == "temporal" and when.placeholders == 25
    assert pd.Timestamp(when.newest) == frame["when"].max()
    phone = scan.columns["phone_number"]
    assert phone.kind == "number" and phone.pii_candidates == len(frame)
    score = scan.columns["score"]
    assert score.pii_candidates == 0 and score.outliers == 0  # a 1-5 code has no outliers
    assert score.distinct == 5  # HyperLogLog is exact at small counts


def test_sampled_type_inference_that_breaks_late_falls_back(tmp_path):
    """DuckDB infers types from the first rows; a text value much later must not stop the
    load (the types are inferred again from every row)."""
    from pilot2prod.sources import discover, open_estate

    rows = 60_000
    values = [str(i) for i in range(rows)]
    values[50_000] = "N/A"
    path = tmp_path / "late.csv"
    pd.DataFrame({"id": range(rows), "count": values}).to_csv(path, index=False)
    estate = open_estate(discover(str(path)))
    assert not estate.failed
    table = estate.opened[0].table
    scan = scan_table(table)
    assert scan.rows == rows
    assert scan.columns["count"].placeholders == 1
    assert scan.columns["count"].numbers == rows - 1
    assert estate.opened[0].latency.full_scan_seconds > 0
    assert path.read_text().count("N/A") == 1  # the file itself is untouched


def test_skewed_column_with_a_few_negatives_is_fenced_on_the_log_scale():
    """Durations with 1 % negative typos: the negatives do not push the column onto the raw
    scale, where its long right tail would count hundreds of far-out values; the planted
    far-out values are the only ones reported."""
    rng = np.random.default_rng(11)
    hours = rng.lognormal(2, 1.0, 4000)
    hours[rng.choice(4000, 40, replace=False)] *= -1  # 1 %: below the rule's tolerance
    hours[:3] = 5e6
    mostly_negative = rng.normal(0, 10, 4000)  # really takes negative values
    scan = scan_table(ibis.memtable(pd.DataFrame({"hours": hours, "delta": mostly_negative})))
    column = scan.columns["hours"]
    assert column.fence_scale == "log"
    assert column.outliers == 3 and column.worst == [5e6, 5e6, 5e6]
    raw = hours[hours > 0]
    q1, q3 = np.quantile(raw, [0.25, 0.75])
    raw_fence_outliers = (hours > q3 + 3 * (q3 - q1)).sum()
    assert raw_fence_outliers > 30  # what the raw scale would have reported
    assert scan.columns["delta"].fence_scale == "raw"


def test_a_wide_table_is_scanned_in_batches_with_the_same_counts(monkeypatch):
    """Batched aggregates (a wide export) give exactly what one query gives."""
    from pilot2prod.audit import scan as scan_module

    table = ibis.memtable(_planted(rows=500))
    whole = scan_table(table)
    monkeypatch.setattr(scan_module, "AGGREGATES_PER_QUERY", 2)
    batched = scan_table(table)
    assert batched.rows == whole.rows == 500
    for name, column in whole.columns.items():
        assert batched.columns[name] == column, name


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=" \t\n\r\x0b\x0cab-é", max_size=8), min_size=1, max_size=30))
def test_trimming_only_the_values_with_space_at_an_end_is_strip(texts):
    table = ibis.memtable(pd.DataFrame({"t": pd.Series(texts + [None], dtype="object")}))
    out = table.select(fast=trimmed(table.t), plain=table.t.strip()).execute()
    assert out["fast"].fillna("<null>").tolist() == out["plain"].fillna("<null>").tolist()


def _scan_fields(scan) -> dict:  # noqa: ANN001
    return {
        name: {k: v for k, v in vars(column).items() if k != "name"}
        for name, column in scan.columns.items()
    }


def test_kept_distinct_values_change_no_count_and_no_finding(tmp_path):
    """Real tables, opened as files: the audit with the distinct values kept in a temporary
    table (how files are audited) equals the audit that groups the rows again wherever it
    needs them (how a database the audit may only read is audited), finding for finding;
    and the temporary table is gone afterwards."""
    frames = real_corpus.load(
        only=(real_corpus.WITH_NAMES, "validate_retailers", "dslabs_brexit_polls", "mass_survey")
    )
    now = pd.Timestamp("2026-01-01")
    for key, frame in frames.items():
        path = tmp_path / f"{key}.csv"
        frame.to_csv(path, index=False)
        opened = open_source(discover(str(path))[0])[0]
        assert opened.scratch is not None
        kept = scan_table(opened.table, 3.0, opened.scratch)
        assert kept.values is not None and kept.values.table is not None
        regrouped = scan_table(opened.table, 3.0)
        assert _scan_fields(kept) == _scan_fields(regrouped), key
        kept.values.release()
        with_scratch = audit_source(opened, now)
        without = audit_source(replace(opened, scratch=None), now)
        assert [vars(f) for f in with_scratch.findings] == [vars(f) for f in without.findings]
        assert with_scratch.personal_data == without.personal_data, key
        temporary = opened.scratch.raw_sql(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary"
        ).fetchone()[0]
        assert temporary == 0, key


def _spreads(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "discount_pct": np.round(rng.uniform(0, 100, rows), 2),  # symmetric, down to 0.01
            "amount_eur": np.round(rng.uniform(0, 1000, rows), 2),
            "height_cm": np.round(rng.normal(170, 10, rows), 1),
            "score": np.round(rng.normal(50, 15, rows).clip(0, 100), 1),
            "hours_open": np.round(rng.lognormal(1, 1, rows), 2),  # a long right tail
            "invoice_eur": np.round(rng.lognormal(5, 0.8, rows), 2),
        }
    )


def test_clean_columns_have_no_far_out_values_on_either_kind_of_spread():
    """A uniform percentage on the log scale would call its smallest values far out (0.01 %
    is far below 25 % as a ratio): each column is fenced on the scale that makes it more
    symmetric, and clean columns of every kind get no outlier."""
    for seed in range(3):
        frame = _spreads(20_000, seed)
        scan = scan_table(ibis.memtable(frame))
        for name in frame:
            column = scan.columns[name]
            assert column.outliers == 0, (seed, name, column.fence_scale, column.worst)
        assert scan.columns["discount_pct"].fence_scale == "raw"
        assert scan.columns["hours_open"].fence_scale == "log"


def test_a_planted_far_out_value_is_found_on_either_scale():
    frame = _spreads(20_000, 11)
    planted = {"discount_pct": 1_000.0, "height_cm": 17_000.0, "hours_open": 50_000.0}
    for name, value in planted.items():
        frame.loc[[5, 6], name] = value
    scan = scan_table(ibis.memtable(frame))
    for name, value in planted.items():
        column = scan.columns[name]
        assert (column.outliers, column.worst[:2]) == (2, [value, value]), name


@settings(max_examples=300, deadline=None)
@given(
    st.floats(0.01, 1e6),
    st.floats(0.01, 10.0),
    st.floats(0.0, 1.0),
)
def test_a_right_tail_is_judged_on_the_log_scale_and_a_symmetric_spread_on_the_raw_one(
    median, ratio, tilt
):
    """Quartiles of a log-symmetric spread (q1 = m / r, q3 = m * r) choose the log scale; a
    raw-symmetric one starting near 0 (q1 = m - d, q3 = m + d) the raw scale."""
    spread = 1 + ratio
    assert more_symmetric_on_log(median / spread, median, median * spread)
    half = median * (0.5 + 0.49 * tilt)
    assert not more_symmetric_on_log(median - half, median, median + half)


def test_a_time_of_day_column_is_audited_without_dates(tmp_path):
    """DuckDB reads ``11:38:36`` as TIME (gt's pizzaplace: the time of each order): a time of
    day has no date to judge freshness or the order of events by, so it is counted like any
    other column (the audit crashed on it: a TIME has no date)."""
    path = tmp_path / "orders.csv"
    path.write_text(
        "id,date,time,price\n"
        + "".join(
            f"{i},2015-01-{1 + i % 28:02d},{8 + i % 14}:{i % 60:02d}:05,{10 + i % 7}.5\n"
            for i in range(200)
        ),
        encoding="utf-8",
    )
    opened = open_source(discover(str(path))[0])[0]
    assert opened.table.schema()["time"].is_time()
    audit = audit_source(opened, pd.Timestamp("2026-01-01"))
    assert audit.rows == 200
    scan = scan_table(opened.table)
    assert scan.columns["time"].kind == "other" and scan.columns["date"].kind == "temporal"
    assert not [f for f in audit.findings if f.column == "time"]


def test_a_0_to_10_rating_has_no_far_out_values_until_one_is_planted():
    """The likelihood to recommend (0-10, eleven values; stevedata's ESS survey) is a scale:
    its 0s and 1s were far out on the log scale. A value far outside it makes the column a
    measurement again, and that value is found."""
    rng = np.random.default_rng(2)
    rating = rng.choice(
        np.arange(11), 3000, p=[0.01] * 3 + [0.02] * 3 + [0.1, 0.15, 0.2, 0.25, 0.21]
    )
    scan = scan_table(ibis.memtable(pd.DataFrame({"nps": rating})))
    assert scan.columns["nps"].fence_scale == "" and scan.columns["nps"].outliers == 0
    rating = rating.astype(float)
    rating[:3] = 37_000.0
    scan = scan_table(ibis.memtable(pd.DataFrame({"nps": rating})))
    assert scan.columns["nps"].worst[0] == 37_000.0
