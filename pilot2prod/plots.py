"""Figures. Computing lives elsewhere; these functions only draw what they are given.

Every figure has a title, labelled axes with units, an opaque light background (readable in the
book's dark mode) and the Okabe-Ito colour-blind-safe palette.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
BACKGROUND = "#FFFFFF"


def style() -> None:
    """Apply the house style to matplotlib (idempotent)."""
    plt.rcParams.update(
        {
            "figure.facecolor": BACKGROUND,
            "axes.facecolor": BACKGROUND,
            "savefig.facecolor": BACKGROUND,
            "savefig.transparent": False,
            "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
            "axes.grid": True,
            "grid.color": "#DDDDDD",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "figure.dpi": 100,
            "font.size": 10,
            "axes.titlesize": 11,
        }
    )


class PlainLogFormatter(matplotlib.ticker.LogFormatter):
    """Tick labels of a log axis as plain numbers (1, 10, 1,000; 0.1) instead of powers of ten:
    what a reader outside statistics reads at a glance, and no mathtext to typeset (parsing it
    took about a tenth of a second per figure)."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        text = super().__call__(x, pos)  # of the magnitude: matplotlib drops the sign here
        return self.fix_minus(f"-{text}") if x < 0 and text else text

    def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
        return f"{x:,.0f}" if abs(x) >= 1 else f"{x:g}"


def plain_log_axis(ax, axis: str = "x", scale: str = "log", **kwargs) -> None:  # noqa: ANN001
    """Put ``axis`` of ``ax`` on a ``log`` (or ``symlog``) scale with plain-number ticks."""
    getattr(ax, f"set_{axis}scale")(scale, **kwargs)
    target = getattr(ax, f"{axis}axis")
    target.set_major_formatter(PlainLogFormatter())
    if scale == "log":  # symlog labels no minor ticks
        target.set_minor_formatter(PlainLogFormatter(labelOnlyBase=False))


def legend_below(fig, handles: list, labels: list) -> None:  # noqa: ANN001
    """The figure's legend under its plots, outside every axes, so that it never covers data
    (constrained layout makes room for it)."""
    if not handles:
        return
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=min(len(handles), 3),
        fontsize=9,
        frameon=False,
    )


def _figure(width: float = 8.0, height: float = 4.0):
    style()
    return plt.subplots(figsize=(width, height), layout="constrained")


def duration_distribution(
    durations_closed: np.ndarray,
    counts: np.ndarray,
    km: pd.DataFrame,
    km_value: float,
    naive_value: float,
    unit: str,
    metric_label: str,
):
    """Left: histogram of completed durations (log axis). Right: the KM curve with both
    estimates marked, so the censoring bias is visible."""
    style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    keep = durations_closed > 0
    positive, weights = durations_closed[keep], np.asarray(counts)[keep]
    bins = np.logspace(np.log10(positive.min()), np.log10(positive.max()), 40)
    left.hist(positive, bins=bins, weights=weights, color=OKABE_ITO[0], edgecolor="white")
    plain_log_axis(left)
    left.set_title("Completed durations (log scale)")
    left.set_xlabel(f"duration ({unit})")
    left.set_ylabel("events")
    curve = km[km["time"] > 0]
    right.step(
        curve["time"],
        curve["still_open"],
        where="post",
        color=OKABE_ITO[0],
        label="Kaplan-Meier (open events censored)",
    )
    right.axvline(
        km_value, color=OKABE_ITO[0], linestyle="--", label=f"KM {metric_label}: {km_value:.1f}"
    )
    right.axvline(
        naive_value,
        color=OKABE_ITO[3],
        linestyle=":",
        label=f"closed-only {metric_label}: {naive_value:.1f}",
    )
    plain_log_axis(right)
    right.set_ylim(0, 1)
    right.set_title("Share still open by elapsed time")
    right.set_xlabel(f"time since start ({unit})")
    right.set_ylabel("share still open")
    legend_below(fig, *right.get_legend_handles_labels())
    fig.suptitle("How long events take in the baseline window")
    return fig


