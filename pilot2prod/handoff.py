"""What one chapter hands to the next: typed, versioned files with loaders that say what is wrong.

* :class:`MetricSpec` (``metric_spec.yaml``): Chapter 1's success metric, baseline, target and
  guardrails, read by Chapter 3 (to project a rung's effect) and by the impact analysis;
* :class:`ModelExport` (``model/metadata.json``): the model Chapter 3 recommends, with the hash
  of its file, its labels and metrics, read by the production-readiness chapter;
* :func:`load_contract`: the data contracts Chapter 2 writes (pandera YAML).

A loader raises :class:`~pilot2prod.errors.ParameterError` (exit 2) naming the parameter that
pointed at the file and what is wrong with it, never a ``KeyError`` from deep inside.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from pilot2prod.errors import ParameterError
from pilot2prod.jsonable import to_jsonable

METRIC_SPEC_FILE = "metric_spec.yaml"
MODEL_FOLDER = "model"
MODEL_METADATA_FILE = "metadata.json"


def _from_dict(cls: type, data: Any, where: str) -> Any:
    """Build dataclass ``cls`` from plain data, checking every field's presence and type;
    ``where`` names the place in the file for the message."""
    if not isinstance(data, dict):
        raise TypeError(f"{where or 'the file'} must be a mapping")
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        path = f"{where}.{f.name}" if where else f.name
        if f.name not in data:
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                continue
            raise KeyError(path)
        values[f.name] = _convert(hints[f.name], data[f.name], path)
    return cls(**values)


def _convert(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(option, value, path)
            except (TypeError, KeyError):
                continue
        raise TypeError(f"{path} has the wrong type ({type(value).__name__})")
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise TypeError(f"{path} must be a list")
        return [_convert(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise TypeError(f"{path} must be a mapping")
        return dict(value)
    if dataclasses.is_dataclass(hint):
        return _from_dict(hint, value, path)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is Any or isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
        return value
    raise TypeError(f"{path} must be {hint.__name__}, not {type(value).__name__}")


def load_mapping(path: str | Path, parameter: str, what: str, reader=None) -> dict:  # noqa: ANN001
    """A file that must hold a mapping (YAML unless ``reader`` says otherwise), or one sentence
    naming ``parameter`` and what is wrong."""
    reader = reader or yaml.safe_load
    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"Parameter {parameter}: there is no {what} at '{p.name}'.")
    try:
        data = reader(p.read_text(encoding="utf-8"))
    except (ValueError, yaml.YAMLError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0][:120]
        raise ParameterError(
            f"Parameter {parameter}: '{p.name}' cannot be read as a {what} ({reason})."
        ) from None
    if not isinstance(data, dict):
        raise ParameterError(f"Parameter {parameter}: '{p.name}' is not a {what}.")
    return data


def _check_version(data: dict, expected: int, parameter: str, name: str, what: str, fix: str):
    version = data.get("schema_version")
    if version != expected:
        found = "no schema_version" if version is None else f"schema_version {version}"
        raise ParameterError(
            f"Parameter {parameter}: '{name}' has {found}, but this playbook reads {what} "
            f"version {expected}; {fix}"
        )


# --------------------------------------------------------------------------- metric spec
@dataclass(frozen=True)
class MetricDefinition:
    kind: str  # median, percentile or sla_share
    label: str
    unit: str  # minutes, hours or days
    lower_is_better: bool
    quantile: float | None = None
    sla: float | None = None
    estimator: str = "Kaplan-Meier (open events right-censored)"


@dataclass(frozen=True)
class MetricData:
    source: str  # a name to show, never a machine path
    columns: dict[str, str | None]
    focus_segment: str | None = None


@dataclass(frozen=True)
class Baseline:
    window_start: str
    window_end_exclusive: str
    as_of: str
    value: float
    ci_low: float | None
    ci_high: float | None
    events: int
    open_at_as_of: int


@dataclass(frozen=True)
class Target:
    relative_change: float
    value: float
    alpha: float
    power: float
    randomisation_unit: str
    weekly_volume: float
    weeks_needed: int | None


@dataclass(frozen=True)
class Guardrail:
    name: str
    baseline: float
    limit: float
    rule: str
    higher_is_worse: bool = True


@dataclass(frozen=True)
class MetricSpec:
    """Chapter 1's success metric: what is measured, from what baseline, towards what target,
    within which guardrails."""

    SCHEMA_VERSION: ClassVar[int] = 1

    statement: str
    metric: MetricDefinition
    data: MetricData
    baseline: Baseline
    target: Target
    guardrails: list[Guardrail] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": self.SCHEMA_VERSION, **dataclasses.asdict(self)}

    def save(self, folder: str | Path) -> Path:

        path = Path(folder) / METRIC_SPEC_FILE
        path.write_text(
            yaml.safe_dump(to_jsonable(self.to_dict()), sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        return path

    @classmethod
    def load(cls, path: str | Path, parameter: str = "metric_spec_path") -> MetricSpec:
        name = Path(path).name
        data = load_mapping(path, parameter, "metric spec", yaml.safe_load)
        fix = "run 01_success_metric again and pass its metric_spec.yaml."
        _check_version(data, cls.SCHEMA_VERSION, parameter, name, "metric specs", fix)
        try:
            return _from_dict(cls, data, "")
        except KeyError as exc:
            raise ParameterError(
                f"Parameter {parameter}: '{name}' lacks {exc.args[0]}; {fix}"
            ) from None
        except TypeError as exc:
            raise ParameterError(f"Parameter {parameter}: in '{name}', {exc}; {fix}") from None

    @property
    def unit_minutes(self) -> float:
        return {"minutes": 1.0, "hours": 60.0, "days": 1440.0}[self.metric.unit]


# --------------------------------------------------------------------------- exported model
@dataclass(frozen=True)
class ModelExport:
    """The model Chapter 3 exports: its file and what is needed to trust and serve it."""

    SCHEMA_VERSION: ClassVar[int] = 1

    name: str
    version: str
    approach: str  # the rung's stable id, e.g. "tfidf"
    approach_name: str
    meets_target: bool  # False: the nearest rung, fit to suggest to agents, not to route alone
    created: str
    model_file: str  # relative to the model folder
    model_sha256: str
    data_sha256: str
    training_rows: int
    labels: list[str]
    split: dict[str, Any]
    metrics: dict[str, Any]
    parameters: dict[str, Any]
    runtime: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": self.SCHEMA_VERSION, **dataclasses.asdict(self)}

    def save(self, folder: str | Path) -> Path:

        path = Path(folder) / MODEL_METADATA_FILE
        path.write_text(json.dumps(to_jsonable(self.to_dict()), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: str | Path, parameter: str = "model_path") -> ModelExport:
        """Read ``metadata.json`` in ``folder`` and verify the model file's hash."""
        folder = Path(folder)
        if folder.is_file():
            folder = folder.parent
        meta = folder / MODEL_METADATA_FILE
        data = load_mapping(meta, parameter, "model export", json.loads)
        fix = "export the model again with 03_simple_vs_rag."
        _check_version(data, cls.SCHEMA_VERSION, parameter, meta.name, "model exports", fix)
        try:
            export = _from_dict(cls, data, "")
        except KeyError as exc:
            raise ParameterError(
                f"Parameter {parameter}: '{meta.name}' lacks {exc.args[0]}; {fix}"
            ) from None
        except TypeError as exc:
            raise ParameterError(f"Parameter {parameter}: in '{meta.name}', {exc}; {fix}") from None
        model = folder / export.model_file
        if not model.is_file():
            raise ParameterError(
                f"Parameter {parameter}: the model file '{export.model_file}' named in "
                f"{meta.name} is missing; {fix}"
            )
        if sha256_of(model) != export.model_sha256:
            raise ParameterError(
                f"Parameter {parameter}: '{export.model_file}' does not match the hash recorded "
                "when it was exported (changed or corrupted); it will not be loaded."
            )
        return export


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- data contract
def load_contract(path: str | Path, parameter: str = "contract_path"):  # noqa: ANN201
    """A data contract Chapter 2 wrote (a pandera schema in YAML)."""
    from pilot2prod.lazy import import_pandera

    pa = import_pandera()

    data = load_mapping(path, parameter, "data contract", yaml.safe_load)
    p = Path(path)
    if data.get("schema_type") != "dataframe" or not data.get("columns"):
        raise ParameterError(
            f"Parameter {parameter}: '{p.name}' is not a data contract written by 02_data_audit "
            "(no columns); pass one of the files in its contracts/ folder."
        )
    try:
        return pa.DataFrameSchema.from_yaml(p)
    except Exception as exc:  # noqa: BLE001 - any reader failure is one sentence
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise ParameterError(
            f"Parameter {parameter}: '{p.name}' is not a data contract written by "
            f"02_data_audit ({reason})."
        ) from None
