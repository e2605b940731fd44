"""Chapter 3: run the ladder of approaches for one routing decision and recommend one.

All approaches are trained on the same training split and evaluated on the same frozen test
split; vectorisers, indexes and embeddings are fitted on the training split only.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import yaml

from pilot2prod import __version__
from pilot2prod.errors import ParameterError, Pilot2ProdError
from pilot2prod.params import ParameterSet, path_param
from pilot2prod.triage import evaluation as ev
from pilot2prod.triage.data import (
    Examples,
    Split,
    load_examples,
    load_knowledge_base,
    near_duplicates,
    split_examples,
)
from pilot2prod.triage.llm import KnowledgeBaseIndex, LLMClassifier, LLMSettings, LLMUnavailable
from pilot2prod.triage.models import (
    Approach,
    EmbeddingLinear,
    Hybrid,
    KeywordRules,
    MajorityClass,
    Retrieval,
    TfidfLinear,
    WordLlamaEmbedder,
)


@dataclass(frozen=True)
class TriageParameters(ParameterSet):
    """Parameters of ``notebooks/03_simple_vs_rag.ipynb`` (same names, types and defaults)."""

    notebook: ClassVar[str] = "03_simple_vs_rag"

    examples_path: str = path_param("datasets/acme/tickets.csv")
    text_columns: str = "subject,body"
    label_column: str = "category"
    id_column: str = "ticket_id"
    time_column: str = "created_at"
    kb_path: str = path_param("datasets/acme/kb", optional=True)
    kb_id_column: str = ""
    kb_text_column: str = ""
    gold_path: str = path_param("datasets/acme/kb_gold.csv", optional=True)
    gold_question_column: str = "question"
    gold_doc_column: str = "article_id"
    test_share: float = 0.2
    target_precision: float = 0.92
    min_coverage: float = 0.5
    latency_budget_ms: float = 50.0
    compute_price_per_hour: float = 0.10
    llm_base_url: str = ""
    llm_model: str = "gpt-4o-mini"
    llm_api_key_env: str = "OPENAI_API_KEY"
    llm_price_input_per_1k: float = 0.00015
    llm_price_output_per_1k: float = 0.0006
    llm_max_items: int = 300
    llm_cache_dir: str = ".llm_cache"
    minutes_saved_per_routed_ticket: float = 20.0
    metric_spec_path: str = path_param("", optional=True)
    learning_curve_sizes: str = "5,10,20,50"
    learning_curve_seeds: int = 3
    merge_label_typos: bool = False
    drop_rare_classes: bool = False
    n_bootstrap: int = 1000
    seed: int = 0
    output_dir: str = path_param("", kind="output")

    def check(self) -> None:
        if not self.text_list:
            raise ParameterError(
                "Parameter text_columns is empty; name at least one column, e.g. subject,body."
            )
        if not 0.05 <= self.test_share <= 0.5:
            raise ParameterError(
                f"Parameter test_share is {self.test_share}; use a share "
                "between 0.05 and 0.5, e.g. 0.2."
            )
        if not 0.5 <= self.target_precision < 1:
            raise ParameterError(
                f"Parameter target_precision is {self.target_precision}; use "
                "e.g. 0.9 (90 % of auto-routed tickets correct)."
            )
        if not 0 < self.min_coverage <= 1:
            raise ParameterError("Parameter min_coverage must be between 0 and 1, e.g. 0.5.")
        try:
            sizes = self.curve_sizes
        except ValueError:
            raise ParameterError(
                f"Parameter learning_curve_sizes is '{self.learning_curve_sizes}'; give "
                "comma-separated whole numbers, e.g. 5,10,20,50."
            ) from None
        if any(s < 2 for s in sizes):
            raise ParameterError("Parameter learning_curve_sizes: each size must be at least 2.")
        if self.llm_base_url and not self.llm_base_url.startswith(("http://", "https://")):
            raise ParameterError(
                f"Parameter llm_base_url is '{self.llm_base_url}'; give an "
                "http(s) URL such as http://localhost:8000/v1, or leave it "
                "empty to skip the LLM rung."
            )

    @property
    def text_list(self) -> list[str]:
        return [c.strip() for c in self.text_columns.split(",") if c.strip()]

    @property
    def curve_sizes(self) -> list[int]:
        return [int(s) for s in self.learning_curve_sizes.split(",") if s.strip()]

    @property
    def llm(self) -> LLMSettings:
        return LLMSettings(
            self.llm_base_url,
            self.llm_model,
            self.llm_api_key_env,
            self.llm_cache_dir,
            price_input_per_1k=self.llm_price_input_per_1k,
            price_output_per_1k=self.llm_price_output_per_1k,
        )


@dataclass
class RungResult:
    approach: Approach
    items: np.ndarray  # test positions this rung was evaluated on
    truth: np.ndarray = field(repr=False)
    predictions: np.ndarray = field(repr=False)
    confidence: np.ndarray = field(repr=False)
    quality: dict[str, ev.Interval]
    ece: float
    coverage: ev.Coverage
    speed: ev.Speed
    cost_per_1000: float
    fixed_cost: float

    @property
    def correct(self) -> np.ndarray:
        return self.predictions == self.truth


@dataclass
class LadderResult:
    params: TriageParameters
    examples: Examples
    split: Split
    rungs: list[RungResult]
    findings: list[str]
    duplicates: pd.DataFrame
    learning_curve: pd.DataFrame
    kb_quality: pd.DataFrame
    mcnemar: dict[str, Any]
    recommendation: dict[str, Any]
    keyword_rules: KeywordRules
    per_class: pd.DataFrame
    confusions: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        rows = []
        for r in self.rungs:
            q = r.quality
            rows.append(
                {
                    "rung": r.approach.rung,
                    "approach": r.approach.name,
                    "test items": len(r.items),
                    "accuracy": q["accuracy"].estimate,
                    "accuracy low": q["accuracy"].low,
                    "accuracy high": q["accuracy"].high,
                    "macro-F1": q["macro_f1"].estimate,
                    "macro-F1 low": q["macro_f1"].low,
                    "macro-F1 high": q["macro_f1"].high,
                    "ECE": r.ece,
                    "coverage at target": r.coverage.coverage,
                    "precision when routed": r.coverage.precision,
                    "train s": r.speed.train_seconds,
                    "p50 ms": r.speed.p50_ms,
                    "p95 ms": r.speed.p95_ms,
                    "items/s": r.speed.items_per_second,
                    "cost per 1000": r.cost_per_1000,
                }
            )
        return pd.DataFrame(rows)

    def rung(self, name: str) -> RungResult:
        return next(r for r in self.rungs if r.approach.name == name)


def _fit_timed(approach: Approach, texts: list[str], labels: np.ndarray) -> float:
    start = time.perf_counter()
    approach.fit(texts, labels)
    return time.perf_counter() - start


def _evaluate(
    approach: Approach,
    train_seconds: float,
    split: Split,
    items: np.ndarray,
    choose_on: np.ndarray,
    p: TriageParameters,
    llm_cost_per_item: float = 0.0,
    speed: ev.Speed | None = None,
) -> RungResult:
    texts = split.test["text"].iloc[items].tolist()
    truth = split.test["label"].to_numpy(dtype=object)[items]
    start = time.perf_counter()
    proba = approach.predict_proba(texts)
    batch_seconds = time.perf_counter() - start
    confidence = proba.max(axis=1)
    predictions = approach.classes_[proba.argmax(axis=1)].astype(object)
    predictions[confidence <= 0] = None
    quality = ev.quality(
        truth, predictions, np.unique(split.train["label"]), n_resamples=p.n_bootstrap, seed=p.seed
    )
    correct = predictions == truth
    ece = ev.expected_calibration_error(confidence, correct)
    coverage = ev.coverage_at_precision(confidence, correct, p.target_precision, choose_on)
    if speed is None:
        speed = ev.measure_speed(approach, texts, train_seconds, batch_seconds, seed=p.seed)
    per_1000 = ev.cost_per_1000(speed, p.compute_price_per_hour, llm_cost_per_item)
    fixed = train_seconds / 3600 * p.compute_price_per_hour
    return RungResult(
        approach,
        items,
        truth,
        predictions,
        confidence,
        quality,
        ece,
        coverage,
        speed,
        per_1000,
        fixed,
    )


def learning_curve(
    split: Split,
    embedder: WordLlamaEmbedder,
    p: TriageParameters,
    full: list[RungResult] | None = None,
    max_test_items: int = 1500,
) -> pd.DataFrame:
    """Macro-F1 on (a fixed sample of) the test split when each class has only n training
    examples, for several random draws of those examples. The rungs already trained on the
    whole training split (``full``) add the "all" point, at the mean examples per class."""
    rows = []
    # A fixed sample of the test split keeps many refits affordable; same items for all.
    sample = np.random.default_rng(p.seed).permutation(len(split.test))[:max_test_items]
    test_texts = split.test["text"].iloc[sample].tolist()
    truth = split.test["label"].to_numpy(dtype=object)[sample]
    classes = np.unique(split.train["label"])
    for seed in range(p.learning_curve_seeds):
        rng = np.random.default_rng(p.seed + seed)
        for size in p.curve_sizes:
            picked = []
            for _, group in split.train.groupby("label"):
                take = min(size, len(group))
                picked.extend(rng.choice(group.index.to_numpy(), size=take, replace=False))
            subset = split.train.loc[picked]
            texts, labels = subset["text"].tolist(), subset["label"].to_numpy()
            for approach in (
                KeywordRules(),
                TfidfLinear(seed=seed),
                EmbeddingLinear(embedder),
                Retrieval(embedder, k=min(10, size)),
            ):
                approach.fit(texts, labels)
                proba = approach.predict_proba(test_texts)
                pred = approach.classes_[proba.argmax(axis=1)].astype(object)
                pred[proba.max(axis=1) <= 0] = None
                rows.append(
                    {
                        "approach": approach.name,
                        "per_class": size,
                        "seed": seed,
                        "macro_f1": ev.macro_f1(truth, pred, classes),
                    }
                )
    curve_names = {row["approach"] for row in rows}
    all_per_class = round(len(split.train) / len(classes))
    for rung in full or []:
        if rung.approach.name not in curve_names or len(rung.items) != len(split.test):
            continue
        pred = rung.predictions[sample]
        rows.append(
            {
                "approach": rung.approach.name,
                "per_class": all_per_class,
                "seed": 0,
                "macro_f1": ev.macro_f1(truth, pred, classes),
            }
        )
    return pd.DataFrame(rows)


def kb_retrieval_quality(kb: KnowledgeBaseIndex, gold: pd.DataFrame) -> pd.DataFrame:
    """Recall@k, MRR and nDCG of BM25 and of embeddings on the gold questions."""
    position = {doc: i for i, doc in enumerate(kb.documents["doc_id"])}
    known = gold["doc_id"].isin(position)
    gold = gold[known]
    if gold.empty:
        return pd.DataFrame()
    relevant = gold["doc_id"].map(position).to_numpy()
    questions = gold["question"].tolist()
    rows = [{"retriever": "BM25", **ev.retrieval_quality(kb.search_bm25(questions, 5), relevant)}]
    if kb.embedder is not None:
        rows.append(
            {
                "retriever": "embeddings",
                **ev.retrieval_quality(kb.search_embeddings(questions, 5), relevant),
            }
        )
    return pd.DataFrame(rows)


SIMPLICITY = [
    "majority class",
    "keyword rules",
    "TF-IDF + linear",
    "embeddings + linear",
    "retrieval (BM25 + embeddings)",
    "RAG (LLM + retrieved context)",
    "hybrid (classifier, else fallback)",
]


def recommend(rungs: list[RungResult], p: TriageParameters, spec: dict | None) -> dict[str, Any]:
    """The simplest approach that routes at least ``min_coverage`` of tickets at the target
    precision within the latency budget, and what it is worth against the success metric."""
    tolerance = 0.01  # a measured precision a hair under the target still counts
    ordered = sorted(rungs, key=lambda r: SIMPLICITY.index(r.approach.name))
    meets = [
        r
        for r in ordered
        if r.coverage.coverage >= p.min_coverage
        and np.nan_to_num(r.coverage.precision) >= p.target_precision - tolerance
        and r.speed.p95_ms <= p.latency_budget_ms
    ]
    best_cov = max(ordered, key=lambda r: r.coverage.coverage)
    if meets:
        chosen = meets[0]
        reason = (
            f"{chosen.approach.name} is the simplest approach that auto-routes "
            f"{chosen.coverage.coverage:.0%} of tickets at "
            f"{np.nan_to_num(chosen.coverage.precision):.0%} precision (target "
            f"{p.target_precision:.0%}, at least {p.min_coverage:.0%} routed) with a p95 "
            f"latency of {chosen.speed.p95_ms:.1f} ms."
        )
    else:
        chosen = None
        reason = (
            f"No approach auto-routes {p.min_coverage:.0%} of tickets at "
            f"{p.target_precision:.0%} precision within {p.latency_budget_ms:g} ms. The "
            f"best, {best_cov.approach.name}, routes {best_cov.coverage.coverage:.0%}: "
            "ship it as a suggestion to agents, not as automatic routing, and label more "
            "of the confused classes."
        )
    out: dict[str, Any] = {"approach": chosen.approach.name if chosen else None, "reason": reason}
    if chosen is not None:
        saved = chosen.coverage.coverage * p.minutes_saved_per_routed_ticket
        out["minutes_saved_per_ticket"] = saved
        effect = (
            f"Routing {chosen.coverage.coverage:.0%} of tickets automatically saves about "
            f"{saved:.1f} minutes per ticket on average "
            f"({p.minutes_saved_per_routed_ticket:g} min per routed ticket)."
        )
        if spec:
            baseline = float(spec["baseline"]["value"])
            unit = spec["metric"]["unit"]
            minutes = {"minutes": 1, "hours": 60, "days": 1440}[unit]
            if spec["metric"].get("lower_is_better", True):
                relative = saved / (baseline * minutes)
                out["projected_relative_change"] = -relative
                effect += (
                    f" Against the Chapter 1 baseline of {baseline:.1f} {unit} that is "
                    f"about {relative:.1%} off the {spec['metric']['label']}, if routing "
                    "time is on the critical path; the pilot measures the real effect."
                )
        out["projected_effect"] = effect
    return out


def export_model(result: LadderResult, folder: Path) -> Path | None:
    """Save the recommended approach and its metadata (data hash, parameters, metrics, labels)."""
    import joblib
    import sklearn

    name = result.recommendation.get("approach")
    if name is None:
        return None
    rung = result.rung(name)
    target = folder / "model"
    target.mkdir(parents=True, exist_ok=True)
    model_path = target / "triage_model.joblib"
    joblib.dump(rung.approach, model_path, compress=3)
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
    version = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    metadata = {
        "name": "ticket-triage",
        "version": version,
        "approach": name,
        "created": datetime.now(UTC).isoformat(),
        "model_file": model_path.name,
        "model_sha256": digest,
        "data_sha256": result.examples.data_hash,
        "training_rows": len(result.split.train),
        "split": {
            "policy": result.split.policy,
            "cutoff": str(result.split.cutoff) if result.split.cutoff is not None else None,
        },
        "labels": [str(c) for c in rung.approach.classes_],
        "parameters": {
            k: v for k, v in result.params.as_dict().items() if not k.startswith("llm_api")
        },
        "metrics": {
            "accuracy": rung.quality["accuracy"].as_dict(),
            "macro_f1": rung.quality["macro_f1"].as_dict(),
            "coverage_at_target": rung.coverage.coverage,
            "precision_when_routed": rung.coverage.precision,
            "threshold": rung.coverage.threshold,
            "p95_ms": rung.speed.p95_ms,
        },
        "runtime": {"pilot2prod": __version__, "scikit-learn": sklearn.__version__},
    }
    (target / "metadata.json").write_text(json.dumps(metadata, indent=2, default=str) + "\n")
    return model_path


def run_ladder(p: TriageParameters) -> LadderResult:
    """Load, split, train every rung, evaluate on the frozen test split, recommend."""
    examples = load_examples(
        p.examples_path,
        p.text_list,
        p.label_column,
        p.time_column,
        p.merge_label_typos,
        drop_rare_classes=p.drop_rare_classes,
        id_column=p.id_column,
    )
    split = split_examples(examples, p.test_share, p.seed, by_time=bool(p.time_column))
    return ladder_on_split(examples, split, p)


def ladder_on_split(
    examples: Examples, split: Split, p: TriageParameters, with_learning_curve: bool = True
) -> LadderResult:
    """Train every rung on ``split.train`` and evaluate it on ``split.test``."""
    findings: list[str] = []
    unseen = sorted(set(split.test["label"]) - set(split.train["label"]))
    if unseen:
        findings.append(
            f"{len(unseen)} class(es) occur only in the test period and cannot be "
            f"learned: {', '.join(unseen)}."
        )
    train_texts = split.train["text"].tolist()
    train_labels = split.train["label"].to_numpy()
    n_test = len(split.test)
    all_items = np.arange(n_test)
    rng = np.random.default_rng(p.seed)
    # Half the test items choose each rung's threshold, the other half measure it.
    choose_on = np.zeros(n_test, dtype=bool)
    choose_on[rng.permutation(n_test)[: n_test // 2]] = True

    embedder = WordLlamaEmbedder()
    rungs: list[RungResult] = []
    majority = MajorityClass()
    rules = KeywordRules()
    tfidf = TfidfLinear(seed=p.seed)
    embedding = EmbeddingLinear(embedder)
    retrieval = Retrieval(embedder)
    for approach in (majority, rules, tfidf, embedding, retrieval):
        seconds = _fit_timed(approach, train_texts, train_labels)
        rungs.append(_evaluate(approach, seconds, split, all_items, choose_on, p))

    kb = None
    if p.kb_path:
        documents = load_knowledge_base(p.kb_path, p.kb_id_column, p.kb_text_column)
        kb = KnowledgeBaseIndex(documents, embedder)

    fallback: Approach = retrieval
    if p.llm.enabled:
        llm = LLMClassifier(p.llm, retrieval, kb).fit(train_texts, train_labels)
        cap = min(n_test, p.llm_max_items)
        items = np.sort(rng.choice(n_test, size=cap, replace=False))
        try:
            start = time.perf_counter()
            result = _evaluate(
                llm, 0.0, split, items, choose_on[items], p, speed=ev.Speed(0.0, 0.0, 0.0, 1.0)
            )
            elapsed = time.perf_counter() - start
            calls = max(1, llm.requests + llm.cache_hits)
            per_item = llm.cost() / calls
            per_call_ms = elapsed / calls * 1000
            result.speed = ev.Speed(0.0, per_call_ms, per_call_ms, 1000 / max(per_call_ms, 1e-6))
            result.cost_per_1000 = ev.cost_per_1000(
                result.speed, p.compute_price_per_hour, per_item
            )
            rungs.append(result)
            fallback = llm
            if cap < n_test:
                findings.append(
                    f"The LLM rung was evaluated on {cap} of {n_test} test tickets "
                    "(llm_max_items) to bound its cost."
                )
            if llm.abstentions:
                findings.append(
                    f"The LLM gave {llm.abstentions} answer(s) that were not a "
                    "valid label; they count as abstentions."
                )
        except LLMUnavailable as exc:
            findings.append(str(exc))
        except Pilot2ProdError as exc:  # pragma: no cover - defensive
            findings.append(f"The LLM rung was skipped: {exc}")

    # The classifier answers alone above the threshold that met the target precision on the
    # threshold-choosing half of the test split (chosen there, never on the measured half).
    threshold = rungs[2].coverage.threshold
    hybrid = Hybrid(tfidf, fallback, threshold=threshold if np.isfinite(threshold) else 1.01)
    hybrid.fit(train_texts, train_labels)
    hybrid_items = all_items
    if fallback.needs_llm:
        hybrid_items = rungs[-1].items
    try:
        rungs.append(
            _evaluate(
                hybrid,
                rungs[2].speed.train_seconds + rungs[4].speed.train_seconds,
                split,
                hybrid_items,
                choose_on[hybrid_items],
                p,
            )
        )
    except LLMUnavailable as exc:  # pragma: no cover - the LLM answered a moment ago
        findings.append(str(exc))

    dups = near_duplicates(split.train["text"], split.test["text"])
    if "id" in split.train:
        dups["train_id"] = split.train["id"].to_numpy()[dups["train_index"]]
        dups["test_id"] = split.test["id"].to_numpy()[dups["test_index"]]
    if len(dups):
        findings.append(
            f"{len(dups)} test ticket(s) repeat a training ticket almost word for "
            "word; scores on them flatter every approach that memorises."
        )

    ranked = sorted(rungs[:5], key=lambda r: -r.quality["macro_f1"].estimate)
    a, b = ranked[0], ranked[1]
    mc = ev.mcnemar_test(a.correct, b.correct)
    mc.update({"first": a.approach.name, "second": b.approach.name})

    kb_quality = pd.DataFrame()
    if kb is not None and p.gold_path:
        from pilot2prod.sources import read_table, require_columns

        gold = read_table(p.gold_path, "gold_path")
        require_columns(
            gold,
            {"gold_question_column": p.gold_question_column, "gold_doc_column": p.gold_doc_column},
            "the gold file",
        )
        gold = pd.DataFrame(
            {
                "question": gold[p.gold_question_column].astype(str),
                "doc_id": gold[p.gold_doc_column].astype(str),
            }
        )
        kb_quality = kb_retrieval_quality(kb, gold)

    spec = None
    if p.metric_spec_path:
        spec = yaml.safe_load(Path(p.metric_spec_path).read_text(encoding="utf-8"))
    best = rungs[2]  # the classifier: per-class view of the workhorse rung
    truth = split.test["label"].to_numpy(dtype=object)
    result = LadderResult(
        params=p,
        examples=examples,
        split=split,
        rungs=rungs,
        findings=findings,
        duplicates=dups,
        learning_curve=(
            learning_curve(split, embedder, p, rungs)
            if with_learning_curve
            else pd.DataFrame(columns=["approach", "per_class", "seed", "macro_f1"])
        ),
        kb_quality=kb_quality,
        mcnemar=mc,
        recommendation=recommend(rungs, p, spec),
        keyword_rules=rules,
        per_class=ev.per_class_f1(truth, best.predictions, np.unique(train_labels)),
        confusions=ev.confusion_pairs(truth, best.predictions),
    )
    return result


def cost_table(r: LadderResult) -> pd.DataFrame:
    """Fixed (training compute) and per-item cost of each approach, and the volume at which
    its total cost equals the recommended approach's (break-even; empty when they never
    cross)."""
    chosen_name = r.recommendation.get("approach") or r.rungs[2].approach.name
    chosen = r.rung(chosen_name)
    rows = []
    for x in r.rungs:
        per_item = x.cost_per_1000 / 1000.0
        row = {
            "approach": x.approach.name,
            "training cost": x.fixed_cost,
            "cost per 1000 items": x.cost_per_1000,
            "break-even items vs recommended": None,
        }
        if x is not chosen:
            row["break-even items vs recommended"] = ev.break_even_items(
                chosen.fixed_cost, chosen.cost_per_1000 / 1000.0, x.fixed_cost, per_item
            )
        rows.append(row)
    return pd.DataFrame(rows)


def precision_curves(r: LadderResult) -> dict[str, pd.DataFrame]:
    return {
        x.approach.name: ev.precision_coverage_curve(x.confidence, x.correct)
        for x in r.rungs
        if x.approach.name != "majority class"
    }


def glue_values(r: LadderResult) -> dict[str, Any]:
    """The numbers the Chapter 3 prose quotes (glued as ``c3_*``)."""

    def rung(name: str) -> RungResult:
        return r.rung(name)

    tfidf, rules = rung("TF-IDF + linear"), rung("keyword rules")
    chosen = r.recommendation.get("approach")
    curve = r.learning_curve.groupby(["approach", "per_class"])["macro_f1"].mean()
    return {
        "c3_train": len(r.split.train),
        "c3_test": len(r.split.test),
        "c3_classes": len(r.examples.labels),
        "c3_majority_acc_pct": 100 * rung("majority class").quality["accuracy"].estimate,
        "c3_rules_f1": rules.quality["macro_f1"].estimate,
        "c3_rules_coverage_pct": 100 * rules.coverage.coverage,
        "c3_tfidf_f1": tfidf.quality["macro_f1"].estimate,
        "c3_tfidf_f1_low": tfidf.quality["macro_f1"].low,
        "c3_tfidf_f1_high": tfidf.quality["macro_f1"].high,
        "c3_tfidf_acc_pct": 100 * tfidf.quality["accuracy"].estimate,
        "c3_tfidf_coverage_pct": 100 * tfidf.coverage.coverage,
        "c3_tfidf_p95_ms": tfidf.speed.p95_ms,
        "c3_embed_f1": rung("embeddings + linear").quality["macro_f1"].estimate,
        "c3_retrieval_f1": rung("retrieval (BM25 + embeddings)").quality["macro_f1"].estimate,
        "c3_mcnemar_p": r.mcnemar["p_value"],
        "c3_near_duplicates": len(r.duplicates),
        "c3_tfidf_f1_at_20": float(curve.get(("TF-IDF + linear", 20), float("nan"))),
        "c3_target_pct": 100 * r.params.target_precision,
        "c3_recommended": chosen or "none",
        "c3_kb_recall5": float(r.kb_quality.set_index("retriever")["recall@5"].max())
        if not r.kb_quality.empty
        else float("nan"),
    }


def results_dict(r: LadderResult) -> dict[str, Any]:
    """The machine-readable findings written to ``results.json``."""
    return {
        "notebook": TriageParameters.notebook,
        "split": {
            "policy": r.split.policy,
            "train": len(r.split.train),
            "test": len(r.split.test),
            "cutoff": str(r.split.cutoff) if r.split.cutoff is not None else None,
        },
        "labels": r.examples.labels,
        "cleaning": r.examples.findings.__dict__,
        "ladder": r.summary().to_dict(orient="records"),
        "coverage": {x.approach.name: x.coverage.__dict__ for x in r.rungs},
        "mcnemar": r.mcnemar,
        "near_duplicates": {
            "count": len(r.duplicates),
            "pairs": r.duplicates.drop(
                columns=["train_index", "test_index"], errors="ignore"
            ).to_dict("records"),
        },
        "learning_curve": r.learning_curve.groupby(["approach", "per_class"])["macro_f1"]
        .agg(["mean", "std"])
        .reset_index()
        .to_dict("records"),
        "kb_retrieval": r.kb_quality.to_dict("records"),
        "per_class": r.per_class.to_dict("records"),
        "confusions": r.confusions.to_dict("records"),
        "findings": r.findings,
        "recommendation": r.recommendation,
    }
