"""The audit and Chapter 1 on Apache Spark (local mode, through Ibis's PySpark backend).

Starting Spark's JVM is the expensive part, so one Spark session serves every test here, and the
module is the only one that starts Spark. On the project's 2-core CI machine that start alone
took more than a quarter of an hour (class loading, measured 2026-11-27), more than `make test`
can spend inside its time limit: these tests are marked ``spark`` and run with
``make test-spark``. The inventory lists the sample company's payments twice, once scanned by
DuckDB and once by Spark: both engines must report the planted defects, and the same findings.
Chapter 1 reads the sample company's tickets from a Parquet file through Spark and through DuckDB
and must find the same baseline.
Spark's reading of JSON lines and text files is checked on small files.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from conftest import acme_values
from pilot2prod import metric
from pilot2prod.audit import Parameters, run
from pilot2prod.sources import read_inventory

pytestmark = [pytest.mark.slow, pytest.mark.spark]
NOW = pd.Timestamp("2026-11-02")


@pytest.fixture(scope="module", autouse=True)
def spark_session():
    """Spark's JVM started once for the module, stopped after."""
    from pilot2prod.sources.engines import spark_backend

    try:
        yield spark_backend("local[2]")
    finally:
        from pyspark.sql import SparkSession

        session = SparkSession.getActiveSession()
        if session is not None:
            session.stop()


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
    return run(Parameters.parse({"sources": str(path), "as_of": str(NOW)}))


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


def test_chapter_one_on_spark_matches_duckdb_on_the_same_file(dataset_dir, tmp_path, truth):
    tickets = pd.read_csv(dataset_dir / "tickets.csv", dtype=str, keep_default_na=False)
    typed = tickets[["ticket_id", "created_at", "resolved_at", "team", "reopened", "csat"]].assign(
        created_at=pd.to_datetime(tickets["created_at"]),
        resolved_at=pd.to_datetime(tickets["resolved_at"].replace("", None)),
        csat=pd.to_numeric(tickets["csat"].replace("", None)),
    )
    path = tmp_path / "tickets.parquet"
    typed.to_parquet(path)

    def baseline(events_path: str) -> metric.Result:
        values = acme_values("01_success_metric", events_path=events_path, n_bootstrap=200)
        return metric.run(metric.Parameters.parse(values))

    spark, duck = baseline(f"spark:local[2]#{path}"), baseline(str(path))
    assert spark.events.report.__dict__ == duck.events.report.__dict__
    for column in ("events", "open", "km", "km_low", "km_high", "naive"):
        got, expected = spark.baseline[column].to_numpy(), duck.baseline[column].to_numpy()
        assert got == pytest.approx(expected, rel=1e-9), column
    assert spark.statement == duck.statement
    assert spark.overall["events"] == truth["chapter1_baseline"]["tickets_in_window"]


def test_a_backlog_scored_through_spark_matches_the_model_in_process(tmp_path, dataset_dir):
    """Chapter 4's batch path: MLflow's pyfunc Spark UDF on a registered version gives the
    predictions the model gives in process, texts masked the same way."""
    from pyspark.sql import SparkSession

    from pilot2prod.production.batch import score_in_process, score_with_spark
    from pilot2prod.production.registry import CHAMPION, Registry, default_uri
    from pilot2prod.triage.models import TfidfLinear

    tickets = pd.read_csv(dataset_dir / "tickets.csv").tail(3000)
    tickets = tickets[["ticket_id", "subject", "body", "category"]].fillna("")
    train, backlog = tickets.iloc[:2000], tickets.iloc[2000:].reset_index(drop=True)
    texts = (train["subject"].fillna("") + " \n" + train["body"].fillna("")).tolist()
    model = TfidfLinear().fit(texts, train["category"].to_numpy())
    registry = Registry(default_uri(tmp_path))
    version = registry.register(
        model,
        data_sha256="x",
        parameters={},
        metrics={},
        code_version="test",
        probe=(["0"], [texts[0]]),
    )
    registry.set_alias(CHAMPION, version.version)
    spark = SparkSession.getActiveSession()
    frame = spark.createDataFrame(backlog[["ticket_id", "subject", "body"]])
    scored = score_with_spark(spark, registry, CHAMPION, frame, ["subject", "body"])
    got = scored.select("ticket_id", "prediction").toPandas().set_index("ticket_id")["prediction"]
    expected = score_in_process(model, backlog, ["subject", "body"])
    expected.index = backlog["ticket_id"]
    assert (got.loc[expected.index] == expected["prediction"]).all()
