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
from pilot2prod.audit.scan import CODE_VALUES, MOSTLY, ColumnScan, TableScan

TUKEY_K = 3.0


@dataclass(frozen=True)
class ColumnValidity:
    column: str
    storage_type: str
    inferred_type: str  # number, date, boolean, text, empty
    non_missing: int
    numeric_share: float
    date_share: float
    date_formats: dict[str, int]
    mixed_types: bool
    numbers_as_text: bool
    minimum: float | None
    maximum: float | None
    outliers: int
    fence_scale: str
    low_fence: float | None
    high_fence: float | None
    worst: list[float]
    distinct: int
    constant: bool
    id_like: bool

    def as_dict(self) -> dict:
        return asdict(self)


def validity_from_scan(scan: TableScan, declared_types: bool) -> pd.DataFrame:
    """One row per column (see :class:`ColumnValidity`). ``declared_types`` says whether the
    source stores types (Parquet, JSON, a database), so that numbers kept as text are a
    finding, or not (CSV, Excel: every value is text there)."""
    return pd.DataFrame(
        [_column_validity(scan, c, declared_types).as_dict() for c in scan.columns.values()],
        columns=list(ColumnValidity.__dataclass_fields__),
    )


def _numbers_among_codes(c: ColumnScan, numeric_share: float) -> bool:
    """A column of a few codes in which numbers are the minority ("4" beside "f" and "r" for a
    car's drive): its numbers are codes too, not a mix of types. Where numbers are the rule, a
    word among them is still a mix ("net thirty" among 14, 30 and 60 days)."""
    return not c.distinct_estimated and c.distinct <= CODE_VALUES and numeric_share < 0.5


def _column_validity(scan: TableScan, c: ColumnScan, declared_types: bool) -> ColumnValidity:
    non_missing = scan.present(c)
    if c.kind in ("text", "other"):
        numeric_share = scan.number_share(c)
        date_share = sum(c.date_shapes.values()) / non_missing if non_missing else 0.0
    else:
        numeric_share = 1.0 if c.kind == "number" and non_missing else 0.0
        date_share = 1.0 if c.kind == "temporal" and non_missing else 0.0
    if non_missing == 0:
        inferred = "empty"
    elif numeric_share >= MOSTLY:
        inferred = "number"
    elif date_share >= MOSTLY:
        inferred = "date"
    elif c.kind == "boolean":
        inferred = "boolean"
    else:
        inferred = "text"
    typed_share = max(numeric_share, date_share)
    return ColumnValidity(
        column=c.name,
        storage_type=c.storage,
        inferred_type=inferred,
        non_missing=non_missing,
        numeric_share=numeric_share,
        date_share=date_share,
        date_formats=dict(c.date_shapes) if c.kind == "text" else {},
        mixed_types=non_missing > 0
        and 1 - MOSTLY <= typed_share < MOSTLY
        and not _numbers_among_codes(c, numeric_share),
        numbers_as_text=declared_types and c.kind == "text" and inferred == "number",
        minimum=c.minimum if inferred == "number" else None,
        maximum=c.maximum if inferred == "number" else None,
        outliers=c.outliers,
        fence_scale=c.fence_scale,
        low_fence=c.low_fence,
        high_fence=c.high_fence,
        worst=list(c.worst),
        distinct=c.distinct,
        constant=non_missing > 0 and c.distinct == 1 and not c.distinct_estimated,
        id_like=non_missing >= 50 and c.distinct == non_missing and inferred != "number",
    )


def consistency_violations(table: ibis.Table, earlier: str, later: str) -> int:
    """Rows where ``later`` is before ``earlier`` (e.g. resolved before created), both set.
    Text timestamps are compared in ISO form, so the check runs in any engine."""
    first, second = iso_time(table[earlier]), iso_time(table[later])
    expr = (first.notnull() & second.notnull() & (second < first)).sum()
    return int(table.aggregate(n=expr).execute().iloc[0]["n"] or 0)
