"""Run notebooks with papermill: parameters checked first, a fresh run folder every time.

A run folder (``runs/<notebook>/<timestamp>/``) holds the executed notebook, an HTML export,
a no-code HTML export for readers who want only the findings, ``results.json`` and whatever
else the notebook writes, and ``parameters.yaml`` with the values used.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TextIO

# nbformat, papermill and nbconvert are imported where used: a run starts its kernel first.
import yaml

from pilot2prod import errors
from pilot2prod.errors import NotebookFailed, ParameterError, Pilot2ProdError
from pilot2prod.jsonable import to_jsonable
from pilot2prod.params import (
    NotebookParameter,
    chapter_of,
    check_names,
    coerce,
    notebook_parameters,
    parameter_class_of,
)
from pilot2prod.paths import NOTEBOOKS_DIR, new_run_dir, runs_base

DEFAULT_TIMEOUT = 1800  # seconds per cell


@dataclass(frozen=True)
class RunResult:
    folder: Path
    notebook: Path
    html: Path
    html_no_code: Path
    parameters: dict[str, Any]

    @property
    def results_json(self) -> Path:
        return self.folder / "results.json"


def available_notebooks() -> list[Path]:
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def notebook_title(path: Path) -> str:
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    return nb.metadata.get("pilot2prod", {}).get("title", path.stem)


def find_notebook(name: str) -> Path:
    """A notebook by path, by file stem (``01_success_metric``), number (``01``) or topic."""
    given = Path(name)
    if given.suffix == ".ipynb" and given.exists():
        return given.resolve()
    stems = {p.stem: p for p in available_notebooks()}
    key = given.stem
    if key in stems:
        return stems[key]
    matches = [
        p
        for stem, p in stems.items()
        if stem.split("_", 1)[0] == key or stem.split("_", 1)[-1] == key
    ]
    if len(matches) == 1:
        return matches[0]
    raise ParameterError(
        f"There is no notebook '{name}'; use one of: {', '.join(stems) or '(none found)'}."
    )


def read_parameter_file(path: str | Path) -> dict[str, Any]:
    """A YAML mapping of parameter names to values."""
    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"Parameter file '{path}' does not exist; check the path given to -f.")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0]
        raise ParameterError(f"Parameter file '{path}' is not valid YAML ({reason}).") from None
    if not isinstance(data, dict):
        raise ParameterError(
            f"Parameter file '{path}' must be a mapping of names to values (name: value)."
        )
    return data


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` to ``{"a": "1", "b": "x"}`` (values stay text)."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"Cannot read parameter '{pair}'; write it as -p name=value.")
        out[name.strip()] = value
    return out


def resolve_parameters(
    path: Path,
    from_file: dict[str, Any] | None = None,
    from_text: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> dict[str, Any]:
    """Check and convert the values for the notebook at ``path``, once.

    Command-line values (text) win over file values; relative paths resolve against ``cwd``.
    A chapter notebook is checked by its chapter's ``Parameters``; any other notebook by the
    names and types of its parameters cell. Returns the full set of values to inject."""
    values: dict[str, Any] = dict(from_file or {}) | dict(from_text or {})
    text_names = frozenset(from_text or {})
    cls = parameter_class_of(path)
    if cls is not None:
        return cls.parse(values, from_text=text_names, cwd=cwd or Path.cwd()).as_dict()
    declared = {p.name: p for p in notebook_parameters(path)}
    check_names(list(declared), values)
    typed = {
        name: coerce(name, declared[name].type_name, value, name in text_names)
        for name, value in values.items()
    }
    return {n: typed.get(n, p.default) for n, p in declared.items()}


def relative_paths(notebook: Path, values: dict[str, Any], base: Path) -> dict[str, Any]:
    """``values`` with every file or folder path of the notebook's parameters written relative
    to ``base`` (database URLs and Spark references stay as they are)."""
    cls = parameter_class_of(notebook)
    if cls is None:
        return values
    out = dict(values)
    for f in fields(cls):
        value = out.get(f.name)
        if not f.metadata.get("path") or not isinstance(value, str) or not value:
            continue
        location, sep, table = value.partition("#") if "://" not in value else (value, "", "")
        if Path(location).is_absolute():
            out[f.name] = os.path.relpath(location, base) + sep + table
    return out


def failing_cell(executed: Path) -> tuple[int, str] | None:
    """Position (1-based, in the original notebook) and first line of the cell that failed."""
    import nbformat

    try:
        nb = nbformat.read(str(executed), as_version=4)
    except (OSError, ValueError):
        return None
    position = 0
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags or "papermill-error-cell-tag" in tags:
            continue  # cells papermill added are not part of the user's notebook
        position += 1
        if cell.cell_type == "code" and any(
            o.get("output_type") == "error" for o in cell.get("outputs", [])
        ):
            first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
            return position, first.strip()[:80]
    return None


def _failure(nb_path: Path, exc: Exception) -> Pilot2ProdError:
    """Turn papermill's execution error into a user error (exit 2) or a failure (exit 1)."""
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    if ename in errors.USER_ERROR_NAMES:
        cls = getattr(errors, ename, Pilot2ProdError)
        return cls(f"{evalue} (executed notebook: {nb_path})")
    found = failing_cell(nb_path)
    where = f"cell {found[0]} ({found[1]})" if found else "a cell"
    first = str(evalue).splitlines()[0] if evalue else ""
    return NotebookFailed(
        f"The notebook failed in {where} with {ename}: {first}. The executed notebook, with "
        f"the full error, is at {nb_path}."
    )


