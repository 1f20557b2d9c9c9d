"""The live Yahoo path through yfinance's own code, against Yahoo's chart API served locally.

Nothing of yfinance is replaced: :func:`smallcaps.sources.yahoo.fetch` calls the real
``yfinance.download`` with a ``requests`` session whose transport sends every request (the
cookie from ``fc.yahoo.com``, the crumb, the time-zone probe, the chart) to a pytest-httpserver
on 127.0.0.1, keeping the original host as the first path segment. The server answers in the
chart API's JSON shape, built at test time from a mirror file, and honours ``range`` and
``period1``/``period2`` as Yahoo does, so a request for one month gets one month.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest
import requests
import yfinance
from pytest_httpserver import HTTPServer
from requests.adapters import HTTPAdapter
from werkzeug import Request, Response
from yfinance import cache as yf_cache
from yfinance.data import YfData

from smallcaps.sources import yahoo

ZONE = "America/New_York"
CRUMB = "local-crumb"
TIMEOUT = 10.0  # seconds for any one local request: a hang fails the test, never blocks it


class ToLocal(HTTPAdapter):
    """Sends ``https://<host>/<path>?<query>`` to ``<base>/<host>/<path>?<query>``."""

    def __init__(self, base: str) -> None:
        super().__init__(max_retries=0)
        self.base = base

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        query = f"?{parts.query}" if parts.query else ""
        request.url = f"{self.base}/{parts.hostname}{parts.path or '/'}{query}"
        kwargs["timeout"] = TIMEOUT
        kwargs["proxies"] = {}
        return super().send(request, **kwargs)


def chart(prices: yahoo.Prices, symbol: str) -> tuple[np.ndarray, dict[str, Any]]:
    """Epoch seconds of each bar (09:30 New York, as Yahoo stamps daily bars) and the rest."""
    frame = prices.frame
    opens = (frame.index + pd.Timedelta(hours=9, minutes=30)).tz_localize(ZONE)
    stamps = (opens.tz_convert("UTC").asi8 // 10**9).astype(np.int64)
    close = frame["close"].to_numpy()
    adj = frame["adj_close"].to_numpy() if "adj_close" in frame else close
    factor = adj / close
    steps = np.flatnonzero(np.abs(np.diff(factor)) > 1e-7) + 1  # ex-dividend rows
    dividends = {
        str(stamps[i]): {
            "amount": float(close[i - 1] * (1 - factor[i - 1] / factor[i])),
            "date": int(stamps[i]),
        }
        for i in steps
    }
    last = int(stamps[-1])
    period = {"timezone": "EDT", "start": last, "end": last + 23400, "gmtoffset": -14400}
    meta = {
        "currency": "USD", "symbol": symbol, "exchangeName": "PCX", "fullExchangeName": "NYSEArca",
        "instrumentType": "ETF", "firstTradeDate": int(stamps[0]), "regularMarketTime": last,
        "hasPrePostMarketData": True, "gmtoffset": -14400, "timezone": "EDT",
        "exchangeTimezoneName": ZONE, "regularMarketPrice": float(close[-1]),
        "chartPreviousClose": float(close[0]), "priceHint": 2, "dataGranularity": "1d",
        "currentTradingPeriod": {"pre": period, "regular": period, "post": period},
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }  # fmt: skip

    def column(name: str) -> list[float | None]:
        values = frame[name].to_numpy() if name in frame else close
        return [None if np.isnan(v) else float(v) for v in values]

    body = {
        "meta": meta,
        "events": {"dividends": dividends},
        "quote": {f: column(f) for f in ("open", "high", "low", "close")}
        | {"volume": [None if np.isnan(v) else int(v) for v in frame["volume"].to_numpy()]},
        "adjclose": [None if np.isnan(v) else float(v) for v in adj],
    }
    return stamps, body


def answer(stamps: np.ndarray, body: dict[str, Any], args: dict[str, str]) -> dict[str, Any]:
    """The chart JSON for the rows the query selects: ``range`` or ``period1``/``period2``."""
    if "period1" in args or "period2" in args:
        lo, hi = int(args.get("period1", -(2**62))), int(args.get("period2", 2**62))
        rows = np.flatnonzero((stamps >= lo) & (stamps < hi))
    else:
        span = args.get("range", "1mo")
        first = pd.Timestamp(int(stamps[-1]), unit="s")
        if span == "max":
            since = pd.Timestamp.min
        elif span == "1d":
            since = first
        else:  # 5d, 1mo, ... as Yahoo counts them: back from the last bar
            offsets = {"5d": pd.Timedelta(days=5), "1mo": pd.DateOffset(months=1)}
            offsets |= {"3mo": pd.DateOffset(months=3), "1y": pd.DateOffset(years=1)}
            since = first - offsets[span]
        rows = np.flatnonzero(pd.to_datetime(stamps, unit="s") >= since)
    picked = {str(stamps[i]) for i in rows}
    quote = {k: [v[i] for i in rows] for k, v in body["quote"].items()}
    result = {
        "meta": body["meta"] | {"range": args.get("range", "")},
        "timestamp": [int(stamps[i]) for i in rows],
        "events": {
            "dividends": {k: v for k, v in body["events"]["dividends"].items() if k in picked}
        },
        "indicators": {
            "quote": [quote],
            "adjclose": [{"adjclose": [body["adjclose"][i] for i in rows]}],
        },
    }
    return {"chart": {"result": [result], "error": None}}


@pytest.fixture
def local_yahoo(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[yahoo.Prices, str], requests.Session]]:
    """``serve(prices, symbol) -> session``: yfinance's whole traffic goes to the local server.

    yfinance's caches (time zones, cookies) go to ``tmp_path``; its process-wide session and
    cookie state are put back afterwards.
    """
    state = YfData()
    for name in ("_session", "_crumb", "_cookie", "_cookie_strategy"):
        monkeypatch.setattr(state, name, getattr(state, name))
    before = yf_cache._TzDBManager.get_location()
    yfinance.set_tz_cache_location(str(tmp_path / "yfinance"))
    httpserver.expect_request("/fc.yahoo.com/").respond_with_data("", status=200)
    for host in ("query1.finance.yahoo.com", "query2.finance.yahoo.com"):
        httpserver.expect_request(f"/{host}/v1/test/getcrumb").respond_with_data(CRUMB)

    def serve(prices: yahoo.Prices, symbol: str) -> requests.Session:
        stamps, body = chart(prices, symbol)

        def handle(request: Request) -> Response:
            reply = answer(stamps, body, dict(request.args))
            return Response(json.dumps(reply), content_type="application/json")

        for host in ("query1.finance.yahoo.com", "query2.finance.yahoo.com"):
            path = f"/{host}/v8/finance/chart/{symbol}"
            httpserver.expect_request(path).respond_with_handler(handle)
        session = requests.Session()
        session.trust_env = False  # no proxy from the environment, ever
        adapter = ToLocal(httpserver.url_for("").rstrip("/"))
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    yield serve
    yfinance.set_tz_cache_location(before)


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
    pd.testing.assert_frame_equal(stored, mirror.frame.iloc[:-1], check_freq=False)
