"""Attributes of a package that load their module on first use (PEP 562).

Reading parameters (the CLI's `list`, `prepare` and its checks before a run) needs none of the
libraries the computations import; the packages name those attributes here instead of importing
them eagerly.
"""

from __future__ import annotations

import gc
import importlib
import json
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any


def lazy_attributes(modules: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``modules[name]`` for ``name`` and caches it in
    ``namespace`` (the package's ``globals()``)."""

    namespace["__lazy_modules__"] = tuple(dict.fromkeys(modules.values()))

    def __getattr__(name: str) -> Any:
        if name not in modules:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(modules[name]), name)
        namespace[name] = value
        return value

    return __getattr__


def preload(package: str, parameters: str = "") -> None:
    """Import ``package``, the modules its lazy attributes load and the ones it lists in
    ``PRELOAD`` (libraries its computations load on first use, such as an Ibis backend).

    The runner has a notebook's kernel do this while it boots, in the time the run spends
    loading papermill and the report template anyway, so the notebook's first cell does not
    wait for these imports. A module that fails to import is left for the notebook's own
    import to report.

    ``parameters`` (JSON: the values the run injects into the notebook) go to the package's
    ``prefetch`` function, if it has one, before the imports: it may start work that does not
    need them, such as loading the run's files into DuckDB in a background thread
    (:mod:`pilot2prod.sources.loading`). Whatever fails there is left to the notebook too.

    Imports make many objects and few cycles, so the collector is paused meanwhile (it took an
    eighth of the time), and what they made is then frozen out of later collections: the
    modules live as long as the kernel, and each full collection of the run would walk them."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        module = importlib.import_module(package)
        if parameters and hasattr(module, "prefetch"):
            try:
                module.prefetch(json.loads(parameters))
            except Exception:  # noqa: BLE001, S110 - the notebook meets and reports it
                pass
        for name in (*getattr(module, "__lazy_modules__", ()), *getattr(module, "PRELOAD", ())):
            try:
                importlib.import_module(name)
            except ImportError:
                continue
    finally:
        if collecting:
            gc.enable()
    gc.freeze()


def import_pandera() -> ModuleType:
    """``pandera.pandas``, without the import of ``pyspark.pandas`` pandera makes on its own.

    When pyspark is installed, importing pandera imports ``pyspark.pandas`` too (for type hints
    of pandas-on-Spark frames, which the playbook never uses): measured here, that doubles the
    time every Chapter 2 run spends importing. pandera skips that step when the import fails.
    """
    if "pandera.pandas" in sys.modules or "pyspark.pandas" in sys.modules:
        return importlib.import_module("pandera.pandas")
    sys.modules["pyspark.pandas"] = None  # type: ignore[assignment]  # makes the import fail
    try:
        return importlib.import_module("pandera.pandas")
    finally:
        del sys.modules["pyspark.pandas"]
