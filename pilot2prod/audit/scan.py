"""One scan of a table: every count the single-source checks need, in a handful of queries.

Each check used to be its own query, and on a file every query meant another full read. Here
the work is grouped by what it costs:

* one aggregate over the table for the row count and, per typed column (numbers, timestamps,
  booleans), its nulls and distinct values, plus the newest timestamp;
* every text column's *distinct values* with their counts (:class:`TextValues`), computed
  once; in the audit's own DuckDB (files) they are kept as a temporary table, so the later
  text checks (spelling variants, shapes, personal data) read it instead of the rows. The
  regular expressions (number and date shapes, personal-data candidates) then run once per
  distinct value instead of once per row: an export with a million rows and five statuses
  runs them five times;
* one aggregate for the quartiles, and one for the Tukey outlier counts, of the number columns.

Everything is an Ibis expression, so the same scan runs in DuckDB, PostgreSQL, SQLite or Spark,
and only aggregates come back.
"""

from __future__ import annotations

import datetime
import math
import uuid
from dataclasses import dataclass, field

import ibis
import ibis.common.exceptions as ibis_errors
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from pilot2prod.audit.pii import CANDIDATE_PATTERN

#: Values that mean "missing" although a field is filled in (compared trimmed, lower-case).
PLACEHOLDERS = (
    "n/a",
    "na",
    "-",
    "--",
    "?",
    "unknown",
    "none",
    "null",
    "nil",
    "tbd",
    "1900-01-01",
    "01/01/1900",
    "9999-12-31",
)
#: The same sentinels in a column stored as dates.
PLACEHOLDER_DATES = (datetime.date(1900, 1, 1), datetime.date(9999, 12, 31))
#: "0" stands in for a missing value in text columns (a phone, a name, a code), but it is a
#: real value in a numeric column, so it only counts where most values are not numbers.
ZERO = "0"
#: Plain numbers, or thousands grouped with "," (1,234.5) or with "." (1.234,5); not IPs.
NUMBER = r"^[+-]?(\d+([.,]\d+)?|\d{1,3}(,\d{3})+(\.\d+)?|\d{1,3}(\.\d{3})+(,\d+)?)([eE][+-]?\d+)?$"
#: Date shapes seen in exports, each a regular expression on the trimmed text.
DATE_SHAPES = {
    "YYYY-MM-DD": r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$",
    "DD.MM.YYYY": r"^\d{1,2}\.\d{1,2}\.\d{4}$",
    "DD/MM/YYYY or MM/DD/YYYY": r"^\d{1,2}/\d{1,2}/\d{4}$",
    "Month D, YYYY": r"^[A-Za-z]{3,9} \d{1,2}, \d{4}$",
}
#: Any of the shapes above: one expression that rules out most text before the five run.
TYPED_SHAPE = "|".join(
    "(" + pattern.removeprefix("^").removesuffix("$") + ")"
    for pattern in (NUMBER, *DATE_SHAPES.values())
).join(("^(", ")$"))
PLACEHOLDER_MAX_LENGTH = max(len(p) for p in PLACEHOLDERS)
#: Shapes that make a placeholder token a real value when most of a column shares them:
#: two-letter codes (NA is North America, or Namibia) and capitalised names (None, Nil).
CODE_SHAPE = r"^[A-Z]{2}$"
#: A column of this many distinct values or fewer holds codes and flags: its numbers are codes
#: (no outliers; "4" beside "f" and "r" is a code, not a mix of types).
CODE_VALUES = 10
#: A column of numbers between 0 and this, with no more distinct values than that, is a small
#: scale, which has no outliers either: a 0-10 rating (the likelihood to recommend), a month.
SCALE_TOP = 12
#: Letters that open a name and letters inside one: Latin (with the accented letters of Western,
#: Central and Northern Europe: Müller, José, Łukasz, Ørsted) and Cyrillic. Explicit ranges, not
#: \p{Lu}: PostgreSQL's regular expressions have no Unicode classes, and RE2's [[:upper:]] is
#: ASCII only.
NAME_INITIAL = "A-ZÀ-ÖØ-ÞĀ-ſА-ЯЁ"
NAME_LETTERS = "a-zß-öø-ÿĀ-ſа-яё"
NAME_SHAPE = rf"^[{NAME_INITIAL}][{NAME_LETTERS}]+([ '-][{NAME_INITIAL}][{NAME_LETTERS}]+)*$"
MOST_SHARE_SHAPE = 0.5
#: A column whose values are this share of one type holds that type (the rest are errors).
MOSTLY = 0.95
#: Integers this large can hold a phone or card number written without separators.
PII_INTEGER_MIN = 10**7
#: A rule the data suggests holds for at least this share of the rows it concerns (the rules
#: module reports the exceptions). A column whose negatives are no more than the rest is
#: otherwise non-negative: it is fenced on the log scale like one without negatives.
RULE_HOLDS = 0.98
#: Values that stand for "unknown" or "not applicable" in number columns, when they stand apart.
SENTINELS = (-1, 0, 99, 999, 9999, 99999, 999999, 9999999, 99999999)


