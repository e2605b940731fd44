"""Timestamps read inside the engine, as seconds since 1970, with the day/month order decided
from evidence.

A timestamp written as text is matched by a regular expression, its parts (year, month, day,
hour, minute, second, offset) are extracted, checked (a 31 February is not a date) and turned
into epoch seconds with integer arithmetic (Howard Hinnant's days-from-civil). Only regular
expressions and arithmetic are used, so the same expression runs in DuckDB, PostgreSQL, SQLite
and Spark, and a hundred million rows never leave the database. Columns the source already
types as timestamps or dates are used as they are.

Without ``timestamp_format``, ISO 8601 is read as such. Numeric dates such as ``03/04/2026``
are day-first or month-first: the order is the one the data proves (a first field above 12
proves day-first, a second field above 12 month-first) over every value of the start and end
columns together. When neither is proved, nothing is guessed: the run stops and asks for
``timestamp_format``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from pilot2prod.errors import DataQualityError, ParameterError

#: ISO 8601: 2026-03-02, 2026-03-02 14:05, 2026-03-02T14:05:09.123+01:00 (also with / or .).
ISO = (
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r" ?(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
ISO_PARTS = {"Y": 1, "m": 2, "d": 3, "H": 4, "M": 5, "S": 6, "z": 7}
#: Numeric day and month in an order to be decided: 03/04/2026 14:05, 3.4.26, 03-04-2026.
NUMERIC = (
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})"
    r"(?:[T ,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(?: ?([AaPp][Mm]))?)?$"
)
NUMERIC_FIRST, NUMERIC_SECOND = 1, 2
NUMERIC_REST = {"Y": 3, "H": 4, "M": 5, "S": 6, "p": 7}
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAY_FIRST, MONTH_FIRST = "day-first", "month-first"
# strftime directives and the regular expressions that read them.
_DIRECTIVES = {
    "Y": r"(\d{4})",
    "y": r"(\d{2})",
    "m": r"(\d{1,2})",
    "d": r"(\d{1,2})",
    "e": r" ?(\d{1,2})",
    "H": r"(\d{1,2})",
    "I": r"(\d{1,2})",
    "M": r"(\d{2})",
    "S": r"(\d{2})",
    "f": r"(\d{1,9})",
    "p": r"([AaPp][Mm])",
    "z": r"(Z|[+-]\d{2}(?::?\d{2})?)",
    "b": r"([A-Za-z]{3,9})",
    "B": r"([A-Za-z]{3,9})",
}


@dataclass(frozen=True)
class Reading:
    """How a timestamp column was read, for the report."""

    column: str
    how: str  # "typed", "ISO 8601", "day-first", "month-first" or the format given
    evidence: str = ""


@dataclass(frozen=True)
class Pattern:
    """A regular expression and the group number of each part it captures; or, for a
    fixed-width layout, a regular expression without captures and each part's place
    (start, length), read with substrings. Engines such as PostgreSQL test a pattern quickly
    but extract captured groups slowly, so the common fixed-width layouts never capture."""

    regex: str
    parts: dict[str, int]
    places: dict[str, tuple[int, int]] | None = None


#: 2026-03-02, 2026-03-02 14:05, 2026-03-02T14:05:09: the layout most exports use.
ISO_FIXED = Pattern(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?$",
    {},
    {"Y": (0, 4), "m": (5, 2), "d": (8, 2), "H": (11, 2), "M": (14, 2), "S": (17, 2)},
)


def numeric_fixed(order: str) -> Pattern:
    """03/04/2026 14:05:09 and its dotted and dashed forms, two digits for day and month."""
    first, second = ("d", "m") if order == DAY_FIRST else ("m", "d")
    return Pattern(
        r"^\d{2}[/.-]\d{2}[/.-]\d{4}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?$",
        {},
        {first: (0, 2), second: (3, 2), "Y": (6, 4), "H": (11, 2), "M": (14, 2), "S": (17, 2)},
    )


def pattern_of_format(fmt: str, parameter: str = "timestamp_format") -> Pattern:
    """The :class:`Pattern` of a strftime format such as ``%d/%m/%Y %H:%M``."""
    regex, parts, group, i = ["^"], {}, 0, 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            code = fmt[i + 1]
            if code == "%":
                regex.append("%")
            elif code == "T":
                for sub in "HMS":
                    group += 1
                    parts[sub] = group
                    regex.append(_DIRECTIVES[sub] + (":" if sub != "S" else ""))
            elif code in _DIRECTIVES:
                group += 1
                key = {"e": "d", "I": "H", "B": "b"}.get(code, code)
                if code in ("I", "p"):
                    parts["twelve_hour"] = 1
                parts[key] = group
                regex.append(_DIRECTIVES[code])
            else:
                raise ParameterError(
                    f"Parameter {parameter} uses %{code}, which the playbook does not read; "
                    "use %Y %y %m %d %H %I %p %M %S %f %z %b %B, e.g. %d/%m/%Y %H:%M."
                )
            i += 2
            continue
        regex.append(r"\s+" if ch == " " else re.escape(ch))
        i += 1
    regex.append("$")
    missing = {"Y", "d"} - parts.keys() if "y" not in parts else {"d"} - parts.keys()
    if "m" not in parts and "b" not in parts:
        missing.add("m")
    if missing:
        raise ParameterError(
            f"Parameter {parameter} '{fmt}' has no {', '.join('%' + m for m in sorted(missing))}"
            "; it needs a year, a month and a day, e.g. %d/%m/%Y %H:%M."
        )
    return Pattern("".join(regex), parts)


def numeric_pattern(order: str) -> Pattern:
    first, second = ("d", "m") if order == DAY_FIRST else ("m", "d")
    return Pattern(NUMERIC, {first: NUMERIC_FIRST, second: NUMERIC_SECOND, **NUMERIC_REST})


def _days_from_civil(year: ir.IntegerValue, month: ir.IntegerValue, day: ir.IntegerValue):
    """Days since 1970-01-01 of a Gregorian date in years 0 and later, integers only: count
    from 1 March of year 0 so that the leap day ends a year (H. Hinnant's days_from_civil, in
    a form that names each input once or twice, so the SQL stays small)."""
    march_year = year - (month <= 2).ifelse(1, 0)
    march_month = (month + 9) % 12  # March is 0
    return (
        365 * march_year
        + march_year // 4
        - march_year // 100
        + march_year // 400
        + (153 * march_month + 2) // 5
        + day
        - 719469
    )


def _days_in_month(year: ir.IntegerValue, month: ir.IntegerValue) -> ir.IntegerValue:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    return ibis.cases(
        (month == 2, leap.ifelse(29, 28)),
        (month.isin([4, 6, 9, 11]), 30),
        else_=31,
    )


def _offset_seconds(zone: ir.StringValue) -> ir.IntegerValue:
    """Seconds east of UTC of an ISO offset: ``Z`` 0, ``+01:00`` 3600, ``-0530`` -19800."""
    digits = zone.re_replace(r"[^0-9]", "")
    hours = digits.substr(0, 2).nullif("").cast("int64")
    minutes = digits.substr(2, 2).nullif("").cast("int64").fill_null(0)
    sign = zone.startswith("-").ifelse(-1, 1)
    return (zone == "Z").ifelse(0, sign * (hours * 3600 + minutes * 60)).fill_null(0)


def parts_of_text(
    text: ir.StringValue, pattern: Pattern, skip: ir.BooleanValue | None = None
) -> dict[str, ir.Value]:
    """Stage one: the parts ``pattern`` reads from ``text``, as integer columns named in lower
    case (some engines ignore the case of column names): ``ok`` says it matched."""
    regex, parts = pattern.regex, pattern.parts
    ok = text.re_search(regex)
    if pattern.places is not None:
        # Substrings, taken only where the layout matched (so no engine casts stray text).
        out = {"ok": ok}
        for key, part in (("year", "Y"), ("month", "m"), ("day", "d")):
            start, length = pattern.places[part]
            out[key] = ok.ifelse(text.substr(start, length), ibis.null("string")).cast("int64")
        for key, part in (("hour", "H"), ("minute", "M"), ("second", "S")):
            start, length = pattern.places[part]
            piece = ok.ifelse(text.substr(start, length).nullif(""), ibis.null("string"))
            out[key] = piece.cast("int64").fill_null(0)
        return out

    def number(index: int) -> ir.IntegerValue:
        # An optional group that did not take part is empty (DuckDB, Spark) or null (PostgreSQL).
        piece = text.re_extract(regex, index)
        if skip is not None:  # rows a fixed-width layout already read never capture here
            piece = skip.ifelse(ibis.null("string"), piece)
        return piece.nullif("").cast("int64")

    out: dict[str, ir.Value] = {"ok": ok}
    if "Y" in parts:
        year = number(parts["Y"])
        if regex == NUMERIC:  # the numeric shape takes both four- and two-digit years
            year = (year < 100).ifelse((year < 69).ifelse(year + 2000, year + 1900), year)
        out["year"] = year
    else:  # two-digit year: 69-99 are 19xx, 00-68 20xx (as Python's strptime)
        short = number(parts["y"])
        out["year"] = (short < 69).ifelse(short + 2000, short + 1900)
    if "b" in parts:
        name = text.re_extract(regex, parts["b"]).lower().substr(0, 3)
        out["month"] = ibis.cases(*((name == m, i + 1) for i, m in enumerate(MONTHS)), else_=0)
    else:
        out["month"] = number(parts["m"])
    out["day"] = number(parts["d"])
    for key, part in (("hour", "H"), ("minute", "M"), ("second", "S")):
        out[key] = number(parts[part]).fill_null(0) if part in parts else ibis.literal(0)
    if "p" in parts:
        meridian = text.re_extract(regex, parts["p"]).lower()
        out["meridian"] = ibis.cases((meridian == "pm", 12), (meridian == "am", 0), else_=-1)
    if "z" in parts:
        out["zone"] = text.re_extract(regex, parts["z"]).nullif("")
    return out


def epoch_of_parts(c: dict[str, ir.Value]) -> ir.FloatingValue:
    """Stage two: epoch seconds from the part columns; null where they are not a real date and
    time (a 31 February, a 25th hour)."""
    year, month, day, hour = c["year"], c["month"], c["day"], c["hour"]
    if "meridian" in c:  # 12-hour clock: 12 AM is 0 h, 12 PM is 12 h
        hour = (c["meridian"] >= 0).ifelse(hour % 12 + c["meridian"], hour)
    valid = (
        c["ok"]
        & month.between(1, 12)
        & (day >= 1)
        & (day <= _days_in_month(year, month.clip(1, 12)))
        & hour.between(0, 23)
        & c["minute"].between(0, 59)
        & c["second"].between(0, 60)
    )
    # Clamp before the arithmetic so no engine meets an impossible date; the day enters
    # linearly, so it is added as it is; invalid rows are nulled.
    days = _days_from_civil(year, month.clip(1, 12), 1) + (day - 1)
    seconds = days * 86400 + hour * 3600 + c["minute"] * 60 + c["second"]
    if "zone" in c:
        seconds = seconds - _offset_seconds(c["zone"])
    return valid.ifelse(seconds.cast("float64"), ibis.null("float64"))


def _flattens_subqueries(table: ir.Table) -> bool:
    try:
        name = table._find_backend().name
    except Exception:  # noqa: BLE001 - an unbound memtable runs in DuckDB
        return False
    return name not in ("duckdb", "pyspark")


def with_epoch(
    table: ir.Table, text: ir.StringValue, patterns: list[Pattern], name: str
) -> ir.Table:
    """``table`` with a column ``name``: epoch seconds of ``text`` read by the first of
    ``patterns`` that reads it. Two projections, so the SQL refers to the parts by name
    instead of repeating their expressions."""
    staged: dict[str, ir.Value] = {}
    fixed: ir.BooleanValue | None = None
    for k, pattern in enumerate(patterns):
        for key, expr in parts_of_text(text, pattern, fixed).items():
            staged[f"__{name}_{k}_{key}"] = expr
        if pattern.places is not None:
            matched = text.re_search(pattern.regex)
            fixed = matched if fixed is None else fixed | matched
    if _flattens_subqueries(table):
        # PostgreSQL and SQLite would pull the parts back into the outer query, repeating
        # each regular expression wherever a part is used; a window function keeps them apart.
        staged[f"__{name}_barrier"] = ibis.row_number()
    table = table.mutate(**staged)
    epochs = []
    for k in range(len(patterns)):
        prefix = f"__{name}_{k}_"
        columns = {
            key.removeprefix(prefix): table[key]
            for key in staged
            if key.startswith(prefix) and not key.endswith("_barrier")
        }
        epochs.append(epoch_of_parts(columns))
    value = epochs[0]
    for other in epochs[1:]:
        value = value.fill_null(other)
    barrier = f"__{name}_barrier"
    if barrier in staged:  # used, so that Ibis keeps it when it prunes unused columns
        value = (table[barrier] >= 0).ifelse(value, ibis.null("float64"))
    return table.mutate(**{name: value}).drop(*staged)


def clean_text(column: ir.Value) -> ir.StringValue:
    """A column's values as trimmed text, blanks as null."""
    return column.cast("string").strip().nullif("")


