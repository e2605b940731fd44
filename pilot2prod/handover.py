"""What a consultant hands over at the end of an engagement, generated from the results.

After ``pilot2prod engagement run`` has run the notebooks into an engagement folder, this module
writes, from the ``results.json`` files and the hand-offs alone (nothing is recomputed):

* ``summary.md`` and ``executive_report.html`` / ``.pdf``: the answer first, one page: the one
  metric and its baseline, the data gate, the recommended approach and what it does to the
  metric, production and organisational readiness, and the impact verdict;
* ``documents/``: working documents for the next meetings: the metric sign-off sheet, one data
  request per source owner, and the stakeholder interview checklist;
* ``client-book/``: a Jupyter Book of the client's executed notebooks (code hidden) with the
  summary as its first page and the documents at the end.

Every value taken from the results is escaped where it is rendered into HTML; personal data
never reaches the results (the notebooks mask it), so none reaches these pages.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pilot2prod.engagement import ROLES, Client
from pilot2prod.impact.data import DESIGN_NAMES

SUMMARY_FILE = "summary.md"
REPORT_HTML = "executive_report.html"
REPORT_PDF = "executive_report.pdf"
DOCUMENTS_DIR = "documents"
CLIENT_BOOK_DIR = "client-book"
CHROMIUM = os.environ.get("PILOT2PROD_CHROMIUM", "/usr/bin/chromium")

#: What each step of the playbook answers, in the order of the summary.
TOPICS = (
    ("01_success_metric", "The one metric and its baseline"),
    ("02_data_audit", "Is the data ready?"),
    ("03_simple_vs_rag", "The simplest approach that works"),
    ("04_production_readiness", "Production readiness"),
    ("05_adoption", "Organisational readiness"),
    ("06_impact", "Impact against the baseline"),
    ("07_next_use_cases", "What comes next"),
)


@dataclass
class Summary:
    """The engagement's findings, one entry per topic, read from the run folder."""

    client: Client
    results: dict[str, dict[str, Any]]
    status: dict[str, str]  # notebook -> done, kept, failed, or "not run"
    sections: list[tuple[str, str, list[str]]] = field(
        default_factory=list
    )  # title, answer, evidence

    @property
    def answer(self) -> str:
        """One sentence: where the engagement stands."""
        parts = []
        gate = self.results.get("02_data_audit")
        if gate is not None:
            parts.append("the data is ready" if gate.get("go") else "the data is not ready yet")
        rec = self.results.get("03_simple_vs_rag", {}).get("recommendation")
        if rec:
            parts.append(f"the simplest approach that works is {rec.get('approach_name')}")
        production = self.results.get("04_production_readiness")
        if production:
            parts.append(
                "the model is ready to serve behind a feature flag"
                if production.get("verdict") == "GO"
                else "the model is not ready to serve yet"
            )
        adoption = self.results.get("05_adoption")
        if adoption:
            parts.append(
                f"the organisation's readiness is {adoption['readiness']['score']:.0f}/100"
            )
        impact = self.results.get("06_impact")
        if impact:
            breached = [
                g["guardrail"] for g in impact.get("guardrails", []) if g["status"] == "breached"
            ]
            verdict = {"MET": "met its target", "NOT MET": "did not meet its target"}.get(
                impact.get("verdict"), "has not yet shown whether it meets its target"
            )
            parts.append(
                f"the launch {verdict}"
                + (f" but breached the {' and '.join(breached)} guardrail" if breached else "")
            )
        if not parts:
            return f"{self.client.name}: no step of the playbook has finished yet."
        return f"{self.client.name}: {'; '.join(parts)}."


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text and text.strip() else ""


def collect(folder: Path, client: Client, status: dict[str, str] | None = None) -> Summary:
    """Read every step's ``results.json`` in the engagement folder into a :class:`Summary`."""
    results = {}
    for name, _ in TOPICS:
        path = folder / name / "results.json"
        if path.is_file():
            results[name] = json.loads(path.read_text(encoding="utf-8"))
    state = {
        name: (status or {}).get(name, "done" if name in results else "not run")
        for name, _ in TOPICS
    }
    summary = Summary(client, results, state)
    sections = []
    for name, title in TOPICS:
        answer, evidence = _section(name, results.get(name), state[name])
        if state[name] == "failed" and name in results:
            evidence = [
                "The latest re-run did not finish; this is the earlier run's result.",
                *evidence,
            ]
        sections.append((title, answer, evidence))
    summary.sections = sections
    return summary


