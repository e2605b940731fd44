"""Versioning and rollback: MLflow's model registry, local by default.

Every registered version carries what is needed to trust it later: the SHA-256 of its skops
file, the hash of the data it learned from, its parameters and metrics, the code version and
its label set, and the predictions it made on a fixed probe set. Aliases (``champion``,
``challenger``) say which version serves; stages are deprecated in MLflow 3 and not used.
Loading goes through :func:`pilot2prod.production.model_store.load_verified`, never through
MLflow's own loader, which trusts whatever type list the model file declares for itself.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pilot2prod.errors import ParameterError
from pilot2prod.handoff import sha256_of
from pilot2prod.production import model_store

CHAMPION = "champion"
CHALLENGER = "challenger"
PROBE_FILE = "probe_predictions.json"
MODEL_ARTIFACT = "model"


def _quiet() -> None:
    # MLflow reports database migrations at INFO and draws progress bars for local copies.
    # (MLflow sets its loggers up when imported: import it first.) Without pip in the
    # environment it warns on every save that pip's version is unknown; the requirements are
    # written explicitly, so that warning says nothing.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow  # noqa: F401

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # MLflow's SQL store uses a SQLAlchemy loader option SQLAlchemy 2.1 deprecates: not ours
    # to fix, and no reader of a notebook should see it.
    warnings.filterwarnings("ignore", message=".*``noload`` loader strategy is deprecated")


def default_uri(folder: str | Path) -> str:
    """A SQLite registry inside ``folder`` (MLflow 3's file store is in maintenance mode)."""
    return f"sqlite:///{Path(folder).resolve() / 'mlflow.db'}"


@dataclass(frozen=True)
class Version:
    name: str
    version: int
    run_id: str
    tags: dict[str, str]
    aliases: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return json.loads(self.tags.get("labels", "[]"))

    @property
    def model_sha256(self) -> str:
        return self.tags.get("model_sha256", "")


@dataclass
class Registry:
    """One registered model name in one MLflow tracking/registry store."""

    uri: str
    name: str = "ticket-triage"
    artifact_folder: str = ""  # where new artifacts go; "" = beside a SQLite file

    def __post_init__(self) -> None:
        _quiet()
        from mlflow import MlflowClient

        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        if not self.artifact_folder and self.uri.startswith("sqlite:///"):
            self.artifact_folder = str(Path(self.uri.removeprefix("sqlite:///")).parent / "mlruns")

    # ------------------------------------------------------------------ writing
    def _experiment(self) -> str:
        found = self.client.get_experiment_by_name(self.name)
        if found is not None:
            return found.experiment_id
        location = Path(self.artifact_folder).resolve().as_uri() if self.artifact_folder else None
        return self.client.create_experiment(self.name, artifact_location=location)

    def register(
        self,
        model: Any,
        *,
        data_sha256: str,
        parameters: dict[str, Any],
        metrics: dict[str, float],
        code_version: str,
        probe: tuple[list[str], list[str]],
        description: str = "",
        extra_tags: dict[str, str] | None = None,
    ) -> Version:
        """Log ``model`` (skops) with its lineage in a run and register it as a new version.
        ``probe`` is (input ids, texts): the version's predictions on them are stored, for the
        rollback drill to compare against."""
        import mlflow.sklearn
        from mlflow.entities import Metric, Param, RunTag

        model_store.check_model(model, "model", type(model).__name__)
        run = self.client.create_run(self._experiment(), run_name=f"{self.name}-register")
        run_id = run.info.run_id
        ids, texts = probe
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / MODEL_ARTIFACT
            # MLflow writes the skops file and checks it loads; the trusted types it records are
            # only for MLflow's own loader (Spark batch scoring), which verify() gates.
            probe_file = Path(tmp) / "probe.skops"
            model_store.save(model, probe_file)
            import skops.io

            trusted = skops.io.get_untrusted_types(file=probe_file)
            untrusted = [t for t in trusted if not model_store.is_trusted(t)]
            if untrusted:
                raise ParameterError(
                    f"Parameter model_path: the model uses '{untrusted[0]}', a type the playbook "
                    "does not load; it cannot be registered."
                )
            mlflow.sklearn.save_model(
                model,
                folder,
                serialization_format="skops",
                skops_trusted_types=trusted,
                pip_requirements=_requirements(),
            )
            sha = sha256_of(folder / "model.skops")
            predictions = predict(model, texts)
            (Path(tmp) / PROBE_FILE).write_text(
                json.dumps({"ids": list(map(str, ids)), "predictions": predictions.labels}),
                encoding="utf-8",
            )
            self.client.log_artifacts(run_id, str(folder), MODEL_ARTIFACT)
            self.client.log_artifact(run_id, str(Path(tmp) / PROBE_FILE))
        now = int(time.time() * 1000)
        self.client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)[:500]) for k, v in sorted(parameters.items())],
            tags=[RunTag("data_sha256", data_sha256), RunTag("code_version", code_version)],
        )
        self.client.set_terminated(run_id)
        try:
            self.client.get_registered_model(self.name)
        except Exception:  # noqa: BLE001 - MLflow raises its own exception when it is missing
            self.client.create_registered_model(self.name)
        tags = {
            "model_sha256": sha,
            "data_sha256": data_sha256,
            "code_version": code_version,
            "labels": json.dumps(model_store.labels_of(model)),
            "model_class": f"{type(model).__module__}.{type(model).__name__}",
            **(extra_tags or {}),
        }
        created = self.client.create_model_version(
            self.name,
            source=f"{run.info.artifact_uri}/{MODEL_ARTIFACT}",
            run_id=run_id,
            tags=tags,
            description=description,
        )
        return self.version(int(created.version))

    def set_alias(self, alias: str, version: int) -> None:
        self.client.set_registered_model_alias(self.name, alias, str(version))

    # ------------------------------------------------------------------ reading
    def version(self, version: int) -> Version:
        v = self.client.get_model_version(self.name, str(version))
        return Version(self.name, int(v.version), v.run_id, dict(v.tags), list(v.aliases))

    def by_alias(self, alias: str, parameter: str = "alias") -> Version:
        try:
            v = self.client.get_model_version_by_alias(self.name, alias)
        except Exception:  # noqa: BLE001
            raise ParameterError(
                f"Parameter {parameter}: the registry has no version of '{self.name}' with the "
                f"alias '{alias}'; register one and set the alias first."
            ) from None
        return Version(self.name, int(v.version), v.run_id, dict(v.tags), list(v.aliases))

    def versions(self) -> list[Version]:
        # (search results carry no aliases: read each version)
        found = self.client.search_model_versions(f"name='{self.name}'")
        return sorted((self.version(int(v.version)) for v in found), key=lambda v: v.version)

    def _artifact(self, version: Version, path: str, into: Path) -> Path:
        return Path(self.client.download_artifacts(version.run_id, path, str(into)))

    def load(self, version: Version, parameter: str = "alias") -> Any:
        """The version's model, loaded only if its file still has the registered hash and
        needs no type the playbook does not trust."""
        with tempfile.TemporaryDirectory() as tmp:
            folder = self._artifact(version, MODEL_ARTIFACT, Path(tmp))
            return model_store.load_verified(
                folder / "model.skops", version.model_sha256 or "-", parameter
            )

    def model_folder(self, version: Version, into: Path) -> Path:
        """A local copy of the version's MLflow model folder, after verifying its hash."""
        folder = self._artifact(version, MODEL_ARTIFACT, into)
        model_store.load_verified(folder / "model.skops", version.model_sha256 or "-", "alias")
        return folder

    def probe(self, version: Version) -> tuple[list[str], list[str | None]]:
        with tempfile.TemporaryDirectory() as tmp:
            data = json.loads(self._artifact(version, PROBE_FILE, Path(tmp)).read_text("utf-8"))
        return data["ids"], data["predictions"]


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{p}=={version(p)}" for p in ("scikit-learn", "skops", "numpy", "pilot2prod")]


