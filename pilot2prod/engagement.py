"""An engagement: which notebooks run on which data, for one client (or the sample company).

An engagement file maps notebook names to their parameters, with paths relative to the file::

    01_success_metric:
      events_path: ../exports/tickets.csv
      start_column: opened
      ...

Only the notebooks it names are run, in playbook order; nothing falls back to the bundled sample
data. What one notebook writes for the next (Chapter 1's metric spec) is handed on.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pilot2prod.errors import ParameterError, Pilot2ProdError
from pilot2prod.handoff import METRIC_SPEC_FILE, MODEL_FOLDER, sha256_of
from pilot2prod.jsonable import to_jsonable
from pilot2prod.params import parameter_class_of, parameters_cell
from pilot2prod.paths import runs_base
from pilot2prod.runner import (
    DEFAULT_TIMEOUT,
    RunResult,
    available_notebooks,
    find_notebook,
    read_parameter_file,
    relative_paths,
    resolve_parameters,
    run_notebook,
)

#: What a notebook writes that a later one reads: (the step that writes it, or None for any;
#: the file in its run folder; the parameter it fills in a later step).
HANDOFFS = (
    (None, METRIC_SPEC_FILE, "metric_spec_path"),
    ("02_data_audit", "audit.json", "audit_path"),
    ("02_data_audit", "contracts", "contract_path"),
    ("03_simple_vs_rag", MODEL_FOLDER, "model_path"),
    ("06_impact", "results.json", "impact_path"),
)


#: The engagement file's key for the client's context (not a notebook).
CLIENT_KEY = "engagement"
#: Roles an engagement's stakeholders are checked against (the interview checklist asks about
#: every one nobody holds).
ROLES = (
    "business owner",
    "data steward",
    "ML engineer",
    "on-call engineer",
    "data protection",
    "security",
    "front-line expert",
    "change lead",
)


@dataclass(frozen=True)
class Stakeholder:
    name: str
    role: str  # one of ROLES, or the client's own word for it
    area: str = ""


@dataclass(frozen=True)
class Client:
    """The context of an engagement: who the client is, the one process in scope, who is
    involved, and the dates that matter. Shown on the client book's summary page and in the
    working documents."""

    name: str
    process: str = ""
    metric_owner: str = ""
    sign_off_by: str = ""
    stakeholders: tuple[Stakeholder, ...] = ()
    dates: dict[str, str] = field(default_factory=dict)  # e.g. start, launch, review

    @property
    def slug(self) -> str:
        import re

        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "client"


def read_client(data: Any, fallback: str) -> Client:
    """The ``engagement:`` section, checked; a file without one is named after itself."""
    if data is None:
        return Client(fallback)
    where = f"Engagement file: the '{CLIENT_KEY}' section"
    if not isinstance(data, dict):
        raise ParameterError(f"{where} must be a mapping (client:, process:, stakeholders:, ...).")
    known = {"client", "process", "metric_owner", "sign_off_by", "stakeholders", "dates"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ParameterError(
            f"{where} has an unknown entry '{unknown[0]}'; use {', '.join(sorted(known))}."
        )
    name = data.get("client")
    if not isinstance(name, str) or not name.strip():
        raise ParameterError(f"{where} needs client: the client's name.")
    people = []
    for i, entry in enumerate(data.get("stakeholders") or []):
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("role"):
            raise ParameterError(
                f"{where}: stakeholder {i + 1} needs a name and a role (e.g. name: Dana Fox, "
                "role: business owner)."
            )
        people.append(
            Stakeholder(str(entry["name"]), str(entry["role"]), str(entry.get("area", "")))
        )
    dates = data.get("dates") or {}
    if not isinstance(dates, dict):
        raise ParameterError(f"{where}: dates must be a mapping such as start: 2026-01-12.")
    from pilot2prod.params import check_date

    for key, value in dates.items():
        check_date(f"{CLIENT_KEY}.dates.{key}", str(value), "2026-01-12", "")
    return Client(
        name=name.strip(),
        process=str(data.get("process") or ""),
        metric_owner=str(data.get("metric_owner") or ""),
        sign_off_by=str(data.get("sign_off_by") or ""),
        stakeholders=tuple(people),
        dates={str(k): str(v) for k, v in dates.items()},
    )


@dataclass
class Engagement:
    """The notebooks an engagement file names, each with its parameters, in playbook order,
    and the client's context."""

    path: Path
    plan: dict[str, dict[str, Any]]
    client: Client | None = None

    @property
    def base(self) -> Path:
        return self.path.parent


