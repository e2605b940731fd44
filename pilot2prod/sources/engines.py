"""Open a source as an Ibis table, read-only, in the engine that suits it.

Files go to DuckDB: delimited text (delimiter and encoding detected; gzip and zstd compression
read natively) and JSON / JSON Lines are copied once into an in-memory DuckDB database, so that
later queries read columnar storage instead of parsing the text again for each query (past the
memory limit DuckDB spills to a temporary folder); Parquet is scanned in place. Excel workbooks
are read sheet by sheet with their cell types (DuckDB's Excel reader is an extension that cannot
be downloaded here). SQLite and DuckDB files, SQL databases (by URL) and Spark sources are opened
through Ibis's own backends in read-only sessions, so statistics are pushed down to the engine
and only aggregates come back. A source that cannot be opened becomes a :class:`SourceFailure`
with a one-sentence reason; it never stops the others.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import uuid
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ibis
import pandas as pd

from pilot2prod.errors import ParameterError
from pilot2prod.sources.formats import READABLE, extract_member, sniff_text, zip_members
from pilot2prod.sources.loading import (
    DUCKDB_MEMORY_LIMIT,
    Latency,
    header_looks_like_data,
    load_text,
    new_database,
    prefetched,
    take_prefetched,
)
from pilot2prod.sources.references import SourceSpec, expand_env, redact


@dataclass
class OpenedSource:
    spec: SourceSpec
    table: ibis.Table
    backend: str
    size_bytes: int | None
    open_seconds: float
    sheet: str = ""
    #: False where every value is text by construction (CSV read as text), so that numbers
    #: kept as text are not a finding there.
    declared_types: bool = True
    #: Measured while the file was loaded; None: measure on the table (databases, Parquet).
    latency: Latency | None = None
    #: Column names the reader had to change (duplicates, blanks), original -> used.
    renamed_columns: dict[str, str] = field(default_factory=dict)
    #: The audit's own in-memory DuckDB when it holds the table (files): checks may keep
    #: temporary tables there. None for a database or Spark, which are only read.
    scratch: Any = None


@dataclass
class SourceFailure:
    spec: SourceSpec
    reason: str


@dataclass
class Estate:
    opened: list[OpenedSource] = field(default_factory=list)
    failed: list[SourceFailure] = field(default_factory=list)
    #: Files a folder or glob holds in no data format (README.md, a PDF): listed, not audited.
    skipped: list[SourceSpec] = field(default_factory=list)


def _failure(spec: SourceSpec, exc: Exception) -> SourceFailure:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = redact(text)
    return SourceFailure(spec, f"{type(exc).__name__}: {text[:200]}")


def _check_file(spec: SourceSpec) -> str | None:
    p = Path(spec.location)
    if not p.exists():
        return "the file does not exist"
    if p.is_dir():
        return "it is a folder, not a file"
    if not os.access(p, os.R_OK):
        return "no permission to read the file"
    if p.stat().st_size == 0:
        return "the file is empty (0 bytes)"
    if spec.kind == "unknown":
        return not_a_data_file(spec.location)
    return None


def _suffix(path: str) -> str:
    return "".join(Path(path).suffixes) or "no suffix"


def not_a_data_file(path: str) -> str:
    """Why a file is not read: its format, and the formats that are."""
    return f"'{_suffix(path)}' is not a data format the audit reads ({READABLE})"


def load_text_file(
    con, path: str, kind: str, as_text: bool = False
) -> tuple[ibis.Table, Latency, bool]:  # noqa: ANN001
    """Copy a CSV or JSON file into ``con`` (an in-memory DuckDB, :func:`estate_connection`)
    once, or take the copy a run's kernel made while it started
    (:func:`pilot2prod.sources.loading.prefetch`). Returns the table, the time to read the
    first rows and the whole file, and whether DuckDB inferred the types (False: all text)."""
    loaded = prefetched(con.con, path, kind, as_text) or load_text(con.con, path, kind, as_text)
    return con.table(loaded.table), loaded.latency, loaded.inferred


def typed_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Give each column of a sheet read as objects the type its cells share: numbers stay
    numbers, dates stay timestamps, anything mixed is text. (Reading a sheet as text would turn
    0.5358 into '0.5357999999999999'.)"""
    out = {}
    for name in frame.columns:
        column = frame[name]
        present = column.dropna()
        if present.empty:
            out[name] = column.astype("string")
            continue
        kinds = {_cell_kind(v) for v in present}
        if kinds == {"int"}:
            out[name] = pd.array(column.tolist(), dtype="Int64")
        elif kinds <= {"int", "float"}:
            out[name] = pd.to_numeric(column, errors="coerce").astype("float64")
        elif kinds == {"datetime"}:
            out[name] = pd.to_datetime(column, errors="coerce")
        elif kinds == {"bool"}:
            out[name] = column.astype("boolean")
        else:
            out[name] = column.map(_cell_text, na_action="ignore").astype("string")
    return pd.DataFrame(out, index=frame.index)