@dataclass
class ColumnScan:
    """Raw counts for one column; :mod:`profile` and :mod:`validity` interpret them."""

    name: str
    storage: str  # the engine's type, e.g. "string", "int64", "timestamp"
    kind: str  # "text", "number", "temporal", "boolean" or "other" storage
    nulls: int = 0
    blanks: int = 0
    placeholders: int = 0
    zeros: int = 0
    numbers: int = 0
    date_shapes: dict[str, int] = field(default_factory=dict)
    distinct: int = 0
    distinct_estimated: bool = False  # HyperLogLog (about 2 % error), capped at the rows
    pii_candidates: int = 0
    name_shaped: int = 0  # values shaped like a capitalised name ("Ana", "Mary-Jo Smith")
    minimum: float | None = None
    maximum: float | None = None
    q1: float | None = None
    q3: float | None = None
    fence_scale: str = ""  # "log" or "raw" where fences were set
    low_fence: float | None = None
    high_fence: float | None = None
    outliers: int = 0
    worst: list[float] = field(default_factory=list)  # the values furthest beyond the fences
    #: The smallest positive value within the far-out fences, and the largest value that is
    #: not one of the :data:`SENTINELS` (None: not measured).
    regular_low: float | None = None
    regular_high: float | None = None
    newest: object = None  # the newest value of a timestamp column
    #: Number columns: values below zero, and the rows holding each of the column's
    #: :func:`sentinel_values` (None: not counted by a scan).
    negatives: int | None = None
    sentinel_rows: dict[float, int] | None = None


class TextValues:
    """Each text column's distinct values (as text, NULL included) with their numbers of rows,
    and what each value is.

    Stacked in one table: ``_col`` (the column's position), ``_val``, ``_n`` (its rows),
    ``_text`` (trimmed) and one flag per shape the checks count (:meth:`_classified`). With a
    ``scratch`` backend (the audit's own in-memory DuckDB, which holds the table) it is
    computed once into a temporary table that :meth:`release` drops, so each regular
    expression runs once per distinct value for the whole audit; an engine the audit may only
    read (PostgreSQL, SQLite, Spark, a DuckDB file) gets the grouping as a subquery wherever
    it is used."""

    def __init__(self, table: ir.Table, columns: list[str], scratch=None) -> None:  # noqa: ANN001
        self.source = table
        self.columns = list(columns)
        self.position = {c: i for i, c in enumerate(self.columns)}
        self.scratch = scratch
        self.name: str | None = None
        self.table: ir.Table | None = None
        if scratch is not None and self.columns:
            self.name = f"values_{uuid.uuid4().hex[:12]}"
            batches = [
                self.columns[i : i + COLUMNS_PER_QUERY]
                for i in range(0, len(self.columns), COLUMNS_PER_QUERY)
            ]
            self.table = scratch.create_table(self.name, self._stacked(batches[0]), temp=True)
            for batch in batches[1:]:
                scratch.insert(self.name, self._stacked(batch))

    def _grouped(self, column: str) -> ir.Table:
        value = self.source[column].cast("string")
        return (
            self.source.group_by(_val=value)
            .aggregate(_n=ibis._.count())
            .mutate(_col=ibis.literal(self.position[column], type="int64"))
            .select("_col", "_val", "_n")
        )

    def _stacked(self, columns: list[str]) -> ir.Table:
        return _classified(ibis.union(*(self._grouped(c) for c in columns), distinct=False))

    def stacked(self, columns: list[str]) -> ir.Table:
        """The rows of ``columns`` (``_col`` as in :attr:`position`)."""
        if self.table is None:
            return self._stacked(columns)
        wanted = [self.position[c] for c in columns]
        return self.table.filter(self.table._col.isin(wanted))

    def of(self, column: str) -> ir.Table:
        """``value``, ``n`` (its rows) and ``text`` (trimmed) of one column."""
        t = self.stacked([column])
        return t.select(value=t._val, n=t._n, text=t._text)

    def release(self) -> None:
        if self.name is not None and self.scratch is not None:
            self.scratch.raw_sql(f'DROP TABLE IF EXISTS "{self.name}"')
            self.name, self.table = None, None


