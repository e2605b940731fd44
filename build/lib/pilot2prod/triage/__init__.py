"""Chapter 3: hire a problem, not a model.

A ladder of approaches for one routing decision, simplest first (:mod:`~.models`, the RAG rung in
:mod:`~.llm`), trained and evaluated on one frozen split (:mod:`~.data`, :mod:`~.ladder`,
:mod:`~.evaluation`), and the simplest rung that meets the target recommended (:mod:`~.recommend`).
"""

from pilot2prod.triage.params import Parameters
from pilot2prod.triage.result import Result, export_model, run

__all__ = ["Parameters", "Result", "export_model", "run"]
