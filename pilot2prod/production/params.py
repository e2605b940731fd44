"""Chapter 4's parameters, declared once (the notebook's parameters cell is derived from this).

The model (Chapter 3's export, or any skops file of a scikit-learn text classifier) and the
labelled tickets it is judged on must be given; the production window, the data contract, the
service smoke test, prices and the readiness answers are optional, and each section says what
it needs when they are missing. The sample company's values live in ``engagements/acme.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pilot2prod import params
from pilot2prod.errors import ParameterError
from pilot2prod.params import check_date, param

CHALLENGERS = ("retrain", "none")


@dataclass(frozen=True)
class Parameters(params.Parameters):
    """Parameters of ``notebooks/04_production_readiness.ipynb``."""

    notebook: ClassVar[str] = "04_production_readiness"

    model_path: str = param(
        "",
        "the model: Chapter 3's exported model folder (metadata.json and a .skops file), or a "
        "skops file of a fitted scikit-learn text classifier",
        path="file",
    )
    examples_path: str = param(
        "",
        "labelled tickets (the newest are the held-out test; the older train the challenger): "
        "a file, a database URL#table, ...",
        path="source",
    )
    text_columns: str = param(
        "", "comma-separated text columns joined into the model's text; \"\" for the export's"
    )
    label_column: str = param("", 'the label column; "" for the export\'s')
    id_column: str = param("", 'unique ticket id; "" for the export\'s')
    time_column: str = param("", 'when the ticket arrived; "" for the export\'s')
    holdout_after: str = param(
        "",
        'test on tickets after this date (YYYY-MM-DD); "" for after the model\'s training cutoff',
    )
    slice_columns: str = param(
        "", 'comma-separated columns whose values must not regress, e.g. channel,team; "" none'
    )
    challenger: str = param(
        "retrain",
        "retrain: retrain the model's approach on every labelled ticket before the test window "
        "and put it through the gate; none: judge the model alone",
        choices=CHALLENGERS,
    )
    max_training_rows: int = param(50000, "the challenger learns from at most the newest N rows")
    margin: float = param(
        0.0,
        "promotion needs the accuracy gain's 95 % interval above -margin (0: shown better)",
    )
    slice_tolerance: float = param(
        0.03, "a slice may lose at most this much accuracy (0.03 is 3 points)"
    )
    min_slice: int = param(30, "slices with fewer test tickets are shown, not judged")
    latency_budget_ms: float = param(
        0.0, "p95 model time per ticket allowed, in ms; 0 for no budget"
    )
    production_path: str = param(
        "",
        'production inputs (no labels needed) to check for drift and the contract; "" for none',
        path="source",
    )
    production_time_column: str = param("", 'time column of production_path; "" for time_column')
    drift_columns: str = param(
        "", 'comma-separated input columns to watch for drift besides the text; "" for none'
    )
    contract_path: str = param(
        "",
        'Chapter 2\'s data contract: a contract file, or its contracts folder; "" for none',
        path="file",
    )
    serve_requests: int = param(
        300, "production tickets sent to the service started on loopback; 0 to skip serving"
    )
    rollout_percentage: float = param(10.0, "share of tickets in the model's arm (0-100)")
    registry_uri: str = param(
        "",
        'MLflow tracking URI of the model registry; "" for a SQLite registry in the run folder',
    )
    model_name: str = param("ticket-triage", "registered model name")
    slo_error_rate: float = param(0.01, "error-rate objective of the service (share of requests)")
    slo_freshness_hours: float = param(
        4.0, "the newest decision may be at most this old in working hours"
    )
    monthly_volume: int = param(0, "predictions a month for the cost projection; 0 from the data")
    compute_price_per_hour: float = param(
        0.0, "price of one serving machine per hour; 0 to leave cost out"
    )
    tokens_per_prediction: float = param(0.0, "LLM tokens per prediction, where a rung uses one")
    price_per_1000_tokens: float = param(0.0, "LLM price per 1,000 tokens")
    cost_budget_per_1000: float = param(0.0, "cost objective per 1,000 predictions; 0 for none")
    currency: str = param("EUR", "currency of the prices")
    answers_path: str = param(
        "",
        "the team's answers for what the notebook cannot measure: rubric tests, owners (YAML); "
        '"" for none',
        path="file",
    )
    seed: int = param(0, "seed for the bootstrap and the retraining")
    output_dir: str = param(
        "", 'folder for results.json; "" for a new folder under runs/', path="output"
    )

    def check(self) -> None:
        if not self.model_path:
            raise ParameterError(
                "Parameter model_path is empty; give Chapter 3's model folder, e.g. "
                "model_path=runs/03_simple_vs_rag/<run>/model."
            )
        if not self.examples_path:
            raise ParameterError(
                "Parameter examples_path is empty; give the labelled tickets, e.g. "
                "examples_path=exports/tickets.csv."
            )
        if self.max_training_rows < 100:
            raise ParameterError("Parameter max_training_rows must be at least 100.")
        if not 0 <= self.margin < 0.5:
            raise ParameterError(f"Parameter margin is {self.margin}; use 0 to 0.1.")
        if not 0 <= self.slice_tolerance < 1:
            raise ParameterError(
                f"Parameter slice_tolerance is {self.slice_tolerance}; use e.g. 0.03."
            )
        if self.min_slice < 1:
            raise ParameterError("Parameter min_slice must be at least 1.")
        if not 0 <= self.rollout_percentage <= 100:
            raise ParameterError(
                f"Parameter rollout_percentage is {self.rollout_percentage}; use 0 to 100."
            )
        if self.serve_requests < 0 or self.serve_requests > 100_000:
            raise ParameterError("Parameter serve_requests must be from 0 to 100000.")
        for name in (
            "latency_budget_ms",
            "compute_price_per_hour",
            "tokens_per_prediction",
            "price_per_1000_tokens",
            "cost_budget_per_1000",
            "monthly_volume",
        ):
            if getattr(self, name) < 0:
                raise ParameterError(f"Parameter {name} must be 0 or more.")
        if not 0 <= self.slo_error_rate < 1:
            raise ParameterError(f"Parameter slo_error_rate is {self.slo_error_rate}; use 0.01.")
        if self.slo_freshness_hours <= 0:
            raise ParameterError("Parameter slo_freshness_hours must be above 0, e.g. 4.")
        check_date("holdout_after", self.holdout_after, "2026-10-01", "the training cutoff")

    @staticmethod
    def _list(text: str) -> list[str]:
        return [c.strip() for c in text.split(",") if c.strip()]

    @property
    def slices(self) -> list[str]:
        return self._list(self.slice_columns)

    @property
    def drift_list(self) -> list[str]:
        return self._list(self.drift_columns)
