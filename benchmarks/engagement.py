"""Benchmark: a whole client engagement on the sample company, client book and PDF included
(target: under 5 minutes on 2 cores), with the time per step.

    python benchmarks/engagement.py [--keep DIR]

It runs ``pilot2prod engagement run engagements/acme.yaml`` into a fresh folder, as a consultant
would, and prints each step's time from the engagement's manifest, the hand-over's time, and
the total against the 5-minute target and against a reference measured in the same run: one
papermill execution of an empty notebook (the fixed cost of a kernel that every step pays).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 300.0


def kernel_reference(folder: Path) -> float:
    import papermill as pm

    empty = folder / "empty.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), str(empty))
    started = time.perf_counter()
    pm.execute_notebook(
        str(empty), str(folder / "empty.out.ipynb"), kernel_name="python3", progress_bar=False
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="write the engagement folder here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = (args.keep or Path(tmp) / "acme").resolve()
        reference = kernel_reference(Path(tmp))
        exe = Path(sys.executable).with_name("pilot2prod")
        started = time.perf_counter()
        done = subprocess.run(
            [
                str(exe),
                "engagement",
                "run",
                str(ROOT / "engagements" / "acme.yaml"),
                "--out",
                str(folder),
                "--rerun",
                "all",
                "--quiet",
            ],
            capture_output=True,
            text=True,
        )
        total = time.perf_counter() - started
        if done.returncode != 0:
            print(done.stdout[-3000:], done.stderr[-3000:])
            return done.returncode
        manifest = json.loads((folder / "manifest.json").read_text())
        print(f"Reference: one empty notebook through papermill: {reference:.1f} s")
        print(f"{'step':<22}{'seconds':>9}{'x reference':>13}")
        steps_total = 0.0
        for name, step in manifest["steps"].items():
            seconds = (
                datetime.fromisoformat(step["finished"]) - datetime.fromisoformat(step["started"])
            ).total_seconds()
            steps_total += seconds
            print(f"{name:<22}{seconds:>9.0f}{seconds / reference:>13.1f}")
        handover = total - steps_total
        print(f"{'hand-over (book, PDF)':<22}{handover:>9.0f}{handover / reference:>13.1f}")
        print(f"{'total':<22}{total:>9.0f}{total / reference:>13.1f}")
        print(
            f"Total against the 5-minute target: {total / TARGET_SECONDS:.2f}x "
            f"({'met' if total <= TARGET_SECONDS else 'NOT met'})."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
