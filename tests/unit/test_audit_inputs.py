"""The audit on the inputs a new user brings: anything unreadable is a finding for that source
(the rest still audited) or, when nothing at all can be read, one sentence and exit 2; real
values are not mistaken for gaps or personal data."""

from __future__ import annotations

import gzip
import zipfile

import numpy as np
import pandas as pd
import pytest

from pilot2prod.audit import Parameters, run
from pilot2prod.audit.scan import scan_table
from pilot2prod.errors import DataSourceError
from pilot2prod.plots import freshness_chart
from pilot2prod.sources import discover, open_estate

NOW = "2026-11-02"


def audit(target, **extra):
    return run(Parameters.parse({"sources": str(target), "as_of": NOW, **extra}))


def orders(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "order_id": [f"O-{i:05d}" for i in range(n)],
            "created_at": pd.date_range("2026-01-01", periods=n, freq="h").strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "region": rng.choice(["NA", "EU", "AP", "LA"], n),
            "amount": rng.lognormal(3, 1, n).round(2),
        }
    )


def test_every_broken_file_is_a_finding_and_the_rest_is_audited(tmp_path):
    orders().to_csv(tmp_path / "good.csv", index=False)
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "header_only.csv").write_text("a,b,c\n")
    with gzip.open(tmp_path / "zipped.csv.gz", "wt") as fh:
        orders(50).to_csv(fh, index=False)
    with zipfile.ZipFile(tmp_path / "exports.zip", "w") as archive:
        archive.writestr("march.csv", orders(40).to_csv(index=False))
        archive.writestr("__MACOSX/._march.csv", "junk")
    # A wide export: hundreds of columns, several aggregates each, so that the scan's queries
    # run in batches (AGGREGATES_PER_QUERY; tests/unit/test_scan.py checks batches against one
    # query). 1,000 columns took 23 minutes on the 2-core CI machine before the batches.
    wide = pd.DataFrame(np.arange(3 * 400).reshape(3, 400), columns=[f"c{i}" for i in range(400)])
    wide.to_csv(tmp_path / "wide.csv", index=False)
    result = audit(tmp_path)
    failed = {f.spec.name: f.reason for f in result.estate.failed}
    assert failed["empty.csv"] == "the file is empty (0 bytes)"
    assert "binary bytes" in failed["binary.csv"]
    audits = result.audits
    assert audits["good.csv"].rows == 300
    assert audits["zipped.csv.gz"].rows == 50
    assert audits["exports.zip"].rows == 40
    assert audits["wide.csv"].columns == 400
    assert audits["header_only.csv"].rows == 0
    assert "header but no rows" in " ".join(f.message for f in audits["header_only.csv"].findings)


@pytest.mark.parametrize("target", ["empty_folder", "*.nothing"])
def test_nothing_to_read_is_one_sentence(tmp_path, target):
    (tmp_path / "empty_folder").mkdir()
    with pytest.raises(DataSourceError, match="nothing to audit"):
        run(Parameters.parse({"sources": target, "as_of": NOW}, cwd=tmp_path))


def test_nothing_readable_is_one_sentence(tmp_path):
    (tmp_path / "a.csv").write_bytes(b"")
    with pytest.raises(DataSourceError, match="no source could be read .*a.csv: the file is empty"):
        audit(tmp_path)