def read_engagement(path: str | Path) -> Engagement:
    p = Path(path).resolve()
    plan = dict(read_parameter_file(p))
    client = read_client(plan.pop(CLIENT_KEY, None), p.stem)
    names = [nb.stem for nb in available_notebooks()]
    for name, entry in plan.items():
        if name not in names:
            raise ParameterError(
                f"Engagement file names notebook '{name}', which does not exist; use one of: "
                f"{', '.join(names)}."
            )
        if not isinstance(entry, dict):
            raise ParameterError(
                f"Engagement file: the entry for {name} must be a mapping of parameters."
            )
    if not plan:
        raise ParameterError(
            f"Engagement file '{p.name}' names no notebook; give at least one, e.g. "
            "01_success_metric: with its parameters."
        )
    ordered = {name: dict(plan[name]) for name in names if name in plan}
    return Engagement(p, ordered, client)


@dataclass
class StepOutcome:
    notebook: str
    status: str  # "done", "kept" (finished in an earlier run), "failed" or "skipped"
    folder: Path | None = None
    message: str = ""
    notes: list[str] = field(default_factory=list)
    exit_code: int = 0


#: Files of an engagement folder that are not deliverables.
MANIFEST_FILE = "manifest.json"
ENGAGEMENT_COPY = "engagement.yaml"
LOGS_DIR = "logs"


def default_folder(engagement: Engagement, cwd: Path | None = None) -> Path:
    """``runs/<engagement file name>/`` under the runs folder (see :func:`runs_base`)."""
    return runs_base(cwd) / engagement.path.stem


def client_folder(engagement: Engagement, cwd: Path | None = None) -> Path:
    """``runs/<client>-<date>/``: a fresh folder per client and (UTC) day; a second run on
    the same day resumes the first."""
    client = engagement.client or Client(engagement.path.stem)
    return runs_base(cwd) / f"{client.slug}-{datetime.now(UTC):%Y-%m-%d}"


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise ParameterError(
            f"'{path.name}' in {folder.name} is not a pilot2prod manifest; give --out a new folder."
        ) from None


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


#: The packages whose versions a manifest records (what the results depend on).
VERSIONED = (
    "pilot2prod",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "scikit-learn",
    "duckdb",
    "ibis-framework",
    "papermill",
    "wordllama",
    "bm25s",
)


def _comparable(values: dict[str, Any]) -> dict[str, Any]:
    """Parameters as a finished step is compared with a new request: without the folder it
    wrote to and the hand-offs (which follow from the earlier steps)."""
    skip = {"output_dir", *(parameter for _, _, parameter in HANDOFFS)}
    return {k: v for k, v in values.items() if k not in skip}


