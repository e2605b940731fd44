"""Chapter 2: audit the data before building models.

Open every source of an estate read-only and measure it where it lives (:mod:`~.scan`, one
scan per table), judge each source with small checks (:mod:`~.checks`, severities in
:mod:`~.findings`), check across sources (:mod:`~.result`), score and gate (:mod:`~.scorecard`),
and write the hand-offs: ``audit.json``, a data contract (:mod:`~.contract`) and a datasheet
draft (:mod:`~.datasheet`) per source.
"""

from pilot2prod.audit.params import Parameters
from pilot2prod.lazy import lazy_attributes

# The rest loads on first use (pilot2prod.lazy).
_LAZY = {
    "Result": "pilot2prod.audit.result",
    "run": "pilot2prod.audit.result",
    "write_outputs": "pilot2prod.audit.result",
}

# Loaded on a source's first query; a run's kernel imports it while it boots (pilot2prod.lazy).
PRELOAD = ("ibis.backends.duckdb",)

__all__ = ["Parameters", "Result", "run", "write_outputs"]


__getattr__ = lazy_attributes(_LAZY, globals())
