"""Uniqueness across spellings, key coverage between tables, freshness and read latency."""

from __future__ import annotations

import time
from dataclasses import dataclass

import ibis
import pandas as pd

from pilot2prod.audit.scan import TextValues, trimmed
from pilot2prod.sources import Latency

ISO_TIME = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?"


def iso_time(column: ibis.Value) -> ibis.Value:
    """A column's timestamps in a form every engine can compare and take the max of: the
    column itself when typed, else its ISO-shaped text (which sorts chronologically) with
    other values left out. Works where an engine has no TRY_CAST (SQLite)."""
    if column.type().is_temporal():
        return column
    text = trimmed(column.cast("string")).re_replace("T", " ")
    return text.re_search(ISO_TIME).ifelse(text, ibis.null("string"))


#: What writers vary in one value: spaces, dots, commas, hyphens, underscores, quotes, brackets
#: and slashes. Letters of every script, digits and signs that change the meaning (< and >=,
#: +, %, &) stay.
SPELLING_NOISE = r"""[\s.,;:_'"()/-]+"""


def normalised(value: ibis.Value) -> ibis.Value:
    """Lower case without :data:`SPELLING_NOISE`: 'ACME  GmbH.' and 'Acme GmbH', 'FALCON XP' and
    'FALCON-XP' become equal; 'Москва' and 'Казань', '<40' and '>=40' stay apart (keeping only
    the letters a to z had made every value in another script, and every range, one value)."""
    return value.cast("string").lower().re_replace(SPELLING_NOISE, "")


@dataclass(frozen=True)
class SpellingVariants:
    entities_with_variants: int
    rows_in_variant_groups: int
    examples: list[list[str]]  # masked by the caller when the column is personal data


def spelling_variants(table: ibis.Table, column: str, examples: int = 5) -> SpellingVariants:
    """The same entity under different spellings: values equal once normalised, different
    as written. Counted in the engine; a few example groups come back."""
    return spelling_variants_by_column(table, [column], examples)[column]


def spelling_variants_by_column(
    table: ibis.Table, columns: list[str], examples: int = 5, values: TextValues | None = None
) -> dict[str, SpellingVariants]:
    """:func:`spelling_variants` for many columns in two queries, whatever their number: the
    columns' distinct values with their counts are stacked (a UNION ALL, which every engine
    runs) and grouped once. ``values``: the columns' :class:`~pilot2prod.audit.scan.TextValues`
    when a scan already has them (else they are grouped here)."""
    if not columns:
        return {}
    if values is None:
        values = TextValues(table, columns)
    # Normalising is done once per distinct value instead of once per row (a million rows
    # hold a few thousand values). Values shaped like personal data (e-mail addresses, phone
    # numbers: identifiers, often most of the distinct values) are compared by case and
    # surrounding spaces only: the regular expression that drops punctuation took most of
    # the check's time on them, and their formats are the shape rule's to judge.
    position = values.position
    stacked = values.stacked(columns)
    present = stacked.filter(stacked._val.notnull())
    t = present.mutate(_norm=present._pii.ifelse(present._text.lower(), normalised(present._val)))
    groups = (
        t.group_by(["_col", "_norm"])
        .aggregate(spellings=t.count(), rows=t._n.sum())
        .filter(lambda g: g.spellings > 1)
    )
    counts = groups.group_by("_col").aggregate(n=groups.count(), rows=groups.rows.sum()).execute()
    found: dict[int, list[list[str]]] = {}
    if len(counts):
        ranked = groups.mutate(
            _rank=ibis.row_number().over(
                group_by=groups._col, order_by=[ibis.desc(groups.rows), groups._norm]
            )
        )
        top = ranked.filter(ranked._rank <= examples).select("_col", "_norm", "_rank")
        spelled = (
            t.join(top, ["_col", "_norm"]).select("_col", "_rank", "_val").distinct().execute()
        )
        for (col, _), g in spelled.groupby(["_col", "_rank"], sort=True):
            found.setdefault(int(col), []).append(sorted(g["_val"].astype(str).tolist()))
    by_index = {int(r["_col"]): r for r in counts.to_dict("records")}
    out = {}
    for column in columns:
        i = position[column]
        row = by_index.get(i, {})
        out[column] = SpellingVariants(
            int(row.get("n") or 0), int(row.get("rows") or 0), found.get(i, [])
        )
    return out


