"""A whole client engagement in one command: the sample company end to end (client book in
headless Chromium, executive report, working documents, no raw personal data anywhere), a
second client whose export names its columns differently, and a failed step that resumes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import repo_file
from pilot2prod.cli import main

CHROMIUM = "/usr/bin/chromium"


def planted_personal_values() -> set[str]:
    """Every personal value the sample company holds: contacts' names, e-mails and phones, card
    numbers, IBANs, and the e-mails and phones written into ticket bodies."""
    data = repo_file("datasets", "acme")
    values: set[str] = set()
    crm = pd.read_excel(data / "crm_accounts.xlsx", sheet_name=None, engine="openpyxl")
    for frame in crm.values():
        for column in ("contact_name", "contact_email", "contact_phone", "name", "email", "phone"):
            if column in frame:
                values |= set(frame[column].dropna().astype(str))
    values |= set(pd.read_parquet(data / "estate" / "payments.parquet")["card_number"].astype(str))
    suppliers = pd.read_csv(data / "estate" / "suppliers_latin1.csv", encoding="latin-1", sep=";")
    values |= set(suppliers["iban"].dropna().astype(str))
    bodies = " ".join(pd.read_csv(data / "tickets.csv", usecols=["body"])["body"].astype(str))
    values |= set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", bodies))
    values |= set(re.findall(r"\+?\d[\d ()/-]{7,}\d", bodies))
    return {v.strip() for v in values if len(v.strip()) >= 6}


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def leaked(folder: Path, values: set[str]) -> list[tuple[str, str]]:
    """(file, value) for every planted value found in a text file under ``folder``: e-mails and
    names as written, numbers by their digits (however they are spaced)."""
    numbers = {_digits(v) for v in values if len(_digits(v)) >= 8}
    words = {v.lower() for v in values if not _digits(v)}
    found = []
    for path in folder.rglob("*"):
        if path.suffix not in (".html", ".md", ".json", ".ipynb", ".yaml", ".txt", ".csv"):
            continue
        if "logs" in path.parts or "_static" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        lowered = text.lower()
        for run in re.findall(r"\d[\d ()/.-]{6,}\d", text):
            if _digits(run) in numbers:
                found.append((str(path.relative_to(folder)), run))
        for token in re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", lowered):
            if token in words:
                found.append((str(path.relative_to(folder)), token))
        for name in (w for w in words if " " in w):
            if name in lowered:
                found.append((str(path.relative_to(folder)), name))
    return found


#: Lighter settings for the test's run of the sample engagement (the same data and steps; fewer
#: resamples, no LLM rung). benchmarks/engagement.py runs the engagement file as it is.
LIGHTER = {
    "01_success_metric": {"n_bootstrap": 500},
    "03_simple_vs_rag": {"llm_base_url": "", "max_examples": 1500, "learning_curve_seeds": 1},
    "04_production_readiness": {"serve_requests": 50, "max_training_rows": 3000},
    "06_impact": {"n_bootstrap": 500},
}


@pytest.fixture(scope="module")
def acme_engagement(tmp_path_factory) -> Path:
    from conftest import ENGAGEMENT, acme_values

    folder = tmp_path_factory.mktemp("engagement")
    plan = yaml.safe_load(ENGAGEMENT.read_text(encoding="utf-8"))
    engagement = {"engagement": plan.pop("engagement")}
    for name in plan:
        values = acme_values(name) | LIGHTER.get(name, {})
        engagement[name] = {
            k: v for k, v in values.items() if v != "" or k in LIGHTER.get(name, {})
        }
    path = folder / "acme.yaml"
    path.write_text(yaml.safe_dump(engagement, sort_keys=False), encoding="utf-8")
    out = folder / "acme"
    assert main(["engagement", "run", str(path), "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.slow
def test_the_sample_engagement_hands_over_everything(acme_engagement, truth):
    out = acme_engagement
    for name in (
        "01_success_metric",
        "02_data_audit",
        "03_simple_vs_rag",
        "04_production_readiness",
        "05_adoption",
        "06_impact",
        "07_next_use_cases",
    ):
        assert (out / name / "results.json").is_file(), name
    production = json.loads((out / "04_production_readiness" / "results.json").read_text())
    # Chapter 4 took Chapter 3's model and Chapter 2's contract from the hand-offs.
    assert production["contract"] is not None and production["contract"]["name"] == "tickets"
    assert production["model"]["approach"] and production["rollback_drill"]["passed"]
    summary = (out / "summary.md").read_text()
    assert summary.startswith("# ACME Support: executive summary")
    assert "the data is not ready yet" in summary  # the planted NO-GO
    assert "breached the reopen rate guardrail" in summary  # the planted breach
    pdf = (out / "executive_report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    docs = out / "documents"
    signoff = (docs / "metric_signoff.md").read_text()
    statement = json.loads((out / "01_success_metric" / "results.json").read_text())["statement"]
    assert statement in signoff and "Head of Support Operations" in signoff
    requests = {p.name for p in docs.glob("data_request_*.md")}
    assert "data_request_support-operations.md" in requests
    finance = (docs / "data_request_finance.md").read_text()
    assert "payments" in finance and "legal basis" in finance
    checklist = (docs / "interview_checklist.md").read_text()
    for role in ("on-call engineer", "data protection", "security", "change lead"):
        assert f"- [ ] {role}:" in checklist  # roles nobody in acme.yaml holds
    assert "## Accountability gaps (RACI)" in checklist  # from Chapter 5's register
    assert "Logistics agents: barrier at desire" in checklist
    manifest = json.loads((out / "manifest.json").read_text())
    listed = {f["path"] for f in manifest["files"]}
    assert {"summary.md", "executive_report.pdf", "documents/metric_signoff.md"} <= listed


@pytest.mark.slow
def test_no_planted_personal_value_reaches_any_deliverable(acme_engagement):
    values = planted_personal_values()
    assert len(values) > 1000  # the scan knows what to look for
    assert leaked(acme_engagement, values) == []


@pytest.mark.slow
def test_the_client_book_opens_in_headless_chromium(acme_engagement):
    import functools
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    site = acme_engagement / "client-book" / "_build" / "html"
    pages = sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if p.name not in ("search.html", "genindex.html", "index.html") and "_static" not in p.parts
    )
    assert "summary.html" in pages and any("06_impact" in p for p in pages)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    problems: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page()
            page.set_default_timeout(300_000)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            # Missing files (a 404 is a broken page); a favicon request that navigating to the
            # next page cancels is not.
            page.on(
                "response",
                lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None,
            )
            for name in pages:
                response = page.goto(f"{base}/{name}", wait_until="load")
                assert response is not None and response.ok, name
            page.goto(f"{base}/index.html")  # a redirect to the summary, the book's first page
            page.wait_for_url("**/summary.html")
            assert "executive summary" in page.inner_text("main").lower()
            browser.close()
    finally:
        httpd.shutdown()
    assert problems == []


def _renamed_client(tmp_path: Path) -> Path:
    """Another client: the same kind of tickets, every column named differently, dates written
    day first; an engagement file for Chapters 1 and 6 only."""
    tickets = pd.read_csv(
        repo_file("datasets", "acme", "tickets.csv"),
        usecols=["ticket_id", "created_at", "resolved_at", "team", "reopened", "csat"],
    )
    tickets = tickets.rename(
        columns={
            "ticket_id": "Case Number",
            "created_at": "Opened",
            "resolved_at": "Closed",
            "team": "Queue",
            "reopened": "Reopened?",
            "csat": "Score",
        }
    )
    for column in ("Opened", "Closed"):
        tickets[column] = pd.to_datetime(tickets[column]).dt.strftime("%d/%m/%Y %H:%M")
    exports = tmp_path / "exports"
    exports.mkdir()
    tickets.to_csv(exports / "cases.csv", index=False)
    engagement = {
        "engagement": {
            "client": "Globex Service Desk",
            "process": "case routing",
            "stakeholders": [{"name": "Service owner", "role": "business owner"}],
        },
        "01_success_metric": {
            "events_path": "exports/cases.csv",
            "id_column": "Case Number",
            "start_column": "Opened",
            "end_column": "Closed",
            "segment_column": "Queue",
            "as_of": "2026-03-02",
            "reopened_column": "Reopened?",
            "csat_column": "Score",
            "n_bootstrap": 300,
        },
        "06_impact": {
            "events_path": "exports/cases.csv",
            "launch_date": "2026-03-02",
            "group_column": "Queue",
            "treated_groups": "Billing,Logistics",
            "reopened_column": "Reopened?",
            "csat_column": "Score",
            "n_bootstrap": 300,
            "published_checks": False,
        },
    }
    path = tmp_path / "globex.yaml"
    path.write_text(yaml.safe_dump(engagement, sort_keys=False))
    return path


@pytest.mark.slow
def test_another_client_with_other_column_names_and_a_failed_step_that_resumes(tmp_path):
    path = _renamed_client(tmp_path)
    plan = yaml.safe_load(path.read_text())
    plan["06_impact"]["treated_groups"] = "Billing,Sales"  # no queue is called Sales
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    out = tmp_path / "globex-run"
    assert main(["engagement", "run", str(path), "--out", str(out), "--quiet", "--no-book"]) == 2
    first = (out / "01_success_metric" / "results.json").read_bytes()
    assert not (out / "06_impact").exists() and (out / "logs" / "06_impact.failed").exists()
    summary = (out / "summary.md").read_text()
    assert "Globex Service Desk" in summary and "did not finish" in summary
    # The consultant fixes the engagement file and runs it again: Chapter 1 is kept as it was,
    # the failed step runs alone, with Chapter 1's metric spec handed on.
    plan["06_impact"]["treated_groups"] = "Billing,Logistics"
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    assert main(["engagement", "run", str(path), "--out", str(out), "--quiet", "--no-book"]) == 0
    assert (out / "01_success_metric" / "results.json").read_bytes() == first
    impact = json.loads((out / "06_impact" / "results.json").read_text())
    assert impact["metric"]["from_metric_spec"] is True
    assert impact["design"] == "did" and impact["relative_change"]["high"] < 0
    timestamps = json.loads(first)["timestamps"]
    assert all("day-first" in t["how"] for t in timestamps)  # 13/03/2026 is not month-first
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["steps"]["06_impact"]["status"] == "done"
    shutil.rmtree(out)
