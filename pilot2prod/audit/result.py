"""Chapter 2 as a whole: open the estate, check each source, check across sources, score, and
write audit.json, a data contract and a datasheet draft per source."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pilot2prod.audit.checks import audit_source, timeliness
from pilot2prod.audit.contract import build_contract, save_contract
from pilot2prod.audit.datasheet import datasheet
from pilot2prod.audit.findings import Finding, SourceAudit
from pilot2prod.audit.params import Parameters
from pilot2prod.audit.relations import Freshness, key_coverage
from pilot2prod.audit.scorecard import Scorecard, add_consistency, failed_source
from pilot2prod.audit.validity import consistency_violations
from pilot2prod.chapter import Headline
from pilot2prod.errors import DataSourceError
from pilot2prod.jsonable import to_jsonable
from pilot2prod.sources import Estate, OpenedSource, open_estate, spec_of_reference
from pilot2prod.sources import summary as estate_summary
from pilot2prod.sources.formats import READABLE

RELATION_COLUMNS = [
    "source",
    "column",
    "refers_to",
    "key",
    "rows",
    "orphan_rows",
    "orphan_keys",
    "orphan_share",
]


@dataclass
class Result:
    params: Parameters
    estate: Estate
    audits: dict[str, SourceAudit]
    scorecard: Scorecard
    relations: list[dict[str, Any]]
    now: pd.Timestamp

    def inventory(self) -> pd.DataFrame:
        table = estate_summary(self.estate)
        table["rows"] = table["source"].map({n: a.rows for n, a in self.audits.items()})
        table["columns"] = table["source"].map({n: a.columns for n, a in self.audits.items()})
        return table

    def profiles(self) -> pd.DataFrame:
        """Every column's completeness, with its source."""
        frames = [
            a.profile.assign(source=name)
            for name, a in self.audits.items()
            if a.profile is not None
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def relations_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.relations, columns=RELATION_COLUMNS)

    def freshness_table(self) -> pd.DataFrame:
        """Newest record and its age per source; a folder of exports appears once, as its
        newest file, under the folder's name."""
        newest_member = {
            group: newest.spec.name
            for group, members in groups(self.estate).items()
            if (newest := _newest_member(members, self.audits)) is not None
        }
        member_of = {o.spec.name: g for g, members in groups(self.estate).items() for o in members}
        rows = []
        for name, a in self.audits.items():
            group = member_of.get(name)
            if group is not None and newest_member.get(group) != name:
                continue
            fresh = (a.details or {}).get("freshness") or {}
            if fresh.get("lag_days") is None:
                continue
            rows.append(
                {
                    "source": group or name,
                    "newest": fresh.get("newest"),
                    "lag_days": fresh["lag_days"],
                    "refresh_days": fresh.get("refresh_days"),
                    "stale": any(f.dimension == "timeliness" for f in a.findings),
                }
            )
        return pd.DataFrame(rows, columns=["source", "newest", "lag_days", "refresh_days", "stale"])

    def personal_data_table(self) -> pd.DataFrame:
        """Counts and masked samples only: source, column, kind, values, samples."""
        rows = []
        for name, a in self.audits.items():
            for column, kinds in a.personal_data.items():
                for kind, found in kinds.items():
                    rows.append(
                        {
                            "source": name,
                            "column": column,
                            "kind": kind,
                            "values": found["values"],
                            "counted": "exactly" if found["exact"] else "estimated from a sample",
                            "masked samples": ", ".join(found["masked_samples"]),
                        }
                    )
        columns = ["source", "column", "kind", "values", "counted", "masked samples"]
        return pd.DataFrame(rows, columns=columns)

    def headline(self) -> Headline:
        findings = self.scorecard.findings()
        blocking = findings[findings["severity"] == "blocking"]
        verdict = "GO" if self.scorecard.go else "NO-GO"
        one = len(self.audits) == 1
        if self.scorecard.go:
            sources = "the source" if one else f"the {len(self.audits)} sources"
            answer = (
                f"GO: {sources} can feed the pilot; nothing blocks. Fitness "
                "for the specific decision is checked in Chapter 3."
            )
        else:
            worst = blocking["source"].value_counts()
            where = "the source" if one else f"{len(worst)} of {len(self.audits)} sources"
            answer = (
                f"NO-GO: {len(blocking)} blocking finding(s) in {where} must be resolved, or "
                "accepted by the data owner, before anyone builds on this data."
            )
        facts = [
            ("Sources audited", self._sources_fact()),
            ("Blocking findings", f"{len(blocking)}"),
            ("Major findings", f"{int((findings['severity'] == 'major').sum())}"),
            ("Sources with personal data", f"{self.personal_data_table()['source'].nunique()}"),
        ]
        return Headline(answer, verdict, facts)

    def _sources_fact(self) -> str:
        notes = [f"{len(self.estate.failed)} unreadable"]
        if self.estate.skipped:
            notes.append(f"{len(self.estate.skipped)} other file(s) skipped: not data")
        return f"{len(self.audits)} ({'; '.join(notes)})"

    def glue_values(self) -> dict[str, Any]:
        """Numbers the Chapter 2 prose quotes (glued as ``c2_*``)."""
        findings = self.scorecard.findings()
        table = self.scorecard.table()
        pii = self.personal_data_table()
        worst = max(self.relations, key=lambda r: r["orphan_rows"], default={})
        return {
            "c2_sources": len(self.audits),
            "c2_failed": len(self.estate.failed),
            "c2_blocking": int((findings["severity"] == "blocking").sum()),
            "c2_major": int((findings["severity"] == "major").sum()),
            "c2_band_b": int((table["band"] == "B").sum()),
            "c2_pii_sources": int(pii["source"].nunique()) if len(pii) else 0,
            "c2_orphan_pct": 100 * float(worst.get("orphan_share", float("nan"))),
            "c2_stale": int(self.freshness_table()["stale"].sum()),
        }

    def results(self) -> dict[str, Any]:
        """The machine-readable summary written to ``results.json`` (``audit.json`` holds every
        measurement)."""
        return {
            "notebook": Parameters.notebook,
            "audited_at": str(self.now),
            "go": self.scorecard.go,
            "gate": self.scorecard.gate(),
            "sources": len(self.audits),
            "failed": [{"source": f.spec.name, "reason": f.reason} for f in self.estate.failed],
            "skipped": [s.name for s in self.estate.skipped],
            "scorecard": self.scorecard.table().to_dict("records"),
            "findings": self.scorecard.findings().to_dict("records"),
            "glue": self.glue_values(),
        }


