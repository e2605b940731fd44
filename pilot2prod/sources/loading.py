"""Copying text files (delimited text, JSON, JSON Lines) into an in-memory DuckDB database, and
doing it early: while a run's kernel is still importing its libraries.

This module needs only DuckDB (no Ibis, no pandas), so that a kernel can start loading the
files a run names before it imports the rest (:func:`prefetch`, called by
:func:`pilot2prod.lazy.preload`). Loading is mostly DuckDB's own work, which runs outside
Python's interpreter lock, so on a machine with two cores it overlaps with the imports instead
of following them. :mod:`~pilot2prod.sources.engines` then picks up a file loaded early
(:func:`take_prefetched`) if it is the same file, unchanged, and otherwise loads it as usual; a
file that failed early is simply loaded again, so that its error is reported as always.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import duckdb

from pilot2prod.sources.formats import TEXT_KINDS, TextDialect, sniff_text, split_suffixes

#: Memory DuckDB may use before it spills loaded files to disk.
DUCKDB_MEMORY_LIMIT = "1GB"
_DUCKDB_ENCODING = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "utf-16": "utf-16", "cp1252": "latin-1"}
_DUCKDB_COMPRESSION = {".gz": "gzip", ".zst": "zstd", "": "none"}
_DATA_LIKE = re.compile(r"^[+-]?\d+([.,]\d+)?$|^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{6,}|@")


@dataclass(frozen=True)
class Latency:
    first_row_seconds: float
    full_scan_seconds: float


@dataclass(frozen=True)
class Loaded:
    """A text file copied into a DuckDB database: the table's name, the time to its first rows
    and to the whole file, and whether DuckDB inferred the types (False: all text)."""

    table: str
    latency: Latency
    inferred: bool


def new_database(memory_limit: str = DUCKDB_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB database to load files into. Past ``memory_limit`` DuckDB spills to a
    temporary folder, so a file larger than memory still loads; the folder is removed when the
    connection is garbage-collected."""
    spill = tempfile.mkdtemp(prefix="pilot2prod-duckdb-")
    # Row order carries no meaning here; not keeping it makes loading a third faster.
    config = {
        "memory_limit": memory_limit,
        "temp_directory": spill,
        "preserve_insertion_order": False,
    }
    con = duckdb.connect(":memory:", config=config)
    weakref.finalize(con, shutil.rmtree, spill, ignore_errors=True)
    session(con)
    return con


def session(con: duckdb.DuckDBPyConnection) -> None:
    """Settings of each connection (and cursor) that loads: times in UTC, as Ibis's DuckDB
    backend sets them, and no progress bar."""
    con.execute("SET TimeZone = 'UTC'")
    try:  # a terminal would show a bar for long loads; in Jupyter DuckDB draws none anyway
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:  # Jupyter without ipywidgets refuses the setting: nothing to switch off
        pass


def header_looks_like_data(names: list[str]) -> bool:
    """True when at least half the header cells look like values (numbers, dates, long digit
    runs such as ids or phone numbers, e-mail addresses): the file was exported without its
    header row. Names such as ``c1024`` or ``q2_2026`` are names."""
    names = [n for n in names if not n.startswith("Unnamed") and not n.startswith("column")]
    return bool(names) and sum(bool(_DATA_LIKE.search(n)) for n in names) * 2 >= len(names)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _csv_dialect(path: str) -> TextDialect:
    dialect = sniff_text(path)
    if dialect.binary:
        raise ValueError("the file holds binary bytes, not delimited text")
    return dialect


def scan_call(path: str, kind: str, dialect: TextDialect | None, types: str) -> str:
    """DuckDB's table function that reads the file. ``types``: "sampled" lets DuckDB infer
    column types from a sample, "full" from every row, "text" keeps every value as text."""
    options = []
    _, compression = split_suffixes(path)
    if types == "full":
        options.append("sample_size=-1")
    if kind == "csv":
        assert dialect is not None
        if types == "text":
            options.append("all_varchar=true")
        options += [
            f"delim={_literal(dialect.delimiter)}",
            f"encoding={_literal(_DUCKDB_ENCODING[dialect.encoding])}",
            "header=true",
            f"compression={_literal(_DUCKDB_COMPRESSION[compression])}",
        ]
        if dialect.decimal != ".":
            options.append(f"decimal_separator={_literal(dialect.decimal)}")
        function = "read_csv"
    else:
        fmt = "newline_delimited" if kind == "jsonl" else "auto"
        options.append(f"format={_literal(fmt)}")
        options.append(f"compression={_literal(_DUCKDB_COMPRESSION[compression])}")
        if types == "text":
            options += ["sample_size=-1", "maximum_depth=1"]  # nested values kept as JSON
        function = "read_json"
    return f"{function}({', '.join([_literal(path), *options])})"


