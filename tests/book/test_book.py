"""The book builds with warnings as errors and its pages load cleanly in headless Chromium."""

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

import pytest

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
    "chapters/appendix_own_data.html",
    "chapters/execution_status.html",
]


@pytest.fixture(scope="module")
def built_book(tmp_path_factory) -> Path:
    from pilot2prod.engagement import prepare_book, read_engagement

    prepare_book(read_engagement(REPO_ROOT / "engagements" / "acme.yaml"), REPO_ROOT / "book")
    out = tmp_path_factory.mktemp("book")
    env = dict(os.environ, PILOT2PROD_RUNS_DIR=str(out / "runs"))
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb), "build", str(REPO_ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out / "_build" / "html"


@pytest.mark.slow
def test_book_builds_every_page(built_book):
    for page in PAGES:
        assert (built_book / page).is_file(), page
    status = (built_book / "chapters/execution_status.html").read_text()
    for name in ("01_success_metric", "02_data_audit", "03_simple_vs_rag"):
        assert name in status
    assert "✅" in status and "❌" not in status


@pytest.mark.slow
def test_chapter_quotes_numbers_from_the_executed_notebook(built_book, truth):
    text = (built_book / "chapters/01_define_working.html").read_text()
    runs = list((built_book.parent.parent / "runs" / "01_success_metric").glob("*/results.json"))
    assert len(runs) == 1  # the build executed the notebook once, into its own run folder
    results = json.loads(runs[0].read_text())
    base = results["baseline"]
    for value in (base["km"], base["km_low"], base["km_high"], base["naive_closed_only"]):
        assert f"{value:.1f}" in text
    assert f"{base['km']:.1f}" == f"{truth['chapter1_baseline']['true_median_hours']:.1f}"
    assert html.escape(results["statement"], quote=False) in text
    assert "{glue" not in text


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
        problems: list[str] = []
        page.on(
            "console",
            lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on(
            "requestfailed", lambda r: problems.append(f"failed request: {r.url} ({r.failure})")
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
