"""Rules the data suggests about itself, and the rows that break them.

An inventory can declare rules (an order between two timestamps, a reference to another
table). Most estates come without one, so, as Deequ suggests constraints from the data before it
checks them, the audit proposes the rules that hold for almost every row and reports the rows
that break them:

* a column that is otherwise never negative, with a few negative values;
* sentinel values (0, -1, 99, 999, 9999999...) piled up far from the rest of a column;
* one timestamp that follows another in almost every row (``resolved >= created``), with the
  rows where it does not, the rows where it follows implausibly long after (years where most
  take hours), timestamps in the future, and timestamps far earlier than the rest of their
  column (``1970-01-01`` in a column of last year's orders) or before a date the user names
  (when the company was founded);
* a column where almost every value has one shape (an e-mail address, a code like ``C-10616``),
  with the values that do not;
* columns that are empty together (reported once, as one gap), and gaps that are structural:
  a field empty exactly when another column says it does not apply;
* rows that repeat another row except for case or spaces.

Each rule is a small function from the scan and a few aggregate queries to a
:class:`~pilot2prod.audit.findings.Check`. Examples are masked; only counts leave the engine.
"""

from __future__ import annotations

import itertools
import math
import re
import string
from dataclasses import dataclass

import ibis
import ibis.common.exceptions as ibis_errors
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from pilot2prod.audit.findings import Check, Finding
from pilot2prod.audit.profile import duplicate_rows
from pilot2prod.audit.relations import iso_time
from pilot2prod.audit.scan import (
    PLACEHOLDER_DATES,
    RULE_HOLDS,
    ColumnScan,
    TableScan,
    aggregate_row,
    number_values,
    only_if,
    sentinel_values,
    trimmed,
)
from pilot2prod.privacy import masked_examples


@dataclass(frozen=True)
class RuleLimits:
    """When a suggested rule is reported (named data, not numbers inside the checks)."""

    #: A rule is suggested when it holds for at least this share of the rows it concerns and
    #: is broken by at least one row.
    holds: float = RULE_HOLDS
    #: Sentinel values: at least this many rows and this share of the present values.
    sentinel_rows: int = 5
    sentinel_share: float = 0.001
    #: One shape: at least this share of a column's values, over at least this many values.
    shape_share: float = 0.95
    shape_min_distinct: int = 20
    #: Columns considered for gaps in common / structural gaps (the emptiest first).
    gap_columns: int = 15
    #: A column explains a structural gap when it has at most this many values.
    category_values: int = 20
    #: Timestamp columns considered in pairs.
    time_columns: int = 8


LIMITS = RuleLimits()
#: Timestamps earlier than this many interquartile ranges below a column's lower quartile stand
#: apart from the rest (Tukey's far-out fence on the time line).
EARLY_FENCE = 3.0
#: Spans between two ordered timestamps are far out beyond this many interquartile ranges of
#: their logarithm above the upper quartile (Tukey's far-out fence on the log scale).
SPAN_FENCE = 3.0
EMAIL = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
URL = r"^https?://[^\s]+$"


def _row(table: ir.Table, **aggregates: ir.Value) -> dict:
    return aggregate_row(table, aggregates)


def _int(value) -> int:  # noqa: ANN001
    return 0 if value is None or value != value else int(value)


def _numbers(scan: TableScan) -> list[ColumnScan]:
    return [
        c
        for c in scan.columns.values()
        if c.minimum is not None and (c.kind == "number" or scan.number_share(c) >= 0.95)
    ]


