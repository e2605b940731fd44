"""Chapter 1: define what "working" means - one success metric, its baseline, its guardrails.

Input is an event table (one row per ticket, case, order...) with a start and an end
timestamp, wherever it lives: a file, a database table or a Spark table. The work runs in that
engine (:mod:`~pilot2prod.metric.events`, :mod:`~pilot2prod.metric.counts`); only counts per
duration bucket come back. Open events (no end yet) are right-censored: they enter Kaplan-Meier
estimates instead of being dropped, which would bias the baseline towards fast cases.
"""

from pilot2prod.metric.baseline import km_curve
from pilot2prod.metric.events import UNIT_SHORT, Events, load_events
from pilot2prod.metric.params import Parameters
from pilot2prod.metric.result import Result, run

__all__ = ["UNIT_SHORT", "Events", "Parameters", "Result", "km_curve", "load_events", "run"]