def _classified(values: ir.Table) -> ir.Table:
    """Distinct values (``_val``) with their trimmed text and what they look like.

    One regular expression for "any number or date shape" guards the five specific ones, and
    a length guards the two-letter code, so that a column of names or e-mail addresses pays
    for few expressions. The placeholder, code and name flags let a token such as NA (North
    America) or None (a surname) count as a value, not a gap, in a column whose values
    mostly share its shape (decided after the counts, in :func:`_contextual_placeholders`)."""
    values = values.mutate(_text=trimmed(values._val))
    text = values._text
    values = values.mutate(_shaped=text.re_search(TYPED_SHAPE))
    shaped = values._shaped
    flags = {
        "_placeholder": only_if(
            text.length() <= PLACEHOLDER_MAX_LENGTH, text.lower().isin(list(PLACEHOLDERS))
        ),
        "_code": only_if(text.length() == 2, text.re_search(CODE_SHAPE)),
        "_named": text.re_search(NAME_SHAPE),
        "_number": only_if(shaped, text.re_search(NUMBER)),
        "_pii": values._val.re_search(CANDIDATE_PATTERN),
    }
    for i, pattern in enumerate(DATE_SHAPES.values()):
        flags[f"_d{i}"] = only_if(shaped, text.re_search(pattern))
    return values.mutate(**flags)


@dataclass
class TableScan:
    rows: int
    columns: dict[str, ColumnScan]
    #: Distinct values of the text columns (every one of them), or None when there are none.
    values: TextValues | None = None

    def present(self, column: ColumnScan) -> int:
        """Rows where ``column`` holds something: not null and not blank."""
        return self.rows - column.nulls - column.blanks

    def number_share(self, column: ColumnScan) -> float:
        """Share of the present values of a text column that are number-shaped."""
        present = self.present(column)
        return column.numbers / present if present else 0.0


def storage_kind(dtype) -> str:  # noqa: ANN001 - an ibis DataType
    if dtype.is_string():
        return "text"
    if dtype.is_boolean():
        return "boolean"
    if dtype.is_numeric():
        return "number"
    if dtype.is_temporal() and not dtype.is_time():  # a time of day has no date to judge
        return "temporal"
    return "other"


#: Whitespace that ``strip`` removes, at either end of a value.
_EDGE_SPACE = "^[ \t\n\r\x0b\x0c]|[ \t\n\r\x0b\x0c]$"


def trimmed(text: ir.StringValue) -> ir.StringValue:
    """``text.strip()``, trimming only the values that start or end with whitespace: most do
    not, and trimming every value (with the characters ``strip`` removes) took three times as
    long as testing the ends first in DuckDB."""
    return text.re_search(_EDGE_SPACE).ifelse(text.strip(), text)


def number_text(text: ir.StringValue) -> ir.FloatingValue:
    """Number-shaped text as a float, anything else null. Only number-shaped text is cast, so
    engines without TRY_CAST (SQLite) work too."""
    return (
        text.re_search(NUMBER).ifelse(text.re_replace(",", ""), ibis.null("string")).cast("float64")
    )


def _int(value) -> int:  # noqa: ANN001
    try:
        return 0 if value is None or value != value else int(value)
    except (TypeError, ValueError):
        return 0


def _float(value) -> float | None:  # noqa: ANN001
    try:
        return None if value is None or value != value else float(value)
    except (TypeError, ValueError):
        return None


#: At most this many aggregates per query. Building and compiling one query grows faster than its
#: aggregates: the quartiles of a 1,000-column export (2,000 aggregates) took 606 s as one query
#: and 83 s in batches of 200 on the 2-core CI machine (DuckDB alone: seconds either way).
AGGREGATES_PER_QUERY = 200
#: Likewise, at most this many columns' distinct values are grouped or counted per query.
COLUMNS_PER_QUERY = 100


