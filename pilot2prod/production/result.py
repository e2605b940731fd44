"""Chapter 4 as a whole: ``run(p) -> Result``, the production kit around one model.

The steps, in the order a platform team would take them: register the champion with its
lineage; retrain a challenger and put it through the gate (and retrain it twice to show the
training is reproducible); rehearse a rollback; serve the champion on loopback behind the
feature flag and send it production tickets; watch the production window for drift and the
data contract; set service levels, alert rules, the runbook and the cost; score readiness.
"""

from __future__ import annotations

import inspect
import json
import math
import tempfile
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pilot2prod.chapter import Headline
from pilot2prod.errors import ParameterError
from pilot2prod.handoff import load_mapping
from pilot2prod.production import drift, gate, monitoring, readiness, rubric
from pilot2prod.production.data import (
    Champion,
    Tickets,
    contract_for,
    holdout_boundary,
    load_champion,
    load_labelled,
    load_production,
    split_holdout,
)
from pilot2prod.production.params import Parameters
from pilot2prod.production.registry import (
    CHALLENGER,
    CHAMPION,
    Drill,
    Registry,
    default_uri,
    predict,
    rollback_drill,
)
from pilot2prod.triage.data import examples_hash

#: Tickets the registry keeps the predictions of, per version (the rollback drill's probe).
PROBE_SIZE = 500
#: Tickets predicted one at a time to measure the model's latency in process.
LATENCY_SAMPLE = 200
#: Weeks a month has, for the volume projection from the data.
WEEKS_PER_MONTH = 52 / 12


# --------------------------------------------------------------------------- retraining
def fresh_copy(model: Any) -> Any:
    """An unfitted copy of ``model`` with the same settings: scikit-learn's ``clone`` for an
    estimator, the constructor's arguments read back for the playbook's approaches."""
    from sklearn.base import BaseEstimator, clone

    from pilot2prod.triage.models import Approach

    if isinstance(model, BaseEstimator):
        return clone(model)
    if isinstance(model, Approach):
        kwargs = {}
        for name in list(inspect.signature(type(model).__init__).parameters)[1:]:
            if not hasattr(model, name):
                raise ParameterError(
                    f"Parameter challenger: the model's {type(model).__name__} does not keep its "
                    f"setting '{name}'; it cannot be retrained here. Set challenger=none."
                )
            value = getattr(model, name)
            # (an embedder is shared as it is: its weights ship in the wheel, nothing is learned)
            if isinstance(value, Approach | BaseEstimator):
                value = fresh_copy(value)
            kwargs[name] = value
        return type(model)(**kwargs)
    raise ParameterError(
        f"Parameter challenger: a {type(model).__name__} is neither a scikit-learn estimator "
        "nor a playbook approach; it cannot be retrained here. Set challenger=none."
    )


def retrain(model: Any, texts: list[str], labels: np.ndarray) -> Any:
    """A fresh copy of ``model`` fitted on ``texts``; parts that are approaches themselves
    (a hybrid's classifier and fallback) are fitted first."""
    from pilot2prod.triage.models import Approach

    copy = fresh_copy(model)

    def fit(obj: Any) -> None:
        if isinstance(obj, Approach):
            for value in vars(obj).values():
                if isinstance(value, Approach):
                    fit(value)
        obj.fit(texts, labels)

    fit(copy)
    return copy


def latency_ms(model: Any, texts: list[str]) -> np.ndarray:
    """Model time per ticket, one ticket per call (as the service calls it)."""
    out = []
    predict(model, texts[:1])  # first call pays for lazy set-up
    for text in texts:
        out.append(predict(model, [text]).seconds * 1000)
    return np.array(out)


