"""Plain JSON (and YAML) values from numpy and pandas ones, without importing either: the
command line writes a run's parameters before anything heavy is needed, and a numpy or pandas
value can only exist once its library has been imported."""

from __future__ import annotations

import math
import sys
from datetime import date, datetime
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas values (and NaN, NaT, NA) into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        value = value.item()
    pd = sys.modules.get("pandas")
    if pd is not None and (value is pd.NA or value is pd.NaT):
        return None
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, datetime | date):  # pandas' Timestamp is a datetime
        return value.isoformat()
    return value
