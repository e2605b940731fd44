"""One way to read data, for every chapter and the audit.

* :mod:`~pilot2prod.sources.formats`: the registry of file formats and text sniffing;
* :mod:`~pilot2prod.sources.references`: how a source is named (files, sheets, database tables,
  Spark, inventory entries) and the inventory itself;
* :mod:`~pilot2prod.sources.engines`: opening a source as an Ibis table in the engine that suits
  it (DuckDB for files, the database itself for SQL sources, Spark).

A chapter asks for one table with :func:`open_table` and pushes its work into the engine, or for
a bounded frame with :func:`read_frame`; the audit opens whole estates.
"""

from pilot2prod.lazy import lazy_attributes
from pilot2prod.sources.formats import FORMATS, kind_of, sniff_text, supported_suffixes
from pilot2prod.sources.references import (
    SourceSpec,
    discover,
    read_inventory,
    redact,
    resolve_reference,
    spec_of_reference,
)

# The engines (DuckDB, Ibis, pandas) load on first use: checking a reference given as a
# parameter, before a run, needs none of them.
_LAZY = {
    "Estate": "pilot2prod.sources.engines",
    "Latency": "pilot2prod.sources.engines",
    "OpenedSource": "pilot2prod.sources.engines",
    "SourceFailure": "pilot2prod.sources.engines",
    "estate_connection": "pilot2prod.sources.engines",
    "open_estate": "pilot2prod.sources.engines",
    "open_source": "pilot2prod.sources.engines",
    "summary": "pilot2prod.sources.engines",
    "OpenedTable": "pilot2prod.sources.tables",
    "describe_formats": "pilot2prod.sources.tables",
    "display_name": "pilot2prod.sources.tables",
    "open_table": "pilot2prod.sources.tables",
    "read_frame": "pilot2prod.sources.tables",
    "require_columns": "pilot2prod.sources.tables",
}

__all__ = [
    "FORMATS",
    "Estate",
    "Latency",
    "OpenedSource",
    "OpenedTable",
    "SourceFailure",
    "SourceSpec",
    "discover",
    "estate_connection",
    "kind_of",
    "open_estate",
    "open_source",
    "open_table",
    "read_frame",
    "read_inventory",
    "redact",
    "require_columns",
    "resolve_reference",
    "sniff_text",
    "spec_of_reference",
    "summary",
    "supported_suffixes",
]


__getattr__ = lazy_attributes(_LAZY, globals())