def weekly_trend(
    weekly: pd.DataFrame,
    window_start: pd.Timestamp,
    as_of: pd.Timestamp,
    metric_label: str,
    value_label: str,
):
    """Weekly volume (bars) and the metric by week of creation (line), baseline shaded."""
    fig, ax = _figure(10, 4)
    ax.bar(weekly["week"], weekly["events"], width=6, color="#BBBBBB", label="events per week")
    ax.set_ylabel("events per week")
    ax.set_xlabel("week of creation")
    twin = ax.twinx()
    twin.plot(
        weekly["week"],
        weekly["km"],
        color=OKABE_ITO[0],
        marker=".",
        label=f"{metric_label} (Kaplan-Meier)",
    )
    twin.plot(
        weekly["week"],
        weekly["naive"],
        color=OKABE_ITO[3],
        linestyle=":",
        label=f"{metric_label} (closed only)",
    )
    twin.set_ylabel(value_label)
    twin.grid(False)
    ax.axvspan(window_start, as_of, color=OKABE_ITO[2], alpha=0.15, label="baseline window")
    handles = ax.get_legend_handles_labels()
    handles2 = twin.get_legend_handles_labels()
    legend_below(fig, handles[0] + handles2[0], handles[1] + handles2[1])
    ax.set_title(f"Weekly volume and {metric_label}")
    return fig


def seasonality_bars(table: pd.DataFrame, key: str, volume_column: str, value_label: str):
    """Volume (bars) and the metric (dots) by weekday or month."""
    fig, ax = _figure(8, 3.5)
    ax.bar(table[key], table[volume_column], color="#BBBBBB", label=volume_column.replace("_", " "))
    ax.set_ylabel(volume_column.replace("_", " "))
    ax.set_xlabel(key)
    twin = ax.twinx()
    twin.plot(table[key], table["metric_km"], color=OKABE_ITO[0], marker="o", label=value_label)
    twin.set_ylabel(value_label)
    twin.grid(False)
    ax.set_title(f"Seasonality by {key}: volume and {value_label}")
    return fig


