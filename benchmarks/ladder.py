"""Benchmark: the Chapter 3 ladder, headless, on any text,label train/test pair.

    python benchmarks/ladder.py                          # the sample company (time split)
    python benchmarks/ladder.py --train T.csv --test S.csv [--text-column text --label-column label]

Prints each rung's quality, latency and training time, the time of the whole ladder (no LLM,
no learning curves) against the targets (60 s for the sample company, p95 under 5 ms for the
classifier), and ratios against a reference measured in the same run: one TF-IDF
vectorisation pass over the training texts.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pilot2prod.triage.data import Examples, LabelFindings, Split, load_examples, split_examples
from pilot2prod.triage.models import tfidf_features
from pilot2prod.triage.params import Parameters
from pilot2prod.triage.result import run_on_split

ROOT = Path(__file__).resolve().parent.parent


def pair(train_path: str, test_path: str, text: str, label: str) -> tuple[Examples, Split]:
    train = pd.read_csv(train_path)[[text, label]].rename(columns={text: "text", label: "label"})
    test = pd.read_csv(test_path)[[text, label]].rename(columns={text: "text", label: "label"})
    for frame in (train, test):
        frame["text"] = frame["text"].astype(str)
        frame["label"] = frame["label"].astype(str)
    both = pd.concat([train, test], ignore_index=True)
    findings = LabelFindings(rows_read=len(both), rows_used=len(both))
    return Examples(both, findings, "benchmark"), Split(train, test, "given")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train")
    parser.add_argument("--test")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="label")
    args = parser.parse_args()
    sample = ROOT / "datasets/acme/tickets.csv"
    params = Parameters.parse(
        {
            "examples_path": str(sample),
            "text_columns": "subject,body",
            "label_column": "category",
            "target_precision": 0.92,
            "n_bootstrap": 300,
        }
    )
    if args.train and args.test:
        examples, split = pair(args.train, args.test, args.text_column, args.label_column)
        name = f"{Path(args.train).parent.name or 'pair'} (given split)"
    else:
        examples = load_examples(
            str(sample),
            ["subject", "body"],
            "category",
            "created_at",
            id_column="ticket_id",
        )
        split = split_examples(examples, 0.2, 0)
        name = "sample company (time split)"

    start = time.perf_counter()
    tfidf_features().fit_transform(split.train["text"].tolist())
    reference = time.perf_counter() - start

    start = time.perf_counter()
    result = run_on_split(examples, split, params, with_learning_curve=False)
    ladder_seconds = time.perf_counter() - start

    summary = result.summary()
    print(
        f"Ladder on {name}: {len(split.train):,} train, {len(split.test):,} test, "
        f"{split.train['label'].nunique()} classes"
    )
    print(
        summary[
            [
                "approach",
                "accuracy",
                "macro-F1",
                "p50 ms",
                "p95 ms",
                "train s",
                "coverage at target",
            ]
        ].to_string(index=False, float_format=lambda v: f"{v:.3f}")
    )
    tfidf = result.ladder["tfidf"]
    print()
    print(f"reference: one TF-IDF vectorisation of the training texts: {reference:.2f} s")
    print(
        f"whole ladder (no LLM, no learning curves): {ladder_seconds:.1f} s "
        f"= {ladder_seconds / reference:.1f}x the reference (target for the sample: 60 s)"
    )
    print(
        f"TF-IDF classifier p95 latency per ticket: {tfidf.speed.p95_ms:.2f} ms "
        f"(target 5 ms; {tfidf.speed.p95_ms / 5.0:.2f} of the target)"
    )
    print(f"TF-IDF test accuracy: {tfidf.quality['accuracy'].estimate:.3f}")
    np.set_printoptions(precision=3)


if __name__ == "__main__":
    main()
