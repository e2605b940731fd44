"""Chapter 1's parameters, declared once (the notebook's parameters cell is derived from this).

Defaults are neutral: the data to read and its start and end columns must be named; optional
columns are off unless given; ``as_of`` and ``unit`` come from the data. The sample company's
settings live in ``engagements/acme.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pilot2prod import params
from pilot2prod.errors import ParameterError
from pilot2prod.params import check_date, param

METRICS = ("median", "percentile", "sla_share")
UNITS = ("", "minutes", "hours", "days")


@dataclass(frozen=True)
class Parameters(params.Parameters):
    """Parameters of ``notebooks/01_success_metric.ipynb``."""

    notebook: ClassVar[str] = "01_success_metric"

    events_path: str = param(
        "",
        "events, one row per ticket (case, order...): a file, file#sheet, a database URL#table, "
        "spark:master#table or inventory.yaml#source",
        path="source",
    )
    id_column: str = param("", 'column with a unique id per event; "" if every row is one event')
    start_column: str = param("", "column with the start timestamp")
    end_column: str = param("", "column with the end timestamp; empty while the event is open")
    segment_column: str = param("", 'column to break the baseline down by; "" for none')
    focus_segment: str = param("", 'one value of segment_column the metric is about; "" for all')
    metric: str = param("median", "median, percentile or sla_share", choices=METRICS)
    percentile: float = param(90.0, "which percentile when metric is percentile (0-100)")
    sla: float = param(24.0, "the service-level limit in `unit` when metric is sla_share")
    unit: str = param(
        "", 'minutes, hours or days; "" to choose from the typical duration', choices=UNITS
    )
    as_of: str = param(
        "", 'read the data as it stood on this date; "" for the newest timestamp in the data'
    )
    baseline_weeks: int = param(8, "length of the baseline window that ends at as_of, in weeks")
    target_change: float = param(
        -0.2, "relative change to aim for: -0.2 is 20 % faster, 0.1 is 10 % more within the SLA"
    )
    alpha: float = param(0.05, "significance level of the later comparison (two-sided)")
    power: float = param(0.8, "chance of detecting the target change if it is real")
    randomisation_unit: str = param(
        "", 'column to randomise by cluster (e.g. agent_id); "" to randomise each event'
    )
    reopened_column: str = param("", '0/1 or yes/no column for the reopen guardrail; "" for none')
    csat_column: str = param("", 'numeric satisfaction score column (sparse is fine); "" for none')
    reopen_tolerance_pp: float = param(
        1.0, "guardrail: allowed rise of the reopen rate, percentage points"
    )
    csat_tolerance: float = param(0.1, "guardrail: allowed drop of the mean CSAT score")
    timestamp_format: str = param(
        "", 'strftime format of the timestamps, e.g. %d/%m/%Y %H:%M; "" to read them from the data'
    )
    drop_unparseable: bool = param(
        False, "leave out rows whose timestamps cannot be read (they are counted)"
    )
    n_bootstrap: int = param(2000, "bootstrap resamples for confidence intervals")
    seed: int = param(7, "random seed for the bootstrap")
    output_dir: str = param(
        "",
        'folder for results.json and metric_spec.yaml; "" for a new folder under runs/',
        path="output",
    )

    def check(self) -> None:
        for name in ("events_path", "start_column", "end_column"):
            if not getattr(self, name):
                example = {
                    "events_path": "exports/tickets.csv",
                    "start_column": "created_at",
                    "end_column": "resolved_at",
                }[name]
                raise ParameterError(f"Parameter {name} is empty; give it, e.g. {name}={example}.")
        if not 0 < self.percentile < 100:
            raise ParameterError(
                f"Parameter percentile is {self.percentile}; use a value "
                "between 0 and 100, e.g. 90."
            )
        if self.sla <= 0:
            raise ParameterError(
                f"Parameter sla is {self.sla}; use a positive duration in {self.unit or 'hours'}."
            )
        if self.metric == "sla_share" and not self.unit:
            raise ParameterError(
                "Parameter unit is empty, but the SLA is a duration; set unit (minutes, hours or "
                "days) so that sla is read in it."
            )
        if self.baseline_weeks < 1:
            raise ParameterError("Parameter baseline_weeks must be at least 1 (e.g. 8).")
        if not 0 < self.alpha < 0.5:
            raise ParameterError(f"Parameter alpha is {self.alpha}; use e.g. 0.05.")
        if not 0.5 <= self.power < 1:
            raise ParameterError(f"Parameter power is {self.power}; use e.g. 0.8.")
        if self.n_bootstrap < 200:
            raise ParameterError("Parameter n_bootstrap must be at least 200 (e.g. 2000).")
        if self.target_change == 0 or self.target_change <= -1:
            raise ParameterError(
                f"Parameter target_change is {self.target_change}; give the relative change to "
                "aim for, e.g. -0.2 for 20 % lower durations or 0.1 for a 10 % higher share."
            )
        if self.lower_is_better and self.target_change > 0:
            raise ParameterError(
                f"Parameter target_change is {self.target_change}, but a lower {self.metric} "
                "is better; use a negative change such as -0.2."
            )
        if not self.lower_is_better and self.target_change < 0:
            raise ParameterError(
                f"Parameter target_change is {self.target_change}, but a higher share within "
                "the SLA is better; use a positive change such as 0.1."
            )
        check_date("as_of", self.as_of, "2026-03-02", "the newest timestamp in the data")

    @property
    def lower_is_better(self) -> bool:
        return self.metric != "sla_share"

    @property
    def quantile(self) -> float | None:
        if self.metric == "median":
            return 0.5
        if self.metric == "percentile":
            return self.percentile / 100.0
        return None

    def metric_label(self, unit: str) -> str:
        if self.metric == "median":
            return "median resolution time"
        if self.metric == "percentile":
            return f"p{self.percentile:g} resolution time"
        short = {"minutes": "min", "hours": "h", "days": "d"}[unit]
        return f"share resolved within {self.sla:g} {short}"