def aggregate_row(table: ir.Table, aggregates: dict[str, ir.Value]) -> dict[str, object]:
    """The aggregates of ``table`` as plain Python values (None for NULL), read through Arrow:
    one query for an ordinary table, bounded batches for a wide one. Not through pandas: a
    one-row result with thousands of columns took minutes to convert, column by column."""
    row: dict[str, object] = {}
    names = list(aggregates)
    for start in range(0, len(names), AGGREGATES_PER_QUERY):
        batch = {name: aggregates[name] for name in names[start : start + AGGREGATES_PER_QUERY]}
        result = table.aggregate(**batch)
        try:
            arrow = result.to_pyarrow()
        except pa.ArrowInvalid:
            # The engine returned another type than Ibis expects (DuckDB's epoch seconds are
            # fractional where Ibis says integer): pandas converts without refusing (NULL is
            # then NaN or NaT; every caller reads values through _int, _float or a NaN check).
            row.update(result.execute().iloc[0].to_dict())
            continue
        row.update(
            (name, column[0].as_py() if len(column) else None)
            for name, column in zip(arrow.column_names, arrow.columns, strict=True)
        )
    return row


def _timestamp(value) -> pd.Timestamp | None:  # noqa: ANN001
    return None if value is None else pd.Timestamp(value)


def _typed_aggregate(table: ir.Table, scans: dict[str, ColumnScan]) -> int:
    """Row count, and nulls and distinct values of every typed column (numbers, timestamps,
    booleans); text and other columns are counted by :func:`_text_aggregates`."""
    aggregates: dict[str, ir.Value] = {"rows": table.count()}
    for i, scan in enumerate(scans.values()):
        if scan.kind in ("text", "other"):
            continue
        column = table[scan.name]
        aggregates[f"c{i}_nulls"] = column.isnull().sum()
        if scan.kind == "boolean":
            aggregates[f"c{i}_distinct"] = column.nunique()
        elif scan.kind in ("number", "temporal"):
            # HyperLogLog where the engine has it (about 2 % error, a fifth of the time of an
            # exact count): for numbers and times the count only separates constant columns
            # and codes from measurements. Text columns get exact counts.
            aggregates[f"c{i}_distinct"] = column.approx_nunique()
        if scan.kind == "number":
            aggregates[f"c{i}_max"] = column.max()
        if scan.kind == "temporal":
            aggregates[f"c{i}_newest"] = column.max()
            day = column if column.type().is_date() else column.date()
            aggregates[f"c{i}_placeholders"] = day.isin(PLACEHOLDER_DATES).sum()
    row = aggregate_row(table, aggregates)
    for i, scan in enumerate(scans.values()):
        if scan.kind in ("text", "other"):
            continue
        scan.nulls = _int(row[f"c{i}_nulls"])
        scan.distinct = _int(row.get(f"c{i}_distinct"))
        if scan.kind in ("number", "temporal"):
            scan.distinct_estimated = True
        if scan.kind == "number":
            scan.maximum = _float(row[f"c{i}_max"])
        if scan.kind == "temporal":
            scan.newest = _timestamp(row[f"c{i}_newest"])
            scan.placeholders = _int(row[f"c{i}_placeholders"])
    return _int(row["rows"])


def only_if(guard: ir.BooleanValue, test: ir.BooleanValue) -> ir.BooleanValue:
    """``guard AND test``, written as CASE so that engines evaluate ``test`` only where the
    cheap ``guard`` holds (DuckDB evaluates both sides of an AND in a projection)."""
    return guard.ifelse(test, False)


def _text_counts(values: TextValues, columns: list[str]) -> pd.DataFrame:
    """One row of counts per text column (``_col``), from its classified distinct values
    weighted by their rows: one grouped aggregate for all the columns."""
    t = values.stacked(columns)
    n, value, text = t._n, t._val, t._text
    aggregates = {
        "nulls": n.sum(where=value.isnull()),
        "blanks": n.sum(where=value.notnull() & (text == "")),
        "placeholders": n.sum(where=t._placeholder),
        "placeholder_codes": n.sum(where=t._placeholder & t._code),
        "placeholder_names": n.sum(where=t._placeholder & t._named),
        "present": n.sum(where=value.notnull() & (text != "")),
        "codes": n.sum(where=t._code),
        "names": n.sum(where=t._named),
        "zeros": n.sum(where=text == ZERO),
        "numbers": n.sum(where=t._number),
        "distinct": value.notnull().sum(),
        "pii": n.sum(where=t._pii),
    }
    for i in range(len(DATE_SHAPES)):
        aggregates[f"d{i}"] = n.sum(where=t[f"_d{i}"])
    return t.group_by("_col").aggregate(**aggregates).execute()


