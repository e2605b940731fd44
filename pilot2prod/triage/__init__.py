"""Chapter 3: hire a problem, not a model.

A ladder of approaches for one routing decision, simplest first (:mod:`~.models`, the RAG rung in
:mod:`~.llm`), trained and evaluated on one frozen split (:mod:`~.data`, :mod:`~.ladder`,
:mod:`~.evaluation`), and the simplest rung that meets the target recommended (:mod:`~.recommend`).
"""

from pilot2prod.lazy import lazy_attributes
from pilot2prod.triage.params import Parameters

# The rest loads on first use (pilot2prod.lazy).
_LAZY = {
    "Result": "pilot2prod.triage.result",
    "export_model": "pilot2prod.triage.result",
    "run": "pilot2prod.triage.result",
}

__all__ = ["Parameters", "Result", "export_model", "run"]


__getattr__ = lazy_attributes(_LAZY, globals())