# --------------------------------------------------------------------------- result
@dataclass
class Result:
    params: Parameters
    champion: Champion
    examples: Tickets
    boundary: pd.Timestamp
    train_rows: int
    test: pd.DataFrame  # id, text, time, label, slices, champion, [challenger]
    champion_accuracy: float
    challenger_accuracy: float | None
    decision: gate.GateDecision | None
    reproducible: bool | None
    promoted: bool
    registry_uri: str
    versions: pd.DataFrame  # version, role, aliases, data hash, model hash
    drill: Drill | None
    latency: np.ndarray  # ms per ticket in process
    smoke: Any | None  # service.SmokeTest
    log: monitoring.PredictionLog | None
    skew: int | None  # logged predictions differing from in-process ones
    production: Tickets | None
    drift_report: drift.DriftReport | None
    contract: monitoring.ContractCheck | None
    contract_name: str
    objectives: monitoring.Objectives
    service_levels: pd.DataFrame | None
    cost: monitoring.Cost | None
    alerts: list[monitoring.Alert]
    runbook: str
    score: rubric.Rubric
    maturity: tuple[int, list[str]]
    decision_go: readiness.Decision
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ derived
    @property
    def latency_p50(self) -> float:
        return float(np.percentile(self.latency, 50))

    @property
    def latency_p95(self) -> float:
        return float(np.percentile(self.latency, 95))

    @property
    def serving_overhead_ms(self) -> float | None:
        if self.smoke is None or not self.smoke.round_trip_ms or self.log is None:
            return None
        served = self.log.frame["latency_ms"].dropna()
        if served.empty:
            return None
        return float(np.percentile(self.smoke.round_trip_ms, 50) - np.percentile(served, 50))

    def drifted_features(self, latest: bool = False) -> list[str]:
        """Features flagged over the whole window, or (``latest``) in its last week."""
        if self.drift_report is None:
            return []
        if latest:
            w = self.drift_report.windows
            if w.empty:
                return []
            last = w[w["window"] == w["window"].max()]
            return sorted(last.loc[last["flagged"], "feature"])
        f = self.drift_report.features
        return sorted(f.loc[f["flagged"], "feature"]) if len(f) else []

    def drift_start(self) -> pd.Timestamp | None:
        if self.drift_report is None or self.drift_report.windows.empty:
            return None
        flagged = self.drift_report.windows[self.drift_report.windows["flagged"]]
        return None if flagged.empty else pd.Timestamp(flagged["window"].min())

    # ------------------------------------------------------------------ chapter surface
    def headline(self) -> Headline:
        d = self.decision_go
        if d.go:
            answer = (
                f"Ready to serve: version {self.champion_version} can go live behind the "
                f"feature flag, at {self.params.rollout_percentage:g} % of tickets first."
            )
        else:
            answer = "Not ready to serve: " + "; ".join(d.blockers) + "."
        facts = [
            ("Model", f"{self.champion.approach}, version {self.champion_version}"),
            ("Accuracy on held-out tickets", f"{self.champion_accuracy:.1%}"),
        ]
        if self.decision is not None:
            facts.append(("Challenger", "promoted" if self.promoted else "refused"))
        if self.drill is not None:
            facts.append(("Rollback drill", "passed" if self.drill.passed else "FAILED"))
        facts.append(("Latency p95 (in process)", f"{self.latency_p95:.1f} ms"))
        if self.drift_report is not None:
            facts.append(("Input drift", self.drift_report.overall))
        facts.append(("ML Test Score", f"{self.score.score:g}"))
        facts.append(("MLOps maturity", f"level {self.maturity[0]} of 4"))
        return Headline(answer, d.verdict, facts)

    @property
    def champion_version(self) -> int:
        row = self.versions[self.versions["aliases"].str.contains(CHAMPION)]
        return int(row["version"].iloc[0]) if len(row) else 0

    def readiness(self) -> dict[str, Any]:
        """``readiness.json``: the go/no-go, the score and what they rest on."""
        d = self.decision_go
        return {
            "verdict": d.verdict,
            "blockers": d.blockers,
            "conditions": d.conditions,
            "ml_test_score": {
                "score": self.score.score,
                "reading": self.score.reading,
                "sections": self.score.sections,
                "weakest": self.score.weakest,
                "missing": self.score.missing,
                "tests": self.score.table.to_dict(orient="records"),
            },
            "maturity": {
                "level": self.maturity[0],
                "meaning": rubric.MATURITY[self.maturity[0]],
                "missing_for_next": self.maturity[1],
            },
        }

    def results(self) -> dict[str, Any]:
        smoke = self.smoke
        return {
            "notebook": Parameters.notebook,
            "verdict": self.decision_go.verdict,
            "statement": self.headline().answer,
            "model": {
                "approach": self.champion.approach,
                "labels": self.champion.labels,
                "sha256": self.champion.sha256,
                "text_columns": self.champion.text_columns,
                "champion_version": self.champion_version,
            },
            "test": {
                "after": str(self.boundary),
                "tickets": len(self.test),
                "champion_accuracy": self.champion_accuracy,
                "challenger_accuracy": self.challenger_accuracy,
            },
            "gate": None
            if self.decision is None
            else {
                "promote": self.decision.promote,
                "reasons": self.decision.reasons,
                "checks": self.decision.table().to_dict(orient="records"),
                "difference": self.decision.overall.__dict__,
                "regressed_slices": self.decision.slices.loc[
                    self.decision.slices["regresses"], ["slice", "value", "n", "change"]
                ].to_dict(orient="records"),
            },
            "reproducible": self.reproducible,
            "promoted": self.promoted,
            "versions": self.versions.to_dict(orient="records"),
            "rollback_drill": None if self.drill is None else self.drill.__dict__,
            "latency_ms": {"p50": self.latency_p50, "p95": self.latency_p95},
            "service": None
            if smoke is None
            else {
                "requests": smoke.requests,
                "errors": smoke.errors,
                "round_trip_ms_p50": float(np.percentile(smoke.round_trip_ms, 50))
                if smoke.round_trip_ms
                else None,
                "serving_overhead_ms_p50": self.serving_overhead_ms,
                "arms": smoke.arms,
                "rollout_share": smoke.rollout_share,
                "kill_switch_ok": smoke.kill_switch_ok,
                "shadow_ok": smoke.shadow_ok,
                "bad_request_ok": smoke.bad_request_ok,
                "skew": self.skew,
                "log_lines": None if self.log is None else self.log.lines,
                "log_corrupt": None if self.log is None else self.log.corrupt,
            },
            "drift": None
            if self.drift_report is None
            else {
                "overall": self.drift_report.overall,
                "features": self.drift_report.features.to_dict(orient="records"),
                "windows": self.drift_report.windows.to_dict(orient="records"),
                "flagged": self.drifted_features(),
                "first_flagged_window": None
                if self.drift_start() is None
                else str(self.drift_start().date()),
            },
            "contract": None
            if self.contract is None
            else {
                "name": self.contract_name,
                "rows": self.contract.rows,
                "failures": self.contract.failures,
                "by_rule": self.contract.table.to_dict(orient="records"),
                "checked_columns": self.contract.checked,
                "unchecked_columns": self.contract.unchecked,
            },
            "service_levels": None
            if self.service_levels is None
            else self.service_levels.to_dict(orient="records"),
            "cost": None if self.cost is None else self.cost.__dict__,
            "alerts": [a.__dict__ for a in self.alerts],
            "readiness": self.readiness(),
            "notes": self.notes,
        }

    def glue_values(self) -> dict[str, Any]:
        d = self.decision
        smoke = self.smoke
        return {
            "c4_accuracy_pct": 100 * self.champion_accuracy,
            "c4_test_tickets": len(self.test),
            "c4_challenger_pct": math.nan
            if self.challenger_accuracy is None
            else 100 * self.challenger_accuracy,
            "c4_gain_low_pct": math.nan if d is None else 100 * d.overall.low,
            "c4_gain_high_pct": math.nan if d is None else 100 * d.overall.high,
            "c4_slices_judged": 0 if d is None else int(d.slices["judged"].sum()),
            "c4_latency_p95_ms": self.latency_p95,
            "c4_overhead_ms": math.nan
            if self.serving_overhead_ms is None
            else self.serving_overhead_ms,
            "c4_requests": 0 if smoke is None else smoke.requests,
            "c4_rollout_share_pct": math.nan if smoke is None else 100 * smoke.rollout_share,
            "c4_score": self.score.score,
            "c4_maturity": self.maturity[0],
            "c4_cost_per_1000": math.nan if self.cost is None else self.cost.per_1000,
            "c4_monthly_cost": math.nan if self.cost is None else self.cost.monthly,
        }

    def sentences(self) -> dict[str, str]:
        d = self.decision
        start = self.drift_start()
        return {
            "c4_statement": self.headline().answer,
            "c4_verdict": self.decision_go.verdict,
            "c4_gate": "no challenger was judged" if d is None else d.sentence(),
            "c4_drill": "no rollback drill" if self.drill is None else self.drill.sentence(),
            "c4_drifted": ", ".join(self.drifted_features()) or "no feature",
            "c4_drift_start": "never" if start is None else f"the week of {start:%Y-%m-%d}",
            "c4_weakest": self.score.weakest,
            "c4_reading": self.score.reading,
            "c4_maturity_meaning": rubric.MATURITY[self.maturity[0]],
            "c4_cost": "not priced" if self.cost is None else self.cost.sentence(),
        }

    def write(self, folder: Path) -> None:
        """readiness.json and runbook.md beside results.json."""
        from pilot2prod.notebook import write_results

        write_results(folder, self.readiness(), "readiness.json")
        (folder / "runbook.md").write_text(self.runbook, encoding="utf-8")


