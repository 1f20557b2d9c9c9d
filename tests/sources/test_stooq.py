"""Stooq: fetch against a local server, parse a synthetic CSV (no Stooq file in the mirror)."""

from __future__ import annotations

import httpx
import numpy as np
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from smallcaps.errors import AuthError, ConfigError, FetchError, ParseError, RateLimitError
from smallcaps.sources import stooq, yahoo

# Stooq's daily download layout, written by hand (values made up, shaped like IWM in 2024).
CSV = (
    b"Date,Open,High,Low,Close,Volume\n"
    b"2024-01-02,198.1,199.5,196.2,197.45,31234567\n"
    b"2024-01-03,196.0,196.8,192.9,193.2,40123456\n"
    b"2024-01-04,193.5,195.1,192.4,192.85,29876543\n"
)
INDEX_CSV = b"Date,Open,High,Low,Close\r\n2024-01-02,4745.2,4754.33,4722.67,4742.83\r\n"
KEY_PAGE = (
    b"<!DOCTYPE html><html><head><title>Stooq</title></head><body>To download data get your "
    b"apikey: <a href='/q/d/?s=spy.us&get_apikey'>here</a></body></html>"
)
BOT_PAGE = b"<html><head><title>Checking your browser</title></head><body>...</body></html>"


@pytest.fixture
def client() -> httpx.Client:
    with httpx.Client(timeout=2) as c:
        yield c


def test_symbols() -> None:
    assert stooq.symbol("IWM") == "iwm.us" and stooq.symbol(" ^SPX ") == "^spx"
    assert stooq.symbol("tsco.uk") == "tsco.uk"


def test_parse_good_csv() -> None:
    prices = stooq.parse(CSV, origin="iwm.us.csv", ticker="iwm.us")
    assert isinstance(prices, yahoo.Prices) and prices.ticker == "IWM"
    assert prices.layout == "stooq" and prices.adjusted is None
    assert "does not document" in prices.notes[0]
    frame = prices.frame
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert frame.index[0] == pd.Timestamp("2024-01-02") and len(frame) == 3
    assert frame["close"].tolist() == [197.45, 193.2, 192.85]
    assert frame["volume"].iloc[-1] == 29876543.0

    index = stooq.parse(INDEX_CSV, origin="^spx.csv", ticker="^SPX")
    assert index.layout == "stooq_no_volume" and list(index.frame.columns)[-1] == "close"


def test_tidy_ids_and_meta() -> None:
    result = stooq.tidy(CSV, origin="iwm.us.csv", ticker="IWM")
    fields = ("open", "high", "low", "close", "volume")
    assert result.series_ids == [f"stooq/IWM/{f}" for f in fields]  # apart from Yahoo's
    close = result.meta["stooq/IWM/close"]
    assert close.source == "stooq" and close.adjusted is None and close.units == "USD"
    assert result.series("stooq/IWM/close").iloc[1] == 193.2


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (KEY_PAGE, r"HTML page titled 'Stooq'.*STOOQ_API_KEY"),
        (BOT_PAGE, r"HTML page titled 'Checking your browser'.*bot checks"),
        (b"No data", r"'No data': 'XYZ' is unknown to Stooq"),
        (b"Exceeded the daily hits limit", r"daily hits limit.*tomorrow"),
        (b"Date,Open,High,Low,Close,Volume\n", "no price rows"),
        (b"Data,Otwarcie,Najwyzszy,Najnizszy,Zamkniecie,Wolumen\n2024-01-02,1,1,1,1,1\n",
         r"line 1: unknown header.*stooq: Date,Open"),
        (CSV + b"2024-01-05,1,1,1,-2,5\n", r"line 5, field 'Close': non-positive"),
    ],
)  # fmt: skip
def test_parse_rejects_refusals_and_bad_files(body: bytes, needle: str) -> None:
    with pytest.raises(ParseError, match=needle) as info:
        stooq.parse(body, origin="xyz.us.csv", ticker="XYZ")
    assert str(info.value).startswith("xyz.us.csv")


# --- fetch against a local server -----------------------------------------------------------


