"""The one registry of file formats, and how a text file is written (encoding, delimiter).

Every chapter and the audit read files through this registry, so they accept the same formats:
delimited text (also gzip- or zstd-compressed, or zipped), JSON and JSON Lines, Parquet,
Excel workbooks, SQLite and DuckDB database files.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Format:
    """A kind of file: its name, the suffixes that mark it, and what it holds."""

    kind: str
    suffixes: tuple[str, ...]
    description: str
    #: True where one file holds several tables (sheets, database tables).
    tables: bool = False


FORMATS: tuple[Format, ...] = (
    Format("csv", (".csv", ".tsv", ".tab", ".txt"), "delimited text"),
    Format("jsonl", (".jsonl", ".ndjson"), "JSON Lines"),
    Format("json", (".json",), "JSON"),
    Format("parquet", (".parquet", ".pq"), "Parquet"),
    Format("excel", (".xlsx", ".xlsm", ".xls"), "Excel workbook", tables=True),
    Format("sqlite", (".sqlite", ".sqlite3", ".db"), "SQLite database", tables=True),
    Format("duckdb", (".duckdb", ".ddb"), "DuckDB database", tables=True),
)
#: Compression a text file may carry, by suffix (DuckDB reads both natively).
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd"}
#: A zip archive is opened member by member.
ARCHIVE = ".zip"
_BY_SUFFIX = {suffix: f for f in FORMATS for suffix in f.suffixes}
#: The formats, as a sentence tells a user which ones are read.
READABLE = (
    ", ".join(f"{f.description} ({' '.join(f.suffixes)})" for f in FORMATS)
    + "; text also compressed (.gz .zst) or zipped (.zip)"
)
TEXT_KINDS = ("csv", "json", "jsonl")


def split_suffixes(path: str | Path) -> tuple[str, str]:
    """The format suffix and the compression suffix (``""`` if none): ``a.csv.gz`` gives
    ``(".csv", ".gz")``."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        return (suffixes[-2] if len(suffixes) > 1 else ""), suffixes[-1]
    return (suffixes[-1] if suffixes else ""), ""


def format_of(path: str | Path) -> Format | None:
    """The registered format of a file name, or ``None``. Compressed files count only for the
    text formats."""
    suffix, compression = split_suffixes(path)
    found = _BY_SUFFIX.get(suffix)
    if found is None or (compression and found.kind not in TEXT_KINDS):
        return None
    return found


def kind_of(path: str) -> str:
    """``database`` for a URL, ``zip`` for an archive, else the format's kind or ``unknown``."""
    if "://" in path:
        return "database"
    if Path(path).suffix.lower() == ARCHIVE:
        return "zip"
    found = format_of(path)
    return found.kind if found else "unknown"


def supported_suffixes() -> str:
    """For messages: every suffix the registry knows."""
    suffixes = [s for f in FORMATS for s in f.suffixes]
    return ", ".join(suffixes + [f"(text){c}" for c in COMPRESSIONS] + [ARCHIVE])


# --------------------------------------------------------------------------- text files
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


_DECIMAL_COMMA = re.compile(r"-?\d+,\d+")
_DECIMAL_POINT = re.compile(r"-?\d+\.\d+")


def detect_decimal(sample: str, delimiter: str) -> str:
    """The decimal separator of a delimited text sample: "," where the file is not
    comma-separated and its decimal numbers are written 12,5 (a European spreadsheet's
    export), else ".". Decided on the data rows, never on the header."""
    if delimiter == ",":
        return "."
    lines = sample.splitlines()[1:-1]  # the last line of a sample may be cut short
    comma = point = 0
    for row in csv.reader(io.StringIO("\n".join(lines[:500])), delimiter=delimiter):
        for value in row:
            value = value.strip()
            if _DECIMAL_COMMA.fullmatch(value):
                comma += 1
            elif _DECIMAL_POINT.fullmatch(value):
                point += 1
    return "," if comma and comma >= 4 * point else "."


@dataclass(frozen=True)
class TextDialect:
    """How a delimited text file is written, read from its first 64 KiB."""

    encoding: str  # a Python codec name: utf-8, utf-8-sig, utf-16 or cp1252
    delimiter: str
    binary: bool  # NUL bytes in a file that is not UTF-16: not text at all
    decimal: str = "."  # "," in files written by spreadsheets set to a European locale


def read_head(path: str | Path, size: int = 64 * 1024) -> bytes:
    """The first ``size`` bytes of a file, decompressed when it is gzip- or zstd-compressed."""
    _, compression = split_suffixes(path)
    if compression == ".gz":
        with gzip.open(path, "rb") as fh:
            return fh.read(size)
    if compression == ".zst":
        import zstandard

        with open(path, "rb") as raw:
            reader = zstandard.ZstdDecompressor().stream_reader(raw)
            return reader.read(size)
    with open(path, "rb") as fh:
        return fh.read(size)


def dialect_of_bytes(head: bytes, tab_separated: bool = False) -> TextDialect:
    encoding = detect_encoding(head)
    binary = b"\x00" in head and encoding != "utf-16"
    sample = head.decode("utf-8" if encoding == "utf-8-sig" else encoding, errors="replace")
    sample = sample.lstrip("\ufeff")
    delimiter = "\t" if tab_separated else detect_delimiter(sample[:20000])
    return TextDialect(encoding, delimiter, binary, detect_decimal(sample, delimiter))


def sniff_text(path: str | Path) -> TextDialect:
    """Encoding and delimiter of a delimited text file (``.tsv`` is always tab-separated)."""
    suffix, _ = split_suffixes(path)
    return dialect_of_bytes(read_head(path), tab_separated=suffix in (".tsv", ".tab"))


def zip_members(path: str | Path) -> list[str]:
    """The readable files in a zip archive (text formats and Parquet), hidden ones skipped."""
    with zipfile.ZipFile(path) as archive:
        return [
            info.filename
            for info in archive.infolist()
            if not info.is_dir()
            and not any(part.startswith((".", "__MACOSX")) for part in Path(info.filename).parts)
            and format_of(info.filename) is not None
            and format_of(info.filename).kind in (*TEXT_KINDS, "parquet")
        ]


def extract_member(path: str | Path, member: str, folder: Path) -> Path:
    """Copy one member of a zip archive into ``folder`` (the archive itself is not changed)."""
    target = folder / Path(member).name
    with zipfile.ZipFile(path) as archive, archive.open(member) as src, open(target, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    return target
