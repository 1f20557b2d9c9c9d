"""Turn result fields into JSON-ready values (shared by the Analytics I result classes)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd


def jsonready(value: Any) -> Any:
    """Floats, ints, strings, ISO dates, lists and dicts; NaN and NaT become None.

    ``json.dumps`` writes NaN as ``NaN``, which is not JSON; a missing number is ``null`` here.
    Frames become lists of records and Series become ``{date: value}`` dicts.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        return None if math.isnan(x) or math.isinf(x) else x
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime | np.datetime64):
        stamp = pd.Timestamp(value)
        if pd.isna(stamp):
            return None
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, pd.DataFrame):
        frame = value.reset_index() if not isinstance(value.index, pd.RangeIndex) else value
        return [jsonready(r) for r in frame.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {str(jsonready(k)): jsonready(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): jsonready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonready(v) for v in value]
    return str(value)


def iso(value: Any) -> str:
    """``YYYY-MM-DD`` of a timestamp, or ``"-"`` when missing (for summaries)."""
    if value is None or pd.isna(value):
        return "-"
    return f"{pd.Timestamp(value):%Y-%m-%d}"
