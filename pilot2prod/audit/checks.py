"""The single-source checks: each is a small function from measurements to a :class:`Check`
(findings, scores, details). :func:`audit_source` runs one scan of the table and then each check.
"""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from pilot2prod.audit import pii as pii_scan
from pilot2prod.audit.findings import (
    THRESHOLDS,
    Check,
    Finding,
    SourceAudit,
    duplicate_keys_severity,
    duplicate_rows_severity,
    missing_severity,
    staleness_severity,
    timeliness_score,
)
from pilot2prod.audit.profile import duplicate_keys, duplicate_rows, profile_from_scan
from pilot2prod.audit.relations import Freshness, freshness, read_latency, spelling_variants
from pilot2prod.audit.scan import TableScan, scan_table
from pilot2prod.audit.validity import TUKEY_K, validity_from_scan
from pilot2prod.privacy import mask_value
from pilot2prod.sources import OpenedSource


def completeness(name: str, profile: pd.DataFrame, rows: int, required: tuple[str, ...]) -> Check:
    """Gaps by column (nulls, blanks and placeholders), and the share of empty cells."""
    findings = []
    for row in profile.itertuples():
        severity = missing_severity(row.missing_share, row.column in required)
        if severity is None:
            continue
        parts = [
            f"{n:,} {label}"
            for n, label in (
                (row.nulls, "empty"),
                (row.blanks, "blank"),
                (row.placeholders, "placeholder"),
            )
            if n
        ]
        findings.append(
            Finding(
                name,
                "completeness",
                severity,
                f"'{row.column}' is missing in {row.missing_share:.0%} of rows "
                f"({', '.join(parts)}).",
                row.column,
                row.missing_share,
            )
        )
    if rows == 0:
        findings.append(
            Finding(name, "completeness", "blocking", "The source has a header but no rows.")
        )
    cells = max(1, rows * len(profile))
    missing_share = float(profile["missing"].sum()) / cells if len(profile) else 0.0
    return Check(findings, {"completeness": 100 * (1 - missing_share)})


def _number(value: float | None) -> str:
    """A number for a sentence: thousands grouped, at most three significant decimals."""
    if value is None:
        return "n/a"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.3g}"


