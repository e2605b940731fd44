"""The single-source checks: each is a small function from measurements to a :class:`Check`
(findings, scores, details). :func:`audit_source` runs one scan of the table and then each check.
"""

from __future__ import annotations

import re
from dataclasses import asdict

import ibis
import pandas as pd

from pilot2prod.audit import pii as pii_scan
from pilot2prod.audit import rules
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
from pilot2prod.audit.profile import duplicates, profile_from_scan
from pilot2prod.audit.relations import (
    Freshness,
    SpellingVariants,
    freshness,
    read_latency,
    spelling_variants_by_column,
)
from pilot2prod.audit.scan import (
    MOSTLY,
    NAME_INITIAL,
    NAME_LETTERS,
    TableScan,
    aggregate_row,
    scan_table,
)
from pilot2prod.audit.validity import TUKEY_K, validity_from_scan
from pilot2prod.privacy import mask_value, masked_examples
from pilot2prod.sources import OpenedSource


def completeness(
    name: str,
    profile: pd.DataFrame,
    rows: int,
    required: tuple[str, ...],
    structural: set[str] = frozenset(),
    groups: list[list[str]] = (),
) -> Check:
    """Gaps by column (nulls, blanks and placeholders), and the share of empty cells. Columns
    empty together are one gap, reported once; structural gaps (the field does not apply) are
    not missing data."""
    findings = []
    grouped = {c: group for group in groups for c in group}
    for row in profile.itertuples():
        if row.column in structural:
            continue
        group = grouped.get(row.column)
        if group is not None and row.column != group[0]:
            continue  # reported with the first column of its group
        is_required = row.column in required or any(c in required for c in group or ())
        severity = missing_severity(row.missing_share, is_required)
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
        rule = "missing_values"
        if group is not None:
            rule = "missing_together"
            subject = f"{', '.join(repr(c) for c in group)} are missing together, in the same"
            message = f"{subject} {row.missing_share:.0%} of rows: one gap, not {len(group)}."
        else:
            message = (
                f"'{row.column}' is missing in {row.missing_share:.0%} of rows "
                f"({', '.join(parts)})."
            )
        findings.append(
            Finding(
                name, "completeness", severity, message, row.column, row.missing_share, rule=rule
            )
        )
    if rows == 0:
        findings.append(
            Finding(
                name,
                "completeness",
                "blocking",
                "The source has a header but no rows.",
                rule="no_rows",
            )
        )
    counted = profile[~profile["column"].isin(structural)]
    cells = max(1, rows * len(counted))
    missing_share = float(counted["missing"].sum()) / cells if len(counted) else 0.0
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
                    rule="mixed_types",
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
                    rule="date_formats",
                )
            )
        if v.numbers_as_text:
            findings.append(
                Finding(
                    name,
                    "validity",
                    "minor",
                    f"'{v.column}' stores numbers as text.",
                    v.column,
                    rule="numbers_as_text",
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
                    rule="outliers",
                )
            )
        if v.constant:
            empty = rows - v.non_missing
            where = (
                f"wherever it is filled in ({empty:,} rows empty)" if empty > 0 else "in every row"
            )
            findings.append(
                Finding(
                    name,
                    "validity",
                    "info",
                    f"'{v.column}' has a single value {where}.",
                    v.column,
                    rule="constant",
                )
            )
    invalid = sum(1 for f in findings if f.severity in ("major", "blocking"))
    return Check(findings, {"validity": 100 * (1 - invalid / max(1, columns))})


def uniqueness(name: str, opened: OpenedSource, rows: int) -> Check:
    """Rows that repeat another row exactly, and reuse of the key's values."""
    table, key = opened.table, opened.spec.key or None
    dups, dup_keys = duplicates(table, rows, key if key in table.columns else None)
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
                rule="duplicate_rows",
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
                rule="duplicate_keys",
            )
        )
    score = 100 * (1 - min(1.0, (dups + dup_keys) / rows)) if rows else None
    return Check(findings, {"uniqueness": score}, {"duplicate_rows": dups})


def spelling_candidates(scan: TableScan) -> list[str]:
    """Text columns whose values may be one category written several ways (not numbers kept
    as text)."""
    return [
        column.name
        for column in scan.columns.values()
        if column.kind == "text" and column.distinct and scan.number_share(column) < 0.95
    ]