def mde_curve(mde: pd.DataFrame, target: float, title: str, ylabel: str):
    """Minimum detectable effect by experiment length, with the target as a line."""
    fig, ax = _figure(7, 3.5)
    ax.plot(
        mde["weeks"],
        100 * mde["mde_relative"],
        marker="o",
        color=OKABE_ITO[0],
        label="minimum detectable effect",
    )
    ax.axhline(
        100 * abs(target),
        color=OKABE_ITO[3],
        linestyle="--",
        label=f"target ({100 * abs(target):.0f} %)",
    )
    plain_log_axis(ax)
    ax.set_xticks(mde["weeks"], [str(w) for w in mde["weeks"]])
    ax.set_xlabel("experiment length (weeks)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    legend_below(fig, *ax.get_legend_handles_labels())
    return fig


def baseline_by_segment(table: pd.DataFrame, value_label: str):
    """KM baseline per segment with its interval, beside the closed-only estimate."""
    rows = table.iloc[::-1]
    fig, ax = _figure(8, 0.5 * len(rows) + 1.5)
    y = np.arange(len(rows))
    ax.errorbar(
        rows["km"],
        y,
        xerr=[rows["km"] - rows["km_low"], rows["km_high"] - rows["km"]],
        fmt="o",
        color=OKABE_ITO[0],
        label="Kaplan-Meier, 95 % CI",
    )
    ax.plot(rows["naive"], y + 0.15, "x", color=OKABE_ITO[3], label="closed only")
    ax.set_yticks(y, rows["segment"])
    ax.set_xlabel(value_label)
    ax.set_title(f"Baseline by segment: {value_label}")
    legend_below(fig, *ax.get_legend_handles_labels())
    return fig


def ladder_quality(summary: pd.DataFrame):
    """Accuracy and macro-F1 per approach with 95 % bootstrap intervals, simplest at the top."""
    rows = summary.iloc[::-1].reset_index(drop=True)
    fig, ax = _figure(8, 0.55 * len(rows) + 1.5)
    y = np.arange(len(rows))
    for offset, metric, colour in (
        (0.15, "accuracy", OKABE_ITO[0]),
        (-0.15, "macro-F1", OKABE_ITO[1]),
    ):
        ax.errorbar(
            rows[metric],
            y + offset,
            xerr=[rows[metric] - rows[f"{metric} low"], rows[f"{metric} high"] - rows[metric]],
            fmt="o",
            color=colour,
            label=f"{metric}, 95 % CI",
        )
    ax.set_yticks(y, rows["approach"])
    ax.set_xlim(0, 1)
    ax.set_xlabel("score on the frozen test split (0-1)")
    ax.set_title("The ladder: quality of each approach")
    legend_below(fig, *ax.get_legend_handles_labels())
    return fig


def precision_coverage(curves: dict[str, pd.DataFrame], target: float):
    """Precision of the most confident share of tickets, for each approach."""
    fig, ax = _figure(8, 4)
    for k, (name, curve) in enumerate(curves.items()):
        ax.plot(
            100 * curve["coverage"],
            100 * curve["precision"],
            color=OKABE_ITO[k % len(OKABE_ITO)],
            label=name,
        )
    ax.axhline(
        100 * target,
        color="#555555",
        linestyle="--",
        label=f"target precision {100 * target:.0f} %",
    )
    ax.set_xlabel("tickets auto-routed, most confident first (%)")
    ax.set_ylabel("precision of the routed tickets (%)")
    ax.set_title("Coverage versus precision")
    legend_below(fig, *ax.get_legend_handles_labels())
    return fig


def learning_curves(curve: pd.DataFrame):
    """Macro-F1 by labelled examples per class (mean and range over seeds)."""
    fig, ax = _figure(8, 4)
    for k, (name, group) in enumerate(curve.groupby("approach")):
        stats_ = group.groupby("per_class")["macro_f1"].agg(["mean", "min", "max"])
        colour = OKABE_ITO[k % len(OKABE_ITO)]
        ax.plot(stats_.index, stats_["mean"], marker="o", color=colour, label=name)
        ax.fill_between(stats_.index, stats_["min"], stats_["max"], color=colour, alpha=0.15)
    plain_log_axis(ax)
    ticks = sorted(curve["per_class"].unique())
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.set_xlabel("labelled examples per class")
    ax.set_ylabel("macro-F1 on the test split (0-1)")
    ax.set_title("How many labels each approach needs")
    legend_below(fig, *ax.get_legend_handles_labels())
    return fig


def scorecard_heatmap(table: pd.DataFrame, dimensions: list[str]):
    """Sources by data-quality dimension, 0-100; grey where a dimension was not measured."""
    values = table[dimensions].astype(float).to_numpy()
    fig, ax = _figure(9, 0.38 * len(table) + 1.8)
    cmap = matplotlib.colormaps["cividis"].with_extremes(bad="#DDDDDD")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(dimensions)), dimensions, rotation=30, ha="right")
    ax.set_yticks(range(len(table)), table["source"], fontsize=9)
    ax.grid(False)
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(
                j,
                i,
                f"{v:.0f}",
                ha="center",
                va="center",
                fontsize=9,
                color="white" if v < 55 else "black",
            )
    fig.colorbar(image, ax=ax, label="score (0-100)")
    ax.set_title("Data-quality scorecard by source")
    return fig


def missingness_overview(profiles: pd.DataFrame, top: int = 25):
    """The columns with the largest share of missing values (nulls, blanks, placeholders)."""
    gaps = profiles[profiles["missing_share"] > 0]
    worst = gaps.sort_values("missing_share", ascending=False).head(top).iloc[::-1]
    fig, ax = _figure(8, 0.3 * len(worst) + 1.5)
    labels = worst["source"] + " / " + worst["column"]
    ax.barh(labels, 100 * worst["missing_share"], color=OKABE_ITO[0])
    ax.set_xlabel("missing values (% of rows)")
    ax.set_xlim(0, 100)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(f"Missingness: the {len(worst)} emptiest columns")
    return fig


