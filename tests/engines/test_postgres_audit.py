"""The audit against a real PostgreSQL server: pushed down, read-only, no password in any output.

The sample company's payments (Parquet) and warehouse shipments (SQLite) are copied into a fresh
PostgreSQL cluster on loopback; the same inventory lists the file versions too, so the test can
assert that the database audit finds exactly what the file audit finds, planted defects included.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3

import pandas as pd
import postgres_server
import psycopg
import pytest
import random_tables
import real_corpus
import yaml
from hypothesis import HealthCheck, assume, given, settings

from pilot2prod.audit import Parameters, run, write_outputs
from pilot2prod.errors import Pilot2ProdError
from pilot2prod.sources import SourceSpec, open_source

pytestmark = pytest.mark.slow
NOW = pd.Timestamp("2026-11-02")
PASSWORD_VARIABLE = "PILOT2PROD_TEST_PG_PASSWORD"


@pytest.fixture(scope="module")
def server(dataset_dir):
    server = postgres_server.start(settings="-c log_statement=all")
    estate = dataset_dir / "estate"
    payments = pd.read_parquet(estate / "payments.parquet")
    with sqlite3.connect(estate / "warehouse.sqlite") as lite:
        shipments = pd.read_sql("SELECT * FROM shipments", lite)
    try:
        with psycopg.connect(server.url(), autocommit=True) as con, con.cursor() as cursor:
            postgres_server.copy_frame(
                cursor,
                "payments",
                payments,
                {"paid_at": "timestamp", "amount_eur": "double precision"},
            )
            postgres_server.copy_frame(cursor, "shipments", shipments, {})
        yield server
    finally:
        postgres_server.stop(server)


@pytest.fixture(scope="module")
def audited(server, dataset_dir, tmp_path_factory):
    estate = dataset_dir / "estate"
    url = f"postgresql://{server.user}:${{{PASSWORD_VARIABLE}}}@127.0.0.1:{server.port}/acme"
    refused = f"postgresql://{server.user}:${{{PASSWORD_VARIABLE}}}@127.0.0.1:9/acme"
    inventory = {
        "sources": [
            {
                "name": "crm_accounts",
                "location": str(dataset_dir / "crm_accounts.xlsx"),
                "owner": "Sales Ops",
                "key": {"accounts": "account_id"},
            },
            {
                "name": "payments_file",
                "location": str(estate / "payments.parquet"),
                "owner": "Finance",
                "refresh_days": 1,
                "key": "payment_id",
            },
            {
                "name": "payments_db",
                "location": url,
                "table": "payments",
                "owner": "Finance",
                "refresh_days": 1,
                "key": "payment_id",
            },
            {
                "name": "warehouse",
                "location": str(estate / "warehouse.sqlite"),
                "table": "shipments",
                "owner": "Logistics",
                "refresh_days": 7,
                "references": [
                    {
                        "column": "customer_id",
                        "source": "crm_accounts:accounts",
                        "key": "account_id",
                    }
                ],
            },
            {
                "name": "shipments_db",
                "location": url,
                "table": "shipments",
                "owner": "Logistics",
                "refresh_days": 7,
                "references": [
                    {
                        "column": "customer_id",
                        "source": "crm_accounts:accounts",
                        "key": "account_id",
                    }
                ],
            },
            {"name": "returns_db", "location": url, "table": "returns", "owner": "Logistics"},
            {"name": "refused_db", "location": refused, "table": "payments", "owner": "IT"},
        ]
    }
    folder = tmp_path_factory.mktemp("pg-audit")
    path = folder / "inventory.yaml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PASSWORD_VARIABLE, server.password)
        result = run(Parameters.parse({"sources": str(path), "as_of": str(NOW)}))
        written = write_outputs(result, folder / "out")
    return result, written, folder


def _messages(audit, name: str) -> list[str]:
    return [f.message for f in audit.audits[name].findings]


def test_database_audit_finds_what_the_file_audit_finds(audited, truth):
    result, _, _ = audited
    db, file = result.audits["payments_db"], result.audits["payments_file"]
    assert db.details["backend"] == "postgres"
    assert db.rows == file.rows
    assert sorted(_messages(result, "payments_db")) == sorted(_messages(result, "payments_file"))
    planted = truth["estate"]["payments"]
    amount = db.validity.set_index("column").loc["amount_eur"]
    assert amount["outliers"] >= planted["far_out_amounts"]
    assert amount["high_fence"] < 50_000
    assert set(db.personal_data) == {"card_number"}
    assert db.personal_data == file.personal_data
    assert db.details["freshness"]["newest"] == file.details["freshness"]["newest"]
    columns = ["column", "nulls", "blanks", "placeholders", "missing"]
    assert db.profile[columns].equals(file.profile[columns])


def test_orphan_keys_in_a_database_table(audited, truth):
    result, _, _ = audited
    relations = {(r["source"], r["column"]): r for r in result.relations}
    planted = truth["estate"]["warehouse"]
    for source in ("shipments_db", "warehouse:shipments"):
        found = relations[(source, "customer_id")]
        assert (found["orphan_rows"], found["orphan_keys"]) == (
            planted["orphan_rows_total"],
            planted["orphan_keys_total"],
        )


def test_missing_table_and_refused_connection_are_findings(audited):
    result, _, _ = audited
    (missing,) = _messages(result, "returns_db")
    assert "could not be read" in missing and "returns" in missing
    (refused,) = _messages(result, "refused_db")
    assert "could not be read" in refused and re.search(r"refused|connect", refused, re.I)
    for name in ("returns_db", "refused_db"):
        assert result.audits[name].band == "below C"
    assert result.audits["payments_db"].rows  # every other source was audited


def test_no_password_in_any_output(audited, server):
    result, written, folder = audited
    texts = [p.read_text(errors="replace") for p in (folder / "out").rglob("*") if p.is_file()]
    texts.append(json.dumps([f.as_dict() for a in result.audits.values() for f in a.findings]))
    texts.append(result.inventory().to_string())
    assert written["audit"].exists()
    for text in texts:
        assert server.password not in text
    assert "${" + PASSWORD_VARIABLE + "}" in (folder / "inventory.yaml").read_text()


def test_queries_are_pushed_down_and_read_only(audited, server, monkeypatch, dataset_dir):
    log = (server.folder / "server.log").read_text()
    statements = re.findall(r"LOG:  statement: (.*?)(?=\n\S|\Z)", log, re.S)
    reads = [s for s in statements if re.search(r'FROM\s+"payments"', s)]
    assert reads, "the audit sent no query to the payments table"
    for statement in reads:  # only aggregates or a bounded number of rows come back
        bounded = r"\b(COUNT|SUM|MAX|MIN|PERCENTILE_CONT|GROUP BY|LIMIT|DISTINCT)\b"
        ranked = r"ROW_NUMBER\(\) OVER .* WHERE \S+ < \d+\s*$"  # the first few of each rank
        assert re.search(bounded, statement, re.I) or re.search(ranked, statement, re.S), statement
    monkeypatch.setenv(PASSWORD_VARIABLE, server.password)
    url = f"postgresql://{server.user}:${{{PASSWORD_VARIABLE}}}@127.0.0.1:{server.port}/acme"
    (opened,) = open_source(SourceSpec("p", url, "database", table="payments"))
    backend = opened.table._find_backend()
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        backend.raw_sql("DELETE FROM payments")
    planted = pd.read_parquet(dataset_dir / "estate" / "payments.parquet")
    assert int(opened.table.count().execute()) == len(planted)  # nothing was deleted


def _pg_types(frame: pd.DataFrame) -> dict[str, str]:
    """Typed columns, as a database holds them: integers, floats, booleans, timestamps, text."""
    types = {}
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_bool_dtype(series):
            types[column] = "boolean"
        elif pd.api.types.is_integer_dtype(series):
            types[column] = "bigint"
        elif pd.api.types.is_float_dtype(series):
            types[column] = "double precision"
        elif pd.api.types.is_datetime64_any_dtype(series):
            types[column] = "timestamp"
    return types


def _audit_tables(server, monkeypatch, tables: list[str], folder):
    monkeypatch.setenv(PASSWORD_VARIABLE, server.password)
    url = f"postgresql://{server.user}:${{{PASSWORD_VARIABLE}}}@127.0.0.1:{server.port}/acme"
    inventory = {"sources": [{"name": table, "location": url, "table": table} for table in tables]}
    path = folder / "inventory.yaml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return run(Parameters.parse({"sources": str(path), "as_of": str(NOW)}))


def test_real_corpus_in_postgresql(server, monkeypatch, tmp_path):
    """The real-data corpus (tests/real_corpus.py) as typed PostgreSQL tables: every table is
    audited, numbers stay numbers and no personal data is reported where there is none."""
    corpus = real_corpus.load()
    tables = {key: frame for i, (key, frame) in enumerate(corpus.items()) if i % 3 == 1}
    tables[real_corpus.WITH_NAMES] = corpus[real_corpus.WITH_NAMES]
    with psycopg.connect(server.url(), autocommit=True) as con, con.cursor() as cursor:
        for key, frame in tables.items():
            postgres_server.copy_frame(cursor, f"corpus_{key}", frame, _pg_types(frame))
    result = _audit_tables(server, monkeypatch, [f"corpus_{k}" for k in tables], tmp_path)
    assert not result.estate.failed, {f.spec.name: f.reason for f in result.estate.failed}
    for key, frame in tables.items():
        audit = result.audits[f"corpus_{key}"]
        assert audit.details["backend"] == "postgres"
        real_corpus.assert_audited_intact(key, frame, audit)


def test_names_in_other_alphabets_are_found_in_postgresql(server, monkeypatch, tmp_path):
    """Name shapes are written as explicit Unicode ranges (PostgreSQL's regular expressions
    have no Unicode classes): accented and Cyrillic names are personal data in PostgreSQL as in
    a file, and the place words and the audit's other checks run there too."""
    names = ["José García", "Łukasz Nowak", "Анна Иванова", "Zoë Müller", "Ödön Horváth"] * 40
    towns = ["Kirkland Lake", "Iroquois Falls", "Thunder Bay", "Vaughan", "Cobalt"] * 40
    frame = pd.DataFrame({"customer_name": names, "name": towns})
    with psycopg.connect(server.url(), autocommit=True) as con, con.cursor() as cursor:
        postgres_server.copy_frame(cursor, "unicode_names", frame, {})
    result = _audit_tables(server, monkeypatch, ["unicode_names"], tmp_path)
    audit = result.audits["unicode_names"]
    assert audit.details["backend"] == "postgres"
    assert set(audit.personal_data) == {"customer_name"}
    assert audit.personal_data["customer_name"]["person_name"]["values"] == 200


@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(frame=random_tables.tables())
def test_any_table_in_postgresql_is_audited_or_a_finding(server, frame, tmp_path_factory):
    """tests/unit/test_audit_properties.py's property, on PostgreSQL tables."""
    names = [str(c) for c in frame.columns]
    assume(len({n.lower()[:63] for n in names}) == len(names))  # a table holds each name once
    frame = frame.map(lambda v: v.replace("\x00", "") if isinstance(v, str) else v)
    frame.columns = [n.replace("\x00", "") for n in names]
    table = f"prop_{secrets.token_hex(4)}"
    with psycopg.connect(server.url(), autocommit=True) as con, con.cursor() as cursor:
        postgres_server.copy_frame(cursor, table, frame, _pg_types(frame))
    folder = tmp_path_factory.mktemp("pg-property")
    with pytest.MonkeyPatch.context() as patch:
        try:
            result = _audit_tables(server, patch, [table], folder)
        except Pilot2ProdError as error:
            assert str(error).strip() and "Traceback" not in str(error)
            return
    failed = {f.spec.name: f.reason for f in result.estate.failed}
    assert all(failed.values()), failed
    if table in result.audits and table not in failed:
        assert (result.audits[table].rows, result.audits[table].columns) == frame.shape
