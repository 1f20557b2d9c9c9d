"""The live Yahoo path through yfinance's own code, against Yahoo's chart API served locally.

Nothing of yfinance is replaced: :func:`smallcaps.sources.yahoo.fetch` calls the real
``yfinance.download`` with a ``requests`` session whose transport sends every request (the
cookie from ``fc.yahoo.com``, the crumb, the time-zone probe, the chart) to a pytest-httpserver
on 127.0.0.1, keeping the original host as the first path segment. The server answers in the
chart API's JSON shape, built at test time from a mirror file, and honours ``range`` and
``period1``/``period2`` as Yahoo does, so a request for one month gets one month.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests
import yfinance
from pytest_httpserver import HTTPServer

from localweb import CRUMB, ZONE
from smallcaps.sources import yahoo

TIMEOUT = 10.0  # seconds for any one local request: a hang fails the test, never blocks it


def chart_queries(httpserver: HTTPServer, symbol: str) -> list[dict[str, str]]:
    path = f"/query2.finance.yahoo.com/v8/finance/chart/{symbol}"
    return [dict(req.args) for req, _ in httpserver.log if req.path == path]


AFTER_CLOSE = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # long after every mirrored bar


@pytest.mark.parametrize(
    ("name", "symbol"),
    [("yf_ohlcv_2026-06/IWM.csv", "IWM"), ("yahoo_classic_2026-05/SPY.csv", "SPY")],
)
def test_live_fetch_through_yfinance_stores_the_whole_history(
    data_dir: Path,
    httpserver: HTTPServer,
    local_yahoo: Callable[[yahoo.Prices, str], requests.Session],
    name: str,
    symbol: str,
) -> None:
    path = data_dir / "prices" / name
    mirror = yahoo.parse(path.read_bytes(), origin=path.name, ticker=symbol)
    session = local_yahoo(mirror, symbol)

    payload = yahoo.fetch(symbol, session=session, timeout=TIMEOUT, now=lambda: AFTER_CLOSE)

    # every request went to the local server, and each one was answered by a handler
    assert httpserver.log and not httpserver.assertions
    hosts = {req.path.split("/")[1] for req, _ in httpserver.log}
    assert hosts <= {"fc.yahoo.com", "query1.finance.yahoo.com", "query2.finance.yahoo.com"}
    history = [q for q in chart_queries(httpserver, symbol) if q.get("events")]
    assert len(history) == 1
    query = history[0]
    # the whole history, explicitly: period1 99 years back (yfinance's period="max"), not range
    assert "range" not in query and int(query["period1"]) < int(
        pd.Timestamp("1930-01-01").timestamp()
    )
    assert query["interval"] == "1d" and query["events"] == "div,splits,capitalGains"
    assert query["includePrePost"] == "False" and query["crumb"] == CRUMB

    stored = yahoo.parse(payload.data, origin=payload.url, ticker=symbol)
    assert len(stored.frame) == len(mirror.frame) > 1000  # thousands of rows, not ~21
    assert stored.frame.index.equals(mirror.frame.index)
    same = [c for c in mirror.frame.columns if not (mirror.adjusted and c == "adj_close")]
    if mirror.adjusted:  # an auto-adjusted file: its close was served as both closes
        np.testing.assert_array_equal(stored.frame["adj_close"], mirror.frame["close"])
    pd.testing.assert_frame_equal(stored.frame[same], mirror.frame[same], check_freq=False)
    tidy = yahoo.tidy(payload.data, origin=payload.url, ticker=symbol)
    assert len(tidy.series(f"price/{symbol}/close")) == len(mirror.frame)


def test_one_month_is_what_the_old_call_got(
    data_dir: Path,
    httpserver: HTTPServer,
    local_yahoo: Callable[[yahoo.Prices, str], requests.Session],
) -> None:
    """The bug, shown on the same server: yfinance.download without dates asks for range=1mo."""
    path = data_dir / "prices/yf_ohlcv_2026-06/IWM.csv"
    mirror = yahoo.parse(path.read_bytes(), origin=path.name, ticker="IWM")
    session = local_yahoo(mirror, "IWM")
    frame = yfinance.download(
        "IWM", auto_adjust=False, progress=False, threads=False, session=session, timeout=TIMEOUT
    )
    [query] = [q for q in chart_queries(httpserver, "IWM") if q.get("events")]
    assert query["range"] == "1mo" and "period1" not in query
    assert 15 <= len(frame) <= 23  # one month of trading days out of 6545


def test_partial_last_bar_from_yfinance_is_not_stored(
    data_dir: Path,
    local_yahoo: Callable[[yahoo.Prices, str], requests.Session],
) -> None:
    """Fetched at noon New York on the file's last day: that bar is intraday, so it is dropped."""
    path = data_dir / "prices/yahoo_classic_2026-05/SPY.csv"
    mirror = yahoo.parse(path.read_bytes(), origin=path.name, ticker="SPY")
    session = local_yahoo(mirror, "SPY")
    last = mirror.frame.index[-1]
    noon = (last + pd.Timedelta(hours=12)).tz_localize(ZONE).to_pydatetime()
    payload = yahoo.fetch("SPY", session=session, timeout=TIMEOUT, now=lambda: noon)
    stored = yahoo.parse(payload.data, origin=payload.url, ticker="SPY").frame
    assert stored.index.equals(mirror.frame.index[:-1])
    columns = list(mirror.frame.columns)
    pd.testing.assert_frame_equal(stored[columns], mirror.frame.iloc[:-1], check_freq=False)
