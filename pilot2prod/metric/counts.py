"""What the engine sends back for Chapter 1: counts, never rows.

Kaplan-Meier needs only the number of completed and of open events per duration; bucketing
durations finely (0.1 %) makes that a few thousand rows whatever the size of the table. The
guardrails need counts and sums, the cluster design effect each cluster's count, sum and sum of
squares. Each function is one GROUP BY in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from pilot2prod.metric.events import UNIT_SECONDS, Events, _bucket, bucket_value


@dataclass
class Durations:
    """Durations as counts: one row per (group, duration, observed) with the number of events.
    ``duration`` is in the chapter's unit; ``observed`` is False for events still open."""

    frame: pd.DataFrame  # columns: group columns..., duration, observed, n

    def subset(self, **where: object) -> Durations:
        f = self.frame
        for column, value in where.items():
            f = f[f[column] == value]
        return Durations(f)

    @property
    def events(self) -> int:
        return int(self.frame["n"].sum())

    @property
    def open(self) -> int:
        return int(self.frame.loc[~self.frame["observed"], "n"].sum())

    @property
    def completed(self) -> int:
        return self.events - self.open

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f = self.frame
        return (
            f["duration"].to_numpy(dtype=float),
            f["observed"].to_numpy(dtype=bool),
            f["n"].to_numpy(dtype=float),
        )

    def closed(self) -> tuple[np.ndarray, np.ndarray]:
        """Completed durations and their counts."""
        f = self.frame[self.frame["observed"]]
        return f["duration"].to_numpy(dtype=float), f["n"].to_numpy(dtype=float)


def duration_counts(events: Events, table: ir.Table, by: dict[str, ir.Value]) -> Durations:
    """Events of ``table`` counted per group (``by``), duration bucket and open/closed."""
    seconds = table.duration * UNIT_SECONDS[events.unit]
    grouped = table.group_by(_k=_bucket(seconds), observed=table.observed, **by).aggregate(
        n=table.count()
    )
    frame = grouped.execute()
    frame["duration"] = bucket_value(frame.pop("_k").to_numpy()) / UNIT_SECONDS[events.unit]
    frame["observed"] = frame["observed"].astype(bool)
    frame["n"] = frame["n"].astype(np.int64)
    # Engines return groups in any order; a fixed order makes the bootstrap reproducible.
    frame = frame.sort_values([*by, "duration", "observed"], kind="stable", ignore_index=True)
    return Durations(frame)


def window_durations(events: Events, weeks: int) -> Durations:
    """The baseline window, by segment."""
    window = events.window(weeks)
    return duration_counts(events, window, {"segment": window.segment})


def daily_durations(events: Events) -> Durations:
    """Every event by the day (UTC) it started: weeks, weekdays and months are built from it."""
    t = events.table
    counts = duration_counts(events, t, {"day": (t.start_s / 86400).floor().cast("int64")})
    counts.frame["day"] = pd.Timestamp("1970-01-01") + pd.to_timedelta(counts.frame["day"], "D")
    return counts


@dataclass
class GuardrailCounts:
    """Per segment, over the completed events of the baseline window."""

    frame: pd.DataFrame  # segment, closed, reopen_n, reopened, csat_n, csat_sum, csat_squares

    def total(self) -> pd.Series:
        return self.frame.drop(columns="segment").sum()


def guardrail_counts(events: Events, weeks: int) -> GuardrailCounts:
    window = events.window(weeks)
    closed = window.filter(window.observed)
    answered = closed.csat.notnull()
    frame = (
        closed.group_by("segment")
        .aggregate(
            closed=closed.count(),
            reopen_n=closed.reopened.notnull().sum(),
            reopened=closed.reopened.sum(),
            csat_n=answered.sum(),
            csat_sum=closed.csat.sum(),
            csat_squares=(closed.csat * closed.csat).sum(),
        )
        .execute()
        .fillna(0)
    )
    return GuardrailCounts(frame)


def cluster_sums(events: Events, weeks: int, outcome: str, sla: float) -> pd.DataFrame:
    """Per cluster (and segment) of the window's completed events: count, sum and sum of squares
    of the outcome (log duration, or 1 when within ``sla``), and how many clusters the window has
    in all."""
    window = events.window(weeks)
    closed = window.filter(window.observed, window.duration > 0)
    value = closed.duration.ln() if outcome == "log" else (closed.duration <= sla).cast("float64")
    return (
        closed.group_by(["cluster", "segment"])
        .aggregate(n=closed.count(), total=value.sum(), squares=(value * value).sum())
        .execute()
    )


def window_clusters(events: Events, weeks: int) -> int:
    window = events.window(weeks)
    return int(window.aggregate(n=window.cluster.nunique()).execute().iloc[0]["n"])
