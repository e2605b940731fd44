"""What production needs watched: the prediction log, the data contract on live inputs, the
service level objectives, the alert rules with their owners, the on-call runbook and the cost.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pilot2prod.errors import DataSourceError

#: The fields every line of the prediction log carries (see pilot2prod.production.service).
LOG_FIELDS = (
    "time",
    "id",
    "model_version",
    "input_sha256",
    "prediction",
    "confidence",
    "latency_ms",
    "arm",
    "acted",
)


@dataclass(frozen=True)
class PredictionLog:
    frame: pd.DataFrame  # one row per decision, LOG_FIELDS as columns
    lines: int
    corrupt: int  # lines that are not JSON objects with the fields (skipped and counted)

    def sentence(self) -> str:
        text = f"{len(self.frame):,} decisions read from {self.lines:,} lines"
        if self.corrupt:
            text += f"; {self.corrupt:,} corrupt line(s) skipped"
        return text + "."


def read_prediction_log(path: str | Path, parameter: str = "prediction_log_path") -> PredictionLog:
    """Read a JSON Lines prediction log; lines that are not complete records are skipped and
    counted (a service killed mid-write leaves half a line)."""
    path = Path(path)
    if not path.is_file():
        raise DataSourceError(f"{parameter}: no prediction log at '{path.name}'; check the path.")
    rows, lines, corrupt = [], 0, 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            lines += 1
            try:
                record = json.loads(line)
            except ValueError:
                corrupt += 1
                continue
            if not isinstance(record, dict) or any(f not in record for f in LOG_FIELDS):
                corrupt += 1
                continue
            rows.append({f: record[f] for f in LOG_FIELDS})
    frame = pd.DataFrame(rows, columns=list(LOG_FIELDS))
    frame["time"] = pd.to_datetime(frame["time"], errors="coerce", utc=True)
    for column in ("confidence", "latency_ms"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    bad = frame["time"].isna()
    corrupt += int(bad.sum())
    return PredictionLog(frame[~bad].reset_index(drop=True), lines, corrupt)


# --------------------------------------------------------------------------- data contract
@dataclass(frozen=True)
class ContractCheck:
    rows: int
    failures: int
    table: pd.DataFrame  # column, check, failures: counts only, never the failing values
    checked: list[str]  # the contract's columns the production inputs carry
    unchecked: list[str]  # the contract's columns a live input does not have (yet)

    def sentence(self) -> str:
        scope = (
            f" ({len(self.checked)} of the contract's columns; the other {len(self.unchecked)} "
            "arrive later in a ticket's life)"
            if self.unchecked
            else ""
        )
        if not self.failures:
            return f"All {self.rows:,} production rows pass the data contract{scope}."
        worst = self.table.iloc[0]
        return (
            f"{self.failures:,} value(s) break the data contract{scope}, most in "
            f"'{worst['column']}' ({worst['check']}, {int(worst['failures']):,})."
        )


def check_contract(frame: pd.DataFrame, schema: Any) -> ContractCheck:
    """Validate ``frame`` (text values, as read) against the contract. Only the contract's
    columns the production inputs carry are checked (a live ticket has no resolution time
    yet); pandera's messages quote the failing values, so only counts are kept."""
    from pilot2prod.lazy import import_pandera

    pa = import_pandera()
    present = [c for c in schema.columns if c in frame.columns]
    missing = [c for c in schema.columns if c not in frame.columns]
    if not present:
        return ContractCheck(len(frame), 0, _empty_failures(), present, missing)
    sub = schema.select_columns(present)
    data = frame[present].copy()
    try:
        sub.validate(data, lazy=True)
        return ContractCheck(len(frame), 0, _empty_failures(), present, missing)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        counts = (
            cases.assign(column=cases["column"].astype("string").fillna("(table)"))
            .groupby(["column", "check"], dropna=False)
            .size()
            .rename("failures")
            .reset_index()
            .sort_values("failures", ascending=False, kind="stable")
            .reset_index(drop=True)
        )
        counts["check"] = counts["check"].astype(str).map(_masked_check)
        return ContractCheck(len(frame), int(counts["failures"].sum()), counts, present, missing)


