"""From what Chapter 4 measured to the ML Test Score, the maturity level and a go/no-go.

Evidence the notebook produced scores a test of the rubric; the team's answers file scores
the rest. A measured failure scores 0 even where the answers say otherwise: the answers file
cannot overrule what the notebook saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pilot2prod.errors import ParameterError
from pilot2prod.production import rubric

#: Keys of the answers file besides ``tests``.
ANSWER_KEYS = ("tests", "owners", "practices")
#: Practices the maturity level asks about that the notebook cannot see.
PRACTICES = ("ci", "auto_retraining")
OWNER_ROLES = ("service", "model", "data", "business")


@dataclass(frozen=True)
class Answers:
    tests: dict[str, Any] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    practices: dict[str, bool] = field(default_factory=dict)


def read_answers(data: dict[str, Any] | None) -> Answers:
    """Check the answers file's content (already read as a mapping)."""
    if not data:
        return Answers()
    unknown = sorted(set(data) - set(ANSWER_KEYS))
    if unknown:
        raise ParameterError(
            f"Parameter answers_path: unknown section '{unknown[0]}'; use {', '.join(ANSWER_KEYS)}."
        )
    tests = data.get("tests") or {}
    owners = data.get("owners") or {}
    practices = data.get("practices") or {}
    for name, value in (("tests", tests), ("owners", owners), ("practices", practices)):
        if not isinstance(value, dict):
            raise ParameterError(f"Parameter answers_path: '{name}' must be a mapping.")
    bad_role = sorted(set(owners) - set(OWNER_ROLES))
    if bad_role:
        raise ParameterError(
            f"Parameter answers_path: owner role '{bad_role[0]}' is not one of "
            f"{', '.join(OWNER_ROLES)}."
        )
    bad_practice = sorted(set(practices) - set(PRACTICES))
    if bad_practice:
        raise ParameterError(
            f"Parameter answers_path: practice '{bad_practice[0]}' is not one of "
            f"{', '.join(PRACTICES)}."
        )
    for k, v in practices.items():
        if not isinstance(v, bool):
            raise ParameterError(f"Parameter answers_path: practice {k} must be true or false.")
    return Answers(
        {str(k): v for k, v in tests.items()},
        {str(k): str(v) for k, v in owners.items()},
        {str(k): bool(v) for k, v in practices.items()},
    )


@dataclass(frozen=True)
class Measured:
    """What the notebook showed; None where it could not look."""

    contract_given: bool
    contract_passed: bool | None
    masked_before_model: bool
    simpler_compared: bool  # Chapter 3's ladder compared simpler approaches
    slices_judged: bool
    reproducible: bool | None
    gate_ran: bool
    canary_passed: bool | None
    rollback_passed: bool | None
    skew_free: bool | None  # the service served what the model predicts in process
    latency_within_budget: bool | None
    drift_checked: bool
    registry: bool


def evidence(m: Measured) -> dict[str, tuple[float, str]]:
    """Rubric test -> (score, what shows it)."""
    out: dict[str, tuple[float, str]] = {}
    if m.contract_given:
        out["data.1"] = (1.0, "Chapter 2's data contract, checked by this notebook")
        out["monitoring.2"] = (
            (1.0, "production inputs pass the contract")
            if m.contract_passed
            else (0.0, "production inputs break the contract")
        )
    if m.masked_before_model:
        out["data.5"] = (1.0, "personal data masked before the model; the log holds no text")
    if m.simpler_compared:
        out["model.5"] = (1.0, "Chapter 3 compared the ladder of simpler approaches")
    if m.slices_judged:
        out["model.6"] = (1.0, "accuracy per slice judged by the promotion gate")
    if m.reproducible is not None:
        out["infrastructure.1"] = (
            (1.0, "trained twice: identical predictions")
            if m.reproducible
            else (0.0, "trained twice: predictions differ")
        )
    if m.gate_ran:
        out["infrastructure.4"] = (1.0, "promotion gate on held-out tickets before serving")
    if m.canary_passed is not None:
        out["infrastructure.6"] = (
            (0.5, "rollout, kill switch and shadow mode tested on loopback, not yet live")
            if m.canary_passed
            else (0.0, "the service's smoke test failed")
        )
    if m.rollback_passed is not None:
        out["infrastructure.7"] = (
            (1.0, "rollback drill passed") if m.rollback_passed else (0.0, "rollback drill failed")
        )
    if m.skew_free is not None:
        out["monitoring.3"] = (
            (1.0, "the service serves exactly the model's in-process predictions")
            if m.skew_free
            else (0.0, "the service's predictions differ from the model's in process")
        )
    if m.latency_within_budget is not None:
        out["monitoring.6"] = (
            (0.5, "latency measured against its budget in this run")
            if m.latency_within_budget
            else (0.0, "latency over budget")
        )
    return out


def maturity(m: Measured, answers: Answers) -> tuple[int, list[str]]:
    facts = {
        "ci": answers.practices.get("ci", False),
        "tracked_training": m.registry,
        "registry": m.registry,
        "reproducible": bool(m.reproducible),
        "gated_release": m.gate_ran,
        "rollback": bool(m.rollback_passed),
        "monitoring": m.drift_checked,
        "auto_retraining": answers.practices.get("auto_retraining", False),
    }
    return rubric.maturity_level(facts)


@dataclass(frozen=True)
class Decision:
    go: bool
    blockers: list[str]
    conditions: list[str]  # to fix soon, not blocking

    @property
    def verdict(self) -> str:
        return "GO" if self.go else "NO-GO"


def go_no_go(
    m: Measured,
    drift_flagged: list[str],
    drift_band: str,
    score: rubric.Rubric,
    service_levels_hold: bool | None,
) -> Decision:
    """NO-GO while anything that makes production unsafe is measured: a failed rollback,
    a failed smoke test, skew, latency or service levels broken, inputs breaking the contract,
    or inputs that moved significantly from what the model learned. The rubric's weak
    sections are conditions, not blockers: they say what to build next."""
    blockers, conditions = [], []
    if m.rollback_passed is False:
        blockers.append("the rollback drill failed")
    if m.canary_passed is False:
        blockers.append("the service's smoke test failed")
    if m.skew_free is False:
        blockers.append("the service serves other predictions than the model in process")
    if m.latency_within_budget is False:
        blockers.append("latency is over budget")
    if service_levels_hold is False:
        blockers.append("a service level objective is broken")
    if m.contract_passed is False:
        blockers.append("production inputs break the data contract")
    if drift_band == "significant shift" and drift_flagged:
        blockers.append(
            "production inputs drifted significantly from the training data ("
            + ", ".join(drift_flagged)
            + "): label a sample of the new inputs and put a retrained challenger through "
            "the gate"
        )
    elif drift_flagged:
        conditions.append("moderate drift in " + ", ".join(drift_flagged) + ": review weekly")
    if m.rollback_passed is None:
        conditions.append("no rollback drill yet (needs two registered versions)")
    if m.canary_passed is None:
        conditions.append("the service was not started (serve_requests is 0)")
    if not m.contract_given:
        conditions.append("no data contract checks the inputs")
    if score.missing:
        conditions.append(f"{len(score.missing)} rubric tests unanswered")
    conditions.append(
        f"weakest rubric section: {score.weakest} ({score.sections[score.weakest]:g})"
    )
    return Decision(not blockers, blockers, conditions)
