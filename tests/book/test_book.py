"""The book builds with warnings as errors, its pages load cleanly in headless Chromium, and
what its build executed on the sample company finds exactly the planted truth.

Building the book executes every notebook once (with the sample engagement's parameters); the
truth checks read those runs instead of executing the notebooks again.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from pilot2prod.handoff import MetricSpec, ModelExport
from pilot2prod.paths import REPO_ROOT

CHROMIUM = os.environ.get("PILOT2PROD_CHROMIUM", "/usr/bin/chromium")
PAGES = [
    "chapters/intro.html",
    "chapters/01_define_working.html",
    "book/01_success_metric.html",
    "chapters/02_audit_the_data.html",
    "book/02_data_audit.html",
    "chapters/03_hire_a_problem.html",
    "book/03_simple_vs_rag.html",
    "chapters/04_production_path.html",
    "book/04_production_readiness.html",
    "chapters/05_organisation_ready.html",
    "book/05_adoption.html",
    "chapters/06_measure_impact.html",
    "book/06_impact.html",
    "chapters/07_the_pattern_that_works.html",
    "book/07_next_use_cases.html",
    "chapters/appendix_own_data.html",
    "chapters/execution_status.html",
]


@pytest.fixture(scope="module")
def built_book(tmp_path_factory) -> Path:
    from pilot2prod.engagement import prepare_book, read_engagement

    from pilot2prod.sample_company.model import export_sample_model

    # The book's pages are the notebooks with the sample engagement's parameters injected
    # (what `make book` prepares); prepared here, in this process, from the current engagement.
    # `make book` hands Chapter 3's exported model to Chapter 4 from the playbook's run; here a
    # model exported the same way stands in for it (running the playbook first would double the
    # build's time).
    out = tmp_path_factory.mktemp("book")
    handoffs = out / "handoffs"
    export_sample_model(handoffs / "03_simple_vs_rag")
    prepare_book(
        read_engagement(REPO_ROOT / "engagements" / "acme.yaml"), REPO_ROOT / "book", handoffs
    )
    env = dict(os.environ, PILOT2PROD_RUNS_DIR=str(out / "runs"))
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb), "build", str(REPO_ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        env=env,
        timeout=2700,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out / "_build" / "html"


def _book_run(built_book: Path, notebook: str) -> tuple[Path, dict]:
    """The run folder the build's execution of ``notebook`` wrote, and its results."""
    runs = list((built_book.parent.parent / "runs" / notebook).glob("*/results.json"))
    assert len(runs) == 1, runs  # the build executed the notebook once, into its own run folder
    return runs[0].parent, json.loads(runs[0].read_text())


def _executed(built_book: Path, notebook: str) -> str:
    return (built_book.parent / "jupyter_execute" / "book" / f"{notebook}.ipynb").read_text()


@pytest.mark.slow
def test_book_builds_every_page(built_book):
    for page in PAGES:
        assert (built_book / page).is_file(), page
    status = (built_book / "chapters/execution_status.html").read_text()
    for name in (
        "01_success_metric",
        "02_data_audit",
        "03_simple_vs_rag",
        "04_production_readiness",
        "05_adoption",
        "06_impact",
        "07_next_use_cases",
    ):
        assert name in status
    assert "✅" in status and "❌" not in status


@pytest.mark.slow
def test_chapter_quotes_numbers_from_the_executed_notebook(built_book, truth):
    text = (built_book / "chapters/01_define_working.html").read_text()
    _, results = _book_run(built_book, "01_success_metric")
    base = results["baseline"]
    for value in (base["km"], base["km_low"], base["km_high"], base["naive_closed_only"]):
        assert f"{value:.1f}" in text
    assert f"{base['km']:.1f}" == f"{truth['chapter1_baseline']['true_median_hours']:.1f}"
    assert html.escape(results["statement"], quote=False) in text
    assert "{glue" not in text


@pytest.mark.slow
def test_impact_chapter_quotes_the_verdict_on_the_planted_launch(built_book, truth):
    text = (built_book / "chapters/06_measure_impact.html").read_text()
    _, results = _book_run(built_book, "06_impact")
    assert html.escape(results["statement"], quote=False) in text
    change = results["relative_change"]
    assert f"{100 * change['estimate']:+.1f}" in text
    planted = truth["ai_triage_launch"]["resolution_time_multiplier"] - 1
    assert change["low"] <= planted <= change["high"]
    reopen = {g["guardrail"]: g for g in results["guardrails"]}["reopen rate"]
    assert reopen["status"] == "breached"
    assert results["verdict"] in ("MET", "INCONCLUSIVE")
    published = {row["published"]: row["this package"] for row in results["published_checks"]}
    assert round(published[-0.0225], 4) == -0.0225
    assert round(published[-11863.9], 1) == -11863.9
    assert "{glue" not in text