def _masked_check(text: str) -> str:
    # A check's own text names allowed spellings or a pattern, never the failing value; a
    # dtype coercion failure does not, either. Long allow-lists are cut for the table.
    return text if len(text) <= 80 else text[:77] + "..."


def _empty_failures() -> pd.DataFrame:
    return pd.DataFrame({"column": [], "check": [], "failures": []})


# --------------------------------------------------------------------------- service levels
@dataclass(frozen=True)
class Objectives:
    latency_p95_ms: float  # per request, measured at the service
    error_rate: float  # share of requests answered 5xx
    freshness_hours: float  # the newest decision may not be older than this (service alive)
    cost_per_1000: float  # currency units per 1,000 decisions; 0 for none
    currency: str = "EUR"


def service_levels(
    log: pd.DataFrame,
    errors: int,
    requests: int,
    objectives: Objectives,
    now: pd.Timestamp,
    cost_per_1000: float | None = None,
) -> pd.DataFrame:
    """Each objective with what was measured and whether it holds (cost only when both a
    budget and a measured cost are given)."""
    latency = float(np.percentile(log["latency_ms"], 95)) if len(log) else math.nan
    newest = log["time"].max() if len(log) else pd.NaT
    age = (now - newest).total_seconds() / 3600 if pd.notna(newest) else math.inf
    rate = errors / requests if requests else 0.0
    rows = [
        (
            "latency p95",
            f"{latency:.1f} ms",
            f"<= {objectives.latency_p95_ms:g} ms",
            latency <= objectives.latency_p95_ms,
        ),
        (
            "error rate",
            f"{rate:.2%}",
            f"<= {objectives.error_rate:.2%}",
            rate <= objectives.error_rate,
        ),
        (
            "freshness",
            f"{age:.1f} h since the last decision",
            f"<= {objectives.freshness_hours:g} h",
            age <= objectives.freshness_hours,
        ),
    ]
    if objectives.cost_per_1000 and cost_per_1000 is not None:
        rows.append(
            (
                "cost per 1,000",
                f"{money(cost_per_1000)} {objectives.currency}",
                f"<= {money(objectives.cost_per_1000)} {objectives.currency}",
                cost_per_1000 <= objectives.cost_per_1000,
            )
        )
    return pd.DataFrame(rows, columns=["objective", "measured", "target", "holds"])


# --------------------------------------------------------------------------- cost
@dataclass(frozen=True)
class Cost:
    per_1000: float
    compute_per_1000: float
    tokens_per_1000: float
    monthly: float
    monthly_volume: int
    currency: str

    def sentence(self) -> str:
        tokens = (
            f" ({money(self.compute_per_1000)} compute, {money(self.tokens_per_1000)} tokens)"
            if self.tokens_per_1000
            else ""
        )
        return (
            f"{money(self.per_1000)} {self.currency} per 1,000 predictions{tokens}; at "
            f"{self.monthly_volume:,} a month, {money(self.monthly)} {self.currency} a month."
        )


def money(value: float) -> str:
    """Amounts as people read them: cents for sums, two significant digits for fractions of a
    cent (a classifier's cost per 1,000 predictions is often that small)."""
    if value == 0:
        return "0"
    if abs(value) >= 0.01:
        return f"{value:,.2f}"
    return f"{value:.2g}"


def cost(
    seconds_per_prediction: float,
    price_per_hour: float,
    monthly_volume: int,
    currency: str,
    tokens_per_prediction: float = 0.0,
    price_per_1000_tokens: float = 0.0,
    utilisation: float = 0.5,
) -> Cost:
    """Compute cost from measured seconds per prediction at a machine's hourly price (divided
    by the share of the machine a service really keeps busy), plus tokens where an LLM rung
    answers; and the monthly projection at ``monthly_volume``."""
    compute = seconds_per_prediction * 1000 / 3600 * price_per_hour / max(utilisation, 1e-6)
    tokens = tokens_per_prediction * price_per_1000_tokens  # per 1,000 predictions: x1000/1000
    per_1000 = compute + tokens
    return Cost(
        per_1000, compute, tokens, per_1000 * monthly_volume / 1000, monthly_volume, currency
    )


