"""The whole audit of a data estate: open, check each source, check across sources, score,
and write audit.json, a data contract and a datasheet draft per source."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from pilot2prod.audit.contract import build_contract, save_contract
from pilot2prod.audit.datasheet import datasheet
from pilot2prod.audit.relations import key_coverage
from pilot2prod.audit.scorecard import (
    Finding,
    Scorecard,
    SourceAudit,
    add_consistency,
    audit_source,
    failed_source,
)
from pilot2prod.audit.sources import Estate, discover, open_estate
from pilot2prod.audit.sources import summary as estate_summary
from pilot2prod.audit.validity import consistency_violations
from pilot2prod.errors import ParameterError
from pilot2prod.notebook import to_jsonable
from pilot2prod.params import ParameterSet, check_date, path_param


@dataclass(frozen=True)
class AuditParameters(ParameterSet):
    """Parameters of ``notebooks/02_data_audit.ipynb`` (same names, types and defaults)."""

    notebook: ClassVar[str] = "02_data_audit"

    sources: str = path_param("datasets/acme/estate/inventory.yaml", kind="source")
    as_of: str = "2026-11-02"
    default_region: str = ""
    output_dir: str = path_param("", kind="output")

    def check(self) -> None:
        check_date("as_of", self.as_of, "2026-11-02", "today")
        if self.default_region and (
            len(self.default_region) != 2 or not self.default_region.isalpha()
        ):
            raise ParameterError(
                f"Parameter default_region is '{self.default_region}'; use a two-letter "
                "country code such as DE or GB, or leave it empty."
            )

    @property
    def now(self) -> pd.Timestamp:
        return pd.Timestamp(self.as_of) if self.as_of else pd.Timestamp.now().floor("s")


@dataclass
class AuditResult:
    estate: Estate
    audits: dict[str, SourceAudit]
    scorecard: Scorecard
    relations: list[dict[str, Any]]
    now: pd.Timestamp

    def inventory(self) -> pd.DataFrame:
        table = estate_summary(self.estate)
        rows = {name: a.rows for name, a in self.audits.items()}
        table["rows"] = table["source"].map(rows)
        table["columns"] = table["source"].map({n: a.columns for n, a in self.audits.items()})
        return table


def profiles(result: AuditResult) -> pd.DataFrame:
    """Every column's completeness, with its source."""
    frames = [
        a.profile.assign(source=name) for name, a in result.audits.items() if a.profile is not None
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def relations_table(result: AuditResult) -> pd.DataFrame:
    columns = [
        "source",
        "column",
        "refers_to",
        "key",
        "rows",
        "orphan_rows",
        "orphan_keys",
        "orphan_share",
    ]
    return pd.DataFrame(result.relations, columns=columns)


def freshness_table(result: AuditResult) -> pd.DataFrame:
    """Newest record and its age per source; a folder of exports appears once, as its newest
    file, under the folder's name."""
    groups = _groups(result.estate)
    member_of = {o.spec.name: g for g, members in groups.items() for o in members}
    newest_member = {}
    for group, members in groups.items():
        dated = {}
        for o in members:
            stamp = (result.audits[o.spec.name].details.get("freshness") or {}).get("newest")
            if stamp:
                dated[o.spec.name] = pd.Timestamp(stamp)
        if dated:
            newest_member[group] = max(dated, key=dated.get)
    rows = []
    for name, a in result.audits.items():
        group = member_of.get(name)
        if group is not None and newest_member.get(group) != name:
            continue
        fresh = (a.details or {}).get("freshness") or {}
        lag, refresh = fresh.get("lag_days"), fresh.get("refresh_days")
        stale = any(f.dimension == "timeliness" for f in a.findings)
        if lag is not None:
            rows.append(
                {
                    "source": group or name,
                    "newest": fresh.get("newest"),
                    "lag_days": lag,
                    "refresh_days": refresh,
                    "stale": stale,
                }
            )
    return pd.DataFrame(rows, columns=["source", "newest", "lag_days", "refresh_days", "stale"])


def personal_data_table(result: AuditResult) -> pd.DataFrame:
    """Counts and masked samples only: source, column, kind, values, samples."""
    rows = []
    for name, a in result.audits.items():
        for column, kinds in a.personal_data.items():
            for kind, found in kinds.items():
                rows.append(
                    {
                        "source": name,
                        "column": column,
                        "kind": kind,
                        "values": found["values"],
                        "masked samples": ", ".join(found["masked_samples"]),
                    }
                )
    return pd.DataFrame(rows, columns=["source", "column", "kind", "values", "masked samples"])


def glue_values(result: AuditResult) -> dict[str, Any]:
    """Numbers the Chapter 2 prose quotes (glued as ``c2_*``)."""
    findings = result.scorecard.findings()
    table = result.scorecard.table()
    pii = personal_data_table(result)
    relations = {(r["source"], r["column"]): r for r in result.relations}
    tickets = relations.get(("tickets", "customer_id"), {})
    return {
        "c2_sources": len(result.audits),
        "c2_failed": len(result.estate.failed),
        "c2_blocking": int((findings["severity"] == "blocking").sum()),
        "c2_major": int((findings["severity"] == "major").sum()),
        "c2_band_b": int((table["band"] == "B").sum()),
        "c2_pii_sources": int(pii["source"].nunique()) if len(pii) else 0,
        "c2_orphan_pct": 100 * float(tickets.get("orphan_share", float("nan"))),
        "c2_stale": int(freshness_table(result)["stale"].sum()),
    }


def _groups(estate: Estate) -> dict[str, list]:
    groups: dict[str, list] = {}
    for o in estate.opened:
        if o.spec.group:
            groups.setdefault(o.spec.group, []).append(o)
    return {g: m for g, m in groups.items() if len(m) > 1}


def _group_freshness(estate: Estate, audits: dict[str, SourceAudit], now: pd.Timestamp) -> None:
    """A folder of exports is as fresh as its newest file: judge the group, not each file."""
    for group, members in _groups(estate).items():
        newest_name, newest = None, None
        for o in members:
            audit = audits[o.spec.name]
            audit.findings = [f for f in audit.findings if f.dimension != "timeliness"]
            audit.scores["timeliness"] = None
            stamp = (audit.details.get("freshness") or {}).get("newest")
            if stamp and (newest is None or pd.Timestamp(stamp) > newest):
                newest_name, newest = o.spec.name, pd.Timestamp(stamp)
        refresh = members[0].spec.refresh_days
        if newest is None or refresh is None:
            continue
        lag_days = (now - newest).total_seconds() / 86400
        audits[newest_name].scores["timeliness"] = 100 * min(1.0, refresh / max(lag_days, 1e-9))
        if lag_days > refresh:
            audits[newest_name].findings.append(
                Finding(
                    newest_name,
                    "timeliness",
                    "blocking" if lag_days > 2 * refresh else "major",
                    f"The newest file of '{group}' ends {lag_days:.0f} days ago; a new export is "
                    f"expected every {refresh:g} days.",
                    None,
                    lag_days,
                )
            )


def _header_drift(estate: Estate, audits: dict[str, SourceAudit]) -> None:
    for group, members in _groups(estate).items():
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
                )
            )


