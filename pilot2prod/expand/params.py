"""Parameters of the "expand from proven wins" notebook, declared once.

The candidates are a small YAML file the team writes (see ``datasets/acme/next_use_cases.yaml``);
data readiness comes from Chapter 2's ``audit.json`` when it is given, and a proven win from the
impact notebook's ``results.json``. The sample company's files are named in
``engagements/acme.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pilot2prod import params
from pilot2prod.errors import ParameterError
from pilot2prod.params import param, shown

CRITERIA = ("value", "readiness", "feasibility", "risk")


def parse_weights(text: str) -> dict[str, float]:
    """``"value:0.4,readiness:0.3,..."`` -> weights over the four criteria, summing to 1."""
    weights = {}
    for item in (part.strip() for part in text.split(",") if part.strip()):
        name, sep, number = item.partition(":")
        name = name.strip()
        if not sep or name not in CRITERIA:
            raise ParameterError(
                f"Parameter weights: {shown(item)} is not criterion:weight with a criterion among "
                f"{', '.join(CRITERIA)}; e.g. value:0.4,readiness:0.25,feasibility:0.2,risk:0.15."
            )
        try:
            weights[name] = float(number)
        except ValueError:
            raise ParameterError(f"Parameter weights: {shown(number)} is not a number.") from None
        if weights[name] < 0:
            raise ParameterError(f"Parameter weights: the weight of {name} is negative.")
    missing = [c for c in CRITERIA if c not in weights]
    if missing:
        raise ParameterError(
            f"Parameter weights lacks {', '.join(missing)}; give a weight for each of "
            f"{', '.join(CRITERIA)}."
        )
    total = sum(weights.values())
    if total <= 0:
        raise ParameterError("Parameter weights: at least one weight must be positive.")
    return {k: v / total for k, v in weights.items()}


@dataclass(frozen=True)
class Parameters(params.Parameters):
    """Parameters of ``notebooks/07_next_use_cases.ipynb``."""

    notebook: ClassVar[str] = "07_next_use_cases"

    candidates_path: str = param(
        "",
        "YAML file of candidate use cases (name, value, sources, approach, risk...)",
        path="file",
    )
    audit_path: str = param(
        "",
        'audit.json of the data-audit notebook (data readiness); "" to rate it unaudited',
        path="file",
    )
    impact_path: str = param(
        "", 'results.json of the impact notebook (the proven win); "" for none', path="file"
    )
    weights: str = param(
        "value:0.4,readiness:0.25,feasibility:0.2,risk:0.15",
        "weight of each criterion, criterion:weight, comma-separated (normalised to sum to 1)",
    )
    currency: str = param("", 'currency of the value column, e.g. EUR; "" for none')
    output_dir: str = param(
        "", 'folder for results.json; "" for a new folder under runs/', path="output"
    )

    def check(self) -> None:
        if not self.candidates_path:
            raise ParameterError(
                "Parameter candidates_path is empty; give the YAML file of candidate use cases, "
                "e.g. candidates_path=next_use_cases.yaml (see engagements/template.yaml)."
            )
        parse_weights(self.weights)