def freshness_chart(freshness: pd.DataFrame):
    """Days since the newest record per source, against the refresh interval expected."""
    rows = freshness.assign(
        lag_days=pd.to_numeric(freshness["lag_days"], errors="coerce"),
        refresh_days=pd.to_numeric(freshness["refresh_days"], errors="coerce"),
        source=freshness["source"].astype(str),
    )
    rows = rows.dropna(subset=["lag_days"]).iloc[::-1]
    fig, ax = _figure(8, 0.35 * len(rows) + 1.5)
    y = np.arange(len(rows))
    colours = [OKABE_ITO[3] if r.stale else OKABE_ITO[2] for r in rows.itertuples()]
    ax.barh(y, rows["lag_days"], color=colours, label="days since newest record")
    known = rows["refresh_days"].notna().to_numpy()
    if known.any():
        ax.scatter(
            rows["refresh_days"].to_numpy()[known],
            y[known],
            marker="|",
            s=200,
            color="black",
            label="expected refresh interval",
        )
    ax.set_yticks(y, rows["source"])
    plain_log_axis(ax, scale="symlog", linthresh=1)
    ax.set_xlabel("days (log scale)")
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title("Freshness: stale sources in vermilion")
    legend_below(fig, *ax.get_legend_handles_labels())
    return fig


def personal_data_by_source(counts: pd.DataFrame):
    """Values holding personal data, by source and kind (stacked)."""
    pivot = counts.pivot_table(
        index="source", columns="kind", values="values", aggfunc="sum", fill_value=0
    )
    fig, ax = _figure(8, 0.35 * len(pivot) + 1.5)
    left = np.zeros(len(pivot))
    for k, kind in enumerate(pivot.columns):
        ax.barh(
            pivot.index, pivot[kind], left=left, color=OKABE_ITO[k % len(OKABE_ITO)], label=kind
        )
        left += pivot[kind].to_numpy()
    ax.set_xlabel("values holding personal data")
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title("Personal data by source (validated, counts only)")
    legend_below(fig, *ax.get_legend_handles_labels())
    return fig


def impact_series(
    series: pd.DataFrame,
    launch: pd.Timestamp,
    design: str,
    value_label: str,
    log_scale: bool,
):
    """The daily metric with the launch marked and the counterfactual: the control group
    moved by the treated group's usual gap (did), the pre-launch trend carried on (its), or the
    control arm (randomised). Days are dots; lines are 7-day means, so that the change is
    visible through the daily noise. Log-scale values are drawn back on the metric's scale."""
    fig, ax = _figure(10, 4)
    frame = series.sort_values("date").set_index("date")

    def back(values: pd.Series) -> pd.Series:
        return np.exp(values) if log_scale and design != "randomised" else values

    def weekly(values: pd.Series) -> pd.Series:
        return back(values.rolling(7, min_periods=3, center=True).mean())

    observed_label = {
        "did": "treated groups",
        "its": "observed",
        "randomised": "treated arm (daily median)",
    }[design]
    counter_label = {
        "did": "treated groups had they moved like the control groups",
        "its": "pre-launch trend carried on (no launch)",
        "randomised": "control arm (daily median)",
    }[design]
    ax.plot(
        frame.index,
        back(frame["observed"]),
        ".",
        color=OKABE_ITO[0],
        alpha=0.35,
        markersize=4,
        label=f"{observed_label}, each day",
    )
    ax.plot(
        frame.index,
        weekly(frame["observed"]),
        color=OKABE_ITO[0],
        linewidth=2,
        label=f"{observed_label}, 7-day mean",
    )
    if "control" in frame:
        ax.plot(
            frame.index,
            weekly(frame["control"]),
            color="#999999",
            linewidth=1.2,
            label="control groups, 7-day mean",
        )
    if "fitted" in frame:
        ax.plot(
            frame.index,
            back(frame["fitted"]),
            color=OKABE_ITO[2],
            linewidth=1.5,
            label="fitted, with the launch",
        )
    counter = frame["counterfactual"]
    ax.plot(
        frame.index,
        back(counter) if design == "its" else weekly(counter),
        color=OKABE_ITO[3],
        linestyle="--",
        linewidth=2,
        label=counter_label,
    )
    ax.axvline(launch, color="#000000", linestyle=":", linewidth=1.2, label="launch")
    if log_scale and design != "randomised":
        plain_log_axis(ax, "y")
    ax.set_xlabel("day of creation")
    ax.set_ylabel(value_label)
    ax.set_title("The metric by day, with the launch and what would have happened without it")
    legend_below(fig, *ax.get_legend_handles_labels())
    return fig


