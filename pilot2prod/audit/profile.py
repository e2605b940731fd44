"""Completeness and uniqueness of a table, read from one :func:`scan_table` of it.

The engine (DuckDB on files, the database itself for SQL sources) computes everything; only the
aggregates come back, so a table larger than memory is fine.
"""

from __future__ import annotations

import ibis
import pandas as pd

from pilot2prod.audit.scan import MOSTLY, TableScan, scan_table


def profile_from_scan(scan: TableScan) -> pd.DataFrame:
    """Per column: rows, nulls, blanks, placeholder values and distinct values.

    Blanks are empty after trimming white space; placeholders are values such as ``N/A``,
    ``-``, ``unknown`` or ``1900-01-01`` that stand in for a missing value, and ``0`` in a
    text column whose other values are hardly ever numbers.
    """
    rows = scan.rows
    out = []
    for c in scan.columns.values():
        placeholders = c.placeholders
        present = scan.present(c)
        # Zeros stand in for nothing in a column of words ("0" as a name), not in a column of
        # numbers that holds some text ("0" inches of rain beside "T" for a trace).
        other_numbers = (c.numbers - c.zeros) / present if present else 0.0
        if c.kind == "text" and c.zeros and other_numbers < 1 - MOSTLY:
            placeholders += c.zeros
        missing = c.nulls + c.blanks + placeholders
        out.append(
            {
                "column": c.name,
                "rows": rows,
                "nulls": c.nulls,
                "blanks": c.blanks,
                "placeholders": placeholders,
                "missing": missing,
                "missing_share": missing / rows if rows else 0.0,
                "distinct": c.distinct,
                "distinct_estimated": c.distinct_estimated,
            }
        )
    return pd.DataFrame(
        out,
        columns=[
            "column",
            "rows",
            "nulls",
            "blanks",
            "placeholders",
            "missing",
            "missing_share",
            "distinct",
            "distinct_estimated",
        ],
    )


def column_profile(table: ibis.Table) -> pd.DataFrame:
    """:func:`profile_from_scan` of a fresh scan of ``table``."""
    return profile_from_scan(scan_table(table))


def duplicates(table: ibis.Table, rows: int, key: str | None = None) -> tuple[int, int]:
    """Rows that exactly repeat an earlier row (all columns equal), and rows whose ``key``
    value another row already used (nulls not counted): one aggregate where the engine allows.

    In DuckDB the rows are compared by a 64-bit hash of all their values, which is three times
    faster than a DISTINCT over every column; the chance that two of ten million different rows
    share a hash is about 3 in a million. Other engines compare the values themselves."""
    if not rows:
        return 0, 0
    aggregates = _key_counts(table, key) if key is not None else {}
    if _backend_name(table) == "duckdb":
        row_hash = ibis.struct({c: table[c] for c in table.columns}).hash()
        row = table.aggregate(distinct=row_hash.nunique(), **aggregates).execute().iloc[0]
        distinct = row["distinct"]
    else:
        distinct = table.distinct().count().execute()
        row = table.aggregate(**aggregates).execute().iloc[0] if aggregates else {}
    return rows - int(distinct), _reused(row) if key is not None else 0


def duplicate_rows(table: ibis.Table, rows: int | None = None) -> int:
    """Rows that exactly repeat an earlier row (all columns equal); see :func:`duplicates`."""
    rows = int(table.count().execute()) if rows is None else rows
    return duplicates(table, rows)[0]


def duplicate_keys(table: ibis.Table, key: str) -> int:
    """Rows whose ``key`` value was already used by another row (nulls not counted)."""
    return _reused(table.aggregate(**_key_counts(table, key)).execute().iloc[0])


def _key_counts(table: ibis.Table, key: str) -> dict[str, ibis.Value]:
    return {"keys": table[key].count(), "distinct_keys": table[key].nunique()}


def _reused(row) -> int:  # noqa: ANN001 - a row of :func:`_key_counts`
    return int(row["keys"]) - int(row["distinct_keys"])


def _backend_name(table: ibis.Table) -> str:
    try:
        return table._find_backend().name
    except Exception:  # noqa: BLE001 - an unbound memtable runs in the default DuckDB
        return "duckdb"
