"""Concentration: contributions add up on a synthetic index; the Mag 7 share by a plain loop."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallcaps.analytics.concentration import top_contribution
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.sources import ishares, yahoo

MAG7 = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "GOOG", "META", "TSLA"]


def adj_closes(path: Path) -> dict[str, float]:
    with path.open(newline="") as fh:
        return {r["Date"]: float(r["Adj Close"]) for r in csv.DictReader(fh)}


def ivv_weights(path: Path) -> dict[str, float]:
    with path.open(newline="") as fh:
        lines = fh.read().splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("Ticker,"))
    out = {}
    for r in csv.DictReader(lines[head:]):
        if r.get("Asset Class") == "Equity" and r["Ticker"] in MAG7:
            out[r["Ticker"]] = float(r["Weight (%)"]) / 100.0
    return out


def _price_path(data_dir: Path, ticker: str) -> Path:
    if ticker == "GOOG":
        return data_dir / "prices" / "other" / "GOOG_yf_2021-2026.csv"
    return data_dir / "prices" / "yahoo_classic_2026-05" / f"{ticker}.csv"


def test_mag7_share_of_spy_gain_by_a_plain_loop(data_dir: Path) -> None:
    closes = {t: adj_closes(_price_path(data_dir, t)) for t in [*MAG7, "SPY"]}
    weights = ivv_weights(data_dir / "valuation" / "IVV_holdings_2026-06-19.csv")
    common = sorted(set.intersection(*(set(c) for c in closes.values())))
    end = common[-1]
    target = f"{int(end[:4]) - 5}{end[4:]}"
    start = max(d for d in common if d <= target)
    spy = closes["SPY"]
    r_index = spy[end] / spy[start] - 1.0
    total = 0.0
    for t in MAG7:
        c = closes[t]
        w_start = weights[t] * (spy[end] / spy[start]) / (c[end] / c[start])
        total += w_start * (c[end] / c[start] - 1.0)
    expected = total / r_index

    def parsed(t: str) -> pd.Series:
        return yahoo.parse(_price_path(data_dir, t).read_bytes(), origin=t, ticker=t).frame

    prices = pd.DataFrame({t: parsed(t)["adj_close"] for t in MAG7})
    index = parsed("SPY")["adj_close"]
    hold_path = data_dir / "valuation" / "IVV_holdings_2026-06-19.csv"
    holdings = ishares.parse(hold_path.read_bytes(), origin=hold_path.name, fund="IVV")
    eq = holdings.equities.dropna(subset=["ticker"]).groupby("ticker")["weight"].sum()
    got = top_contribution(prices, index.rename("SPY"), eq[MAG7], weights_date=holdings.as_of)
    assert f"{got.end:%Y-%m-%d}" == end and f"{got.start:%Y-%m-%d}" == start
    assert got.index_return == pytest.approx(r_index, rel=1e-12)
    assert got.share == pytest.approx(expected, rel=1e-9)
    assert got.table["weight_end"].sum() == pytest.approx(sum(weights.values()), rel=1e-12)
    assert any("35 days earlier" in a for a in got.assumptions)
    assert "nearly" not in got.summary()  # no claim given


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.01, 1.0), st.floats(-0.9, 5.0)), min_size=2, max_size=12),
    st.sampled_from([1.0, 3.0, 17.5]),
)
def test_contributions_add_up_on_a_synthetic_index(names, scale) -> None:
    raw = np.array([w for w, _ in names])
    w0 = raw / raw.sum()
    growth = np.array([1.0 + r for _, r in names])
    r_index = float(w0 @ (growth - 1.0))
    w1 = w0 * growth / (1.0 + r_index)  # buy-and-hold end weights
    idx = pd.DatetimeIndex(["2020-01-02", "2025-01-02"])
    cols = [f"N{i}" for i in range(len(names))]
    prices = pd.DataFrame([np.full(len(names), 10.0), 10.0 * growth], idx, cols) * scale
    index = pd.Series([100.0, 100.0 * (1.0 + r_index)], idx, name="IDX")
    got = top_contribution(prices, index, pd.Series(w1, cols), weights_date=idx[-1])
    np.testing.assert_allclose(got.table["weight_start"], w0, rtol=1e-9, atol=1e-12)
    assert got.table["contribution"].sum() == pytest.approx(r_index, rel=1e-9, abs=1e-12)
    if abs(r_index) > 1e-6:
        assert got.share == pytest.approx(1.0, rel=1e-7)


def test_weights_are_rolled_back_from_a_later_snapshot() -> None:
    idx = pd.DatetimeIndex(["2020-01-02", "2021-01-04", "2022-01-03"])
    prices = pd.DataFrame({"A": [1.0, 2.0, 4.0], "B": [1.0, 1.0, 1.0]}, idx)
    index = pd.Series([1.0, 1.5, 2.5], idx, name="IDX")  # w0 = (0.5, 0.5)
    # end weights at idx[2]; window ends at idx[1] (end=) and lasts one period
    w2 = pd.Series({"A": 0.5 * 4 / 2.5, "B": 0.5 * 1 / 2.5})
    got = top_contribution(prices, index, w2, weights_date=idx[2], end=idx[1], years=1)
    assert got.start == idx[0] and got.end == idx[1] and got.priced_to == idx[2]
    np.testing.assert_allclose(got.table["weight_start"], [0.5, 0.5])
    assert got.share == pytest.approx(1.0)


def test_bad_inputs_are_clear_errors() -> None:
    idx = pd.date_range("2020-01-01", periods=3, freq="365D")
    prices = pd.DataFrame({"A": [1.0, 2.0, 3.0]}, idx)
    index = pd.Series([1.0, 1.5, 2.0], idx, name="IDX")
    with pytest.raises(ConfigError, match="no end weight for"):
        top_contribution(prices, index, {"B": 0.5}, weights_date=idx[-1])
    with pytest.raises(ConfigError, match="years"):
        top_contribution(prices, index, {"A": 0.5}, weights_date=idx[-1], years=0)
    with pytest.raises(InsufficientDataError, match="5-year window"):
        top_contribution(prices, index, {"A": 0.5}, weights_date=idx[-1], years=5)
    with pytest.raises(InsufficientDataError, match="fewer than two"):
        top_contribution(prices, index, {"A": 0.5}, weights_date="2019-01-01")
