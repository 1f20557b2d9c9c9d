"""macro.regime, rates.sensitivity and risk.credit on the mirror through a MemoryView."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from smallcaps import registry
from smallcaps.errors import InsufficientDataError
from smallcaps.registry import MemoryView

SPECS = (
    "fred:GDPC1", "fred:UNRATE", "fred:NFCI", "fred:BAMLH0A0HYM2", "fred:T10Y2Y", "fred:DGS2",
    "fred:DGS10", "yahoo:^RUT", "yahoo:^GSPC", "yahoo:IWM", "yahoo:SPY",
)  # fmt: skip


@pytest.mark.parametrize("name", ["macro.regime", "rates.sensitivity", "risk.credit"])
def test_runs_on_the_mirror_with_json(data, name: str) -> None:
    result = registry.run(name, MemoryView(data))
    assert isinstance(result, registry.Result)
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["summary"] == result.summary()
    assert len(result.to_frame())


def test_regime_as_of_an_earlier_date(data) -> None:
    view = MemoryView(data, as_of=pd.Timestamp("2009-03-31"))
    result = registry.run("macro.regime", view)
    assert result.regime == "recession risk"  # Sahm gap far above 0.5 in early 2009
    assert result.indicators.loc["hy_oas", "signal"] == "n/a"  # no HY data before 2023
    assert result.indicators.loc["unrate", "date"] <= pd.Timestamp("2009-03-31")
    changed = registry.run("macro.regime", view, sahm_red="9", gdp_yoy_red="-9", nfci_red="9")
    assert changed.regime == "slowdown"


def test_rates_legs_and_params(data) -> None:
    result = registry.run("rates.sensitivity", MemoryView(data), frequency="D", window="0")
    assert result.frequency == "D" and result.rolling.empty
    assert any("price/^RUT/adj_close" in n and "price/SPY/adj_close" in n for n in result.notes)


def test_credit_before_the_spread_exists_is_a_clear_error(data) -> None:
    with pytest.raises(InsufficientDataError, match="spread"):
        registry.run("risk.credit", MemoryView(data, as_of=pd.Timestamp("2023-10-31")))