# --------------------------------------------------------------------------- run
def _drift(
    train: pd.DataFrame,
    test_predictions: list[str | None],
    production: Tickets,
    production_predictions: list[str | None],
    columns: list[str],
    seed: int,
) -> drift.DriftReport:
    """Text length, out-of-vocabulary share and the watched columns of the production window
    against the training tickets (the vocabulary from most of them, the reference from the
    rest), and the prediction mix against the predictions on the held-out tickets (labels
    arrive late; the mix moves at once)."""
    recent = train.tail(5000).reset_index(drop=True)
    held = np.random.default_rng(seed).random(len(recent)) < drift.HOLDOUT
    vocab = drift.vocabulary(recent.loc[~held, "text"])
    reference = drift.text_features(recent.loc[held, "text"], vocab).reset_index(drop=True)
    current = drift.text_features(production.frame["text"], vocab).reset_index(drop=True)
    for c in columns:
        if c in recent.columns and c in production.frame.columns:
            reference[c] = recent.loc[held, c].to_numpy()
            current[c] = production.frame[c].to_numpy()
    inputs = drift.by_window(reference, current, production.frame["time"])
    mix = drift.by_window(
        pd.DataFrame({"prediction": pd.Series(test_predictions, dtype="string")}),
        pd.DataFrame({"prediction": pd.Series(production_predictions, dtype="string")}),
        production.frame["time"],
    )
    features = pd.concat([inputs.features, mix.features], ignore_index=True)
    windows = pd.concat([inputs.windows, mix.windows], ignore_index=True)
    order = ["stable", "moderate shift", "significant shift"]
    overall = max(inputs.overall, mix.overall, key=order.index)
    return drift.DriftReport(features, windows, overall)


