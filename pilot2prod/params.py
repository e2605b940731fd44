"""Notebook parameters: read them from the notebook, check them, turn them into typed objects.

A notebook's first cell is tagged ``parameters`` and holds lines such as::

    tickets_path: str = "datasets/acme/tickets.csv"  # CSV/Parquet/Excel of tickets

:func:`notebook_parameters` reads those lines (name, type, default, help) without executing
anything. Each notebook has a :class:`ParameterSet` subclass in the package; its
:meth:`ParameterSet.from_namespace` is the notebook's second cell, and the runner calls
:meth:`ParameterSet.from_values` before it starts papermill, so a bad value stops the run at
once with one sentence.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import importlib
import io
import tokenize
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, get_type_hints

import nbformat

from pilot2prod.errors import ParameterError
from pilot2prod.paths import REPO_ROOT

TYPE_NAMES = {"str": str, "int": int, "float": float, "bool": bool}
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


@dataclass(frozen=True)
class NotebookParameter:
    """One line of a notebook's parameters cell."""

    name: str
    type_name: str
    default: Any
    help: str


def parameters_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The first code cell tagged ``parameters``."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    raise ParameterError("The notebook has no cell tagged 'parameters'.")


def notebook_parameters(path: str | Path) -> list[NotebookParameter]:
    """Parse the parameters cell of the notebook at ``path`` (nothing is executed)."""
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


def parameter_class_of(path: str | Path) -> type[ParameterSet] | None:
    """The :class:`ParameterSet` named in the notebook's metadata ``pilot2prod.parameters``."""
    nb = nbformat.read(str(path), as_version=4)
    ref = nb.metadata.get("pilot2prod", {}).get("parameters")
    if not ref:
        return None
    module_name, _, class_name = ref.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


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
                f"Parameter {name} must be {_article(type_name)}, not '{value}'; "
                f"for example {name}={_example(type_name)}."
            ) from None
        return value
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is int and isinstance(value, bool):
        raise ParameterError(f"Parameter {name} must be an integer, not {value!r}.")
    if not isinstance(value, expected):
        raise ParameterError(
            f"Parameter {name} must be {_article(type_name)}, not {type(value).__name__} "
            f"{value!r}; for example {name}={_example(type_name)}."
        )
    return value


def _article(type_name: str) -> str:
    return {"str": "a text", "int": "an integer", "float": "a number", "bool": "true or false"}[
        type_name
    ]


def _example(type_name: str) -> str:
    return {"str": "some_text", "int": "12", "float": "0.05", "bool": "true"}[type_name]


def check_names(known: list[str], given: dict[str, Any]) -> None:
    """Raise for a parameter name the notebook does not have, with the closest known name."""
    for name in given:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]}?" if close else ""
            raise ParameterError(
                f"Unknown parameter {name}.{hint} Run 'pilot2prod list' to see the parameters."
            )


def check_date(name: str, value: str, example: str, empty_means: str) -> None:
    """An optional date parameter: empty, or something pandas reads as a date."""
    if not value:
        return
    import pandas as pd

    try:
        pd.Timestamp(value)
    except ValueError:
        raise ParameterError(
            f"Parameter {name} is '{value}', which is not a date; use e.g. {example}, or leave "
            f"it empty for {empty_means}."
        ) from None


def path_param(default: str, kind: str = "file", optional: bool = False) -> Any:
    """A dataclass field holding a path: resolved against the working directory, checked."""
    return field(default=default, metadata={"path": kind, "optional": optional})


def choice_param(default: str, choices: tuple[str, ...]) -> Any:
    return field(default=default, metadata={"choices": choices})


@dataclass(frozen=True)
class ParameterSet:
    """Base of each notebook's typed parameters. Subclasses add fields and :meth:`check`."""

    #: The notebook's file stem, for run folders and messages.
    notebook: ClassVar[str] = ""

    @classmethod
    def spec(cls) -> dict[str, str]:
        hints = get_type_hints(cls)
        return {f.name: hints[f.name].__name__ for f in fields(cls)}

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {f.name: f.default for f in fields(cls)}

    @classmethod
    def from_values(
        cls,
        values: dict[str, Any],
        from_text: frozenset[str] = frozenset(),
        cwd: Path | None = None,
    ) -> ParameterSet:
        """Build from ``values`` (missing names take their defaults), check everything."""
        spec = cls.spec()
        check_names(list(spec), values)
        merged = cls.defaults() | values
        typed = {name: coerce(name, spec[name], merged[name], name in from_text) for name in spec}
        typed = cls._resolve_paths(typed, cwd or Path.cwd())
        instance = cls(**typed)
        for f in fields(cls):
            choices = f.metadata.get("choices")
            if choices and getattr(instance, f.name) not in choices:
                close = difflib.get_close_matches(str(getattr(instance, f.name)), choices, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ParameterError(
                    f"Parameter {f.name} is '{getattr(instance, f.name)}'{hint}; use one of: "
                    f"{', '.join(choices)}."
                )
        instance.check()
        return instance

    @classmethod
    def from_namespace(cls, namespace: dict[str, Any]) -> ParameterSet:
        """The notebook's validation cell: read each parameter from the notebook's variables."""
        missing = [f.name for f in fields(cls) if f.name not in namespace]
        if missing:
            raise ParameterError(
                f"Parameter {missing[0]} is missing from the parameters cell; add it back "
                f"(default: {cls.defaults()[missing[0]]!r})."
            )
        return cls.from_values({f.name: namespace[f.name] for f in fields(cls)})

    @classmethod
    def _resolve_paths(cls, values: dict[str, Any], cwd: Path) -> dict[str, Any]:
        out = dict(values)
        defaults = cls.defaults()
        for f in fields(cls):
            kind = f.metadata.get("path")
            if not kind:
                continue
            raw = out[f.name]
            if raw == "":
                if f.metadata.get("optional") or kind == "output":
                    continue
                raise ParameterError(f"Parameter {f.name} is empty; give the path of a file.")
            if kind == "source" and ("://" in raw or any(c in raw for c in "*?[")):
                # A database URL stays as given; a glob is anchored in the working directory.
                if "://" not in raw and not Path(raw).is_absolute():
                    out[f.name] = str(cwd / raw)
                continue
            out[f.name] = str(
                resolve_path(
                    raw,
                    cwd,
                    is_default=raw == defaults[f.name],
                    must_exist=kind != "output",
                    name=f.name,
                )
            )
        return out

    def check(self) -> None:
        """Domain rules across fields; subclasses raise :class:`ParameterError`."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def resolve_path(raw: str, cwd: Path, is_default: bool, must_exist: bool, name: str) -> Path:
    """Resolve a user path against ``cwd``; a sample default falls back to the repository."""
    p = Path(raw).expanduser()
    if p.is_absolute():
        candidate = p
    else:
        candidate = (cwd / p).resolve()
        if not candidate.exists() and is_default and (REPO_ROOT / p).exists():
            candidate = (REPO_ROOT / p).resolve()
    if must_exist and not candidate.exists():
        raise ParameterError(
            f"Parameter {name}: there is no file at '{raw}' (looked in {candidate.parent}); "
            "check the spelling or give an absolute path."
        )
    return candidate