def _section(name: str, r: dict[str, Any] | None, state: str) -> tuple[str, list[str]]:
    if r is None:
        chapter = {"04_production_readiness": "Chapter 4", "05_adoption": "Chapter 5"}.get(name)
        if state == "failed":
            return "The step did not finish; see the engagement's logs.", []
        if chapter:
            return f"Not assessed in this engagement ({chapter} was not run).", []
        return "Not run in this engagement.", []
    if name == "01_success_metric":
        b, power = r["baseline"], r["power"]
        unit = r.get("unit", "")
        evidence = [
            f"Baseline: {b['km']:.1f} {unit} (95 % interval {b['km_low']:.1f} to "
            f"{b['km_high']:.1f}) "
            f"over {b['events']:,} cases, {b['open']:,} still open; a closed-only query would "
            f"report {b['naive_closed_only']:.1f}.",
        ]
        if power.get("weeks_needed"):
            evidence.append(
                f"A pilot needs about {power['weeks_needed']} weeks to detect the target change."
            )
        for g in r.get("guardrails", []):
            evidence.append(f"Guardrail: {g['guardrail']}, {g['rule']}.")
        return r["statement"], evidence
    if name == "02_data_audit":
        gate = _first_line(r.get("gate", ""))
        findings = [f for f in r.get("findings", []) if f.get("severity") == "blocking"]
        evidence = [
            f"{r.get('sources', 0)} sources audited; {len(r.get('failed', []))} could not be read."
        ]
        evidence += [f"{f['source']}: {f['message']}" for f in findings[:6]]
        if len(findings) > 6:
            evidence.append(f"... and {len(findings) - 6} more blocking findings (see the audit).")
        return gate, evidence
    if name == "03_simple_vs_rag":
        rec = r.get("recommendation", {})
        return rec.get("reason", ""), [rec.get("projected_effect", "")] if rec.get(
            "projected_effect"
        ) else []
    if name == "06_impact":
        change = r["relative_change"]
        evidence = [
            f"Design: {DESIGN_NAMES.get(r['design'], r['design'])}; "
            f"change {100 * change['estimate']:+.1f} % (95 % interval "
            f"{100 * change['low']:+.1f} % to "
            f"{100 * change['high']:+.1f} %) against a target of {100 * r['target_change']:+.0f} %."
        ]
        for g in r.get("guardrails", []):
            before, after = _guardrail_value(g, "before"), _guardrail_value(g, "after")
            evidence.append(
                f"Guardrail {g['guardrail']}: {g['status']} ({before} before, {after} after)."
            )
        if r.get("placebo", {}).get("note"):
            evidence.append(r["placebo"]["note"])
        return r["statement"], evidence
    if name == "04_production_readiness":
        ready = r["readiness"]
        evidence = [
            f"ML Test Score {ready['ml_test_score']['score']:g} (weakest section: "
            f"{ready['ml_test_score']['weakest']}); MLOps maturity level "
            f"{ready['maturity']['level']} of 4.",
        ]
        if r.get("gate"):
            evidence.append(
                "Promotion gate: "
                + (
                    "the challenger was promoted."
                    if r["gate"]["promote"]
                    else "the challenger was refused: " + "; ".join(r["gate"]["reasons"]) + "."
                )
            )
        if r.get("rollback_drill"):
            evidence.append(
                "Rollback drill: " + ("passed." if r["rollback_drill"]["passed"] else "FAILED.")
            )
        evidence += [f"Condition: {c}." for c in ready["conditions"][:3]]
        return r["statement"], evidence
    if name == "07_next_use_cases":
        return r["statement"], [
            f"{row['rank']}. {row['candidate']}: {row['reasoning']}" for row in r["ranking"][:3]
        ]
    verdict = r.get("statement") or r.get("verdict") or ""
    return str(verdict), []