def _contextual_placeholders(row: dict, scan: ColumnScan) -> int:
    """Placeholder tokens, less those the column's own values make legitimate: NA in a column
    of two-letter codes, None in a column of capitalised names."""
    present = max(1, _int(row["present"]))
    count = _int(row["placeholders"])
    if _int(row["codes"]) / present >= MOST_SHARE_SHAPE:
        count -= _int(row["placeholder_codes"])
    if _int(row["names"]) / present >= MOST_SHARE_SHAPE:
        count -= _int(row["placeholder_names"])
    return count


def _text_aggregates(values: TextValues, scans: list[ColumnScan]) -> None:
    """:func:`_text_counts` of every text column, in batches of :data:`COLUMNS_PER_QUERY`."""
    if not scans:
        return
    frame = pd.concat(
        [
            _text_counts(values, [s.name for s in scans[i : i + COLUMNS_PER_QUERY]])
            for i in range(0, len(scans), COLUMNS_PER_QUERY)
        ],
        ignore_index=True,
    )
    by_position = {values.position[s.name]: s for s in scans}
    for row in frame.to_dict("records"):
        scan = by_position[int(row["_col"])]
        scan.nulls, scan.blanks = _int(row["nulls"]), _int(row["blanks"])
        scan.zeros = _int(row["zeros"])
        scan.name_shaped = _int(row["names"])
        scan.placeholders = _contextual_placeholders(row, scan)
        scan.numbers, scan.distinct = _int(row["numbers"]), _int(row["distinct"])
        scan.pii_candidates = _int(row["pii"])
        scan.date_shapes = {
            name: _int(row[f"d{i}"]) for i, name in enumerate(DATE_SHAPES) if _int(row[f"d{i}"])
        }


def _pii_in_integers(table: ir.Table, scans: list[ColumnScan]) -> None:
    """Long integers (a phone or card number stored as a number) are scanned as text too."""
    if not scans:
        return
    aggregates = {
        f"c{i}": table[s.name].cast("string").re_search(CANDIDATE_PATTERN).sum()
        for i, s in enumerate(scans)
    }
    row = aggregate_row(table, aggregates)
    for i, s in enumerate(scans):
        s.pii_candidates = _int(row[f"c{i}"])


def number_values(table: ir.Table, scan: ColumnScan) -> ir.NumericValue:
    column = table[scan.name]
    return column.cast("float64") if scan.kind == "number" else number_text(trimmed(column))


def _quantile_row(table: ir.Table, aggregates: dict[str, ir.Value]) -> dict:
    return aggregate_row(table, aggregates)


def _exact_quantiles(
    values: ir.NumericValue, where: ir.BooleanValue, probabilities: tuple[float, ...]
) -> tuple[float | None, ...]:
    """Quantiles by ordering and skipping, for engines without a quantile function (SQLite);
    the lower of the two middle values, as the median of an even count is taken here."""
    table = values.as_table().filter(where).select(v=values)
    n = int(table.count().execute())
    if n == 0:
        return tuple(None for _ in probabilities)
    out = []
    for q in probabilities:
        k = min(n - 1, int(q * (n - 1)))
        out.append(_float(table.order_by("v").limit(1, offset=k).execute()["v"].iloc[0]))
    return tuple(out)


#: What :func:`_quantiles` reads of a column: the lower quartile, median and upper quartile of
#: its positive values ("positive"), or the two quartiles of all its values ("all").
QUANTILES = {"positive": (0.25, 0.5, 0.75), "all": (0.25, 0.75)}


