"""Audit one estate: findings per source, dimension scores, Data Readiness Level, go/no-go.

Scores are 0-100 per dimension (completeness, uniqueness, validity, consistency, timeliness,
accuracy when a gold sample is given, accessibility, privacy). Findings carry a severity;
"blocking" findings stop the gate and are listed first, in plain language.

Data Readiness Levels follow Lawrence (2017): band C is about access (the data exists, can be
read, its owner and privacy constraints are known), band B about faithfulness (its gaps,
duplicates and invalid values are measured and acceptable), band A about fitness for one task,
which no generic audit can certify (Chapter 3 checks it for a decision).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pilot2prod.audit import pii as pii_scan
from pilot2prod.audit.profile import duplicate_keys, duplicate_rows, profile_from_scan
from pilot2prod.audit.relations import freshness, read_latency
from pilot2prod.audit.scan import TableScan, scan_table
from pilot2prod.audit.sources import OpenedSource
from pilot2prod.audit.validity import TUKEY_K, validity_from_scan

SEVERITY_ORDER = {"blocking": 0, "major": 1, "minor": 2, "info": 3}
DIMENSIONS = (
    "completeness",
    "uniqueness",
    "validity",
    "consistency",
    "timeliness",
    "accuracy",
    "accessibility",
    "privacy",
)


@dataclass(frozen=True)
class Finding:
    source: str
    dimension: str
    severity: str
    message: str
    column: str | None = None
    value: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SourceAudit:
    name: str
    rows: int | None = None
    columns: int | None = None
    scores: dict[str, float | None] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    profile: pd.DataFrame | None = None
    validity: pd.DataFrame | None = None
    personal_data: dict[str, dict] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def band(self) -> str:
        """Lawrence's band reached: below C, C or B (A needs a task-specific check)."""
        if self.scores.get("accessibility", 0) == 0:
            return "below C"
        blocking = {f.dimension for f in self.findings if f.severity == "blocking"}
        if blocking & {"accessibility", "privacy"}:
            return "below C"
        if blocking:
            return "C"
        return "B"


def _missing_findings(
    name: str, profile: pd.DataFrame, required: tuple[str, ...] = ()
) -> list[Finding]:
    """Gaps by column. Half empty blocks only a column the analysis requires; an optional
    field (a sparse survey score, say) is a major finding, not a stop."""
    out = []
    for row in profile.itertuples():
        share = row.missing_share
        if share >= 0.5 and row.column in required:
            severity = "blocking"
        elif share >= 0.5:
            severity = "major"
        elif share >= 0.2:
            severity = "major"
        elif share >= 0.05:
            severity = "minor"
        else:
            continue
        parts = [
            f"{n} {label}"
            for n, label in (
                (row.nulls, "empty"),
                (row.blanks, "blank"),
                (row.placeholders, "placeholder"),
            )
            if n
        ]
        out.append(
            Finding(
                name,
                "completeness",
                severity,
                f"'{row.column}' is missing in {share:.0%} of rows ({', '.join(parts)}).",
                row.column,
                share,
            )
        )
    return out


def _validity_findings(name: str, validity: pd.DataFrame, rows: int) -> list[Finding]:
    out = []
    for v in validity.itertuples():
        if v.mixed_types:
            out.append(
                Finding(
                    name,
                    "validity",
                    "major",
                    f"'{v.column}' mixes types: {v.numeric_share:.0%} numbers, "
                    f"{v.date_share:.0%} dates, the rest text.",
                    v.column,
                )
            )
        if len(v.date_formats) > 1:
            formats = ", ".join(f"{k} ({n})" for k, n in v.date_formats.items())
            out.append(
                Finding(
                    name,
                    "validity",
                    "major",
                    f"'{v.column}' holds dates in {len(v.date_formats)} formats: {formats}.",
                    v.column,
                    float(len(v.date_formats)),
                )
            )
        if v.numbers_as_text:
            out.append(
                Finding(
                    name, "validity", "minor", f"'{v.column}' stores numbers as text.", v.column
                )
            )
        if v.outliers and rows and v.outliers / rows >= 0.001:
            out.append(
                Finding(
                    name,
                    "validity",
                    "minor",
                    f"'{v.column}' has {v.outliers} far-out values (outside "
                    "3 IQR of the quartiles).",
                    v.column,
                    float(v.outliers),
                )
            )
        if v.constant:
            out.append(
                Finding(
                    name,
                    "validity",
                    "info",
                    f"'{v.column}' has a single value in every row.",
                    v.column,
                )
            )
    return out


