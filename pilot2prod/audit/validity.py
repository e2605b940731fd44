"""Validity of a column as Ibis expressions: inferred type, mixed types, date formats, ranges,
robust outliers, constant and ID-like columns.

Outliers use Tukey's far-out fences: below Q1 - 3 IQR or above Q3 + 3 IQR. The fences rest on
quartiles, so the outliers themselves cannot move them (unlike mean +/- 3 SD), and with k = 3 a
normal sample has about 2 in a million values outside by chance.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import ibis
import pandas as pd

from pilot2prod.audit.relations import iso_time

#: Date shapes seen in exports, each a regular expression on the trimmed text.
DATE_SHAPES = {
    "YYYY-MM-DD": r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$",
    "DD.MM.YYYY": r"^\d{1,2}\.\d{1,2}\.\d{4}$",
    "DD/MM/YYYY or MM/DD/YYYY": r"^\d{1,2}/\d{1,2}/\d{4}$",
    "Month D, YYYY": r"^[A-Za-z]{3,9} \d{1,2}, \d{4}$",
}
# Plain numbers, or thousands grouped with "," (1,234.5) or with "." (1.234,5); not IPs.
NUMBER = r"^[+-]?(\d+([.,]\d+)?|\d{1,3}(,\d{3})+(\.\d+)?|\d{1,3}(\.\d{3})+(,\d+)?)([eE][+-]?\d+)?$"
TUKEY_K = 3.0


@dataclass(frozen=True)
class ColumnValidity:
    column: str
    storage_type: str
    inferred_type: str  # number, date, text, empty
    non_missing: int
    numeric_share: float
    date_share: float
    date_formats: dict[str, int]
    mixed_types: bool
    numbers_as_text: bool
    minimum: float | None
    maximum: float | None
    outliers: int
    low_fence: float | None
    high_fence: float | None
    distinct: int
    constant: bool
    id_like: bool

    def as_dict(self) -> dict:
        return asdict(self)


def _text(column: ibis.Value) -> ibis.Value:
    return column.cast("string").strip()


def column_validity(table: ibis.Table, column: str) -> ColumnValidity:
    """Infer what a column holds and how consistently (three small aggregate queries)."""
    col = table[column]
    storage = str(col.type())
    is_numeric_storage = col.type().is_numeric()
    is_temporal_storage = col.type().is_temporal()
    text = _text(col)
    present = col.notnull() & (text != "")
    aggregates = {
        "non_missing": present.sum(),
        "distinct": col.nunique(),
        "numeric": (present & text.re_search(NUMBER)).sum(),
    }
    for i, pattern in enumerate(DATE_SHAPES.values()):
        aggregates[f"d{i}"] = (present & text.re_search(pattern)).sum()
    row = table.aggregate(**aggregates).execute().iloc[0]
    non_missing = int(row["non_missing"] or 0)
    numeric = int(row["numeric"] or 0)
    formats = {name: int(row[f"d{i}"] or 0) for i, name in enumerate(DATE_SHAPES)}
    dated = sum(formats.values())
    numeric_share = (
        1.0
        if is_numeric_storage and non_missing
        else (numeric / non_missing if non_missing else 0.0)
    )
    date_share = (
        1.0
        if is_temporal_storage and non_missing
        else (dated / non_missing if non_missing else 0.0)
    )
    if non_missing == 0:
        inferred = "empty"
    elif numeric_share >= 0.95:
        inferred = "number"
    elif date_share >= 0.95:
        inferred = "date"
    else:
        inferred = "text"
    typed_share = max(numeric_share, date_share)
    mixed = non_missing > 0 and 0.05 <= typed_share < 0.95
    numbers_as_text = (
        not is_numeric_storage
        and inferred == "number"
        and col.type().is_string()
        and table_is_typed(table)
    )
    minimum = maximum = low = high = None
    outliers = 0
    distinct = int(row["distinct"] or 0)
    if inferred == "number":
        # Only number-shaped text is cast, so engines without TRY_CAST (SQLite) work too.
        values = (
            col
            if is_numeric_storage
            else (
                text.re_search(NUMBER)
                .ifelse(text.re_replace(",", ""), ibis.null("string"))
                .cast("float64")
            )
        )
        q = (
            table.aggregate(
                q1=values.quantile(0.25), q3=values.quantile(0.75), lo=values.min(), hi=values.max()
            )
            .execute()
            .iloc[0]
        )
        minimum, maximum = float(q["lo"]), float(q["hi"])
        iqr = float(q["q3"]) - float(q["q1"])
        low, high = float(q["q1"]) - TUKEY_K * iqr, float(q["q3"]) + TUKEY_K * iqr
        if iqr > 0 and distinct > 10:  # codes and flags (0/1, 1-5) have no outliers
            outliers = int(
                table.aggregate(n=((values < low) | (values > high)).sum()).execute().iloc[0]["n"]
                or 0
            )
    return ColumnValidity(
        column=column,
        storage_type=storage,
        inferred_type=inferred,
        non_missing=non_missing,
        numeric_share=numeric_share,
        date_share=date_share,
        date_formats={k: v for k, v in formats.items() if v},
        mixed_types=mixed,
        numbers_as_text=numbers_as_text,
        minimum=minimum,
        maximum=maximum,
        outliers=outliers,
        low_fence=low,
        high_fence=high,
        distinct=distinct,
        constant=non_missing > 0 and distinct == 1,
        id_like=non_missing >= 50 and distinct == non_missing and inferred != "number",
    )


def table_is_typed(table: ibis.Table) -> bool:
    """True when the source declares types (Parquet, a database), not when every column is
    text by construction (CSV read as text, Excel sheets)."""
    return any(not t.is_string() for t in table.schema().types)


def validity_table(table: ibis.Table) -> pd.DataFrame:
    return pd.DataFrame([column_validity(table, c).as_dict() for c in table.columns])


def consistency_violations(table: ibis.Table, earlier: str, later: str) -> int:
    """Rows where ``later`` is before ``earlier`` (e.g. resolved before created), both set.
    Text timestamps are compared in ISO form, so the check runs in any engine."""
    first, second = iso_time(table[earlier]), iso_time(table[later])
    expr = (first.notnull() & second.notnull() & (second < first)).sum()
    return int(table.aggregate(n=expr).execute().iloc[0]["n"] or 0)