def _quantiles(
    table: ir.Table, scans: list[ColumnScan], wanted: dict[int, str]
) -> dict[int, tuple]:
    """:data:`QUANTILES` ``wanted[i]`` of column ``i``: one aggregate (one sort per column)
    where the engine has quantiles, ordered reads where it has not."""
    if not wanted:
        return {}
    out = {}
    try:
        row = _quantile_row(
            table,
            {
                f"c{i}": values.quantile(
                    list(QUANTILES[key]), where=values > 0 if key == "positive" else None
                )
                for i, key in wanted.items()
                for values in [number_values(table, scans[i])]
            },
        )
        for i, key in wanted.items():
            found = row[f"c{i}"]
            if found is not None and len(found) == len(QUANTILES[key]):
                out[i] = tuple(_float(v) for v in found)
    except (
        ibis_errors.OperationNotDefinedError,
        ibis_errors.UnsupportedOperationError,
        ibis_errors.UnsupportedBackendType,
    ):
        for i, key in wanted.items():
            values = number_values(table, scans[i])
            where = values > 0 if key == "positive" else values.notnull()
            out[i] = _exact_quantiles(values, where, QUANTILES[key])
    return out


def more_symmetric_on_log(q1: float, median: float, q3: float) -> bool:
    """Whether the log scale makes the middle half of positive values more symmetric than the
    raw scale does (Bowley's quartile skewness, closer to 0): true of durations, amounts and
    counts with a long right tail, false of heights, scores or a uniform percentage, whose
    smallest values the log scale would stretch into false far-out ones."""
    if not (q1 and median and q3) or not 0 < q1 <= median <= q3 or q3 == q1:
        return False
    raw = (q3 + q1 - 2 * median) / (q3 - q1)
    low, middle, high = math.log(q1), math.log(median), math.log(q3)
    return abs((high + low - 2 * middle) / (high - low)) < abs(raw)


#: A column's zeros and negatives up to this share of its values leave the quartiles of its
#: positive values close enough to those of all its values to set raw fences from them.
NON_POSITIVE_SHARE = 0.05


def sentinel_values(c: ColumnScan) -> list[float]:
    """The sentinel values that would stand apart from ``c``'s values: beyond its far-out
    fences, or (a code or score of few values) far above or below all its other values.

    Fences are not the whole test. A zero is judged by the gap it leaves
    (:func:`zero_stands_apart`): on the log scale it lies infinitely far below every positive
    value, and on the raw scale a column far from zero can have fences wide enough to hold it
    (ages from 18 to 80). A large sentinel stands apart when it is more than
    :data:`SENTINEL_GAP` times the column's largest other value, however wide the fences of a
    skewed column are (999 in a percentage)."""
    out = []
    for v in SENTINELS:
        if c.minimum is None or not c.minimum <= v <= c.maximum:
            continue
        if not c.fence_scale:
            apart = v >= 99 or v < 0
        elif v == 0:
            apart = zero_stands_apart(c) or (c.fence_scale == "raw" and v < c.low_fence)
        else:
            apart = v < c.low_fence or v > c.high_fence or _far_above_the_rest(c, v)
        if apart:
            out.append(float(v))
    return out


#: A sentinel above a column's values stands apart at more than this many times the largest
#: other value.
SENTINEL_GAP = 2.0


def _far_above_the_rest(c: ColumnScan, v: float) -> bool:
    """Before the largest other value is measured, every positive sentinel in the column's
    range is a candidate (the scan counts them, then judges)."""
    if v <= 0:
        return False
    return c.regular_high is None or v > SENTINEL_GAP * c.regular_high


#: A zero stands apart from a column's values when the gap between it and the column's
#: smallest positive regular value is wider than the rest of the way to the lower quartile and
#: at least this share of the interquartile range.
ZERO_GAP = 0.5


def zero_stands_apart(c: ColumnScan) -> bool:
    """Whether zeros in a number column stand apart from the rest: the smallest positive
    regular value (within the fences) is further from zero than from the lower quartile, and
    far next to the spread of the middle half (an age of 0 where adults start at 18), not the
    next step of the column's own scale (0 grams of fibre beside 1, 2 and 5; a 0 on a 0-10
    scale; minute 0 of an hour). Before the smallest regular value is measured, every zero is a
    candidate (the scan counts them, then judges)."""
    if c.regular_low is None:
        return True
    if c.q1 is None or c.q3 is None:
        return False
    gap = c.regular_low
    return gap > c.q1 - gap and gap >= ZERO_GAP * (c.q3 - c.q1)


def codes_or_scale(s: ColumnScan) -> bool:
    """Codes, flags and small scales (:data:`CODE_VALUES`, :data:`SCALE_TOP`): a number column
    whose values are categories, not measurements. A far-out value planted among them makes
    the column a measurement again (it widens the range)."""
    if s.distinct <= CODE_VALUES:
        return True
    if s.minimum is None or s.maximum is None:
        return False
    return 0 <= s.minimum and s.maximum <= SCALE_TOP and s.distinct <= SCALE_TOP + 1