def _newest_typed(scan: TableScan, columns: list[str]) -> dict[str, object]:
    """Newest values the scan already has (timestamp columns), so freshness skips them."""
    return {
        c: scan.columns[c].newest
        for c in columns
        if c in scan.columns and scan.columns[c].kind == "temporal"
    }


def audit_source(
    opened: OpenedSource,
    now: pd.Timestamp,
    key: str | None = None,
    default_region: str | None = None,
    required: tuple[str, ...] = (),
) -> SourceAudit:
    """Every single-source check on one opened source. ``key`` names its identifier column,
    ``required`` the columns an analysis cannot do without."""
    spec, table = opened.spec, opened.table
    audit = SourceAudit(spec.name)
    latency = opened.latency or read_latency(table)
    scan = scan_table(table, TUKEY_K)
    profile = profile_from_scan(scan)
    rows = scan.rows
    audit.rows, audit.columns = rows, len(table.columns)
    audit.profile = profile
    audit.validity = validity_from_scan(scan, opened.declared_types)
    audit.findings += _missing_findings(spec.name, profile, required)
    audit.findings += _validity_findings(spec.name, audit.validity, rows)
    if rows == 0:
        audit.findings.append(
            Finding(spec.name, "completeness", "blocking", "The source has a header but no rows.")
        )
    dups = duplicate_rows(table, rows) if rows else 0
    dup_keys = duplicate_keys(table, key) if key and key in table.columns else 0
    if dups:
        audit.findings.append(
            Finding(
                spec.name,
                "uniqueness",
                "major" if dups / rows >= 0.01 else "minor",
                f"{dups} rows repeat another row exactly.",
                None,
                float(dups),
            )
        )
    if dup_keys:
        audit.findings.append(
            Finding(
                spec.name,
                "uniqueness",
                "blocking" if dup_keys / rows >= 0.01 else "major",
                f"{dup_keys} rows reuse a value of the key '{key}'.",
                key,
                float(dup_keys),
            )
        )
    if spec.freshness_column is None:
        dates = [v.column for v in audit.validity.itertuples() if v.inferred_type == "date"]
    else:
        dates = [spec.freshness_column] if spec.freshness_column in table.columns else []
    fresh = freshness(table, dates, now, spec.refresh_days, known=_newest_typed(scan, dates))
    if fresh.stale:
        severity = "blocking" if fresh.lag_days > 2 * (fresh.refresh_days or 0) else "major"
        audit.findings.append(
            Finding(
                spec.name,
                "timeliness",
                severity,
                f"The newest record ({fresh.column}, {fresh.newest:%Y-%m-%d}) is "
                f"{fresh.lag_days:.0f} days old; the owner expects a refresh every "
                f"{fresh.refresh_days:g} days.",
                fresh.column,
                fresh.lag_days,
            )
        )
    for column in scan.columns.values():
        if column.pii_candidates:
            found = pii_scan.scan_column(
                table,
                column.name,
                default_region,
                candidates=column.pii_candidates,
                distinct=column.distinct,
            )
            if found:
                audit.personal_data[column.name] = found
    if audit.personal_data and not spec.privacy_notes:
        kinds = sorted({k for found in audit.personal_data.values() for k in found})
        audit.findings.append(
            Finding(
                spec.name,
                "privacy",
                "blocking",
                f"Personal data ({', '.join(kinds)}) in {len(audit.personal_data)} column(s) "
                f"({', '.join(audit.personal_data)}) and no recorded legal basis or privacy "
                "note for this use.",
                None,
                float(len(audit.personal_data)),
            )
        )
    if not spec.owner:
        audit.findings.append(
            Finding(
                spec.name, "accessibility", "major", "Nobody is named as the owner of this source."
            )
        )
    cells = max(1, rows * len(table.columns))
    missing_share = float(profile["missing"].sum()) / cells if len(profile) else 0.0
    invalid_columns = sum(
        1
        for f in audit.findings
        if f.dimension == "validity" and f.severity in ("major", "blocking")
    )
    audit.scores = {
        "completeness": 100 * (1 - missing_share),
        "uniqueness": 100 * (1 - min(1.0, (dups + dup_keys) / rows)) if rows else None,
        "validity": 100 * (1 - invalid_columns / max(1, len(table.columns))),
        "consistency": None,  # cross-field and cross-source rules update this
        "timeliness": (
            None
            if fresh.lag_days is None or fresh.refresh_days is None
            else 100 * min(1.0, fresh.refresh_days / max(fresh.lag_days, 1e-9))
        ),
        "accuracy": None,
        "accessibility": 100.0 if spec.owner else 70.0,
        "privacy": (100.0 if not audit.personal_data else 80.0 if spec.privacy_notes else 30.0),
    }
    audit.details = {
        "latency": asdict(latency),
        "freshness": {
            "column": fresh.column,
            "newest": str(fresh.newest) if fresh.newest is not None else None,
            "lag_days": fresh.lag_days,
            "refresh_days": fresh.refresh_days,
        },
        "audited_at": str(now),
        "size_bytes": opened.size_bytes,
        "backend": opened.backend,
        "location": spec.display_location,
        "owner": spec.owner,
        "kind": spec.kind,
    }
    return audit