def groups(estate: Estate) -> dict[str, list[OpenedSource]]:
    """Folders of exports: the files an inventory entry expanded into (two or more)."""
    found: dict[str, list[OpenedSource]] = {}
    for o in estate.opened:
        if o.spec.group:
            found.setdefault(o.spec.group, []).append(o)
    return {g: m for g, m in found.items() if len(m) > 1}


def _newest_member(
    members: list[OpenedSource], audits: dict[str, SourceAudit]
) -> OpenedSource | None:
    dated = {}
    for o in members:
        stamp = (audits[o.spec.name].details.get("freshness") or {}).get("newest")
        if stamp:
            dated[o.spec.name] = (pd.Timestamp(stamp), o)
    return max(dated.values(), key=lambda pair: pair[0])[1] if dated else None


def _group_freshness(estate: Estate, audits: dict[str, SourceAudit], now: pd.Timestamp) -> None:
    """A folder of exports is as fresh as its newest file: judge the group, not each file."""
    for group, members in groups(estate).items():
        for o in members:
            audit = audits[o.spec.name]
            audit.findings = [f for f in audit.findings if f.dimension != "timeliness"]
            audit.scores["timeliness"] = None
        newest = _newest_member(members, audits)
        refresh = members[0].spec.refresh_days
        if newest is None or refresh is None:
            continue
        stamp = pd.Timestamp(audits[newest.spec.name].details["freshness"]["newest"])
        lag_days = (now - stamp).total_seconds() / 86400
        fresh = Freshness(None, stamp, lag_days, refresh)
        check = timeliness(newest.spec.name, fresh, subject=group)
        audits[newest.spec.name].findings += check.findings
        audits[newest.spec.name].scores.update(check.scores)


def _header_drift(estate: Estate, audits: dict[str, SourceAudit]) -> None:
    for group, members in groups(estate).items():
        headers: dict[tuple[str, ...], list[str]] = {}
        for o in members:
            headers.setdefault(tuple(o.table.columns), []).append(o.spec.name)
        if len(headers) > 1:
            variants = sorted(headers.items(), key=lambda kv: min(kv[1]))
            first_new = min(variants[1][1])
            audits[variants[0][1][0]].findings.append(
                Finding(
                    variants[0][1][0],
                    "consistency",
                    "major",
                    f"The files of '{group}' use {len(headers)} different headers: from "
                    f"{first_new} on, {', '.join(variants[1][0])} replace "
                    f"{', '.join(variants[0][0])}.",
                    None,
                    float(len(headers)),
                    rule="header_drift",
                )
            )


