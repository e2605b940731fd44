"""The ladder of approaches for one routing decision, trained on one split and evaluated on the
same frozen test split. Vectorisers, indexes and embeddings are fitted on the training split
only. Rungs are kept by their stable id (:data:`~pilot2prod.triage.models.LADDER`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from pilot2prod.triage import evaluation as ev
from pilot2prod.triage.data import Split
from pilot2prod.triage.llm import KnowledgeBaseIndex, LLMClassifier, LLMSettings, LLMUnavailable
from pilot2prod.triage.models import (
    LADDER,
    Approach,
    EmbeddingLinear,
    Hybrid,
    KeywordRules,
    MajorityClass,
    Retrieval,
    TfidfLinear,
    WordLlamaEmbedder,
)
from pilot2prod.triage.params import LOCAL, Parameters

#: The classifier the hybrid trusts when confident, and whose mistakes are shown per class.
WORKHORSE = "tfidf"
#: Rungs trained on every ticket (the LLM rung sees a bounded sample, the hybrid both).
CLASSIC = ("majority", "rules", "tfidf", "embeddings", "retrieval")


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
    #: With ``out_of_scope_label``: how the rung treats requests that fit no queue.
    out_of_scope: dict | None = None

    @property
    def id(self) -> str:
        return self.approach.id

    @property
    def correct(self) -> np.ndarray:
        return self.predictions == self.truth


@dataclass
class Ladder:
    """The evaluated rungs by id, in ladder order, and what was noticed on the way."""

    rungs: dict[str, RungResult]
    findings: list[str]
    kb: KnowledgeBaseIndex | None
    embedder: WordLlamaEmbedder

    def __getitem__(self, rung_id: str) -> RungResult:
        return self.rungs[rung_id]

    def __iter__(self):
        return iter(self.rungs.values())


def _evaluate(
    approach: Approach,
    train_seconds: float,
    split: Split,
    items: np.ndarray,
    choose_on: np.ndarray,
    p: Parameters,
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
    routing = confidence
    if p.out_of_scope_label:
        # "None of these" goes to a person: never an automatic routing, whatever the confidence.
        routing = np.where(predictions == p.out_of_scope_label, 0.0, confidence)
    coverage = ev.coverage_at_precision(routing, correct, p.target_precision, choose_on)
    out_of_scope = (
        ev.out_of_scope(truth, predictions, routing, coverage, choose_on, p.out_of_scope_label)
        if p.out_of_scope_label
        else None
    )
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
        out_of_scope,
    )


def _fit_timed(approach: Approach, texts: list[str], labels: np.ndarray) -> float:
    start = time.perf_counter()
    approach.fit(texts, labels)
    return time.perf_counter() - start


def threshold_half(n_test: int, seed: int) -> np.ndarray:
    """Half the test items choose each rung's threshold, the other half measure it."""
    choose_on = np.zeros(n_test, dtype=bool)
    choose_on[np.random.default_rng(seed).permutation(n_test)[: n_test // 2]] = True
    return choose_on


def classic_rungs(
    split: Split, p: Parameters, embedder: WordLlamaEmbedder, choose_on: np.ndarray
) -> dict[str, RungResult]:
    """Majority class, keyword rules, TF-IDF, embeddings and retrieval on every test item."""
    texts, labels = split.train["text"].tolist(), split.train["label"].to_numpy()
    approaches = {
        "majority": MajorityClass(),
        "rules": KeywordRules(),
        "tfidf": TfidfLinear(seed=p.seed),
        "embeddings": EmbeddingLinear(embedder),
        "retrieval": Retrieval(embedder),
    }
    items = np.arange(len(split.test))
    out = {}
    for rung_id, approach in approaches.items():
        seconds = _fit_timed(approach, texts, labels)
        out[rung_id] = _evaluate(approach, seconds, split, items, choose_on, p)
    return out


@contextmanager
def llm_endpoint(p: Parameters, findings: list[str]) -> Iterator[LLMSettings | None]:
    """The LLM settings for this run: ``None`` when the LLM is off (or the bundled model
    cannot start, which becomes a finding); for ``llm_base_url=local``, the bundled model
    served on loopback while the ladder needs it."""
    settings = p.llm
    if not settings.enabled:
        yield None
        return
    if settings.base_url != LOCAL:
        yield settings
        return
    from pilot2prod.triage.local_llm import serve

    try:
        server = serve()
        url = server.__enter__()
    except LLMUnavailable as exc:
        findings.append(str(exc))
        yield None
        return
    try:
        yield replace(settings, base_url=url)
    finally:
        server.__exit__(None, None, None)


def llm_rung(
    split: Split,
    p: Parameters,
    settings: LLMSettings,
    retrieval: Retrieval,
    kb: KnowledgeBaseIndex | None,
    choose_on: np.ndarray,
    findings: list[str],
) -> RungResult | None:
    """The RAG rung on a bounded sample of test items; ``None`` (with a finding) when the
    endpoint cannot be used."""
    llm = LLMClassifier(settings, retrieval, kb).fit(
        split.train["text"].tolist(), split.train["label"].to_numpy()
    )
    n_test = len(split.test)
    cap = min(n_test, p.llm_max_items)
    rng = np.random.default_rng(p.seed + 1)
    items = np.sort(rng.choice(n_test, size=cap, replace=False))
    try:
        start = time.perf_counter()
        result = _evaluate(
            llm, 0.0, split, items, choose_on[items], p, speed=ev.Speed(0.0, 0.0, 0.0, 1.0)
        )
        elapsed = time.perf_counter() - start
    except LLMUnavailable as exc:
        findings.append(str(exc))
        return None
    calls = max(1, llm.requests + llm.cache_hits)
    # Latency per answer as the endpoint gave it (recorded in the cache too), plus this
    # machine's share of the work (retrieval, prompt building) spread over the calls.
    asked = np.asarray(llm.latencies, dtype=float) * 1000
    overhead_ms = max(elapsed * 1000 - asked.sum(), 0.0) / calls
    per_call = asked + overhead_ms if len(asked) else np.array([elapsed * 1000 / calls])
    p50, p95 = float(np.percentile(per_call, 50)), float(np.percentile(per_call, 95))
    result.speed = ev.Speed(0.0, p50, p95, 1000 / max(float(per_call.mean()), 1e-6))
    result.cost_per_1000 = ev.cost_per_1000(
        result.speed, p.compute_price_per_hour, llm.cost() / calls
    )
    if cap < n_test:
        findings.append(
            f"The LLM rung was evaluated on {cap} of {n_test} test tickets (llm_max_items) to "
            "bound its cost."
        )
    if llm.abstentions:
        findings.append(
            f"The LLM gave {llm.abstentions} answer(s) that were not a valid label; they count "
            "as abstentions."
        )
    return result


def hybrid_rung(
    split: Split,
    p: Parameters,
    rungs: dict[str, RungResult],
    choose_on: np.ndarray,
) -> RungResult:
    """The classifier answers alone above the threshold that met the target precision on the
    threshold-choosing half of the test split (never on the measured half); below it, the
    LLM rung decides when there is one, else retrieval."""
    classifier = rungs[WORKHORSE]
    fallback = rungs.get("rag") or rungs["retrieval"]
    threshold = classifier.coverage.threshold
    hybrid = Hybrid(
        classifier.approach, fallback.approach, threshold if np.isfinite(threshold) else 1.01
    )
    hybrid.fit(split.train["text"].tolist(), split.train["label"].to_numpy())
    items = fallback.items if fallback.approach.needs_llm else np.arange(len(split.test))
    train_seconds = classifier.speed.train_seconds + rungs["retrieval"].speed.train_seconds
    return _evaluate(hybrid, train_seconds, split, items, choose_on[items], p)


#: A test set whose class mix differs from training's by at least this total variation
#: distance (half the sum of absolute differences of the shares) is reported.
MIX_SHIFT = 0.2


def class_mix_shift(split: Split) -> str:
    """A sentence when the test set's class mix is far from training's (a process that
    changed, a period when one problem spiked), else ""."""
    mix = split.class_mix()
    difference = (mix["test share"] - mix["train share"]).abs()
    distance = 0.5 * float(difference.sum())
    if distance < MIX_SHIFT:
        return ""
    worst = mix.assign(d=difference).nlargest(3, "d")
    shown = "; ".join(
        f"{row['class']}: {row['train share']:.0%} of training, {row['test share']:.0%} of test"
        for _, row in worst.iterrows()
    )
    return (
        f"The test set's class mix differs from training's ({shown}; total variation "
        f"{distance:.0%}): the scores describe the test period, and a model trained on the "
        "earlier one may be out of date. Check whether the process changed, and retrain on "
        "recent data."
    )


def run_ladder(split: Split, p: Parameters, kb_documents: pd.DataFrame | None = None) -> Ladder:
    """Train and evaluate every rung on ``split``, in ladder order."""
    findings: list[str] = []
    if p.out_of_scope_label and p.out_of_scope_label not in set(split.test["label"]):
        findings.append(
            f"out_of_scope_label '{p.out_of_scope_label}' occurs in no test ticket, so how the "
            "approaches treat requests that fit no queue could not be measured."
        )
    drift = class_mix_shift(split)
    if drift:
        findings.append(drift)
    unseen = sorted(set(split.test["label"]) - set(split.train["label"]))
    if unseen:
        findings.append(
            f"{len(unseen)} class(es) occur only in the test period and cannot be "
            f"learned: {', '.join(unseen)}."
        )
    embedder = WordLlamaEmbedder()
    choose_on = threshold_half(len(split.test), p.seed)
    rungs = classic_rungs(split, p, embedder, choose_on)
    kb = KnowledgeBaseIndex(kb_documents, embedder) if kb_documents is not None else None
    with llm_endpoint(p, findings) as settings:
        if settings is not None:
            rag = llm_rung(split, p, settings, rungs["retrieval"].approach, kb, choose_on, findings)
            if rag is not None:
                rungs["rag"] = rag
        try:
            rungs["hybrid"] = hybrid_rung(split, p, rungs, choose_on)
        except LLMUnavailable as exc:  # pragma: no cover - the LLM answered a moment ago
            findings.append(str(exc))
    ordered = {rung_id: rungs[rung_id] for rung_id in LADDER if rung_id in rungs}
    return Ladder(ordered, findings, kb, embedder)


def learning_curve(
    split: Split,
    embedder: WordLlamaEmbedder,
    p: Parameters,
    full: Ladder | None = None,
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
                pred = approach.predict(test_texts)
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
        rows.append(
            {
                "approach": rung.approach.name,
                "per_class": all_per_class,
                "seed": 0,
                "macro_f1": ev.macro_f1(truth, rung.predictions[sample], classes),
            }
        )
    return pd.DataFrame(rows, columns=["approach", "per_class", "seed", "macro_f1"])


def gold_matching(kb: KnowledgeBaseIndex, gold: pd.DataFrame) -> str:
    """How many gold questions name an article of the knowledge base, in a sentence; with
    examples of both sides when some do not (ids written differently, a missing article)."""
    ids = set(kb.documents["doc_id"])
    matched = gold["doc_id"].isin(ids)
    sentence = (
        f"{int(matched.sum()):,} of {len(gold):,} gold questions name an article of the "
        "knowledge base"
    )
    if matched.all():
        return sentence + "; all were scored."
    unmatched = list(dict.fromkeys(gold.loc[~matched, "doc_id"]))[:3]
    known = sorted(ids)[:3]
    return (
        f"{sentence}; only those were scored. Gold ids such as {', '.join(map(repr, unmatched))} "
        f"match no article (article ids look like {', '.join(map(repr, known))}: the front "
        "matter's id, else the file name without its suffix)."
    )


def kb_retrieval_quality(kb: KnowledgeBaseIndex, gold: pd.DataFrame) -> pd.DataFrame:
    """Recall@k, MRR and nDCG of BM25 and of embeddings on the gold questions that name an
    article of the knowledge base (:func:`gold_matching` says how many)."""
    position = {doc: i for i, doc in enumerate(kb.documents["doc_id"])}
    gold = gold[gold["doc_id"].isin(position)]
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
