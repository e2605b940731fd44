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
    text column whose values are mostly not numbers.
    """
    rows = scan.rows
    out = []
    for c in scan.columns.values():
        placeholders = c.placeholders
        if c.kind == "text" and scan.number_share(c) < MOSTLY:
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


def duplicate_rows(table: ibis.Table, rows: int | None = None) -> int:
    """Rows that exactly repeat an earlier row (all columns equal).

    In DuckDB the rows are compared by a 64-bit hash of all their values, which is three times
    faster than a DISTINCT over every column; the chance that two of ten million different rows
    share a hash is about 3 in a million. Other engines compare the values themselves."""
    rows = int(table.count().execute()) if rows is None else rows
    if not rows:
        return 0
    if _backend_name(table) == "duckdb":
        row_hash = ibis.struct({c: table[c] for c in table.columns}).hash()
        distinct = table.aggregate(n=row_hash.nunique()).execute().iloc[0]["n"]
    else:
        distinct = table.distinct().count().execute()
    return rows - int(distinct)


def duplicate_keys(table: ibis.Table, key: str) -> int:
    """Rows whose ``key`` value was already used by another row (nulls not counted)."""
    column = table[key]
    row = table.aggregate(n=column.count(), distinct=column.nunique()).execute().iloc[0]
    return int(row["n"]) - int(row["distinct"])


def _backend_name(table: ibis.Table) -> str:
    try:
        return table._find_backend().name
    except Exception:  # noqa: BLE001 - an unbound memtable runs in the default DuckDB
        return "duckdb"