@pytest.mark.slow
def test_production_chapter_flags_the_planted_drift_and_rehearses_the_rollback(
    built_book, truth
):
    text = (built_book / "chapters/04_production_path.html").read_text()
    assert "{glue" not in text
    folder, results = _book_run(built_book, "04_production_readiness")
    planted = truth["production_window"]
    windows = pd.DataFrame(results["drift"]["windows"])
    windows["window"] = pd.to_datetime(windows["window"])
    start = pd.Timestamp(planted["drift_from"])
    before, after = windows[windows["window"] < start], windows[windows["window"] >= start]
    assert len(before) and not before["flagged"].any()  # the undrifted weeks are not flagged
    for feature in planted["drifted_features"]:
        assert after.loc[after["feature"] == feature, "flagged"].all(), feature
    for feature in planted["stable_features"]:
        watched = windows[windows["feature"] == feature]
        assert len(watched) and not watched["flagged"].any(), feature
    assert results["drift"]["first_flagged_window"] == planted["drift_from"]
    assert set(planted["drifted_features"]) <= set(results["drift"]["flagged"])
    assert results["verdict"] == "NO-GO"  # drifted inputs block the release
    assert results["rollback_drill"]["passed"]
    service = results["service"]
    assert service["errors"] == 0 and service["skew"] == 0
    assert service["kill_switch_ok"] and service["shadow_ok"] and service["bad_request_ok"]
    readiness = json.loads((folder / "readiness.json").read_text())
    assert readiness["verdict"] == "NO-GO" and readiness["maturity"]["level"] == 3
    assert (folder / "runbook.md").read_text().startswith("# On-call runbook")
    assert html.escape(results["statement"], quote=False) in text


@pytest.mark.slow
def test_adoption_chapter_names_the_planted_teams(built_book, truth):
    text = (built_book / "chapters/05_organisation_ready.html").read_text()
    assert "{glue" not in text
    _, results = _book_run(built_book, "05_adoption")
    planted = truth["ai_usage"]
    assert results["named"] == {
        "laggards": [planted["laggard_team"]],
        "over_relying": [planted["over_relying_team"]],
        "under_relying": [planted["under_relying_team"]],
    }
    assert html.escape(results["statement"], quote=False) in text


@pytest.mark.slow
def test_the_pattern_chapter_follows_the_sample_company_with_glued_numbers(built_book):
    text = (built_book / "chapters/07_the_pattern_that_works.html").read_text()
    assert "{glue" not in text
    for notebook, key in (("01_success_metric", "statement"), ("06_impact", "statement"),
                          ("04_production_readiness", "statement"),
                          ("07_next_use_cases", "statement")):
        _, results = _book_run(built_book, notebook)
        assert html.escape(results[key], quote=False) in text
    _, ranking = _book_run(built_book, "07_next_use_cases")
    assert len(ranking["ranking"]) == 5 and "reasoning" in ranking["ranking"][0]


@pytest.fixture(scope="module")
def server(built_book):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built_book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.slow
def test_pages_load_in_headless_chromium_without_console_errors(server):
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; run 'make setup' (installs it).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page()
        page.set_default_timeout(300_000)  # a loaded 2-core CI machine, not a desktop
        problems: list[str] = []
        page.on(
            "console",
            lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        # A request the browser cancels itself (net::ERR_ABORTED: the favicon still loading when
        # the next page is opened) is not a broken page; any other failure is.
        page.on(
            "requestfailed",
            lambda r: problems.append(f"failed request: {r.url} ({r.failure})")
            if "ERR_ABORTED" not in (r.failure or "")
            else None,
        )
        for path in PAGES:
            response = page.goto(f"{server}/{path}", wait_until="networkidle")
            assert response is not None and response.ok, path
            assert page.title()
        assert problems == [], "\n".join(problems)

        page.goto(f"{server}/book/01_success_metric.html", wait_until="load")
        images = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.naturalWidth, e.naturalHeight])"
        )
        figures = [size for size in images if size[0] > 300]
        assert len(figures) >= 6, images  # segment, distribution, weekly, 2x season, MDE
        page.goto(f"{server}/book/03_simple_vs_rag.html", wait_until="load")
        images = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.naturalWidth, e.naturalHeight])"
        )
        assert len([s for s in images if s[0] > 300]) >= 3, images  # ladder, coverage, curves
        browser.close()


@pytest.mark.slow
def test_success_metric_finds_the_planted_baseline(built_book, truth):
    folder, results = _book_run(built_book, "01_success_metric")
    planted = truth["chapter1_baseline"]
    base = results["baseline"]
    assert base["events"] == planted["tickets_in_window"]
    assert base["open"] == planted["open_at_as_of"]
    assert base["km_low"] <= planted["true_median_hours"] <= base["km_high"]
    assert base["naive_closed_only"] == pytest.approx(
        planted["naive_closed_only_median_hours"], rel=0.002
    )
    assert (
        results["cleaning"]["end_before_start"]
        == truth["defects"]["tickets_end_before_start"]["count"]
    )
    assert results["power"]["weeks_needed"] >= 2
    spec = MetricSpec.load(folder / "metric_spec.yaml")
    assert spec.statement == results["statement"]
    assert spec.baseline.value == pytest.approx(base["km"])


