"""Open every source of a data estate as an Ibis table, read-only, never through pandas.

Files go to DuckDB: CSV/TSV (delimiter and encoding detected) and JSON / JSON Lines are copied
once into the estate's DuckDB database, so that the audit's queries read columnar storage
instead of parsing the text again for each query (past the memory limit DuckDB spills to a
temporary folder); Parquet is scanned in place. Excel workbooks are read sheet by sheet
(DuckDB's Excel reader is an extension that cannot be downloaded here) and registered as
in-memory tables. SQLite files, SQL databases (by URL) and Spark sources (``kind: spark``) are
opened through Ibis's own backends in read-only sessions, so the statistics are pushed down to
the engine and only aggregates come back. A source that cannot be opened becomes a
:class:`SourceFailure` with a one-sentence reason; it never stops the audit of the others.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
import time
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import duckdb
import ibis
import pandas as pd
import yaml

from pilot2prod.audit.relations import Latency
from pilot2prod.errors import ParameterError
from pilot2prod.sources import TextDialect, sniff_text

FILE_KINDS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".sqlite": "sqlite",
    ".sqlite3": "sqlite",
    ".db": "sqlite",
}
#: Memory DuckDB may use before it spills loaded files to disk.
DUCKDB_MEMORY_LIMIT = "1GB"
#: Files a Spark source may name as its ``table`` (anything else is a catalog table).
SPARK_FILE_SUFFIXES = (".parquet", ".csv", ".tsv", ".json", ".jsonl", ".ndjson")
_DUCKDB_ENCODING = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "utf-16": "utf-16", "cp1252": "latin-1"}


@dataclass(frozen=True)
class SourceSpec:
    """One source as the inventory describes it. Credentials are never part of it: a database
    URL may name ``${ENV_VAR}`` placeholders that are filled from the environment."""

    name: str
    location: str
    kind: str
    owner: str = ""
    system: str = ""
    access: str = ""
    refresh_days: float | None = None
    privacy_notes: str = ""
    table: str = ""  # for databases: the table to audit
    group: str = ""  # the inventory entry a file belongs to (a folder of exports)
    key: str = ""  # identifier column
    required: tuple[str, ...] = ()  # columns an analysis cannot do without
    order_rules: tuple[tuple[str, str], ...] = ()  # (earlier, later) timestamp pairs
    references: tuple[tuple[str, str, str], ...] = ()  # (column, other source, its key)
    sheet_keys: tuple[tuple[str, str], ...] = ()  # workbooks: (sheet, its key column)
    freshness_column: str | None = None  # None: newest date column; "": not measurable

    @property
    def display_location(self) -> str:
        return redact(self.location)


@dataclass
class OpenedSource:
    spec: SourceSpec
    table: ibis.Table
    backend: str
    size_bytes: int | None
    open_seconds: float
    sheet: str = ""
    #: False where every value is text by construction (CSV, Excel), so that numbers kept as
    #: text are not a finding there.
    declared_types: bool = True
    #: Measured while the file was loaded; None: measure on the table (databases, Parquet).
    latency: Latency | None = None


@dataclass
class SourceFailure:
    spec: SourceSpec
    reason: str


@dataclass
class Estate:
    opened: list[OpenedSource] = field(default_factory=list)
    failed: list[SourceFailure] = field(default_factory=list)


def redact(location: str) -> str:
    """A location safe to print: any password in a URL replaced by ``***``."""
    if "://" not in location:
        return location
    parts = urlsplit(location)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return location


def expand_env(location: str) -> str:
    """Fill ``${NAME}`` from the environment; a missing variable is a clear error."""

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ParameterError(
                f"The source location needs the environment variable {name}; export it (the "
                "inventory never holds credentials)."
            )
        return os.environ[name]

    return re.sub(r"\$\{(\w+)\}", fill, location)


_DATA_LIKE = re.compile(r"^[+-]?\d+([.,]\d+)?$|^\d{4}-\d{2}-\d{2}|\d{4,}")


def header_looks_like_data(names: list[str]) -> bool:
    """True when at least half the header cells look like values (numbers, dates, codes with
    long digit runs): the file was exported without its header row."""
    names = [n for n in names if not n.startswith("Unnamed")]
    return bool(names) and sum(bool(_DATA_LIKE.search(n)) for n in names) * 2 >= len(names)


def kind_of(path: str) -> str:
    if "://" in path:
        return "database"
    return FILE_KINDS.get(Path(path).suffix.lower(), "unknown")


def discover(target: str) -> list[SourceSpec]:
    """Sources from a folder, a glob, one file, a database URL or an inventory (YAML)."""
    if "://" in target:
        return [SourceSpec(name=redact(target), location=target, kind="database")]
    p = Path(target)
    if p.suffix.lower() in (".yaml", ".yml") and p.is_file():
        return read_inventory(p)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
    else:
        files = sorted(Path(f) for f in glob.glob(target, recursive=True) if Path(f).is_file())
        if not files and not any(ch in target for ch in "*?["):
            files = [p]  # a single path, missing or not: its absence becomes a finding
    return [SourceSpec(name=f.name, location=str(f), kind=kind_of(str(f))) for f in files]


def read_inventory(path: Path) -> list[SourceSpec]:
    """An inventory: ``sources:`` with name, location (relative to the file), owner, system,
    access, refresh_days, privacy_notes and (databases) table.

    ``kind: spark`` audits with Apache Spark: the location is the Spark master (``local[2]``,
    ``spark://host:7077``) and ``table`` a catalog table or a Parquet, CSV or JSON path."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ParameterError(f"Inventory '{path}' must have a list under 'sources:'.")
    specs = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "location" not in entry:
            raise ParameterError(f"Inventory '{path}': source {i + 1} needs a 'location'.")
        if any(k in entry for k in ("password", "secret", "token")):
            raise ParameterError(
                f"Inventory '{path}': source {i + 1} holds a credential; put it in an "
                "environment variable and write ${NAME} in the location instead."
            )
        location = str(entry["location"])
        spark = entry.get("kind") == "spark"  # location is a Spark master: local[2], spark://
        table = str(entry.get("table", ""))
        is_path = "/" in table or Path(table).suffix.lower() in SPARK_FILE_SUFFIXES
        if spark and is_path and not Path(table).is_absolute():
            table = str((path.parent / table).resolve())  # a file Spark reads
        if not spark and "://" not in location and not Path(location).is_absolute():
            location = str((path.parent / location).resolve())
        name = str(entry.get("name") or Path(location).name)
        common = dict(
            owner=str(entry.get("owner", "")),
            system=str(entry.get("system", "")),
            access=str(entry.get("access", "")),
            refresh_days=entry.get("refresh_days"),
            privacy_notes=str(entry.get("privacy_notes", "")),
            table=table,
            key=entry["key"] if isinstance(entry.get("key"), str) else "",
            sheet_keys=tuple(entry["key"].items()) if isinstance(entry.get("key"), dict) else (),
            freshness_column=(
                None if "freshness_column" not in entry else str(entry["freshness_column"] or "")
            ),
            required=tuple(entry.get("required", ())),
            order_rules=tuple(tuple(r) for r in entry.get("order_rules", ())),
            references=tuple(
                (r["column"], r["source"], r["key"]) for r in entry.get("references", ())
            ),
        )
        is_folder = (
            not spark
            and "://" not in location
            and (Path(location).is_dir() or any(c in location for c in "*?["))
        )
        if is_folder:  # a folder (or glob) of files, e.g. monthly exports: one source per file
            for found in discover(location):
                specs.append(
                    SourceSpec(
                        name=f"{name}/{found.name}",
                        location=found.location,
                        kind=found.kind,
                        group=name,
                        **common,
                    )
                )
            continue
        specs.append(
            SourceSpec(
                name=name,
                location=location,
                kind=str(entry.get("kind") or kind_of(location)),
                **common,
            )
        )
    return specs


def _failure(spec: SourceSpec, exc: Exception) -> SourceFailure:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = redact(text)
    return SourceFailure(spec, f"{type(exc).__name__}: {text[:200]}")


def _check_file(spec: SourceSpec) -> str | None:
    p = Path(spec.location)
    if not p.exists():
        return "the file does not exist"
    if not os.access(p, os.R_OK):
        return "no permission to read the file"
    if p.stat().st_size == 0:
        return "the file is empty (0 bytes)"
    if spec.kind == "unknown":
        return f"unsupported format '{p.suffix or '(none)'}'"
    return None


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _csv_dialect(spec: SourceSpec) -> TextDialect:
    dialect = sniff_text(spec.location)
    if dialect.binary:
        raise ValueError("the file holds binary bytes, not delimited text")
    return dialect


def _scan_call(spec: SourceSpec, dialect: TextDialect | None, types: str) -> str:
    """DuckDB's table function that reads the file. ``types``: "sampled" lets DuckDB infer
    column types from a sample, "full" from every row, "text" keeps every value as text."""
    options = []
    if types == "full":
        options.append("sample_size=-1")
    if spec.kind == "csv":
        assert dialect is not None
        if types == "text":
            options.append("all_varchar=true")
        options += [
            f"delim={_literal(dialect.delimiter)}",
            f"encoding={_literal(_DUCKDB_ENCODING[dialect.encoding])}",
            "header=true",
        ]
        function = "read_csv"
    else:
        fmt = "newline_delimited" if spec.kind == "jsonl" else "auto"
        options.append(f"format={_literal(fmt)}")
        if types == "text":
            options += ["sample_size=-1", "maximum_depth=1"]  # nested values kept as JSON
        function = "read_json"
    return f"{function}({', '.join([_literal(spec.location), *options])})"


def _load(con, spec: SourceSpec) -> tuple[ibis.Table, Latency]:  # noqa: ANN001
    """Copy a CSV or JSON file into the estate's DuckDB database once, so that the audit's
    queries read DuckDB's columnar storage instead of parsing the file again each time.

    Type inference on a sample can meet a value that does not fit further down the file; then
    the types are inferred from every row, and as a last resort every value is read as text.
    Time to first row is the time to read the file's first rows and know its format."""
    start = time.perf_counter()
    if spec.kind == "csv":
        dialect = _csv_dialect(spec)
    else:
        dialect = None
        con.raw_sql(f"SELECT * FROM {_scan_call(spec, None, 'sampled')} LIMIT 1").fetchall()
    first_row = time.perf_counter() - start
    name = f"source_{uuid.uuid4().hex[:12]}"
    for types in ("sampled", "full", "text"):
        try:
            con.raw_sql(
                f'CREATE TABLE "{name}" AS SELECT * FROM {_scan_call(spec, dialect, types)}'
            )
            break
        except (duckdb.ConversionException, duckdb.InvalidInputException):
            if types == "text":
                raise
    table = con.table(name)
    if header_looks_like_data(list(table.columns)):
        con.drop_table(name)
        raise ValueError("the first row holds data, not a header row")
    return table, Latency(first_row, time.perf_counter() - start)


def estate_connection(memory_limit: str = DUCKDB_MEMORY_LIMIT) -> ibis.BaseBackend:
    """The in-memory DuckDB database an estate's files are loaded into. Past
    ``memory_limit`` DuckDB spills to a temporary folder, so a file larger than memory still
    loads; the folder is removed when the connection is garbage-collected."""
    spill = tempfile.mkdtemp(prefix="pilot2prod-duckdb-")
    # Row order carries no meaning in an audit; not keeping it makes loading a third faster.
    con = ibis.duckdb.connect(
        memory_limit=memory_limit,
        temp_directory=spill,
        preserve_insertion_order=False,
    )
    try:  # a terminal would show a bar for long loads; in Jupyter DuckDB draws none anyway
        con.raw_sql("SET enable_progress_bar = false")
    except duckdb.Error:  # Jupyter without ipywidgets refuses the setting: nothing to switch off
        pass
    weakref.finalize(con, shutil.rmtree, spill, ignore_errors=True)
    return con


def connect_read_only(url: str) -> ibis.BaseBackend:
    """An Ibis connection to a database URL whose session cannot write: PostgreSQL and MySQL
    sessions are set to read-only transactions, DuckDB files open read-only, SQLite
    connections refuse writes."""
    scheme = urlsplit(url).scheme.split("+")[0].lower()
    if scheme == "duckdb":
        path = url.split("://", 1)[1]
        return ibis.duckdb.connect(path or ":memory:", read_only=bool(path))
    backend = ibis.connect(url)
    if backend.name == "postgres":
        with backend.begin() as cursor:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    elif backend.name == "mysql":
        backend.raw_sql("SET SESSION TRANSACTION READ ONLY")
    elif backend.name == "sqlite":
        backend.raw_sql("PRAGMA query_only = ON")
    return backend


def spark_backend(master: str) -> ibis.BaseBackend:
    """Ibis on a Spark session for ``master`` (``local[2]``, ``spark://host:7077``, ``yarn``).
    An active session in this process is reused: starting a JVM takes seconds."""
    from pyspark.sql import SparkSession  # optional: only Spark sources need it

    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no network lookup on a laptop
    session = (
        SparkSession.builder.master(master)
        .appName("pilot2prod-audit")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)


def _open_spark(spec: SourceSpec) -> ibis.Table:
    """A table in Spark's catalog, or a Parquet, CSV or JSON path that Spark reads itself."""
    if not spec.table:
        raise ParameterError("a Spark source needs 'table' (a catalog table or a file path)")
    backend = spark_backend(spec.location)
    suffix = Path(spec.table).suffix.lower()
    if suffix == ".parquet" or (suffix == "" and Path(spec.table).is_dir()):
        return backend.read_parquet(spec.table)
    if suffix in (".csv", ".tsv"):
        separator = "\t" if suffix == ".tsv" else ","
        return backend.read_csv(spec.table, header=True, inferSchema=True, sep=separator)
    if suffix in (".json", ".jsonl", ".ndjson"):
        return backend.read_json(spec.table)
    return backend.table(spec.table)


def open_source(spec: SourceSpec, con=None) -> list[OpenedSource] | SourceFailure:  # noqa: ANN001
    """Open one source (a workbook opens one table per sheet), read-only."""
    con = con if con is not None else estate_connection()
    start = time.perf_counter()
    try:
        if spec.kind == "database":
            backend = connect_read_only(expand_env(spec.location))
            if not spec.table:
                raise ParameterError("a database source needs 'table' in the inventory")
            table = backend.table(spec.table)
            table.limit(1).execute()  # the table exists and can be read
            return [OpenedSource(spec, table, backend.name, None, time.perf_counter() - start)]
        if spec.kind == "spark":
            table = _open_spark(spec)
            table.limit(1).execute()
            return [OpenedSource(spec, table, "pyspark", None, time.perf_counter() - start)]
        problem = _check_file(spec)
        if problem:
            return SourceFailure(spec, problem)
        size = Path(spec.location).stat().st_size
        if spec.kind == "sqlite":
            backend = ibis.sqlite.connect(spec.location, type_map=None)
            backend.raw_sql("PRAGMA query_only = ON")  # the audit reads, never writes
            names = [spec.table] if spec.table else backend.list_tables()
            if not names:
                return SourceFailure(spec, "the SQLite database has no tables")
            return [
                OpenedSource(
                    SourceSpec(**{**spec.__dict__, "name": f"{spec.name}:{n}", "table": n}),
                    backend.table(n),
                    "sqlite",
                    size,
                    time.perf_counter() - start,
                )
                for n in names
            ]
        if spec.kind == "excel":
            sheets = pd.read_excel(spec.location, sheet_name=None, dtype=object)
            opened = []
            headerless = []
            for sheet, frame in sheets.items():
                if frame.empty or all(str(c).startswith("Unnamed") for c in frame.columns):
                    continue
                if header_looks_like_data([str(c) for c in frame.columns]):
                    headerless.append(str(sheet))
                    continue
                frame.columns = [str(c) for c in frame.columns]
                name = f"{spec.name}:{sheet}"
                sheet_key = dict(spec.sheet_keys).get(str(sheet), spec.key)
                # A memtable: DuckDB runs it. (Ibis 12's create_table from pandas emits SQL that
                # DuckDB 2 rejects, so the sheet is not copied into a named table.)
                table = ibis.memtable(frame.astype("string"))
                opened.append(
                    OpenedSource(
                        SourceSpec(**{**spec.__dict__, "name": name, "key": sheet_key}),
                        table,
                        "duckdb",
                        size,
                        time.perf_counter() - start,
                        sheet,
                        declared_types=False,
                    )
                )
            if not opened:
                if headerless:
                    return SourceFailure(
                        spec,
                        f"sheet '{headerless[0]}' has no header row (its first row holds data)",
                    )
                return SourceFailure(spec, "no sheet has a header row and data")
            return opened
        if spec.kind == "parquet":  # columnar already: scanned in place, not copied
            table = con.read_parquet(spec.location)
            table.limit(1).execute()
            return [OpenedSource(spec, table, "duckdb", size, time.perf_counter() - start)]
        if spec.kind not in ("csv", "json", "jsonl"):  # pragma: no cover - kinds are closed
            return SourceFailure(spec, f"unsupported kind {spec.kind}")
        table, latency = _load(con, spec)
        return [
            OpenedSource(
                spec,
                table,
                "duckdb",
                size,
                time.perf_counter() - start,
                declared_types=spec.kind != "csv",
                latency=latency,
            )
        ]
    except Exception as exc:  # noqa: BLE001 - any failure is a finding, never a crash
        return _failure(spec, exc)


def open_estate(specs: list[SourceSpec]) -> Estate:
    """Open every source; failures are collected, the rest go on."""
    con = estate_connection()
    estate = Estate()
    for spec in specs:
        result = open_source(spec, con)
        if isinstance(result, SourceFailure):
            estate.failed.append(result)
        else:
            estate.opened.extend(result)
    return estate


def summary(estate: Estate) -> pd.DataFrame:
    """One row per source: where it is, how it opened, or why it did not."""
    rows: list[dict[str, Any]] = []
    for o in estate.opened:
        rows.append(
            {
                "source": o.spec.name,
                "kind": o.spec.kind,
                "backend": o.backend,
                "location": o.spec.display_location,
                "owner": o.spec.owner or "(unknown)",
                "size_bytes": o.size_bytes,
                "open_seconds": o.open_seconds,
                "status": "opened",
                "reason": "",
            }
        )
    for f in estate.failed:
        rows.append(
            {
                "source": f.spec.name,
                "kind": f.spec.kind,
                "backend": "",
                "location": f.spec.display_location,
                "owner": f.spec.owner or "(unknown)",
                "size_bytes": None,
                "open_seconds": None,
                "status": "failed",
                "reason": f.reason,
            }
        )
    return pd.DataFrame(rows)