def negatives(name: str, table: ir.Table, scan: TableScan) -> Check:
    """A few negative values in a column that is otherwise never negative, unless they continue
    its distribution below zero (:func:`_continuing_below_zero`)."""
    candidates = [c for c in _numbers(scan) if c.minimum < 0 and c.kind != "boolean"]
    if not candidates:
        return Check()
    uncounted = [c for c in candidates if c.negatives is None]  # a scan counts them
    row = _row(
        table,
        **{f"c{i}": (number_values(table, c) < 0).sum() for i, c in enumerate(uncounted)},
    )
    counted = {c.name: _int(row[f"c{i}"]) for i, c in enumerate(uncounted)}
    few = [
        c
        for c in candidates
        if 0 < counted.get(c.name, c.negatives) <= (1 - LIMITS.holds) * scan.present(c)
    ]
    below_zero = _continuing_below_zero(table, few)
    findings = []
    for c in few:
        negative, present = counted.get(c.name, c.negatives), scan.present(c)
        if c.name not in below_zero:
            findings.append(
                Finding(
                    name,
                    "validity",
                    "major",
                    f"'{c.name}' is never negative except in {negative:,} rows (as low as "
                    f"{c.minimum:,.4g}); {1 - negative / present:.1%} of its values are 0 or more.",
                    c.name,
                    float(negative),
                    rule="negative_values",
                )
            )
    return Check(findings)


#: Negative values continue a column below zero when half of them lie closer to zero than this
#: quantile of its positive values.
BELOW_ZERO_QUANTILE = 0.05


def _continuing_below_zero(table: ir.Table, columns: list[ColumnScan]) -> set[str]:
    """The columns whose few negative values continue their distribution below zero (a cold
    night's low temperature, an airfield below sea level: half of them closer to zero than
    nearly all the positive values), rather than mirror it (a duration whose sign flipped lies
    as far from zero as the others). Engines without quantiles judge none so."""
    if not columns:
        return set()
    aggregates = {}
    for i, c in enumerate(columns):
        values = number_values(table, c)
        aggregates[f"n{i}"] = (-values).quantile(0.5, where=values < 0)
        aggregates[f"p{i}"] = values.quantile(BELOW_ZERO_QUANTILE, where=values > 0)
    try:
        row = _row(table, **aggregates)
    except (ibis_errors.OperationNotDefinedError, ibis_errors.UnsupportedOperationError):
        return set()
    out = set()
    for i, c in enumerate(columns):
        negative, positive = row.get(f"n{i}"), row.get(f"p{i}")
        if negative is not None and positive is not None and float(negative) < float(positive):
            out.add(c.name)
    return out


def sentinels(name: str, table: ir.Table, scan: TableScan) -> tuple[Check, dict[str, list]]:
    """Values such as 999 or -1 piled up far from the rest: codes for "unknown" in a number
    column. Returns the finding and the sentinel values found per column (the contract
    leaves them out of the allowed range)."""
    asked = {}
    for c in _numbers(scan):
        for v in sentinel_values(c):
            asked[f"c{len(asked)}"] = (c, v)
    if not asked:
        return Check(), {}
    counted = {  # the scan counts them where it set the fences
        k: c.sentinel_rows[v]
        for k, (c, v) in asked.items()
        if c.sentinel_rows is not None and v in c.sentinel_rows
    }
    uncounted = {k: cv for k, cv in asked.items() if k not in counted}
    row = _row(
        table, **{k: (number_values(table, c) == v).sum() for k, (c, v) in uncounted.items()}
    )
    findings, found = [], {}
    for key, (c, v) in asked.items():
        count = counted[key] if key in counted else _int(row[key])
        if count >= max(LIMITS.sentinel_rows, LIMITS.sentinel_share * scan.present(c)):
            found.setdefault(c.name, []).append(v)
            findings.append(
                Finding(
                    name,
                    "validity",
                    "major",
                    f"'{c.name}' holds the value {v:,.0f} in {count:,} rows, far from its other "
                    "values: a code for unknown or not applicable? Leave it out or mark it "
                    "missing.",
                    c.name,
                    float(count),
                    rule="sentinel_values",
                )
            )
    return Check(findings), found


def _times(scan: TableScan, validity: pd.DataFrame) -> list[str]:
    inferred = validity.set_index("column")["inferred_type"]
    names = [c.name for c in scan.columns.values() if inferred.get(c.name) == "date"]
    return names[: LIMITS.time_columns]


