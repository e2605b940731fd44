"""Benchmark: Chapter 1's baseline on a large event table, against reading the file with pandas.

    python benchmarks/metric.py                    # 10,000,000 events
    python benchmarks/metric.py --rows 1000000

Generates a CSV of support tickets with DuckDB (ISO timestamps, a segment, a reopen flag, a
sparse score, about 4 % still open), then times, each in its own process so that peak memory is
its own: the reference, ``pandas.read_csv`` of the same file (what the chapter did before it
pushed its work into the engine, before any analysis), and the whole Chapter 1 analysis from the
path (loading into DuckDB, parsing and cleaning in the engine, counts per duration bucket,
Kaplan-Meier with bootstrap intervals by segment, weekly series, seasonality, guardrails, power).
Prints both times, both peaks and their ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GENERATE = """
SELECT setseed(0.17);
COPY (
  SELECT
    'T-' || i::VARCHAR AS ticket_id,
    strftime(TIMESTAMP '2024-01-01' + INTERVAL (i * 6) SECOND, '%Y-%m-%d %H:%M:%S')
      AS created_at,
    CASE WHEN i > {rows} * 0.96 AND random() < 0.7 THEN ''
      ELSE strftime(TIMESTAMP '2024-01-01' + INTERVAL (i * 6) SECOND
                    + INTERVAL (CAST(3600 * exp(ln(20) + random() * 2 - 1) AS BIGINT)) SECOND,
                    '%Y-%m-%d %H:%M:%S') END AS resolved_at,
    ['Billing', 'Access', 'Logistics', 'Technical', 'Accounts'][1 + (i % 5)] AS team,
    CASE WHEN random() < 0.06 THEN '1' ELSE '0' END AS reopened,
    CASE WHEN random() < 0.2 THEN (1 + (i % 5))::VARCHAR ELSE '' END AS csat
  FROM range({rows}) t(i)
) TO '{path}' (HEADER, DELIMITER ',');
"""

PEAK = """
def peak_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

PANDAS = (
    PEAK
    + """
import json, sys, time
import pandas as pd
start = time.perf_counter()
frame = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "peak_mib": peak_mib(), "rows": len(frame)}))
"""
)

CHAPTER = (
    PEAK
    + """
import json, sys, time
from pilot2prod import metric
start = time.perf_counter()
p = metric.Parameters.parse({
    "events_path": sys.argv[1], "id_column": "ticket_id", "start_column": "created_at",
    "end_column": "resolved_at", "segment_column": "team", "reopened_column": "reopened",
    "csat_column": "csat", "unit": "hours", "n_bootstrap": 1000,
})
result = metric.run(p)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "peak_mib": peak_mib(),
                  "rows": result.events.report.rows_read, "baseline": result.overall["km"],
                  "window_events": result.overall["events"]}))
"""
)


def run(code: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.csv"
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import duckdb, sys; duckdb.execute('SET enable_progress_bar = false'); "
                "duckdb.sql(sys.argv[1])",
                GENERATE.format(rows=args.rows, path=path),
            ],
            check=True,
        )
        print(
            f"generated {args.rows:,} events, {path.stat().st_size / 2**20:.0f} MiB in "
            f"{time.perf_counter() - start:.1f} s"
        )
        reference = run(PANDAS, path)
        chapter = run(CHAPTER, path)
    print(
        f"reference: pandas.read_csv of the file   {reference['seconds']:.1f} s, "
        f"peak {reference['peak_mib']:.0f} MiB"
    )
    print(
        f"Chapter 1, whole analysis in DuckDB      {chapter['seconds']:.1f} s, "
        f"peak {chapter['peak_mib']:.0f} MiB (baseline {chapter['baseline']:.2f} h over "
        f"{chapter['window_events']:,} events in the window)"
    )
    print(
        f"ratio chapter / read_csv: time {chapter['seconds'] / reference['seconds']:.2f}x, "
        f"peak memory {chapter['peak_mib'] / reference['peak_mib']:.2f}x"
    )


if __name__ == "__main__":
    main()