def run_playbook(
    engagement: Engagement,
    out: Path | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    progress: bool = True,
    report=print,  # noqa: ANN001 - where progress lines go
    rerun: frozenset[str] | set[str] = frozenset(),
) -> list[StepOutcome]:
    """Run each notebook the engagement names into one engagement folder.

    The folder (``out``, else :func:`default_folder`) holds one sub-folder per notebook (the
    deliverables, paths in them relative to the engagement file's folder), a copy of the
    engagement file, ``manifest.json`` (files and their SHA-256, parameters, versions, what
    happened to each step) and ``logs/`` (kernel logs, failed attempts) apart.

    Re-running is explicit. A step that finished in an earlier run into the same folder is
    kept; with other parameters it stops the run (exit 2) unless named in ``rerun`` (``"all"``
    for every step). A step re-run replaces its folder only when it finishes; a failure leaves
    the earlier outputs as they were. A failing notebook does not stop the others; a later
    notebook that needs its hand-off runs without it, and the outcome says so."""

    base = engagement.base
    folder = (out or default_folder(engagement)).resolve()
    manifest = read_manifest(folder)
    earlier: dict[str, Any] = manifest.get("steps", {})
    unknown = set(rerun) - set(engagement.plan) - {"all"}
    if unknown:
        raise ParameterError(
            f"--rerun names {', '.join(sorted(unknown))}, which this engagement does not run; "
            f"use one of: {', '.join(engagement.plan)} or all."
        )
    again = set(engagement.plan) if "all" in rerun else set(rerun)
    # Check every kept step before running anything: a changed engagement stops the run.
    for name, entry in engagement.plan.items():
        before = earlier.get(name, {})
        if before.get("status") != "done" or name in again:
            continue
        values = relative_paths(
            find_notebook(name), resolve_parameters(find_notebook(name), entry, cwd=base), base
        )
        now, then = _comparable(values), _comparable(before.get("parameters", {}))
        changed = sorted(k for k in now.keys() | then.keys() if now.get(k) != then.get(k))
        if changed:
            raise ParameterError(
                f"{name} finished in an earlier run into {folder.name} with another "
                f"{', '.join(changed)}; re-run it with --rerun {name} (its outputs are "
                "replaced), or give --out a new folder."
            )
    # Never replace what this command did not write (an older layout, a consultant's files).
    foreign = [name for name in engagement.plan if (folder / name).exists() and name not in earlier]
    if foreign:
        raise ParameterError(
            f"{folder.name} already holds a folder {foreign[0]} that no run of this engagement "
            "recorded in manifest.json; move it away, or give --out a new folder. Nothing was "
            "run."
        )
    started = _now()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(engagement.path, folder / ENGAGEMENT_COPY)
    produced: dict[str, str] = {}  # hand-off parameter -> file, relative to the engagement
    fresh: set[str] = set()  # hand-offs written by a step of this run
    failed: list[str] = []
    outcomes = []
    steps: dict[str, Any] = {k: v for k, v in earlier.items() if k in engagement.plan}
    for name, entry in engagement.plan.items():
        notebook = find_notebook(name)
        declared = set(parameter_class_of(notebook).spec())
        target = folder / name
        before = earlier.get(name, {})
        consumed = [p for p in fresh if p in declared and not entry.get(p)]
        if before.get("status") == "done" and name not in again and not consumed:
            outcomes.append(StepOutcome(name, "kept", target, "", before.get("notes", [])))
            report(f"== {name}: kept from the run of {before.get('finished', '?')}")
            produced |= _handoffs(target, base)
            continue
        values = dict(entry)
        notes = []
        if consumed and before.get("status") == "done" and name not in again:
            notes.append("re-run because the step it takes its hand-off from was re-run")
        for parameter, path in produced.items():
            if parameter in declared and not values.get(parameter):
                values[parameter] = path
        missing = [
            parameter
            for _, _, parameter in HANDOFFS
            if parameter in declared and not values.get(parameter) and failed
        ]
        if missing:
            notes.append(f"ran without {', '.join(missing)}: {', '.join(failed)} did not finish")
        report(f"== {name}")
        previous = folder / LOGS_DIR / f"{name}.previous"
        attempt = folder / LOGS_DIR / f"{name}.failed"
        shutil.rmtree(previous, ignore_errors=True)
        shutil.rmtree(attempt, ignore_errors=True)
        if target.exists():
            previous.parent.mkdir(parents=True, exist_ok=True)
            target.rename(previous)
        step_started = _now()
        try:
            result: RunResult = run_notebook(
                name,
                from_file=values,
                cwd=base,
                timeout=timeout,
                progress=progress,
                folder=target,
                log=folder / LOGS_DIR / f"{name}.kernel.log",
                relative=True,
            )
        except Pilot2ProdError as exc:
            failed.append(name)
            if target.exists():
                target.rename(attempt)
            if previous.exists():
                previous.rename(target)  # the earlier outputs stay as they were
            message = str(exc).replace(str(target), str(attempt))
            outcomes.append(StepOutcome(name, "failed", None, message, notes, exc.exit_code))
            steps[name] = steps.get(name, {}) | {
                "last_attempt": {"status": "failed", "finished": _now(), "message": message}
            }
            report(f"   failed: {message}")
            continue
        shutil.rmtree(previous, ignore_errors=True)
        written = _handoffs(target, base)
        produced |= written
        fresh |= set(written)  # a later step that reads one of these runs again too
        steps[name] = {
            "status": "done",
            "started": step_started,
            "finished": _now(),
            "parameters": to_jsonable(result.parameters),
            "notes": notes,
        }
        outcomes.append(StepOutcome(name, "done", target, "", notes))
        report(f"   done: {target}")
    _write_manifest(folder, engagement, steps, started)
    return outcomes


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _handoffs(target: Path, base: Path) -> dict[str, str]:
    """The hand-off files a finished step left in ``target``, relative to ``base``."""
    return {
        parameter: os.path.relpath(target / filename, base)
        for step, filename, parameter in HANDOFFS
        if step in (None, target.name) and (target / filename).exists()
    }


