"""Naming a source: one file, a folder or glob of files, a table in a database, or an entry of
an inventory (YAML). Every chapter's data parameters and the audit's ``sources`` accept the
same references:

==========================================  ===============================================
``exports/tickets.csv``                     one file of any registered format
``exports/tickets.csv.gz``, ``dump.zip``    compressed text, or a zip archive of files
``crm.xlsx#Accounts``                       one sheet of a workbook
``warehouse.sqlite#orders``                 one table of a SQLite or DuckDB file
``postgresql://me:${PGPASSWORD}@db/sales#orders``  a table in a database (URL ``#table``)
``spark:local[2]#lake/events.parquet``      a Spark catalog table or a file Spark reads
``inventory.yaml#tickets``                  the source an inventory names ``tickets``
==========================================  ===============================================

Credentials never appear in a reference: a database URL names ``${ENV_VAR}`` placeholders that
are filled from the environment when the source is opened. A password written into a URL is
refused before anything is run or written.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

from pilot2prod.errors import ParameterError
from pilot2prod.sources.formats import kind_of

#: Files a Spark source may name as its ``table`` (anything else is a catalog table).
SPARK_FILE_SUFFIXES = (".parquet", ".csv", ".tsv", ".json", ".jsonl", ".ndjson")
SPARK_PREFIX = "spark:"
_ENV = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class SourceSpec:
    """One source as a reference or an inventory describes it. Credentials are never part of
    it: a database URL may name ``${ENV_VAR}`` placeholders filled from the environment."""

    name: str
    location: str
    kind: str
    owner: str = ""
    system: str = ""
    access: str = ""
    refresh_days: float | None = None
    privacy_notes: str = ""
    table: str = ""  # a database table, a workbook sheet or a Spark table/path
    group: str = ""  # the inventory entry a file belongs to (a folder of exports)
    key: str = ""  # identifier column
    required: tuple[str, ...] = ()  # columns an analysis cannot do without
    order_rules: tuple[tuple[str, str], ...] = ()  # (earlier, later) timestamp pairs
    references: tuple[tuple[str, str, str], ...] = ()  # (column, other source, its key)
    sheet_keys: tuple[tuple[str, str], ...] = ()  # workbooks: (sheet, its key column)
    freshness_column: str | None = None  # None: newest date column; "": not measurable
    member: str = ""  # a file inside a zip archive
    #: Found by walking a folder or matching a glob, not named by the user: a file in no data
    #: format (a README, a data dictionary in PDF) is then skipped, not a source that failed.
    discovered: bool = False

    @property
    def skipped(self) -> bool:
        """A file found beside the data in no data format: listed, not read."""
        return self.discovered and self.kind == "unknown"

    @property
    def display_location(self) -> str:
        """The location as reports show it: any password masked, and a file's path relative to
        the working folder (a deliverable carries no path of the machine it was made on)."""
        if "://" in self.location or self.location.startswith(SPARK_PREFIX):
            return redact(self.location)
        try:
            return os.path.relpath(self.location, Path.cwd())
        except ValueError:  # another drive (Windows)
            return self.location


def redact(location: str) -> str:
    """A location safe to print: any password in a URL replaced by ``***``."""
    if "://" not in location:
        return location
    try:
        parts = urlsplit(location)
        password = parts.password
    except ValueError:
        return location
    if password:
        netloc = parts.netloc.replace(f":{password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return location


def literal_password(url: str) -> bool:
    """True when a URL carries a password written out, not an ``${ENV}`` placeholder."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return False
    return bool(password) and not _ENV.fullmatch(password)


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

    return _ENV.sub(fill, location)


def split_reference(text: str) -> tuple[str, str]:
    """``location#table`` into its parts (``table`` empty when none is named)."""
    location, sep, table = text.rpartition("#")
    if not sep or not location:
        return text, ""
    return location, table


def resolve_reference(raw: str, cwd: Path, parameter: str) -> str:
    """Check a reference given as a parameter and make its paths absolute (against ``cwd``).

    Refuses a password written into a URL (before anything is written) and a file that does not
    exist; a glob is anchored in ``cwd``."""
    text = raw.strip()
    location, table = split_reference(text)
    if "://" in location:
        if literal_password(location):
            raise ParameterError(
                f"Parameter {parameter} holds a password in its database URL; write "
                "${NAME_OF_A_VARIABLE} in its place and export the password in that "
                "environment variable. Nothing was run or written."
            )
        return text
    if location.startswith(SPARK_PREFIX):
        master = location[len(SPARK_PREFIX) :]
        if not table:
            raise ParameterError(
                f"Parameter {parameter} names a Spark master but no table; write "
                f"{SPARK_PREFIX}{master or 'local[2]'}#<catalog table or file path>."
            )
        return f"{location}#{spark_table_path(table, cwd)}"
    path = Path(location).expanduser()
    if not path.is_absolute():
        path = (cwd / path).resolve()
    if is_glob(location):
        return str(path) + (f"#{table}" if table else "")
    if not path.exists():
        # "name#x" might be a file whose name holds a '#'.
        whole = Path(text).expanduser()
        whole = whole if whole.is_absolute() else (cwd / whole).resolve()
        if table and whole.exists():
            return str(whole)
        raise ParameterError(
            f"Parameter {parameter}: there is no file or folder at '{location}' (looked in "
            f"{path.parent}); check the spelling or give an absolute path."
        )
    return str(path) + (f"#{table}" if table else "")