def _guardrail_value(g: dict[str, Any], key: str) -> str:
    return f"{100 * g[key]:.1f} %" if g["guardrail"] == "reopen rate" else f"{g[key]:.2f}"


# --------------------------------------------------------------------------- summary page
def summary_markdown(summary: Summary) -> str:
    """The client book's first page (MyST markdown; values escaped)."""
    e = html.escape
    c = summary.client
    lines = [f"# {e(c.name)}: executive summary", ""]
    if c.process:
        lines += [f"**Process in scope:** {e(c.process)}", ""]
    if c.dates:
        lines += ["**Dates:** " + ", ".join(f"{e(k)} {e(v)}" for k, v in c.dates.items()), ""]
    lines += [f"**{e(summary.answer)}**", ""]
    for title, answer, evidence in summary.sections:
        lines += [f"## {e(title)}", "", e(answer), ""]
        lines += [f"- {e(item)}" for item in evidence if item]
        lines.append("")
    lines += [
        "## What is in this book",
        "",
        "Each chapter below is a notebook executed on the client's data, answer first. The "
        "working documents at the end are drafts for the next meetings.",
        "",
    ]
    return "\n".join(lines)


#: The one-page report shows this many pieces of evidence per topic, each cut to this length.
REPORT_ITEMS = 2
REPORT_ITEM_CHARS = 240


def _short(text: str) -> str:
    if len(text) <= REPORT_ITEM_CHARS:
        return text
    return text[: REPORT_ITEM_CHARS - 1].rsplit(" ", 1)[0] + " \u2026"


def executive_html(summary: Summary) -> str:
    """The one-page executive report (standalone HTML, inline style, values escaped)."""
    e = html.escape
    c = summary.client
    blocks = []
    for title, answer, evidence in summary.sections:
        items = "".join(f"<li>{e(_short(x))}</li>" for x in evidence[:REPORT_ITEMS] if x)
        blocks.append(
            f"<h2>{e(title)}</h2><p>{e(answer)}</p>" + (f"<ul>{items}</ul>" if items else "")
        )
    meta = " &middot; ".join(
        e(x) for x in [c.process, *(f"{k} {v}" for k, v in c.dates.items())] if x
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(c.name)}: executive report</title>
<style>
@page {{ size: A4; margin: 14mm 14mm; }}
body {{ font-family: "DejaVu Sans", Arial, sans-serif; font-size: 8.5pt; color: #111;
  line-height: 1.3; }}
