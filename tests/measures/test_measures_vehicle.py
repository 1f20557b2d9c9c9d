"""vehicle.tracking on the mirror: as-of runs, the article's month, no look-ahead, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from smallcaps import registry
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.registry import MemoryView

SPECS = ("yahoo:IWM", "yahoo:SPY", "yahoo:^RUT")


@pytest.mark.parametrize("as_of", [None, "2009-03-31", "2026-01-09"])
def test_runs_on_the_mirror_and_records_provenance(data, as_of) -> None:
    got = registry.run(
        "vehicle.tracking", MemoryView(data, as_of=pd.Timestamp(as_of) if as_of else None)
    )
    d = got.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["as_of"] == as_of and "price/IWM/adj_close" in d["sources"]
    assert d["trailing"][0]["series"] == "IWM"
    if as_of:
        assert d["trailing"][0]["date"] == as_of  # both were trading days


def test_a_claimed_month_is_checked_at_its_date(data) -> None:
    got = registry.run(
        "vehicle.tracking", MemoryView(data), claim_month_return=0.058, claim_date="2026-01-09"
    )
    iwm = data["price/IWM/adj_close"].loc[:"2026-01-09"]
    assert got.claim_date == pd.Timestamp("2026-01-09")
    assert got.claim_measured == pytest.approx(iwm.iloc[-1] / iwm.iloc[-22] - 1.0)
    assert "disagrees" in got.summary()
    plain = registry.run("vehicle.tracking", MemoryView(data))
    assert plain.claim_month_return is None and "claimed" not in plain.summary()
    split = got.full_years().dropna(subset=["fund_price"])
    assert list(split.index) == [2022, 2023, 2024, 2025]  # traded closes from 2021-05 on


def test_no_look_ahead(data) -> None:
    t = pd.Timestamp("2026-01-09")
    rng = np.random.default_rng(5)
    shocked = {}
    for sid, s in data.items():
        s = s.copy()
        later = s.index > t
        s[later] = s[later] * rng.uniform(0.8, 1.2, int(later.sum()))
        shocked[sid] = s
    before = registry.run("vehicle.tracking", MemoryView(data, as_of=t)).to_dict()
    after = registry.run("vehicle.tracking", MemoryView(shocked, as_of=t)).to_dict()
    assert before == after
    assert registry.run("vehicle.tracking", MemoryView(shocked)).to_dict() != before


def test_bad_parameters_are_clear_errors(data) -> None:
    view = MemoryView(data)
    with pytest.raises(ConfigError, match=r"0\.0019 for 0\.19%"):
        registry.run("vehicle.tracking", view, expense_ratio="0.19")
    with pytest.raises(InsufficientDataError, match=r"no stored prices of '\^XYZ'"):
        registry.run("vehicle.tracking", view, index="^XYZ")
    with pytest.raises(ConfigError, match="top must be"):
        registry.run("vehicle.tracking", view, top="0")
