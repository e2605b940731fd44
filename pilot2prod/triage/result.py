"""Chapter 3 as a whole: ``run(p) -> Result``, and the exported model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pilot2prod import __version__
from pilot2prod.chapter import Headline
from pilot2prod.errors import DataQualityError
from pilot2prod.handoff import MODEL_FOLDER, MetricSpec, ModelExport, sha256_of
from pilot2prod.privacy import mask_personal_text
from pilot2prod.sources import read_frame, require_columns
from pilot2prod.triage import evaluation as ev
from pilot2prod.triage.data import (
    Examples,
    KnowledgeBaseReport,
    Split,
    given_test_split,
    load_examples,
    load_knowledge_base,
    near_duplicates,
    split_examples,
)
from pilot2prod.triage.ladder import (
    WORKHORSE,
    Ladder,
    RungResult,
    gold_matching,
    kb_retrieval_quality,
    learning_curve,
    run_ladder,
)
from pilot2prod.triage.models import KeywordRules
from pilot2prod.triage.params import Parameters
from pilot2prod.triage.recommend import recommend

#: The ladder's rungs compared head to head by McNemar's test: the two best classic ones.
COMPARED = ("rules", "tfidf", "embeddings", "retrieval")


@dataclass
class Result:
    params: Parameters
    examples: Examples
    split: Split
    ladder: Ladder
    duplicates: pd.DataFrame
    learning_curve: pd.DataFrame
    kb_quality: pd.DataFrame
    mcnemar: dict[str, Any]
    recommendation: dict[str, Any]
    per_class: pd.DataFrame
    confusions: pd.DataFrame
    spec: MetricSpec | None = None

    @property
    def findings(self) -> list[str]:
        return self.ladder.findings

    @property
    def keyword_rules(self) -> KeywordRules:
        return self.ladder["rules"].approach

    def rung(self, rung_id: str) -> RungResult:
        return self.ladder[rung_id]

    def summary(self) -> pd.DataFrame:
        rows = []
        for r in self.ladder:
            q = r.quality
            rows.append(
                {
                    "rung": r.approach.rung,
                    "id": r.id,
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
            if r.out_of_scope is not None:
                rows[-1]["out-of-scope recall"] = r.out_of_scope["recall"]
                rows[-1]["out-of-scope routed to a queue"] = r.out_of_scope["routed_to_a_queue"]
        return pd.DataFrame(rows)

    def cost_table(self) -> pd.DataFrame:
        """Fixed (training compute) and per-item cost of each approach, and the volume at which
        its total cost equals the recommended approach's (empty when they never cross)."""
        chosen = self.ladder[self.recommendation.get("approach") or WORKHORSE]
        rows = []
        for x in self.ladder:
            row = {
                "approach": x.approach.name,
                "training cost": x.fixed_cost,
                "cost per 1000 items": x.cost_per_1000,
                "break-even items vs recommended": None,
            }
            if x is not chosen:
                row["break-even items vs recommended"] = ev.break_even_items(
                    chosen.fixed_cost,
                    chosen.cost_per_1000 / 1000.0,
                    x.fixed_cost,
                    x.cost_per_1000 / 1000.0,
                )
            rows.append(row)
        return pd.DataFrame(rows)

    def precision_curves(self) -> dict[str, pd.DataFrame]:
        return {
            x.approach.name: ev.precision_coverage_curve(x.confidence, x.correct)
            for x in self.ladder
            if x.id != "majority"
        }

    def headline(self) -> Headline:
        rec = self.recommendation
        facts = [
            (
                "Labelled tickets",
                f"{len(self.split.train):,} to train, {len(self.split.test):,} to test",
            ),
            (
                "Target",
                f"{self.params.target_precision:.0%} precision on at least "
                f"{self.params.min_coverage:.0%} of tickets",
            ),
        ]
        rung_id = rec.get("approach") or rec.get("nearest")
        if rung_id:
            r = self.ladder[rung_id]
            facts.append(
                (
                    "Recommended" if rec.get("approach") else "Nearest",
                    f"{r.approach.name}: routes {r.coverage.coverage:.0%} at "
                    f"{np.nan_to_num(r.coverage.precision):.1%} precision",
                )
            )
        if "projected_effect" in rec:
            facts.append(("Effect on the metric", rec["projected_effect"]))
        verdict = "SHIP" if rec.get("approach") else "NOT YET"
        return Headline(rec["reason"], verdict, facts)

    def glue_values(self) -> dict[str, Any]:
        """The numbers the Chapter 3 prose quotes (glued as ``c3_*``)."""
        tfidf, rules = self.ladder["tfidf"], self.ladder["rules"]
        curve = self.learning_curve.groupby(["approach", "per_class"])["macro_f1"].mean()
        kb = (
            float(self.kb_quality.set_index("retriever")["recall@5"].max())
            if not self.kb_quality.empty
            else float("nan")
        )
        return {
            "c3_train": len(self.split.train),
            "c3_test": len(self.split.test),
            "c3_classes": len(self.examples.labels),
            "c3_majority_acc_pct": 100 * self.ladder["majority"].quality["accuracy"].estimate,
            "c3_rules_f1": rules.quality["macro_f1"].estimate,
            "c3_rules_coverage_pct": 100 * rules.coverage.coverage,
            "c3_tfidf_f1": tfidf.quality["macro_f1"].estimate,
            "c3_tfidf_f1_low": tfidf.quality["macro_f1"].low,
            "c3_tfidf_f1_high": tfidf.quality["macro_f1"].high,
            "c3_tfidf_acc_pct": 100 * tfidf.quality["accuracy"].estimate,
            "c3_tfidf_coverage_pct": 100 * tfidf.coverage.coverage,
            "c3_tfidf_precision_pct": 100 * np.nan_to_num(tfidf.coverage.precision),
            "c3_tfidf_p95_ms": tfidf.speed.p95_ms,
            "c3_embed_f1": self.ladder["embeddings"].quality["macro_f1"].estimate,
            "c3_retrieval_f1": self.ladder["retrieval"].quality["macro_f1"].estimate,
            "c3_mcnemar_p": self.mcnemar["p_value"],
            "c3_near_duplicates": len(self.duplicates),
            "c3_tfidf_f1_at_20": float(curve.get((tfidf.approach.name, 20), float("nan"))),
            "c3_target_pct": 100 * self.params.target_precision,
            "c3_recommended": self.recommendation.get("approach_name") or "none",
            "c3_kb_recall5": kb,
            **self._rag_glue(),
        }

    def _rag_glue(self) -> dict[str, Any]:
        """The RAG rung's measured numbers (NaN when it did not run)."""
        if "rag" not in self.ladder.rungs:
            nan = float("nan")
            return {"c3_rag_items": 0, "c3_rag_acc_pct": nan, "c3_rag_p50_ms": nan,
                    "c3_rag_tokens": nan}  # fmt: skip
        rag = self.ladder["rag"]
        llm = rag.approach
        calls = max(1, llm.requests + llm.cache_hits)
        return {
            "c3_rag_items": len(rag.items),
            "c3_rag_acc_pct": 100 * rag.quality["accuracy"].estimate,
            "c3_rag_p50_ms": rag.speed.p50_ms,
            "c3_rag_tokens": llm.prompt_tokens / calls,
        }

    def results(self) -> dict[str, Any]:
        """The machine-readable findings written to ``results.json``."""
        return {
            "notebook": Parameters.notebook,
            "split": {
                "policy": self.split.policy,
                "protocol": self.split.protocol,
                "class_mix": self.split.class_mix().to_dict("records"),
                "train": len(self.split.train),
                "test": len(self.split.test),
                "cutoff": str(self.split.cutoff) if self.split.cutoff is not None else None,
            },
            "labels": self.examples.labels,
            "cleaning": self.examples.findings.__dict__,
            "ladder": self.summary().to_dict(orient="records"),
            "coverage": {x.id: x.coverage.__dict__ for x in self.ladder},
            "out_of_scope": {
                x.id: x.out_of_scope for x in self.ladder if x.out_of_scope is not None
            },
            "mcnemar": self.mcnemar,
            "near_duplicates": {
                "count": len(self.duplicates),
                "pairs": self.duplicates.drop(
                    columns=["train_index", "test_index"], errors="ignore"
                ).to_dict("records"),
            },
            "learning_curve": self.learning_curve.groupby(["approach", "per_class"])["macro_f1"]
            .agg(["mean", "std"])
            .reset_index()
            .to_dict("records"),
            "kb_retrieval": self.kb_quality.to_dict("records"),
            "per_class": self.per_class.to_dict("records"),
            "confusions": self.confusions.to_dict("records"),
            "findings": self.findings,
            "recommendation": self.recommendation,
            "metric_spec": self.spec.statement if self.spec else None,
        }


