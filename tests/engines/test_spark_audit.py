"""The same audit on Apache Spark (local mode, through Ibis's PySpark backend).

One Spark session serves the whole module (starting the JVM takes seconds). The inventory lists
the sample company's payments twice, once scanned by DuckDB and once by Spark: both engines must
report the planted defects, and the same findings. (Every Spark query costs seconds on a small
machine, so the larger ticket event log is audited on DuckDB only, in the book and the unit
tests; Spark's reading of JSON lines and text files is checked on small files.)
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from pilot2prod.audit import Parameters, run
from pilot2prod.sources import read_inventory

pytestmark = pytest.mark.slow
NOW = pd.Timestamp("2026-11-02")


@pytest.fixture(scope="module")
def audited(dataset_dir, tmp_path_factory):
    estate = dataset_dir / "estate"
    common = {
        "payments": {"owner": "Finance", "refresh_days": 1, "key": "payment_id"},
    }
    inventory = {
        "sources": [
            {
                "name": "payments_duckdb",
                "location": str(estate / "payments.parquet"),
                **common["payments"],
            },
            {
                "name": "payments_spark",
                "kind": "spark",
                "location": "local[2]",
                "table": "payments.parquet",
                **common["payments"],
            },
            {
                "name": "missing_spark",
                "kind": "spark",
                "location": "local[2]",
                "table": "warehouse.no_such_table",
                "owner": "Logistics",
            },
        ]
    }
    folder = tmp_path_factory.mktemp("spark")
    path = folder / "inventory.yaml"
    for entry in inventory["sources"]:
        if entry.get("kind") == "spark" and entry["table"].endswith((".parquet", ".jsonl")):
            entry["table"] = str(estate / entry["table"])
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    try:
        yield run(Parameters.parse({"sources": str(path), "as_of": str(NOW)}))
    finally:
        from pyspark.sql import SparkSession

        session = SparkSession.getActiveSession()
        if session is not None:
            session.stop()


def _messages(result, name: str) -> list[str]:
    return sorted(f.message for f in result.audits[name].findings)


def test_spark_sources_are_audited_by_spark(audited):
    for name in ("payments_spark",):
        assert audited.audits[name].details["backend"] == "pyspark"
        assert audited.audits[name].rows


def test_spark_finds_the_planted_defects(audited, truth):
    planted = truth["estate"]
    payments = audited.audits["payments_spark"]
    amount = payments.validity.set_index("column").loc["amount_eur"]
    assert amount["outliers"] >= planted["payments"]["far_out_amounts"]
    assert set(payments.personal_data) == {"card_number"}


def _counts(personal_data: dict) -> dict:
    return {
        (column, kind): (found["candidates"], found["values"])
        for column, kinds in personal_data.items()
        for kind, found in kinds.items()
    }


def test_spark_and_duckdb_agree(audited):
    for stem in ("payments",):
        spark, duck = audited.audits[f"{stem}_spark"], audited.audits[f"{stem}_duckdb"]
        assert _messages(audited, f"{stem}_spark") == _messages(audited, f"{stem}_duckdb")
        # Each engine hashes differently, so the masked samples differ; the counts may not.
        assert _counts(spark.personal_data) == _counts(duck.personal_data)
        columns = ["column", "nulls", "blanks", "placeholders", "missing"]
        assert spark.profile[columns].equals(duck.profile[columns])


def test_spark_reads_tab_separated_text_and_json_lines(audited, tmp_path):
    """Runs after the module's audit, in the same Spark session."""
    from pilot2prod.sources import SourceSpec, open_source

    path = tmp_path / "regions.tsv"
    path.write_text("region\tmanager\nnorth\tAda\nsouth\tGrace\n")
    (opened,) = open_source(SourceSpec("regions", "local[2]", "spark", table=str(path)))
    assert opened.table.columns == ("region", "manager")
    assert int(opened.table.count().execute()) == 2
    path = tmp_path / "events.jsonl"
    path.write_text('{"event_id": 1, "ip": "10.0.0.1"}\n{"event_id": 2, "ip": null}\n')
    (opened,) = open_source(SourceSpec("events", "local[2]", "spark", table=str(path)))
    assert set(opened.table.columns) == {"event_id", "ip"}
    assert int(opened.table.count().execute()) == 2


def test_a_missing_spark_table_is_a_finding(audited):
    (message,) = _messages(audited, "missing_spark")
    assert "could not be read" in message and "no_such_table" in message


def test_inventory_reads_a_spark_master_as_is(tmp_path):
    path = tmp_path / "inventory.yaml"
    path.write_text(
        "sources:\n- name: lake\n  kind: spark\n  location: local[2]\n  table: data/x.parquet\n"
        "- name: catalog\n  kind: spark\n  location: spark://h:7077\n  table: sales.orders\n"
    )
    lake, catalog = read_inventory(path)
    assert lake.kind == "spark" and lake.location == "local[2]"
    assert lake.table == str((tmp_path / "data" / "x.parquet").resolve())
    assert (catalog.location, catalog.table) == ("spark://h:7077", "sales.orders")
