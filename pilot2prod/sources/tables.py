"""Opening one table for a chapter (:func:`open_table`) or a bounded frame (:func:`read_frame`)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import ibis
import pandas as pd

from pilot2prod.errors import DataSourceError
from pilot2prod.sources.engines import (
    SourceFailure,
    open_source,
)
from pilot2prod.sources.formats import FORMATS, supported_suffixes
from pilot2prod.sources.references import (
    redact,
    spec_of_reference,
)


@dataclass
class OpenedTable:
    """One table a chapter reads: the Ibis table, a name safe to show, and its engine."""

    table: ibis.Table
    name: str
    backend: str
    #: True when the source declares column types (Parquet, databases, Excel cells, DuckDB's
    #: inference); False when every value came in as text.
    typed: bool


def display_name(reference: str) -> str:
    """What a message or report calls a source: the file name (never the folder it lives in),
    or the URL with its password masked."""
    location, _, table = reference.rpartition("#") if "#" in reference else (reference, "", "")
    if "://" in location or location.startswith("spark:"):
        return redact(reference)
    name = Path(location).name
    return f"{name}#{table}" if table else name


def open_table(reference: str, parameter: str, *, as_text: bool = False) -> OpenedTable:
    """The one table ``reference`` names (see :mod:`~pilot2prod.sources.references`).

    Raises :class:`DataSourceError` naming ``parameter`` when it cannot be read, or when it
    names several tables (a workbook with several sheets, a database file, a folder) without
    saying which one. ``as_text`` keeps every value of a text file as text."""
    found = spec_of_reference(reference)
    # A README beside the export in its folder is no second table.
    specs = [s for s in found if not s.skipped] or found
    name = display_name(reference)
    if not specs:
        raise DataSourceError(f"{parameter}: '{name}' holds no file to read.")
    if len(specs) > 1:
        raise DataSourceError(
            f"{parameter}: '{name}' names {len(specs)} sources; name one of them, e.g. "
            f"{specs[0].location if specs[0].kind != 'database' else name}."
        )
    result = open_source(specs[0], as_text=as_text)
    if isinstance(result, SourceFailure):
        raise DataSourceError(f"{parameter}: '{name}' could not be read: {result.reason}.")
    if len(result) > 1:
        tables = ", ".join(o.spec.table for o in result[:8])
        raise DataSourceError(
            f"{parameter}: '{name}' holds {len(result)} tables ({tables}); name one as "
            f"{name}#{result[0].spec.table}."
        )
    opened = result[0]
    typed = opened.declared_types or not all(t.is_string() for t in opened.table.schema().types)
    return OpenedTable(opened.table, name, opened.backend, typed)


def read_frame(
    reference: str,
    parameter: str,
    columns: list[str] | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """A table as a pandas frame of text values (``columns`` only, at most ``limit`` rows).
    Empty tables are an error naming ``parameter``."""
    opened = open_table(reference, parameter, as_text=True)
    table = opened.table
    if columns:
        require_columns(table.columns, dict(zip(columns, columns, strict=True)), opened.name)
        table = table.select(*columns)
    if limit is not None:
        table = table.limit(limit)
    frame = table.execute()
    if frame.empty:
        raise DataSourceError(f"{parameter}: '{opened.name}' has no data rows.")
    return frame


def require_columns(
    available: list[str] | pd.DataFrame, wanted: dict[str, str], source: str = "the table"
) -> None:
    """Check that each ``{parameter: column}`` exists; name the closest columns otherwise."""
    names = list(available.columns) if isinstance(available, pd.DataFrame) else list(available)
    for parameter, column in wanted.items():
        if column and column not in names:
            close = difflib.get_close_matches(column, names, n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            shown = ", ".join(names[:40]) + (
                f" and {len(names) - 40} more" if len(names) > 40 else ""
            )
            raise DataSourceError(
                f"{parameter}: column '{column}' is not in '{source}'.{hint} Available columns: "
                f"{shown}."
            )


def describe_formats() -> str:
    """For the appendix and messages: the formats every chapter reads."""
    return ", ".join(f"{f.description} ({', '.join(f.suffixes)})" for f in FORMATS) + (
        f"; compressed or zipped text: {supported_suffixes()}"
    )
