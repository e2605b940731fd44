"""Where things are: the repository (for the sample defaults) and the run folders."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

#: The checkout that holds the package, the notebooks and the sample company.
REPO_ROOT = Path(__file__).resolve().parent.parent


def _notebooks_dir() -> Path:
    """The checkout's notebooks, or (an installed package) the copies shipped inside it."""
    checkout = REPO_ROOT / "notebooks"
    if checkout.is_dir():
        return checkout
    return Path(__file__).resolve().parent / "notebooks"


NOTEBOOKS_DIR = _notebooks_dir()
SAMPLE_DIR = REPO_ROOT / "datasets" / "acme"
RUNS_ENV = "PILOT2PROD_RUNS_DIR"


def runs_base(cwd: Path | None = None) -> Path:
    """The folder that holds ``<notebook>/<timestamp>`` run folders.

    ``$PILOT2PROD_RUNS_DIR`` wins; inside this checkout it is ``<repo>/runs`` (so notebooks run
    from ``notebooks/`` by nbval or the book do not scatter folders); elsewhere ``<cwd>/runs``.
    """
    if os.environ.get(RUNS_ENV):
        return Path(os.environ[RUNS_ENV]).expanduser().resolve()
    here = (cwd or Path.cwd()).resolve()
    if here == REPO_ROOT or REPO_ROOT in here.parents:
        return REPO_ROOT / "runs"
    return here / "runs"


def new_run_dir(notebook: str, base: Path | None = None) -> Path:
    """Create and return a fresh, empty ``<base>/<notebook>/<timestamp>`` folder.

    Never reuses a folder: a second run in the same second gets a ``-2`` suffix.
    """
    root = (base or runs_base()) / notebook
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = root / stamp
    k = 2
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            candidate = root / f"{stamp}-{k}"
            k += 1
