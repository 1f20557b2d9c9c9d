"""All five Analytics I measurements on the full mirror (timings live in bench/measures.py)."""

from __future__ import annotations

from smallcaps import registry
from smallcaps.registry import MemoryView

NAMES = ("size.cycles", "size.premium", "valuation.gap", "concentration.top", "vehicle.tracking")
SPECS = (
    "french:Portfolios_Formed_on_ME", "french:F-F_Research_Data_Factors",
    "french:25_Portfolios_5x5", "shiller:ie_data", "ishares:IVV", "yahoo:IWM", "yahoo:SPY",
    "yahoo:^RUT", "yahoo:RSP", "yahoo:AAPL", "yahoo:MSFT", "yahoo:NVDA", "yahoo:AMZN",
    "yahoo:GOOGL", "yahoo:GOOG", "yahoo:META", "yahoo:TSLA",
)  # fmt: skip


def test_all_five_run_on_the_full_mirror(data) -> None:
    view = MemoryView(data)
    results = {name: registry.run(name, view) for name in NAMES}
    for name, result in results.items():
        assert result.to_dict()["measure"] == name
