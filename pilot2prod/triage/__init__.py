"""Chapter 3: hire a problem, not a model.

A ladder of approaches for one routing decision, simplest first (:mod:`~.models`, the RAG rung in
:mod:`~.llm`), trained and evaluated on one frozen split (:mod:`~.data`, :mod:`~.ladder`,
:mod:`~.evaluation`), and the simplest rung that meets the target recommended (:mod:`~.recommend`).
"""

import importlib

from pilot2prod.triage.params import Parameters

# The rest loads on first use: reading parameters (the CLI's `list`, `prepare` and its
# checks before a run) needs none of the libraries the computations import.
_LAZY = {
    "Result": "pilot2prod.triage.result",
    "export_model": "pilot2prod.triage.result",
    "run": "pilot2prod.triage.result",
}

__all__ = ["Parameters", "Result", "export_model", "run"]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
