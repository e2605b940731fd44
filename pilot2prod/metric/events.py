"""Chapter 1's events, read and cleaned inside the engine that holds them.

The event table (a file, a database table, a Spark table) is never pulled into memory. Every
step below is an Ibis expression that the engine evaluates, and only counts come back: the rows
each cleaning step removes, and later (:mod:`~pilot2prod.metric.counts`) the number of events
per duration bucket. Every exclusion is counted and explained; none is silent.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from pilot2prod import timestamps
from pilot2prod.errors import DataQualityError, DataSourceError, ParameterError
from pilot2prod.metric.params import Parameters
from pilot2prod.params import shown
from pilot2prod.privacy import masked_examples
from pilot2prod.sources import open_table, require_columns

UNIT_SECONDS = {"minutes": 60.0, "hours": 3600.0, "days": 86400.0}
UNIT_SHORT = {"minutes": "min", "hours": "h", "days": "d"}
WEEK_SECONDS = 7 * 86400.0
#: Relative width of a duration bucket: the engine counts events per bucket, and a quantile
#: read from the buckets is within half of this (0.05 %) of the exact one.
BUCKET_STEP = 0.001
_TRUE_TEXT = ("1", "true", "yes", "y", "t")
_FALSE_TEXT = ("0", "false", "no", "n", "f")
_NUMBER = r"^[+-]?(\d+([.,]\d+)?|[.,]\d+)$"


@dataclass(frozen=True)
class Limits:
    """When a cleaning finding stops the run instead of being counted (named, not inline)."""

    #: A column whose values repeat in more than this share of rows is not an id.
    duplicate_id_share: float = 0.02
    #: Implausible durations: beyond this many interquartile ranges above the upper quartile
    #: of log durations (Tukey's far-out fence on the log scale) ...
    log_fence_iqr: float = 3.0
    #: ... and at least this many times the median duration.
    median_multiple: float = 20.0
    #: How many of the worst implausible durations are listed.
    listed: int = 10


LIMITS = Limits()


@dataclass
class CleaningReport:
    """What happened to the rows on the way in: every exclusion is counted and explained."""

    rows_read: int = 0
    unparseable_start: int = 0
    unparseable_end: int = 0
    unparseable_examples: list[str] = field(default_factory=list)
    duplicate_ids: int = 0
    duplicate_id_share: float = 0.0
    end_before_start: int = 0
    implausible_durations: int = 0
    started_after_as_of: int = 0
    resolved_after_as_of: int = 0
    outside_focus: int = 0
    rows_used: int = 0

    def as_table(self) -> pd.DataFrame:
        rows = [
            ("rows read", self.rows_read, ""),
            ("unparseable start timestamp", self.unparseable_start, "dropped"),
            ("unparseable end timestamp", self.unparseable_end, "dropped"),
            ("duplicate ids", self.duplicate_ids, "later copies dropped"),
            ("end before start", self.end_before_start, "excluded (clock or entry errors)"),
            ("implausible durations", self.implausible_durations, "excluded, listed below"),
            ("started after as_of", self.started_after_as_of, "not yet in the data on as_of"),
            ("resolved after as_of", self.resolved_after_as_of, "kept, treated as open"),
            ("outside focus segment", self.outside_focus, "left out"),
            ("rows used", self.rows_used, ""),
        ]
        return pd.DataFrame(rows, columns=["step", "rows", "what happens"])


@dataclass
class Events:
    """Clean events as an engine expression: ``start_s``, ``end_s`` (epoch seconds; null while
    open), ``duration`` (in ``unit``), ``observed``, ``segment``, ``reopened``, ``csat``,
    ``cluster``; read as they stood at ``as_of``."""

    table: ir.Table
    as_of: pd.Timestamp
    unit: str
    report: CleaningReport
    readings: list[timestamps.Reading]
    implausible: pd.DataFrame
    source: str
    has_segments: bool
    has_reopened: bool
    has_csat: bool
    has_clusters: bool

    @property
    def as_of_s(self) -> float:
        return epoch(self.as_of)

    def window(self, weeks: int) -> ir.Table:
        """Events that started in the ``weeks`` before ``as_of``."""
        t = self.table
        return t.filter(t.start_s >= self.as_of_s - weeks * WEEK_SECONDS, t.start_s < self.as_of_s)


def epoch(stamp: pd.Timestamp) -> float:
    """Seconds since 1970 of a timestamp (naive timestamps count as UTC, as in the engine)."""
    stamp = pd.Timestamp(stamp)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return (stamp - pd.Timestamp("1970-01-01")).total_seconds()


def from_epoch(seconds: float) -> pd.Timestamp:
    return pd.Timestamp("1970-01-01") + pd.Timedelta(seconds=float(seconds))


def _flag(column: ir.Value) -> ir.FloatingValue:
    """1.0 / 0.0 for yes/no values, null for blanks, -1.0 for anything else (counted)."""
    if column.type().is_boolean():
        return column.cast("float64")
    if column.type().is_numeric():
        return ibis.cases(
            (column == 1, 1.0), (column == 0, 0.0), (column.isnull(), None), else_=-1.0
        )
    text = timestamps.clean_text(column).lower()
    return ibis.cases(
        (text.isin(_TRUE_TEXT), 1.0),
        (text.isin(_FALSE_TEXT), 0.0),
        (text.isnull(), ibis.null("float64")),
        else_=-1.0,
    )


def _number(column: ir.Value) -> ir.FloatingValue:
    """A numeric column, or number-shaped text (a decimal comma allowed) as a float."""
    if column.type().is_numeric():
        return column.cast("float64")
    text = timestamps.clean_text(column)
    return (
        text.re_search(_NUMBER)
        .ifelse(text.re_replace(",", "."), ibis.null("string"))
        .cast("float64")
    )


def _materialised(table: ir.Table, backend: str) -> ir.Table:
    """Parse once: in the in-memory DuckDB that holds a loaded file, the parsed events become a
    table of their own for the dozen queries that follow. A database opened read-only (or
    Spark) evaluates the expression in each query instead; nothing is written there."""
    if backend != "duckdb":
        return table
    con = table._find_backend()
    try:
        return con.create_table(f"events_{uuid.uuid4().hex[:12]}", table)
    except Exception:  # noqa: BLE001 - a read-only DuckDB file refuses new tables
        return table


def _one_row(table: ir.Table, **aggregates: ir.Value) -> dict:
    return table.aggregate(**aggregates).execute().iloc[0].to_dict()


def _int(value) -> int:  # noqa: ANN001
    return 0 if value is None or value != value else int(value)


def _examples(table: ir.Table, mask: ir.BooleanValue, column: str) -> list[str]:
    values = table.filter(mask).select(v=table[column].cast("string")).limit(3).execute()["v"]
    return masked_examples(values.fillna("(empty)"))


def _parse(p: Parameters) -> tuple[ir.Table, str, list[timestamps.Reading]]:
    """The event table with epoch-second timestamps and the optional columns, as an engine
    expression (materialised once where the engine allows); its name; how timestamps read."""
    opened = open_table(p.events_path, "events_path", as_text=True)
    raw = opened.table
    wanted = {
        "id_column": p.id_column,
        "start_column": p.start_column,
        "end_column": p.end_column,
        "segment_column": p.segment_column,
        "reopened_column": p.reopened_column,
        "csat_column": p.csat_column,
        "randomisation_unit": p.randomisation_unit,
    }
    require_columns(raw.columns, wanted, opened.name)
    columns = {"_start_s": p.start_column, "_end_s": p.end_column}
    raw, readings = timestamps.with_epochs(raw, columns, p.timestamp_format)
    start_text = raw[p.start_column].cast("string").strip().nullif("")
    end_text = raw[p.end_column].cast("string").strip().nullif("")
    identifier = raw[p.id_column].cast("string") if p.id_column else None
    parsed = raw.select(
        id=identifier if identifier is not None else ibis.row_number().cast("string"),
        start_s=raw._start_s,
        end_s=raw._end_s,
        start_given=start_text.notnull(),
        end_given=end_text.notnull() & ~end_text.lower().isin(["nan", "nat", "none", "null"]),
        start_raw=raw[p.start_column].cast("string"),
        end_raw=raw[p.end_column].cast("string"),
        segment=(
            timestamps.clean_text(raw[p.segment_column]).fill_null("(missing)")
            if p.segment_column
            else ibis.literal("all")
        ),
        reopened=_flag(raw[p.reopened_column]) if p.reopened_column else ibis.null("float64"),
        csat=_number(raw[p.csat_column]) if p.csat_column else ibis.null("float64"),
        cluster=(
            raw[p.randomisation_unit].cast("string")
            if p.randomisation_unit
            else (identifier if identifier is not None else ibis.literal(""))
        ),
    )
    return _materialised(parsed, opened.backend), opened.name, readings


def _readable(parsed: ir.Table, p: Parameters, name: str, report: CleaningReport) -> ir.Table:
    """Rows whose timestamps could be read. Unreadable ones stop the run (with masked
    examples) unless ``drop_unparseable``; flags that are not yes/no always stop it."""
    bad_start = parsed.start_given & parsed.start_s.isnull()
    bad_end = parsed.end_given & parsed.end_s.isnull()
    counts = _one_row(
        parsed,
        rows=parsed.count(),
        bad_start=bad_start.sum(),
        bad_end=bad_end.sum(),
        ends=parsed.end_s.notnull().sum(),
        bad_flags=(parsed.reopened == -1.0).sum(),
    )
    report.rows_read = _int(counts["rows"])
    if report.rows_read == 0:
        raise DataSourceError(f"events_path: '{name}' has no data rows.")
    report.unparseable_start = _int(counts["bad_start"])
    report.unparseable_end = _int(counts["bad_end"])
    if _int(counts["ends"]) == 0 and not report.unparseable_end:
        raise DataQualityError(
            f"end_column: '{p.end_column}' is empty in every row, so no event is complete; "
            "check that end_column names the column with the end (resolution) time."
        )
    if _int(counts["bad_flags"]):
        examples = _examples(parsed, parsed.reopened == -1.0, "reopened")
        raise DataSourceError(
            f"reopened_column: column '{p.reopened_column}' has {_int(counts['bad_flags']):,} "
            f"values that are not yes/no flags (e.g. {', '.join(examples)}); use 0/1, "
            'true/false or yes/no, or set reopened_column to "".'
        )
    if report.unparseable_start or report.unparseable_end:
        start_bad = report.unparseable_start > 0
        raw_column = "start_raw" if start_bad else "end_raw"
        report.unparseable_examples = _examples(
            parsed, bad_start if start_bad else bad_end, raw_column
        )
        if not p.drop_unparseable:
            parameter = "start_column" if start_bad else "end_column"
            column = p.start_column if start_bad else p.end_column
            count = report.unparseable_start if start_bad else report.unparseable_end
            raise DataQualityError(
                f"{parameter}: {count:,} of {report.rows_read:,} values in '{column}' are not "
                f"timestamps (e.g. {', '.join(report.unparseable_examples)}); fix them, set "
                "timestamp_format, or set drop_unparseable=True to leave those rows out."
            )
    return parsed.filter(parsed.start_s.notnull(), ~bad_end)


def _drop_end_before_start(table: ir.Table, report: CleaningReport) -> ir.Table:
    negative = table.end_s.notnull() & (table.end_s < table.start_s)
    report.end_before_start = _int(_one_row(table, n=negative.sum())["n"])
    kept = table.filter(~negative)
    return kept.mutate(span_s=kept.end_s - kept.start_s)


def _cut_at(table: ir.Table, as_of: pd.Timestamp, report: CleaningReport) -> ir.Table:
    """The data as it stood at ``as_of``: later events left out, later ends still open."""
    cut = epoch(as_of)
    after = table.start_s >= cut
    late = table.end_s.notnull() & (table.end_s >= cut)
    row = _one_row(table, after=after.sum(), late=(late & ~after).sum(), rows=table.count())
    report.started_after_as_of = _int(row["after"])
    report.resolved_after_as_of = _int(row["late"])
    if _int(row["rows"]) == 0:
        raise DataQualityError("events_path: no rows are left after dropping unusable ones.")
    kept = table.filter(~after)
    return kept.mutate(end_s=late.ifelse(ibis.null("float64"), kept.end_s))


def _durations(events: ir.Table, as_of: pd.Timestamp, unit: str) -> ir.Table:
    observed = events.end_s.notnull()
    stop = observed.ifelse(events.end_s, epoch(as_of))
    return events.select(
        "id",
        "start_s",
        "end_s",
        "segment",
        "reopened",
        "csat",
        "cluster",
        observed=observed,
        duration=(stop - events.start_s) / UNIT_SECONDS[unit],
    )


def load_events(p: Parameters) -> Events:
    """Open, parse and clean the event table in its engine; see :class:`CleaningReport`."""
    report = CleaningReport()
    parsed, name, readings = _parse(p)
    usable = _readable(parsed, p, name, report)
    usable, report.duplicate_ids, report.duplicate_id_share = _drop_duplicate_ids(usable, p)
    usable = _drop_end_before_start(usable, report)
    usable, implausible, report.implausible_durations = _drop_implausible(usable)
    as_of = _as_of(usable, p)
    events = _cut_at(usable, as_of, report)
    if p.focus_segment:
        events, report.outside_focus = _focus(events, p)
    unit = p.unit or _unit_from_data(events)
    events = _durations(events, as_of, unit)
    report.rows_used = _int(_one_row(events, n=events.count())["n"])
    if report.rows_used == 0:
        first = _one_row(usable, first=usable.start_s.min())["first"]
        raise DataQualityError(
            f"as_of: no events started before {as_of:%Y-%m-%d %H:%M}; the data starts "
            f"{from_epoch(first):%Y-%m-%d}. Move as_of later or leave it empty."
        )
    implausible = implausible.assign(duration=implausible["seconds"] / UNIT_SECONDS[unit])
    return Events(
        table=events,
        as_of=as_of,
        unit=unit,
        report=report,
        readings=readings,
        implausible=implausible.drop(columns="seconds"),
        source=name,
        has_segments=bool(p.segment_column),
        has_reopened=bool(p.reopened_column),
        has_csat=bool(p.csat_column),
        has_clusters=bool(p.randomisation_unit),
    )


def _drop_duplicate_ids(table: ir.Table, p: Parameters) -> tuple[ir.Table, int, float]:
    """Later copies of a repeated id are dropped, counted; past a few percent the column is
    not an id and the run stops."""
    if not p.id_column:
        return table, 0, 0.0
    row = _one_row(table, rows=table.count(), distinct=table.id.nunique())
    rows, distinct = _int(row["rows"]), _int(row["distinct"])
    repeats = rows - distinct
    share = repeats / rows if rows else 0.0
    if share > LIMITS.duplicate_id_share:
        raise DataQualityError(
            f"id_column: '{p.id_column}' repeats in {share:.0%} of the rows ({repeats:,} of "
            f"{rows:,}), so it is not an id of one event; name the column that identifies an "
            'event, or set id_column to "" to count every row as one event.'
        )
    if not repeats:
        return table, 0, share
    first = ibis.row_number().over(group_by=table.id, order_by=[table.start_s, table.end_s])
    kept = table.mutate(_copy=first).filter(lambda t: t._copy == 0).drop("_copy")
    return kept, repeats, share


def _bucket(seconds: ir.NumericValue) -> ir.IntegerValue:
    """Duration bucket of a number of seconds: 0 under a second, else k with
    (1+step)^(k-1) <= seconds < (1+step)^k."""
    step = math.log1p(BUCKET_STEP)
    return (seconds < 1).ifelse(0, (seconds.ln() / step).floor().cast("int64") + 1)


def bucket_value(bucket: np.ndarray) -> np.ndarray:
    """The duration (seconds) a bucket stands for: its geometric middle; 0 for bucket 0."""
    k = np.asarray(bucket, dtype=float)
    return np.where(k == 0, 0.0, np.exp((k - 0.5) * math.log1p(BUCKET_STEP)))


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, q * cum[-1])])


def _drop_implausible(table: ir.Table) -> tuple[ir.Table, pd.DataFrame, int]:
    """Durations far beyond all the others (Tukey's far-out fence on the log scale, and many
    times the median): a year in an hours-scale process is an entry error, not a slow case.
    They are listed and left out of every estimate, with a count. The quartiles come from
    counts per duration bucket, so any engine can do it."""
    closed = table.filter(table.end_s.notnull(), table.span_s > 0)
    counts = closed.group_by(k=_bucket(closed.span_s)).aggregate(n=closed.count()).execute()
    empty = pd.DataFrame(columns=["id", "start", "seconds"])
    if counts.empty or counts["n"].sum() < 20:
        return table, empty, 0
    logs = np.log(np.maximum(bucket_value(counts["k"].to_numpy()), 1.0))
    weights = counts["n"].to_numpy(dtype=float)
    q1, median, q3 = (_weighted_quantile(logs, weights, q) for q in (0.25, 0.5, 0.75))
    fence = max(q3 + LIMITS.log_fence_iqr * (q3 - q1), median + math.log(LIMITS.median_multiple))
    limit = math.exp(fence)
    beyond = table.end_s.notnull() & (table.span_s > limit)
    flagged = _int(_one_row(table, n=beyond.sum())["n"])
    if not flagged:
        return table, empty, 0
    worst = (
        table.filter(beyond)
        .order_by(ibis.desc("span_s"))
        .select("id", "start_s", seconds="span_s")
        .limit(LIMITS.listed)
        .execute()
    )
    worst = pd.DataFrame(
        {
            "id": worst["id"].astype(str),
            "start": [from_epoch(s) for s in worst["start_s"]],
            "seconds": worst["seconds"].astype(float),
        }
    )
    return table.filter(~beyond), worst, flagged


def _as_of(table: ir.Table, p: Parameters) -> pd.Timestamp:
    """``as_of`` as given, or the newest start or end in the data (implausible ends were
    already left out, so one typo cannot move the analysis into the future)."""
    if p.as_of:
        return pd.Timestamp(p.as_of)
    row = _one_row(table, start=table.start_s.max(), end=table.end_s.max())
    newest = max(v for v in (row["start"], row["end"]) if v is not None and v == v)
    return from_epoch(newest)


def _focus(events: ir.Table, p: Parameters) -> tuple[ir.Table, int]:
    values = sorted(events.select("segment").distinct().execute()["segment"].astype(str))
    if p.focus_segment not in values:
        raise ParameterError(
            f"Parameter focus_segment is {shown(p.focus_segment)}, which is not a value of "
            f"'{p.segment_column}'; use one of: {', '.join(shown(v) for v in values[:20])}."
        )
    inside = events.segment == p.focus_segment
    outside = _int(_one_row(events, n=(~inside).sum())["n"])
    return events.filter(inside), outside


def _unit_from_data(events: ir.Table) -> str:
    """Minutes, hours or days, whichever puts the typical completed duration between about 1
    and a few hundred."""
    closed = events.filter(events.end_s.notnull())
    counts = closed.group_by(k=_bucket(closed.end_s - closed.start_s)).aggregate(n=closed.count())
    frame = counts.execute()
    if frame.empty:
        return "hours"
    median = _weighted_quantile(
        bucket_value(frame["k"].to_numpy()), frame["n"].to_numpy(dtype=float), 0.5
    )
    if median < 2 * 3600:
        return "minutes"
    if median < 3 * 86400:
        return "hours"
    return "days"
