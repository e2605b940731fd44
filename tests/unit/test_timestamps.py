"""Timestamps read in the engine: every shape against Python's own calendar, day/month order from
evidence only, and nothing that is not a real date read as one."""

from __future__ import annotations

import datetime as dt
import re

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilot2prod import timestamps
from pilot2prod.errors import DataQualityError, ParameterError

EPOCH = dt.datetime(1970, 1, 1)


def read(values: list[str | None], fmt: str = "") -> tuple[list[float | None], list]:
    table = ibis.memtable(pd.DataFrame({"t": pd.Series(values, dtype="string")}))
    table, readings = timestamps.with_epochs(table, {"e": "t"}, fmt)
    epochs = table.execute()["e"]
    return [None if pd.isna(v) else float(v) for v in epochs], readings


def seconds(stamp: dt.datetime) -> float:
    return (stamp - EPOCH).total_seconds()


def test_shapes_seen_in_exports():
    values = [
        "2026-03-02 14:05:09",
        "2026-03-02T14:05",
        "2026-03-02",
        "2026/03/02 14:05:09",
        "2026-03-02T14:05:09.123Z",
        "2026-03-02T14:05:09+01:00",
        "2026-03-02 14:05:09 -0530",
        "13/03/2026 08:00",
        "13.03.2026",
        " 2026-03-02 ",
    ]
    got, readings = read(values)
    expected = [
        dt.datetime(2026, 3, 2, 14, 5, 9),
        dt.datetime(2026, 3, 2, 14, 5),
        dt.datetime(2026, 3, 2),
        dt.datetime(2026, 3, 2, 14, 5, 9),
        dt.datetime(2026, 3, 2, 14, 5, 9),
        dt.datetime(2026, 3, 2, 13, 5, 9),
        dt.datetime(2026, 3, 2, 19, 35, 9),
        dt.datetime(2026, 3, 13, 8),
        dt.datetime(2026, 3, 13),
        dt.datetime(2026, 3, 2),
    ]
    assert got == [seconds(e) for e in expected]
    assert readings[0].how == "ISO 8601, else day-first"
    assert "a first field above 12" in readings[0].evidence


@pytest.mark.parametrize(
    "value",
    ["2026-02-29", "2025-13-01", "2025-04-31", "31/02/2025", "2025-01-01 24:00", "yesterday", ""],
)
def test_impossible_dates_are_not_read(value):
    got, _ = read([value, "2024-02-29", "13/01/2025"])
    assert got[0] is None
    assert got[1] == seconds(dt.datetime(2024, 2, 29))  # a real leap day


def test_month_first_is_proved_by_a_second_field_above_12():
    got, readings = read(["03/04/2026 10:00", "12/25/2025 09:30"])
    assert got == [seconds(dt.datetime(2026, 3, 4, 10)), seconds(dt.datetime(2025, 12, 25, 9, 30))]
    assert readings[0].how == "ISO 8601, else month-first"


def test_ambiguous_day_month_order_stops_and_asks_for_a_format():
    with pytest.raises(DataQualityError) as err:
        read(["03/04/2026", "01/02/2026", "2026-05-05"])
    message = str(err.value)
    assert message.startswith("timestamp_format: 2 dates in t are written like 03/04/2026")
    assert "%d/%m/%Y %H:%M (day first)" in message
    got, readings = read(["03/04/2026", "01/02/2026"], "%d/%m/%Y")
    assert got == [seconds(dt.datetime(2026, 4, 3)), seconds(dt.datetime(2026, 2, 1))]
    assert readings[0].how == "format %d/%m/%Y"


def test_twelve_hour_clock_and_month_names():
    got, _ = read(["1/2/26 12:05 AM", "1/2/26 12:05 PM", "1/2/26 3:04 pm"], "%d/%m/%y %I:%M %p")
    assert got == [
        seconds(dt.datetime(2026, 2, 1, 0, 5)),
        seconds(dt.datetime(2026, 2, 1, 12, 5)),
        seconds(dt.datetime(2026, 2, 1, 15, 4)),
    ]
    got, _ = read(["Mar 5, 2026", "December 31, 1999"], "%b %d, %Y")
    assert got == [seconds(dt.datetime(2026, 3, 5)), seconds(dt.datetime(1999, 12, 31))]


def test_a_format_without_a_day_is_refused():
    with pytest.raises(ParameterError, match="has no %d"):
        timestamps.pattern_of_format("%Y-%m")
    with pytest.raises(ParameterError, match="uses %j"):
        timestamps.pattern_of_format("%Y-%j")


DATES = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2099, 12, 31))
FORMATS = ["%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d.%m.%Y", "%Y-%m-%dT%H:%M"]


# Each example is one query through the engine (seconds on a small machine): few examples of long
# lists rather than many short ones.
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stamps=st.lists(DATES, min_size=1, max_size=120), fmt=st.sampled_from(FORMATS))
def test_any_date_written_in_a_format_reads_back_as_python_parses_it(stamps, fmt):
    text = [s.strftime(fmt) for s in stamps]
    got, _ = read(text, fmt)
    assert got == [seconds(dt.datetime.strptime(t, fmt)) for t in text]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stamps=st.lists(DATES, min_size=1, max_size=40), day_first=st.booleans())
def test_numeric_dates_are_read_in_the_order_the_data_proves_or_not_at_all(stamps, day_first):
    fmt = "%d/%m/%Y %H:%M" if day_first else "%m/%d/%Y %H:%M"
    text = [s.strftime(fmt) for s in stamps]
    proof = any((s.day > 12) for s in stamps)
    if not proof:
        with pytest.raises(DataQualityError, match="no value shows whether the day or the month"):
            read(text)
        return
    got, readings = read(text)
    assert got == [seconds(dt.datetime.strptime(t, fmt)) for t in text]
    assert readings[0].how.endswith("day-first" if day_first else "month-first")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=25), min_size=1, max_size=60))
def test_arbitrary_text_never_raises_and_only_real_dates_are_read(values):
    try:
        got, _ = read(values)
    except DataQualityError:
        return  # ambiguous numeric dates: the run stops and asks, which is allowed
    for value, epoch in zip(values, got, strict=True):
        if epoch is not None:  # read only when the whole value has a timestamp's shape
            text = value.strip()
            assert re.fullmatch(timestamps.ISO, text) or re.fullmatch(timestamps.NUMERIC, text)