def is_typed(column: ir.Value) -> bool:
    return column.type().is_timestamp() or column.type().is_date()


def decide_order(table: ir.Table, columns: list[str]) -> tuple[str | None, str, int]:
    """Day-first or month-first for numeric dates in ``columns``, from the evidence in every
    value: (order or None, a sentence of evidence, how many values have the numeric shape)."""
    text_columns = [c for c in columns if c and not is_typed(table[c])]
    if not text_columns:
        return None, "", 0
    aggregates = {}
    for i, name in enumerate(text_columns):
        text = clean_text(table[name])
        numeric = text.re_search(NUMERIC)
        first = text.re_extract(NUMERIC, NUMERIC_FIRST).nullif("").cast("int64")
        second = text.re_extract(NUMERIC, NUMERIC_SECOND).nullif("").cast("int64")
        aggregates[f"n{i}"] = numeric.sum()
        aggregates[f"a{i}"] = numeric.ifelse(first > 12, False).sum()
        aggregates[f"b{i}"] = numeric.ifelse(second > 12, False).sum()
    row = table.aggregate(**aggregates).execute().iloc[0]
    shaped = sum(int(row[f"n{i}"] or 0) for i in range(len(text_columns)))
    day_first = sum(int(row[f"a{i}"] or 0) for i in range(len(text_columns)))
    month_first = sum(int(row[f"b{i}"] or 0) for i in range(len(text_columns)))
    if shaped == 0:
        return None, "", 0
    if day_first and not month_first:
        return DAY_FIRST, f"{_values(day_first)} a first field above 12 (a day)", shaped
    if month_first and not day_first:
        return MONTH_FIRST, f"{_values(month_first)} a second field above 12 (a day)", shaped
    if day_first and month_first:
        # Both shapes occur: the larger group decides, the other's values become unreadable.
        order = DAY_FIRST if day_first >= month_first else MONTH_FIRST
        return (
            order,
            f"{day_first:,} values read only day-first and {month_first:,} only month-first; "
            f"the {order} majority was used",
            shaped,
        )
    return None, "", shaped