def _fence(s: ColumnScan, scale: str, q1: float | None, q3: float | None, k: float) -> None:
    """Tukey's far-out fences ``k`` interquartile ranges beyond the quartiles, on ``scale``."""
    s.q1, s.q3 = q1, q3
    if q1 is None or q3 is None or q3 <= q1 or (scale == "log" and q1 <= 0):
        return
    s.fence_scale = scale
    if scale == "log":
        spread = math.log(q3) - math.log(q1)
        s.low_fence = math.exp(math.log(q1) - k * spread)
        s.high_fence = math.exp(math.log(q3) + k * spread)
    else:
        s.low_fence, s.high_fence = q1 - k * (q3 - q1), q3 + k * (q3 - q1)


def _quartiles(table: ir.Table, scans: list[ColumnScan], tukey_k: float) -> None:
    """Range, quartiles, far-out fences and far-out counts (with the worst values) of number
    columns.

    Tukey's far-out fences (k IQR beyond the quartiles) assume a roughly symmetric spread.
    Durations, amounts and counts are skewed: on the raw scale every long tail looks far out.
    So a column without negative values, or with a few among them (no more than the share a
    suggested rule tolerates: the negatives rule reports those), is fenced on the log scale of
    its positive values (a ratio to the quartiles) when that scale makes it more symmetric
    (:func:`more_symmetric_on_log`), and on the raw scale otherwise; a column that really takes
    negative values (or no positive one) on the raw scale. ``q1`` and ``q3`` are the quartiles
    the fences were set from. Codes, flags and small scales (:func:`codes_or_scale`) have no
    outliers: only their range is read.

    The ranges come in one aggregate and the quantiles in another; a second one only for the
    quartiles of all values of a column fenced on the raw scale that holds many zeros."""
    if not scans:
        return
    ranges = _quantile_row(
        table,
        {
            f"c{i}_{name}": aggregate
            for i, s in enumerate(scans)
            for values in [number_values(table, s)]
            for name, aggregate in (
                ("lo", values.min()),
                ("hi", values.max()),
                ("n", values.count()),
                ("neg", (values < 0).sum()),
                ("zero", (values == 0).sum()),
            )
        },
    )
    wanted: dict[int, str] = {}
    for i, s in enumerate(scans):
        s.minimum, s.maximum = _float(ranges[f"c{i}_lo"]), _float(ranges[f"c{i}_hi"])
        s.negatives = _int(ranges[f"c{i}_neg"])
        present = _int(ranges[f"c{i}_n"])
        if s.minimum is None or present == 0 or codes_or_scale(s):
            continue
        few_negatives = _int(ranges[f"c{i}_neg"]) <= (1 - RULE_HOLDS) * present
        wanted[i] = "positive" if few_negatives and s.maximum > 0 else "all"
    found = _quantiles(table, scans, wanted)
    later: dict[int, str] = {}
    for i, key in wanted.items():
        if i not in found:
            continue
        if key == "all":
            _fence(scans[i], "raw", *found[i], tukey_k)
            continue
        q1, median, q3 = found[i]
        non_positive = _int(ranges[f"c{i}_neg"]) + _int(ranges[f"c{i}_zero"])
        if more_symmetric_on_log(q1, median, q3):
            _fence(scans[i], "log", q1, q3, tukey_k)
        elif non_positive <= NON_POSITIVE_SHARE * _int(ranges[f"c{i}_n"]):
            _fence(scans[i], "raw", q1, q3, tukey_k)
        else:
            later[i] = "all"
    for i, (q1, q3) in _quantiles(table, scans, later).items():
        _fence(scans[i], "raw", q1, q3, tukey_k)
    fenced = {i: s for i, s in enumerate(scans) if s.fence_scale}
    # The rows holding a sentinel value (999, -1) are counted in the same pass as those
    # beyond the fences: the sentinel rule reads them from the scan.
    aggregates: dict[str, ir.Value] = {}
    asked: dict[str, tuple[ColumnScan, float]] = {}
    for s in scans:
        s.sentinel_rows = {}
        for v in sentinel_values(s):
            key = f"s{len(asked)}"
            asked[key] = (s, v)
            aggregates[key] = (number_values(table, s) == v).sum()
    for i, s in fenced.items():
        values = number_values(table, s)
        low = (
            (values > 0) & (values < s.low_fence)
            if s.fence_scale == "log"
            else values < s.low_fence
        )
        aggregates[f"c{i}"] = (low | (values > s.high_fence)).sum()
        aggregates[f"r{i}"] = values.min(where=(values > 0) & (values >= s.low_fence))
        aggregates[f"h{i}"] = values.max(where=~values.isin(SENTINELS))
    if not aggregates:
        return
    row = _quantile_row(table, aggregates)
    for i, s in fenced.items():
        s.outliers = _int(row[f"c{i}"])
        s.regular_low = _float(row[f"r{i}"])
        s.regular_high = _float(row[f"h{i}"])
    for key, (s, v) in asked.items():
        if v in sentinel_values(s):  # judged again, knowing the smallest regular value
            s.sentinel_rows[v] = _int(row[key])
    # A number that may be a phone is never shown.
    _worst(table, [s for s in fenced.values() if s.outliers and not s.pii_candidates])


