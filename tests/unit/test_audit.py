"""Audit building blocks: opening an estate read-only, and completeness/uniqueness in Ibis."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from pilot2prod.audit.profile import column_profile, duplicate_keys, duplicate_rows
from pilot2prod.errors import ParameterError
from pilot2prod.sources import discover, open_estate, read_inventory, redact, summary


@pytest.fixture
def estate_dir(tmp_path):
    frame = pd.DataFrame(
        {
            "id": [f"K{i}" for i in range(40)] + ["K1"],
            "city": ["Zürich", "Köln", "N/A", "", None] * 8 + ["Köln"],
            "amount": [str(i) for i in range(41)],
        }
    )
    frame.to_csv(tmp_path / "semicolon_latin1.csv", sep=";", encoding="cp1252", index=False)
    frame.to_csv(tmp_path / "utf16.csv", encoding="utf-16", index=False)
    frame.to_csv(tmp_path / "bom.csv", encoding="utf-8-sig", index=False)
    frame.to_parquet(tmp_path / "table.parquet")
    frame.to_json(tmp_path / "events.jsonl", orient="records", lines=True)
    with pd.ExcelWriter(tmp_path / "book.xlsx") as writer:
        frame.to_excel(writer, sheet_name="first", index=False)
        frame.head(5).to_excel(writer, sheet_name="second", index=False)
        pd.DataFrame().to_excel(writer, sheet_name="empty", index=False)
    with sqlite3.connect(tmp_path / "shop.sqlite") as con:
        frame.to_sql("orders", con, index=False)
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "binary.csv").write_bytes(b"\x00\x01\x02" * 50)
    (tmp_path / "corrupt.parquet").write_bytes(b"PAR1 not really parquet")
    return tmp_path


def validity_table(table, declared_types: bool) -> pd.DataFrame:
    from pilot2prod.audit.scan import scan_table
    from pilot2prod.audit.validity import TUKEY_K, validity_from_scan

    return validity_from_scan(scan_table(table, TUKEY_K), declared_types)


def test_every_readable_source_opens_and_every_other_becomes_a_finding(estate_dir):
    before = {p.name: p.read_bytes() for p in estate_dir.iterdir()}
    estate = open_estate(discover(str(estate_dir)) + discover(str(estate_dir / "gone.csv")))
    opened = {o.spec.name: o for o in estate.opened}
    assert set(opened) == {
        "semicolon_latin1.csv",
        "utf16.csv",
        "bom.csv",
        "table.parquet",
        "events.jsonl",
        "book.xlsx:first",
        "book.xlsx:second",
        "shop.sqlite:orders",
    }
    for o in opened.values():
        assert list(o.table.columns) == ["id", "city", "amount"], o.spec.name
    assert opened["book.xlsx:second"].table.count().execute() == 5
    failed = {f.spec.name: f.reason for f in estate.failed}
    assert failed["empty.csv"] == "the file is empty (0 bytes)"
    assert "binary bytes" in failed["binary.csv"]
    assert failed["gone.csv"] == "the file does not exist"
    assert "corrupt.parquet" in failed
    table = summary(estate)
    assert (table["status"] == "failed").sum() == 4
    # Sources are opened read-only: nothing changed on disk.
    assert {p.name: p.read_bytes() for p in estate_dir.iterdir()} == before


def test_encodings_and_delimiters_are_read_correctly(estate_dir):
    estate = open_estate(discover(str(estate_dir / "*.csv")))
    for o in estate.opened:
        cities = set(o.table.city.execute().dropna())
        assert {"Zürich", "Köln"} <= cities, o.spec.name


def test_profile_counts_planted_gaps_and_duplicates(estate_dir):
    estate = open_estate(discover(str(estate_dir / "table.parquet")))
    table = estate.opened[0].table
    profile = column_profile(table).set_index("column")
    city = profile.loc["city"]
    assert (city["nulls"], city["blanks"], city["placeholders"]) == (8, 8, 8)
    assert city["missing_share"] == pytest.approx(24 / 41)
    assert profile.loc["amount", "placeholders"] == 0  # "0" is a real amount
    import ibis

    codes = ibis.memtable(
        pd.DataFrame({"phone": ["0", "+49 30 1234567", "0", "n/a"], "qty": ["0", "1", "2", "3"]})
    )
    zeros = column_profile(codes).set_index("column")["placeholders"]
    assert (zeros["phone"], zeros["qty"]) == (3, 0)  # "0" stands in for a missing phone
    # mosaicData's Weather: inches of rain, "T" for a trace; its zeros are dry days.
    rain = ibis.memtable(pd.DataFrame({"precip": ["0", "0", "0", "T", "0.01", "0.25", "0"]}))
    assert column_profile(rain).set_index("column").loc["precip", "placeholders"] == 0
    assert duplicate_keys(table, "id") == 1
    assert duplicate_rows(table) == 0


@pytest.fixture(scope="module")
def sample_estate(dataset_dir) -> dict:
    """The sample company's CRM workbook and ticket export, opened once for the module (reading
    the workbook is the slow part); tests read the tables and never change them."""
    estate = open_estate(
        discover(str(dataset_dir / "crm_accounts.xlsx"))
        + discover(str(dataset_dir / "tickets.csv"))
    )
    return {o.spec.name: o for o in estate.opened}


def test_profile_finds_the_planted_crm_defects(sample_estate, truth):
    accounts = sample_estate["crm_accounts.xlsx:accounts"].table
    crm = truth["defects"]["crm"]
    profile = column_profile(accounts).set_index("column")
    for column, count in crm["missing_values"].items():
        assert profile.loc[column, "nulls"] == count
    assert duplicate_rows(accounts) == crm["exact_duplicate_rows"]
    assert profile.loc["account_id", "rows"] == crm["accounts_rows"]


def test_inventory_keeps_credentials_out(tmp_path, monkeypatch):
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "sources:\n"
        "  - name: orders\n    location: data.csv\n    owner: Finance\n    refresh_days: 1\n"
        "  - name: warehouse\n    location: postgresql://audit:${P2P_DB_PASSWORD}@127.0.0.1:9/x\n"
        "    table: orders\n"
    )
    specs = read_inventory(inventory)
    assert specs[0].owner == "Finance" and specs[0].location == str(tmp_path / "data.csv")
    monkeypatch.setenv("P2P_DB_PASSWORD", "hunter2")
    estate = open_estate(specs)
    assert [o.spec.name for o in estate.opened] == ["orders"]
    failure = estate.failed[0]
    assert failure.spec.name == "warehouse"
    assert "hunter2" not in failure.reason and "hunter2" not in str(summary(estate))
    assert redact("postgresql://u:hunter2@h/db") == "postgresql://u:***@h/db"
    (tmp_path / "bad.yaml").write_text("sources:\n  - location: x.csv\n    password: hunter2\n")
    with pytest.raises(ParameterError, match="holds a credential"):
        read_inventory(tmp_path / "bad.yaml")


def test_validity_infers_types_formats_outliers_and_id_columns(tmp_path):
    import numpy as np

    from pilot2prod.audit.validity import consistency_violations

    rng = np.random.default_rng(0)
    n = 400
    amounts = rng.normal(100, 10, n).round(2).astype(str)
    amounts[:4] = ["5000", "-4000", "9000", "7000"]  # planted far-out values
    frame = pd.DataFrame(
        {
            "ref": [f"R{i:04d}" for i in range(n)],
            "amount": amounts,
            "when": [
                "2024-01-0" + str(1 + i % 9) if i % 4 else f"0{1 + i % 9}.02.2024" for i in range(n)
            ],
            "mixed": [str(i) if i % 2 else f"item {i}" for i in range(n)],
            "drive": [("f", "4", "r")[i % 3] for i in range(n)],  # ggplot2's mpg: codes
            "flag": ["1" if i % 7 == 0 else "0" for i in range(n)],
            "const": ["ACME"] * n,
            "created": ["2024-01-10 10:00:00"] * n,
            "resolved": ["2024-01-09 09:00:00"] * 3 + ["2024-01-11 09:00:00"] * (n - 3),
        }
    )
    frame.to_csv(tmp_path / "v.csv", index=False)
    table = open_estate(discover(str(tmp_path / "v.csv"))).opened[0].table
    v = validity_table(table, declared_types=False).set_index("column")
    assert v.loc["amount", "inferred_type"] == "number"
    # -4000 is the one negative in a positive column: the negatives rule reports it, and the
    # column is still fenced on the log scale, where 5000, 7000 and 9000 are far out.
    assert v.loc["amount", "outliers"] == 3
    assert v.loc["flag", "outliers"] == 0  # a 0/1 flag has no outliers
    assert v.loc["when", "inferred_type"] == "date"
    assert v.loc["when", "date_formats"] == {"YYYY-MM-DD": 300, "DD.MM.YYYY": 100}
    assert v.loc["mixed", "mixed_types"] and not v.loc["drive", "mixed_types"]
    assert v.loc["const", "constant"] and not v.loc["amount", "constant"]
    assert v.loc["ref", "id_like"] and not v.loc["const", "id_like"]
    assert consistency_violations(table, "created", "resolved") == 3


def test_validity_on_the_sample_company(sample_estate, truth):
    from pilot2prod.audit.validity import consistency_violations

    accounts = sample_estate["crm_accounts.xlsx:accounts"].table
    tickets = sample_estate["tickets.csv"].table
    since = validity_table(accounts, declared_types=True).set_index("column").loc["customer_since"]
    assert len(since["date_formats"]) == len(
        truth["defects"]["crm"]["date_formats_in_customer_since"]
    )
    planted = truth["defects"]["tickets_end_before_start"]["count"]
    assert consistency_violations(tickets, "created_at", "resolved_at") == planted


def test_relations_find_planted_orphans_variants_and_staleness(sample_estate, truth):
    from pilot2prod.audit.relations import freshness, key_coverage, spelling_variants

    tables = {name: o.table for name, o in sample_estate.items()}
    accounts, tickets = tables["crm_accounts.xlsx:accounts"], tables["tickets.csv"]
    coverage = key_coverage(tickets, "customer_id", accounts, "account_id")
    planted = truth["defects"]["tickets_without_crm_account"]
    assert (coverage.orphan_rows, coverage.orphan_keys) == (
        planted["tickets"],
        planted["customers"],
    )
    variants = spelling_variants(accounts, "company_name", examples=200)
    in_groups = {name for group in variants.examples for name in group}
    frame = accounts.execute()
    near = frame[frame["account_id"].isin(truth["defects"]["crm"]["near_duplicate_account_ids"])]
    assert set(near["company_name"]) <= in_groups  # every planted variant spelling is found
    export = pd.Timestamp(truth["history"]["export"])
    fresh = freshness(tickets, ["created_at", "resolved_at"], export + pd.Timedelta(days=9), 7)
    assert fresh.column == "resolved_at" and fresh.stale and 9 < fresh.lag_days < 10
    assert not freshness(tickets, ["created_at"], export, 7).stale


def test_read_latency_reads_one_row_then_the_whole_table():
    from pilot2prod.audit.relations import read_latency

    calls = []

    class Expression:
        def __init__(self, name):
            self.name = name

        def execute(self):
            calls.append(self.name)

    class Table:
        def limit(self, n):
            return Expression(f"limit {n}")

        def count(self):
            return Expression("count")

    latency = read_latency(Table())
    assert calls == ["limit 1", "count"]
    assert latency.first_row_seconds > 0 and latency.full_scan_seconds > 0


def test_scorecard_gate_lists_blocking_findings_first(estate_dir, tmp_path):
    from dataclasses import replace

    from pilot2prod.audit.checks import audit_source
    from pilot2prod.audit.scorecard import Scorecard, add_consistency, failed_source

    pd.DataFrame(
        {
            "ticket": [f"T{i}" for i in range(200)] + ["T1"],
            "email": ["a.person@example.com"] * 201,
            "score": [None] * 150 + ["4"] * 51,
            "created": ["2025-01-01 10:00:00"] * 201,
            "closed": ["2025-01-02 10:00:00"] * 190 + ["2024-12-31 10:00:00"] * 11,
        }
    ).to_csv(tmp_path / "tickets.csv", index=False)
    estate = open_estate(
        discover(str(tmp_path / "tickets.csv")) + discover(str(estate_dir / "empty.csv"))
    )
    opened = estate.opened[0]
    opened.spec = replace(opened.spec, key="ticket", required=("ticket", "created"))
    audit = audit_source(opened, pd.Timestamp("2025-01-03"))
    from pilot2prod.audit.validity import consistency_violations

    add_consistency(
        audit,
        "closed is not before created",
        consistency_violations(estate.opened[0].table, "created", "closed"),
    )
    card = Scorecard([audit] + [failed_source(f.spec.name, f.reason) for f in estate.failed])
    findings = card.findings()
    assert list(findings["severity"])[:3] == ["blocking"] * 3
    blocking = " ".join(findings.query("severity == 'blocking'")["message"])
    assert "could not be read" in blocking and "Personal data (email)" in blocking
    assert "11 rows break the rule: closed is not before created" in blocking
    assert "'score' is missing in 75% of rows" in " ".join(findings["message"])  # optional
    assert not card.go and card.gate().startswith("NO-GO: 3 blocking finding(s)")
    table = card.table().set_index("source")
    assert table.loc["empty.csv", "band"] == "below C"
    assert table.loc["tickets.csv", "band"] == "below C"  # personal data without a note
    assert table.loc["tickets.csv", "uniqueness"] < 100
    assert "a.person@example.com" not in str(findings) + card.gate()


def test_contract_is_tightened_by_findings_and_round_trips(tmp_path, dataset_dir, sample_estate):
    from dataclasses import replace

    from pandera.errors import SchemaErrors

    from pilot2prod.audit.checks import audit_source
    from pilot2prod.audit.contract import build_contract, load_contract, save_contract
    from pilot2prod.audit.datasheet import datasheet

    opened = sample_estate["crm_accounts.xlsx:accounts"]
    opened = replace(opened, spec=replace(opened.spec, key="account_id"))
    audit = audit_source(opened, pd.Timestamp("2026-11-02"))
    schema = build_contract(opened.table, audit, key="account_id", required=("account_id",))
    path = save_contract(schema, tmp_path / "contracts" / "accounts.yaml")
    contract = load_contract(path)
    assert contract.columns["account_id"].unique  # the audit found duplicate keys
    assert not contract.columns["account_id"].nullable
    assert contract.columns["annual_revenue_eur"].nullable
    frame = pd.read_excel(
        dataset_dir / "crm_accounts.xlsx", sheet_name="accounts", dtype=str, engine="calamine"
    )
    clean = frame.drop_duplicates("account_id")
    clean = clean[clean["customer_since"].str.match(r"^\d{4}-\d{2}-\d{2}$")]
    contract.validate(clean)  # a clean extract passes
    with pytest.raises(SchemaErrors) as err:
        contract.validate(frame, lazy=True)  # the raw export does not
    failed = set(err.value.failure_cases["column"])
    assert {"account_id", "customer_since"} <= failed
    broken = clean.head(20).copy()
    broken.loc[broken.index[0], "segment"] = "Galactic"
    with pytest.raises(SchemaErrors):
        contract.validate(broken, lazy=True)
    sheet = datasheet(audit)
    assert "## Composition" in sheet and "*Who owns this source?*" in sheet
    assert "contact_email | text" in sheet and "email" in sheet
    assert "@" not in sheet  # counts and kinds only, no addresses


def test_audit_parameters(tmp_path):
    from pilot2prod.audit import Parameters

    url = "postgresql://audit:${P2P_PASSWORD}@127.0.0.1/crm#orders"
    with pytest.raises(ParameterError, match="as_of is 'yesterday', which is not a date"):
        Parameters.parse({"sources": url, "as_of": "yesterday"})
    with pytest.raises(ParameterError, match="default_region is 'Germany'"):
        Parameters.parse({"sources": url, "default_region": "Germany"})
    assert Parameters.parse({"sources": url}).sources == url  # kept as given
    with pytest.raises(ParameterError, match="no file or folder at 'nowhere.yaml'"):
        Parameters.parse({"sources": "nowhere.yaml"}, cwd=tmp_path)
    with pytest.raises(ParameterError, match="holds a password in its database URL"):
        Parameters.parse({"sources": "postgresql://audit:hunter2@127.0.0.1/crm#orders"})
    with pytest.raises(ParameterError, match="sources is empty"):
        Parameters.parse({})


@pytest.mark.spark
def test_contracts_load_pandera_without_pandas_on_spark():
    """pandera imports ``pyspark.pandas`` when pyspark is installed (``make test-spark``
    installs it); the audit never uses it and loads pandera without it (a fresh process: this
    one may have started Spark)."""
    import subprocess
    import sys
    from importlib.util import find_spec

    assert find_spec("pyspark"), "pyspark is not installed: run make test-spark"

    code = (
        "import sys; from pilot2prod.audit import contract; assert contract.pa.DataFrameSchema; "
        "print(sorted(m for m in sys.modules if m.startswith('pyspark')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_values_in_other_scripts_and_ranges_are_not_spellings_of_one_value():
    """Keeping only the letters a to z made every Cyrillic city one value in several spellings
    (and the contract allowed only one of them), and '<40' / '>=40' one age group (gt's
    rx_adsl). Case, spaces, dots and hyphens still make variants."""
    import ibis

    from pilot2prod.audit.contract import usual_spellings
    from pilot2prod.audit.relations import spelling_variants

    frame = pd.DataFrame(
        {
            "city": ["Москва", "Санкт-Петербург", "Казань", "москва "] * 50,
            "age_group": ["<40", ">=40", "<40", ">=40"] * 50,
            "company": ["ACME GmbH.", "Acme GmbH", "FALCON XP", "FALCON-XP"] * 50,
        }
    )
    t = ibis.memtable(frame)
    city = spelling_variants(t, "city")
    assert (city.entities_with_variants, city.examples) == (1, [["Москва", "москва "]])
    assert spelling_variants(t, "age_group").entities_with_variants == 0
    assert spelling_variants(t, "company").entities_with_variants == 2
    assert len(usual_spellings(t, "city")) == 3
    assert usual_spellings(t, "age_group") == ["<40", ">=40"]