def test_documents_beside_the_exports_are_listed_not_audited(tmp_path):
    """A README or a data dictionary in the exports' folder is no source that failed (it
    made a real folder NO-GO); a file named on purpose still is."""
    exports = tmp_path / "exports"
    exports.mkdir()
    orders().to_csv(exports / "orders.csv", index=False)
    (exports / "README.md").write_text("# Orders export\n")
    (exports / "dictionary.pdf").write_bytes(b"%PDF-1.4\n")
    (tmp_path / "inventory.yaml").write_text(
        "sources:\n  - name: exports\n    location: exports/*.*\n    owner: Sales\n"
    )
    for target, prefix in ((exports, ""), (tmp_path / "inventory.yaml", "exports/")):
        result = audit(target)
        assert not result.estate.failed
        assert sorted(s.name for s in result.estate.skipped) == [
            f"{prefix}README.md",
            f"{prefix}dictionary.pdf",
        ]
        inventory = result.inventory().set_index("source")
        assert inventory.loc[f"{prefix}README.md", "status"] == "skipped"
        assert "'.md' is not a data format" in inventory.loc[f"{prefix}README.md", "reason"]
        assert result.results()["skipped"] == [f"{prefix}README.md", f"{prefix}dictionary.pdf"]
        assert result.scorecard.go
        assert "2 other file(s) skipped" in dict(result.headline().facts)["Sources audited"]
    with pytest.raises(DataSourceError, match="no source could be read .*'.md' is not a data"):
        audit(exports / "README.md")


def test_a_folder_of_documents_only_is_one_sentence(tmp_path):
    (tmp_path / "README.md").write_text("# Nothing here yet\n")
    with pytest.raises(
        DataSourceError, match=r"no file in '.*' is in a data format .*found README.md.*\(.csv"
    ):
        audit(tmp_path)


def test_one_table_from_a_folder_with_a_readme(tmp_path):
    from pilot2prod.sources import open_table

    orders().to_csv(tmp_path / "orders.csv", index=False)
    (tmp_path / "README.md").write_text("# Orders export\n")
    assert open_table(str(tmp_path), "events_path").table.count().execute() == 300


def test_an_unreachable_database_is_a_finding(tmp_path):
    orders().to_csv(tmp_path / "good.csv", index=False)
    (tmp_path / "inventory.yaml").write_text(
        "sources:\n"
        "  - name: good\n    location: good.csv\n    owner: Sales\n"
        "  - name: crm\n    location: postgresql://me:${P2P_UNSET_PASSWORD}@127.0.0.1:9/crm\n"
        "    table: accounts\n    owner: Sales\n",
    )
    result = audit(tmp_path / "inventory.yaml")
    assert result.audits["good"].rows == 300
    (failure,) = result.estate.failed
    assert failure.spec.name == "crm" and "P2P_UNSET_PASSWORD" in failure.reason


def test_a_single_file_with_dates_and_no_refresh_interval_draws_its_freshness(tmp_path):
    orders().to_csv(tmp_path / "export.csv", index=False)
    result = audit(tmp_path / "export.csv")
    fresh = result.freshness_table()
    assert len(fresh) == 1 and fresh["refresh_days"].isna().all()
    figure = freshness_chart(fresh)  # used to fail converting the missing interval
    assert figure.axes[0].get_yticklabels()[0].get_text() == "export.csv"


def test_excel_numbers_keep_their_type_and_are_not_card_numbers(tmp_path):
    frame = pd.DataFrame({"ratio": [0.5357999999999999, 0.25, 1 / 3] * 40, "n": range(120)})
    frame.to_excel(tmp_path / "ratios.xlsx", index=False)
    result = audit(tmp_path / "ratios.xlsx")
    sheet = result.audits["ratios.xlsx:Sheet1"]
    assert sheet.personal_data == {}
    types = sheet.validity.set_index("column")["storage_type"]
    assert types["ratio"] == "float64" and types["n"].startswith("int")
    assert not any(f.dimension == "privacy" for f in sheet.findings)


def test_na_is_a_region_where_the_column_holds_codes(tmp_path):
    orders().to_csv(tmp_path / "orders.csv", index=False)
    result = audit(tmp_path / "orders.csv")
    region = result.audits["orders.csv"].profile.set_index("column").loc["region"]
    assert region["placeholders"] == 0 and region["missing_share"] == 0
    assert (tmp_path / "orders.csv").read_text().count(",NA,") > 50  # the codes are there