def leakage(split: Split) -> pd.DataFrame:
    """Test tickets that nearly repeat a training ticket, by id where ids exist."""
    dups = near_duplicates(split.train["text"], split.test["text"])
    if "id" in split.train:
        dups["train_id"] = split.train["id"].to_numpy()[dups["train_index"]]
        dups["test_id"] = split.test["id"].to_numpy()[dups["test_index"]]
    return dups


def head_to_head(ladder: Ladder) -> dict[str, Any]:
    """McNemar's test between the two best classic rungs by macro-F1."""
    ranked = sorted(
        (ladder[r] for r in COMPARED if r in ladder.rungs),
        key=lambda r: -r.quality["macro_f1"].estimate,
    )
    a, b = ranked[0], ranked[1]
    test = ev.mcnemar_test(a.correct, b.correct)
    reading = ev.mcnemar_reading(test, a.approach.name, b.approach.name)
    return test | {"first": a.approach.name, "second": b.approach.name, "reading": reading}


def gold_questions(p: Parameters) -> pd.DataFrame:
    gold = read_frame(p.gold_path, "gold_path")
    require_columns(
        gold,
        {"gold_question_column": p.gold_question_column, "gold_doc_column": p.gold_doc_column},
        "the gold file",
    )
    return pd.DataFrame(
        {
            "question": mask_personal_text(gold[p.gold_question_column].astype(str).tolist())[0],
            "doc_id": gold[p.gold_doc_column].astype(str),
        }
    )