def time_order(
    name: str,
    table: ir.Table,
    scan: TableScan,
    validity: pd.DataFrame,
    now: pd.Timestamp,
    declared: set[tuple[str, str]],
    earliest: pd.Timestamp | None = None,
) -> Check:
    """One timestamp after another in almost every row: the rows where it is not; timestamps
    later than the audit's "now"; and timestamps too early to be true (see :func:`early_dates`)."""
    names = _times(scan, validity)
    if not names:
        return Check()
    times = {n: iso_time(table[n]) for n in names}
    future_cut = now + pd.Timedelta(days=1)
    aggregates = {}
    for i, n in enumerate(names):
        value = times[n]
        limit = (
            future_cut if value.type().is_temporal() else future_cut.strftime("%Y-%m-%d %H:%M:%S")
        )
        aggregates[f"f{i}"] = (value > limit).sum()
    pairs = [(a, b) for a, b in itertools.permutations(names, 2) if (a, b) not in declared]
    for k, (a, b) in enumerate(pairs):
        both = times[a].notnull() & times[b].notnull()
        aggregates[f"both{k}"] = both.sum()
        aggregates[f"before{k}"] = (both & (times[b] < times[a])).sum()
    row = _row(table, **aggregates)
    findings = []
    for i, n in enumerate(names):
        future = _int(row[f"f{i}"])
        if future:
            findings.append(
                Finding(
                    name,
                    "validity",
                    "major",
                    f"'{n}' lies in the future (after {now:%Y-%m-%d}) in {future:,} rows.",
                    n,
                    float(future),
                    rule="future_dates",
                )
            )
    for k, (a, b) in enumerate(pairs):
        both, broken = _int(row[f"both{k}"]), _int(row[f"before{k}"])
        if both and 0 < broken <= (1 - LIMITS.holds) * both:
            findings.append(
                Finding(
                    name,
                    "consistency",
                    "major",
                    f"'{b}' comes after '{a}' in {1 - broken / both:.1%} of rows but before it "
                    f"in {broken:,}: suggested rule '{b}' >= '{a}'.",
                    b,
                    float(broken),
                    rule="time_order",
                )
            )
    held = [
        (a, b)
        for k, (a, b) in enumerate(pairs)
        if _int(row[f"both{k}"])
        and _int(row[f"before{k}"]) <= (1 - LIMITS.holds) * _int(row[f"both{k}"])
    ]
    findings += implausible_spans(name, table, [*declared, *held], names)
    findings += early_dates(name, table, names, earliest)
    return Check(findings)


def _not_placeholder_day(value: ir.Value) -> ir.BooleanValue:
    """Not on 1900-01-01, which the completeness check already counts as a stand-in for a
    missing date."""
    day = PLACEHOLDER_DATES[0]
    if value.type().is_temporal():
        start = pd.Timestamp(day)
        return (value < start) | (value >= start + pd.Timedelta(days=1))
    return ~value.startswith(day.isoformat())


