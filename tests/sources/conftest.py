"""Fixtures of the source tests: Yahoo's chart API on 127.0.0.1, reached by yfinance itself."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import yfinance
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response
from yfinance import cache as yf_cache
from yfinance.data import YfData

from localweb import CRUMB, answer, chart
from smallcaps.sources import yahoo

TIMEOUT = 10.0  # seconds for any one local request: a hang fails the test, never blocks it


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
        session: requests.Session = yahoo.redirected_session(
            httpserver.url_for("").rstrip("/"), timeout=TIMEOUT
        )
        return session

    yield serve
    yfinance.set_tz_cache_location(before)
