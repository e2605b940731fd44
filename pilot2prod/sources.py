"""Open a file as a table, with one clear sentence when it cannot be done.

Files are only read, never written. Text files are read as strings so that the analysis,
not the reader, decides how to parse timestamps and numbers.
"""

from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pilot2prod.errors import DataSourceError

TEXT_SUFFIXES = {".csv", ".tsv", ".txt"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
SUPPORTED = sorted(TEXT_SUFFIXES | EXCEL_SUFFIXES | {".parquet", ".json", ".jsonl"})


def detect_encoding(head: bytes) -> str:
    """Pick an encoding from the first bytes: BOMs first, then UTF-8, else Windows-1252."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start >= len(head) - 3:
            return "utf-8"
        return "cp1252"


def detect_delimiter(sample: str) -> str:
    """The most plausible of , ; tab | for a delimited text sample."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in ",;\t|"}
        return max(counts, key=counts.get) if any(counts.values()) else ","


@dataclass(frozen=True)
class TextDialect:
    """How a delimited text file is written, read from its first 64 KiB."""

    encoding: str  # a Python codec name: utf-8, utf-8-sig, utf-16 or cp1252
    delimiter: str
    binary: bool  # NUL bytes in a file that is not UTF-16: not text at all


def sniff_text(path: str | Path) -> TextDialect:
    """Encoding and delimiter of a delimited text file (``.tsv`` is always tab-separated)."""
    p = Path(path)
    with open(p, "rb") as fh:
        head = fh.read(64 * 1024)
    encoding = detect_encoding(head)
    binary = b"\x00" in head and encoding != "utf-16"
    sample = head.decode("utf-8" if encoding == "utf-8-sig" else encoding, errors="replace")
    sample = sample.lstrip("\ufeff")
    delimiter = "\t" if p.suffix.lower() == ".tsv" else detect_delimiter(sample[:20000])
    return TextDialect(encoding, delimiter, binary)


def read_table(path: str | Path, parameter: str = "path", sheet: str | int = 0) -> pd.DataFrame:
    """Read CSV/TSV, Excel, Parquet or JSON (Lines) into a DataFrame of the file's columns.

    Raises :class:`DataSourceError` naming ``parameter`` for a missing, empty, binary or
    unreadable file, or an unsupported format.
    """
    p = Path(path)
    if not p.exists():
        raise DataSourceError(
            f"{parameter}: there is no file at '{p}'. Check the spelling; a relative path is read "
            f"from the folder you run in ({Path.cwd()})."
        )
    if p.is_dir():
        raise DataSourceError(f"{parameter}: '{p}' is a folder; give the path of one file.")
    if p.stat().st_size == 0:
        raise DataSourceError(f"{parameter}: '{p.name}' is empty (0 bytes); export it again.")
    suffix = p.suffix.lower()
    try:
        if suffix in TEXT_SUFFIXES:
            frame = _read_text(p, parameter)
        elif suffix in EXCEL_SUFFIXES:
            frame = pd.read_excel(p, sheet_name=sheet, dtype=object)
        elif suffix == ".parquet":
            frame = pd.read_parquet(p)
        elif suffix == ".jsonl":
            frame = pd.read_json(p, lines=True, dtype=False)
        elif suffix == ".json":
            frame = pd.read_json(p, dtype=False)
        else:
            raise DataSourceError(
                f"{parameter}: '{p.name}' has an unsupported format '{suffix or 'none'}'; "
                f"use one of {', '.join(SUPPORTED)}."
            )
    except DataSourceError:
        raise
    except PermissionError:
        raise DataSourceError(f"{parameter}: no permission to read '{p}'.") from None
    except Exception as exc:  # noqa: BLE001 - every reader failure becomes one sentence
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise DataSourceError(
            f"{parameter}: '{p.name}' could not be read as {suffix.lstrip('.')} ({reason})."
        ) from None
    if frame.shape[1] == 0 or frame.empty:
        raise DataSourceError(f"{parameter}: '{p.name}' has no data rows.")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_text(p: Path, parameter: str) -> pd.DataFrame:
    dialect = sniff_text(p)
    if dialect.binary:
        raise DataSourceError(
            f"{parameter}: '{p.name}' is not a text file (it contains binary bytes); "
            "export the table as CSV, Excel or Parquet."
        )
    return pd.read_csv(
        p,
        sep=dialect.delimiter,
        encoding=dialect.encoding,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        skipinitialspace=False,
    )


def require_columns(frame: pd.DataFrame, wanted: dict[str, str], source: str = "the table") -> None:
    """Check that each ``{parameter: column}`` exists; name the closest columns otherwise."""
    available = list(frame.columns)
    for parameter, column in wanted.items():
        if column and column not in available:
            close = difflib.get_close_matches(column, available, n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise DataSourceError(
                f"{parameter}: column '{column}' is not in {source}.{hint} Available columns: "
                f"{', '.join(available)}."
            )
