"""Chapter 5 as a whole: ``run(p) -> Result``, the organisation's readiness and a change plan."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pilot2prod.adoption import measures, organisation
from pilot2prod.adoption.data import Usage, coverage, load_usage, read_answers, read_survey
from pilot2prod.adoption.measures import Comparison, Reliance
from pilot2prod.adoption.params import Parameters
from pilot2prod.chapter import Headline

#: Weeks at the end of the log in which a user counts as active.
ACTIVE_WEEKS = 4
#: What the AI Act category leaves of compliance readiness (obligations still to meet).
AI_ACT_READINESS = {"minimal": 100.0, "transparency": 80.0, "high-risk": 40.0, "prohibited": 0.0}
#: Each RACI finding takes this much off accountability.
RACI_FINDING_COST = 15.0
BANDS = ((75.0, "READY"), (50.0, "NEARLY READY"), (0.0, "NOT READY"))


@dataclass
class Result:
    params: Parameters
    usage: Usage
    by_group: pd.DataFrame
    coverage: pd.DataFrame | None
    spread: pd.DataFrame  # acceptance over the users of each group, nobody named
    by_band: pd.DataFrame | None
    weekly: pd.DataFrame
    laggards: list[Comparison]
    reliance: Reliance | None
    active_users: int
    eligible_users: int
    register: organisation.Register | None
    raci: pd.DataFrame | None
    adkar: pd.DataFrame | None
    hax: pd.DataFrame | None
    ai_act: dict[str, Any] | None
    components: pd.DataFrame  # component, score (0-100), basis
    plan: pd.DataFrame  # finding, action, owner, when

    @property
    def score(self) -> float:
        scored = self.components["score"].dropna()
        return float(scored.mean()) if len(scored) else math.nan

    @property
    def band(self) -> str:
        return next(label for floor, label in BANDS if self.score >= floor)

    def named(self, which: str) -> list[str]:
        if which == "laggards":
            return [c.group for c in self.laggards if c.named]
        if self.reliance is None:
            return []
        found = self.reliance.over_relying if which == "over" else self.reliance.under_relying
        return [c.group for c in found if c.named]

    def headline(self) -> Headline:
        parts = [f"Organisational readiness {self.score:.0f}/100 ({self.band.lower()})"]
        if self.named("laggards"):
            parts.append(f"{', '.join(self.named('laggards'))} lag behind in adoption")
        if self.named("over"):
            parts.append(f"{', '.join(self.named('over'))} accept wrong suggestions too often")
        if self.named("under"):
            parts.append(f"{', '.join(self.named('under'))} override correct ones too often")
        if self.raci is not None and len(self.raci):
            parts.append(f"{len(self.raci)} accountability gap(s)")
        answer = "; ".join(parts) + f". The change plan lists {len(self.plan)} actions."
        overall = measures.rates_by(self.usage.frame.assign(all="all"), "all").iloc[0]
        facts = [
            ("Suggestions", f"{len(self.usage.frame):,}"),
            ("Accepted", f"{overall['accepted']:.1%}"),
            ("Active users", f"{self.active_users} of {self.eligible_users}"),
        ]
        facts += [
            (row.component, "n/a" if pd.isna(row.score) else f"{row.score:.0f}/100")
            for row in self.components.itertuples()
        ]
        if self.ai_act:
            facts.append(("EU AI Act screen", self.ai_act["category"]))
        return Headline(answer, self.band, facts)

    def glue_values(self) -> dict[str, Any]:
        g = self.by_group.set_index("group")["accepted"]
        rel = self.reliance.table.set_index("group") if self.reliance else None
        return {
            "c5_score": self.score,
            "c5_suggestions": len(self.usage.frame),
            "c5_accept_max_pct": 100 * float(g.max()),
            "c5_accept_min_pct": 100 * float(g.min()),
            "c5_reviewed": self.reliance.reviewed if self.reliance else 0,
            "c5_self_reliance_min_pct": 100 * float(rel["self_reliance"].min())
            if rel is not None
            else math.nan,
            "c5_ai_reliance_min_pct": 100 * float(rel["ai_reliance"].min())
            if rel is not None
            else math.nan,
            "c5_raci_findings": len(self.raci) if self.raci is not None else 0,
            "c5_actions": len(self.plan),
        }

    def sentences(self) -> dict[str, str]:
        """The texts the Chapter 5 prose quotes (glued without quotes)."""
        return {
            "c5_statement": self.headline().answer,
            "c5_laggards": ", ".join(self.named("laggards")) or "none",
            "c5_over": ", ".join(self.named("over")) or "none",
            "c5_under": ", ".join(self.named("under")) or "none",
            "c5_ai_act": self.ai_act["category"] if self.ai_act else "not screened",
        }

    def results(self) -> dict[str, Any]:
        def comparisons(items: list[Comparison]) -> list[dict]:
            return [c.__dict__ for c in items]

        return {
            "notebook": Parameters.notebook,
            "source": self.usage.source,
            "suggestions": len(self.usage.frame),
            "readiness": {
                "score": self.score,
                "band": self.band,
                "components": self.components.to_dict(orient="records"),
            },
            "statement": self.headline().answer,
            "by_group": self.by_group.to_dict(orient="records"),
            "coverage": (
                self.coverage.to_dict(orient="records") if self.coverage is not None else None
            ),
            "active_users": self.active_users,
            "eligible_users": self.eligible_users,
            "laggards": comparisons(self.laggards),
            "named": {
                "laggards": self.named("laggards"),
                "over_relying": self.named("over"),
                "under_relying": self.named("under"),
            },
            "reliance": (
                {
                    "reviewed": self.reliance.reviewed,
                    "by_group": self.reliance.table.to_dict(orient="records"),
                    "over_relying": comparisons(self.reliance.over_relying),
                    "under_relying": comparisons(self.reliance.under_relying),
                }
                if self.reliance
                else None
            ),
            "raci_findings": self.raci.to_dict(orient="records") if self.raci is not None else None,
            "adkar": self.adkar.to_dict(orient="records") if self.adkar is not None else None,
            "hax": self.hax.to_dict(orient="records") if self.hax is not None else None,
            "ai_act": self.ai_act,
            "change_plan": self.plan.to_dict(orient="records"),
        }


def _owner(register: organisation.Register | None, role: str, group: str = "") -> str:
    if register is None:
        return f"the {role}"
    people = [p for p in register.people.values() if p.role.lower() == role.lower()]
    in_group = [p for p in people if group and p.group == group]
    chosen = in_group or people
    return chosen[0].name if chosen else f"(no {role} named: find one)"


def change_plan(r: Result) -> pd.DataFrame:
    """Finding, action, owner, when: one row per thing to do, most urgent first."""
    rows = []
    reg = r.register
    if r.ai_act and r.ai_act["category"] in ("prohibited", "high-risk", "transparency"):
        reasons = ", ".join(q for qs in r.ai_act["reasons"].values() for q in qs)
        rows.append(
            (
                "EU AI Act screen: " + r.ai_act["category"] + f" ({reasons})",
                r.ai_act["obligations"][0],
                _owner(reg, "data protection"),
                "before going live",
            )
        )
    if r.raci is not None:
        for f in r.raci.itertuples():
            rows.append(
                (
                    f"RACI, {f.check}: {f.where}: {f.finding}",
                    f.action,
                    _owner(reg, "business owner"),
                    "before expanding",
                )
            )
    for c in r.laggards:
        if c.named:
            rows.append(
                (
                    f"{c.group} accepts {c.rate:.0%} of suggestions, the others {c.others:.0%}",
                    "ask the team why (a shadowing session with its lead); pair it with a "
                    "team that uses it",
                    _owner(reg, "front-line expert", c.group),
                    "within 2 weeks",
                )
            )
    if r.reliance is not None:
        for c in r.reliance.over_relying:
            if c.named:
                rows.append(
                    (
                        f"{c.group} rejects only {c.rate:.0%} of wrong suggestions "
                        f"(others {c.others:.0%})",
                        "train when to override; show the confidence; review accepted errors "
                        "weekly with the team",
                        _owner(reg, "change lead"),
                        "within 4 weeks",
                    )
                )
        for c in r.reliance.under_relying:
            if c.named:
                rows.append(
                    (
                        f"{c.group} follows only {c.rate:.0%} of correct suggestions "
                        f"(others {c.others:.0%})",
                        "share the measured accuracy; explain suggestions; collect the "
                        "reasons for overrides",
                        _owner(reg, "change lead"),
                        "within 4 weeks",
                    )
                )
    if r.adkar is not None:
        for row in r.adkar.itertuples():
            if row.barrier:
                rows.append(
                    (
                        f"{row.group}: ADKAR barrier at {row.barrier}",
                        row.action,
                        _owner(reg, "change lead"),
                        "within 4 weeks",
                    )
                )
    if r.hax is not None:
        for row in r.hax.itertuples():
            if row.answer in ("no", "unanswered"):
                rows.append(
                    (
                        f"HAX {row.guideline} not met: {row.text}",
                        f"design it in: {row.text.lower()}",
                        _owner(reg, "ML engineer"),
                        "next release",
                    )
                )
    return pd.DataFrame(rows, columns=["finding", "action", "owner", "when"])


def _components(r: Result) -> pd.DataFrame:
    active = r.active_users / r.eligible_users if r.eligible_users else math.nan
    basis = (
        f"{r.active_users} of {r.eligible_users} eligible users active in the last "
        f"{ACTIVE_WEEKS} weeks"
    )
    if r.coverage is not None:
        covered = r.coverage["with_suggestion"].sum() / r.coverage["work_items"].sum()
        active = (active + covered) / 2
        basis += f"; {covered:.0%} of the eligible work got a suggestion"
    rows = [("adoption", 100 * active, basis)]
    if r.reliance is not None:
        t = r.reliance.table
        weights = t["reviewed"]
        both = (
            (t["ai_reliance"] * weights).sum() / weights.sum(),
            (t["self_reliance"] * weights).sum() / weights.sum(),
        )
        rows.append(
            (
                "trust calibration",
                50 * (both[0] + both[1]),
                "mean of following correct and rejecting wrong suggestions",
            )
        )
    else:
        rows.append(("trust calibration", math.nan, "needs a reviewed sample (review_path)"))
    if r.raci is not None:
        rows.append(
            (
                "accountability",
                max(0.0, 100 - RACI_FINDING_COST * len(r.raci)),
                f"{len(r.raci)} RACI finding(s)",
            )
        )
    else:
        rows.append(("accountability", math.nan, "needs a stakeholder register"))
    if r.adkar is not None:
        ratings = r.adkar[list(organisation.ADKAR)].to_numpy().mean()
        rows.append(("change readiness", 25 * (ratings - 1), "mean ADKAR rating, 1-5 as 0-100"))
    else:
        rows.append(("change readiness", math.nan, "needs an ADKAR survey"))
    if r.hax is not None:
        scored = r.hax["score"].dropna()
        rows.append(
            (
                "human-AI interaction",
                100 * scored.mean() if len(scored) else math.nan,
                f"{len(scored)} applicable guidelines",
            )
        )
    else:
        rows.append(("human-AI interaction", math.nan, "needs the HAX answers"))
    if r.ai_act:
        rows.append(
            (
                "compliance",
                AI_ACT_READINESS[r.ai_act["category"]],
                f"EU AI Act screen: {r.ai_act['category']}",
            )
        )
    else:
        rows.append(("compliance", math.nan, "needs the EU AI Act screen's answers"))
    return pd.DataFrame(rows, columns=["component", "score", "basis"])


def run(p: Parameters) -> Result:
    usage = load_usage(p)
    frame = usage.frame
    end = frame["time"].max()
    active = int(
        frame.loc[frame["time"] > end - pd.Timedelta(weeks=ACTIVE_WEEKS), "user"].nunique()
    )
    eligible = p.eligible_users or int(frame["user"].nunique())
    by_band = None
    if "confidence" in frame:
        banded = frame.assign(band=measures.confidence_bands(frame["confidence"]))
        by_band = measures.rates_by(banded, "band")
    register = organisation.read_register(p.stakeholders_path) if p.stakeholders_path else None
    survey = read_survey(p.survey_path, p.survey_group_column) if p.survey_path else None
    result = Result(
        params=p,
        usage=usage,
        by_group=measures.rates_by(frame, "group"),
        coverage=coverage(p, frame),
        spread=measures.user_spread(frame),
        by_band=by_band,
        weekly=measures.weekly(frame),
        laggards=measures.laggards(frame, alpha=p.alpha),
        reliance=measures.reliance(frame, alpha=p.alpha),
        active_users=active,
        eligible_users=eligible,
        register=register,
        raci=organisation.raci_findings(register) if register else None,
        adkar=(
            organisation.adkar_barriers(survey, p.survey_group_column).rename(
                columns={p.survey_group_column: "group"}
            )
            if survey is not None
            else None
        ),
        hax=organisation.hax_scorecard(read_answers(p.hax_path, "hax_path"))
        if p.hax_path
        else None,
        ai_act=(
            organisation.ai_act_screen(read_answers(p.ai_act_path, "ai_act_path"))
            if p.ai_act_path
            else None
        ),
        components=pd.DataFrame(),
        plan=pd.DataFrame(),
    )
    result.components = _components(result)
    result.plan = change_plan(result)
    return result
