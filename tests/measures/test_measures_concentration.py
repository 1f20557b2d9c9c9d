"""concentration.top on the mirror: the Mag 7 share, as-of rules, no look-ahead, errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from smallcaps import registry
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.measures.concentration import MAG7
from smallcaps.registry import MemoryView

SPECS = ("ishares:IVV", "yahoo:SPY", "yahoo:RSP", *(f"yahoo:{t}" for t in MAG7))


def test_mag7_share_on_the_mirror(data) -> None:
    got = registry.run("concentration.top", MemoryView(data))
    d = got.to_dict()
    json.dumps(d, allow_nan=False)
    assert 0.0 < got.share < 1.0 and got.years == pytest.approx(5.0, abs=0.01)
    assert got.weights_date == pd.Timestamp("2026-06-19")
    assert got.table["weight_end"].sum() == pytest.approx(0.3250, abs=1e-4)  # the manifest
    assert "ishares/IVV/weight/NVDA" in d["sources"] and "price/RSP/adj_close" in d["sources"]
    assert "Claimed" not in got.summary()  # no claim unless one is passed
    claimed = registry.run("concentration.top", MemoryView(data), claim_share=0.9)
    assert "Claimed: about 90%" in claimed.summary() and "overstates it" in claimed.summary()
    assert not pd.isna(got.spread)


def test_a_window_ending_at_the_article_date_uses_the_googl_proxy(data) -> None:
    got = registry.run("concentration.top", MemoryView(data), end="2026-01-09")
    assert got.end == pd.Timestamp("2026-01-09")
    assert any("GOOG priced with GOOGL" in a for a in got.assumptions)
    goog, googl = got.table.loc["GOOG"], got.table.loc["GOOGL"]
    assert goog["return"] == googl["return"]


def test_no_snapshot_before_its_date_is_a_clear_error(data) -> None:
    with pytest.raises(InsufficientDataError, match="no IVV holdings snapshot known as of"):
        registry.run("concentration.top", MemoryView(data, as_of=pd.Timestamp("2026-01-09")))


def test_no_look_ahead_from_a_later_snapshot_and_prices(data) -> None:
    t = pd.Timestamp("2026-06-30")
    later = dict(data)
    for sid, s in data.items():  # a made-up later snapshot and later prices
        if sid.startswith("ishares/IVV/weight/"):
            later[sid] = pd.concat([s, pd.Series([s.iloc[-1] * 1.3], [pd.Timestamp("2026-09-30")])])
        elif sid.startswith("price/"):
            extra = pd.Series(s.iloc[-1] * 1.5, pd.bdate_range("2026-07-01", periods=60))
            later[sid] = pd.concat([s, extra])
    before = registry.run("concentration.top", MemoryView(data, as_of=t)).to_dict()
    after = registry.run("concentration.top", MemoryView(later, as_of=t)).to_dict()
    assert before == after
    assert registry.run("concentration.top", MemoryView(later)).to_dict() != before


def test_bad_parameters_are_clear_errors(data) -> None:
    view = MemoryView(data)
    with pytest.raises(InsufficientDataError, match="no weight of ZZZZ"):
        registry.run("concentration.top", view, tickers="AAPL,ZZZZ")
    with pytest.raises(ConfigError, match="years must be positive"):
        registry.run("concentration.top", view, years="0")
    with pytest.raises(InsufficientDataError, match="20-year window"):
        registry.run("concentration.top", view, years="20")
    with pytest.raises(ConfigError, match="GOOG=GOOGL"):
        registry.run("concentration.top", view, proxies="GOOG")