def _cell_kind(value: Any) -> str:
    import datetime as dt

    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "int" if value.is_integer() and abs(value) < 2**53 else "float"
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return "datetime"
    return "text"


def _cell_text(value: Any) -> str:
    """A cell as its user would read it: 12.0 typed as a number in a text column shows as 12."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def unique_column_names(names: list[object]) -> tuple[list[str], dict[str, str]]:
    """Names as text, blanks named ``column_N`` and repeats suffixed; what was renamed."""
    seen: dict[str, int] = {}
    out, renamed = [], {}
    for i, raw in enumerate(names):
        name = "" if raw is None else str(raw).strip()
        original = name
        if not name or name.startswith("Unnamed:"):
            name = f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
            while name in seen:
                name = f"{name}_"
        seen.setdefault(name, 1)
        if name != original:
            renamed[original or f"(blank, position {i + 1})"] = name
        out.append(name)
    return out, renamed


def estate_connection(memory_limit: str = DUCKDB_MEMORY_LIMIT) -> ibis.BaseBackend:
    """The in-memory DuckDB database files are loaded into (:func:`loading.new_database`): the
    one a run's kernel began loading the run's files into, if there is one, else a new one."""
    database = None
    if memory_limit == DUCKDB_MEMORY_LIMIT:
        database = take_prefetched()
    return ibis.duckdb.from_connection(database or new_database(memory_limit))


def connect_read_only(url: str) -> ibis.BaseBackend:
    """An Ibis connection to a database URL whose session cannot write: PostgreSQL and MySQL
    sessions are set to read-only transactions, DuckDB files open read-only, SQLite
    connections refuse writes."""
    scheme = urlsplit(url).scheme.split("+")[0].lower()
    if scheme == "duckdb":
        path = url.split("://", 1)[1]
        return ibis.duckdb.connect(path or ":memory:", read_only=bool(path))
    if scheme == "sqlite":
        path = url.split("://", 1)[1]
        backend = ibis.sqlite.connect(path.lstrip("/") if path.startswith("//") else path)
        backend.raw_sql("PRAGMA query_only = ON")
        return backend
    backend = ibis.connect(url)
    if backend.name == "postgres":
        with backend.begin() as cursor:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    elif backend.name == "mysql":
        backend.raw_sql("SET SESSION TRANSACTION READ ONLY")
    return backend


def spark_backend(master: str) -> ibis.BaseBackend:
    """Ibis on a Spark session for ``master`` (``local[2]``, ``spark://host:7077``, ``yarn``).
    An active session in this process is reused: starting a JVM takes seconds."""
    from pyspark.sql import SparkSession  # optional: only Spark sources need it

    builder = (
        SparkSession.builder.master(master)
        .appName("pilot2prod")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no network lookup on a laptop
        # PySpark reads the workers' interpreter from PYSPARK_PYTHON (else `python3` on the
        # PATH, which may lack pandas); the spark.pyspark.python setting below is not enough.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        # One machine: Python workers run this interpreter (the one with pyspark installed, not
        # whatever `python3` is on the PATH), no web UI, and a few shuffle partitions instead of
        # the cluster default of 200 (each one a task scheduled for every aggregation).
        builder = (
            builder.config("spark.pyspark.python", sys.executable)
            .config("spark.pyspark.driver.python", sys.executable)
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", str(max(2, os.cpu_count() or 2)))
        )
    session = builder.getOrCreate()
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


def _table_names(backend, kind: str) -> list[str]:  # noqa: ANN001
    """The tables of a database file. DuckDB's are read from its catalog directly: Ibis 12's
    ``list_tables`` calls a method DuckDB 2 no longer has."""
    if kind == "duckdb":
        rows = backend.con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_catalog = current_database()"
        ).fetchall()
        return [r[0] for r in rows]
    return backend.list_tables()


def _database_tables(
    spec: SourceSpec, backend: ibis.BaseBackend, backend_name: str, size: int | None, start: float
) -> list[OpenedSource] | SourceFailure:
    """One opened source per table of a database file (or the one table the spec names)."""
    names = [spec.table] if spec.table else sorted(_table_names(backend, backend_name))
    if not names:
        return SourceFailure(spec, "the database has no tables")
    out = []
    for n in names:
        table = backend.table(n)
        sub = replace(spec, name=f"{spec.name}:{n}", table=n)
        out.append(OpenedSource(sub, table, backend_name, size, time.perf_counter() - start))
    return out


def _register(con, frame: pd.DataFrame) -> ibis.Table:  # noqa: ANN001
    """A frame as a table of ``con`` (DuckDB reads it through Arrow, types kept)."""
    import pyarrow as pa

    name = f"sheet_{uuid.uuid4().hex[:12]}"
    con.con.register(name, pa.Table.from_pandas(frame, preserve_index=False))
    return con.table(name)


def _open_excel(
    con,
    spec: SourceSpec,
    size: int,
    start: float,  # noqa: ANN001
) -> list[OpenedSource] | SourceFailure:
    # calamine (Rust) reads the same cells, as the same Python types, as openpyxl, several
    # times faster (measured on the sample company's workbook: 9 s against 51 s here).
    sheets = pd.read_excel(
        spec.location, sheet_name=spec.table or None, dtype=object, engine="calamine"
    )
    if not isinstance(sheets, dict):
        sheets = {spec.table: sheets}
    opened, headerless = [], []
    for sheet, frame in sheets.items():
        if frame.empty and len(frame.columns) == 0:
            continue
        names, renamed = unique_column_names(list(frame.columns))
        if all(n.startswith("column_") for n in names):
            continue
        if header_looks_like_data(names):
            headerless.append(str(sheet))
            continue
        frame.columns = names
        name = f"{spec.name}:{sheet}"
        sheet_key = dict(spec.sheet_keys).get(str(sheet), spec.key)
        table = _register(con, typed_frame(frame))
        opened.append(
            OpenedSource(
                replace(spec, name=name, key=sheet_key, table=str(sheet)),
                table,
                "duckdb",
                size,
                time.perf_counter() - start,
                str(sheet),
                renamed_columns=renamed,
                scratch=con,
            )
        )
    if not opened:
        if headerless:
            return SourceFailure(
                spec, f"sheet '{headerless[0]}' has no header row (its first row holds data)"
            )
        return SourceFailure(spec, "no sheet has a header row and data")
    return opened


def _open_text(con, spec: SourceSpec, size: int, start: float, as_text: bool) -> list[OpenedSource]:  # noqa: ANN001
    path = spec.location
    if spec.kind == "csv":
        renamed = _csv_header_renames(path)
    else:
        renamed = {}
    table, latency, inferred = load_text_file(con, path, spec.kind, as_text=as_text)
    return [
        OpenedSource(
            spec,
            table,
            "duckdb",
            size,
            max(time.perf_counter() - start, latency.full_scan_seconds),  # early or now
            declared_types=spec.kind != "csv" and inferred,
            latency=latency,
            renamed_columns=renamed,
            scratch=con,
        )
    ]


def _csv_header_renames(path: str) -> dict[str, str]:
    """Header cells DuckDB will rename (repeats, blanks), read from the file's first line."""
    import csv
    import io

    from pilot2prod.sources.formats import read_head

    dialect = sniff_text(path)
    codec = "utf-8" if dialect.encoding == "utf-8-sig" else dialect.encoding
    text = read_head(path, 1 << 20).decode(codec, errors="replace").lstrip("\ufeff")
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=dialect.delimiter))
    except (StopIteration, csv.Error):
        return {}
    repeated = {h for h in header if header.count(h) > 1 and h.strip()}
    blanks = sum(1 for h in header if not h.strip())
    out = {h: f"{h} (repeated {header.count(h)} times; later copies renamed)" for h in repeated}
    if blanks:
        out["(blank)"] = f"{blanks} column(s) without a name"
    return out