@dataclass(frozen=True)
class Predictions:
    labels: list[str | None]  # None where the model abstains
    confidence: np.ndarray
    seconds: float  # wall time of the whole call


def predict(model: Any, texts: list[str]) -> Predictions:
    """Labels and the top probability per text; ``None`` where every probability is 0."""
    start = time.perf_counter()
    proba = np.asarray(model.predict_proba(list(texts)), dtype=float)
    seconds = time.perf_counter() - start
    classes = np.asarray(model.classes_).astype(str)
    if len(proba) == 0:
        return Predictions([], np.zeros(0), seconds)
    top = proba.argmax(axis=1)
    confidence = proba.max(axis=1)
    labels = [str(classes[i]) if c > 0 else None for i, c in zip(top, confidence, strict=True)]
    return Predictions(labels, confidence, seconds)


# --------------------------------------------------------------------------- rollback drill
@dataclass(frozen=True)
class Drill:
    passed: bool
    from_version: int
    to_version: int
    mismatches: int
    probes: int
    seconds: float  # time to re-point the alias and load the previous version
    restored: bool  # the alias points back where it was after the drill

    def sentence(self) -> str:
        if self.passed:
            return (
                f"Rollback drill passed: champion moved from version {self.from_version} to "
                f"{self.to_version} in {self.seconds:.1f} s and served exactly the "
                f"{self.probes:,} predictions recorded for version {self.to_version}."
            )
        return (
            f"Rollback drill FAILED: after moving champion to version {self.to_version}, "
            f"{self.mismatches:,} of {self.probes:,} probe predictions differ from those "
            "recorded for it."
        )


def rollback_drill(registry: Registry, texts_by_id: dict[str, str]) -> Drill:
    """Re-point ``champion`` to the version before it, load that version the way the service
    does, check it gives exactly the predictions recorded for it, and point the alias back.
    When the champion is the oldest version (a challenger was refused), the drill releases the
    newest version first and rolls back from it to the champion."""
    current = registry.by_alias(CHAMPION)
    versions = registry.versions()
    earlier = [v for v in versions if v.version < current.version]
    later = [v for v in versions if v.version > current.version]
    if earlier:
        released, previous = current, earlier[-1]
    elif later:
        released, previous = later[-1], current
    else:
        raise ParameterError(
            "A rollback drill needs two versions: the registry has only the champion "
            f"(version {current.version})."
        )
    registry.set_alias(CHAMPION, released.version)
    ids, recorded = registry.probe(previous)
    missing = [i for i in ids if i not in texts_by_id]
    if missing:
        raise ParameterError(
            f"The rollback drill's probe texts lack {len(missing)} recorded id(s); give the "
            "same probe set the versions were registered with."
        )
    start = time.perf_counter()
    registry.set_alias(CHAMPION, previous.version)
    model = registry.load(registry.by_alias(CHAMPION))
    seconds = time.perf_counter() - start
    served = predict(model, [texts_by_id[i] for i in ids]).labels
    mismatches = sum(a != b for a, b in zip(served, recorded, strict=True))
    registry.set_alias(CHAMPION, current.version)
    restored = registry.by_alias(CHAMPION).version == current.version
    return Drill(
        mismatches == 0 and restored,
        released.version,
        previous.version,
        mismatches,
        len(ids),
        seconds,
        restored,
    )
