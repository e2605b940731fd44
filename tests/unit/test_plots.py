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


def _legends_clear_of_axes(fig) -> list[str]:
    """Legends whose box overlaps the plotting area of an axes (where data is drawn)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    overlapping = []
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            if box.overlaps(ax.get_window_extent(renderer)):
                overlapping.append(ax.get_title() or "an axes")
    return overlapping


def test_legends_never_cover_data():
    rng = np.random.default_rng(1)
    curves = {
        name: pd.DataFrame(
            {
                "coverage": np.linspace(0.01, 1, 50),
                "precision": np.sort(rng.uniform(0.5, 1, 50))[::-1],
            }
        )
        for name in ["keyword rules", "TF-IDF + linear", "embeddings + linear", "retrieval"]
    }
    curve = pd.DataFrame(
        [
            {"approach": a, "per_class": n, "seed": s, "macro_f1": rng.uniform(0.3, 0.9)}
            for a in ["keyword rules", "TF-IDF + linear"]
            for n in (5, 10, 20, 50)
            for s in range(2)
        ]
    )
    mde = pd.DataFrame({"weeks": [1, 2, 4, 8, 16], "mde_relative": [0.5, 0.35, 0.25, 0.18, 0.12]})
    weeks = pd.date_range("2026-01-05", periods=20, freq="W-MON")
    weekly = pd.DataFrame(
        {"week": weeks, "events": rng.integers(50, 200, 20), "km": rng.uniform(20, 40, 20)}
    )
    weekly["naive"] = weekly["km"] * 0.8
    figures = [
        plots.precision_coverage(curves, 0.92),
        plots.learning_curves(curve),
        plots.mde_curve(mde, -0.2, "Weeks needed", "effect (%)"),
        plots.weekly_trend(weekly, weeks[-8], weeks[-1], "median", "hours"),
    ]
    for fig in figures:
        assert fig.legends, "no legend drawn"
        assert _legends_clear_of_axes(fig) == []
        assert fig.get_size_inches()[0] <= 10


def test_every_legend_is_drawn_outside_the_plots():
    """No plot places a legend inside its axes (where loc='best' still covers a dense plot)."""
    import inspect

    source = inspect.getsource(plots)
    assert ".legend(" not in source.replace("fig.legend(", "")


def _tick_labels(fig, ax, axis: str = "x") -> list[str]:
    fig.canvas.draw()
    target = getattr(ax, f"{axis}axis")
    ticks = [*target.get_major_ticks(), *target.get_minor_ticks()]
    low, high = sorted(getattr(ax, f"get_{axis}lim")())
    return [
        t.label1.get_text()
        for t in ticks
        if t.label1.get_visible() and t.label1.get_text() and low <= t.get_loc() <= high
    ]


def test_log_axes_read_as_plain_numbers_without_typesetting(monkeypatch):
    """1, 10, 1,000 and 0.1 rather than powers of ten, at any span of decades; and no mathtext
    is parsed (it cost about a tenth of a second per figure)."""
    import matplotlib.mathtext

    parsed: list[str] = []
    real = matplotlib.mathtext.MathTextParser.parse
    monkeypatch.setattr(
        matplotlib.mathtext.MathTextParser,
        "parse",
        lambda self, s, *a, **k: parsed.append(s) or real(self, s, *a, **k),
    )
    plain = r"^(0|[1-9]\d{0,2}(,\d{3})*|0\.\d+)$"
    spans = {"wide": [1, 10, 1e3, 1e5], "fractions": [0.05, 0.5, 3, 8], "narrow": [2, 3, 5, 8]}
    for name, values in spans.items():
        fig, ax = plots._figure(6, 3)
        ax.plot(values, range(4))
        plots.plain_log_axis(ax)
        labels = _tick_labels(fig, ax)
        assert len(labels) >= 2, name
        assert all(pd.Series(labels).str.match(plain)), (name, labels)
    fig, ax = plots._figure(6, 3)
    ax.plot(spans["wide"], range(4))
    plots.plain_log_axis(ax)
    assert {"1", "10", "100", "1,000", "10,000", "100,000"} <= set(_tick_labels(fig, ax))
    freshness = pd.DataFrame(
        {
            "source": ["a.csv", "b.csv", "c.csv"],
            "lag_days": [0.0, 40.0, 1200.0],
            "refresh_days": [1.0, None, 30.0],
            "stale": [False, True, True],
        }
    )
    fig = plots.freshness_chart(freshness)
    labels = _tick_labels(fig, fig.axes[0])
    assert {"0", "1", "10", "100", "1,000"} <= set(labels), labels
    # Records dated in the future lag by negative days: the sign stays on the symlog axis.
    ahead = freshness.assign(lag_days=[-40.0, 3.0, 1200.0])
    fig = plots.freshness_chart(ahead)
    labels = {t.replace("\N{MINUS SIGN}", "-") for t in _tick_labels(fig, fig.axes[0])}
    assert {"-10", "-1", "0", "1", "10", "100", "1,000"} <= labels, labels
    assert parsed == []


def test_the_impact_series_draws_log_scale_metrics_on_a_plain_log_axis():
    """A metric analysed on the log scale (durations) is drawn back on its own scale, on a log
    axis with plain numbers (the flag that asks for it once shadowed the axis helper)."""
    days = pd.date_range("2026-01-01", periods=60, freq="D")
    rng = np.random.default_rng(1)
    level = np.log(rng.uniform(5, 50, len(days)))
    series = pd.DataFrame(
        {
            "date": days,
            "observed": level,
            "control": level + 0.1,
            "fitted": level,
            "counterfactual": level + 0.2,
        }
    )
    for design in ("did", "its"):
        fig = plots.impact_series(series, days[30], design, "hours to resolve", log_scale=True)
        ax = fig.axes[0]
        assert ax.get_yscale() == "log"
        labels = _tick_labels(fig, ax, "y")
        assert labels and all(pd.Series(labels).str.match(r"^\d[\d,]*(\.\d+)?$")), labels
