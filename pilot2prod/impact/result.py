"""The impact chapter as a whole: ``run(p) -> Result``, the verdict against the target."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pilot2prod.chapter import Headline
from pilot2prod.impact import analysis
from pilot2prod.impact.analysis import DesignEstimate, Measures, Placebo, Verdict
from pilot2prod.impact.data import Settings, Window, load_window, settings, with_horizon
from pilot2prod.impact.params import Parameters
from pilot2prod.metric import UNIT_SHORT


@dataclass
class Result:
    """Everything the impact notebook shows and writes."""

    params: Parameters
    settings: Settings
    window: Window
    estimate: DesignEstimate
    placebo: Placebo
    measures: Measures
    guardrails: pd.DataFrame
    verdict: Verdict
    published: pd.DataFrame | None

    @property
    def unit_short(self) -> str:
        return UNIT_SHORT[self.window.unit]

    @property
    def weeks_after(self) -> float:
        return weeks_after(self.window, self.settings)

    def fmt(self, value: float) -> str:
        if value is None or not math.isfinite(value):
            return "n/a"
        if self.settings.kind == "sla_share":
            return f"{value:.1%}"
        return f"{value:.1f} {self.unit_short}"

    def headline(self) -> Headline:
        s, r = self.settings, self.estimate.relative
        m = self.measures.table.iloc[0]
        facts = [
            ("Design", s.design_name),
            (
                "Change in the metric",
                f"{100 * r.estimate:+.1f} % ({100 * r.low:+.1f} % to {100 * r.high:+.1f} %, "
                f"p = {r.p_value:.2g})",
            ),
            ("Target", f"{100 * s.target_change:+.0f} %"),
            (
                f"{s.label}, before and after",
                f"{self.fmt(m['before'])} and {self.fmt(m['after'])}",
            ),
        ]
        facts += [
            (f"Guardrail: {row.guardrail}", row.status) for row in self.guardrails.itertuples()
        ]
        breached = (
            (self.guardrails["status"] == "breached").any() if len(self.guardrails) else False
        )
        verdict = self.verdict.verdict + (" - GUARDRAIL BREACHED" if breached else "")
        return Headline(self.verdict.sentence, verdict, facts)

    def glue_values(self) -> dict[str, Any]:
        """The numbers the impact chapter's prose quotes (glued as ``c6_*``)."""
        r = self.estimate.relative
        m = self.measures.table.iloc[0]
        guard = self.guardrails.set_index("guardrail") if len(self.guardrails) else None
        reopen = (
            guard.loc["reopen rate"] if guard is not None and "reopen rate" in guard.index else None
        )
        return {
            "c6_change_pct": 100 * r.estimate,
            "c6_change_low_pct": 100 * r.low,
            "c6_change_high_pct": 100 * r.high,
            "c6_target_pct": 100 * self.settings.target_change,
            "c6_before": m["before"],
            "c6_after": m["after"],
            "c6_shift": self.measures.shift.estimate,
            "c6_reopen_before_pct": 100 * reopen["before"] if reopen is not None else math.nan,
            "c6_reopen_after_pct": 100 * reopen["after"] if reopen is not None else math.nan,
            "c6_reopen_margin_pp": 100 * reopen["margin"] if reopen is not None else math.nan,
            "c6_horizon": self.window.horizon,
            "c6_weeks_after": self.weeks_after,
        }

    def results(self) -> dict[str, Any]:
        """The machine-readable findings written to ``results.json``."""
        s, e = self.settings, self.estimate
        return {
            "notebook": Parameters.notebook,
            "source": self.window.source,
            "as_of": str(self.window.as_of),
            "launch": str(s.launch.date()),
            "design": s.design,
            "metric": {
                "kind": s.kind,
                "label": s.label,
                "unit": self.window.unit,
                "quantile": s.quantile,
                "sla": s.sla,
                "lower_is_better": s.lower_is_better,
                "from_metric_spec": s.spec is not None,
                "baseline_in_spec": s.spec_baseline,
            },
            "target_change": s.target_change,
            "verdict": self.verdict.verdict,
            "statement": self.verdict.sentence,
            "weeks_more": self.verdict.weeks_more,
            "effect": e.effect.as_dict() | {"p_value": e.effect.p_value},
            "relative_change": e.relative.as_dict() | {"p_value": e.relative.p_value},
            "design_notes": e.notes,
            "placebo": {
                "date": str(self.placebo.date.date()),
                "passed": self.placebo.passed,
                "effect": (
                    self.placebo.effect.as_dict() | {"p_value": self.placebo.effect.p_value}
                    if self.placebo.effect
                    else None
                ),
                "note": self.placebo.note,
            },
            "horizon": self.window.horizon,
            "events": {
                "rows": len(self.window.frame),
                "before": int((~self.window.frame["post"]).sum()),
                "after": int(self.window.frame["post"].sum()),
                "open": int((~self.window.frame["observed"]).sum()),
            },
            "cleaning": self.window.report.__dict__,
            "measures": self.measures.table.to_dict(orient="records"),
            "hodges_lehmann": self.measures.shift.as_dict()
            | {"p_value": self.measures.shift.p_value},
            "cuped": _plain(self.measures.cuped),
            "sample_ratio_p_value": self.measures.srm_p_value,
            "guardrails": self.guardrails.to_dict(orient="records"),
            "published_checks": (
                self.published.to_dict(orient="records") if self.published is not None else None
            ),
        }


def _plain(cuped: dict | None) -> dict | None:
    if cuped is None:
        return None
    return {
        k: (v.as_dict() | {"p_value": v.p_value}) if hasattr(v, "as_dict") else v
        for k, v in cuped.items()
    }


def weeks_after(window: Window, chosen: Settings) -> float:
    """Weeks of data after the launch (what the verdict's "weeks more" extends)."""
    return (window.as_of - chosen.launch).days / 7


def run(p: Parameters) -> Result:
    """Run the whole impact analysis on validated parameters."""
    s = settings(p)
    window = with_horizon(load_window(p, s), s)
    if s.design == "randomised":
        estimate = analysis.randomised_estimate(window, s, p.n_bootstrap, p.seed)
    elif s.design == "did":
        estimate = analysis.did_estimate(window, s)
    else:
        estimate = analysis.its_estimate(window, s)
    placebo = analysis.placebo(window, s)
    found = analysis.measures(window, s, p.n_bootstrap, p.seed, p.treated_share)
    guard = analysis.guardrails(window, s)
    decided = analysis.verdict(estimate, s, guard, weeks_after(window, s))
    published = analysis.published_checks() if p.published_checks else None
    return Result(p, s, window, estimate, placebo, found, guard, decided, published)
