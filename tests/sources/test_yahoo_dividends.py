"""Dividends as their own series, total return from closes and dividends, and the captures
whose adjusted close misses a dividend.

The live test drives yfinance's own code against Yahoo's chart API served locally (its
dividend events built from the capture's close and adjusted close); the faulty-capture tests
read the mirror's real files.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smallcaps.sources import yahoo

AFTER_CLOSE = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)


def prices(data_dir: Path, name: str, ticker: str) -> pd.DataFrame:
    path = data_dir / "prices" / name
    return yahoo.parse(path.read_bytes(), origin=path.name, ticker=ticker).frame


def test_live_dividends_are_their_own_series_and_give_yahoos_total_return(
    data_dir: Path, local_yahoo
) -> None:
    mirror = prices(data_dir, "yahoo_classic_2026-05/SPY.csv", "SPY")
    served = yahoo.Prices("SPY", mirror, False, "yahoo_classic")
    session = local_yahoo(served, "SPY")
    payload = yahoo.fetch("SPY", session=session, timeout=10.0, now=lambda: AFTER_CLOSE)
    tidy = yahoo.tidy(payload.data, origin=payload.url, ticker="SPY")
    paid = tidy.series("price/SPY/dividends")
    assert tidy.meta["price/SPY/dividends"].units == "USD per share"
    # SPY pays quarterly: 28 ex-dates from June 2019 to March 2026, about $1.28 to $1.99
    assert len(paid) == 28 and paid.index[0] == pd.Timestamp("2019-06-21")
    assert paid.index[-1] == pd.Timestamp("2026-03-20") and 1.2 < paid.min() < paid.max() < 2.0
    close, adj = tidy.series("price/SPY/close"), tidy.series("price/SPY/adj_close")
    ours = yahoo.total_return(close, paid)
    theirs = adj.pct_change().iloc[1:]
    quiet = ~ours.index.isin(paid.index)
    np.testing.assert_allclose(ours[quiet], theirs[quiet], atol=2e-6)  # the file rounds Adj Close
    # on ex-dates Yahoo's adjusted close divides by (previous close - dividend): the stored
    # dividends are exactly those, and the total return differs by (dividend/close) x return
    prev = close.shift(1).reindex(paid.index)
    yahoo_rule = close.reindex(paid.index) / (prev - paid) - 1
    np.testing.assert_allclose(theirs[~quiet], yahoo_rule, atol=2e-6)
    np.testing.assert_allclose(ours[~quiet], theirs[~quiet], atol=(paid / prev).max() * 0.06)
    assert (ours[~quiet] - close.pct_change().reindex(paid.index)).min() > 0.002


@pytest.mark.parametrize(
    ("ticker", "reference", "capture", "missed"),
    [
        ("SPY", "yahoo_classic_2026-05/SPY.csv", "yf_ohlcv_2026-06/SPY.csv", {"2026-03-20": 1.797}),
        ("SPY", "yahoo_classic_2026-05/SPY.csv", "yf_autoadj_2026-02/SPY.csv", {}),
        ("IWM", "other/IWM_yf_2021-2026.csv", "yf_ohlcv_2026-06/IWM.csv", {"2026-03-17": 0.442}),
        ("IWM", "other/IWM_yf_2021-2026.csv", "yf_autoadj_2026-02/IWM.csv", {"2025-09-16": 0.677}),
    ],
)
def test_the_mirrors_faulty_captures_and_the_dividend_each_misses(
    data_dir: Path, ticker: str, reference: str, capture: str, missed: dict[str, float]
) -> None:
    ref = prices(data_dir, reference, ticker)
    paid = yahoo.implied_dividends(ref["close"], ref["adj_close"])
    paid = paid[paid > 0]
    assert len(paid) >= 20  # quarterly dividends over five years and more
    checked = prices(data_dir, capture, ticker)["close"]  # an auto-adjusted file's close
    got = yahoo.missed_dividends(checked, ref["close"], paid)
    assert {f"{d:%Y-%m-%d}": round(v, 3) for d, v in got["dividend"].items()} == missed
    assert (got["implied"].abs() < 1e-6).all()  # not adjusted at all for it
    # the reference carries each of its own dividends
    assert yahoo.missed_dividends(ref["adj_close"], ref["close"], paid).empty
