"""size.cycles and size.premium on the mirror: as-of runs, no look-ahead, parameter errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from smallcaps import registry
from smallcaps.errors import ConfigError, InsufficientDataError, UnknownSeriesError
from smallcaps.registry import MemoryView

SPECS = ("french:Portfolios_Formed_on_ME", "french:F-F_Research_Data_Factors", "yahoo:IWM",
         "yahoo:SPY")  # fmt: skip


def shocked_after(data: dict[str, pd.Series], cutoff: str, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for sid, s in data.items():
        s = s.copy()
        later = s.index > pd.Timestamp(cutoff)
        s[later] = s[later] * rng.uniform(0.5, 1.5, int(later.sum()))
        out[sid] = s
    return out


@pytest.mark.parametrize("name", ["size.cycles", "size.premium"])
@pytest.mark.parametrize("as_of", [None, "2009-03-31", "2026-01-09"])
def test_runs_on_the_mirror_and_records_provenance(data, name: str, as_of) -> None:
    view = MemoryView(data, as_of=pd.Timestamp(as_of) if as_of else None)
    result = registry.run(name, view)
    d = result.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["sources"] and all(s.startswith("french/") for s in d["sources"])
    assert d["as_of"] == as_of
    assert isinstance(result.to_frame(), pd.DataFrame) and result.summary()


@pytest.mark.parametrize("name", ["size.cycles", "size.premium"])
@pytest.mark.parametrize("cutoff", ["1999-12-31", "2021-03-31"])
def test_no_look_ahead(data, name: str, cutoff: str) -> None:
    t = pd.Timestamp(cutoff)
    before = registry.run(name, MemoryView(data, as_of=t)).to_dict()
    after = registry.run(name, MemoryView(shocked_after(data, cutoff), as_of=t)).to_dict()
    assert before == after
    full = registry.run(name, MemoryView(shocked_after(data, cutoff))).to_dict()
    assert full != before  # the shock did reach the later data


def test_current_cycle_and_other_pairs(data) -> None:
    got = registry.run("size.cycles", MemoryView(data))
    assert got.leader in ("small", "large") and got.last_date == pd.Timestamp("2026-02-28")
    etf = registry.run("size.cycles", MemoryView(data), small="price/IWM/adj_close",
                       large="price/SPY/adj_close", threshold="0.2")  # fmt: skip
    assert etf.small_name == "IWM" and etf.threshold == 0.2
    assert etf.wealth.iloc[0] == 1.0


def test_bad_parameters_are_clear_errors(data) -> None:
    view = MemoryView(data)
    with pytest.raises(ConfigError, match=r"threshold must be in \(0, 1\)"):
        registry.run("size.cycles", view, threshold="1.5")
    with pytest.raises(UnknownSeriesError, match="unknown series"):
        registry.run("size.cycles", view, small="french/Portfolios_Formed_on_ME/x/Lo 20")
    with pytest.raises(ConfigError, match="not both returns or both prices"):
        registry.run("size.cycles", view, large="price/SPY/adj_close")
    user = MemoryView({**data, "user/mine": data["price/IWM/adj_close"]})
    with pytest.raises(ConfigError, match="pass kind=returns"):
        registry.run("size.cycles", user, small="user/mine", large="price/SPY/adj_close")
    ok = registry.run("size.cycles", user, small="user/mine", large="price/SPY/adj_close",
                      kind="prices")  # fmt: skip
    assert ok.small_name == "user/mine"
    with pytest.raises(InsufficientDataError, match="period 2030-01:"):
        registry.run("size.premium", view, periods="2030-01:")
    with pytest.raises(ConfigError, match="unknown parameter"):
        registry.run("size.premium", view, treshold="0.2")


def test_default_periods_adapt_to_the_view(data) -> None:
    got = registry.run("size.premium", MemoryView(data, as_of=pd.Timestamp("1995-12-31")))
    assert set(got.table["period"]) == {"full", "1926-07:1981-12", "1982-01:1999-12"}