def _below(values: ir.NumericValue, s: ColumnScan) -> ir.BooleanValue:
    """Below the low fence; on the log scale only positive values can be (zeros and negatives
    are judged as sentinels or signs elsewhere)."""
    if s.fence_scale == "log":
        return (values > 0) & (values < s.low_fence)
    return values < s.low_fence


def _worst(table: ir.Table, scans: list[ColumnScan], count: int = 3) -> None:
    """Set each column's values furthest beyond its fences (largest first, then smallest):
    one query for all the columns, the values beyond the fences stacked and ranked per column
    and side (a window, which compiles several times faster than an ordered read per side)."""
    if not scans:
        return
    stacked = ibis.union(
        *(
            table.filter((values > s.high_fence) | _below(values, s)).select(
                _column=ibis.literal(k, type="int64"), v=values.cast("float64")
            )
            for k, s in enumerate(scans)
            for values in [number_values(table, s)]
        ),
        distinct=False,
    )
    fence = ibis.cases(
        *((stacked._column == k, s.high_fence) for k, s in enumerate(scans)), else_=math.inf
    )
    stacked = stacked.mutate(_high=stacked.v > fence)
    furthest = ibis.desc(stacked._high.ifelse(stacked.v, -stacked.v))
    ranked = stacked.mutate(
        _rank=ibis.row_number().over(group_by=[stacked._column, stacked._high], order_by=furthest)
    )
    frame = ranked.filter(ranked._rank < count).execute()
    for k, s in enumerate(scans):
        mine = frame[frame["_column"] == k]
        high = mine[mine["_high"].astype(bool)]["v"].sort_values(ascending=False)
        low = mine[~mine["_high"].astype(bool)]["v"].sort_values()
        s.worst = [float(v) for v in [*high, *low][:count]]


def scan_table(table: ir.Table, tukey_k: float = 3.0, scratch=None) -> TableScan:  # noqa: ANN001
    """All single-column counts of ``table``; see the module docstring for the query plan.
    ``scratch``: the backend holding ``table`` when it may keep temporary tables (the audit's
    own in-memory DuckDB); the caller then calls ``scan.values.release()`` when done."""
    scans = {
        name: ColumnScan(name, str(dtype), storage_kind(dtype))
        for name, dtype in table.schema().items()
    }
    rows = _typed_aggregate(table, scans)
    # Lists, structs and JSON ("other") are profiled as their text form.
    texts = [s for s in scans.values() if s.kind in ("text", "other")]
    values = TextValues(table, [s.name for s in texts], scratch) if texts else None
    _text_aggregates(values, texts)
    long_integers = [
        s
        for s in scans.values()
        if s.kind == "number"
        and "int" in s.storage
        and s.maximum is not None
        and s.maximum >= PII_INTEGER_MIN
    ]
    _pii_in_integers(table, long_integers)
    scan = TableScan(rows, scans, values)
    for column in scans.values():  # an estimate can overshoot: never more than the values
        column.distinct = min(column.distinct, scan.present(column))
    number_columns = [
        s
        for s in scans.values()
        if s.kind == "number" or (s.kind == "text" and scan.number_share(s) >= MOSTLY)
    ]
    _quartiles(table, number_columns, tukey_k)
    return scan
