"""What the audit reports: findings with a severity, scores per dimension, and the rules that set
severities, kept as named data rather than numbers scattered through the checks.

Scores are 0-100 per dimension (completeness, uniqueness, validity, consistency, timeliness,
accessibility, privacy); a dimension that could not be measured has no score. "Blocking"
findings stop the gate and are listed first, in plain language.

Data Readiness Levels follow Lawrence (2017): band C is about access (the data exists, can be
read, its owner and privacy constraints are known), band B about faithfulness (its gaps,
duplicates and invalid values are measured and acceptable), band A about fitness for one task,
which no generic audit can certify (Chapter 3 checks it for a decision).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

SEVERITY_ORDER = {"blocking": 0, "major": 1, "minor": 2, "info": 3}
DIMENSIONS = (
    "completeness",
    "uniqueness",
    "validity",
    "consistency",
    "timeliness",
    "accessibility",
    "privacy",
)


@dataclass(frozen=True)
class Thresholds:
    """When a measurement becomes a finding, and how severe it is."""

    #: Share of a column missing: minor from 5 %, major from 20 %; half empty blocks only a
    #: column the analysis requires (a sparse survey score is major, not a stop).
    missing_minor: float = 0.05
    missing_major: float = 0.20
    missing_blocking_required: float = 0.50
    #: Exact duplicate rows: major from 1 % of rows, minor below.
    duplicate_rows_major: float = 0.01
    #: A key reused by other rows: blocking from 1 % of rows, major below.
    duplicate_keys_blocking: float = 0.01
    #: A source older than its refresh interval is major; older than this many intervals, it
    #: blocks.
    stale_blocking_intervals: float = 2.0
    #: Rows breaking a cross-field or cross-source rule: minor, major from 1 %, blocking from 5 %.
    consistency_major: float = 0.01
    consistency_blocking: float = 0.05
    #: Far-out values are reported when at least this share of rows is affected. Zero: the
    #: fences (3 IQR, on the log scale for skewed non-negative columns) are already far enough
    #: out that a handful of values beyond them is worth a look, with the worst ones named.
    outliers_reported: float = 0.0


THRESHOLDS = Thresholds()


def missing_severity(share: float, required: bool, t: Thresholds = THRESHOLDS) -> str | None:
    if share >= t.missing_blocking_required and required:
        return "blocking"
    if share >= t.missing_major:
        return "major"
    if share >= t.missing_minor:
        return "minor"
    return None


def duplicate_rows_severity(share: float, t: Thresholds = THRESHOLDS) -> str:
    return "major" if share >= t.duplicate_rows_major else "minor"


def duplicate_keys_severity(share: float, t: Thresholds = THRESHOLDS) -> str:
    return "blocking" if share >= t.duplicate_keys_blocking else "major"


def staleness_severity(lag_days: float, refresh_days: float, t: Thresholds = THRESHOLDS) -> str:
    return "blocking" if lag_days > t.stale_blocking_intervals * refresh_days else "major"


def consistency_severity(share: float, t: Thresholds = THRESHOLDS) -> str:
    if share >= t.consistency_blocking:
        return "blocking"
    return "major" if share >= t.consistency_major else "minor"


def timeliness_score(lag_days: float | None, refresh_days: float | None) -> float | None:
    """100 while the newest record is within the refresh interval, falling as it ages."""
    if lag_days is None or refresh_days is None:
        return None
    return 100 * min(1.0, refresh_days / max(lag_days, 1e-9))


@dataclass(frozen=True)
class Finding:
    """One thing the audit found in one source, in a sentence a data owner can act on."""

    source: str
    dimension: str
    severity: str
    message: str
    column: str | None = None
    value: float | None = None
    #: Which rule found it (``outliers``, ``sentinel_values``, ``personal_data``...): what the
    #: planted-defect benchmark and the tests match on instead of the wording.
    rule: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Check:
    """What one check returns: its findings, the scores it sets, the details it measured."""

    findings: list[Finding] = field(default_factory=list)
    scores: dict[str, float | None] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class SourceAudit:
    name: str
    rows: int | None = None
    columns: int | None = None
    scores: dict[str, float | None] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    profile: pd.DataFrame | None = None
    validity: pd.DataFrame | None = None
    personal_data: dict[str, dict] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, check: Check) -> None:
        self.findings += check.findings
        self.scores.update(check.scores)
        self.details.update(check.details)

    @property
    def band(self) -> str:
        """Lawrence's band reached: below C, C or B (A needs a task-specific check)."""
        if self.scores.get("accessibility", 0) == 0:
            return "below C"
        blocking = {f.dimension for f in self.findings if f.severity == "blocking"}
        if blocking & {"accessibility", "privacy"}:
            return "below C"
        if blocking:
            return "C"
        return "B"
