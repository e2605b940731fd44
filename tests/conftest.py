"""Shared fixtures: the planted truth, isolated run folders, small event tables."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pilot2prod.paths import REPO_ROOT, SAMPLE_DIR

# The longest files first (`make test`, two processes, one file per process at a time). xdist's
# own order is by number of tests, which left the longest ones (the book's build
# executing the whole sample company) and nbval's notebooks for last: the run took their whole
# duration after everything else. Measured order, longest first; the rest keep xdist's order.
LONGEST_FIRST = (  # minutes of `make test` on a 2-core machine, 2026-11-27 (see each line)
    "tests/book/test_book.py",  # 31
    "tests/unit/test_metric.py",  # 10
    "tests/engines/test_postgres_audit.py",  # 10
    "tests/notebooks/test_cli.py",  # 10
    "tests/notebooks/test_engagement_run.py",  # 3 on a quiet machine (2026-11-28): 2 engagements
    "tests/unit/test_timestamps.py",  # 9.5
    "tests/unit/test_real_data.py",  # not yet measured: audits every real table in every form
    "tests/engines/test_chapters_in_engines.py",  # not yet measured: its own PostgreSQL
    "tests/unit/test_triage.py",  # 8
    "tests/unit/test_kb_real_pages.py",  # 1.5 on a fast machine (2026-11-28): trafilatura, 5 MB
    "tests/unit/test_impact.py",  # 4.5 on a quiet machine (2026-11-28): 200 null experiments
    "tests/unit/test_comparisons.py",  # 0.7 on a fast machine (2026-11-28): simulations
    "nbval/03_simple_vs_rag.ipynb",  # 8.5 before the lighter tests/nbval.yaml
    "tests/notebooks/test_packaging.py",  # 15.5 before uv built and installed its wheel
    "tests/unit/test_audit_inputs.py",  # 27 before the audit's batched aggregates (wide export)
    "tests/unit/test_audit.py",  # 7
    "nbval/01_success_metric.ipynb",  # 5
    "tests/unit/test_pii.py",  # 4
    "tests/unit/test_stats.py",  # 4
    "nbval/02_data_audit.ipynb",  # 2.5
)


def _rank(scope: str) -> int:
    return next((i for i, name in enumerate(LONGEST_FIRST) if scope.endswith(name)), 99)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LongestFirst(LoadFileScheduling):
        def _assign_work_unit(self, node):
            scope = min(self.workqueue, key=_rank)  # the first of equal rank: xdist's order
            self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return LongestFirst(config, log)


class FileClock:
    """One line per test file when its last test is done: the time since the run started and the
    file's own minutes. A run stopped by a time limit then still says where its time went."""

    def __init__(self, config):
        self.config = config
        self.start = time.monotonic()
        self.pending: dict[str, int] = {}
        self.began: dict[str, float] = {}

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        if not self.pending:
            for nodeid in ids:
                name = nodeid.split("::")[0]
                self.pending[name] = self.pending.get(name, 0) + 1

    def pytest_runtest_logreport(self, report):
        name = report.nodeid.split("::")[0]
        self.began.setdefault(name, time.monotonic() - report.duration)
        if report.when != "teardown" or name not in self.pending:
            return
        self.pending[name] -= 1
        if self.pending[name] == 0:
            now = time.monotonic()
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            reporter.write_line(
                f"[{(now - self.start) / 60:5.1f} min] {name} done in "
                f"{(now - self.began[name]) / 60:.1f} min"
            )


def pytest_configure(config):
    if config.pluginmanager.has_plugin("xdist") and not hasattr(config, "workerinput"):
        if config.getoption("numprocesses", None):
            config.pluginmanager.register(FileClock(config), "file-clock")


def pytest_addoption(parser):
    parser.addoption(
        "--dataset-dir",
        default=str(SAMPLE_DIR),
        help="folder of the sample company to test (data tests take its location as an option)",
    )


@pytest.fixture(scope="session")
def dataset_dir(request) -> Path:
    return Path(request.config.getoption("--dataset-dir"))


@pytest.fixture(scope="session")
def truth(dataset_dir) -> dict:
    return yaml.safe_load((dataset_dir / "TRUTH.yaml").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _isolated_runs(tmp_path, monkeypatch):
    """Every test writes its run folders under its own temporary folder."""
    monkeypatch.setenv("PILOT2PROD_RUNS_DIR", str(tmp_path / "runs"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


def make_events(
    n: int = 600,
    median_days: float = 3.0,
    sigma: float = 0.8,
    seed: int = 1,
    export: str = "2025-07-01",
    span_days: int = 120,
) -> tuple[pd.DataFrame, dict]:
    """A second, different fixture: field-service cases measured in days.

    Columns are named differently from the sample company (case_ref, opened, closed, region),
    timestamps are day-first text, and cases still open at the export have no close time.
    Returns the table and its planted truth (the latent median in days, open count).
    """
    rng = np.random.default_rng(seed)
    export_ts = pd.Timestamp(export)
    opened = export_ts - pd.to_timedelta(rng.uniform(0, span_days, size=n), unit="D")
    opened = opened.round("min")
    latent_days = median_days * np.exp(rng.normal(0.0, sigma, size=n))
    closed = opened + pd.to_timedelta(latent_days, unit="D")
    is_open = closed >= export_ts
    regions = rng.choice(["North", "South", "East"], size=n)
    frame = pd.DataFrame(
        {
            "case_ref": [f"CS{i:05d}" for i in range(n)],
            "opened": opened.strftime("%d/%m/%Y %H:%M"),
            "closed": pd.Series(closed.strftime("%d/%m/%Y %H:%M")).where(~is_open, ""),
            "region": regions,
        }
    )
    last_week = opened >= export_ts - pd.Timedelta(weeks=8)
    truth = {
        "true_median_days": float(np.median(latent_days[last_week])),
        "open": int(is_open[last_week].sum()),
        "events_in_window": int(last_week.sum()),
        "population_median_days": median_days,
    }
    return frame, truth


@pytest.fixture
def field_service(tmp_path) -> tuple[Path, dict]:
    frame, truth = make_events()
    path = tmp_path / "field_cases.csv"
    frame.to_csv(path, index=False)
    return path, truth


FIELD_PARAMS = {
    "id_column": "case_ref",
    "start_column": "opened",
    "end_column": "closed",
    "segment_column": "region",
    "unit": "days",
    "as_of": "",
    "reopened_column": "",
    "csat_column": "",
    "timestamp_format": "%d/%m/%Y %H:%M",
    "n_bootstrap": 500,
}


def repo_file(*parts: str) -> Path:
    return REPO_ROOT.joinpath(*parts)


ENGAGEMENT = REPO_ROOT / "engagements" / "acme.yaml"


def acme_values(notebook: str, **overrides) -> dict:
    """The sample engagement's parameters for ``notebook``, paths made absolute."""
    values = yaml.safe_load(ENGAGEMENT.read_text(encoding="utf-8"))[notebook]
    for key, value in values.items():
        if (key.endswith("_path") or key == "sources") and value:
            values[key] = str((ENGAGEMENT.parent / value).resolve())
    return values | overrides
