"""Chapter 2: audit the data before building models.

Open every source of an estate read-only and measure it where it lives (:mod:`~.scan`, one
scan per table), judge each source with small checks (:mod:`~.checks`, severities in
:mod:`~.findings`), check across sources (:mod:`~.result`), score and gate (:mod:`~.scorecard`),
and write the hand-offs: ``audit.json``, a data contract (:mod:`~.contract`) and a datasheet
draft (:mod:`~.datasheet`) per source.
"""

import importlib

from pilot2prod.audit.params import Parameters

# The rest loads on first use: reading parameters (the CLI's `list`, `prepare` and its
# checks before a run) needs none of the libraries the computations import.
_LAZY = {
    "Result": "pilot2prod.audit.result",
    "run": "pilot2prod.audit.result",
    "write_outputs": "pilot2prod.audit.result",
}

__all__ = ["Parameters", "Result", "run", "write_outputs"]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