def _order_rules(o: OpenedSource, audit: SourceAudit) -> None:
    for earlier, later in o.spec.order_rules:
        if earlier in o.table.columns and later in o.table.columns:
            add_consistency(
                audit,
                f"'{later}' is not before '{earlier}'",
                consistency_violations(o.table, earlier, later),
            )


def _references(
    o: OpenedSource, audit: SourceAudit, tables: dict[str, OpenedSource]
) -> list[dict[str, Any]]:
    relations = []
    for column, other, key in o.spec.references:
        if other not in tables or column not in o.table.columns:
            audit.findings.append(
                Finding(
                    o.spec.name,
                    "consistency",
                    "minor",
                    f"'{column}' refers to {other}, which could not be opened, so its keys were "
                    "not checked.",
                    column,
                    rule="unchecked_reference",
                )
            )
            continue
        coverage = key_coverage(o.table, column, tables[other].table, key)
        relations.append(
            {
                "source": o.spec.name,
                "column": column,
                "refers_to": other,
                "key": key,
                "rows": coverage.child_rows,
                "orphan_rows": coverage.orphan_rows,
                "orphan_keys": coverage.orphan_keys,
                "orphan_share": coverage.orphan_share,
            }
        )
        add_consistency(
            audit,
            f"every '{column}' exists in {other}.{key} ({coverage.orphan_keys:,} unknown keys)",
            coverage.orphan_rows,
        )
    return relations


def run(p: Parameters) -> Result:
    """Audit every source ``p.sources`` names (inventory, folder, glob, file or database URL)."""
    specs = spec_of_reference(p.sources)
    if not specs:
        raise DataSourceError(
            f"sources: nothing to audit in '{Path(p.sources).name}' (an empty folder, or a glob "
            "that matches no file); point sources at the exports or at an inventory."
        )
    now = p.now
    estate = open_estate(specs)
    if not estate.opened and not estate.failed:
        found = ", ".join(s.name for s in estate.skipped[:3])
        raise DataSourceError(
            f"sources: no file in '{Path(p.sources).name}' is in a data format the audit reads "
            f"(found {found}{', ...' if len(estate.skipped) > 3 else ''}); it reads {READABLE}."
        )
    if not estate.opened:
        reasons = "; ".join(f"{f.spec.name}: {f.reason}" for f in estate.failed[:3])
        raise DataSourceError(f"sources: no source could be read ({reasons}).")
    audits: dict[str, SourceAudit] = {}
    for o in estate.opened:
        audits[o.spec.name] = audit_source(o, now, p.default_region or None, p.earliest)
    for f in estate.failed:
        audits[f.spec.name] = failed_source(f.spec.name, f.reason)
    tables = {o.spec.name: o for o in estate.opened}
    relations = []
    for o in estate.opened:
        _order_rules(o, audits[o.spec.name])
        relations += _references(o, audits[o.spec.name], tables)
    _header_drift(estate, audits)
    _group_freshness(estate, audits, now)
    return Result(p, estate, audits, Scorecard(list(audits.values())), relations, now)


def write_outputs(result: Result, folder: Path) -> dict[str, Path]:
    """audit.json, contracts/<source>.yaml and datasheets/<source>.md under ``folder``."""
    folder = Path(folder)
    written = {}
    for o in result.estate.opened:
        audit = result.audits[o.spec.name]
        safe = o.spec.name.replace("/", "__").replace(":", "__")
        contract = build_contract(o.table, audit, key=o.spec.key or None, required=o.spec.required)
        written[f"contract:{o.spec.name}"] = save_contract(
            contract, folder / "contracts" / f"{safe}.yaml"
        )
        sheet = folder / "datasheets" / f"{safe}.md"
        sheet.parent.mkdir(parents=True, exist_ok=True)
        sheet.write_text(datasheet(audit), encoding="utf-8")
        written[f"datasheet:{o.spec.name}"] = sheet
    sources = [
        {
            "source": name,
            "rows": audit.rows,
            "columns": audit.columns,
            "band": audit.band,
            "scores": audit.scores,
            "details": audit.details,
            "profile": audit.profile.to_dict("records") if audit.profile is not None else [],
            "validity": audit.validity.to_dict("records") if audit.validity is not None else [],
            "personal_data": audit.personal_data,
        }
        for name, audit in result.audits.items()
    ]
    report = {
        "audited_at": str(result.now),
        "go": result.scorecard.go,
        "gate": result.scorecard.gate(),
        "scorecard": result.scorecard.table().to_dict("records"),
        "findings": result.scorecard.findings().to_dict("records"),
        "relations": result.relations,
        "sources": sources,
    }
    path = folder / "audit.json"
    path.write_text(json.dumps(to_jsonable(report), indent=2, default=str) + "\n", encoding="utf-8")
    written["audit"] = path
    return written