def early_dates(
    name: str, table: ir.Table, names: list[str], earliest: pd.Timestamp | None
) -> list[Finding]:
    """Timestamps too early to be true. With ``earliest`` (when the company was founded, when
    the system went live), every value before it. Without it, the values the column itself
    places far apart: below its far-out fence on the time line, and no more than the share of
    rows a suggested rule tolerates (a ``1970-01-01`` among last year's orders; a history that
    simply grew over the years has too many early rows to be called wrong). Engines without
    quantiles judge only against ``earliest``."""
    if not names:
        return []
    times = {n: iso_time(table[n]) for n in names}
    counts: dict[str, ir.Value] = {}
    for i, n in enumerate(names):
        value = times[n]
        kept = value.notnull() & _not_placeholder_day(value)
        counts[f"present{i}"] = kept.sum()
        if earliest is not None:
            limit = earliest if value.type().is_temporal() else earliest.strftime("%Y-%m-%d")
            counts[f"before{i}"] = (kept & (value < limit)).sum()
            counts[f"min{i}"] = value.min(where=kept & (value < limit))
    typed = {
        i: times[n].cast("timestamp").epoch_seconds()
        for i, n in enumerate(names)
        if times[n].type().is_temporal()
    }
    quartiles: dict[str, object] = {}
    if typed:
        try:
            quartiles = _row(
                table,
                **{
                    f"q{i}": v.quantile([0.25, 0.75], where=_not_placeholder_day(times[names[i]]))
                    for i, v in typed.items()
                },
            )
        except (ibis_errors.OperationNotDefinedError, ibis_errors.UnsupportedOperationError):
            quartiles = {}
    fences = {}
    for i in typed:
        pair = quartiles.get(f"q{i}")
        if pair is not None and len(pair) == 2 and pair[0] is not None and pair[1] > pair[0]:
            fences[i] = float(pair[0]) - EARLY_FENCE * (float(pair[1]) - float(pair[0]))
    for i, fence in fences.items():
        kept = times[names[i]].notnull() & _not_placeholder_day(times[names[i]])
        counts[f"far{i}"] = (kept & (typed[i] < fence)).sum()
        counts[f"farmin{i}"] = times[names[i]].min(where=kept & (typed[i] < fence))
    row = _row(table, **counts)
    findings = []
    for i, n in enumerate(names):
        present = _int(row[f"present{i}"])
        before = _int(row.get(f"before{i}"))
        far = _int(row.get(f"far{i}"))
        if before:
            text = (
                f"'{n}' lies before {earliest:%Y-%m-%d}, the earliest plausible date given, in "
                f"{before:,} rows (the earliest: {_day(row[f'min{i}'])})."
            )
            findings.append(
                Finding(name, "validity", "major", text, n, float(before), rule="early_dates")
            )
        elif far and far <= (1 - LIMITS.holds) * present:
            fence = pd.Timestamp(fences[i], unit="s")
            text = (
                f"'{n}' lies far before the rest of the column in {far:,} rows (before "
                f"{fence:%Y-%m-%d}, where most values are later; the earliest: "
                f"{_day(row[f'farmin{i}'])}): a default date or a typing error?"
            )
            findings.append(
                Finding(name, "validity", "major", text, n, float(far), rule="early_dates")
            )
    return findings


def _day(value) -> str:  # noqa: ANN001
    try:
        return f"{pd.Timestamp(value):%Y-%m-%d}"
    except (TypeError, ValueError):
        return str(value)


def _span_text(seconds: float) -> str:
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:,.0f} seconds"


def implausible_spans(
    name: str, table: ir.Table, pairs: list[tuple[str, str]], names: list[str]
) -> list[Finding]:
    """For two typed timestamps in order (``resolved`` after ``created``), the spans that are
    implausibly long next to all the others: beyond the far-out fence of the spans on the log
    scale (a ticket resolved years after it was opened, where most take hours). Engines
    without quantiles (SQLite) skip this rule."""
    typed = [
        (a, b)
        for a, b in dict.fromkeys(pairs)
        if a in names
        and b in names
        and table[a].type().is_temporal()
        and table[b].type().is_temporal()
    ][: LIMITS.time_columns]
    if not typed:
        return []
    spans = {
        k: table[b].cast("timestamp").epoch_seconds() - table[a].cast("timestamp").epoch_seconds()
        for k, (a, b) in enumerate(typed)
    }
    try:
        row = _row(
            table, **{f"q{k}": v.quantile([0.25, 0.75], where=v > 0) for k, v in spans.items()}
        )
    except (ibis_errors.OperationNotDefinedError, ibis_errors.UnsupportedOperationError):
        return []
    fences = {}
    for k in spans:
        pair = row[f"q{k}"]
        if pair is None or len(pair) != 2 or not pair[0] or pair[0] <= 0:
            continue
        low, high = math.log(float(pair[0])), math.log(float(pair[1]))
        if high > low:
            fences[k] = math.exp(high + SPAN_FENCE * (high - low))
    if not fences:
        return []
    counts = _row(
        table,
        **{f"n{k}": (spans[k] > fence).sum() for k, fence in fences.items()},
        **{f"m{k}": spans[k].max() for k in fences},
    )
    findings = []
    for k, fence in fences.items():
        a, b = typed[k]
        long = _int(counts[f"n{k}"])
        if long:
            findings.append(
                Finding(
                    name,
                    "validity",
                    "major",
                    f"'{b}' comes implausibly long after '{a}' in {long:,} rows: more than "
                    f"{_span_text(fence)}, where most rows take "
                    f"{_span_text(float(row[f'q{k}'][1]))} or less (the longest: "
                    f"{_span_text(float(counts[f'm{k}']))}).",
                    b,
                    float(long),
                    rule="implausible_spans",
                )
            )
    return findings