def _files(folder: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Every deliverable file with its size and SHA-256, and the logs (without hashes)."""
    files = []
    logs = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if relative == MANIFEST_FILE:
            continue
        if relative.split("/", 1)[0] == LOGS_DIR:
            logs.append(relative)
            continue
        files.append({"path": relative, "bytes": path.stat().st_size, "sha256": sha256_of(path)})
    return files, logs


def refresh_manifest(folder: Path) -> Path:
    """List again every file of the folder in its manifest (after the hand-over documents)."""
    manifest = read_manifest(folder)
    manifest["files"], manifest["logs"] = _files(folder)
    path = folder / MANIFEST_FILE
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _write_manifest(
    folder: Path, engagement: Engagement, steps: dict[str, Any], started: str
) -> Path:
    """``manifest.json``: what was run, with which parameters and versions, and every
    deliverable file with its size and SHA-256 (logs are listed apart, without hashes)."""
    files, logs = _files(folder)
    manifest = {
        "engagement": ENGAGEMENT_COPY,
        "engagement_sha256": sha256_of(folder / ENGAGEMENT_COPY),
        "paths_relative_to": "the folder of the engagement file",
        "run_started": started,
        "run_finished": _now(),
        "versions": _versions(),
        "steps": steps,
        "files": files,
        "logs": logs,
    }
    path = folder / MANIFEST_FILE
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def prepare_book(
    engagement: Engagement, out: Path, handoffs_from: Path | None = None
) -> list[Path]:
    """Write each notebook the engagement names into ``out`` with its parameters injected
    (papermill, not executed) and paths relative to ``out``: what the book executes and nbval
    re-executes. The parameters cells are tagged ``remove-cell`` so that a page opens with its
    title; the values used stay in the notebook. ``handoffs_from``, an engagement folder of the
    same engagement (``make book`` runs the playbook first), supplies the hand-offs."""
    import nbformat
    import papermill as pm

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    handed: dict[str, str] = {}
    if handoffs_from is not None:
        for name in engagement.plan:
            handed |= _handoffs(Path(handoffs_from).resolve() / name, engagement.base)
    written = []
    for name, entry in engagement.plan.items():
        source = find_notebook(name)
        declared = set(parameter_class_of(source).spec())
        entry = dict(entry) | {
            k: v for k, v in handed.items() if k in declared and not entry.get(k)
        }
        try:
            values = resolve_parameters(source, from_file=entry, cwd=engagement.base)
        except ParameterError as exc:
            handed_on = [p for _, _, p in HANDOFFS if p in declared and p in str(exc)]
            if not handed_on:
                raise
            raise ParameterError(
                f"{name}: {exc} An earlier step of the playbook hands {handed_on[0]} on: give "
                "--from a folder where this engagement's playbook ran (make book does)."
            ) from None
        for f in fields(parameter_class_of(source)):
            value = values.get(f.name)
            if (
                f.metadata.get("path") not in (None, "output")
                and value
                and Path(value).is_absolute()
            ):
                values[f.name] = os.path.relpath(value, out)
        target = out / source.name
        pm.execute_notebook(
            str(source), str(target), parameters=values, prepare_only=True, kernel_name="python3"
        )
        nb = nbformat.read(str(target), as_version=4)
        parameters_cell(nb)  # the notebook still has its parameters cell
        for cell in nb.cells:
            tags = cell.metadata.setdefault("tags", [])
            if (
                "parameters" in tags or "injected-parameters" in tags
            ) and "remove-cell" not in tags:
                tags.append("remove-cell")
        nbformat.write(nb, str(target))
        written.append(target)
    return written