def validity(name: str, table: pd.DataFrame, rows: int, columns: int) -> Check:
    """Mixed types, several date formats, numbers kept as text, far-out values, constants."""
    findings = []
    for v in table.itertuples():
        if v.mixed_types:
            findings.append(
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
            formats = ", ".join(f"{k} ({n:,})" for k, n in v.date_formats.items())
            findings.append(
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
            findings.append(
                Finding(
                    name, "validity", "minor", f"'{v.column}' stores numbers as text.", v.column
                )
            )
        if v.outliers and rows and v.outliers / rows >= THRESHOLDS.outliers_reported:
            scale = "on the log scale, " if v.fence_scale == "log" else ""
            worst = (
                f"; the most extreme: {', '.join(_number(x) for x in v.worst)}" if v.worst else ""
            )
            findings.append(
                Finding(
                    name,
                    "validity",
                    "minor",
                    f"'{v.column}' has {v.outliers:,} far-out values ({scale}more than "
                    f"{TUKEY_K:g} IQR beyond the quartiles, outside {_number(v.low_fence)} to "
                    f"{_number(v.high_fence)}{worst}).",
                    v.column,
                    float(v.outliers),
                )
            )
        if v.constant:
            findings.append(
                Finding(
                    name,
                    "validity",
                    "info",
                    f"'{v.column}' has a single value in every row.",
                    v.column,
                )
            )
    invalid = sum(1 for f in findings if f.severity in ("major", "blocking"))
    return Check(findings, {"validity": 100 * (1 - invalid / max(1, columns))})


def uniqueness(name: str, opened: OpenedSource, rows: int) -> Check:
    """Rows that repeat another row exactly, and reuse of the key's values."""
    table, key = opened.table, opened.spec.key or None
    dups = duplicate_rows(table, rows) if rows else 0
    dup_keys = duplicate_keys(table, key) if key and key in table.columns and rows else 0
    findings = []
    if dups:
        findings.append(
            Finding(
                name,
                "uniqueness",
                duplicate_rows_severity(dups / rows),
                f"{dups:,} rows repeat another row exactly.",
                None,
                float(dups),
            )
        )
    if dup_keys:
        findings.append(
            Finding(
                name,
                "uniqueness",
                duplicate_keys_severity(dup_keys / rows),
                f"{dup_keys:,} rows reuse a value of the key '{key}'.",
                key,
                float(dup_keys),
            )
        )
    score = 100 * (1 - min(1.0, (dups + dup_keys) / rows)) if rows else None
    return Check(findings, {"uniqueness": score})


def spelling(name: str, opened: OpenedSource, scan: TableScan, personal: set[str]) -> Check:
    """One value written several ways ('ACME GmbH' / 'Acme Gmbh.'): the same entity or
    category split in two. Examples are masked where the column holds personal data."""
    findings = []
    for column in scan.columns.values():
        if column.kind != "text" or not column.distinct or scan.number_share(column) >= 0.95:
            continue
        found = spelling_variants(opened.table, column.name, examples=3)
        if not found.entities_with_variants:
            continue
        groups = found.examples[:2]
        if column.name in personal:
            groups = [[mask_value(v) for v in g] for g in groups]
        shown = "; ".join(" / ".join(f"'{v}'" for v in g) for g in groups)
        findings.append(
            Finding(
                name,
                "consistency",
                "minor",
                f"'{column.name}' writes {found.entities_with_variants:,} value(s) in several "
                f"spellings ({found.rows_in_variant_groups:,} rows), e.g. {shown}.",
                column.name,
                float(found.entities_with_variants),
            )
        )
    return Check(findings)


def timeliness(name: str, fresh: Freshness, subject: str = "") -> Check:
    """Stale data: the newest record is older than the refresh interval the owner expects.
    ``subject`` names a folder of exports judged by its newest file."""
    details = {
        "freshness": {
            "column": fresh.column,
            "newest": str(fresh.newest) if fresh.newest is not None else None,
            "lag_days": fresh.lag_days,
            "refresh_days": fresh.refresh_days,
        }
    }
    score = timeliness_score(fresh.lag_days, fresh.refresh_days)
    if not fresh.stale:
        return Check([], {"timeliness": score}, details)
    if subject:
        message = (
            f"The newest file of '{subject}' ends {fresh.lag_days:.0f} days ago; a new export is "
            f"expected every {fresh.refresh_days:g} days."
        )
    else:
        message = (
            f"The newest record ({fresh.column}, {fresh.newest:%Y-%m-%d}) is "
            f"{fresh.lag_days:.0f} days old; the owner expects a refresh every "
            f"{fresh.refresh_days:g} days."
        )
    finding = Finding(
        name,
        "timeliness",
        staleness_severity(fresh.lag_days, fresh.refresh_days),
        message,
        fresh.column,
        fresh.lag_days,
    )
    return Check([finding], {"timeliness": score}, details)


def freshness_of(
    opened: OpenedSource, scan: TableScan, dates: list[str], now: pd.Timestamp
) -> Freshness:
    known = {
        c: scan.columns[c].newest
        for c in dates
        if c in scan.columns and scan.columns[c].kind == "temporal"
    }
    return freshness(opened.table, dates, now, opened.spec.refresh_days, known=known)


def personal_data(
    name: str, opened: OpenedSource, scan: TableScan, default_region: str | None
) -> tuple[Check, dict[str, dict]]:
    """Validated personal data by column; blocking without a recorded legal basis."""
    found_by_column = {}
    for column in scan.columns.values():
        if column.pii_candidates:
            found = pii_scan.scan_column(
                opened.table,
                column.name,
                default_region,
                candidates=column.pii_candidates,
                distinct=column.distinct,
            )
            if found:
                found_by_column[column.name] = found
    findings = []
    if found_by_column and not opened.spec.privacy_notes:
        kinds = sorted({k for found in found_by_column.values() for k in found})
        findings.append(
            Finding(
                name,
                "privacy",
                "blocking",
                f"Personal data ({', '.join(kinds)}) in {len(found_by_column)} column(s) "
                f"({', '.join(found_by_column)}) and no recorded legal basis or privacy "
                "note for this use.",
                None,
                float(len(found_by_column)),
            )
        )
    score = 100.0 if not found_by_column else 80.0 if opened.spec.privacy_notes else 30.0
    return Check(findings, {"privacy": score}), found_by_column


def ownership(name: str, opened: OpenedSource) -> Check:
    if opened.spec.owner:
        return Check([], {"accessibility": 100.0})
    finding = Finding(
        name, "accessibility", "major", "Nobody is named as the owner of this source."
    )
    return Check([finding], {"accessibility": 70.0})


def renamed_columns(name: str, opened: OpenedSource) -> Check:
    """Header cells the reader had to rename (repeated or blank names) are reported."""
    if not opened.renamed_columns:
        return Check()
    shown = ", ".join(f"'{k}'" for k in list(opened.renamed_columns)[:5])
    return Check(
        [
            Finding(
                name,
                "validity",
                "major",
                f"The header repeats or leaves out column names ({shown}); the columns were "
                "renamed to be read, so check which is which.",
                None,
                float(len(opened.renamed_columns)),
            )
        ]
    )


def audit_source(
    opened: OpenedSource, now: pd.Timestamp, default_region: str | None = None
) -> SourceAudit:
    """Every single-source check on one opened source: one scan of the table, then each check
    on what it measured."""
    spec, table = opened.spec, opened.table
    audit = SourceAudit(spec.name)
    latency = opened.latency or read_latency(table)
    scan = scan_table(table, TUKEY_K)
    audit.rows, audit.columns = scan.rows, len(table.columns)
    audit.profile = profile_from_scan(scan)
    audit.validity = validity_from_scan(scan, opened.declared_types)
    audit.add(completeness(spec.name, audit.profile, scan.rows, spec.required))
    audit.add(validity(spec.name, audit.validity, scan.rows, audit.columns))
    audit.add(renamed_columns(spec.name, opened))
    audit.add(uniqueness(spec.name, opened, scan.rows))
    if spec.freshness_column is None:
        dates = [v.column for v in audit.validity.itertuples() if v.inferred_type == "date"]
    else:
        dates = [spec.freshness_column] if spec.freshness_column in table.columns else []
    audit.add(timeliness(spec.name, freshness_of(opened, scan, dates, now)))
    privacy, audit.personal_data = personal_data(spec.name, opened, scan, default_region)
    audit.add(privacy)
    audit.add(spelling(spec.name, opened, scan, set(audit.personal_data)))
    audit.add(ownership(spec.name, opened))
    audit.scores.setdefault("consistency", None)  # cross-field and cross-source rules set it
    audit.details.update(
        {
            "latency": asdict(latency),
            "audited_at": str(now),
            "size_bytes": opened.size_bytes,
            "backend": opened.backend,
            "location": spec.display_location,
            "owner": spec.owner,
            "kind": spec.kind,
        }
    )
    return audit