def run(p: Parameters, with_learning_curve: bool = True) -> Result:
    """Load, split, train every rung, evaluate on the frozen test split, recommend."""
    examples = load_examples(
        p.examples_path,
        p.text_list,
        p.label_column,
        p.time_column,
        p.merge_label_typos,
        drop_rare_classes=p.drop_rare_classes,
        id_column=p.id_column,
        max_rows=p.max_examples,
        seed=p.seed,
    )
    if p.out_of_scope_label and p.out_of_scope_label not in examples.labels:
        shown = ", ".join(examples.labels[:8]) + (" ..." if len(examples.labels) > 8 else "")
        raise DataQualityError(
            f"out_of_scope_label: '{p.out_of_scope_label}' is not a label in "
            f"'{p.label_column}' (labels: {shown}); give the label that means none of these, "
            "or leave it empty."
        )
    if p.test_path:
        test = load_examples(
            p.test_path,
            p.text_list,
            p.label_column,
            p.time_column,
            p.merge_label_typos,
            min_class_size=1,
            id_column=p.id_column,
            max_rows=p.max_examples,
            seed=p.seed,
            parameter="test_path",
        )
        split = given_test_split(examples, test, p.test_path)
    else:
        split = split_examples(examples, p.test_share, p.seed, by_time=bool(p.time_column))
    return run_on_split(examples, split, p, with_learning_curve)


