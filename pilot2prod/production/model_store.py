"""Model files that are safe to load from a client's disk: skops, checked before loading.

A pickle (or joblib) file runs arbitrary code when it is loaded, so the playbook never loads
one. A skops file lists the types it needs; :func:`load_verified` reads that list first and
loads the file only when every type is one the playbook knows (a scikit-learn estimator, a
pilot2prod approach, the BM25 index) and, when a hash was recorded, only when the file still
has it. The model must then answer ``predict_proba`` over a list of texts with ``classes_``:
any scikit-learn text pipeline does.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

import numpy as np

from pilot2prod.errors import ParameterError
from pilot2prod.handoff import sha256_of

SUFFIX = ".skops"
_PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib", ".sav", ".dill"}
#: Types outside scikit-learn the playbook's own models are made of.
_EXTRA_TYPES = {"bm25s.BM25", "bm25s.tokenization.Tokenized"}
_OWN_MODULES = ("pilot2prod.triage.models",)


def save(model: Any, path: str | Path) -> str:
    """Write ``model`` with skops; return the file's SHA-256."""
    import skops.io

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    skops.io.dump(model, path)
    return sha256_of(path)


def _resolve(name: str) -> Any:
    module, _, attribute = name.rpartition(".")
    while module:
        try:
            obj = importlib.import_module(module)
            for part in attribute.split("."):
                obj = getattr(obj, part)
            return obj
        except (ImportError, AttributeError):
            module, _, head = module.rpartition(".")
            attribute = f"{head}.{attribute}"
    return None


def is_trusted(name: str) -> bool:
    """A type the playbook may let skops build: its own model classes and functions, a
    scikit-learn estimator or function, or one of the few other parts its models hold."""
    if name in _EXTRA_TYPES:
        return True
    top = name.split(".")[0]
    if name.startswith(tuple(m + "." for m in _OWN_MODULES)):
        # Defined there, not merely imported there (models.py imports Path, for one).
        obj = _resolve(name)
        return (inspect.isclass(obj) or inspect.isfunction(obj)) and (
            f"{obj.__module__}.{obj.__qualname__}" == name
        )
    if top == "sklearn":
        # Classes only: skops builds them without calling their constructor.
        obj = _resolve(name)
        return inspect.isclass(obj) and obj.__module__.startswith("sklearn.")
    return False


def load_verified(path: str | Path, sha256: str = "", parameter: str = "model_path") -> Any:
    """Load a skops model file after checking its hash (when given) and every type it names;
    raise :class:`ParameterError` naming ``parameter`` instead of loading anything unknown."""
    import skops.io

    path = Path(path)
    if path.suffix.lower() in _PICKLE_SUFFIXES:
        raise ParameterError(
            f"Parameter {parameter}: '{path.name}' is a pickle file, which runs code when it is "
            "loaded; save the model with skops (skops.io.dump, or pilot2prod's Chapter 3 "
            "export) and give that file."
        )
    if not path.is_file():
        raise ParameterError(f"Parameter {parameter}: no model file at '{path}'; check the path.")
    if sha256 and sha256_of(path) != sha256:
        raise ParameterError(
            f"Parameter {parameter}: '{path.name}' does not match the hash recorded when it was "
            "registered (changed or corrupted); it will not be loaded."
        )
    try:
        untrusted = skops.io.get_untrusted_types(file=path)
    except Exception:  # noqa: BLE001 - any failure here means the file is not a skops model
        raise ParameterError(
            f"Parameter {parameter}: '{path.name}' is not a skops model file; export the model "
            "with skops.io.dump (Chapter 3 does) and give that file."
        ) from None
    unknown = [t for t in untrusted if not is_trusted(t)]
    if unknown:
        raise ParameterError(
            f"Parameter {parameter}: '{path.name}' needs {len(unknown)} type(s) the playbook "
            f"does not trust, e.g. '{unknown[0]}'; it will not be loaded. Only scikit-learn "
            "estimators and the playbook's own approaches are loaded."
        )
    try:
        model = skops.io.load(path, trusted=untrusted)
    except Exception as exc:  # noqa: BLE001
        raise ParameterError(
            f"Parameter {parameter}: '{path.name}' could not be read as a model "
            f"({type(exc).__name__}); export it again."
        ) from None
    check_model(model, parameter, path.name)
    return model


def check_model(model: Any, parameter: str, name: str) -> None:
    if not hasattr(model, "predict_proba") or not hasattr(model, "classes_"):
        raise ParameterError(
            f"Parameter {parameter}: '{name}' holds a {type(model).__name__}, not a fitted "
            "classifier with predict_proba and classes_; give a fitted model."
        )


def labels_of(model: Any) -> list[str]:
    return [str(c) for c in np.asarray(model.classes_)]