def load_text(
    con: duckdb.DuckDBPyConnection, path: str, kind: str, as_text: bool = False
) -> Loaded:
    """Copy a CSV or JSON file into ``con`` once.

    Type inference on a sample can meet a value that does not fit further down the file; then
    the types are inferred from every row, and as a last resort every value is read as text
    (``as_text`` asks for text from the start)."""
    start = time.perf_counter()
    dialect = _csv_dialect(path) if kind == "csv" else None
    con.execute(f"SELECT * FROM {scan_call(path, kind, dialect, 'sampled')} LIMIT 1").fetchall()
    first_row = time.perf_counter() - start
    name = f"source_{uuid.uuid4().hex[:12]}"
    attempts = ("text",) if as_text else ("sampled", "full", "text")
    for types in attempts:
        try:
            con.execute(
                f'CREATE TABLE "{name}" AS SELECT * FROM {scan_call(path, kind, dialect, types)}'
            )
            break
        except (duckdb.ConversionException, duckdb.InvalidInputException):
            if types == "text":
                raise
    columns = [d[0] for d in con.execute(f'SELECT * FROM "{name}" LIMIT 0').description]
    if header_looks_like_data(columns):
        con.execute(f'DROP TABLE "{name}"')
        raise ValueError("the first row holds data, not a header row")
    return Loaded(name, Latency(first_row, time.perf_counter() - start), types != "text")


# --- Loading early ---------------------------------------------------------------------------


def _signature(path: str) -> tuple[str, int, int] | None:
    """What identifies a file's content here: its absolute path, size and modification time."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return os.path.abspath(path), stat.st_size, stat.st_mtime_ns


@dataclass
class _Prefetch:
    database: duckdb.DuckDBPyConnection
    loads: dict[tuple[Any, ...], Future]
    taken: bool = False


_prefetched: _Prefetch | None = None
_lock = threading.Lock()


def prefetch(files: Iterable[tuple[str, str]]) -> bool:
    """Start copying ``files`` (path, kind) into a new database in a background thread, one
    after the other; returns whether anything was started. Only existing, non-empty text files
    are loaded; the database is handed out once, by :func:`take_prefetched`."""
    global _prefetched
    wanted = []
    for path, kind in files:
        signature = _signature(path)
        if kind in TEXT_KINDS and signature is not None and signature[1] > 0:
            wanted.append((path, kind, signature))
    if not wanted:
        return False
    database = new_database()
    # The thread keeps its own list: the caller takes futures out of the shared mapping.
    jobs = [(path, kind, Future()) for path, kind, _ in wanted]
    loads = {
        (signature, kind): job[2] for (_, kind, signature), job in zip(wanted, jobs, strict=True)
    }
    working: list[duckdb.DuckDBPyConnection] = []  # the cursor loading now, if any
    stopping = threading.Event()

    def load_all() -> None:
        for path, kind, future in jobs:
            if stopping.is_set() or not future.set_running_or_notify_cancel():
                future.cancel()
                continue
            try:
                # A connection of its own to the same database, closed before the result is
                # handed over: the caller may close the database as soon as it has it.
                with database.cursor() as cursor:
                    working.append(cursor)
                    try:
                        session(cursor)
                        loaded = load_text(cursor, path, kind)
                    finally:
                        working.clear()
            except BaseException as exc:  # noqa: BLE001 - loaded again where it is used
                future.set_exception(exc)
            else:
                future.set_result(loaded)
        atexit.unregister(stop)  # nothing left to stop; let the database go with its users

    thread = threading.Thread(target=load_all, name="pilot2prod-prefetch", daemon=True)

    def stop() -> None:
        """At exit: interrupt the load under way and wait for the thread (a thread still
        inside DuckDB when the interpreter ends aborts the process)."""
        stopping.set()
        for cursor in list(working):
            cursor.interrupt()
        thread.join(timeout=30)

    with _lock:
        _prefetched = _Prefetch(database, loads)
    atexit.register(stop)
    thread.start()
    return True


def take_prefetched() -> duckdb.DuckDBPyConnection | None:
    """The database files are being loaded into early, once (None if there is none)."""
    with _lock:
        if _prefetched is None or _prefetched.taken:
            return None
        _prefetched.taken = True
        return _prefetched.database


def prefetched(
    con: duckdb.DuckDBPyConnection, path: str, kind: str, as_text: bool
) -> Loaded | None:
    """The early load of ``path`` into ``con``, waited for, if there is one for this database
    and the file is unchanged since; None otherwise (load it as usual). A load that failed
    early is None too: loaded again, its error is reported where it always is."""
    with _lock:
        if _prefetched is None or _prefetched.database is not con or as_text:
            return None
        signature = _signature(path)
        future = _prefetched.loads.pop((signature, kind), None)
    if future is None:
        return None
    try:
        loaded = future.result()
    except BaseException:  # noqa: BLE001
        return None
    if _signature(path) != signature:  # changed while it loaded
        con.execute(f'DROP TABLE IF EXISTS "{loaded.table}"')
        return None
    return loaded
