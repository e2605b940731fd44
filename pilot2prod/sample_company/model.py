"""A triage model for the sample company, exported the way Chapter 3 exports one.

Chapter 4 starts from Chapter 3's export. The playbook hands it on; a lighter run (the nbval
engagement, tests) needs one without running Chapter 3's whole ladder: this trains Chapter 3's
workhorse (TF-IDF + linear) on the sample tickets with Chapter 3's own loading, masking and time
split, and writes ``model/metadata.json`` and the skops file beside it.

    python -m pilot2prod.sample_company.model --out DIR [--rows N]
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from pilot2prod.handoff import MODEL_FOLDER, ModelExport
from pilot2prod.paths import SAMPLE_DIR
from pilot2prod.production import model_store
from pilot2prod.triage.data import load_examples, split_examples
from pilot2prod.triage.models import TfidfLinear

TEXT_COLUMNS = ["subject", "body"]


def export_sample_model(out: Path, rows: int = 4000, tickets: Path | None = None) -> Path:
    """Train and export; returns the model folder (``out/model``)."""
    import sklearn

    from pilot2prod import __version__

    path = tickets or SAMPLE_DIR / "tickets.csv"
    examples = load_examples(
        str(path),
        TEXT_COLUMNS,
        "category",
        time_column="created_at",
        id_column="ticket_id",
        max_rows=rows,
    )
    split = split_examples(examples)
    model = TfidfLinear().fit(split.train["text"].tolist(), split.train["label"].to_numpy())
    truth = split.test["label"].to_numpy(dtype=object)
    predicted = model.predict(split.test["text"].tolist())
    folder = Path(out) / MODEL_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"triage_model{model_store.SUFFIX}"
    sha = model_store.save(model, file)
    now = datetime.now(UTC)
    ModelExport(
        name="ticket-triage",
        version=now.strftime("%Y%m%d%H%M%S"),
        approach=model.id,
        approach_name=model.name,
        meets_target=True,
        created=now.isoformat(),
        model_file=file.name,
        model_sha256=sha,
        data_sha256=examples.data_hash,
        training_rows=len(split.train),
        labels=[str(c) for c in model.classes_],
        split={"policy": split.policy, "cutoff": str(split.cutoff)},
        metrics={"accuracy": float(np.mean(predicted == truth)), "threshold": 0.0},
        parameters={
            "text_columns": ",".join(TEXT_COLUMNS),
            "label_column": "category",
            "id_column": "ticket_id",
            "time_column": "created_at",
            "max_examples": rows,
        },
        runtime={"pilot2prod": __version__, "scikit-learn": sklearn.__version__},
    ).save(folder)
    return folder


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder to write model/ into")
    parser.add_argument("--rows", type=int, default=4000, help="newest tickets to read")
    args = parser.parse_args(argv)
    folder = export_sample_model(Path(args.out), args.rows)
    print(f"Sample model exported to {folder}")


if __name__ == "__main__":
    main()