def test_skewed_amounts_raise_no_outlier_noise_but_planted_ones_are_named(tmp_path):
    frame = orders(5000)
    frame.loc[:2, "amount"] = [250000.0, 180000.0, 0.0001]
    frame.to_csv(tmp_path / "orders.csv", index=False)
    estate = open_estate(discover(str(tmp_path / "orders.csv")))
    scan = scan_table(estate.opened[0].table)
    amount = scan.columns["amount"]
    assert amount.fence_scale == "log"
    assert amount.outliers == 3
    assert amount.worst[:2] == [250000.0, 180000.0]
    result = audit(tmp_path / "orders.csv")
    message = next(f.message for f in result.audits["orders.csv"].findings if f.column == "amount")
    assert "3 far-out values (on the log scale" in message and "250,000" in message


def test_repeated_and_blank_header_names_are_reported(tmp_path):
    (tmp_path / "dup.csv").write_text("id,name,name,\n1,a,b,c\n2,d,e,f\n")
    result = audit(tmp_path / "dup.csv")
    messages = " ".join(f.message for f in result.audits["dup.csv"].findings)
    assert "repeats or leaves out column names" in messages and "'name'" in messages


def test_estimated_distinct_counts_are_marked_and_capped(tmp_path):
    frame = pd.DataFrame({"x": np.arange(10_000) * 1.5, "t": ["a"] * 10_000})
    frame.to_parquet(tmp_path / "x.parquet")
    result = audit(tmp_path / "x.parquet")
    profile = result.audits["x.parquet"].profile.set_index("column")
    assert profile.loc["x", "distinct_estimated"]
    assert profile.loc["x", "distinct"] <= 10_000
    assert not profile.loc["t", "distinct_estimated"] and profile.loc["t", "distinct"] == 1


def test_a_constant_column_with_gaps_is_described_as_such(tmp_path):
    pd.DataFrame({"flag": ["Y"] * 80 + [None] * 20, "id": range(100)}).to_csv(
        tmp_path / "f.csv", index=False
    )
    result = audit(tmp_path / "f.csv")
    message = next(
        f.message
        for f in result.audits["f.csv"].findings
        if f.column == "flag" and f.dimension == "validity"
    )
    assert "single value wherever it is filled in (20 rows empty" in message


def test_a_european_export_keeps_its_decimal_numbers(tmp_path):
    """Semicolons, decimal commas and Latin-1, as a spreadsheet set to a European locale
    writes them: the amounts are numbers, not text, and the accented names survive."""
    frame = orders(200)
    frame["city"] = ["Zürich", "Malmö", "Besançon", "Genève"] * 50
    frame.to_csv(tmp_path / "export.csv", sep=";", decimal=",", index=False, encoding="latin-1")
    result = audit(tmp_path / "export.csv")
    (source,) = result.audits.values()
    validity = source.validity.set_index("column")
    assert validity.loc["amount", "inferred_type"] == "number"
    assert validity.loc["amount", "maximum"] == pytest.approx(frame["amount"].max())
    assert validity.loc["city", "distinct"] == 4


def test_person_names_are_found_by_column_name_in_any_case(tmp_path):
    """Lower-case names under a prefixed column name are names; a clinic's or a product's name
    is not a person's, and a person-named column of codes is not names."""
    rng = np.random.default_rng(3)
    first = ["penny", "jhezane", "omar", "li", "anna-lena", "o'neil"]
    frame = pd.DataFrame(
        {
            "fake_first_name": rng.choice(first, 200),
            "billing_last_name": rng.choice(["Smith", "Nguyen", "de Vries"], 200),
            "clinic_name": rng.choice(["inpatient ward a", "clinical lab"], 200),
            "product_name": rng.choice(["Widget", "Gadget"], 200),
            "customer_name": [f"C-{i:04d}" for i in range(200)],
        }
    )
    frame.to_csv(tmp_path / "visits.csv", index=False)
    (source,) = audit(tmp_path / "visits.csv").audits.values()
    assert set(source.personal_data) == {"fake_first_name", "billing_last_name"}
    executed = repr(source.personal_data)
    assert "penny" not in executed and "Nguyen" not in executed  # samples are masked