def run_on_split(
    examples: Examples, split: Split, p: Parameters, with_learning_curve: bool = True
) -> Result:
    """Everything after the split: the ladder, its comparisons and the recommendation."""
    kb_report = KnowledgeBaseReport() if p.kb_path else None
    documents = (
        load_knowledge_base(p.kb_path, p.kb_id_column, p.kb_text_column, kb_report)
        if p.kb_path
        else None
    )
    ladder = run_ladder(split, p, documents)
    dups = leakage(split)
    if len(dups):
        ladder.findings.append(
            f"{len(dups)} test ticket(s) repeat a training ticket almost word for word; scores "
            "on them flatter every approach that memorises."
        )
    kb_quality = pd.DataFrame()
    if ladder.kb is not None and p.gold_path:
        gold = gold_questions(p)
        ladder.findings.append(gold_matching(ladder.kb, gold))
        kb_quality = kb_retrieval_quality(ladder.kb, gold)
    if kb_report is not None and kb_report.skipped:
        shown = "; ".join(f"{f}: {why}" for f, why in list(kb_report.skipped.items())[:3])
        ladder.findings.append(
            f"{len(kb_report.skipped)} of {kb_report.files} knowledge-base files were skipped "
            f"({shown})."
        )
    spec = MetricSpec.load(p.metric_spec_path) if p.metric_spec_path else None
    workhorse = ladder[WORKHORSE]
    truth = split.test["label"].to_numpy(dtype=object)
    classes = np.unique(split.train["label"])
    curve = (
        learning_curve(split, ladder.embedder, p, ladder)
        if with_learning_curve
        else pd.DataFrame(columns=["approach", "per_class", "seed", "macro_f1"])
    )
    return Result(
        params=p,
        examples=examples,
        split=split,
        ladder=ladder,
        duplicates=dups,
        learning_curve=curve,
        kb_quality=kb_quality,
        mcnemar=head_to_head(ladder),
        recommendation=recommend(ladder, p, spec),
        per_class=ev.per_class_f1(truth, workhorse.predictions, classes),
        confusions=ev.confusion_pairs(truth, workhorse.predictions),
        spec=spec,
    )


def export_model(result: Result, folder: Path) -> Path | None:
    """Save the recommended approach (or, when none meets the target, the nearest one, marked
    as fit only for suggestions) and its metadata: data hash, parameters, metrics, labels.
    The file is skops, not pickle: loading a pickle from a client's disk runs arbitrary code
    (Chapter 4 loads it only after checking every type it names)."""
    import sklearn

    from pilot2prod.production import model_store

    rung_id = result.recommendation.get("approach") or result.recommendation.get("nearest")
    if rung_id is None:
        return None
    rung = result.ladder[rung_id]
    target = Path(folder) / MODEL_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    model_path = target / f"triage_model{model_store.SUFFIX}"
    model_store.save(rung.approach, model_path)
    now = datetime.now(UTC)
    ModelExport(
        name="ticket-triage",
        version=now.strftime("%Y%m%d%H%M%S"),
        approach=rung.id,
        approach_name=rung.approach.name,
        meets_target=rung_id == result.recommendation.get("approach"),
        created=now.isoformat(),
        model_file=model_path.name,
        model_sha256=sha256_of(model_path),
        data_sha256=result.examples.data_hash,
        training_rows=len(result.split.train),
        labels=[str(c) for c in rung.approach.classes_],
        split={
            "policy": result.split.policy,
            "cutoff": str(result.split.cutoff) if result.split.cutoff is not None else None,
        },
        metrics={
            "accuracy": rung.quality["accuracy"].as_dict(),
            "macro_f1": rung.quality["macro_f1"].as_dict(),
            "coverage_at_target": rung.coverage.coverage,
            "precision_when_routed": rung.coverage.precision,
            "threshold": rung.coverage.threshold,
            "p95_ms": rung.speed.p95_ms,
        },
        parameters={
            k: v
            for k, v in result.params.as_dict().items()
            if not k.startswith("llm_api") and not k.endswith("_path") and k != "output_dir"
        },
        runtime={"pilot2prod": __version__, "scikit-learn": sklearn.__version__},
    ).save(target)
    return model_path