@pytest.mark.slow
def test_simple_vs_rag_finds_the_planted_ladder_and_duplicates(built_book, truth, dataset_dir):
    folder, results = _book_run(built_book, "03_simple_vs_rag")
    ladder = {row["approach"]: row for row in results["ladder"]}
    majority, rules = ladder["majority class"], ladder["keyword rules"]
    tfidf = ladder["TF-IDF + linear"]
    # The ladder is ordered sensibly: the floor, then rules, then the classifier.
    assert majority["macro-F1"] < rules["macro-F1"] < tfidf["macro-F1"]
    assert rules["accuracy"] < tfidf["accuracy"]
    # 5 % of labels are wrong on purpose: no approach can be measured much above 95 %.
    ceiling = 1 - truth["defects"]["label_noise"]["share"]
    # (The RAG rung and the hybrid that falls back to it are measured on the 30 tickets sent to
    # the LLM: there the ceiling holds for the interval, not for the noisy point estimate.)
    for row in ladder.values():
        measured = row["accuracy"] if row["test items"] >= 300 else row["accuracy low"]
        assert measured <= ceiling + 0.01, row["approach"]
    assert 0.8 <= tfidf["accuracy"] and 0.8 <= tfidf["macro-F1"] <= ceiling + 0.01
    hybrid = results["coverage"]["hybrid"]
    assert 0 < hybrid["coverage"] <= 1 and hybrid["evaluated"] > 0
    # Every planted resubmission that straddles the time split is reported as a near-duplicate.
    # (The sample engagement reads the newest tickets only, and a planted resubmission repeats a
    # ticket of the first year: this run may hold none; tests/unit/test_triage.py checks the
    # detection on planted copies.)
    tickets = pd.read_csv(dataset_dir / "tickets.csv", usecols=["ticket_id", "created_at"])
    created = dict(zip(tickets["ticket_id"], pd.to_datetime(tickets["created_at"]), strict=True))
    cutoff = pd.Timestamp(results["split"]["cutoff"])
    # The engagement reads the newest rows only (max_examples): pairs older than those are out.
    oldest_read = sorted(created.values())[-results["cleaning"]["rows_read"]]
    straddling = [
        (a, b)
        for a, b in truth["defects"]["resubmitted_duplicates"]["pairs"]
        if oldest_read < created[a] < cutoff <= created[b]
    ]
    reported = {(p["train_id"], p["test_id"]) for p in results["near_duplicates"]["pairs"]}
    assert set(map(tuple, straddling)) <= reported
    recommendation = results["recommendation"]
    exported = ModelExport.load(folder / "model")  # the hash of the file is verified
    assert exported.approach == (recommendation["approach"] or recommendation["nearest"])
    assert len(exported.labels) == 10 and len(exported.data_sha256) == 64
    # The RAG rung ran on the bundled model, on the bounded sample the engagement allows; its
    # accuracy is whatever it is, but every answer was a label or an abstention.
    rag = next(r for r in results["ladder"] if r["id"] == "rag")
    assert rag["test items"] == 30 and 0 <= rag["accuracy"] <= 1 and rag["p50 ms"] > 0
    # (The book runs each notebook on its own, without Chapter 1's hand-off: the sentence that
    # sets the projected effect against the signed target is tested in test_triage.py and, with
    # the hand-off, in test_packaging.py.)
    assert "minutes per ticket" in recommendation["projected_effect"]


@pytest.mark.slow
def test_data_audit_finds_the_planted_estate_defects(built_book, truth):
    folder, results = _book_run(built_book, "02_data_audit")
    assert results["go"] is False
    glue = results["glue"]
    assert results["failed"][0]["reason"]
    assert glue["c2_failed"] == 2  # the export without a header row, the missing table
    assert glue["c2_orphan_pct"] == pytest.approx(
        100 * truth["defects"]["tickets_without_crm_account"]["share"], abs=0.01
    )
    audit = json.loads((folder / "audit.json").read_text())
    assert audit["gate"].startswith("NO-GO")
    assert (folder / "contracts").is_dir() and (folder / "datasheets").is_dir()
    for notebook in ("01_success_metric", "02_data_audit", "03_simple_vs_rag"):
        executed = _executed(built_book, notebook)
        for raw in ("4111111111111111", "example-mail.com", "DE89370400440532013000"):
            assert raw not in executed  # no raw personal data in any executed notebook
