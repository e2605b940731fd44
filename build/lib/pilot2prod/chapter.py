"""The surface every chapter shares, so that a reader who knows one chapter knows them all.

A chapter is a package (``pilot2prod.metric``, ``pilot2prod.audit``, ``pilot2prod.triage``)
exposing:

* ``Parameters``: a frozen dataclass derived from :class:`pilot2prod.params.Parameters`, the one
  declaration of the notebook's parameters;
* ``run(p: Parameters) -> Result``: the whole analysis, no drawing, no printing;
* ``Result`` with ``headline() -> Headline`` (the answer a manager reads first),
  ``results() -> dict`` (the content of ``results.json``) and ``glue_values() -> dict`` (the
  numbers the chapter's prose quotes).

Its notebook names the package in its metadata (``pilot2prod.chapter``) and narrates: the
parameters cell, one call to :func:`pilot2prod.notebook.start`, ``run``, tables and figures.
See CONTRIBUTING.md for adding a chapter.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

from pilot2prod.params import Parameters


@dataclass(frozen=True)
class Headline:
    """The answer first: one sentence, a verdict, and the few numbers behind it."""

    answer: str
    verdict: str = ""  # e.g. "GO", "NO-GO", "MET", "NOT MET"; "" when there is none
    facts: list[tuple[str, str]] = field(default_factory=list)  # (label, value as text)


class Result(Protocol):
    def headline(self) -> Headline: ...

    def results(self) -> dict[str, Any]: ...

    def glue_values(self) -> dict[str, Any]: ...


class Chapter(Protocol):
    """What a chapter package exposes (checked for every chapter by the tests)."""

    Parameters: type[Parameters]
    Result: type

    def run(self, p: Parameters) -> Result: ...


def load(module_name: str) -> ModuleType:
    """The chapter package a notebook names in its metadata."""
    module = importlib.import_module(module_name)
    for name in ("Parameters", "Result", "run"):
        if not hasattr(module, name):
            raise TypeError(f"{module_name} is not a chapter: it has no {name}")
    return module