def add_consistency(audit: SourceAudit, rule: str, violations: int) -> None:
    """Record a cross-field or cross-source rule's violations on a source."""
    rows = audit.rows or 0
    share = violations / rows if rows else 0.0
    if violations:
        audit.findings.append(
            Finding(
                audit.name,
                "consistency",
                "blocking" if share >= 0.05 else "major" if share >= 0.01 else "minor",
                f"{violations} rows break the rule: {rule}.",
                None,
                float(violations),
            )
        )
    previous = audit.scores.get("consistency")
    score = 100 * (1 - share)
    audit.scores["consistency"] = score if previous is None else min(previous, score)


def failed_source(name: str, reason: str) -> SourceAudit:
    audit = SourceAudit(name)
    audit.scores = {d: None for d in DIMENSIONS} | {"accessibility": 0.0}
    audit.findings.append(
        Finding(name, "accessibility", "blocking", f"The source could not be read: {reason}.")
    )
    return audit


@dataclass
class Scorecard:
    sources: list[SourceAudit]

    def table(self) -> pd.DataFrame:
        """Sources as rows, dimensions as columns (0-100, empty where not measured)."""
        rows = []
        for s in self.sources:
            row = {"source": s.name, **{d: s.scores.get(d) for d in DIMENSIONS}}
            present = [v for v in row.values() if isinstance(v, float | int)]
            row["overall"] = float(np.mean(present)) if present else None
            row["band"] = s.band
            rows.append(row)
        return pd.DataFrame(rows)

    def findings(self) -> pd.DataFrame:
        items = [f.as_dict() for s in self.sources for f in s.findings]
        frame = pd.DataFrame(
            items, columns=["source", "dimension", "severity", "message", "column", "value"]
        )
        order = frame["severity"].map(SEVERITY_ORDER)
        return (
            frame.assign(_o=order)
            .sort_values(["_o", "source"], kind="stable")
            .drop(columns="_o")
            .reset_index(drop=True)
        )

    @property
    def go(self) -> bool:
        return not any(f.severity == "blocking" for s in self.sources for f in s.findings)

    def gate(self) -> str:
        """The go/no-go decision in plain language, blocking findings first."""
        blocking = self.findings().query("severity == 'blocking'")
        if blocking.empty:
            return (
                "GO: no blocking findings. Every readable source reaches band B; fitness "
                "for the specific decision (band A) is checked in Chapter 3."
            )
        lines = [f"NO-GO: {len(blocking)} blocking finding(s) to resolve first:"]
        lines += [f"- {row.source}: {row.message}" for row in blocking.itertuples()]
        return "\n".join(lines)