def before_after_distribution(
    before: np.ndarray, after: np.ndarray, names: tuple[str, str], unit: str, horizon: float
):
    """The durations of single cases before and after (log axis), capped at the horizon, with
    each median marked."""
    fig, ax = _figure(10, 3.8)
    values = np.concatenate([before, after])
    positive = values[values > 0]
    bins = np.logspace(np.log10(positive.min()), np.log10(positive.max()), 40)
    for data, name, colour in ((before, names[0], OKABE_ITO[5]), (after, names[1], OKABE_ITO[1])):
        data = data[data > 0]
        ax.hist(
            data,
            bins=bins,
            density=True,
            histtype="step",
            linewidth=2,
            color=colour,
            label=f"{name} ({len(data):,} cases)",
        )
        ax.axvline(
            np.median(data),
            color=colour,
            linestyle="--",
            label=f"median {name}: {np.median(data):.1f} {unit}",
        )
    plain_log_axis(ax)
    ax.set_xlabel(f"duration ({unit}, log scale; capped at {horizon:.0f})")
    ax.set_ylabel("density")
    ax.set_title("Single cases before and after")
    legend_below(fig, *ax.get_legend_handles_labels())
    return fig


def ranking_contributions(ranking: pd.DataFrame, weights: dict[str, float]):
    """Each candidate's total as the weighted contributions of its four criteria (stacked
    bars, best at the top); candidates held up by blocking findings are marked."""
    fig, ax = _figure(10, 0.6 * len(ranking) + 1.8)
    labels = [
        (f"{row.candidate} (blocked)" if row.blocked else row.candidate)
        for row in ranking.itertuples()
    ][::-1]
    left = np.zeros(len(ranking))
    for colour, criterion in zip(OKABE_ITO, weights, strict=False):
        width = (ranking[criterion] * weights[criterion]).to_numpy()[::-1]
        ax.barh(
            labels, width, left=left, color=colour, label=f"{criterion} ({weights[criterion]:.0%})"
        )
        left += width
    ax.set_xlim(0, 1)
    ax.set_xlabel("weighted score (0 to 1)")
    ax.set_title("Candidate use cases: what each criterion contributes")
    legend_below(fig, *ax.get_legend_handles_labels())
    return fig


def rates_with_intervals(table: pd.DataFrame, key: str, title: str, xlabel: str):
    """Accepted, edited and overridden shares per group (stacked), with the acceptance's
    interval as an error bar."""
    fig, ax = _figure(10, 0.55 * len(table) + 1.8)
    labels = table[key].astype(str).tolist()[::-1]
    left = np.zeros(len(table))
    for colour, action in zip(
        (OKABE_ITO[2], OKABE_ITO[1], OKABE_ITO[3]),
        ("accepted", "edited", "overridden"),
        strict=True,
    ):
        width = table[action].to_numpy()[::-1]
        ax.barh(labels, width, left=left, color=colour, label=action)
        left += width
    accepted = table["accepted"].to_numpy()[::-1]
    err = np.vstack(
        [
            accepted - table["accepted_low"].to_numpy()[::-1],
            table["accepted_high"].to_numpy()[::-1] - accepted,
        ]
    )
    ax.errorbar(
        accepted,
        labels,
        xerr=err,
        fmt="none",
        ecolor="#000000",
        capsize=3,
        label="95 % interval of acceptance",
    )
    ax.set_xlim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    legend_below(fig, *ax.get_legend_handles_labels())
    return fig