h1 {{ font-size: 15pt; margin: 0 0 2mm 0; }}
h2 {{ font-size: 10.5pt; margin: 3mm 0 1mm 0; color: #0b4f80; }}
p, ul {{ margin: 0 0 1mm 0; }}
ul {{ padding-left: 5mm; }}
.meta {{ color: #555; margin-bottom: 3mm; }}
.answer {{ border-left: 3px solid #0072B2; background: #F2F7FB; padding: 2mm 3mm;
  font-weight: bold; }}
</style></head>
<body>
<h1>{e(c.name)}: AI pilot, executive report</h1>
<div class="meta">{meta}</div>
<p class="answer">{e(summary.answer)}</p>
{"".join(blocks)}
</body></html>
"""


def print_pdf(html_path: Path, pdf_path: Path, chromium: str = CHROMIUM) -> str:
    """Print an HTML file to PDF with headless Chromium; returns "" or why it was not done."""
    exe = shutil.which(chromium) or (chromium if Path(chromium).exists() else None)
    if exe is None:
        return f"no PDF: Chromium was not found at {chromium} (set PILOT2PROD_CHROMIUM)"
    args = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf_path}",
        html_path.resolve().as_uri(),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=180)
    if done.returncode != 0 or not pdf_path.is_file():
        return f"no PDF: Chromium exited with {done.returncode}"
    return ""


# --------------------------------------------------------------------------- documents
def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def metric_signoff(folder: Path, summary: Summary) -> str | None:
    """The metric sign-off sheet, from Chapter 1's metric spec and results."""
    spec_path = folder / "01_success_metric" / "metric_spec.yaml"
    if not spec_path.is_file():
        return None
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    c = summary.client
    b, t = spec["baseline"], spec["target"]
    unit = spec["metric"]["unit"]
    weeks = t.get("weeks_needed")
    lines = [
        f"# Metric sign-off: {c.name}",
        "",
        "One number decides whether the pilot worked. Sign it off before anything is built.",
        "",
        f"> {spec['statement']}",
        "",
        "| | |",
        "|---|---|",
        f"| Metric | {spec['metric']['label']} ({spec['metric']['estimator']}) |",
        f"| Process | {c.process or '(to fill in)'} |",
        f"| Baseline | {b['value']:.2f} {unit}, window {b['window_start']} to "
        f"{b['window_end_exclusive']} "
        f"({b['events']:,} cases) |",
        f"| Target | {t['value']:.2f} {unit} ({100 * t['relative_change']:+.0f} %) |",
        f"| Weeks needed to detect it | {weeks if weeks else 'not detectable at this volume'} |",
        f"| Metric owner | {c.metric_owner or '(to fill in)'} |",
        f"| Deadline | {c.dates.get('review', '(to fill in)')} |",
        "",
        "## Guardrails",
        "",
        "| guardrail | baseline | limit | rule |",
        "|---|---|---|---|",
    ]
    for g in spec.get("guardrails", []):
        lines.append(f"| {g['name']} | {g['baseline']:.3g} | {g['limit']:.3g} | {g['rule']} |")
    lines += [
        "",
        "## Signatures",
        "",
        f"- Metric owner: {c.metric_owner or '________________'}  date: __________",
        f"- Signed off by: {c.sign_off_by or '________________'}  date: __________",
        "",
    ]
    return "\n".join(lines)


def data_requests(folder: Path, summary: Summary) -> dict[str, str]:
    """One data request per source owner: the audit's findings on their sources and the open
    questions of their datasheets."""
    audit_path = folder / "02_data_audit" / "audit.json"
    if not audit_path.is_file():
        return {}
    audit = json.loads(audit_path.read_text(encoding="utf-8"))
    owners: dict[str, list[str]] = {}
    for source in audit.get("sources", []):
        owner = (source.get("details") or {}).get("owner") or "owner unknown"
        owners.setdefault(owner, []).append(source["source"])
    findings: dict[str, list[dict]] = {}
    for f in audit.get("findings", []):
        findings.setdefault(f["source"], []).append(f)
    sheets = folder / "02_data_audit" / "datasheets"
    out = {}
    for owner, sources in sorted(owners.items()):
        lines = [
            f"# Data request: {owner}",
            "",
            f"For the {summary.client.name} AI pilot"
            + (f" ({summary.client.process})" if summary.client.process else "")
            + ". The data audit read the sources below; please help with the points listed.",
            "",
        ]
        for source in sources:
            lines += [f"## {source}", ""]
            listed = [
                f for f in findings.get(source, []) if f.get("severity") in ("blocking", "major")
            ]
            if listed:
                lines += ["What the audit found (please fix, or tell us why it is right):", ""]
                lines += [f"- **{f['severity']}**: {f['message']}" for f in listed]
                lines.append("")
            sheet = sheets / (source.replace(":", "__").replace("/", "_") + ".md")
            questions = _open_questions(sheet)
            if questions:
                lines += ["Questions about this source:", ""]
                lines += [f"- {q}" for q in questions]
                lines.append("")
            if not listed and not questions:
                lines += ["Nothing to fix; thank you.", ""]
        out[owner] = "\n".join(lines)
    return out


def _open_questions(sheet: Path) -> list[str]:
    if not sheet.is_file():
        return []
    return [
        m.group(1)
        for m in re.finditer(r"^- \*(.+)\*\s*$", sheet.read_text(encoding="utf-8"), re.MULTILINE)
    ]


#: What to ask each role in the interviews.
ROLE_QUESTIONS = {
    "business owner": "Is the metric the one the business will judge the pilot on? Who "
    "decides to expand it?",
    "data steward": "Who fixes the audit's blocking findings, and by when? Is the legal basis "
    "recorded?",
    "ML engineer": "Can the recommended approach be served, versioned and rolled back with what "
    "exists?",
    "on-call engineer": "Who is paged when the model or its data breaks, and what is the runbook?",
    "data protection": "Does the recorded legal basis cover this use of personal data? Is an "
    "impact assessment needed?",
    "security": "Where may the data and the model run, and who may reach them?",
    "front-line expert": "Would you trust a suggestion? What would make you override it?",
    "change lead": "How will the teams learn the new way of working, and who supports them in "
    "week one?",
}


def interview_checklist(summary: Summary) -> str:
    """Questions per stakeholder, the roles nobody holds, and questions the findings raise."""
    c = summary.client
    lines = [f"# Stakeholder interview checklist: {c.name}", ""]
    held = {s.role.lower() for s in c.stakeholders}
    missing = [role for role in ROLES if role.lower() not in held]
    if c.stakeholders:
        lines += ["## Interviews", ""]
        for s in c.stakeholders:
            question = ROLE_QUESTIONS.get(s.role.lower(), "What does the pilot change for you?")
            area = f", {s.area}" if s.area else ""
            lines.append(f"- [ ] **{s.name}** ({s.role}{area}): {question}")
        lines.append("")
    if missing:
        lines += [
            "## Roles nobody holds yet",
            "",
            "Find a person for each before the pilot starts:",
            "",
        ]
        lines += [f"- [ ] {role}: {ROLE_QUESTIONS[role]}" for role in missing]
        lines.append("")
    raised = []
    audit = summary.results.get("02_data_audit")
    if audit and any("legal basis" in f.get("message", "") for f in audit.get("findings", [])):
        raised.append(
            "Data protection: personal data without a recorded legal basis was found; which "
            "basis applies?"
        )
    if audit and not audit.get("go"):
        raised.append(
            "Data steward: the data gate is NO-GO; agree owners and dates for each blocking "
            "finding."
        )
    impact = summary.results.get("06_impact")
    if impact and any(g["status"] == "breached" for g in impact.get("guardrails", [])):
        raised.append(
            "Business owner: a guardrail was breached after the launch; what must change "
            "before expanding?"
        )
    if raised:
        lines += ["## Raised by the findings", ""] + [f"- [ ] {q}" for q in raised] + [""]
    adoption = summary.results.get("05_adoption")
    if adoption is None:
        lines += [
            "Organisational readiness (a RACI matrix and ADKAR survey) is assessed in Chapter 5; "
            "its gaps are added here when it is run.",
            "",
        ]
        return "\n".join(lines)
    gaps = adoption.get("raci_findings") or []
    if gaps:
        lines += ["## Accountability gaps (RACI)", ""]
        lines += [f"- [ ] {g['where']}: {g['finding']}. Agree to {g['action']}." for g in gaps]
        lines.append("")
    barriers = [row for row in adoption.get("adkar") or [] if row.get("barrier")]
    if barriers:
        lines += ["## Change barriers (ADKAR)", ""]
        lines += [
            f"- [ ] {row['group']}: barrier at {row['barrier']}. Ask what would help; planned: "
            f"{row['action']}."
            for row in barriers
        ]
        lines.append("")
    named = adoption.get("named") or {}
    for key, label in (
        ("laggards", "lags behind in adoption"),
        ("over_relying", "accepts wrong suggestions too often"),
        ("under_relying", "overrides correct suggestions too often"),
    ):
        for group in named.get(key, []):
            lines.append(f"- [ ] {group} {label}: interview its lead and two users.")
    lines.append("")
    return "\n".join(lines)


def write_documents(folder: Path, summary: Summary) -> list[Path]:
    docs = folder / DOCUMENTS_DIR
    if docs.exists():
        shutil.rmtree(docs)
    docs.mkdir(parents=True)
    written = []
    signoff = metric_signoff(folder, summary)
    if signoff:
        written.append(_write(docs / "metric_signoff.md", signoff))
    for owner, text in data_requests(folder, summary).items():
        written.append(_write(docs / f"data_request_{_slug(owner)}.md", text))
    written.append(_write(docs / "interview_checklist.md", interview_checklist(summary)))
    return written


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- client book
def _client_notebook(source: Path, target: Path) -> None:
    """The executed notebook as a client reads it: code hidden, parameters removed."""
    import nbformat

    nb = nbformat.read(str(source), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.setdefault("tags", [])
        if "parameters" in tags or "injected-parameters" in tags:
            tags.append("remove-cell")
        elif "remove-cell" not in tags and "remove-input" not in tags:
            tags.append("remove-input")
    nbformat.write(nb, str(target))


def build_client_book(
    folder: Path, summary: Summary, documents: list[Path]
) -> tuple[Path | None, str]:
    """Write and build the client book; returns the built index page (or None) and a note."""
    book = folder / CLIENT_BOOK_DIR
    if book.exists():
        shutil.rmtree(book)
    (book / "notebooks").mkdir(parents=True)
    (book / "documents").mkdir()
    _write(book / "summary.md", summary_markdown(summary))
    chapters = []
    for name, _ in TOPICS:
        executed = folder / name / f"{name}.ipynb"
        if name in summary.results and executed.is_file():
            _client_notebook(executed, book / "notebooks" / executed.name)
            chapters.append({"file": f"notebooks/{name}"})
    docs = []
    for doc in documents:
        shutil.copyfile(doc, book / "documents" / doc.name)
        docs.append({"file": f"documents/{doc.stem}"})
    toc = {
        "format": "jb-book",
        "root": "summary",
        "parts": [{"caption": "The playbook on your data", "chapters": chapters}]
        + ([{"caption": "Working documents", "chapters": docs}] if docs else []),
    }
    config = {
        "title": f"{summary.client.name}: AI pilot playbook",
        "author": "pilot2prod",
        "only_build_toc_files": True,
        "execute": {"execute_notebooks": "off"},
        "sphinx": {
            "config": {
                # The project book's list (see its _config.yml): no live-code script, no CDN.
                "extensions": [
                    "sphinx_togglebutton",
                    "myst_nb",
                    "jupyter_book",
                    "sphinx_external_toc",
                    "sphinx_design",
                    "sphinx_book_theme",
                ],
                "html_context": {"default_mode": "light"},
                "html_extra_path": ["_extra"],
                "html_show_copyright": False,
            }
        },
        "html": {"use_repository_button": False, "favicon": "favicon.svg"},
    }
    icon = Path(__file__).parent / "templates" / "favicon.svg"
    shutil.copyfile(icon, book / "favicon.svg")
    # The book's index.html is a bare redirect without an icon link: a browser then asks for
    # /favicon.ico, which Sphinx copies from here to the site's root.
    (book / "_extra").mkdir()
    shutil.copyfile(icon, book / "_extra" / "favicon.ico")
    _write(book / "_toc.yml", yaml.safe_dump(toc, sort_keys=False))
    _write(book / "_config.yml", yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    jb = Path(sys.executable).with_name("jupyter-book")
    done = subprocess.run(
        [str(jb), "build", str(book), "--path-output", str(book), "-n", "--keep-going", "-q"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    index = book / "_build" / "html" / "index.html"
    if done.returncode != 0 or not index.is_file():
        log = folder / "logs" / "client-book.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(done.stdout + done.stderr, encoding="utf-8")
        return None, "the client book did not build; see logs/client-book.log"
    return index, ""


@dataclass
class Handover:
    summary: Summary
    documents: list[Path]
    book: Path | None
    pdf: Path | None
    notes: list[str]


def hand_over(folder: Path, client: Client, status: dict[str, str], book: bool = True) -> Handover:
    """Everything a consultant hands over, written into the engagement folder."""
    summary = collect(folder, client, status)
    notes = []
    _write(folder / SUMMARY_FILE, summary_markdown(summary))
    report = _write(folder / REPORT_HTML, executive_html(summary))
    pdf = folder / REPORT_PDF
    why = print_pdf(report, pdf)
    if why:
        notes.append(why)
    documents = write_documents(folder, summary)
    index = None
    if book:
        index, why = build_client_book(folder, summary, documents)
        if why:
            notes.append(why)
    return Handover(summary, documents, index, pdf if pdf.is_file() else None, notes)
