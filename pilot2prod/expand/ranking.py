"""Rank candidate next use cases: value, data readiness (from the audit), feasibility (the
simplest approach that could work, and whether it builds on a proven win) and risk.

Each criterion is a score from 0 to 1 with the facts behind it, so that the reasoning can be
shown and argued with; the ranking is the weighted sum. Nothing here is learned: the point is a
transparent, repeatable ordering a steering committee can challenge line by line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pilot2prod.errors import ParameterError
from pilot2prod.handoff import load_mapping

#: How simple each approach is to build, run and trust (the playbook's ladder, simplest first).
APPROACHES = {
    "rules": 1.0,
    "classifier": 0.85,
    "rag": 0.7,
    "llm": 0.6,
    "custom model": 0.4,
}
#: A classifier without labelled history needs labels first.
NO_LABELS_PENALTY = 0.25
#: Building on a pilot that proved its target (with its guardrails holding) / that failed it.
PROVEN_BONUS = 0.15
FAILED_PENALTY = 0.1
#: Risk flags and what each takes off the risk score (1 = safest).
RISK_FLAGS = {
    "personal_data": (0.2, "personal data"),
    "customer_facing": (0.2, "customer-facing output"),
    "regulated": (0.2, "a regulated process"),
    # Deciding about people at work (allocating tasks, monitoring, evaluating) is high-risk
    # under the EU AI Act (Annex III, employment).
    "decisions_about_people": (0.4, "decisions about employees (EU AI Act high-risk)"),
}
#: Readiness of a source the audit did not read, and of every source without an audit.
UNAUDITED = 0.5
#: Readiness is halved while a source has blocking findings.
BLOCKED_FACTOR = 0.5


@dataclass(frozen=True)
class Candidate:
    name: str
    annual_value: float
    sources: tuple[str, ...]
    approach: str
    labelled_data: bool = True
    builds_on_pilot: bool = False
    risks: tuple[str, ...] = ()
    owner: str = ""
    process: str = ""


def read_candidates(path: str | Path) -> tuple[list[Candidate], str]:
    """The candidates file, checked entry by entry; returns the candidates and its currency."""
    p = Path(path)
    data = load_mapping(p, "candidates_path", "file of candidate use cases")
    if not isinstance(data.get("candidates"), list):
        raise ParameterError(
            f"Parameter candidates_path: '{p.name}' must hold candidates: a list of use cases "
            "(name, annual_value, sources, approach, ...)."
        )
    out = []
    for i, entry in enumerate(data["candidates"], start=1):
        where = f"Parameter candidates_path: candidate {i}"
        if not isinstance(entry, dict) or not entry.get("name"):
            raise ParameterError(f"{where} needs a name.")
        where = f"Parameter candidates_path: '{entry['name']}'"
        known = {
            "name",
            "annual_value",
            "sources",
            "approach",
            "labelled_data",
            "builds_on_pilot",
            "risks",
            "owner",
            "process",
        }
        unknown = sorted(set(entry) - known)
        if unknown:
            raise ParameterError(
                f"{where} has an unknown field '{unknown[0]}'; use {', '.join(sorted(known))}."
            )
        value = entry.get("annual_value")
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ParameterError(
                f"{where}: annual_value must be a number at or above 0 (the value per year if "
                f"it works), not {value!r}."
            )
        approach = str(entry.get("approach", "")).strip().lower()
        if approach not in APPROACHES:
            raise ParameterError(
                f"{where}: approach '{entry.get('approach')}' is not one of "
                f"{', '.join(APPROACHES)}."
            )
        sources = entry.get("sources") or []
        if isinstance(sources, str):
            sources = [sources]
        if not sources:
            raise ParameterError(f"{where} names no sources; list the data it needs.")
        risks = entry.get("risks") or []
        unknown_risks = [r for r in risks if r not in RISK_FLAGS]
        if unknown_risks:
            raise ParameterError(
                f"{where}: risk '{unknown_risks[0]}' is not one of {', '.join(RISK_FLAGS)}."
            )
        out.append(
            Candidate(
                name=str(entry["name"]),
                annual_value=float(value),
                sources=tuple(str(s) for s in sources),
                approach=approach,
                labelled_data=bool(entry.get("labelled_data", True)),
                builds_on_pilot=bool(entry.get("builds_on_pilot", False)),
                risks=tuple(risks),
                owner=str(entry.get("owner", "")),
                process=str(entry.get("process", "")),
            )
        )
    if not out:
        raise ParameterError(f"Parameter candidates_path: '{p.name}' lists no candidates.")
    names = [c.name for c in out]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ParameterError(f"Parameter candidates_path: '{repeated[0]}' is listed twice.")
    return out, str(data.get("currency", ""))


@dataclass(frozen=True)
class Readiness:
    """What the audit says about the sources a candidate needs."""

    score: float  # 0-1
    matched: dict[str, float]  # audit source -> overall score (0-100)
    unaudited: list[str]
    blocking: list[str]  # blocking findings on the matched sources


def _matches(name: str, source: str) -> bool:
    return source == name or source.startswith(name + "/") or source.startswith(name + ":")


def readiness(candidate: Candidate, audit: dict[str, Any] | None) -> Readiness:
    if audit is None:
        return Readiness(UNAUDITED, {}, list(candidate.sources), [])
    scores = {row["source"]: float(row["overall"]) for row in audit.get("scorecard", [])}
    matched, unaudited = {}, []
    for name in candidate.sources:
        found = {s: v for s, v in scores.items() if _matches(name, s)}
        if found:
            matched |= found
        else:
            unaudited.append(name)
    blocking = [
        f"{f['source']}: {f['message']}"
        for f in audit.get("findings", [])
        if f.get("severity") == "blocking" and f["source"] in matched
    ]
    parts = [v / 100 for v in matched.values()] + [UNAUDITED] * len(unaudited)
    score = sum(parts) / len(parts)
    if blocking:
        score *= BLOCKED_FACTOR
    return Readiness(score, matched, unaudited, blocking)


@dataclass(frozen=True)
class ProvenWin:
    """What the impact notebook says about the pilot candidates may build on."""

    verdict: str  # MET, NOT MET, INCONCLUSIVE, or "" without an impact result
    breached: list[str] = field(default_factory=list)
    statement: str = ""

    @property
    def proven(self) -> bool:
        return self.verdict == "MET" and not self.breached


def read_impact(path: str | Path | None) -> ProvenWin:
    if not path:
        return ProvenWin("")
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        return ProvenWin(
            str(data["verdict"]),
            [g["guardrail"] for g in data.get("guardrails", []) if g.get("status") == "breached"],
            str(data.get("statement", "")),
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ParameterError(
            f"Parameter impact_path: '{p.name}' is not the results.json of the impact notebook; "
            "give that file, or leave impact_path empty."
        ) from None


def read_audit(path: str | Path | None) -> dict[str, Any] | None:
    if not path:
        return None
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or "scorecard" not in data:
        raise ParameterError(
            f"Parameter audit_path: '{p.name}' is not the audit.json of the data-audit notebook; "
            "give that file, or leave audit_path empty."
        )
    return data


def _money(value: float, currency: str) -> str:
    text = f"{value:,.0f}"
    return f"{currency} {text}" if currency else text


def score_candidates(
    candidates: list[Candidate],
    audit: dict[str, Any] | None,
    win: ProvenWin,
    weights: dict[str, float],
    currency: str = "",
) -> pd.DataFrame:
    """One row per candidate, best first: the four scores (0-1), the weighted total, whether
    blocking findings hold it up, and the reasoning in a sentence."""
    top_value = max(c.annual_value for c in candidates) or 1.0
    rows = []
    for c in candidates:
        ready = readiness(c, audit)
        feasibility = APPROACHES[c.approach]
        notes_feasible = [f"approach: {c.approach}"]
        if c.approach == "classifier" and not c.labelled_data:
            feasibility -= NO_LABELS_PENALTY
            notes_feasible.append("labels must be collected first")
        if c.builds_on_pilot:
            if win.proven:
                feasibility += PROVEN_BONUS
                notes_feasible.append("it builds on a proven win")
            elif win.verdict == "NOT MET":
                feasibility -= FAILED_PENALTY
                notes_feasible.append("the pilot it builds on did not meet its target")
            elif win.breached:
                notes_feasible.append(
                    f"the pilot it builds on breached the {' and '.join(win.breached)} guardrail"
                )
            elif win.verdict:
                notes_feasible.append("the pilot it builds on has not yet proven its target")
        feasibility = min(1.0, max(0.0, feasibility))
        risk = 1.0 - sum(RISK_FLAGS[r][0] for r in c.risks)
        risk = min(1.0, max(0.0, risk))
        scores = {
            "value": c.annual_value / top_value,
            "readiness": ready.score,
            "feasibility": feasibility,
            "risk": risk,
        }
        total = sum(weights[k] * v for k, v in scores.items())
        reasons = [f"value {_money(c.annual_value, currency)} a year"]
        if ready.matched:
            worst = min(ready.matched, key=ready.matched.get)
            reasons.append(
                f"data {100 * ready.score:.0f}/100 ({len(ready.matched)} audited source(s), "
                f"weakest {worst} {ready.matched[worst]:.0f})"
            )
        if ready.unaudited:
            reasons.append(f"not audited: {', '.join(ready.unaudited)}")
        if ready.blocking:
            reasons.append(f"held up by {len(ready.blocking)} blocking finding(s)")
        reasons.append("; ".join(notes_feasible))
        reasons.append(
            "risks: " + ", ".join(RISK_FLAGS[r][1] for r in c.risks) if c.risks else "no risk flags"
        )
        rows.append(
            {
                "candidate": c.name,
                "owner": c.owner,
                "annual_value": c.annual_value,
                **scores,
                "total": total,
                "blocked": bool(ready.blocking),
                "blocking_findings": len(ready.blocking),
                "reasoning": "; ".join(reasons) + ".",
            }
        )
    table = pd.DataFrame(rows)
    table = table.sort_values(["total", "annual_value"], ascending=[False, False], kind="stable")
    table.insert(0, "rank", range(1, len(table) + 1))
    return table.reset_index(drop=True)