def spelling(name: str, variants: dict[str, SpellingVariants], personal: set[str]) -> Check:
    """One value written several ways ('ACME GmbH' / 'Acme Gmbh.'): the same entity or
    category split in two. ``variants``: :func:`spelling_variants_by_column` of the
    :func:`spelling_candidates`. Examples are masked where the column holds personal data."""
    findings = []
    for column in variants:
        found = variants[column]
        if not found.entities_with_variants:
            continue
        groups = found.examples[:2]
        if column in personal:
            groups = [[mask_value(v) for v in g] for g in groups]
        shown = "; ".join(" / ".join(f"'{v}'" for v in g) for g in groups)
        findings.append(
            Finding(
                name,
                "consistency",
                "minor",
                f"'{column}' writes {found.entities_with_variants:,} value(s) in several "
                f"spellings ({found.rows_in_variant_groups:,} rows), e.g. {shown}.",
                column,
                float(found.entities_with_variants),
                rule="spelling_variants",
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
        rule="stale",
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


#: Column names that hold a person's name (a product or company name does not qualify).
PERSON_NAME_COLUMN = re.compile(
    r"^(first|last|given|family|middle|maiden|full|sur|contact|customer|client|agent|employee"
    r"|patient|person|user|owner|requester|assignee)?[ _-]?(name|surname|forename)s?$"
    r"|^(surname|forename|vorname|nachname|nom|prenom)$",
    re.IGNORECASE,
)
#: Share of a column's values that must look like names for it to count as personal names.
NAME_SHARE = 0.8
#: A column name that says whose name it is, after any prefix (fake_first_name, billing_last_name):
#: its values count as names in any case ('penny' as well as 'Penny').
QUALIFIED_NAME_COLUMN = re.compile(
    r"(^|[ _-])(first|last|given|family|middle|maiden|full|sur|contact|customer|client|employee"
    r"|patient|person)[ _-]?(name|surname|forename)s?$",
    re.IGNORECASE,
)
WORDS = (
    rf"^[{NAME_INITIAL}{NAME_LETTERS}][{NAME_INITIAL}{NAME_LETTERS}'.-]*"
    rf"( [{NAME_INITIAL}{NAME_LETTERS}][{NAME_INITIAL}{NAME_LETTERS}'.-]*)*$"
)
#: Words of the names of places and organisations that (almost) no personal name holds; common
#: surnames among them (Park, West, Hill, Lake) are left out, so a list of people keeps its names.
NOT_PERSONAL_WORDS = (
    "airport|intl|international|field|rgnl|regional|muni|municipal|municipality|afb|county|city"
    "|town|township|village|falls|valley|bay|island|islands|shores|heights|highlands|springs"
    "|creek|river|mount|fort|port|harbour|harbor|beach|district|region|province|state|republic"
    "|kingdom|united|federation|inc|ltd|llc|gmbh|corp|corporation|company|bank|university"
    "|college|school|hospital|clinic|center|centre|hotel|station|street|road|avenue|the|of|and"
)
NOT_PERSONAL = rf"(^|[^a-z])({NOT_PERSONAL_WORDS})([^a-z]|$)"
#: Share of a name column's rows holding such a word that makes it a column of places or
#: organisations (a column of airports, towns or companies called ``name``).
NOT_PERSONAL_SHARE = 0.05


def person_names(table, scan: TableScan) -> dict[str, dict]:  # noqa: ANN001
    """Columns of personal names: named like one (first_name, surname, customer_name) and
    filled with capitalised words, few of which name a place or an organisation ("Sterling
    Municipal Airport", "Kirkland Lake", "Acme Ltd"). Counted exactly; samples masked."""
    found = {}
    for c in scan.columns.values():
        present = scan.present(c)
        if c.kind != "text" or not present:
            continue
        qualified = QUALIFIED_NAME_COLUMN.search(c.name.strip())
        if not (qualified or PERSON_NAME_COLUMN.match(c.name.strip())):
            continue
        values = scan.values.of(c.name)
        names = c.name_shaped
        if names / present < NAME_SHARE and qualified:
            words = values.filter(values.text.re_search(WORDS))
            names = int(aggregate_row(words, {"n": words.n.sum()})["n"] or 0)
        if names / present < NAME_SHARE:
            continue
        places = values.filter(values.text.lower().re_search(NOT_PERSONAL))
        if int(aggregate_row(places, {"n": places.n.sum()})["n"] or 0) >= (
            NOT_PERSONAL_SHARE * present
        ):
            continue
        known = values.filter(values.value.notnull())
        sample = known.select("value").order_by("value").limit(3).execute()["value"]
        found[c.name] = {
            "person_name": {
                "candidates": present,
                "validated_share": names / present,
                "values": names,
                "exact": True,
                "masked_samples": masked_examples(sample.dropna()),
            }
        }
    return found


def region_from_columns(table, scan: TableScan) -> tuple[str | None, str]:  # noqa: ANN001
    """The most frequent country of a column of two-letter country codes, if there is one."""
    import phonenumbers

    for c in scan.columns.values():
        if c.kind != "text" or "country" not in c.name.lower() or not scan.present(c):
            continue
        values = scan.values.of(c.name)
        top = (
            values.group_by(v=values.text.upper())
            .aggregate(n=values.n.sum())
            .order_by([ibis.desc("n"), "v"])
            .limit(1)
            .execute()
        )
        if len(top) and str(top["v"].iloc[0]) in phonenumbers.SUPPORTED_REGIONS:
            return str(top["v"].iloc[0]), f"inferred from column '{c.name}'"
    return None, ""


def personal_data(
    name: str, opened: OpenedSource, scan: TableScan, default_region: str | None
) -> tuple[Check, dict[str, dict]]:
    """Validated personal data by column; blocking without a recorded legal basis."""
    region, source = (default_region, "given") if default_region else (None, "")
    if region is None:
        region, source = region_from_columns(opened.table, scan)
    found_by_column = {}
    for column in scan.columns.values():
        present = scan.present(column)
        # A column of dates written as text (2016-11-03) is not a column of phone numbers.
        dates = sum(column.date_shapes.values()) / present if present else 0.0
        if column.pii_candidates and dates < MOSTLY:
            found = pii_scan.scan_column(
                opened.table,
                column.name,
                region,
                candidates=column.pii_candidates,
                distinct=column.distinct,
                values=scan.values.of(column.name) if column.kind in ("text", "other") else None,
            )
            if found:
                if "phone" in found and region:
                    found["phone"]["region"] = f"{region} ({source})"
                found_by_column[column.name] = found
    for column, found in person_names(opened.table, scan).items():
        found_by_column.setdefault(column, {}).update(found)
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
                rule="personal_data",
            )
        )
    score = 100.0 if not found_by_column else 80.0 if opened.spec.privacy_notes else 30.0
    return Check(findings, {"privacy": score}), found_by_column


