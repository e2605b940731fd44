"""Chapter 2's parameters, declared once (the notebook's parameters cell is derived from this)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from pilot2prod import params
from pilot2prod.errors import ParameterError
from pilot2prod.params import check_date, param, shown

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Parameters(params.Parameters):
    """Parameters of ``notebooks/02_data_audit.ipynb``."""

    notebook: ClassVar[str] = "02_data_audit"

    sources: str = param(
        "",
        "what to audit: an inventory (YAML), a folder, a glob, a file or a database URL#table",
        path="source",
    )
    as_of: str = param("", 'the audit\'s "now" for freshness; "" for today')
    default_region: str = param(
        "", "two-letter country for phone numbers written without +, e.g. DE"
    )
    earliest_date: str = param(
        "",
        "dates before this are implausible (e.g. when the company was founded); "
        '"" to judge from each column',
    )
    output_dir: str = param(
        "",
        'folder for audit.json, contracts and datasheets; "" for a new folder under runs/',
        path="output",
    )

    def check(self) -> None:
        if not self.sources:
            raise ParameterError(
                "Parameter sources is empty; give an inventory, a folder, a file or a database "
                "URL, e.g. sources=exports/ or sources=inventory.yaml."
            )
        check_date("as_of", self.as_of, "2026-11-02", "today")
        check_date("earliest_date", self.earliest_date, "2015-06-01", "no fixed date")
        if self.default_region and (
            len(self.default_region) != 2 or not self.default_region.isalpha()
        ):
            raise ParameterError(
                f"Parameter default_region is {shown(self.default_region)}; use a two-letter "
                "country code such as DE or GB, or leave it empty."
            )

    @property
    def earliest(self) -> pd.Timestamp | None:
        import pandas as pd

        return pd.Timestamp(self.earliest_date) if self.earliest_date else None

    @property
    def now(self) -> pd.Timestamp:
        import pandas as pd

        return pd.Timestamp(self.as_of) if self.as_of else pd.Timestamp.now().floor("s")