def _values(n: int) -> str:
    return "1 value has" if n == 1 else f"{n:,} values have"


def with_epochs(
    table: ir.Table,
    columns: dict[str, str],
    timestamp_format: str,
    format_parameter: str = "timestamp_format",
) -> tuple[ir.Table, list[Reading]]:
    """``table`` with epoch-second columns: ``columns`` maps each new column's name to the
    timestamp column it reads. Also returns how each was read. Raises
    :class:`DataQualityError` naming ``format_parameter`` when numeric dates could be either
    order."""
    readings: list[Reading] = []
    names = [c for c in columns.values() if c]
    order, evidence = None, ""
    if timestamp_format:
        given = [pattern_of_format(timestamp_format, format_parameter)]
    else:
        order, evidence, shaped = decide_order(table, names)
        if shaped and order is None:
            raise DataQualityError(
                f"{format_parameter}: {shaped:,} dates in {' and '.join(sorted(set(names)))} "
                "are written like 03/04/2026, and no value shows whether the day or the month "
                f"comes first; set {format_parameter}, e.g. %d/%m/%Y %H:%M (day first) or "
                "%m/%d/%Y %H:%M (month first)."
            )
        given = [ISO_FIXED, Pattern(ISO, ISO_PARTS)]
        if order:
            given += [numeric_fixed(order), numeric_pattern(order)]
    for name, column_name in columns.items():
        column = table[column_name]
        if is_typed(column):
            if column.type().is_date():
                column = column.cast("timestamp")
            table = table.mutate(**{name: column.epoch_seconds().cast("float64")})
            readings.append(Reading(column_name, "typed"))
            continue
        table = with_epoch(table, clean_text(column), given, name)
        if timestamp_format:
            how = f"format {timestamp_format}"
        else:
            how = f"ISO 8601, else {order}" if order else "ISO 8601"
        readings.append(Reading(column_name, how, evidence))
    return table, readings