#: The shape rule first reads this many rows to find a column's most common kind of value;
#: only a column where that kind is (nearly) the rule's share there is counted exactly.
SHAPE_SAMPLE_ROWS = 5_000
#: How far below the rule's share the sample may fall and the column still be counted exactly.
SHAPE_SAMPLE_SLACK = 0.02
_SHAPE_CHAR = {"A": "[A-Za-z]", "9": "[0-9]"}
_TO_SHAPE = str.maketrans(
    string.ascii_letters + string.digits, "A" * len(string.ascii_letters) + "9" * 10
)
_EMAIL, _URL = re.compile(EMAIL), re.compile(URL)


def _kind_of(value: str) -> str:
    """What a value is: an e-mail or web address, else its shape (letters become A, digits
    9: ``C-10616`` has the shape ``A-99999``)."""
    if _EMAIL.search(value):
        return "an e-mail address"
    if _URL.search(value):
        return "a web address"
    return "the shape " + value.translate(_TO_SHAPE)


def _kind_pattern(kind: str) -> str:
    """A regular expression matching exactly the values of ``kind``."""
    if kind == "an e-mail address":
        return EMAIL
    if kind == "a web address":
        return URL
    shape = kind.removeprefix("the shape ")
    return "^" + "".join(_SHAPE_CHAR.get(ch) or _literal(ch) for ch in shape) + "$"


def _literal(ch: str) -> str:
    """One character as itself in RE2 (DuckDB), PostgreSQL's and Python's regular
    expressions alike: letters, digits and spaces as they are, other characters in a bracket
    expression (``[.]``), the three that are special there escaped."""
    if ch.isalnum() or ch == " ":
        return ch
    return "\\" + ch if ch in "]\\^" else f"[{ch}]"


def _most_common_kind(values: pd.Series) -> tuple[str, float]:
    """The most common kind among sampled values, and its share of them; each distinct value
    is classified once."""
    counts = values.value_counts(sort=False)
    kinds = pd.Series(counts.to_numpy(), index=[_kind_of(v) for v in counts.index])
    kinds = kinds.groupby(level=0, sort=False).sum().sort_values(ascending=False, kind="stable")
    return str(kinds.index[0]), float(kinds.iloc[0]) / len(values)


