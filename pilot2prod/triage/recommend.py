"""The recommendation: the simplest rung that meets the targets, and what it does to the metric.

A rung meets the target or it does not: its measured precision on the held-out half is at
least ``target_precision``, it routes at least ``min_coverage`` of tickets, and its p95 latency
is within the budget. No tolerance is added. When no rung qualifies, the report says so and
shows the nearest one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pilot2prod.handoff import MetricSpec
from pilot2prod.triage.ladder import Ladder, RungResult
from pilot2prod.triage.params import Parameters


def meets(r: RungResult, p: Parameters) -> bool:
    precision = r.coverage.precision
    return (
        r.coverage.routed > 0
        and np.isfinite(precision)
        and precision >= p.target_precision
        and r.coverage.coverage >= p.min_coverage
        and r.speed.p95_ms <= p.latency_budget_ms
    )


def shortfall(r: RungResult, p: Parameters) -> str:
    """Why a rung does not qualify, in words."""
    reasons = []
    precision = r.coverage.precision
    if not r.coverage.routed or not np.isfinite(precision):
        reasons.append(f"no confidence level reaches {p.target_precision:.0%} precision")
    else:
        if precision < p.target_precision:
            reasons.append(
                f"its measured precision is {precision:.1%}, below the {p.target_precision:.0%} "
                "target"
            )
        if r.coverage.coverage < p.min_coverage:
            reasons.append(
                f"it routes {r.coverage.coverage:.0%} of tickets, below the {p.min_coverage:.0%} "
                "needed"
            )
    if r.speed.p95_ms > p.latency_budget_ms:
        reasons.append(
            f"its p95 latency is {r.speed.p95_ms:.0f} ms (budget {p.latency_budget_ms:g})"
        )
    return " and ".join(reasons)


def nearest(ladder: Ladder, p: Parameters) -> RungResult:
    """The rung closest to qualifying: the most tickets routed at a precision that meets the
    target; without one, the highest measured precision."""
    candidates = [r for r in ladder if r.id != "majority"]
    at_target = [
        r
        for r in candidates
        if r.coverage.routed and np.nan_to_num(r.coverage.precision) >= p.target_precision
    ]
    if at_target:
        return max(at_target, key=lambda r: r.coverage.coverage)
    return max(candidates, key=lambda r: (np.nan_to_num(r.coverage.precision), r.coverage.coverage))


def recommend(ladder: Ladder, p: Parameters, spec: MetricSpec | None) -> dict[str, Any]:
    """The simplest approach that routes at least ``min_coverage`` of tickets at the target
    precision within the latency budget, and what it is worth against the success metric."""
    chosen = next((r for r in ladder if meets(r, p)), None)
    out: dict[str, Any] = {"approach": chosen.id if chosen else None}
    if chosen is not None:
        out["approach_name"] = chosen.approach.name
        out["reason"] = (
            f"{chosen.approach.name} is the simplest approach that auto-routes "
            f"{chosen.coverage.coverage:.0%} of tickets at a measured "
            f"{chosen.coverage.precision:.1%} precision (target {p.target_precision:.0%}, at least "
            f"{p.min_coverage:.0%} routed) with a p95 latency of {chosen.speed.p95_ms:.1f} ms."
        )
    else:
        near = nearest(ladder, p)
        out["nearest"] = near.id
        out["reason"] = (
            f"No approach meets the target: routing at least {p.min_coverage:.0%} of tickets at "
            f"{p.target_precision:.0%} precision within {p.latency_budget_ms:g} ms. The nearest, "
            f"{near.approach.name}, falls short because {shortfall(near, p)}. Ship it as a "
            "suggestion to agents, not as automatic routing, and label more of the confused "
            "classes."
        )
    out.update(projected_effect(chosen, p, spec))
    return out


def projected_effect(
    chosen: RungResult | None, p: Parameters, spec: MetricSpec | None
) -> dict[str, Any]:
    """Minutes saved per ticket, and (with Chapter 1's spec) the share of the baseline."""
    if chosen is None or p.minutes_saved_per_routed_ticket <= 0:
        return {}
    # Out-of-scope requests routed to a real queue save nobody time: they are left out.
    wrongly_routed = (chosen.out_of_scope or {}).get("routed_share_of_measured", 0.0)
    useful = max(chosen.coverage.coverage - wrongly_routed, 0.0)
    saved = useful * p.minutes_saved_per_routed_ticket
    out: dict[str, Any] = {"minutes_saved_per_ticket": saved}
    effect = (
        f"Routing {useful:.0%} of tickets automatically saves about "
        f"{saved:.1f} minutes per ticket on average "
        f"({p.minutes_saved_per_routed_ticket:g} min per routed ticket"
        + (
            f"; the {wrongly_routed:.1%} of tickets that fit no queue but were routed to one "
            "count as no saving"
            if wrongly_routed
            else ""
        )
        + ")."
    )
    if spec is not None and spec.metric.lower_is_better:
        baseline = spec.baseline.value
        relative = saved / (baseline * spec.unit_minutes)
        out["projected_relative_change"] = -relative
        effect += (
            f" Against the Chapter 1 baseline of {baseline:.1f} {spec.metric.unit} that is "
            f"about {relative:.1%} off the {spec.metric.label}, if routing time is on the "
            "critical path; the pilot measures the real effect."
        )
        effect += " " + against_target(relative, chosen, p, spec)
        out["reaches_target"] = relative >= abs(spec.target.relative_change)
    out["projected_effect"] = effect
    return out


def against_target(relative: float, chosen: RungResult, p: Parameters, spec: MetricSpec) -> str:
    """One sentence: can the projected effect reach the signed target, and if not, what would
    have to be true for it to."""
    target = abs(spec.target.relative_change)
    if relative >= target:
        return (
            f"That reaches the signed target of {target:.0%} on paper; the impact measurement "
            "decides."
        )
    baseline_minutes = spec.baseline.value * spec.unit_minutes
    wrongly_routed = (chosen.out_of_scope or {}).get("routed_share_of_measured", 0.0)
    useful = max(chosen.coverage.coverage - wrongly_routed, 1e-9)
    needed_per_routed = target * baseline_minutes / useful
    return (
        f"The pilot as scoped cannot reach its own target of {target:.0%}: the projected "
        f"{relative:.1%} is {target / max(relative, 1e-9):,.0f} times too small. To reach it, "
        f"each routed ticket would have to save about {needed_per_routed:,.0f} minutes (it "
        f"saves {p.minutes_saved_per_routed_ticket:g}), or the pilot must change more of the "
        "process than triage (who works the ticket, not only where it waits)."
    )
