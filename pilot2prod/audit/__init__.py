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

__all__ = ["Parameters", "Result", "prefetch", "run", "write_outputs"]


def prefetch(parameters: dict) -> None:
    """Start loading the text files ``sources`` names into DuckDB, in the background, while a
    run's kernel imports the libraries (see :func:`pilot2prod.lazy.preload`): the audit then
    finds them loaded. An inventory's files are loaded in its order, as the audit opens them."""
    from pilot2prod.sources import spec_of_reference
    from pilot2prod.sources.loading import prefetch as load_early

    sources = parameters.get("sources")
    if isinstance(sources, str) and sources:
        load_early((s.location, s.kind) for s in spec_of_reference(sources))


__getattr__ = lazy_attributes(_LAZY, globals())
