"""Notebook parameters, declared once.

Each chapter declares its parameters in one place, a frozen dataclass derived from
:class:`Parameters`, with :func:`param` giving each field its help line and how it is checked::

    @dataclass(frozen=True)
    class Parameters(params.Parameters):
        notebook: ClassVar[str] = "01_success_metric"
        events_path: str = param("", "table of events: a file, a table, ...", path="source")

Everything else is derived from that class: the notebook's ``parameters`` cell
(:meth:`Parameters.cell_source`, written into the notebook by ``python -m pilot2prod.params``),
``pilot2prod list``, and the checks. Values are converted and checked once, by
:meth:`Parameters.parse`: the runner calls it before papermill starts, so a bad value stops the
run at once with one sentence, and the notebook's second cell calls it again on the values
papermill injected (:meth:`Parameters.from_namespace`), which are then already typed.

Notebooks outside the package (a user's own) have no class: :func:`notebook_parameters` reads
their parameters cell without executing it.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import importlib
import io
import json
import re
import sys
import tokenize
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, get_type_hints

from pilot2prod.errors import ParameterError

if TYPE_CHECKING:  # reading notebooks imports nbformat; a chapter's kernel never does
    import nbformat

TYPE_NAMES = {"str": str, "int": int, "float": float, "bool": bool}
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
#: What a value that should be the *name* of an environment variable must look like.
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Shapes of secrets pasted where a name was expected: API keys, tokens, long random strings.
SECRET_SHAPES = re.compile(
    r"^(sk-|sk_|pk_|rk_|ghp_|gho_|github_pat_|xox[abpr]-|AKIA|AIza|hf_|glpat-|eyJ)"
    r"|[A-Za-z0-9+/_\-]{32,}"
)


@dataclass(frozen=True)
class NotebookParameter:
    """One parameter as a reader sees it: name, type, default and a line of help."""

    name: str
    type_name: str
    default: Any
    help: str


def param(
    default: Any,
    help: str,
    *,
    path: str | None = None,
    choices: tuple[str, ...] | None = None,
    env_name: bool = False,
) -> Any:
    """A parameter field. ``path`` is ``"file"`` (must exist), ``"folder"`` (must exist),
    ``"source"`` (a file, a folder, a glob, a database URL or an inventory entry: checked when
    it is opened), or ``"output"`` (created when needed). An empty value means "none" for every
    kind; a chapter's :meth:`Parameters.check` says which are required. ``choices`` lists the
    allowed values; ``env_name`` marks a parameter that holds the *name* of an environment
    variable (a value that looks like a secret is refused, so it is never written anywhere)."""
    return field(
        default=default,
        metadata={"help": help, "path": path, "choices": choices, "env_name": env_name},
    )


def check_names(known: list[str], given: dict[str, Any]) -> None:
    """Raise for a parameter name the notebook does not have, with the closest known name."""
    for name in given:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]}?" if close else ""
            raise ParameterError(
                f"Unknown parameter {name}.{hint} Run 'pilot2prod list' to see the parameters."
            )


def coerce(name: str, type_name: str, value: Any, from_text: bool = False) -> Any:
    """Check ``value`` against the parameter's type; convert text given on a command line.

    Text from ``-p name=value`` stays text for ``str`` parameters (so ``007`` stays ``"007"``,
    which papermill's own command line would turn into the integer 7).
    """
    expected = TYPE_NAMES[type_name]
    if from_text and isinstance(value, str):
        text = value.strip()
        try:
            if expected is bool:
                if text.lower() in _TRUE:
                    return True
                if text.lower() in _FALSE:
                    return False
                raise ValueError
            if expected is int:
                return int(text)
            if expected is float:
                return float(text)
        except ValueError:
            raise ParameterError(
                f"Parameter {name} must be {_article(type_name)}, not {shown(value)}; "
                f"for example {name}={_example(type_name)}."
            ) from None
        return value
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is int and isinstance(value, bool):
        raise ParameterError(f"Parameter {name} must be an integer, not {value!r}.")
    if expected is int and isinstance(value, float) and value.is_integer():
        return int(value)  # YAML and JSON write 8 as 8.0 at times
    if not isinstance(value, expected):
        raise ParameterError(
            f"Parameter {name} must be {_article(type_name)}, not {type(value).__name__} "
            f"{value!r}; for example {name}={_example(type_name)}."
        )
    if expected is float and value != value:
        raise ParameterError(f"Parameter {name} is NaN; give a number, e.g. {name}=0.05.")
    return value


def shown(value: object, limit: int = 60) -> str:
    """A value quoted so that a one-sentence message stays one line: characters that do not
    print (a newline, a tab) written as escapes, long text cut with an ellipsis."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(value))
    return "'" + (text if len(text) <= limit else text[: limit - 1] + "…") + "'"


def _article(type_name: str) -> str:
    return {"str": "a text", "int": "an integer", "float": "a number", "bool": "true or false"}[
        type_name
    ]


def _example(type_name: str) -> str:
    return {"str": "some_text", "int": "12", "float": "0.05", "bool": "true"}[type_name]


def check_date(name: str, value: str, example: str, empty_means: str) -> None:
    """An optional date parameter: empty, or something pandas reads as a date."""
    if not value:
        return
    try:  # the usual case, without loading pandas (whose timestamps span 1677-2262)
        if 1678 <= datetime.fromisoformat(value).year <= 2261:
            return
    except ValueError:
        pass
    import pandas as pd

    try:
        pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ParameterError(
            f"Parameter {name} is {shown(value)}, which is not a date; use e.g. {example}, or "
            f"leave it empty for {empty_means}."
        ) from None


def looks_like_secret(value: str) -> bool:
    """True for text shaped like an API key or token rather than a variable's name."""
    return bool(value) and (not ENV_NAME.match(value) or bool(SECRET_SHAPES.search(value)))


@dataclass(frozen=True)
class Parameters:
    """Base of each chapter's parameters. Subclasses add fields with :func:`param` and
    cross-field rules in :meth:`check`."""

    #: The notebook's file stem, for run folders and messages.
    notebook: ClassVar[str] = ""

    @classmethod
    def declared(cls) -> list[NotebookParameter]:
        """The parameters in declaration order, as ``pilot2prod list`` shows them."""
        hints = get_type_hints(cls)
        return [
            NotebookParameter(f.name, hints[f.name].__name__, f.default, f.metadata["help"])
            for f in fields(cls)
        ]

    @classmethod
    def spec(cls) -> dict[str, str]:
        return {p.name: p.type_name for p in cls.declared()}

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {f.name: f.default for f in fields(cls)}

    @classmethod
    def parse(
        cls,
        values: dict[str, Any],
        from_text: frozenset[str] | set[str] = frozenset(),
        cwd: Path | None = None,
    ) -> Parameters:
        """The one conversion: names checked, types converted (``from_text`` names values given
        as text on a command line), relative paths resolved against ``cwd``, choices and
        cross-field rules checked. Missing names take their defaults."""
        spec = cls.spec()
        check_names(list(spec), values)
        merged = cls.defaults() | values
        typed = {name: coerce(name, spec[name], merged[name], name in from_text) for name in spec}
        typed = cls._resolve_paths(typed, (cwd or Path.cwd()).resolve())
        instance = cls(**typed)
        for f in fields(cls):
            value = getattr(instance, f.name)
            choices = f.metadata.get("choices")
            if choices and value not in choices:
                close = difflib.get_close_matches(str(value), choices, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ParameterError(
                    f"Parameter {f.name} is {shown(value)}{hint}; use one of: {', '.join(choices)}."
                )
            if f.metadata.get("env_name") and looks_like_secret(value):
                raise ParameterError(
                    f"Parameter {f.name} must be the NAME of an environment variable (such as "
                    "OPENAI_API_KEY), and what was given looks like a secret itself; export the "
                    f"secret as a variable and pass its name. Nothing was written."
                )
        instance.check()
        return instance

    @classmethod
    def from_namespace(cls, namespace: dict[str, Any]) -> Parameters:
        """The notebook's validation cell: read each parameter from the notebook's variables."""
        missing = [f.name for f in fields(cls) if f.name not in namespace]
        if missing:
            raise ParameterError(
                f"Parameter {missing[0]} is missing from the parameters cell; add it back "
                f"(default: {cls.defaults()[missing[0]]!r})."
            )
        return cls.parse({f.name: namespace[f.name] for f in fields(cls)})

    @classmethod
    def _resolve_paths(cls, values: dict[str, Any], cwd: Path) -> dict[str, Any]:
        out = dict(values)
        for f in fields(cls):
            kind = f.metadata.get("path")
            raw = out[f.name]
            if not kind or raw == "":
                continue
            if "\x00" in raw:
                raise ParameterError(
                    f"Parameter {f.name} contains a NUL character, which no path or address "
                    "can hold; check how the value was written (a copy from a binary file?)."
                )
            if kind == "source":
                from pilot2prod.sources import resolve_reference

                out[f.name] = resolve_reference(raw, cwd, f.name)
                continue
            out[f.name] = str(resolve_path(raw, cwd, must_exist=kind != "output", name=f.name))
        return out

    @classmethod
    def cell_source(cls) -> str:
        """The notebook's ``parameters`` cell: one annotated literal per line with its help."""
        lines = []
        for p in cls.declared():
            lines.append(f"{p.name}: {p.type_name} = {p.default!r}  # {p.help}")
        return "\n".join(lines)

    def check(self) -> None:
        """Domain rules across fields; subclasses raise :class:`ParameterError`."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def resolve_path(raw: str, cwd: Path, must_exist: bool, name: str) -> Path:
    """Resolve a user path against ``cwd`` (``~`` expanded); it must exist unless an output."""
    p = Path(raw).expanduser()
    candidate = p if p.is_absolute() else (cwd / p).resolve()
    if must_exist and not candidate.exists():
        raise ParameterError(
            f"Parameter {name}: there is no file at '{raw}' (looked in {candidate.parent}); "
            "check the spelling or give an absolute path."
        )
    return candidate


# --------------------------------------------------------------------------- notebooks
def parameters_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The first code cell tagged ``parameters``."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    raise ParameterError("The notebook has no cell tagged 'parameters'.")


def chapter_of(path: str | Path) -> str | None:
    """The chapter package a notebook names in its metadata (``pilot2prod.chapter``).

    Read as plain JSON: a run asks this before it starts the notebook's kernel, and nbformat
    (with its schema validator) would take a fifth of a second to import first."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            notebook = json.load(fh)
    except (UnicodeDecodeError, json.JSONDecodeError):
        notebook = None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ParameterError(
            f"'{path.name}' is not a Jupyter notebook (an .ipynb file holds JSON with its "
            "cells); give a notebook saved by Jupyter, or a playbook notebook's name."
        )
    metadata = notebook.get("metadata")
    found = metadata.get("pilot2prod", {}) if isinstance(metadata, dict) else {}
    return found.get("chapter") if isinstance(found, dict) else None


def parameter_class_of(path: str | Path) -> type[Parameters] | None:
    """The ``Parameters`` of the chapter the notebook belongs to, if it belongs to one."""
    module_name = chapter_of(path)
    if not module_name:
        return None
    return importlib.import_module(module_name).Parameters


def notebook_parameters(path: str | Path) -> list[NotebookParameter]:
    """The parameters of the notebook at ``path``: from its class when the package declares
    one, else parsed from its parameters cell (nothing is executed)."""
    cls = parameter_class_of(path)
    if cls is not None:
        return cls.declared()
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    source = parameters_cell(nb).source
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    result = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            continue
        type_name = ast.unparse(node.annotation)
        if type_name not in TYPE_NAMES:
            raise ParameterError(
                f"Parameter {node.target.id} has type {type_name}; parameters must be "
                f"one of {', '.join(TYPE_NAMES)}."
            )
        default = ast.literal_eval(node.value) if node.value is not None else None
        result.append(
            NotebookParameter(node.target.id, type_name, default, comments.get(node.lineno, ""))
        )
    return result


def sync_notebook(path: Path) -> bool:
    """Write the class's parameters cell into the notebook; True when it changed."""
    cls = parameter_class_of(path)
    if cls is None:
        return False
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    cell = parameters_cell(nb)
    wanted = cls.cell_source()
    if cell.source == wanted:
        return False
    cell.source = wanted
    nbformat.write(nb, str(path))
    return True


def main(argv: list[str] | None = None) -> int:
    """``python -m pilot2prod.params``: rewrite each notebook's parameters cell from its class."""
    from pilot2prod.paths import NOTEBOOKS_DIR

    changed = [p.name for p in sorted(NOTEBOOKS_DIR.glob("*.ipynb")) if sync_notebook(p)]
    print("updated: " + ", ".join(changed) if changed else "every parameters cell is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
