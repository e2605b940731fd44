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

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import nbformat

from pilot2prod.errors import ParameterError, Pilot2ProdError
from pilot2prod.handoff import METRIC_SPEC_FILE
from pilot2prod.params import parameter_class_of, parameters_cell
from pilot2prod.runner import (
    DEFAULT_TIMEOUT,
    RunResult,
    available_notebooks,
    find_notebook,
    read_parameter_file,
    resolve_parameters,
    run_notebook,
)

#: What a notebook writes that a later one reads: (file in the run folder, parameter to fill).
HANDOFFS = ((METRIC_SPEC_FILE, "metric_spec_path"),)


@dataclass
class Engagement:
    """The notebooks an engagement file names, each with its parameters, in playbook order."""

    path: Path
    plan: dict[str, dict[str, Any]]

    @property
    def base(self) -> Path:
        return self.path.parent


def read_engagement(path: str | Path) -> Engagement:
    p = Path(path).resolve()
    plan = read_parameter_file(p)
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
    return Engagement(p, ordered)


@dataclass
class StepOutcome:
    notebook: str
    status: str  # "done", "failed" or "skipped"
    folder: Path | None = None
    message: str = ""
    notes: list[str] = field(default_factory=list)
    exit_code: int = 0


def run_playbook(
    engagement: Engagement,
    out: Path | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    progress: bool = True,
    report=print,  # noqa: ANN001 - where progress lines go
) -> list[StepOutcome]:
    """Run each notebook the engagement names. A failing notebook does not stop the others;
    a later notebook that needs its hand-off runs without it, and the outcome says so."""
    produced: dict[str, str] = {}
    failed: list[str] = []
    outcomes = []
    for name, entry in engagement.plan.items():
        values = dict(entry)
        declared = set(parameter_class_of(find_notebook(name)).spec())
        notes = []
        for parameter, path in produced.items():
            if parameter in declared and not values.get(parameter):
                values[parameter] = path
        missing = [
            parameter
            for _, parameter in HANDOFFS
            if parameter in declared and not values.get(parameter) and failed
        ]
        if missing:
            notes.append(f"ran without {', '.join(missing)}: {', '.join(failed)} did not finish")
        report(f"== {name}")
        try:
            result: RunResult = run_notebook(
                name,
                from_file=values,
                out=out,
                cwd=engagement.base,
                timeout=timeout,
                progress=progress,
            )
        except Pilot2ProdError as exc:
            failed.append(name)
            outcomes.append(StepOutcome(name, "failed", None, str(exc), notes, exc.exit_code))
            report(f"   failed: {exc}")
            continue
        for filename, parameter in HANDOFFS:
            if (result.folder / filename).exists():
                produced[parameter] = str(result.folder / filename)
        outcomes.append(StepOutcome(name, "done", result.folder, "", notes))
        report(f"   done: {result.folder}")
    return outcomes


def prepare_book(engagement: Engagement, out: Path) -> list[Path]:
    """Write each notebook the engagement names into ``out`` with its parameters injected
    (papermill, not executed) and paths relative to ``out``: what the book executes and nbval
    re-executes. The parameters cells are tagged ``remove-cell`` so that a page opens with its
    title; the values used stay in the notebook."""
    import papermill as pm

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, entry in engagement.plan.items():
        source = find_notebook(name)
        values = resolve_parameters(source, from_file=entry, cwd=engagement.base)
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