def test_fetch_good_csv(httpserver: HTTPServer, client: httpx.Client) -> None:
    httpserver.expect_request(
        "/q/d/l/", query_string={"s": "iwm.us", "i": "d", "apikey": "SECRET"}
    ).respond_with_data(CSV, content_type="text/csv")
    payload = stooq.fetch("IWM", client=client, api_key="SECRET", url=httpserver.url_for("/q/d/l/"))
    assert payload.source == "stooq" and payload.data == CSV
    assert "SECRET" not in payload.url and "apikey=***" in payload.url
    prices = stooq.parse(payload.data, origin=payload.url, ticker="IWM")
    assert prices.frame["close"].iloc[0] == 197.45


def test_fetch_index_symbol_kept(httpserver: HTTPServer, client: httpx.Client) -> None:
    httpserver.expect_request(
        "/q/d/l/", query_string={"s": "^spx", "i": "d", "apikey": "K"}
    ).respond_with_data(INDEX_CSV)
    url = httpserver.url_for("/q/d/l/")
    payload = stooq.fetch("^SPX", client=client, api_key="K", url=url, sleep=lambda s: None)
    assert payload.data == INDEX_CSV and "s=%5Espx" in payload.url


def test_fetch_retries_500_then_succeeds(httpserver: HTTPServer, client: httpx.Client) -> None:
    httpserver.expect_ordered_request("/q/d/l/").respond_with_data("oops", status=500)
    httpserver.expect_ordered_request("/q/d/l/").respond_with_data(CSV)
    sleeps: list[float] = []
    payload = stooq.fetch(
        "IWM", client=client, api_key="K", url=httpserver.url_for("/q/d/l/"), sleep=sleeps.append
    )
    assert payload.data == CSV and sleeps == [1.0]


@pytest.mark.parametrize(
    ("status", "body", "error", "needle"),
    [
        (200, KEY_PAGE, AuthError, r"HTML page titled 'Stooq'.*set STOOQ_API_KEY"),
        (200, BOT_PAGE, FetchError, r"HTML page.*bot checks"),
        (200, b"No data", FetchError, r"'No data': 'zzzz.us' is unknown to Stooq"),
        (200, b"Exceeded the daily hits limit", RateLimitError, r"daily quota.*tomorrow"),
        (401, b"unauthorized", AuthError, "HTTP 401"),
        (500, b"oops", FetchError, "HTTP 500 after 2 attempts"),
    ],
)
def test_fetch_refusals(
    httpserver: HTTPServer,
    client: httpx.Client,
    status: int,
    body: bytes,
    error: type[Exception],
    needle: str,
) -> None:
    httpserver.expect_request("/q/d/l/").respond_with_data(body, status=status)
    url = httpserver.url_for("/q/d/l/")
    with pytest.raises(error, match=needle) as info:
        stooq.fetch("ZZZZ", client=client, api_key="K", url=url, retries=1, sleep=lambda s: None)
    assert "apikey=***" in str(info.value) and "Nothing in the store was changed" in str(info.value)
    assert type(info.value) is error


@pytest.mark.parametrize("key", [None, ""])
def test_fetch_without_key_names_the_variable(
    httpserver: HTTPServer, client: httpx.Client, key: str | None
) -> None:
    with pytest.raises(ConfigError, match=r"'iwm.us'.*set STOOQ_API_KEY"):
        stooq.fetch("IWM", client=client, api_key=key, url=httpserver.url_for("/q/d/l/"))
    assert httpserver.log == []  # nothing was sent


def test_stooq_and_yahoo_share_the_reader() -> None:
    """The same bars in Stooq's and yfinance's OHLCV layout parse to the same frame."""
    as_stooq = stooq.parse(CSV, origin="s", ticker="IWM").frame
    as_yahoo = yahoo.parse(CSV, origin="y", ticker="IWM")  # same header: yfinance OHLCV
    assert as_yahoo.layout == "yf_ohlcv" and as_yahoo.adjusted is True
    pd.testing.assert_frame_equal(as_stooq, as_yahoo.frame)
    assert np.isfinite(as_stooq.to_numpy()).all()