def monthly_volume(times: pd.Series) -> int:
    """Tickets a month at the pace of ``times`` (the production window's, else the test's)."""
    days = max((times.max() - times.min()).total_seconds() / 86400, 1.0)
    return int(round(len(times) / days * 7 * WEEKS_PER_MONTH))


def _answers(p: Parameters) -> readiness.Answers:
    if not p.answers_path:
        return readiness.Answers()
    import yaml

    data = load_mapping(p.answers_path, "answers_path", "readiness answers", yaml.safe_load)
    return readiness.read_answers(data)


def _code_version() -> str:
    return f"pilot2prod {package_version('pilot2prod')}"


def run(p: Parameters, folder: Path | None = None) -> Result:
    """The whole chapter; the registry, the service's log and flag file go into ``folder``
    (``p.output_dir`` when not given; a temporary folder when neither is)."""
    if folder is None:
        folder = Path(p.output_dir) if p.output_dir else Path(tempfile.mkdtemp(prefix="p2p-"))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    # Every input is read and checked before anything is written.
    champion = load_champion(p)
    answers = _answers(p)
    boundary = holdout_boundary(p, champion)
    examples = load_labelled(p, champion)
    train, test = split_holdout(examples.frame, boundary, p.max_training_rows)
    contract, contract_name = None, ""
    if p.contract_path:
        found = contract_for(p.contract_path, examples.source)
        if found:
            contract, contract_name = found
    production = None
    contract_check = None
    if p.production_path:
        production = load_production(p, champion, list(contract.columns) if contract else [])
        if contract is not None:
            contract_check = monitoring.check_contract(production.raw, contract)
    test_texts = test["text"].astype(str).tolist()
    truth = test["label"].to_numpy(dtype=object)
    champ_pred = predict(champion.model, test_texts)
    test = test.assign(champion=champ_pred.labels)
    champion_accuracy = float(np.mean(np.asarray(champ_pred.labels, dtype=object) == truth))

    # The registry: the champion first, with its lineage from Chapter 3's export.
    registry_uri = p.registry_uri or default_uri(folder / "registry")
    (folder / "registry").mkdir(exist_ok=True)
    registry = Registry(registry_uri, p.model_name)
    probe_rows = test.head(PROBE_SIZE)
    probe = (probe_rows["id"].astype(str).tolist(), probe_rows["text"].astype(str).tolist())
    export = champion.export
    tags = {
        "text_columns": json.dumps(champion.text_columns),
        "threshold": str(champion.threshold),
    }
    metrics = {"accuracy_holdout": champion_accuracy}
    if export:
        metrics |= {
            k: float(v["estimate"] if isinstance(v, dict) else v)
            for k, v in export.metrics.items()
            if isinstance(v, int | float | dict) and v is not None
        }
    v_champion = registry.register(
        champion.model,
        data_sha256=export.data_sha256 if export else "unknown",
        parameters=(export.parameters if export else {}) | {"approach": champion.approach},
        metrics=metrics,
        code_version=str(export.runtime.get("pilot2prod", "")) if export else _code_version(),
        probe=probe,
        description="Champion: the model Chapter 3 recommended.",
        extra_tags=tags,
    )
    try:
        before = registry.by_alias(CHAMPION).version
        notes.append(
            f"The registry's champion was version {before}; Chapter 3's model (version "
            f"{v_champion.version}) takes its place, and the rollback drill checks the way back."
        )
    except ParameterError:
        pass
    registry.set_alias(CHAMPION, v_champion.version)

    # The challenger: the same approach, retrained on every labelled ticket before the test.
    decision = None
    reproducible = None
    challenger_accuracy = None
    promoted = False
    lat = latency_ms(champion.model, test_texts[:LATENCY_SAMPLE])
    if p.challenger == "retrain":
        train_texts = train["text"].astype(str).tolist()
        labels = train["label"].to_numpy(dtype=object)
        if len(set(labels)) < 2:
            notes.append("The challenger was not trained: the training window has one label.")
        else:
            first = retrain(champion.model, train_texts, labels)
            second = retrain(champion.model, train_texts, labels)
            a = predict(first, test_texts)
            b = predict(second, test_texts)
            reproducible = a.labels == b.labels and bool(
                np.allclose(a.confidence, b.confidence, rtol=0, atol=1e-12)
            )
            test = test.assign(challenger=a.labels)
            challenger_accuracy = float(np.mean(np.asarray(a.labels, dtype=object) == truth))
            slices = test[[c for c in p.slices if c in test.columns]].copy()
            slices.insert(0, champion.label_column, test["label"].to_numpy())
            challenger_latency = latency_ms(first, test_texts[:LATENCY_SAMPLE])
            decision = gate.decide(
                truth,
                np.asarray(champ_pred.labels, dtype=object),
                np.asarray(a.labels, dtype=object),
                slices,
                margin=p.margin,
                tolerance=p.slice_tolerance,
                min_slice=p.min_slice,
                contract_failures=None if contract_check is None else contract_check.failures,
                contract_rows=0 if contract_check is None else contract_check.rows,
                latency_p95_ms=float(np.percentile(challenger_latency, 95)),
                latency_budget_ms=p.latency_budget_ms,
                seed=p.seed,
            )
            v_challenger = registry.register(
                first,
                data_sha256=examples_hash(train),
                parameters={"approach": champion.approach, "training_rows": len(train)},
                metrics={"accuracy_holdout": challenger_accuracy},
                code_version=_code_version(),
                probe=probe,
                description="Challenger: retrained on every labelled ticket before the test.",
                extra_tags=tags,
            )
            registry.set_alias(CHALLENGER, v_challenger.version)
            if decision.promote:
                registry.set_alias(CHAMPION, v_challenger.version)
                promoted = True
    drill = None
    texts_by_id = dict(zip(probe[0], probe[1], strict=True))
    if len(registry.versions()) >= 2:
        drill = rollback_drill(registry, texts_by_id)

    # Serving: the champion behind the flag, sent production tickets (or held-out ones).
    served_model = registry.load(registry.by_alias(CHAMPION))
    smoke = None
    log = None
    skew = None
    if p.serve_requests:
        from pilot2prod.production.service import smoke_test

        source = production if production is not None else examples
        rows = (
            source.fields.tail(p.serve_requests)
            if production is None
            else (source.fields.head(p.serve_requests))
        )
        tickets = [
            {k: ("" if pd.isna(v) else str(v)) for k, v in row.items()}
            for row in rows.to_dict(orient="records")
        ]
        smoke = smoke_test(
            registry_uri,
            p.model_name,
            tickets,
            folder / "service",
            p.rollout_percentage,
            salt=str(p.seed),
        )
        log = monitoring.read_prediction_log(smoke.log_path)
        frame = source.frame.set_index("id")
        served = log.frame[log.frame["prediction"].notna() & log.frame["id"].isin(frame.index)]
        served = served.drop_duplicates("id")
        expected = predict(served_model, frame.loc[served["id"], "text"].astype(str).tolist())
        skew = int(sum(x != y for x, y in zip(served["prediction"], expected.labels, strict=True)))

    drift_report = None
    if production is not None:
        production_pred = predict(served_model, production.frame["text"].astype(str).tolist())
        drift_report = _drift(
            train,
            predict(served_model, test_texts).labels,
            production,
            production_pred.labels,
            p.drift_list,
            p.seed,
        )

    # Service levels, cost, alerts and the runbook.
    objectives = monitoring.Objectives(
        latency_p95_ms=p.latency_budget_ms
        or max(10.0, math.ceil(2 * float(np.percentile(lat, 95)))),
        error_rate=p.slo_error_rate,
        freshness_hours=p.slo_freshness_hours,
        cost_per_1000=p.cost_budget_per_1000,
        currency=p.currency,
    )
    cost = None
    if p.compute_price_per_hour or p.tokens_per_prediction:
        volume = p.monthly_volume or monthly_volume(
            production.frame["time"] if production is not None else test["time"]
        )
        cost = monitoring.cost(
            float(np.mean(lat)) / 1000,
            p.compute_price_per_hour,
            volume,
            p.currency,
            p.tokens_per_prediction,
            p.price_per_1000_tokens,
        )
    service_levels = None
    if smoke is not None and log is not None:
        service_levels = monitoring.service_levels(
            log.frame,
            smoke.errors,
            smoke.requests,
            objectives,
            pd.Timestamp.now(tz="UTC"),
            None if cost is None else cost.per_1000,
        )
    alerts = monitoring.alert_rules(objectives, answers.owners, p.model_name)
    versions = registry.versions()
    champion_now = registry.by_alias(CHAMPION).version
    earlier = [v.version for v in versions if v.version < champion_now]
    book = monitoring.runbook(
        alerts, p.model_name, registry_uri, champion_now, earlier[-1] if earlier else None
    )

    within_budget = (
        None if not p.latency_budget_ms else bool(np.percentile(lat, 95) <= p.latency_budget_ms)
    )
    measured = readiness.Measured(
        contract_given=contract_check is not None,
        contract_passed=None if contract_check is None else contract_check.failures == 0,
        masked_before_model=True,
        simpler_compared=export is not None,
        slices_judged=decision is not None and bool(decision.slices["judged"].any()),
        reproducible=reproducible,
        gate_ran=decision is not None,
        canary_passed=None if smoke is None else smoke.passed,
        rollback_passed=None if drill is None else drill.passed,
        skew_free=None if skew is None else skew == 0,
        latency_within_budget=within_budget,
        drift_checked=drift_report is not None,
        registry=True,
    )
    evidence = readiness.evidence(measured)
    score = rubric.ml_test_score(evidence, answers.tests)
    maturity = readiness.maturity(measured, answers)
    holds = None if service_levels is None else bool(service_levels["holds"].all())
    flagged = []
    if drift_report is not None:
        f = drift_report.features
        flagged = sorted(f.loc[f["flagged"], "feature"]) if len(f) else []
    go = readiness.go_no_go(
        measured, flagged, drift_report.overall if drift_report else "", score, holds
    )
    if examples.masked:
        total = sum(examples.masked.values())
        notes.append(f"{total:,} pieces of personal data were masked in the tickets' texts.")
    table = pd.DataFrame(
        [
            {
                "version": v.version,
                "aliases": ", ".join(v.aliases) or "-",
                "role": "champion (Chapter 3)" if v.version == v_champion.version else "challenger",
                "data_sha256": v.tags.get("data_sha256", "")[:12],
                "model_sha256": v.model_sha256[:12],
            }
            for v in versions
        ]
    )
    return Result(
        params=p,
        champion=champion,
        examples=examples,
        boundary=boundary,
        train_rows=len(train),
        test=test,
        champion_accuracy=champion_accuracy,
        challenger_accuracy=challenger_accuracy,
        decision=decision,
        reproducible=reproducible,
        promoted=promoted,
        registry_uri=registry_uri,
        versions=table,
        drill=drill,
        latency=lat,
        smoke=smoke,
        log=log,
        skew=skew,
        production=production,
        drift_report=drift_report,
        contract=contract_check,
        contract_name=contract_name,
        objectives=objectives,
        service_levels=service_levels,
        cost=cost,
        alerts=alerts,
        runbook=book,
        score=score,
        maturity=maturity,
        decision_go=go,
        notes=notes,
    )