def run_audit(target: str, now: pd.Timestamp, default_region: str | None = None) -> AuditResult:
    """Audit every source ``target`` names (folder, glob, file, database URL or inventory)."""
    estate = open_estate(discover(target))
    audits: dict[str, SourceAudit] = {}
    for o in estate.opened:
        audits[o.spec.name] = audit_source(
            o, now, key=o.spec.key or None, default_region=default_region, required=o.spec.required
        )
    for f in estate.failed:
        audits[f.spec.name] = failed_source(f.spec.name, f.reason)
    tables = {o.spec.name: o for o in estate.opened}
    relations = []
    for o in estate.opened:
        audit = audits[o.spec.name]
        for earlier, later in o.spec.order_rules:
            if earlier in o.table.columns and later in o.table.columns:
                add_consistency(
                    audit,
                    f"'{later}' is not before '{earlier}'",
                    consistency_violations(o.table, earlier, later),
                )
        for column, other, key in o.spec.references:
            if other not in tables or column not in o.table.columns:
                audit.findings.append(
                    Finding(
                        o.spec.name,
                        "consistency",
                        "minor",
                        f"'{column}' refers to {other}, which could not "
                        "be opened, so its keys were not checked.",
                        column,
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
                f"every '{column}' exists in {other}.{key} ({coverage.orphan_keys} unknown keys)",
                coverage.orphan_rows,
            )
    _header_drift(estate, audits)
    _group_freshness(estate, audits, now)
    return AuditResult(estate, audits, Scorecard(list(audits.values())), relations, now)


def write_outputs(result: AuditResult, folder: Path) -> dict[str, Path]:
    """audit.json, contracts/<source>.yaml and datasheets/<source>.md under ``folder``."""
    folder = Path(folder)
    written = {}
    sources = []
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
    for name, audit in result.audits.items():
        sources.append(
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
        )
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