def shapes(name: str, table: ir.Table, scan: TableScan, personal: set[str]) -> Check:
    """Columns where almost every value has one shape, and the values that do not.

    The most common kind of value is found on the first rows (cheap, in Python); a column
    whose sample does not come close to the rule's share is dropped there. For the others,
    one exact count of the values that match that kind's pattern, over the scan's distinct
    values (each column's pattern only on its own values)."""
    candidates = [
        c
        for c in scan.columns.values()
        if c.kind == "text"
        and c.distinct >= LIMITS.shape_min_distinct
        and scan.number_share(c) < 0.95
        and scan.present(c) > 0
    ]
    if not candidates:
        return Check()
    sample = table.select(*[c.name for c in candidates]).limit(SHAPE_SAMPLE_ROWS).execute()
    kept = []
    for c in candidates:
        values = sample[c.name].dropna().astype(str).str.strip()
        values = values[values != ""]
        if values.empty:
            continue
        kind, share = _most_common_kind(values)
        if share < LIMITS.shape_share - SHAPE_SAMPLE_SLACK or (
            kind.startswith("the shape ") and "9" not in kind
        ):
            continue  # words of one length are not codes: a code's shape holds a digit
        kept.append((c, kind))
    if not kept:
        return Check()
    names = [c.name for c, _ in kept]
    text_values = scan.values  # every text column has its distinct values there
    t = text_values.stacked(names)
    present = t._val.notnull() & (t._text != "")
    matches = {
        k: only_if(t._col == text_values.position[c.name], t._text.re_search(_kind_pattern(kind)))
        for k, (c, kind) in enumerate(kept)
    }
    row = _row(t, **{f"n{k}": t._n.sum(where=m) for k, m in matches.items()})
    findings = []
    for k, (c, kind) in enumerate(kept):
        total = scan.present(c)
        count = _int(row[f"n{k}"])
        odd = total - count
        if count / total < LIMITS.shape_share or odd <= 0:
            continue
        mine = t._col == text_values.position[c.name]
        off = (
            t.filter(mine, present, ~matches[k])
            .select(v=t._text)
            .distinct()
            .order_by("v")
            .limit(3)
            .execute()["v"]
        )
        findings.append(
            Finding(
                name,
                "validity",
                "major",
                f"'{c.name}' has {kind.removeprefix('the shape ')} in {count / total:.1%} of "
                f"its values; {odd:,} do not (e.g. {', '.join(masked_examples(off))}).",
                c.name,
                float(odd),
                rule="malformed_values",
            )
        )
    del personal  # examples are always masked
    return Check(findings)


def _missing(column: ir.Value) -> ir.BooleanValue:
    """Null, or text of nothing but the whitespace ``strip`` removes (a regular expression:
    cheaper than trimming every row; the characters themselves, which every engine reads
    alike, not an escape)."""
    if column.type().is_string():
        return column.isnull() | column.re_search("^[ \t\n\r\x0b\x0c]*$")
    return column.isnull()


#: The joint counts of categories and missingness patterns are fetched in one query when they
#: can have at most this many groups; beyond it, one query per category.
JOINT_GROUPS = 200_000


