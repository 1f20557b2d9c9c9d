"""valuation.gap on the mirror: as-of runs, no look-ahead, vendor data, parameter errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from smallcaps import registry
from smallcaps.errors import ConfigError
from smallcaps.measures.valuation import portfolio_columns
from smallcaps.registry import MemoryView

SPECS = ("french:25_Portfolios_5x5", "french:6_Portfolios_2x3", "shiller:ie_data")


def test_portfolio_columns_match_the_files(data) -> None:
    for dataset in ("25_Portfolios_5x5", "6_Portfolios_2x3"):
        stored = {sid.split("/")[-1] for sid in data if sid.startswith(f"french/{dataset}/")}
        assert set(portfolio_columns(dataset)) == stored
    with pytest.raises(ConfigError, match="not a French Size x ratio sort"):
        portfolio_columns("Portfolios_Formed_on_ME")


@pytest.mark.parametrize("as_of", [None, "2009-03-31", "2026-01-09"])
def test_runs_on_the_mirror_and_records_provenance(data, as_of) -> None:
    view = MemoryView(data, as_of=pd.Timestamp(as_of) if as_of else None)
    got = registry.run(
        "valuation.gap", view, claim_discount=0.35, claim_date="2009-03", claim_pe_small=18.0,
        claim_pe_big=32.0,
    )  # fmt: skip
    d = got.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["as_of"] == as_of and "shiller/cape" in d["sources"]
    assert len([s for s in d["sources"] if s.startswith("french/25_Portfolios_5x5/")]) == 4 * 10
    assert d["updated"] is not None and d["cape"] is not None
    assert "Claimed: a 35% discount" in got.summary()
    assert "cannot check without a vendor series" in got.summary()


def test_as_of_percentile_uses_only_the_history_to_then(data) -> None:
    full = registry.run("valuation.gap", MemoryView(data))
    t = pd.Timestamp("2009-03-31")
    then = registry.run("valuation.gap", MemoryView(data, as_of=t))
    gap = full.gap.gap.loc[:t]
    pd.testing.assert_series_equal(then.gap.gap, gap)  # history is not rewritten by later rows
    assert then.gap.percentile == pytest.approx(float((gap <= gap.iloc[-1]).mean()))
    assert then.to_dict()["prices_of"] == "2008-06-30"


def test_no_look_ahead(data) -> None:
    cutoff = pd.Timestamp("2008-12-31")
    rng = np.random.default_rng(11)
    shocked = {}
    for sid, s in data.items():
        s = s.copy()
        later = s.index > cutoff
        s[later] = s[later] * rng.uniform(0.5, 1.5, int(later.sum()))
        shocked[sid] = s
    before = registry.run("valuation.gap", MemoryView(data, as_of=cutoff)).to_dict()
    after = registry.run("valuation.gap", MemoryView(shocked, as_of=cutoff)).to_dict()
    assert before == after
    assert registry.run("valuation.gap", MemoryView(shocked)).to_dict() != before


def test_vendor_pe_is_labelled_as_vendor_data(data) -> None:
    idx = pd.date_range("2024-01-31", periods=24, freq="ME")
    view = MemoryView({**data, "user/r2k_fpe": pd.Series(np.linspace(20, 18, 24), idx),
                       "user/spx_fpe": pd.Series(np.linspace(25, 32, 24), idx)})  # fmt: skip
    got = registry.run("valuation.gap", view, vendor_small="user/r2k_fpe",
                       vendor_big="user/spx_fpe")  # fmt: skip
    assert got.vendor is not None and got.vendor.discount == pytest.approx(1 - 18 / 32)
    assert "Vendor data (user-supplied, not computed here)" in got.summary()
    assert got.to_dict()["vendor_pe"]["data"].startswith("vendor")


def test_other_files_and_ratios(data) -> None:
    view = MemoryView(data)
    two = registry.run("valuation.gap", view, dataset="6_Portfolios_2x3", big="2")
    assert two.gap.date == pd.Timestamp("2024-12-31")
    dec = registry.run("valuation.gap", view, prices="december")
    assert dec.updated is None and dec.prices_of == pd.Timestamp("2024-12-31")
    wide = registry.run("valuation.gap", view, small="1,2,3")
    assert wide.discount < registry.run("valuation.gap", view).discount


def test_bad_parameters_are_clear_errors(data) -> None:
    view = MemoryView(data)
    with pytest.raises(ConfigError, match="valid groups are"):
        registry.run("valuation.gap", view, small="9")
    with pytest.raises(ConfigError, match="overlap"):
        registry.run("valuation.gap", view, small="1,5")
    with pytest.raises(ConfigError, match="'june' or 'december'"):
        registry.run("valuation.gap", view, prices="march")
    with pytest.raises(ConfigError, match="both vendor_small= and vendor_big="):
        registry.run("valuation.gap", view, vendor_small="user/x")
