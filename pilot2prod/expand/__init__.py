"""Expand from proven wins: rank the candidate next use cases by value, data readiness (from
the audit), feasibility (the simplest approach, and whether it builds on the proven pilot) and
risk, with the reasoning shown for each."""

from pilot2prod.expand.params import Parameters
from pilot2prod.lazy import lazy_attributes

_LAZY = {
    "Result": "pilot2prod.expand.result",
    "run": "pilot2prod.expand.result",
}

__all__ = ["Parameters", "Result", "run"]


__getattr__ = lazy_attributes(_LAZY, globals())
