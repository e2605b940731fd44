"""What the notebooks show people: amounts with their currency and sensible decimals."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st


def test_amounts_carry_their_currency_and_sensible_decimals():
    from pilot2prod.notebook import money

    show = money("EUR")
    assert show(0) == "EUR 0"
    assert show(0.000123456) == "< EUR 0.01"  # below a cent: no scientific notation
    assert show(0.0421) == "EUR 0.042"  # two significant digits below 1
    assert show(0.999) == "EUR 1.00"
    assert show(1234.567) == "EUR 1,234.57"
    assert show(float("nan")) == show(None) == "n/a"
    assert money()(0.5) == "0.5" and money()(0.004) == "< 0.01"


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_any_amount_is_shown_close_to_its_value(amount):
    from pilot2prod.notebook import money

    text = money("USD")(amount)
    assert "USD" in text and "e" not in text  # never scientific notation
    if abs(amount) < 0.01:
        assert text in ("USD 0", "< USD 0.01", "> -USD 0.01")
        return
    shown = float(text.replace("USD ", "").replace(",", ""))
    if abs(amount) >= 0.995:
        assert abs(shown - amount) <= 0.005 + 1e-9 * abs(amount)
    else:
        assert abs(shown - amount) <= 0.05 * abs(amount)


def test_tables_keep_columns_apart_and_align_numbers_right():
    import re

    import pandas as pd

    from pilot2prod.notebook import table

    frame = pd.DataFrame(
        {
            "guardrail": ["reopen rate", "mean CSAT"],
            "baseline": [0.061, 4.21],
            "rule": ["may rise by at most 1.0 pp", "may fall by at most 0.1"],
        }
    )
    html = table(frame, {"baseline": "{:.2f}"}).to_html()
    css = dict(re.findall(r"(#T_\w+\s+[\w., ]+)\s*\{([^}]*)\}", html))
    padded = [rule for selector, rule in css.items() if "td" in selector and "padding" in rule]
    assert padded and all("0.6em" in rule for rule in padded)
    right = [s for s, rule in css.items() if "right" in rule]
    assert any("td.col1" in s for s in right) and not any("col0" in s or "col2" in s for s in right)
    assert "<script" not in html and "0.06" in html


def test_numpy_and_pandas_values_become_plain_json():
    import datetime
    import json

    import numpy as np
    import pandas as pd

    from pilot2prod.jsonable import to_jsonable

    value = {
        1: [np.int64(3), np.float32(0.5), np.bool_(True)],
        "when": pd.Timestamp("2026-01-02 03:04"),
        "day": datetime.date(2026, 1, 2),
        "gaps": (float("nan"), float("inf"), pd.NaT, pd.NA, np.float64("nan")),
        "text": "kept",
    }
    out = to_jsonable(value)
    assert out == {
        "1": [3, 0.5, True],
        "when": "2026-01-02T03:04:00",
        "day": "2026-01-02",
        "gaps": [None, None, None, None, None],
        "text": "kept",
    }
    json.dumps(out, allow_nan=False)


def test_headline_shows_its_verdict_once_and_escapes_values():
    from pilot2prod.notebook import Headline, headline_html

    block = headline_html(
        Headline("NO-GO: 3 blocking finding(s) <b>in</b> 2 sources.", "NO-GO", [("A & B", "1")])
    )
    assert block.count("NO-GO") == 1
    assert "3 blocking finding(s) &lt;b&gt;in&lt;/b&gt; 2 sources." in block
    assert "A &amp; B" in block
    go = headline_html(Headline("GO: the 4 sources can feed the pilot.", "GO", []))
    assert go.count("GO") == 1 and "The 4 sources can feed the pilot." in go
    plain = headline_html(Headline("Median handling time falls by 10%.", "", []))
    assert "Median handling time falls by 10%." in plain and "p2p-verdict" not in plain


def test_table_text_breaks_inside_long_names_and_stays_escaped():
    """Names with no space (paths, sheets) may wrap after their separators so a wide table
    fits the page; every text cell is escaped, lists and odd objects included; numbers and
    dates get no break."""
    import pandas as pd

    from pilot2prod.notebook import table

    frame = pd.DataFrame(
        {
            "source": ["order_exports/orders_2026_03.xlsx:Sheet1", "<script>x</script>", None],
            "samples": [["<b>a@b.com</b>"], {"k": "<i>"}, "plain"],
            "rows": [1, 2, 3],
            "when": pd.to_datetime(["2026-01-01 10:30", "2026-01-02 00:00", None]),
        }
    )
    html = table(frame, {"rows": "{:,}"}).to_html()
    cells = [
        line.split(">", 1)[1].rsplit("</td", 1)[0] for line in html.splitlines() if "<td" in line
    ]
    assert cells[0] == "order_exports/<wbr>orders_2026_03.xlsx:<wbr>Sheet1"
    assert "&lt;b&gt;a@<wbr>b.com&lt;/<wbr>b&gt;" in cells[1]
    assert cells[4] == "&lt;script&gt;x&lt;/<wbr>script&gt;"
    assert "&lt;i&gt;" in cells[5] and cells[8] == "n/a"
    assert "<wbr>" not in cells[2] + cells[3]  # a number, a date
    assert "<script" not in html and "<b>" not in html and "<i>" not in html