# --------------------------------------------------------------------------- alerts, runbook
@dataclass(frozen=True)
class Alert:
    name: str
    condition: str
    severity: str  # page (wake someone) or ticket (next working day)
    owner: str
    check: str  # what the person paged looks at first
    action: str  # what they do


def alert_rules(objectives: Objectives, owners: dict[str, str], model: str) -> list[Alert]:
    """The rules a service like this needs, each with an owner and its runbook lines.
    ``owners``: role -> person or team (``service``, ``model``, ``data``, ``business``)."""

    def who(role: str) -> str:
        return owners.get(role) or owners.get("service") or "(no owner named)"

    o = objectives
    rules = [
        Alert(
            "Service down",
            f"/healthz fails for 2 minutes, or no decision for {o.freshness_hours:g} h in "
            "working hours",
            "page",
            who("service"),
            "The service's process and its last log lines; the registry is reachable.",
            "Restart the service; if it will not load the champion, roll back (below).",
        ),
        Alert(
            "Latency over budget",
            f"p95 latency above {o.latency_p95_ms:g} ms over 15 minutes",
            "page",
            who("service"),
            "Request volume and batch sizes on /metrics; CPU of the host.",
            "Scale out or cap batch size; if a new version caused it, roll back.",
        ),
        Alert(
            "Errors",
            f"more than {o.error_rate:.1%} of requests answered 5xx over 15 minutes",
            "page",
            who("service"),
            "The error counter on /metrics and the service's log.",
            "Turn the kill switch on (tickets go to manual triage), then investigate.",
        ),
        Alert(
            "Input drift",
            "any feature's PSI at or above 0.25 in a week (0.10-0.25: a ticket for review)",
            "ticket",
            who("model"),
            "The drift table by feature and week; what changed upstream (a new channel, form).",
            "Label a sample of the new inputs; retrain a challenger and put it through the gate.",
        ),
        Alert(
            "Prediction mix shift",
            "the share of any predicted category moves by PSI >= 0.25 against training",
            "ticket",
            who("model"),
            "Which categories grew; a sample of those tickets read by a front-line expert.",
            "If the model is wrong on them, switch to shadow mode until a challenger passes.",
        ),
        Alert(
            "Contract broken",
            "any production row breaks the data contract",
            "ticket",
            who("data"),
            "The contract check's table (column and rule, counts only).",
            "Ask the source's owner; the model keeps serving only if the column is unused.",
        ),
        Alert(
            "Cost over budget",
            f"cost per 1,000 above {o.cost_per_1000:g} {o.currency}"
            if o.cost_per_1000
            else "monthly cost above the agreed budget",
            "ticket",
            who("business"),
            "Volume and tokens per request this month against the projection.",
            "Lower the LLM rung's share or batch the calls; agree a new budget.",
        ),
    ]
    return rules


def runbook(
    rules: list[Alert], model: str, registry_uri: str, champion: int, previous: int | None
) -> str:
    """The on-call page (Markdown): who is paged for what, what to check, how to roll back."""
    lines = [
        f"# On-call runbook: {model}",
        "",
        "## Alerts",
        "",
        "| Alert | When | Severity | Owner | First check | Action |",
        "|---|---|---|---|---|---|",
    ]
    for r in rules:
        cells = [r.name, r.condition, r.severity, r.owner, r.check, r.action]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    lines += [
        "",
        "## Kill switch (no restart)",
        "",
        'Write `{"kill_switch": true}` into the service\'s flag file: every request is answered '
        "`manual` (no model decision) from the next request on. Set it back to `false` to resume.",
        "",
        "## Roll back",
        "",
        f"The champion is version {champion}."
        + (
            f" The previous version is {previous}."
            if previous
            else " No earlier version is registered: the kill switch is the way back."
        ),
        "",
        "```",
        f"pilot2prod model promote --registry '{_shown_uri(registry_uri)}' --name {model} "
        f"--version {previous if previous else '<version>'}",
        "```",
        "",
        "Then restart the service (it loads the champion at start) and check `/healthz` names "
        "the version.",
    ]
    return "\n".join(lines) + "\n"


def _shown_uri(uri: str) -> str:
    # A runbook lives on a wiki: a local file's full path says nothing there. A local registry
    # is named by its folder (the CLI finds mlflow.db in it), relative to the run's folder.
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///")).parent.name or "."
    return uri