@dataclass(frozen=True)
class KeyCoverage:
    child_rows: int
    orphan_rows: int
    orphan_keys: int

    @property
    def orphan_share(self) -> float:
        return self.orphan_rows / self.child_rows if self.child_rows else 0.0


def key_coverage(
    child: ibis.Table, child_key: str, parent: ibis.Table, parent_key: str
) -> KeyCoverage:
    """Rows of ``child`` whose key has no match in ``parent`` (orphan foreign keys).

    Computed as an anti-join in the engine when both tables live in the same backend.
    Otherwise each engine sends its distinct keys (the child's with their row counts) and
    they are matched here: sources are opened read-only, so neither side can receive a
    temporary table from the other."""
    c = child.filter(child[child_key].notnull())
    keys = parent.select(_k=parent[parent_key].cast("string")).distinct()
    try:
        same = child._find_backend() is parent._find_backend()
    except Exception:  # noqa: BLE001 - memtables have no backend until executed
        same = False
    if not same:
        counts = c.group_by(_k=c[child_key].cast("string")).aggregate(n=ibis._.count()).execute()
        known = set(keys.execute()["_k"].dropna())
        orphans = counts[~counts["_k"].isin(known)]
        return KeyCoverage(int(counts["n"].sum()), int(orphans["n"].sum()), len(orphans))
    orphans = c.anti_join(keys, c[child_key].cast("string") == keys._k)
    row = orphans.aggregate(rows=orphans.count(), keys=orphans[child_key].nunique()).execute()
    total = int(c.count().execute())
    return KeyCoverage(total, int(row.iloc[0]["rows"] or 0), int(row.iloc[0]["keys"] or 0))


@dataclass(frozen=True)
class Freshness:
    column: str | None
    newest: pd.Timestamp | None
    lag_days: float | None
    refresh_days: float | None

    @property
    def stale(self) -> bool:
        return (
            self.lag_days is not None
            and self.refresh_days is not None
            and self.lag_days > self.refresh_days
        )


def freshness(
    table: ibis.Table,
    date_columns: list[str],
    now: pd.Timestamp,
    refresh_days: float | None = None,
    known: dict[str, object] | None = None,
) -> Freshness:
    """The newest timestamp among ``date_columns`` and its lag behind ``now``, compared with
    the refresh interval the owner expects. ``known`` holds newest values already computed
    (by a scan); only the other columns are queried."""
    if not date_columns:
        return Freshness(None, None, None, refresh_days)
    newest_by_column = dict(known or {})
    ask = [name for name in date_columns if name not in newest_by_column]
    if ask:
        aggregates = {f"m{i}": iso_time(table[name]).max() for i, name in enumerate(ask)}
        row = table.aggregate(**aggregates).execute().iloc[0]
        newest_by_column.update({name: row[f"m{i}"] for i, name in enumerate(ask)})
    best_column, newest = None, None
    for name in date_columns:
        value = newest_by_column[name]
        if value is not None and not pd.isna(value):
            stamp = (
                pd.Timestamp(value).tz_localize(None)
                if pd.Timestamp(value).tzinfo
                else pd.Timestamp(value)
            )
            if newest is None or stamp > newest:
                best_column, newest = name, stamp
    lag = (now - newest).total_seconds() / 86400 if newest is not None else None
    return Freshness(best_column, newest, lag, refresh_days)


def read_latency(table: ibis.Table) -> Latency:
    """Time to the first row and to a full scan (a count that must read every row)."""
    start = time.perf_counter()
    table.limit(1).execute()
    first = time.perf_counter() - start
    start = time.perf_counter()
    table.count().execute()
    return Latency(first, time.perf_counter() - start)
