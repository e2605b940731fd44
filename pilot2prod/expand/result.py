"""The "expand from proven wins" step as a whole: ``run(p) -> Result``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from pilot2prod.chapter import Headline
from pilot2prod.expand.params import Parameters, parse_weights
from pilot2prod.expand.ranking import (
    ProvenWin,
    read_audit,
    read_candidates,
    read_impact,
    score_candidates,
)


@dataclass
class Result:
    params: Parameters
    ranking: pd.DataFrame
    weights: dict[str, float]
    win: ProvenWin
    audited: bool
    currency: str

    @property
    def top(self) -> dict[str, Any]:
        return self.ranking.iloc[0].to_dict()

    @property
    def next_ready(self) -> dict[str, Any] | None:
        """The best candidate no blocking finding holds up."""
        free = self.ranking[~self.ranking["blocked"]]
        return free.iloc[0].to_dict() if len(free) else None

    def headline(self) -> Headline:
        top, ready = self.top, self.next_ready
        if ready is None:
            answer = (
                f"Every candidate is held up by blocking data findings; fix those first "
                f"(the best-ranked is '{top['candidate']}')."
            )
            verdict = "FIX DATA FIRST"
        elif ready["candidate"] == top["candidate"]:
            answer = f"Next: '{top['candidate']}' ({top['reasoning']})"
            verdict = "EXPAND"
        else:
            answer = (
                f"Next: '{ready['candidate']}'. '{top['candidate']}' ranks higher but is held up "
                f"by {top['blocking_findings']} blocking data finding(s); start it once they are "
                "fixed."
            )
            verdict = "EXPAND"
        if self.win.verdict and not self.win.proven:
            answer += (
                " The pilot itself has not yet proven a win"
                + (
                    f" (the {' and '.join(self.win.breached)} guardrail was breached)"
                    if self.win.breached
                    else ""
                )
                + ": expand only what does not depend on it."
            )
        facts = [
            (
                f"{int(row.rank)}. {row.candidate}",
                f"{row.total:.2f}" + (" (blocked)" if row.blocked else ""),
            )
            for row in self.ranking.itertuples()
        ]
        facts.append(("Weights", ", ".join(f"{k} {v:.0%}" for k, v in self.weights.items())))
        return Headline(answer, verdict, facts)

    def glue_values(self) -> dict[str, Any]:
        return {
            "c7_candidates": len(self.ranking),
            "c7_top_score": self.top["total"],
            "c7_blocked": int(self.ranking["blocked"].sum()),
        }

    def results(self) -> dict[str, Any]:
        return {
            "notebook": Parameters.notebook,
            "weights": self.weights,
            "audited": self.audited,
            "proven_win": {
                "verdict": self.win.verdict,
                "proven": self.win.proven,
                "breached": self.win.breached,
            },
            "ranking": self.ranking.to_dict(orient="records"),
            "next": self.next_ready["candidate"] if self.next_ready else None,
            "verdict": self.headline().verdict,
            "statement": self.headline().answer,
        }


def run(p: Parameters) -> Result:
    candidates, file_currency = read_candidates(p.candidates_path)
    audit = read_audit(p.audit_path)
    win = read_impact(p.impact_path)
    weights = parse_weights(p.weights)
    currency = p.currency or file_currency
    ranking = score_candidates(candidates, audit, win, weights, currency)
    return Result(p, ranking, weights, win, audit is not None, currency)