def _open_zip(con, spec: SourceSpec, size: int, start: float, as_text: bool):  # noqa: ANN001
    """Each readable member of a zip archive is opened as its own source (copied to a
    temporary folder first: DuckDB does not read inside zip archives)."""
    from pilot2prod.sources.formats import kind_of

    members = zip_members(spec.location)
    if spec.member:
        members = [m for m in members if m == spec.member]
    if not members:
        return SourceFailure(spec, "the zip archive holds no readable file")
    folder = Path(tempfile.mkdtemp(prefix="pilot2prod-zip-"))
    weakref.finalize(con, shutil.rmtree, folder, ignore_errors=True)
    opened = []
    for member in members:
        extracted = extract_member(spec.location, member, folder)
        sub = replace(
            spec,
            name=spec.name if len(members) == 1 else f"{spec.name}/{member}",
            location=str(extracted),
            kind=kind_of(member),
            member=member,
        )
        result = open_source(sub, con, as_text=as_text)
        if isinstance(result, SourceFailure):
            return SourceFailure(spec, f"{member}: {result.reason}")
        for o in result:
            o.size_bytes = size
            o.spec = replace(o.spec, location=spec.location)
        opened.extend(result)
    return opened


def open_source(
    spec: SourceSpec, con=None, as_text: bool = False
) -> list[OpenedSource] | SourceFailure:  # noqa: ANN001
    """Open one source, read-only (a workbook opens one table per sheet, a database file one
    per table, unless the spec names one). ``as_text`` reads text files without inferring
    types, for callers that parse values themselves."""
    con = con if con is not None else estate_connection()
    start = time.perf_counter()
    try:
        if spec.kind == "database":
            backend = connect_read_only(expand_env(spec.location))
            if not spec.table:
                raise ParameterError(
                    "a database source needs a table: 'table' in the inventory, or #table after "
                    "the URL"
                )
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
        if spec.kind == "zip":
            return _open_zip(con, spec, size, start, as_text)
        if spec.kind == "sqlite":
            backend = ibis.sqlite.connect(spec.location, type_map=None)
            backend.raw_sql("PRAGMA query_only = ON")  # reads, never writes
            return _database_tables(spec, backend, "sqlite", size, start)
        if spec.kind == "duckdb":
            backend = ibis.duckdb.connect(spec.location, read_only=True)
            return _database_tables(spec, backend, "duckdb", size, start)
        if spec.kind == "excel":
            return _open_excel(con, spec, size, start)
        if spec.kind == "parquet":  # columnar already: scanned in place, not copied
            table = con.read_parquet(spec.location)
            table.limit(1).execute()
            elapsed = time.perf_counter() - start
            return [OpenedSource(spec, table, "duckdb", size, elapsed, scratch=con)]
        if spec.kind in ("csv", "json", "jsonl"):
            return _open_text(con, spec, size, start, as_text)
        return SourceFailure(spec, f"unsupported kind {spec.kind}")  # pragma: no cover
    except Exception as exc:  # noqa: BLE001 - any failure is a finding, never a crash
        return _failure(spec, exc)


def open_estate(specs: list[SourceSpec]) -> Estate:
    """Open every source; failures are collected, the rest go on."""
    con = estate_connection()
    estate = Estate()
    for spec in specs:
        if spec.skipped:
            estate.skipped.append(spec)
            continue
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
    for spec in estate.skipped:
        rows.append(
            {
                "source": spec.name,
                "kind": "",
                "backend": "",
                "location": spec.display_location,
                "owner": spec.owner or "(unknown)",
                "size_bytes": None,
                "open_seconds": None,
                "status": "skipped",
                "reason": f"'{_suffix(spec.location)}' is not a data format: not audited",
            }
        )
    return pd.DataFrame(rows)
