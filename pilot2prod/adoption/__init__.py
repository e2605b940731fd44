"""Chapter 5: get the organisation ready - adoption, trust calibration, accountability (RACI),
change readiness (ADKAR), human-AI interaction (HAX), the EU AI Act screen, a readiness score
and a change plan."""

from pilot2prod.adoption.params import Parameters
from pilot2prod.lazy import lazy_attributes

_LAZY = {
    "Result": "pilot2prod.adoption.result",
    "run": "pilot2prod.adoption.result",
}

__all__ = ["Parameters", "Result", "run"]


__getattr__ = lazy_attributes(_LAZY, globals())
