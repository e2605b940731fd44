"""The impact analysis: did the shipped system move the metric, against its baseline?

It reads Chapter 1's metric spec (or the same fields as parameters) and the events before and
after the launch, chooses the design the data supports (a randomised comparison,
difference-in-differences against control groups, or an interrupted time series), and reports
the change with its interval, the before/after measures behind it, the guardrails, and one
verdict against the target: met, not met, or inconclusive with the data needed to decide.
"""

from pilot2prod.impact.params import Parameters
from pilot2prod.lazy import lazy_attributes

# The rest loads on first use (pilot2prod.lazy).
_LAZY = {
    "Result": "pilot2prod.impact.result",
    "run": "pilot2prod.impact.result",
}

__all__ = ["Parameters", "Result", "run"]


__getattr__ = lazy_attributes(_LAZY, globals())
