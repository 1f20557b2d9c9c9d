"""All five Analytics I measurements on the full mirror (timings live in bench/measures.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from smallcaps import registry
from smallcaps.registry import MemoryView
from smallcaps.sources import catalog

NAMES = ("size.cycles", "size.premium", "valuation.gap", "concentration.top", "vehicle.tracking")
SPECS = (
    "french:Portfolios_Formed_on_ME", "french:F-F_Research_Data_Factors",
    "french:25_Portfolios_5x5", "shiller:ie_data", "ishares:IVV", "yahoo:IWM", "yahoo:SPY",
    "yahoo:^RUT", "yahoo:RSP", "yahoo:AAPL", "yahoo:MSFT", "yahoo:NVDA", "yahoo:AMZN",
    "yahoo:GOOGL", "yahoo:GOOG", "yahoo:META", "yahoo:TSLA",
)  # fmt: skip


@pytest.fixture(scope="module")
def data(data_dir: Path) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    for spec in SPECS:
        for _payload, tidy in catalog.read_mirror(catalog.parse_spec(spec), data_dir):
            for sid, g in tidy.frame.groupby("series_id", sort=False):
                out[str(sid)] = pd.Series(g["value"].to_numpy(), index=pd.DatetimeIndex(g["date"]))
    return out


def test_all_five_run_on_the_full_mirror(data) -> None:
    view = MemoryView(data)
    results = {name: registry.run(name, view) for name in NAMES}
    for name, result in results.items():
        assert result.to_dict()["measure"] == name
