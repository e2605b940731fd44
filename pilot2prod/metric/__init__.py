"""Chapter 1: define what "working" means - one success metric, its baseline, its guardrails.

Input is an event table (one row per ticket, case, order...) with a start and an end
timestamp, wherever it lives: a file, a database table or a Spark table. The work runs in that
engine (:mod:`~pilot2prod.metric.events`, :mod:`~pilot2prod.metric.counts`); only counts per
duration bucket come back. Open events (no end yet) are right-censored: they enter Kaplan-Meier
estimates instead of being dropped, which would bias the baseline towards fast cases.
"""

from pilot2prod.lazy import lazy_attributes
from pilot2prod.metric.params import Parameters

# The rest loads on first use (pilot2prod.lazy).
_LAZY = {
    "km_curve": "pilot2prod.metric.baseline",
    "UNIT_SHORT": "pilot2prod.metric.events",
    "Events": "pilot2prod.metric.events",
    "load_events": "pilot2prod.metric.events",
    "Result": "pilot2prod.metric.result",
    "run": "pilot2prod.metric.result",
}

__all__ = ["Events", "Parameters", "Result", "UNIT_SHORT", "km_curve", "load_events", "run"]


__getattr__ = lazy_attributes(_LAZY, globals())
