"""A data contract per source: a pandera schema inferred from the audit, tightened by its
findings, saved as YAML, used later to validate production inputs.

Tightening means the contract asks for what the data *should* be, not what it was, so that it
never validates a defect the audit found: a key with duplicates becomes ``unique``; a required
column with gaps becomes non-nullable; a date column seen in several formats must be ISO 8601;
a number must stay within the range of its plausible values (sentinels such as 999 and far-out
values left out, never below zero when it is otherwise never negative); a category may take
only its usual spellings (placeholders such as "unknown" and rare variant spellings left out).
Personal data never becomes a list of allowed values.
"""

from __future__ import annotations

from pathlib import Path

import ibis

from pilot2prod.audit.findings import SourceAudit
from pilot2prod.audit.relations import ISO_TIME
from pilot2prod.audit.scan import aggregate_row, trimmed
from pilot2prod.lazy import import_pandera

pa = import_pandera()

MAX_ENUM = 20


def build_contract(
    table: ibis.Table,
    audit: SourceAudit,
    key: str | None = None,
    required: tuple[str, ...] = (),
    max_enum: int = MAX_ENUM,
) -> pa.DataFrameSchema:
    """The contract for one audited source (columns as read from the source as text or
    typed values; ``coerce`` turns them into the contract's types)."""
    validity = audit.validity.set_index("column")
    profile = audit.profile.set_index("column")
    personal = set(audit.personal_data)
    ranges = plausible_ranges(table, audit)
    columns = {}
    for name in table.columns:
        v, p = validity.loc[name], profile.loc[name]
        checks = []
        nullable = bool(p["missing"] > 0) and name not in required and name != key
        if v["inferred_type"] == "number":
            dtype = "float64"
            if name in ranges:
                checks.append(pa.Check.in_range(*ranges[name]))
        elif v["inferred_type"] == "boolean":
            dtype = "bool"
        elif v["inferred_type"] == "date":
            dtype = "str"
            checks.append(pa.Check.str_matches(ISO_TIME))  # one format, whatever was seen
        else:
            dtype = "str"
            distinct = int(p["distinct"])
            if 0 < distinct <= max_enum and name not in personal and name != key:
                placeholders = bool(p["placeholders"] > 0)
                checks.append(pa.Check.isin(usual_spellings(table, name, placeholders)))
        columns[name] = pa.Column(
            dtype,
            checks=checks,
            nullable=nullable,
            unique=name == key,
            coerce=True,
            required=True,
            description="personal data" if name in personal else None,
        )
    return pa.DataFrameSchema(columns, name=audit.name, strict=False, coerce=True)


def plausible_ranges(table: ibis.Table, audit: SourceAudit) -> dict[str, tuple[float, float]]:
    """For each number column, the range of its values once sentinels and far-out values are
    left out, widened to zero where the column is otherwise never negative."""
    from pilot2prod.audit.scan import number_text

    validity = audit.validity.set_index("column")
    sentinels = (audit.details or {}).get("sentinels", {})
    never_negative = {
        f.column for f in audit.findings if f.column and "is never negative except" in f.message
    }
    aggregates = {}
    numbers = [n for n in table.columns if validity.loc[n, "inferred_type"] == "number"]
    for i, name in enumerate(numbers):
        column = table[name]
        values = (
            column.cast("float64")
            if column.type().is_numeric()
            else number_text(trimmed(column.cast("string")))
        )
        keep = values.notnull()
        if sentinels.get(name):
            keep &= ~values.isin(sentinels[name])
        low, high = validity.loc[name, "low_fence"], validity.loc[name, "high_fence"]
        if low is not None and high is not None and low == low:
            keep &= values.between(float(low), float(high))
        if name in never_negative:
            keep &= values >= 0
        aggregates[f"lo{i}"] = values.min(where=keep)
        aggregates[f"hi{i}"] = values.max(where=keep)
    if not aggregates:
        return {}
    row = aggregate_row(table, aggregates)
    out = {}
    for i, name in enumerate(numbers):
        lo, hi = row[f"lo{i}"], row[f"hi{i}"]
        if lo is None or hi is None or lo != lo or hi != hi:
            continue
        lo = 0.0 if name in never_negative else float(lo)
        out[name] = (lo, float(hi))
    return out


def usual_spellings(table: ibis.Table, name: str, drop_placeholders: bool = True) -> list[str]:
    """The values of a category column a contract should allow: placeholders left out (where
    the audit counted them as such: NA in a column of region codes is a value), and of several
    spellings of one value ('Closed', 'closed ') only the most frequent."""
    from pilot2prod.audit.relations import SPELLING_NOISE
    from pilot2prod.audit.scan import PLACEHOLDERS

    counts = (
        table.group_by(value=table[name].cast("string"))
        .aggregate(n=ibis._.count())
        .execute()
        .dropna(subset=["value"])
    )
    if drop_placeholders:
        counts = counts[~counts["value"].str.strip().str.lower().isin(PLACEHOLDERS)]
    counts = counts[counts["value"].str.strip() != ""]
    counts["key"] = counts["value"].str.lower().str.replace(SPELLING_NOISE, "", regex=True)
    usual = counts.sort_values("n", ascending=False).drop_duplicates("key")
    return sorted(usual["value"].astype(str))


def save_contract(schema: pa.DataFrameSchema, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    schema.to_yaml(path)
    return path


def load_contract(path: Path) -> pa.DataFrameSchema:
    return pa.DataFrameSchema.from_yaml(Path(path))
