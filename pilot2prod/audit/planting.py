"""Plant known defects into a table, to measure an audit against planted truth.

:func:`plant` takes a table (your own export, or a public data set) and returns a copy with one
defect of each class it can carry, each in its own column, and the manifest of what was planted
where: the rule of the audit that should report it, the column and the number of rows. Run the
audit on the copy and compare its findings with the manifest (:func:`score`): recall per class,
and the findings the clean table did not have that no planted defect explains (false alarms).
``benchmarks/audit_recall.py`` does this across the real-data corpus; the tests do it on a few
tables.

Planting never changes the input: it works on a copy. Columns it needs and the table lacks (two
timestamps in order, a code of one shape) are added, named ``planted_*``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

#: The defect classes, by the rule that reports them.
CLASSES = (
    "spelling_variants",
    "near_duplicate_rows",
    "sentinel_values",
    "negative_values",
    "outliers",
    "time_order",
    "implausible_spans",
    "future_dates",
    "early_dates",
    "malformed_values",
    "missing_together",
    "personal_data",
)


@dataclass(frozen=True)
class Planted:
    """One planted defect: the rule that should report it, where, and how many rows."""

    rule: str
    column: str | None
    rows: int
    values: tuple = ()

    def as_dict(self) -> dict:
        return asdict(self)


def _numeric(frame: pd.DataFrame, used: set[str]) -> list[str]:
    out = []
    for c in frame.columns:
        s = frame[c]
        if c in used or pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            continue
        present = s.dropna()
        if len(present) >= 20 and present.nunique() >= 10 and present.min() >= 0:
            out.append(c)
    return out


def _categories(frame: pd.DataFrame, used: set[str]) -> list[str]:
    out = []
    for c in frame.columns:
        s = frame[c]
        if c in used or not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        present = s.dropna().astype(str)
        counts = present.value_counts()
        if (
            2 <= len(counts) <= 50
            and counts.iloc[0] >= 20
            and present.str.contains("[a-z]", regex=True).mean() > 0.9
            and not present.str.isnumeric().any()
        ):
            out.append(c)
    return out


def _rows(rng: np.random.Generator, candidates: pd.Index, share: float, minimum: int) -> pd.Index:
    k = min(len(candidates), max(minimum, int(round(share * len(candidates)))))
    return pd.Index(rng.choice(np.asarray(candidates), size=k, replace=False))


def plant(
    frame: pd.DataFrame,
    seed: int = 0,
    as_of: str = "2026-11-02",
    classes: tuple[str, ...] = CLASSES,
) -> tuple[pd.DataFrame, list[Planted]]:
    """A copy of ``frame`` with one defect of each class in ``classes`` that it can carry, and
    what was planted. Each defect gets its own column (a column already used is not reused)."""
    rng = np.random.default_rng(seed)
    out = frame.copy().reset_index(drop=True)
    n = len(out)
    planted: list[Planted] = []
    used: set[str] = set()
    now = pd.Timestamp(as_of)
    if n < 40:
        return out, planted

    touched: set = set()

    def take(candidates: pd.Index, share: float, minimum: int) -> pd.Index:
        """Rows for one planted defect, remembered so that near-duplicate copies are made of
        untouched rows (a copy of a planted row would plant that defect twice)."""
        rows = _rows(rng, candidates, share, minimum)
        touched.update(rows)
        return rows

    def few(usual: int) -> int:
        """How many rows break a rule the data suggests: ``usual``, but no more than the 2 %
        such a rule tolerates in a short table (one row in fewer than 150)."""
        return usual if n >= 150 else 1

    if "spelling_variants" in classes and (cats := _categories(out, used)):
        c = cats[0]
        top = out[c].dropna().astype(str).value_counts().index[0]
        variant = top.upper() if top.upper() != top else top.lower()
        if variant == top:
            variant = top + " "
        rows = take(out.index[out[c].astype(str) == top], 0.05, 3)
        out[c] = out[c].astype(object)
        out.loc[rows, c] = variant
        planted.append(Planted("spelling_variants", c, len(rows), (variant,)))
        used.add(c)

    numeric = _numeric(out, used)
    if "outliers" in classes and numeric:
        c = numeric.pop(0)
        s = out[c].dropna()
        q1, q3 = s.quantile([0.25, 0.75])
        spread = max(q3 - q1, abs(s.median()) * 0.1, 1.0)
        # Far beyond the fences on the raw and on the log scale: a column spanning decades
        # (a crime rate from 0.006 to 89) has a log fence far above its raw one.
        value = float(s.max() + 100 * spread) * 10
        positive = s[s > 0]
        if len(positive) >= 4:
            low, high = np.log(positive.quantile([0.25, 0.75]))
            value = max(value, float(np.exp(high + 6 * max(high - low, 1.0))))
        rows = take(s.index, 0.004, 3)
        out[c] = out[c].astype("float64")
        out.loc[rows, c] = value
        planted.append(Planted("outliers", c, len(rows), (value,)))
        used.add(c)
    if "sentinel_values" in classes and numeric:
        c = numeric.pop(0)
        s = out[c].dropna()
        value = 999 if s.max() < 300 else 9999999 if s.max() < 3_000_000 else None
        if value is not None:
            rows = take(s.index, 0.03, 6)
            out[c] = out[c].astype("float64")
            out.loc[rows, c] = value
            planted.append(Planted("sentinel_values", c, len(rows), (float(value),)))
            used.add(c)
    if "negative_values" in classes and numeric:
        c = numeric.pop(0)
        s = out[c].dropna()
        rows = take(s.index[s > 0], 0.01, few(2))
        out[c] = out[c].astype("float64")
        out.loc[rows, c] = -out.loc[rows, c]
        planted.append(Planted("negative_values", c, len(rows)))
        used.add(c)

    if {"time_order", "implausible_spans", "future_dates", "early_dates"} & set(classes):
        start = now - pd.Timedelta(days=400)
        created = start + pd.to_timedelta(rng.uniform(0, 360, n), unit="D")
        updated = created + pd.to_timedelta(rng.exponential(30, n), unit="h")
        created, updated = pd.Series(created).dt.floor("s"), pd.Series(updated).dt.floor("s")
        free = out.index
        if "time_order" in classes:
            # No more exceptions than a suggested rule tolerates (2 %), even in a short table.
            rows = take(free, 0.01, min(3, max(1, int(0.015 * n))))
            updated[rows] = created[rows] - pd.to_timedelta(rng.uniform(1, 48, len(rows)), "h")
            planted.append(Planted("time_order", "planted_updated_at", len(rows)))
            free = free.difference(rows)
        if "implausible_spans" in classes:  # years where most take hours
            rows = take(free, 0.005, few(3))
            updated[rows] = created[rows] + pd.to_timedelta(rng.uniform(3, 6, len(rows)), "D") * 365
            planted.append(Planted("implausible_spans", "planted_updated_at", len(rows)))
            free = free.difference(rows)
        if "future_dates" in classes:
            rows = take(free, 0.01, 3)
            created[rows] = now + pd.to_timedelta(rng.uniform(30, 400, len(rows)), unit="D")
            updated[rows] = created[rows] + pd.Timedelta(hours=1)
            planted.append(Planted("future_dates", "planted_created_at", len(rows)))
            free = free.difference(rows)
        if "early_dates" in classes:  # a system's default date among last year's records
            rows = take(free, 0.005, few(2))
            created[rows] = pd.Timestamp("1970-01-01") + pd.to_timedelta(
                rng.uniform(0, 3600, len(rows)), unit="s"
            ).floor("s")
            updated[rows] = created[rows] + pd.Timedelta(hours=1)
            planted.append(Planted("early_dates", "planted_created_at", len(rows)))
        out["planted_created_at"], out["planted_updated_at"] = created, updated
        used |= {"planted_created_at", "planted_updated_at"}

    if "malformed_values" in classes:
        codes = pd.Series([f"{i:05d}-{int(k):03d}" for i, k in enumerate(rng.integers(0, 999, n))])
        rows = take(out.index, 0.01, few(3))
        codes[rows] = [c.replace("-", "") + "/x" for c in codes[rows]]
        out["planted_order_code"] = codes
        planted.append(Planted("malformed_values", "planted_order_code", len(rows)))
        used.add("planted_order_code")

    if "missing_together" in classes:
        full = [c for c in out.columns if c not in used and out[c].notna().all()]
        if len(full) >= 2:
            a, b = full[:2]
            rows = take(out.index, 0.1, 5)
            out[a], out[b] = out[a].astype(object), out[b].astype(object)
            out.loc[rows, [a, b]] = None
            planted.append(Planted("missing_together", a, len(rows), (a, b)))
            used |= {a, b}

    if "personal_data" in classes:
        notes = pd.Series(["no contact details given"] * n, dtype=object)
        rows = take(out.index, 0.05, 5)
        notes[rows] = [f"please write to jo.doe{i}@example-mail.com" for i in range(len(rows))]
        out["planted_notes"] = notes
        planted.append(Planted("personal_data", "planted_notes", len(rows)))
        used.add("planted_notes")

    if "near_duplicate_rows" in classes:
        text = [
            c
            for c in out.columns
            if out[c].dtype == object and out[c].astype(str).str.contains("[a-z]").all()
        ]
        if text:
            c = text[0]
            rows = _rows(rng, out.index.difference(pd.Index(list(touched))), 0.0, 3)
            copies = out.loc[rows].copy()
            copies[c] = copies[c].astype(str).str.upper() + " "
            out = pd.concat([out, copies], ignore_index=True)
            # (the changed column also gains spelling variants: explained, not a false alarm)
            planted.append(Planted("near_duplicate_rows", None, len(rows), (c,)))
    return out, planted


@dataclass(frozen=True)
class Score:
    """How an audit did on one planted table."""

    found: dict[str, bool]  # planted class -> reported on its column
    false_alarms: list[tuple[str, str | None]]  # (rule, column) new and explained by nothing
    outliers_exact: bool | None  # the reported worst values are the planted ones only


def _findings(audit) -> set[tuple[str, str | None]]:  # noqa: ANN001
    return {(f.rule, f.column) for f in audit.findings}


def score(clean_audit, planted_audit, planted: list[Planted]) -> Score:  # noqa: ANN001
    """Compare an audit of the planted copy with the manifest and with the clean table's
    audit (whose findings are the table's own, real defects)."""
    got = _findings(planted_audit)
    found = {}
    explained: set[tuple[str, str | None]] = set()
    for p in planted:
        if p.rule == "personal_data":
            hit = p.column in planted_audit.personal_data
        elif p.rule == "sentinel_values":  # the planted value, not another one of the column
            sentinels = (planted_audit.details or {}).get("sentinels", {})
            hit = p.values[0] in sentinels.get(p.column, [])
        elif p.column is None:
            hit = any(rule == p.rule for rule, _ in got)
        else:
            columns = set(p.values) if p.rule == "missing_together" else {p.column}
            hit = any(rule == p.rule and col in columns for rule, col in got)
        found[p.rule] = hit
        explained |= {(r, c) for r, c in got if c == p.column or c in p.values}
    before = _findings(clean_audit)
    new = sorted(
        (r, c)
        for r, c in got - before - explained
        # planted rows and columns also move the table's own statistics
        if r not in {"missing_values", "missing_together", "constant", "date_formats"}
        and not (c or "").startswith("planted_")
    )
    exact = None
    outlier = next((p for p in planted if p.rule == "outliers"), None)
    if outlier is not None and planted_audit.validity is not None:
        row = planted_audit.validity.set_index("column").loc[outlier.column]
        worst = [float(x) for x in (row.get("worst") or [])]
        exact = bool(worst) and all(np.isclose(w, outlier.values[0]) for w in worst)
    return Score(found, new, exact)
