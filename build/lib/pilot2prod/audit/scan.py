"""One scan of a table: every count the single-source checks need, in a handful of queries.

Each check used to be its own query, and on a file every query meant another full read. Here
the work is grouped by what it costs:

* one aggregate over the table for the row count and, per typed column (numbers, timestamps,
  booleans), its nulls and distinct values, plus the newest timestamp;
* one query per text column over its *distinct values* with their counts. The regular
  expressions (number and date shapes, personal-data candidates) then run once per distinct
  value instead of once per row: an export with a million rows and five statuses runs them
  five times;
* one aggregate for the quartiles, and one for the Tukey outlier counts, of the number columns.

Everything is an Ibis expression, so the same scan runs in DuckDB, PostgreSQL, SQLite or Spark,
and only aggregates come back.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from pilot2prod.audit.pii import CANDIDATE_PATTERN

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
#: The same sentinels in a column stored as dates.
PLACEHOLDER_DATES = (datetime.date(1900, 1, 1), datetime.date(9999, 12, 31))
#: "0" stands in for a missing value in text columns (a phone, a name, a code), but it is a
#: real value in a numeric column, so it only counts where most values are not numbers.
ZERO = "0"
#: Plain numbers, or thousands grouped with "," (1,234.5) or with "." (1.234,5); not IPs.
NUMBER = r"^[+-]?(\d+([.,]\d+)?|\d{1,3}(,\d{3})+(\.\d+)?|\d{1,3}(\.\d{3})+(,\d+)?)([eE][+-]?\d+)?$"
#: Date shapes seen in exports, each a regular expression on the trimmed text.
DATE_SHAPES = {
    "YYYY-MM-DD": r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$",
    "DD.MM.YYYY": r"^\d{1,2}\.\d{1,2}\.\d{4}$",
    "DD/MM/YYYY or MM/DD/YYYY": r"^\d{1,2}/\d{1,2}/\d{4}$",
    "Month D, YYYY": r"^[A-Za-z]{3,9} \d{1,2}, \d{4}$",
}
#: Any of the shapes above: one expression that rules out most text before the five run.
TYPED_SHAPE = "|".join(
    "(" + pattern.removeprefix("^").removesuffix("$") + ")"
    for pattern in (NUMBER, *DATE_SHAPES.values())
).join(("^(", ")$"))
PLACEHOLDER_MAX_LENGTH = max(len(p) for p in PLACEHOLDERS)
#: A column whose values are this share of one type holds that type (the rest are errors).
MOSTLY = 0.95
#: Integers this large can hold a phone or card number written without separators.
PII_INTEGER_MIN = 10**7


@dataclass
class ColumnScan:
    """Raw counts for one column; :mod:`profile` and :mod:`validity` interpret them."""

    name: str
    storage: str  # the engine's type, e.g. "string", "int64", "timestamp"
    kind: str  # "text", "number", "temporal", "boolean" or "other" storage
    nulls: int = 0
    blanks: int = 0
    placeholders: int = 0
    zeros: int = 0
    numbers: int = 0
    date_shapes: dict[str, int] = field(default_factory=dict)
    distinct: int = 0
    pii_candidates: int = 0
    minimum: float | None = None
    maximum: float | None = None
    q1: float | None = None
    q3: float | None = None
    outliers: int = 0
    newest: object = None  # the newest value of a timestamp column


@dataclass
class TableScan:
    rows: int
    columns: dict[str, ColumnScan]

    def present(self, column: ColumnScan) -> int:
        """Rows where ``column`` holds something: not null and not blank."""
        return self.rows - column.nulls - column.blanks

    def number_share(self, column: ColumnScan) -> float:
        """Share of the present values of a text column that are number-shaped."""
        present = self.present(column)
        return column.numbers / present if present else 0.0


def storage_kind(dtype) -> str:  # noqa: ANN001 - an ibis DataType
    if dtype.is_string():
        return "text"
    if dtype.is_boolean():
        return "boolean"
    if dtype.is_numeric():
        return "number"
    if dtype.is_temporal():
        return "temporal"
    return "other"


def number_text(text: ir.StringValue) -> ir.FloatingValue:
    """Number-shaped text as a float, anything else null. Only number-shaped text is cast, so
    engines without TRY_CAST (SQLite) work too."""
    return (
        text.re_search(NUMBER).ifelse(text.re_replace(",", ""), ibis.null("string")).cast("float64")
    )


def _int(value) -> int:  # noqa: ANN001
    try:
        return 0 if value is None or value != value else int(value)
    except (TypeError, ValueError):
        return 0


def _float(value) -> float | None:  # noqa: ANN001
    try:
        return None if value is None or value != value else float(value)
    except (TypeError, ValueError):
        return None


def _typed_aggregate(table: ir.Table, scans: dict[str, ColumnScan]) -> int:
    """Row count, and nulls and distinct values of every typed column (numbers, timestamps,
    booleans); text and other columns are counted by :func:`_text_aggregates`."""
    aggregates: dict[str, ir.Value] = {"rows": table.count()}
    for i, scan in enumerate(scans.values()):
        if scan.kind in ("text", "other"):
            continue
        column = table[scan.name]
        aggregates[f"c{i}_nulls"] = column.isnull().sum()
        if scan.kind == "boolean":
            aggregates[f"c{i}_distinct"] = column.nunique()
        elif scan.kind in ("number", "temporal"):
            # HyperLogLog where the engine has it (about 2 % error, a fifth of the time of an
            # exact count): for numbers and times the count only separates constant columns
            # and codes from measurements. Text columns get exact counts.
            aggregates[f"c{i}_distinct"] = column.approx_nunique()
        if scan.kind == "number":
            aggregates[f"c{i}_max"] = column.max()
        if scan.kind == "temporal":
            aggregates[f"c{i}_newest"] = column.max()
            day = column if column.type().is_date() else column.date()
            aggregates[f"c{i}_placeholders"] = day.isin(PLACEHOLDER_DATES).sum()
    row = table.aggregate(**aggregates).execute().iloc[0]
    for i, scan in enumerate(scans.values()):
        if scan.kind in ("text", "other"):
            continue
        scan.nulls = _int(row[f"c{i}_nulls"])
        scan.distinct = _int(row.get(f"c{i}_distinct"))
        if scan.kind == "number":
            scan.maximum = _float(row[f"c{i}_max"])
        if scan.kind == "temporal":
            scan.newest = row[f"c{i}_newest"]
            scan.placeholders = _int(row[f"c{i}_placeholders"])
    return _int(row["rows"])


def _only_if(guard: ir.BooleanValue, test: ir.BooleanValue) -> ir.BooleanValue:
    """``guard AND test``, written as CASE so that engines evaluate ``test`` only where the
    cheap ``guard`` holds (DuckDB evaluates both sides of an AND in a projection)."""
    return guard.ifelse(test, False)


def _text_counts(table: ir.Table, name: str) -> ir.Table:
    """One row of counts for one text column, computed over its distinct values weighted by
    frequency.

    The trimmed text is computed once per value, and one regular expression for "any number or
    date shape" guards the five specific ones, so that a column of names or e-mail addresses
    pays for one expression, not five."""
    values = table.group_by(value=table[name].cast("string")).aggregate(n=ibis._.count())
    values = values.mutate(text=values.value.strip())
    values = values.mutate(shaped=values.text.re_search(TYPED_SHAPE))
    value, n, text, shaped = values.value, values.n, values.text, values.shaped
    aggregates = {
        "column": ibis.literal(name),
        "nulls": n.sum(where=value.isnull()),
        "blanks": n.sum(where=value.notnull() & (text == "")),
        "placeholders": n.sum(
            where=_only_if(
                text.length() <= PLACEHOLDER_MAX_LENGTH, text.lower().isin(list(PLACEHOLDERS))
            )
        ),
        "zeros": n.sum(where=text == ZERO),
        "numbers": n.sum(where=_only_if(shaped, text.re_search(NUMBER))),
        "distinct": value.notnull().sum(),
        "pii": n.sum(where=value.re_search(CANDIDATE_PATTERN)),
    }
    for i, pattern in enumerate(DATE_SHAPES.values()):
        aggregates[f"d{i}"] = n.sum(where=_only_if(shaped, text.re_search(pattern)))
    return values.aggregate(**aggregates)


def _text_aggregates(table: ir.Table, scans: list[ColumnScan]) -> None:
    """:func:`_text_counts` of every text column, sent to the engine as one query."""
    if not scans:
        return
    frame = ibis.union(*(_text_counts(table, s.name) for s in scans)).execute()
    by_name = {s.name: s for s in scans}
    for row in frame.to_dict("records"):
        scan = by_name[row["column"]]
        scan.nulls, scan.blanks = _int(row["nulls"]), _int(row["blanks"])
        scan.placeholders, scan.zeros = _int(row["placeholders"]), _int(row["zeros"])
        scan.numbers, scan.distinct = _int(row["numbers"]), _int(row["distinct"])
        scan.pii_candidates = _int(row["pii"])
        scan.date_shapes = {
            name: _int(row[f"d{i}"]) for i, name in enumerate(DATE_SHAPES) if _int(row[f"d{i}"])
        }


def _pii_in_integers(table: ir.Table, scans: list[ColumnScan]) -> None:
    """Long integers (a phone or card number stored as a number) are scanned as text too."""
    if not scans:
        return
    aggregates = {
        f"c{i}": table[s.name].cast("string").re_search(CANDIDATE_PATTERN).sum()
        for i, s in enumerate(scans)
    }
    row = table.aggregate(**aggregates).execute().iloc[0]
    for i, s in enumerate(scans):
        s.pii_candidates = _int(row[f"c{i}"])


def number_values(table: ir.Table, scan: ColumnScan) -> ir.NumericValue:
    column = table[scan.name]
    return column.cast("float64") if scan.kind == "number" else number_text(column.strip())


def _quartiles(table: ir.Table, scans: list[ColumnScan], tukey_k: float) -> None:
    """Quartiles, range and far-out counts of number columns (two aggregates in all)."""
    if not scans:
        return
    aggregates = {}
    for i, s in enumerate(scans):
        values = number_values(table, s)
        aggregates[f"c{i}_q"] = values.quantile([0.25, 0.75])  # one sort for both
        aggregates[f"c{i}_lo"] = values.min()
        aggregates[f"c{i}_hi"] = values.max()
    row = table.aggregate(**aggregates).execute().iloc[0]
    fenced = {}
    for i, s in enumerate(scans):
        quartiles = row[f"c{i}_q"]
        if quartiles is not None and len(quartiles) == 2:
            s.q1, s.q3 = _float(quartiles[0]), _float(quartiles[1])
        s.minimum, s.maximum = _float(row[f"c{i}_lo"]), _float(row[f"c{i}_hi"])
        if s.q1 is None or s.q3 is None:
            continue
        iqr = s.q3 - s.q1
        if iqr > 0 and s.distinct > 10:  # codes and flags (0/1, 1-5) have no outliers
            fenced[i] = (s.q1 - tukey_k * iqr, s.q3 + tukey_k * iqr)
    if not fenced:
        return
    aggregates = {}
    for i, (low, high) in fenced.items():
        values = number_values(table, scans[i])
        aggregates[f"c{i}"] = ((values < low) | (values > high)).sum()
    row = table.aggregate(**aggregates).execute().iloc[0]
    for i in fenced:
        scans[i].outliers = _int(row[f"c{i}"])


def scan_table(table: ir.Table, tukey_k: float = 3.0) -> TableScan:
    """All single-column counts of ``table``; see the module docstring for the query plan."""
    scans = {
        name: ColumnScan(name, str(dtype), storage_kind(dtype))
        for name, dtype in table.schema().items()
    }
    rows = _typed_aggregate(table, scans)
    # Lists, structs and JSON ("other") are profiled as their text form.
    _text_aggregates(table, [s for s in scans.values() if s.kind in ("text", "other")])
    long_integers = [
        s
        for s in scans.values()
        if s.kind == "number"
        and "int" in s.storage
        and s.maximum is not None
        and s.maximum >= PII_INTEGER_MIN
    ]
    _pii_in_integers(table, long_integers)
    scan = TableScan(rows, scans)
    number_columns = [
        s
        for s in scans.values()
        if s.kind == "number" or (s.kind == "text" and scan.number_share(s) >= MOSTLY)
    ]
    _quartiles(table, number_columns, tukey_k)
    return scan
