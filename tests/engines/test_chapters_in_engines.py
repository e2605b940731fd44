"""Chapters 1 and 3 read their data where it lives: a real PostgreSQL server (Spark: test_spark.py).

The sample company's tickets are copied into a throwaway PostgreSQL cluster on loopback twice
(timestamps typed, and as the text the CSV export holds). Chapter 1 must find the same baseline
in the database as from the file, with only counts coming back; Chapter 3 must read a bounded
sample of the newest labelled rows.
"""

from __future__ import annotations

import re

import pandas as pd
import postgres_server
import psycopg
import pytest

from conftest import acme_values
from pilot2prod import metric
from pilot2prod.triage.data import load_examples

pytestmark = pytest.mark.slow
PASSWORD_VARIABLE = "PILOT2PROD_TEST_PG_PASSWORD"
COLUMNS = ["ticket_id", "created_at", "resolved_at", "team", "reopened", "csat", "agent_id"]


@pytest.fixture(scope="module")
def tickets(dataset_dir) -> pd.DataFrame:
    return pd.read_csv(dataset_dir / "tickets.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def server(tickets):
    server = postgres_server.start(settings="-c log_statement=all")
    try:
        with psycopg.connect(server.url(), autocommit=True) as con, con.cursor() as cursor:
            frame = tickets[COLUMNS + ["subject", "body", "category"]]
            typed = frame.replace({"resolved_at": {"": None}, "csat": {"": None}})
            postgres_server.copy_frame(
                cursor,
                "tickets_typed",
                typed,
                {"created_at": "timestamp", "resolved_at": "timestamp", "csat": "double precision"},
            )
            postgres_server.copy_frame(cursor, "tickets_text", frame, {})
        yield server
    finally:
        postgres_server.stop(server)


def _url(server, table: str) -> str:
    return (
        f"postgresql://{server.user}:${{{PASSWORD_VARIABLE}}}@127.0.0.1:{server.port}/acme#{table}"
    )


def _baseline(events_path: str, **extra) -> metric.Result:
    values = acme_values("01_success_metric", events_path=events_path, n_bootstrap=400) | extra
    return metric.run(metric.Parameters.parse(values))


@pytest.fixture(scope="module")
def from_file() -> metric.Result:
    # Randomised by agent: the cluster design's counts come from the engine too (one run of
    # Chapter 1 on the whole sample company takes minutes on the 2-core CI machine).
    return _baseline(acme_values("01_success_metric")["events_path"], randomisation_unit="agent_id")


def _same_baseline(result: metric.Result, reference: metric.Result) -> None:
    assert result.events.report.__dict__ == reference.events.report.__dict__
    for column in ("events", "open", "km", "km_low", "km_high", "naive"):
        got, expected = result.baseline[column].to_numpy(), reference.baseline[column].to_numpy()
        assert got == pytest.approx(expected, rel=1e-9), column
    assert result.statement == reference.statement
    assert result.plan.weeks_needed == reference.plan.weeks_needed


@pytest.mark.parametrize("table", ["tickets_typed", "tickets_text"])
def test_chapter_one_in_postgresql_matches_the_file(server, table, from_file, monkeypatch, truth):
    monkeypatch.setenv(PASSWORD_VARIABLE, server.password)
    result = _baseline(_url(server, table), randomisation_unit="agent_id")
    _same_baseline(result, from_file)
    assert result.plan.design.clusters == from_file.plan.design.clusters == 50
    assert result.plan.design.icc == pytest.approx(from_file.plan.design.icc, rel=1e-9)
    planted = truth["chapter1_baseline"]
    assert result.overall["events"] == planted["tickets_in_window"]
    assert result.events.source.endswith(f"#{table}")
    assert server.password not in result.events.source


def test_chapter_one_sends_postgresql_aggregates_only(server, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, server.password)
    _baseline(_url(server, "tickets_text"), segment_column="", focus_segment="")
    log = (server.folder / "server.log").read_text()
    statements = re.findall(r"LOG:  statement: (.*?)(?=\n\S|\Z)", log, re.S)
    reads = [s for s in statements if re.search(r'FROM\s+"tickets_text"', s)]
    assert reads
    for statement in reads:  # counts per bucket and aggregates, or a few example rows
        assert re.search(r"\b(COUNT|SUM|MAX|MIN|GROUP BY|LIMIT)\b", statement, re.I), statement


def test_chapter_three_reads_the_newest_rows_from_postgresql(server, monkeypatch, tickets):
    monkeypatch.setenv(PASSWORD_VARIABLE, server.password)
    examples = load_examples(
        _url(server, "tickets_text"),
        ["subject", "body"],
        "category",
        "created_at",
        id_column="ticket_id",
        max_rows=3000,
    )
    assert examples.findings.rows_in_source == len(tickets)
    assert examples.findings.sampled == f"the newest 3,000 of {len(tickets):,} rows"
    newest = set(tickets.sort_values("created_at").tail(3000)["ticket_id"])
    assert set(examples.frame["id"]) <= newest