def ownership(name: str, opened: OpenedSource) -> Check:
    if opened.spec.owner:
        return Check([], {"accessibility": 100.0})
    finding = Finding(
        name,
        "accessibility",
        "major",
        "Nobody is named as the owner of this source.",
        rule="no_owner",
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
                rule="renamed_columns",
            )
        ]
    )


def audit_source(
    opened: OpenedSource,
    now: pd.Timestamp,
    default_region: str | None = None,
    earliest: pd.Timestamp | None = None,
) -> SourceAudit:
    """Every single-source check on one opened source: one scan of the table, then each check
    on what it measured. ``earliest``: timestamps before it are implausible (when the company
    was founded)."""
    scan = scan_table(opened.table, TUKEY_K, opened.scratch)
    try:
        return _audit_scanned(opened, scan, now, default_region, earliest)
    finally:
        if scan.values is not None:
            scan.values.release()


def _audit_scanned(
    opened: OpenedSource,
    scan: TableScan,
    now: pd.Timestamp,
    default_region: str | None,
    earliest: pd.Timestamp | None,
) -> SourceAudit:
    spec, table = opened.spec, opened.table
    audit = SourceAudit(spec.name)
    latency = opened.latency or read_latency(table)
    audit.rows, audit.columns = scan.rows, len(table.columns)
    audit.profile = profile_from_scan(scan)
    audit.validity = validity_from_scan(scan, opened.declared_types)
    structural_gaps, structural, together = rules.gaps(spec.name, table, scan, audit.profile)
    audit.add(
        completeness(spec.name, audit.profile, scan.rows, spec.required, structural, together)
    )
    audit.add(structural_gaps)
    audit.add(validity(spec.name, audit.validity, scan.rows, audit.columns))
    audit.add(renamed_columns(spec.name, opened))
    unique = uniqueness(spec.name, opened, scan.rows)
    audit.add(unique)
    # Spelling variants first: a text column without any (no two values equal once case and
    # punctuation are ignored) cannot make rows near-duplicates, and is compared as written.
    variants = spelling_variants_by_column(
        table, spelling_candidates(scan), examples=3, values=scan.values
    )
    varied = {c for c, v in variants.items() if v.entities_with_variants}
    text = {c.name for c in scan.columns.values() if c.kind == "text"}
    audit.add(
        rules.near_duplicates(
            spec.name,
            table,
            scan,
            int(unique.details["duplicate_rows"]),
            normalise=varied | (text - set(variants)),
        )
    )
    audit.add(rules.negatives(spec.name, table, scan))
    sentinel_check, sentinel_values = rules.sentinels(spec.name, table, scan)
    audit.add(sentinel_check)
    audit.details["sentinels"] = sentinel_values
    declared = {tuple(rule) for rule in spec.order_rules}
    audit.add(rules.time_order(spec.name, table, scan, audit.validity, now, declared, earliest))
    if spec.freshness_column is None:
        dates = [v.column for v in audit.validity.itertuples() if v.inferred_type == "date"]
    else:
        dates = [spec.freshness_column] if spec.freshness_column in table.columns else []
    audit.add(timeliness(spec.name, freshness_of(opened, scan, dates, now)))
    privacy, audit.personal_data = personal_data(spec.name, opened, scan, default_region)
    audit.add(privacy)
    audit.add(spelling(spec.name, variants, set(audit.personal_data)))
    audit.add(rules.shapes(spec.name, table, scan, set(audit.personal_data)))
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
