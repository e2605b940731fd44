"""Production readiness as the ML Test Score rubric (Breck et al., "The ML Test Score: A Rubric
for ML Production Readiness and Technical Debt Reduction", IEEE Big Data 2017), and an MLOps
maturity level (Microsoft's model, levels 0 to 4).

Each of the 28 tests scores 0 (not done), 0.5 (done manually, with the result documented) or 1
(automated and run repeatedly). The final score is the *minimum* of the four section sums, as
the paper reads it: a system is only as ready as its weakest section. Scores come from evidence
the notebook can show (a rollback drill that passed, a contract that validated, a simpler model
compared) and, for the rest, from an answers file; a missing answer counts 0 and is listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from pilot2prod.errors import ParameterError

SECTIONS = ("data", "model", "infrastructure", "monitoring")
TESTS: dict[str, str] = {
    "data.1": "Feature expectations are captured in a schema",
    "data.2": "All features are beneficial",
    "data.3": "No feature's cost is too much",
    "data.4": "Features adhere to meta-level requirements",
    "data.5": "The data pipeline has appropriate privacy controls",
    "data.6": "New features can be added quickly",
    "data.7": "All input feature code is tested",
    "model.1": "Model specs are reviewed and submitted",
    "model.2": "Offline and online metrics correlate",
    "model.3": "All hyperparameters have been tuned",
    "model.4": "The impact of model staleness is known",
    "model.5": "A simpler model is not better",
    "model.6": "Model quality is sufficient on important data slices",
    "model.7": "The model is tested for considerations of inclusion",
    "infrastructure.1": "Training is reproducible",
    "infrastructure.2": "Model specs are unit tested",
    "infrastructure.3": "The ML pipeline is integration tested",
    "infrastructure.4": "Model quality is validated before serving",
    "infrastructure.5": "The model is debuggable",
    "infrastructure.6": "Models are canaried before serving",
    "infrastructure.7": "Serving models can be rolled back",
    "monitoring.1": "Dependency changes result in notification",
    "monitoring.2": "Data invariants hold for inputs",
    "monitoring.3": "Training and serving are not skewed",
    "monitoring.4": "Models are not too stale",
    "monitoring.5": "Models are numerically stable",
    "monitoring.6": "Computing performance has not regressed",
    "monitoring.7": "Prediction quality has not regressed",
}
ANSWERS = {"no": 0.0, "manual": 0.5, "automated": 1.0}
#: The paper's reading of the final score (Table 2): (upper bound, reading).
READINGS = (
    (0.0, "More of a research project than a productionized system."),
    (1.0, "Not totally untested, but there may be serious holes in reliability."),
    (2.0, "A first pass at basic productionization; more investment may be needed."),
    (3.0, "Reasonably tested; more of the tests and procedures may be automated."),
    (5.0, "Strong automated testing and monitoring, fit for mission-critical systems."),
    (float("inf"), "Exceptional levels of automated testing and monitoring."),
)


@dataclass(frozen=True)
class Rubric:
    table: pd.DataFrame  # test, section, text, score, source (evidence, answer, missing), note
    sections: dict[str, float]
    score: float
    reading: str
    missing: list[str]

    @property
    def weakest(self) -> str:
        return min(self.sections, key=self.sections.get)


def _answer(test: str, value: Any) -> float:
    text = str(value).strip().lower() if value is not None else ""
    if isinstance(value, bool):
        text = "automated" if value else "no"
    if text not in ANSWERS:
        raise ParameterError(
            f"Parameter answers_path: {test} is answered '{value}'; use no, manual or automated."
        )
    return ANSWERS[text]


def ml_test_score(evidence: dict[str, tuple[float, str]], answers: dict[str, Any]) -> Rubric:
    """``evidence``: test id -> (score, what shows it), from what the notebook measured;
    ``answers``: test id -> no / manual / automated, from the team. Evidence wins where both
    exist; a test with neither scores 0 and is listed as missing."""
    unknown = sorted((set(evidence) | set(answers)) - set(TESTS))
    if unknown:
        raise ParameterError(
            f"Parameter answers_path: '{unknown[0]}' is not a test of the rubric; use data.1 to "
            "data.7, model.1 to model.7, infrastructure.1 to infrastructure.7, monitoring.1 to "
            "monitoring.7."
        )
    rows, missing = [], []
    for test, text in TESTS.items():
        section = test.split(".")[0]
        if test in evidence:
            score, note = evidence[test]
            source = "evidence"
        elif answers.get(test) is not None:
            score, note, source = _answer(test, answers[test]), "", "answer"
        else:
            score, note, source = 0.0, "no answer", "missing"
            missing.append(test)
        rows.append(
            {
                "test": test,
                "section": section,
                "text": text,
                "score": float(score),
                "source": source,
                "note": note,
            }
        )
    table = pd.DataFrame(rows)
    sections = {s: float(table.loc[table["section"] == s, "score"].sum()) for s in SECTIONS}
    score = min(sections.values())
    reading = next(text for bound, text in READINGS if score <= bound)
    return Rubric(table, sections, score, reading, missing)


#: Microsoft's MLOps maturity model: level -> what it means.
MATURITY = {
    0: "No MLOps: manual, hand-run training and deployment.",
    1: "DevOps but no MLOps: automated builds and tests of the code, manual releases of models.",
    2: "Automated training: tracked, reproducible training, models managed in a registry.",
    3: "Automated model deployment: a gated, automated release with monitoring and rollback.",
    4: "Full MLOps automated operations: retraining triggered by monitoring, no hands needed.",
}


def maturity_level(evidence: dict[str, bool]) -> tuple[int, list[str]]:
    """The highest level whose conditions (and every lower level's) hold, and what is missing
    for the next. Keys: ``ci`` (code built and tested automatically), ``tracked_training``
    (experiments and data versions recorded), ``registry`` (models versioned),
    ``reproducible`` (training twice gives the same model), ``gated_release`` (promotion
    through an automated gate), ``rollback`` (a tested rollback), ``monitoring`` (drift and
    service alerts), ``auto_retraining`` (monitoring triggers retraining)."""
    levels = {
        1: ("ci",),
        2: ("tracked_training", "registry", "reproducible"),
        3: ("gated_release", "rollback", "monitoring"),
        4: ("auto_retraining",),
    }
    level = 0
    for n in sorted(levels):
        if all(evidence.get(k, False) for k in levels[n]):
            level = n
        else:
            return level, [k for k in levels[n] if not evidence.get(k, False)]
    return level, []
