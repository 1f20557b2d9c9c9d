"""Vehicle: IWM's 21-day return to 2026-01-09 by a plain loop, tracking split, drawdowns, beta."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallcaps.analytics.vehicle import (
    drawdowns,
    rolling_beta,
    tracking_by_year,
    trailing_returns,
    vehicle_report,
)
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.sources import yahoo


def test_iwm_21_day_return_to_2026_01_09(data_dir: Path) -> None:
    path = data_dir / "prices" / "yf_ohlcv_2026-06" / "IWM.csv"
    with path.open(newline="") as fh:
        rows = [(r["Date"], float(r["Close"])) for r in csv.DictReader(fh)]
    i = next(k for k, (d, _) in enumerate(rows) if d == "2026-01-09")
    expected = rows[i][1] / rows[i - 21][1] - 1.0
    assert rows[i - 21][0] == "2025-12-09"

    parsed = yahoo.parse(path.read_bytes(), origin=path.name, ticker="IWM")
    assert parsed.adjusted  # yfinance OHLCV layout: the close is adjusted
    got = trailing_returns(parsed.frame["close"].loc[:"2026-01-09"].rename("IWM"))
    assert got["1m"] == pytest.approx(expected, rel=1e-12)
    assert f"{got['1m_from']:%Y-%m-%d}" == "2025-12-09"
    assert abs(got["1m"] - 0.058) > 0.01  # the article's "past month +5.8%" is not what IWM did
    # the same month on the traded (unadjusted) closes of another capture
    other = data_dir / "prices" / "other" / "IWM_yf_2021-2026.csv"
    traded = yahoo.parse(other.read_bytes(), origin=other.name, ticker="IWM").frame["close"]
    got_traded = trailing_returns(traded.loc[:"2026-01-09"])["1m"]
    assert got_traded < got["1m"] < 0.058  # the December dividend is in the adjusted one only


def test_tracking_splits_exactly() -> None:
    idx = pd.bdate_range("2019-06-03", "2022-03-31")
    rng = np.random.default_rng(3)
    index = pd.Series(np.exp(np.cumsum(rng.normal(0, 0.01, len(idx)))) * 1000, idx, name="IDX")
    price = index * 0.1 * np.exp(np.cumsum(rng.normal(0, 0.0002, len(idx))))
    total = price * np.exp(np.arange(len(idx)) * 0.015 / 252)  # ~1.5% a year of distributions
    got = tracking_by_year(total, index, fund_price=price, expense_ratio=0.0019)
    assert list(got.index) == [2019, 2020, 2021, 2022]
    assert list(got["full"]) == [False, True, True, False]
    np.testing.assert_allclose(
        got["tracking_difference"], got["distributions"] + got["residual"], atol=1e-15
    )
    np.testing.assert_allclose(got["dividends_est"] - got["expense_ratio"], got["distributions"])
    full = got.loc[2020]
    assert full["start"] == pd.Timestamp("2019-12-31") and full["end"] == pd.Timestamp("2020-12-31")
    assert full["fund_total"] == pytest.approx(total["2020-12-31"] / total["2019-12-31"] - 1)
    assert full["distributions"] == pytest.approx(
        (total["2020-12-31"] / total["2019-12-31"]) - (price["2020-12-31"] / price["2019-12-31"])
    )
    with pytest.raises(ConfigError, match="expense_ratio"):
        tracking_by_year(total, index, expense_ratio=0.19)
    without = tracking_by_year(total, index)
    assert without["fund_price"].isna().all() and without["tracking_difference"].notna().all()


def test_drawdowns_and_recovery_on_a_known_path() -> None:
    idx = pd.date_range("2020-01-01", periods=10, freq="D")
    p = pd.Series([100, 120, 90, 60, 130, 125, 140, 65, 100, 110], idx, dtype=float)
    got = drawdowns(p, top=5)
    assert list(got["depth"]) == pytest.approx([65 / 140 - 1, 60 / 120 - 1, 125 / 130 - 1])
    first = got.iloc[0]
    assert first["peak"] == idx[6] and first["trough"] == idx[7] and pd.isna(first["recovered"])
    second = got.iloc[1]
    assert second["peak"] == idx[1] and second["recovered"] == idx[4]
    assert second["days_to_recover"] == 3 and second["days_to_trough"] == 2


def test_beta_of_a_levered_copy_is_its_leverage() -> None:
    idx = pd.bdate_range("2020-01-01", periods=400)
    rng = np.random.default_rng(1)
    m = rng.normal(0, 0.01, len(idx))
    market = pd.Series(100 * np.cumprod(1 + m), idx, name="M")
    asset = pd.Series(50 * np.cumprod(1 + 2 * m), idx, name="A")
    beta = rolling_beta(asset, market, window=252)
    np.testing.assert_allclose(beta, 2.0, rtol=1e-9)
    with pytest.raises(InsufficientDataError, match="needs 500"):
        rolling_beta(asset, market, window=500)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-0.1, 0.1), min_size=300, max_size=400), st.floats(0.1, 100.0))
def test_scaling_prices_changes_nothing(steps: list[float], c: float) -> None:
    idx = pd.bdate_range("2015-01-01", periods=len(steps))
    fund = pd.Series(np.exp(np.cumsum(steps)), idx, name="F")
    index = (fund * np.exp(np.linspace(0, -0.01, len(idx)))).rename("I")
    market = (fund**0.5).rename("M")
    a = vehicle_report(fund, index, market)
    b = vehicle_report(fund * c, index * c, market * c)
    num = a.tracking.select_dtypes("number").columns
    np.testing.assert_allclose(a.tracking[num], b.tracking[num], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-6, atol=1e-9)
    assert a.current_drawdown == pytest.approx(b.current_drawdown, abs=1e-12)
    assert list(a.trailing["ath"]) == list(b.trailing["ath"])


def test_all_time_high_flag() -> None:
    idx = pd.bdate_range("2024-01-01", periods=300)
    up = pd.Series(np.linspace(100, 200, 300), idx, name="UP")
    got = trailing_returns(up)
    assert got["ath"] and got["from_ath"] == 0.0 and got["ath_date"] == idx[-1]
    down = up.iloc[::-1].set_axis(idx)
    got = trailing_returns(down)
    assert not got["ath"] and got["ath_date"] == idx[0] and got["from_ath"] == pytest.approx(-0.5)
    assert got["1y"] == pytest.approx(down.iloc[-1] / down.iloc[-253] - 1)
