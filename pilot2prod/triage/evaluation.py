"""Evaluation of the ladder on one frozen test split: quality, confidence, speed and cost."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.contingency_tables import mcnemar

from pilot2prod.stats import Interval


def _weights(n: int, n_resamples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(np.float32)


def macro_f1_from_counts(tp: np.ndarray, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Macro-F1 over classes that occur in the truth or the predictions (last axis = class)."""
    denom = predicted + actual
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp, dtype=float), where=denom > 0)
    present = denom > 0
    return (f1 * present).sum(axis=-1) / np.maximum(present.sum(axis=-1), 1)


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, classes: np.ndarray) -> float:
    """Macro-F1 of one set of predictions (``None`` = abstained, counted wrong)."""
    tp = np.array([np.sum((y_true == c) & (y_pred == c)) for c in classes])
    predicted = np.array([np.sum(y_pred == c) for c in classes])
    actual = np.array([np.sum(y_true == c) for c in classes])
    return float(macro_f1_from_counts(tp, predicted, actual))


def quality(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    classes: np.ndarray,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, Interval]:
    """Accuracy and macro-F1 with percentile bootstrap intervals (abstentions count wrong)."""
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    correct = (y_true == y_pred).astype(float)
    true_hot = np.stack([(y_true == c) for c in classes], axis=1).astype(np.float32)
    pred_hot = np.stack([(y_pred == c) for c in classes], axis=1).astype(np.float32)
    tp_hot = true_hot * pred_hot
    w = _weights(len(y_true), n_resamples, seed)
    acc_reps = (w @ correct) / len(y_true)
    f1_reps = macro_f1_from_counts(w @ tp_hot, w @ pred_hot, w @ true_hot)
    point_f1 = float(macro_f1_from_counts(tp_hot.sum(0), pred_hot.sum(0), true_hot.sum(0)))
    tail = (1 - confidence) / 2
    return {
        "accuracy": Interval(
            float(correct.mean()), *np.quantile(acc_reps, [tail, 1 - tail]), confidence
        ),
        "macro_f1": Interval(point_f1, *np.quantile(f1_reps, [tail, 1 - tail]), confidence),
    }


def per_class_f1(y_true: np.ndarray, y_pred: np.ndarray, classes: np.ndarray) -> pd.DataFrame:
    rows = []
    for c in classes:
        tp = int(np.sum((y_true == c) & (y_pred == c)))
        predicted = int(np.sum(y_pred == c))
        actual = int(np.sum(y_true == c))
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(
            {"class": c, "support": actual, "precision": precision, "recall": recall, "f1": f1}
        )
    return pd.DataFrame(rows)


def confusion_pairs(y_true: np.ndarray, y_pred: np.ndarray, top: int = 8) -> pd.DataFrame:
    """The most frequent (true, predicted) mistakes: the pairs worth a rule or more labels."""
    wrong = pd.DataFrame({"true": y_true, "predicted": y_pred})
    wrong = wrong[wrong["true"] != wrong["predicted"]].fillna("(abstained)")
    if wrong.empty:
        return pd.DataFrame(columns=["true", "predicted", "count", "share_of_true"])
    counts = wrong.value_counts().rename("count").reset_index().head(top)
    support = pd.Series(y_true).value_counts()
    counts["share_of_true"] = counts["count"] / counts["true"].map(support)
    return counts


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 15
) -> float:
    """ECE: the average gap between confidence and accuracy over equal-width bins."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(confidence[mask].mean() - correct[mask].mean())
    return float(ece)


def mcnemar_test(correct_a: np.ndarray, correct_b: np.ndarray) -> dict[str, float]:
    """McNemar's test on paired correctness: do two approaches differ on the same items?"""
    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    table = [[int(np.sum(a & b)), int(np.sum(a & ~b))], [int(np.sum(~a & b)), int(np.sum(~a & ~b))]]
    discordant = table[0][1] + table[1][0]
    result = mcnemar(table, exact=discordant < 25, correction=True)
    n = len(a)
    # The paired difference in accuracy (first minus second) with a 95 % Wald interval for
    # paired proportions: what a non-significant test leaves open.
    diff = (table[0][1] - table[1][0]) / n if n else math.nan
    se = math.sqrt(max(discordant - (table[0][1] - table[1][0]) ** 2 / n, 0.0)) / n if n else 0.0
    return {
        "only_first_right": table[0][1],
        "only_second_right": table[1][0],
        "statistic": float(result.statistic),
        "p_value": float(result.pvalue),
        "accuracy_difference": diff,
        "difference_low": diff - 1.96 * se,
        "difference_high": diff + 1.96 * se,
    }