def gaps(
    name: str, table: ir.Table, scan: TableScan, profile: pd.DataFrame
) -> tuple[Check, set[str], list[list[str]]]:
    """Gaps that a category column explains exactly (structural: the field does not apply),
    and columns empty in exactly the same rows (one gap). Returns the structural findings,
    the structural columns (not missing data) and the groups of columns empty together (the
    completeness check reports each group once).

    Each row's missingness pattern (which of the gappy columns are empty) is computed once,
    and the patterns are counted together with the category columns' values in one query
    where the groups stay few (:data:`JOINT_GROUPS`), else one query per category."""
    rows = scan.rows
    partial = profile[(profile["missing"] > 0) & (profile["missing"] < rows)]
    partial = partial.sort_values("missing", ascending=False).head(LIMITS.gap_columns)
    gappy = list(partial["column"])
    if len(gappy) < 1 or rows == 0:
        return Check(), set(), []
    findings: list[Finding] = []
    categories = [
        c
        for c in scan.columns.values()
        if 2 <= c.distinct <= LIMITS.category_values
        and c.name not in gappy
        and not c.distinct_estimated
    ]
    # CASE WHEN rather than a cast: PostgreSQL casts no boolean to bigint.
    mask = sum(
        (
            ibis.ifelse(_missing(table[g]), ibis.literal(1 << i, type="int64"), 0)
            for i, g in enumerate(gappy)
        ),
        ibis.literal(0, type="int64"),
    )
    bits = table.mutate(_mask=mask)
    keys = {f"_c{k}": bits[c.name].cast("string") for k, c in enumerate(categories)}
    bound = 2 ** len(gappy)
    for c in categories:
        bound *= c.distinct + 1  # (+1: an empty value is a group too)
    by_category: dict[int, pd.DataFrame] = {}
    if categories and bound <= JOINT_GROUPS:
        joint = bits.group_by(**keys, _mask=bits._mask).aggregate(n=ibis._.count()).execute()
        patterns = joint.groupby("_mask", as_index=False)["n"].sum()
        for k in range(len(categories)):
            by_category[k] = (
                joint.groupby([f"_c{k}", "_mask"], dropna=False, as_index=False)["n"]
                .sum()
                .rename(columns={f"_c{k}": "value"})
            )
    else:
        patterns = bits.group_by("_mask").aggregate(n=ibis._.count()).execute()
        for k, key in enumerate(keys):
            by_category[k] = (
                bits.group_by(value=keys[key], _mask=bits._mask)
                .aggregate(n=ibis._.count())
                .execute()
            )
    masks = patterns["_mask"].astype("int64").to_numpy()
    groups: list[list[str]] = []
    if len(gappy) > 1:
        together = {c: {c} for c in gappy}
        for (i, a), (j, b) in itertools.combinations(enumerate(gappy), 2):
            if np.all(((masks >> i) & 1) == ((masks >> j) & 1)):  # empty in the same rows
                merged = together[a] | together[b]
                for member in merged:
                    together[member] = merged
        groups = sorted(sorted(g) for g in {frozenset(g) for g in together.values() if len(g) > 1})
    structural: set[str] = set()
    for k, category in enumerate(c.name for c in categories):
        frame = by_category[k]
        value_mask = frame["_mask"].astype("int64").to_numpy()
        totals = frame.groupby("value", dropna=False)["n"].sum()
        for i, g in enumerate(gappy):
            if g in structural:
                continue
            empty = frame.assign(_e=frame["n"] * ((value_mask >> i) & 1))
            counts = empty.groupby("value", dropna=False)["_e"].sum().reindex(totals.index)
            full, none = counts == totals, counts == 0
            # Empty where the category is empty too is a shared gap, not a field that does not
            # apply (and a null has no name to quote).
            explained_by_null = any(pd.isna(v) for v in totals.index[full])
            if (full | none).all() and full.any() and none.any() and not explained_by_null:
                structural.add(g)
                values = ", ".join(f"'{v}'" for v in sorted(str(v) for v in totals.index[full])[:5])
                findings.append(
                    Finding(
                        name,
                        "completeness",
                        "info",
                        f"'{g}' is empty exactly when '{category}' is {values}: the gap is "
                        "structural (the field does not apply), not missing data.",
                        g,
                        float(counts.sum()),
                        rule="structural_gap",
                    )
                )
    return Check(findings), structural, groups


def near_duplicates(
    name: str,
    table: ir.Table,
    scan: TableScan,
    exact_duplicates: int,
    normalise: set[str] | None = None,
) -> Check:
    """Rows that repeat another row once case and surrounding spaces are ignored, beyond the
    exact repeats already counted. ``normalise``: the text columns where two different values
    can become equal (by default every text column); when there is none, no row can be a
    near-duplicate and nothing is computed."""
    text = [c.name for c in scan.columns.values() if c.kind == "text"]
    if normalise is not None:
        text = [c for c in text if c in normalise]
    if not text or not scan.rows:
        return Check()
    normalised = table.select(
        *[
            (trimmed(table[c].cast("string")).lower() if c in text else table[c]).name(c)
            for c in table.columns
        ]
    )
    # Distinct normalised rows the way duplicate_rows counts distinct rows (a 64-bit row hash
    # in DuckDB), so that the difference is the near-duplicates alone.
    distinct = scan.rows - duplicate_rows(normalised, scan.rows)
    near = scan.rows - distinct - exact_duplicates
    if near <= 0:
        return Check()
    return Check(
        [
            Finding(
                name,
                "uniqueness",
                "minor",
                f"{near:,} rows repeat another row except for upper/lower case or spaces.",
                None,
                float(near),
                rule="near_duplicate_rows",
            )
        ]
    )
