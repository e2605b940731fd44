"""Chapter 2: audit the data before building models.

Open every source of an estate read-only and measure it where it lives (:mod:`~.scan`, one
scan per table), judge each source with small checks (:mod:`~.checks`, severities in
:mod:`~.findings`), check across sources (:mod:`~.result`), score and gate (:mod:`~.scorecard`),
and write the hand-offs: ``audit.json``, a data contract (:mod:`~.contract`) and a datasheet
draft (:mod:`~.datasheet`) per source.
"""

from pilot2prod.audit.params import Parameters
from pilot2prod.audit.result import Result, run, write_outputs

__all__ = ["Parameters", "Result", "run", "write_outputs"]
