"""The impact notebook's parameters, declared once (the notebook's parameters cell is derived
from this).

The metric is Chapter 1's: give its ``metric_spec.yaml`` (``pilot2prod playbook`` does) or the
same fields as parameters. Defaults are neutral: the data, the launch date and, without a metric
spec, the columns and the target must be named; the design is chosen from what the data
supports. The sample company's settings live in ``engagements/acme.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pilot2prod import params
from pilot2prod.errors import ParameterError
from pilot2prod.params import check_date, param

DESIGNS = ("auto", "randomised", "did", "its")
METRICS = ("", "median", "percentile", "sla_share")
UNITS = ("", "minutes", "hours", "days")


def split_list(text: str) -> list[str]:
    """``"Billing, Logistics"`` -> ``["Billing", "Logistics"]`` (empty items dropped)."""
    return [item.strip() for item in text.split(",") if item.strip()]


@dataclass(frozen=True)
class Parameters(params.Parameters):
    """Parameters of ``notebooks/06_impact.ipynb``."""

    notebook: ClassVar[str] = "06_impact"

    events_path: str = param(
        "",
        "events before and after the launch, one row per ticket (case, order...): a file, "
        "file#sheet, a database URL#table, spark:master#table or inventory.yaml#source",
        path="source",
    )
    metric_spec_path: str = param(
        "",
        'metric_spec.yaml from the success-metric notebook; "" to give the metric below',
        path="file",
    )
    launch_date: str = param("", "the day the new way of working went live, e.g. 2026-03-02")
    design: str = param(
        "auto",
        "randomised (a treatment column), did (treated against control groups), its (one "
        "series before and after) or auto: the strongest the parameters support",
        choices=DESIGNS,
    )
    id_column: str = param("", 'column with a unique id per event; "" from the metric spec')
    start_column: str = param("", 'column with the start timestamp; "" from the metric spec')
    end_column: str = param("", 'column with the end timestamp; "" from the metric spec')
    metric: str = param(
        "",
        'median, percentile or sla_share; "" from the metric spec (median without one)',
        choices=METRICS,
    )
    percentile: float = param(0.0, "which percentile for metric percentile; 0 from the spec (90)")
    sla: float = param(
        0.0,
        "service-level limit in `unit`: the metric for sla_share, else also report the share "
        "within it; 0 from the metric spec (none without one)",
    )
    unit: str = param(
        "", 'minutes, hours or days; "" from the metric spec or the data', choices=UNITS
    )
    target_change: float = param(
        0.0,
        "the relative change aimed for (-0.2: 20 % faster); 0 to take it from the metric spec",
    )
    treatment_column: str = param(
        "", 'randomised design: the column that says which arm each event was in; "" for none'
    )
    control_arm: str = param(
        "", 'the value of treatment_column that marks the control arm; "" for 0/false/control'
    )
    treated_share: float = param(
        0.5, "randomised design: the share of events assigned to the treated arm"
    )
    group_column: str = param(
        "", 'difference-in-differences: the column with the queue or team; "" for none'
    )
    treated_groups: str = param(
        "", "comma-separated values of group_column that got the new system, e.g. Billing,Sales"
    )
    control_groups: str = param(
        "", 'comma-separated values of group_column to compare with; "" for all the others'
    )
    covariate_unit_column: str = param(
        "",
        "randomised design: a column (agent, customer) whose pre-launch mean reduces the "
        'variance (CUPED); "" for none',
    )
    weeks_before: int = param(8, "weeks before the launch to compare with")
    as_of: str = param("", 'read the data as it stood on this date; "" for the newest timestamp')
    reopened_column: str = param("", '0/1 or yes/no column of the reopen guardrail; "" for none')
    csat_column: str = param("", 'numeric satisfaction score column of its guardrail; "" for none')
    reopen_tolerance_pp: float = param(
        1.0, "allowed rise of the reopen rate in percentage points, without a metric spec"
    )
    csat_tolerance: float = param(0.1, "allowed drop of the mean CSAT score, without a metric spec")
    alpha: float = param(0.05, "significance level (two-sided; guardrails one-sided)")
    timestamp_format: str = param(
        "", 'strftime format of the timestamps, e.g. %d/%m/%Y %H:%M; "" to read them from the data'
    )
    drop_unparseable: bool = param(
        False, "leave out rows whose timestamps cannot be read (they are counted)"
    )
    published_checks: bool = param(
        True, "also run the estimators on two published studies and show their published result"
    )
    n_bootstrap: int = param(2000, "bootstrap resamples for confidence intervals")
    seed: int = param(7, "random seed for the bootstrap")
    output_dir: str = param(
        "", 'folder for results.json; "" for a new folder under runs/', path="output"
    )

    def check(self) -> None:
        if not self.events_path:
            raise ParameterError(
                "Parameter events_path is empty; give the events before and after the launch, "
                "e.g. events_path=exports/tickets.csv."
            )
        if not self.launch_date:
            raise ParameterError(
                "Parameter launch_date is empty; give the day the new system went live, e.g. "
                "launch_date=2026-03-02."
            )
        check_date("launch_date", self.launch_date, "2026-03-02", "")
        check_date("as_of", self.as_of, "2026-05-01", "the newest timestamp in the data")
        if not self.metric_spec_path:
            for name in ("start_column", "end_column"):
                if not getattr(self, name):
                    example = {"start_column": "created_at", "end_column": "resolved_at"}[name]
                    raise ParameterError(
                        f"Parameter {name} is empty and no metric_spec_path is given; give one, "
                        f"e.g. {name}={example}, or the metric_spec.yaml of 01_success_metric."
                    )
            if self.target_change == 0:
                raise ParameterError(
                    "Parameter target_change is 0 and no metric_spec_path is given; give the "
                    "change aimed for, e.g. target_change=-0.2, or the metric_spec.yaml of "
                    "01_success_metric."
                )
        if self.target_change <= -1:
            raise ParameterError(
                f"Parameter target_change is {self.target_change}; a relative change is above "
                "-1, e.g. -0.2 for 20 % faster."
            )
        if self.percentile and not 0 < self.percentile < 100:
            raise ParameterError(
                f"Parameter percentile is {self.percentile}; use a value between 0 and 100."
            )
        if self.sla < 0:
            raise ParameterError(f"Parameter sla is {self.sla}; use a positive duration or 0.")
        if self.design == "randomised" and not self.treatment_column:
            raise ParameterError(
                "Parameter design is randomised, but treatment_column is empty; name the column "
                "that says which arm each event was in."
            )
        if self.design == "did" and not (self.group_column and self.treated_groups):
            raise ParameterError(
                "Parameter design is did, but group_column or treated_groups is empty; name the "
                "column of queues (teams) and the ones that got the new system."
            )
        if self.treated_groups and not self.group_column:
            raise ParameterError(
                "Parameter treated_groups is given but group_column is empty; name the column "
                "the groups are in, e.g. group_column=team."
            )
        overlap = set(split_list(self.treated_groups)) & set(split_list(self.control_groups))
        if overlap:
            raise ParameterError(
                f"Parameters treated_groups and control_groups both name {sorted(overlap)[0]}; "
                "a group is either treated or a control."
            )
        if not 0 < self.treated_share < 1:
            raise ParameterError(
                f"Parameter treated_share is {self.treated_share}; use the assigned share of the "
                "treated arm, e.g. 0.5."
            )
        if self.covariate_unit_column and not self.treatment_column:
            raise ParameterError(
                "Parameter covariate_unit_column is for a randomised comparison; give "
                "treatment_column too, or leave it empty."
            )
        if self.weeks_before < 2:
            raise ParameterError("Parameter weeks_before must be at least 2 (e.g. 8).")
        if not 0 < self.alpha < 0.5:
            raise ParameterError(f"Parameter alpha is {self.alpha}; use e.g. 0.05.")
        if self.reopen_tolerance_pp <= 0 or self.csat_tolerance <= 0:
            raise ParameterError(
                "Parameters reopen_tolerance_pp and csat_tolerance must be positive (e.g. 1.0 "
                "and 0.1)."
            )
        if self.n_bootstrap < 200:
            raise ParameterError("Parameter n_bootstrap must be at least 200 (e.g. 2000).")

    @property
    def treated(self) -> list[str]:
        return split_list(self.treated_groups)

    @property
    def controls(self) -> list[str]:
        return split_list(self.control_groups)