def weekly_acceptance(weekly: pd.DataFrame):
    """Acceptance per week and team since the launch."""
    fig, ax = _figure(10, 3.8)
    for colour, (group, rows) in zip(OKABE_ITO, weekly.groupby("group"), strict=False):
        ax.plot(rows["week"], rows["acceptance"], marker=".", color=colour, label=str(group))
    ax.set_ylim(0, 1)
    ax.set_xlabel("week")
    ax.set_ylabel("share of suggestions accepted")
    ax.set_title("Adoption over time")
    legend_below(fig, *ax.get_legend_handles_labels())
    return fig


def reliance_chart(table: pd.DataFrame):
    """Per team: how often correct suggestions are followed (AI reliance) and wrong ones
    rejected (self-reliance), with intervals; the ideal is both near 1."""
    fig, ax = _figure(8, 4.5)
    for colour, row in zip(OKABE_ITO, table.itertuples(), strict=False):
        ax.errorbar(
            row.ai_reliance,
            row.self_reliance,
            xerr=[
                [row.ai_reliance - row.ai_reliance_low],
                [row.ai_reliance_high - row.ai_reliance],
            ],
            yerr=[
                [row.self_reliance - row.self_reliance_low],
                [row.self_reliance_high - row.self_reliance],
            ],
            fmt="o",
            color=colour,
            capsize=3,
            label=str(row.group),
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("correct suggestions followed (AI reliance)")
    ax.set_ylabel("wrong suggestions rejected (self-reliance)")
    ax.set_title("Appropriate reliance: top right is calibrated trust")
    legend_below(fig, *ax.get_legend_handles_labels())
    return fig


def drift_by_week(windows: pd.DataFrame):
    """PSI per feature and week of the production window, with the conventional bands (0.1
    and 0.25); a flagged week is marked."""
    fig, ax = _figure(10, 4.2)
    features = sorted(windows["feature"].unique())
    for colour, feature in zip(OKABE_ITO, features, strict=False):
        part = windows[windows["feature"] == feature].sort_values("window")
        ax.plot(part["window"], part["psi"], marker="o", color=colour, label=feature)
        flagged = part[part["flagged"]]
        ax.scatter(flagged["window"], flagged["psi"], s=140, facecolors="none", edgecolors=colour)
    for edge, text, offset in ((0.1, "moderate (0.10)", -11), (0.25, "significant (0.25)", 3)):
        ax.axhline(edge, color="#555555", linestyle="--", linewidth=1)
        ax.annotate(
            text,
            (1, edge),
            xycoords=("axes fraction", "data"),
            xytext=(-4, offset),
            textcoords="offset points",
            fontsize=9,
            color="#555555",
            ha="right",
        )
    weeks = sorted(windows["window"].unique())
    ax.set_xticks(weeks, [pd.Timestamp(w).strftime("%d %b") for w in weeks])
    ax.set_ylabel("population stability index (PSI)")
    ax.set_xlabel("week starting (circled: flagged)")
    ax.set_title("Drift of the inputs and the prediction mix against training, by week")
    legend_below(fig, *ax.get_legend_handles_labels())
    return fig


def slice_changes(slices: pd.DataFrame, tolerance: float):
    """Challenger minus champion accuracy per slice, with the tolerance the gate allows."""
    table = slices[slices["judged"]].copy()
    table["name"] = table["slice"] + ": " + table["value"]
    fig, ax = _figure(10, 0.32 * len(table) + 1.8)
    colours = [OKABE_ITO[3] if r else OKABE_ITO[0] for r in table["regresses"]][::-1]
    ax.barh(table["name"][::-1], 100 * table["change"][::-1], color=colours)
    ax.axvline(
        -100 * tolerance,
        color="#555555",
        linestyle="--",
        linewidth=1,
        label=f"tolerance ({-100 * tolerance:.0f} points)",
    )
    ax.axvline(0, color="#000000", linewidth=0.8)
    ax.set_xlabel("challenger minus champion accuracy (percentage points)")
    ax.set_title("Does any slice lose ground? (red: a regression the gate refuses)")
    legend_below(fig, *ax.get_legend_handles_labels())
    return fig
