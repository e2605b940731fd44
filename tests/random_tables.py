"""Hypothesis strategies for tables nobody designed: column names with spaces, quotes, dots and
unicode, duplicated names, columns of every type with gaps, repeated rows, no rows, one row, wide
tables. Shared by the audit's property tests on files (tests/unit) and on PostgreSQL
(tests/engines)."""

from __future__ import annotations

import datetime
import string

import numpy as np
import pandas as pd
from hypothesis import strategies as st

#: Column names as exports spell them: spaces, quotes, dots, brackets, unicode, digits first.
NAMES = st.one_of(
    st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=12),
    st.text(
        alphabet=st.characters(
            codec="utf-8", categories=("L", "N", "P", "Zs", "S"), exclude_characters="\x00"
        ),
        min_size=1,
        max_size=16,
    ).filter(lambda s: s.strip() != ""),
    st.sampled_from(["id", "ID", "e-mail", "Name", "first name", 'say "hi"', "a.b", "1st", "ß"]),
)


def _column(kind: str, rows: int, draw) -> list:
    gaps = draw(st.floats(0, 1))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))

    def value(i: int):
        if rng.random() < gaps:
            return None
        if kind == "int":
            return int(rng.integers(-1000, 10**6))
        if kind == "float":
            return float(rng.choice([rng.normal(50, 20), rng.lognormal(3, 2), 0.0, -1.0, 1e12]))
        if kind == "bool":
            return bool(rng.random() < 0.5)
        if kind == "date":
            return pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(rng.integers(-4000, 4000)))
        if kind == "time":  # a time of day, typed TIME where the format has the type
            return datetime.time(*map(int, rng.integers(0, [24, 60, 60])))
        if kind == "category":
            return str(rng.choice(["NA", "EU", "open", "Open", "closed ", "", "n/a", "-"]))
        if kind == "email":
            return f"user{i}@example.org"
        return draw(st.text(max_size=30))

    return [value(i) for i in range(rows)]


@st.composite
def tables(draw) -> pd.DataFrame:
    wide = draw(st.booleans()) and draw(st.booleans())
    n_columns = draw(st.integers(30, 80) if wide else st.integers(1, 8))
    rows = draw(st.sampled_from([0, 1, 2, 7, 40]))
    names = [draw(NAMES) for _ in range(n_columns)]
    kinds = ["int", "float", "bool", "date", "time", "category", "email", "text"]
    data = {}
    columns = []
    for i, name in enumerate(names):
        kind = draw(st.sampled_from(kinds))
        columns.append(name)
        data[i] = _column(kind, rows, draw)
    frame = pd.DataFrame(data)
    frame.columns = columns
    if rows and draw(st.booleans()):  # repeated rows
        frame = pd.concat([frame, frame.iloc[: max(1, rows // 3)]], ignore_index=True)
    return frame
