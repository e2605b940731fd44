"""Completeness and uniqueness of a table as Ibis expressions: one aggregate query per table.

The engine (DuckDB on files, the database itself for SQL sources) computes everything; only the
aggregates come back, so a table larger than memory is fine.
"""

from __future__ import annotations

import ibis
import pandas as pd

#: Values that mean "missing" although a field is filled in (compared trimmed, lower-case).
PLACEHOLDERS = (
    "n/a",
    "na",
    "-",
    "--",
    "?",
    "unknown",
    "none",
    "null",
    "nil",
    "tbd",
    "1900-01-01",
    "01/01/1900",
    "9999-12-31",
)
#: "0" stands in for a missing value in text columns (a phone, a name, a code), but it is a
#: real value in a numeric column, so it only counts where most values are not numbers.
ZERO = "0"
NUMBER_SHAPE = r"^[+-]?\d+([.,]\d+)?$"


def column_profile(table: ibis.Table) -> pd.DataFrame:
    """Per column: rows, nulls, blanks, placeholder values and distinct values.

    Blanks are empty after trimming white space; placeholders are values such as ``N/A``,
    ``-``, ``unknown`` or ``1900-01-01`` that stand in for a missing value, and ``0`` in a
    column whose values are mostly not numbers.
    """
    aggregates = {"rows": table.count()}
    for i, name in enumerate(table.columns):
        column = table[name]
        text = column.cast("string").strip()
        aggregates[f"c{i}_nulls"] = column.isnull().sum()
        aggregates[f"c{i}_blanks"] = (text == "").sum()
        aggregates[f"c{i}_placeholders"] = text.lower().isin(list(PLACEHOLDERS)).sum()
        aggregates[f"c{i}_zeros"] = (text == ZERO).sum()
        aggregates[f"c{i}_numbers"] = text.re_search(NUMBER_SHAPE).sum()
        aggregates[f"c{i}_distinct"] = column.nunique()
    values = table.aggregate(**aggregates).execute().iloc[0]
    rows = int(values["rows"])
    out = []
    for i, name in enumerate(table.columns):
        nulls = int(values[f"c{i}_nulls"] or 0)
        blanks = int(values[f"c{i}_blanks"] or 0)
        placeholders = int(values[f"c{i}_placeholders"] or 0)
        filled = rows - nulls - blanks
        numbers = int(values[f"c{i}_numbers"] or 0)
        if not (filled and numbers / filled >= 0.95):
            placeholders += int(values[f"c{i}_zeros"] or 0)
        out.append(
            {
                "column": name,
                "rows": rows,
                "nulls": nulls,
                "blanks": blanks,
                "placeholders": placeholders,
                "missing": nulls + blanks + placeholders,
                "missing_share": (nulls + blanks + placeholders) / rows if rows else 0.0,
                "distinct": int(values[f"c{i}_distinct"] or 0),
            }
        )
    return pd.DataFrame(out)


def duplicate_rows(table: ibis.Table) -> int:
    """Rows that exactly repeat an earlier row (all columns equal)."""
    return int(table.count().execute()) - int(table.distinct().count().execute())


def duplicate_keys(table: ibis.Table, key: str) -> int:
    """Rows whose ``key`` value was already used by another row (nulls not counted)."""
    keyed = table.filter(table[key].notnull())
    return int(keyed.count().execute()) - int(keyed[key].nunique().execute())
