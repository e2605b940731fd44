"""Chapter 5's parameters, declared once (the notebook's parameters cell is derived from this).

The usage log and its columns must be named; everything else is optional and its section says
what it needs when it is missing. The sample company's files are named in
``engagements/acme.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pilot2prod import params
from pilot2prod.errors import ParameterError
from pilot2prod.params import param


@dataclass(frozen=True)
class Parameters(params.Parameters):
    """Parameters of ``notebooks/05_adoption.ipynb``."""

    notebook: ClassVar[str] = "05_adoption"

    usage_path: str = param(
        "",
        "the AI usage log, one row per suggestion shown: a file, a database URL#table, ...",
        path="source",
    )
    id_column: str = param("", "column with the suggestion's id (joins the model log and review)")
    time_column: str = param("", "column with when the suggestion was shown")
    user_column: str = param("", "column with who saw it (agent)")
    group_column: str = param("", "column with the user's team")
    action_column: str = param("", "column with what the user did with the suggestion")
    suggestion_column: str = param("", 'column with the suggestion; "" for none')
    accepted_values: str = param(
        "accepted", "comma-separated values of action_column that mean accepted"
    )
    edited_values: str = param("edited", "comma-separated values of action_column that mean edited")
    overridden_values: str = param(
        "overridden", "comma-separated values of action_column that mean overridden (rejected)"
    )
    confidence_path: str = param(
        "",
        'the model log with its confidence per suggestion (joined on id_column); "" for none',
        path="source",
    )
    confidence_column: str = param("", "column of confidence_path with the confidence (0-1)")
    review_path: str = param(
        "", 'a reviewed sample: the correct answer per suggestion id; "" for none', path="source"
    )
    truth_column: str = param("", "column of review_path with the correct answer")
    work_path: str = param(
        "",
        "the eligible work (e.g. the tickets of the teams that have the system), for coverage: "
        'the share that got a suggestion; "" for none',
        path="source",
    )
    work_id_column: str = param("", "column of work_path with the work item's id")
    work_group_column: str = param("", 'column of work_path with the team; "" for none')
    work_time_column: str = param(
        "", 'column of work_path with when the item was created; "" to count all of it'
    )
    usage_work_column: str = param(
        "", "column of the usage log with the work item's id (e.g. ticket_id)"
    )
    eligible_users: int = param(
        0, "how many people could use the system; 0 for everyone who appears in the log"
    )
    stakeholders_path: str = param(
        "", 'stakeholder register with the RACI matrix (YAML); "" for none', path="file"
    )
    survey_path: str = param(
        "", 'ADKAR survey, one row per respondent rated 1-5 (CSV); "" for none', path="file"
    )
    survey_group_column: str = param("group", "column of the survey with the respondent's group")
    hax_path: str = param(
        "", 'answers on the 18 human-AI interaction guidelines (YAML); "" for none', path="file"
    )
    ai_act_path: str = param("", 'answers to the EU AI Act screen (YAML); "" for none', path="file")
    alpha: float = param(0.05, "significance level for naming laggard and reliance groups")
    output_dir: str = param(
        "", 'folder for results.json; "" for a new folder under runs/', path="output"
    )

    def check(self) -> None:
        if not self.usage_path:
            raise ParameterError(
                "Parameter usage_path is empty; give the AI usage log, e.g. "
                "usage_path=exports/ai_usage.csv."
            )
        for name, example in (
            ("id_column", "event_id"),
            ("time_column", "shown_at"),
            ("user_column", "agent_id"),
            ("group_column", "team"),
            ("action_column", "agent_action"),
        ):
            if not getattr(self, name):
                raise ParameterError(f"Parameter {name} is empty; give it, e.g. {name}={example}.")
        if self.confidence_path and not self.confidence_column:
            raise ParameterError(
                "Parameter confidence_column is empty but confidence_path is given; name the "
                "column with the confidence, e.g. confidence_column=confidence."
            )
        if self.review_path and not (self.truth_column and self.suggestion_column):
            raise ParameterError(
                "Parameter review_path is given; name truth_column (the correct answer) and "
                "suggestion_column (what the system suggested) too."
            )
        if self.work_path and not (self.work_id_column and self.usage_work_column):
            raise ParameterError(
                "Parameter work_path is given; name work_id_column (its id column) and "
                "usage_work_column (the same id in the usage log) too."
            )
        if self.eligible_users < 0:
            raise ParameterError("Parameter eligible_users must be 0 or more.")
        if not 0 < self.alpha < 0.5:
            raise ParameterError(f"Parameter alpha is {self.alpha}; use e.g. 0.05.")
        values = [
            v.strip()
            for text in (self.accepted_values, self.edited_values, self.overridden_values)
            for v in text.split(",")
            if v.strip()
        ]
        if len(values) != len(set(values)):
            raise ParameterError(
                "Parameters accepted_values, edited_values and overridden_values share a value; "
                "each action value belongs to one of them."
            )
        if not self.accepted_values.strip() or not self.overridden_values.strip():
            raise ParameterError(
                "Parameters accepted_values and overridden_values must name at least one value."
            )
