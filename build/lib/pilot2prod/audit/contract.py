"""A data contract per source: a pandera schema inferred from the audit, tightened by its
findings, saved as YAML, used later to validate production inputs.

Tightening means the contract asks for what the data *should* be, not what it was: a key with
duplicates becomes ``unique``; a required column with gaps becomes non-nullable; a date column
seen in several formats must be ISO 8601; a number must stay within the far-out fences.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import pandera.pandas as pa

from pilot2prod.audit.findings import SourceAudit
from pilot2prod.audit.relations import ISO_TIME

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
    columns = {}
    for name in table.columns:
        v, p = validity.loc[name], profile.loc[name]
        checks = []
        nullable = bool(p["missing"] > 0) and name not in required and name != key
        if v["inferred_type"] == "number":
            dtype = "float64"
            if v["minimum"] is not None and v["maximum"] is not None:
                checks.append(pa.Check.in_range(float(v["minimum"]), float(v["maximum"])))
        elif v["inferred_type"] == "boolean":
            dtype = "bool"
        elif v["inferred_type"] == "date":
            dtype = "str"
            checks.append(pa.Check.str_matches(ISO_TIME))  # one format, whatever was seen
        else:
            dtype = "str"
            distinct = int(p["distinct"])
            if 0 < distinct <= max_enum and name not in personal and name != key:
                values = table.select(name).distinct().execute()[name].dropna().astype(str).tolist()
                checks.append(pa.Check.isin(sorted(values)))
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


def save_contract(schema: pa.DataFrameSchema, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    schema.to_yaml(path)
    return path


def load_contract(path: Path) -> pa.DataFrameSchema:
    return pa.DataFrameSchema.from_yaml(Path(path))