def spark_table_path(table: str, base: Path) -> str:
    """A Spark table that is a file path is made absolute; a catalog name stays as it is."""
    is_path = "/" in table or Path(table).suffix.lower() in SPARK_FILE_SUFFIXES
    if is_path and not Path(table).is_absolute():
        return str((base / table).resolve())
    return table


def spec_of_reference(reference: str) -> list[SourceSpec]:
    """The sources a resolved reference names (an inventory, a folder or a glob: several)."""
    location, table = split_reference(reference)
    if location.startswith(SPARK_PREFIX):
        master = location[len(SPARK_PREFIX) :]
        return [SourceSpec(name=table, location=master, kind="spark", table=table)]
    if "://" in location:
        name = redact(location) + (f"#{table}" if table else "")
        return [SourceSpec(name=name, location=location, kind="database", table=table)]
    p = Path(location)
    if p.suffix.lower() in (".yaml", ".yml") and p.is_file():
        specs = read_inventory(p)
        if not table:
            return specs
        chosen = [s for s in specs if s.name == table or s.group == table]
        if not chosen:
            names = sorted({s.group or s.name for s in specs})
            raise ParameterError(
                f"The inventory '{p.name}' has no source named '{table}'; its sources are: "
                f"{', '.join(names)}."
            )
        return chosen
    specs = discover(location)
    return [replace(s, table=table) for s in specs] if table else specs


def discover(target: str) -> list[SourceSpec]:
    """Sources from a folder (hidden files and folders skipped), a glob, one file or a URL."""
    if "://" in target:
        return [SourceSpec(name=redact(target), location=target, kind="database")]
    p = Path(target)
    if p.is_dir():
        files = sorted(
            f
            for f in p.rglob("*")
            if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
        )
    else:
        files = sorted(Path(f) for f in glob.glob(target, recursive=True) if Path(f).is_file())
        if not files and not is_glob(target):
            files = [p]  # a single path, missing or not: its absence becomes a finding
    walked = walks(target)  # else the one file named
    return [
        SourceSpec(name=f.name, location=str(f), kind=kind_of(str(f)), discovered=walked)
        for f in files
    ]


def is_glob(location: str) -> bool:
    return any(ch in location for ch in "*?[")


def walks(location: str) -> bool:
    """True when ``location`` names several files: a folder or a glob."""
    return Path(location).is_dir() or is_glob(location)


def read_inventory(path: Path) -> list[SourceSpec]:
    """An inventory: ``sources:`` with name, location (relative to the file), owner, system,
    access, refresh_days, privacy_notes and (databases) table.

    ``kind: spark`` audits with Apache Spark: the location is the Spark master (``local[2]``,
    ``spark://host:7077``) and ``table`` a catalog table or a Parquet, CSV or JSON path."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0]
        raise ParameterError(f"Inventory '{path.name}' is not valid YAML ({reason}).") from None
    entries = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ParameterError(f"Inventory '{path.name}' must have a list under 'sources:'.")
    specs = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "location" not in entry:
            raise ParameterError(f"Inventory '{path.name}': source {i + 1} needs a 'location'.")
        location = str(entry["location"])
        if any(k in entry for k in ("password", "secret", "token")) or literal_password(location):
            raise ParameterError(
                f"Inventory '{path.name}': source {i + 1} holds a credential; put it in an "
                "environment variable and write ${NAME} in the location instead."
            )
        spark = entry.get("kind") == "spark"  # location is a Spark master: local[2], spark://
        table = str(entry.get("table", ""))
        if spark:
            table = spark_table_path(table, path.parent)
        elif "://" not in location and not Path(location).is_absolute():
            location = str((path.parent / location).resolve())
        name = str(entry.get("name") or Path(location).name)
        key = entry.get("key")
        common = dict(
            owner=str(entry.get("owner", "")),
            system=str(entry.get("system", "")),
            access=str(entry.get("access", "")),
            refresh_days=entry.get("refresh_days"),
            privacy_notes=str(entry.get("privacy_notes", "")),
            table=table,
            key=key if isinstance(key, str) else "",
            sheet_keys=tuple(key.items()) if isinstance(key, dict) else (),
            freshness_column=(
                None if "freshness_column" not in entry else str(entry["freshness_column"] or "")
            ),
            required=tuple(entry.get("required", ())),
            order_rules=tuple(tuple(r) for r in entry.get("order_rules", ())),
            references=tuple(
                (r["column"], r["source"], r["key"]) for r in entry.get("references", ())
            ),
        )
        is_folder = not spark and "://" not in location and walks(location)
        if is_folder:  # a folder (or glob) of files, e.g. monthly exports: one source per file
            for found in discover(location):
                specs.append(
                    SourceSpec(
                        name=f"{name}/{found.name}",
                        location=found.location,
                        kind=found.kind,
                        group=name,
                        discovered=True,
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