def mcnemar_reading(test: dict, first: str, second: str, alpha: float = 0.05) -> str:
    """What McNemar's test shows and what it cannot: a large p-value is no evidence that two
    approaches are equally good, only that this test set cannot tell them apart; the interval
    of the difference says how large a difference remains possible."""
    low, high = 100 * test["difference_low"], 100 * test["difference_high"]
    span = f"the difference in accuracy lies between {low:+.1f} and {high:+.1f} points (95 %)"
    if test["p_value"] < alpha:
        better, worse = (first, second) if test["accuracy_difference"] > 0 else (second, first)
        return (
            f"{better} is right on more tickets than {worse} (McNemar p = "
            f"{test['p_value']:.3f}); {span}."
        )
    return (
        f"This test set holds no clear evidence that {first} and {second} differ (McNemar p = "
        f"{test['p_value']:.2f}). That does not make them equally good: {span}, so a "
        "difference of that size cannot be ruled out. More test tickets narrow it."
    )


@dataclass(frozen=True)
class Coverage:
    """Auto-routing at a target precision: threshold chosen on one half, reported on the other."""

    target_precision: float
    threshold: float
    coverage: float
    precision: float
    routed: int
    evaluated: int


def coverage_at_precision(
    confidence: np.ndarray,
    correct: np.ndarray,
    target: float,
    choose_on: np.ndarray,
) -> Coverage:
    """Pick the lowest confidence threshold whose precision reaches ``target`` on the items in
    ``choose_on`` (a boolean mask), then measure coverage and precision on the other items.
    Choosing and measuring on different items keeps the reported precision honest."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    choose = np.asarray(choose_on, dtype=bool)
    c_conf, c_ok = confidence[choose], correct[choose]
    order = np.argsort(-c_conf, kind="stable")
    ranked = c_conf[order]
    running = np.cumsum(c_ok[order]) / np.arange(1, len(order) + 1)
    # A threshold routes every item at or above it, ties included: only the last item of a run
    # of equal confidences is a threshold one can choose (the majority-class rung gives every
    # item the same confidence, so it routes all or nothing).
    last_of_tie = np.append(ranked[1:] < ranked[:-1], True) if len(ranked) else ranked > 0
    ok = np.flatnonzero((running >= target) & (ranked > 0) & last_of_tie)
    threshold = float(c_conf[order][ok[-1]]) if len(ok) else math.inf
    e_conf, e_ok = confidence[~choose], correct[~choose]
    routed = (e_conf >= threshold) & (e_conf > 0)
    coverage = float(routed.mean()) if len(e_conf) else 0.0
    precision = float(e_ok[routed].mean()) if routed.any() else float("nan")
    return Coverage(target, threshold, coverage, precision, int(routed.sum()), len(e_conf))


def out_of_scope(
    truth: np.ndarray,
    predictions: np.ndarray,
    routing_confidence: np.ndarray,
    coverage: Coverage,
    choose_on: np.ndarray,
    label: str,
) -> dict[str, float | int]:
    """Requests that fit no queue (``label``), on the half of the test split where coverage is
    measured: how many the approach recognised as out of scope (recall), and how many it
    routed automatically to a real queue at its chosen threshold (each one a customer sent to
    the wrong team; they never count as time saved)."""
    measured = ~np.asarray(choose_on, dtype=bool)
    truth, predictions = np.asarray(truth, dtype=object), np.asarray(predictions, dtype=object)
    is_oos = (truth == label) & measured
    routed = (np.asarray(routing_confidence) >= coverage.threshold) & (routing_confidence > 0)
    n = int(is_oos.sum())
    routed_oos = int((is_oos & routed).sum())
    return {
        "label": label,
        "test_items": n,
        "recall": float((predictions[is_oos] == label).mean()) if n else float("nan"),
        "routed_to_a_queue": routed_oos,
        "routed_share_of_measured": routed_oos / int(measured.sum()) if measured.any() else 0.0,
    }


def precision_coverage_curve(
    confidence: np.ndarray, correct: np.ndarray, points: int = 50
) -> pd.DataFrame:
    order = np.argsort(-np.asarray(confidence), kind="stable")
    ok = np.asarray(correct, dtype=float)[order]
    n = len(ok)
    ks = np.unique(np.linspace(1, n, min(points, n)).astype(int))
    precision = np.cumsum(ok)[ks - 1] / ks
    return pd.DataFrame({"coverage": ks / n, "precision": precision})


@dataclass(frozen=True)
class Speed:
    train_seconds: float
    p50_ms: float
    p95_ms: float
    items_per_second: float


def measure_speed(
    approach,
    texts: list[str],
    train_seconds: float,
    batch_seconds: float,
    n_single: int = 200,
    seed: int = 0,
) -> Speed:  # noqa: ANN001
    """Latency one item at a time (p50, p95), measured here and now, and the throughput of
    the batch prediction that took ``batch_seconds`` for ``texts``."""
    rng = np.random.default_rng(seed)
    sample = [
        texts[i] for i in rng.choice(len(texts), size=min(n_single, len(texts)), replace=False)
    ]
    approach.predict_proba(sample[:5])  # warm-up: lazy loading is not latency
    single = []
    for text in sample:
        start = time.perf_counter()
        approach.predict_proba([text])
        single.append((time.perf_counter() - start) * 1000)
    return Speed(
        train_seconds,
        float(np.percentile(single, 50)),
        float(np.percentile(single, 95)),
        len(texts) / max(batch_seconds, 1e-9),
    )


def cost_per_1000(
    speed: Speed, compute_price_per_hour: float, llm_cost_per_item: float = 0.0
) -> float:
    compute = 1000.0 / speed.items_per_second / 3600.0 * compute_price_per_hour
    return compute + 1000.0 * llm_cost_per_item


def break_even_items(
    fixed_a: float, per_item_a: float, fixed_b: float, per_item_b: float
) -> float | None:
    """The volume at which A and B cost the same (fixed + volume x per-item), or ``None``
    when they never cross: then one of them is cheaper at every volume."""
    if per_item_a == per_item_b:
        return None
    volume = (fixed_b - fixed_a) / (per_item_a - per_item_b)
    return volume if volume > 0 else None


def retrieval_quality(ranked: np.ndarray, relevant: np.ndarray, ks=(1, 3, 5)) -> dict[str, float]:
    """Recall@k, MRR and nDCG@max(k) for one relevant document per query.

    ``ranked`` holds document positions per query (best first); ``relevant`` the position of
    the answering document."""
    ranked = np.asarray(ranked)
    hits = ranked == np.asarray(relevant)[:, None]
    rank = np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, 0)
    out = {f"recall@{k}": float(np.mean((rank > 0) & (rank <= k))) for k in ks}
    out["mrr"] = float(np.mean(np.where(rank > 0, 1.0 / np.maximum(rank, 1), 0.0)))
    k_max = max(ks)
    gain = np.zeros(len(rank))
    found = (rank > 0) & (rank <= k_max)
    gain[found] = 1.0 / np.log2(rank[found] + 1)
    out[f"ndcg@{k_max}"] = float(gain.mean())
    return out
