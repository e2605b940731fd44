"""The scorecard of an estate: sources by dimension, findings by severity, the go/no-go gate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pilot2prod.audit.findings import (
    DIMENSIONS,
    SEVERITY_ORDER,
    Finding,
    SourceAudit,
    consistency_severity,
)


def add_consistency(audit: SourceAudit, rule: str, violations: int) -> None:
    """Record a cross-field or cross-source rule's violations on a source."""
    rows = audit.rows or 0
    share = violations / rows if rows else 0.0
    if violations:
        audit.findings.append(
            Finding(
                audit.name,
                "consistency",
                consistency_severity(share),
                f"{violations:,} rows break the rule: {rule}.",
                None,
                float(violations),
                rule="declared_rule",
            )
        )
    previous = audit.scores.get("consistency")
    score = 100 * (1 - share)
    audit.scores["consistency"] = score if previous is None else min(previous, score)


def failed_source(name: str, reason: str) -> SourceAudit:
    audit = SourceAudit(name)
    audit.scores = dict.fromkeys(DIMENSIONS) | {"accessibility": 0.0}
    audit.findings.append(
        Finding(
            name,
            "accessibility",
            "blocking",
            f"The source could not be read: {reason}.",
            rule="unreadable",
        )
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
        return pd.DataFrame(rows, columns=["source", *DIMENSIONS, "overall", "band"])

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