#: Bytes in a Unix socket's path, with its final NUL (``sun_path`` on Linux).
SOCKET_PATH_LIMIT = 108


@contextmanager
def started_kernel(
    cwd: Path, preload: Sequence[str] = (), parameters: dict[str, Any] | None = None
) -> Iterator[Any]:
    """A Python kernel started now, in ``cwd``, for papermill to run a notebook in; shut down
    on leaving. It imports the modules ``preload`` names while it boots, and hands each the
    run's ``parameters`` (see :func:`pilot2prod.lazy.preload`).

    Starting it before papermill and nbconvert are imported lets the kernel boot (about a
    second) while they load and the report template compiles, instead of after; the kernel is
    the quicker of the two, and the imports fill its wait. The kernel is started as nbclient
    starts its own (history in memory); nbclient leaves a kernel it did not start running, so
    it is shut down here, with the clients that talked to it. The kernel's own exit is made
    orderly first (:func:`pilot2prod.kernel.orderly_exit`)."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    clients: list[Any] = []

    class Manager(AsyncKernelManager):
        stop_requested = False  # set by stop_soon

        def client(self, **kwargs: Any) -> Any:
            made = super().client(**kwargs)
            clients.append(made)
            return made

    # The run talks to its kernel over Unix sockets in a folder only its user can open: the
    # messages carry the company's data (TCP on loopback is open to every local user, and the
    # kernel logs a warning that says so). A temporary folder whose path is too long for a
    # socket's name falls back to TCP.
    private = Path(tempfile.mkdtemp(prefix="pilot2prod-kernel-"))
    connection = private / "kernel.json"
    fits = len(os.fsencode(private / "kernel-ipc-65535")) < SOCKET_PATH_LIMIT
    manager = Manager(
        kernel_name="python3", transport="ipc" if fits else "tcp", connection_file=str(connection)
    )
    # Run at start-up in the notebook's namespace, so the statements bind no name there.
    arguments = [
        "--HistoryManager.hist_file=:memory:",
        '--IPKernelApp.exec_lines=__import__("pilot2prod.kernel", fromlist=["_"]).orderly_exit()',
    ]
    given = json.dumps(to_jsonable(parameters)) if parameters else ""
    arguments += [
        "--IPKernelApp.exec_lines="
        f'__import__("pilot2prod.lazy", fromlist=["_"]).preload({m!r}, {given!r})'
        for m in preload
    ]
    try:
        run_sync(manager.start_kernel)(cwd=str(cwd), extra_arguments=arguments)
        try:
            yield manager
        finally:
            for client in clients:
                client.stop_channels()
            if not run_sync(manager.is_alive)():  # ended already (or died): only clean up
                run_sync(manager.cleanup_resources)()
            elif not manager.stop_requested:
                run_sync(manager.shutdown_kernel)(now=False)  # asks, waits, cleans up
            else:  # asked already: wait (a kernel that does not end in time is killed)
                try:
                    run_sync(manager.finish_shutdown)()
                finally:
                    run_sync(manager.cleanup_resources)()
    finally:
        shutil.rmtree(private, ignore_errors=True)


def stop_soon(kernel: Any) -> None:
    """Ask a :func:`started_kernel` to shut down without waiting for it (leaving the context
    waits)."""
    from jupyter_core.utils import run_sync

    if run_sync(kernel.is_alive)():
        run_sync(kernel.request_shutdown)()
        kernel.stop_requested = True


@contextmanager
def kernel_log(path: Path) -> Iterator[TextIO]:
    """Send the kernel's own chatter (warnings, shutdown tracebacks from its messaging layer)
    to ``path`` instead of the user's terminal; yield a handle on the real terminal for the
    progress bar. The kernel inherits file descriptor 2, so it is redirected at that level."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
    terminal = os.fdopen(os.dup(saved), "w", buffering=1)
    try:
        yield terminal
    finally:
        sys.stderr.flush()
        terminal.close()
        os.dup2(saved, 2)
        os.close(saved)


#: The reports' HTML template (JupyterLab's, without scripts fetched from the internet).
TEMPLATES = Path(__file__).parent / "templates"


