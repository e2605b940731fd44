"""Figures readable at page width: no text smaller than 9 points in a figure at most 10 inches
wide (the book and the reports scale figures to the page, about 7 inches)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from pilot2prod import plots  # noqa: E402


def _texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]


def test_the_scorecard_heat_map_is_readable_at_page_width():
    rng = np.random.default_rng(0)
    dimensions = ["completeness", "uniqueness", "validity", "consistency", "timeliness"]
    table = pd.DataFrame(rng.uniform(0, 100, (14, 5)), columns=dimensions)
    table.insert(0, "source", [f"crm_export_{i}.csv" for i in range(14)])
    table.loc[3, "timeliness"] = np.nan
    fig = plots.scorecard_heatmap(table, dimensions)
    width, _ = fig.get_size_inches()
    assert width <= 10
    small = [(t.get_text(), t.get_fontsize()) for t in _texts(fig) if t.get_fontsize() < 9]
    assert small == []
