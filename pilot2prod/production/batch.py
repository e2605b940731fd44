"""Scoring a backlog: in process, or through Spark with MLflow's pyfunc UDF.

Both paths build the model's text the way training did (the text columns joined, personal data
masked) and load the version only after its hash and types are verified. Spark runs MLflow's
own loader inside its workers, which MLflow gates behind ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION``
because the file itself names the types it trusts; the playbook sets it only for a folder it
has verified itself.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from pilot2prod.production.registry import Registry, predict
from pilot2prod.triage.data import model_texts


def score_in_process(
    model: Any, frame: pd.DataFrame, text_columns: list[str], batch_size: int = 5000
) -> pd.DataFrame:
    """``prediction`` and ``confidence`` per row of ``frame`` (same index)."""
    labels: list[str | None] = []
    confidence: list[float] = []
    for start in range(0, len(frame), batch_size):
        part = frame.iloc[start : start + batch_size]
        texts = model_texts(part, text_columns)[0].astype(str).tolist()
        out = predict(model, texts)
        labels += out.labels
        confidence += out.confidence.tolist()
    return pd.DataFrame({"prediction": labels, "confidence": confidence}, index=frame.index)


def score_with_spark(
    spark: Any,
    registry: Registry,
    alias: str,
    frame: Any,
    text_columns: list[str],
) -> Any:
    """``frame`` (a Spark DataFrame) with a ``prediction`` column from the version ``alias``
    points to, scored by MLflow's pyfunc Spark UDF in Spark's workers."""
    import mlflow.pyfunc

    version = registry.by_alias(alias)
    folder = Path(tempfile.mkdtemp(prefix="p2p-spark-"))
    local = registry.model_folder(version, folder)  # verified: hash and every type
    # Spark's Python workers take their environment from the context when the UDF is made.
    os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    spark.sparkContext.environment["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    udf = mlflow.pyfunc.spark_udf(spark, str(local), result_type="string", env_manager="local")
    return frame.withColumn("prediction", udf(*text_columns))