def report_exporter():  # noqa: ANN201 - nbconvert's HTMLExporter, imported here
    """The exporter both reports are rendered with, ready: its template compiled and the
    parsers and highlighters it uses loaded, by rendering a two-cell notebook (about as long
    as rendering a report the first time; :func:`run_notebook` does it while the kernel
    starts)."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="report", extra_template_basedirs=[str(TEMPLATES)])
    warm = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Report"), nbformat.v4.new_code_cell("1 + 1")]
    )
    exporter.from_notebook_node(warm)
    return exporter


def export_html(executed: Path, exporter) -> tuple[Path, Path]:  # noqa: ANN001
    """Write ``<name>.html`` and ``<name>.no-code.html`` beside the executed notebook, both
    with one :func:`report_exporter` (its compiled template reused)."""
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    with warnings.catch_warnings():
        # Glued values carry a mimetype HTML cannot show; they are meant to be invisible.
        warnings.filterwarnings("ignore", message="Your element with mimetype")
        exporter.exclude_input = exporter.exclude_input_prompt = False
        exporter.exclude_output_prompt = False
        full, _ = exporter.from_notebook_node(nb)
        exporter.exclude_input = exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
        no_code, _ = exporter.from_notebook_node(nb)
    html = executed.with_suffix(".html")
    html_no_code = executed.with_suffix(".no-code.html")
    html.write_text(full, encoding="utf-8")
    html_no_code.write_text(no_code, encoding="utf-8")
    return html, html_no_code


def run_notebook(
    name: str,
    from_text: dict[str, str] | None = None,
    from_file: dict[str, Any] | None = None,
    out: str | Path | None = None,
    cwd: Path | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    progress: bool = True,
    folder: Path | None = None,
    log: Path | None = None,
    relative: bool = False,
) -> RunResult:
    """Validate, execute and export one notebook into a fresh run folder.

    ``folder`` (empty or new) replaces the fresh ``<out>/<notebook>/<timestamp>`` folder and
    ``log`` the kernel log inside it (an engagement keeps its logs apart from the deliverables).
    With ``relative``, paths are injected and recorded relative to ``cwd`` (the notebook runs
    there), so that the executed notebook and ``parameters.yaml`` carry no machine paths."""
    cwd = (cwd or Path.cwd()).resolve()
    path = find_notebook(name)
    values = resolve_parameters(path, from_file, from_text, cwd)
    if folder is None:
        base = Path(out).expanduser().resolve() if out else runs_base(cwd)
        folder = new_run_dir(path.stem, base)
    else:
        folder.mkdir(parents=True, exist_ok=True)
    if "output_dir" in values:
        values["output_dir"] = str(folder)
    if relative:
        values = relative_paths(path, values, cwd)

    with open(folder / "parameters.yaml", "w", encoding="utf-8") as fh:
        yaml.safe_dump(to_jsonable(values), fh, sort_keys=False, allow_unicode=True)
    executed = folder / path.name
    # Secrets stay in the environment: the kernel inherits it and nothing is injected.
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as running:
        # The kernel writes to the log from its start to its end; papermill's progress bar to
        # the terminal.
        with kernel_log(log or folder / "kernel.log") as terminal:
            # The chapter first: it may start loading the run's data before the imports.
            preload = [*filter(None, [chapter_of(path)]), "pilot2prod.notebook"]
            kernel = running.enter_context(started_kernel(cwd, preload, values))
            # Loaded while the kernel starts.
            import papermill as pm
            from papermill.exceptions import PapermillExecutionError

            exporter = report_exporter()
            try:
                pm.execute_notebook(
                    str(path),
                    str(executed),
                    parameters=values,
                    kernel_name="python3",
                    cwd=str(cwd),
                    execution_timeout=timeout,
                    progress_bar={"file": terminal} if progress else False,
                    log_output=False,
                    request_save_on_cell_execute=False,
                    km=kernel,
                )
            except PapermillExecutionError as exc:
                failure = _failure(executed, exc)
            else:
                failure = None
        stop_soon(kernel)  # it ends while the reports are written
        if relative and executed.exists():
            _relative_papermill_paths(executed, path)
        if failure is not None:
            if executed.exists():
                export_html(executed, exporter)
            raise failure
        html, html_no_code = export_html(executed, exporter)
    return RunResult(folder, executed, html, html_no_code, values)


def _relative_papermill_paths(executed: Path, source: Path) -> None:
    """papermill records the absolute paths of the source and executed notebooks in the
    executed one's metadata; keep only their names."""
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    record = nb.metadata.get("papermill", {})
    record["input_path"] = source.name
    record["output_path"] = executed.name
    nbformat.write(nb, str(executed))


def describe(path: Path) -> tuple[str, list[NotebookParameter]]:
    return notebook_title(path), notebook_parameters(path)
