"""The organisation around the system: who is accountable (RACI), where change stalls
(ADKAR), and what the EU AI Act asks of it (a screen, not legal advice).

Every check returns findings as rows (what, where, why it matters), so that the notebook can
show them and the change plan can take them over; nothing here guesses from names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pilot2prod.engagement import ROLES
from pilot2prod.errors import ParameterError
from pilot2prod.handoff import load_mapping

#: Activities every production AI system needs someone for (the RACI matrix's rows).
ACTIVITIES = (
    "define metric",
    "own data",
    "build",
    "deploy",
    "monitor",
    "on-call",
    "legal review",
    "train users",
)
#: Roles a project needs covered (a person's ``role`` in the register).
REQUIRED_ROLES = ROLES
LETTERS = ("R", "A", "C", "I")
#: Someone accountable or responsible for more activities than this is overloaded.
OVERLOAD = 4


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    group: str = ""


@dataclass
class Register:
    """The stakeholder register: people, and the RACI matrix over activities."""

    people: dict[str, Person]
    raci: dict[str, dict[str, str]]  # activity -> person -> letters ("R", "A", "RA", ...)
    extra_activities: list[str] = field(default_factory=list)


def read_register(path: str | Path, parameter: str = "stakeholders_path") -> Register:
    """``people:`` (name, role, group) and ``raci:`` (activity: {person: letters}); checked."""
    p = Path(path)
    data = load_mapping(p, parameter, "stakeholder register")
    if not isinstance(data.get("people"), list):
        raise ParameterError(
            f"Parameter {parameter}: '{p.name}' must hold people: (a list of name, role, group) "
            "and raci: (activity: {person: R, A, C or I})."
        )
    people = {}
    for i, entry in enumerate(data["people"], start=1):
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("role"):
            raise ParameterError(f"Parameter {parameter}: person {i} needs a name and a role.")
        people[str(entry["name"])] = Person(
            str(entry["name"]), str(entry["role"]), str(entry.get("group", ""))
        )
    raci_in = data.get("raci") or {}
    if not isinstance(raci_in, dict):
        raise ParameterError(f"Parameter {parameter}: raci must map activities to people.")
    extra = [str(a) for a in data.get("activities", []) or []]
    known = list(ACTIVITIES) + extra
    raci: dict[str, dict[str, str]] = {}
    for activity, cells in raci_in.items():
        if activity not in known:
            import difflib

            close = difflib.get_close_matches(str(activity), known, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ParameterError(
                f"Parameter {parameter}: the RACI matrix names activity '{activity}', which is "
                f"not one of {', '.join(known)}.{hint} Add your own under activities:."
            )
        if not isinstance(cells, dict):
            raise ParameterError(
                f"Parameter {parameter}: the RACI row '{activity}' must map people to letters."
            )
        for person, letters in cells.items():
            if person not in people:
                raise ParameterError(
                    f"Parameter {parameter}: the RACI row '{activity}' names '{person}', who is "
                    "not in people:; add them to the register."
                )
            text = str(letters).replace(",", "").replace(" ", "").upper()
            if not text or set(text) - set(LETTERS):
                raise ParameterError(
                    f"Parameter {parameter}: '{person}' in '{activity}' has '{letters}'; use R, "
                    "A, C or I (or a combination such as RA)."
                )
        raci[str(activity)] = {
            person: str(letters).replace(",", "").replace(" ", "").upper()
            for person, letters in cells.items()
        }
    return Register(people, raci, extra)


def raci_findings(register: Register) -> pd.DataFrame:
    """The RACI checks: exactly one Accountable and at least one Responsible per activity;
    every required role held; nobody overloaded; no single point of failure."""
    rows = []

    def add(check: str, where: str, finding: str, action: str) -> None:
        rows.append({"check": check, "where": where, "finding": finding, "action": action})

    activities = list(ACTIVITIES) + register.extra_activities
    for activity in activities:
        cells = register.raci.get(activity, {})
        accountable = [p for p, letters in cells.items() if "A" in letters]
        responsible = [p for p, letters in cells.items() if "R" in letters]
        if not accountable:
            add(
                "one Accountable",
                activity,
                "nobody is accountable",
                f"name one person accountable for '{activity}'",
            )
        elif len(accountable) > 1:
            add(
                "one Accountable",
                activity,
                f"{len(accountable)} are accountable ({', '.join(accountable)})",
                f"keep one of {', '.join(accountable)} accountable",
            )
        if not responsible:
            add(
                "a Responsible",
                activity,
                "nobody is responsible",
                f"name who does the work of '{activity}'",
            )
    held = {p.role.lower() for p in register.people.values()}
    for role in REQUIRED_ROLES:
        if role.lower() not in held:
            add(
                "roles covered",
                role,
                f"nobody holds the role '{role}'",
                f"name someone for the {role} role before going live",
            )
    load: dict[str, int] = {}
    for cells in register.raci.values():
        for person, letters in cells.items():
            if "A" in letters or "R" in letters:
                load[person] = load.get(person, 0) + 1
    for person, n in sorted(load.items()):
        if n > OVERLOAD:
            add(
                "overload",
                person,
                f"accountable or responsible for {n} activities",
                "hand some of them to a deputy",
            )
    owners = [p for p in register.people.values() if p.role.lower() == "business owner"]
    if len(owners) == 1:
        add(
            "single point of failure",
            owners[0].name,
            "the only business owner (sponsor)",
            "name a deputy sponsor, so the project survives a change of role",
        )
    for activity in activities:
        cells = register.raci.get(activity, {})
        doers = [p for p, letters in cells.items() if "R" in letters]  # none: reported above
        if len(doers) == 1 and activity in ("on-call", "deploy", "monitor"):
            add(
                "single point of failure",
                activity,
                f"only {doers[0]} can do it",
                f"train a second person for '{activity}'",
            )
    return pd.DataFrame(rows, columns=["check", "where", "finding", "action"])


# --------------------------------------------------------------------------- ADKAR
ADKAR = ("awareness", "desire", "knowledge", "ability", "reinforcement")
ADKAR_ACTIONS = {
    "awareness": "explain why the change is happening: the metric, the baseline, the problem",
    "desire": "show what is in it for them; involve them in the pilot's decisions",
    "knowledge": "train them on how the system works and when to override it",
    "ability": "coach on the job; give time to practise with real cases",
    "reinforcement": "share the measured wins; recognise use; fix what they report",
}
#: A rating at or below this is a barrier (ADKAR: the first such element blocks the rest).
BARRIER = 3.0


def adkar_barriers(survey: pd.DataFrame, group: str = "group") -> pd.DataFrame:
    """The mean rating of each element per group and the barrier point: the first element (in
    ADKAR order) rated at or below 3, with the action that addresses it."""
    missing = [e for e in ADKAR if e not in survey.columns]
    if missing:
        raise ParameterError(
            f"Parameter survey_path: the survey lacks {', '.join(missing)}; give one column per "
            f"ADKAR element ({', '.join(ADKAR)}) rated 1-5."
        )
    values = survey[list(ADKAR)].apply(pd.to_numeric, errors="coerce")
    bad = values.notna() & ((values < 1) | (values > 5))
    if bad.any().any() or (values.isna() & survey[list(ADKAR)].notna()).any().any():
        column = next(c for c in ADKAR if bad[c].any() or values[c].isna().any())
        raise ParameterError(
            f"Parameter survey_path: '{column}' has ratings outside 1-5; every ADKAR rating is "
            "a whole number from 1 to 5."
        )
    means = values.groupby(survey[group]).mean()
    rows = []
    for key, row in means.iterrows():
        barrier = next((e for e in ADKAR if row[e] <= BARRIER), None)
        rows.append(
            {
                group: key,
                **{e: float(row[e]) for e in ADKAR},
                "respondents": int((survey[group] == key).sum()),
                "barrier": barrier or "",
                "action": ADKAR_ACTIONS[barrier] if barrier else "",
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- EU AI Act
#: The screen's questions, each answered yes or no, and the category a yes points to.
AI_ACT_QUESTIONS = {
    "manipulates_or_exploits": "prohibited",  # Art. 5(1)(a)-(b)
    "social_scoring": "prohibited",  # Art. 5(1)(c)
    "emotion_recognition_at_work": "prohibited",  # Art. 5(1)(f)
    "biometric_categorisation_sensitive": "prohibited",  # Art. 5(1)(g)
    "employment_decisions": "high-risk",  # Annex III(4): recruit, allocate tasks, evaluate
    "essential_services_access": "high-risk",  # Annex III(5): credit, benefits, insurance
    "education_access": "high-risk",  # Annex III(3)
    "safety_component": "high-risk",  # Annex I products / critical infrastructure
    "interacts_with_customers": "transparency",  # Art. 50(1): tell people it is an AI
    "generates_content": "transparency",  # Art. 50(2): mark synthetic content
}
AI_ACT_OBLIGATIONS = {
    "prohibited": (
        "Prohibited practice (Art. 5): it may not be placed on the market or used in the EU; "
        "applies since 2 February 2025.",
    ),
    "high-risk": (
        "High-risk (Art. 6, Annex III): risk management, data governance, technical "
        "documentation, logging, transparency to deployers, human oversight, accuracy and "
        "robustness, a conformity assessment and registration; deployers must use it as "
        "instructed, assign human oversight, keep logs, inform affected workers and, for some, "
        "assess fundamental-rights impact. Applies from 2 August 2026 (watch for amendments "
        "to the dates).",
    ),
    "transparency": (
        "Transparency (Art. 50): tell people they are dealing with an AI system and mark "
        "generated content; applies from 2 August 2026.",
    ),
    "minimal": (
        "Minimal risk: no specific obligations under the Act; AI literacy of staff (Art. 4) "
        "applies since 2 February 2025.",
    ),
}
DISCLAIMER = "This is a screen to prepare a conversation with legal counsel, not legal advice."


def ai_act_screen(answers: dict[str, Any]) -> dict[str, Any]:
    """The category the answers point to (the strictest), every reason, and the obligations."""
    unknown = sorted(set(answers) - set(AI_ACT_QUESTIONS))
    if unknown:
        raise ParameterError(
            f"Parameter ai_act_path: unknown question '{unknown[0]}'; the screen asks "
            f"{', '.join(AI_ACT_QUESTIONS)}."
        )
    reasons: dict[str, list[str]] = {}
    unanswered = []
    for question, category in AI_ACT_QUESTIONS.items():
        value = answers.get(question)
        if value is None:
            unanswered.append(question)
        elif value is True or str(value).lower() in ("yes", "true", "y"):
            reasons.setdefault(category, []).append(question)
    order = ("prohibited", "high-risk", "transparency")
    category = next((c for c in order if c in reasons), "minimal")
    obligations = [line for c in order if c in reasons for line in AI_ACT_OBLIGATIONS[c]]
    if category == "minimal":
        obligations = list(AI_ACT_OBLIGATIONS["minimal"])
    return {
        "category": category,
        "reasons": reasons,
        "unanswered": unanswered,
        "obligations": obligations,
        "disclaimer": DISCLAIMER,
    }


# --------------------------------------------------------------------------- HAX
#: The 18 guidelines for human-AI interaction (Amershi et al., CHI 2019).
HAX_GUIDELINES = {
    "G1": "Make clear what the system can do",
    "G2": "Make clear how well the system can do what it can do",
    "G3": "Time services based on context",
    "G4": "Show contextually relevant information",
    "G5": "Match relevant social norms",
    "G6": "Mitigate social biases",
    "G7": "Support efficient invocation",
    "G8": "Support efficient dismissal",
    "G9": "Support efficient correction",
    "G10": "Scope services when in doubt",
    "G11": "Make clear why the system did what it did",
    "G12": "Remember recent interactions",
    "G13": "Learn from user behavior",
    "G14": "Update and adapt cautiously",
    "G15": "Encourage granular feedback",
    "G16": "Convey the consequences of user actions",
    "G17": "Provide global controls",
    "G18": "Notify users about changes",
}
HAX_SCORES = {"yes": 1.0, "partly": 0.5, "no": 0.0}


def _answer_text(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value).strip().lower()


def hax_scorecard(answers: dict[str, Any]) -> pd.DataFrame:
    """One row per guideline: the answer (yes, partly, no, not applicable, or unanswered), its
    score (1, 0.5, 0; none when not applicable) and the note."""
    unknown = sorted(set(answers) - set(HAX_GUIDELINES))
    if unknown:
        raise ParameterError(
            f"Parameter hax_path: '{unknown[0]}' is not a guideline; use G1 to G18."
        )
    rows = []
    for key, text in HAX_GUIDELINES.items():
        entry = answers.get(key)
        note = ""
        if isinstance(entry, dict):
            note = str(entry.get("note", ""))
            entry = entry.get("answer")
        answer = "unanswered" if entry is None else _answer_text(entry)
        if answer not in (*HAX_SCORES, "not applicable", "unanswered"):
            raise ParameterError(
                f"Parameter hax_path: {key} is answered '{entry}'; use yes, partly, no or not "
                "applicable."
            )
        score = HAX_SCORES.get(answer, 0.0 if answer == "unanswered" else None)
        rows.append(
            {"guideline": key, "text": text, "answer": answer, "score": score, "note": note}
        )
    return pd.DataFrame(rows)
