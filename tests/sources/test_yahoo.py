"""Yahoo/yfinance prices: every mirrored layout, cross-file checks, faults, round trips."""

from __future__ import annotations

import inspect
import logging
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yfinance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yfinance.exceptions import YFRateLimitError

from smallcaps.errors import FetchError, ParseError, RateLimitError
from smallcaps.sources import yahoo
from smallcaps.sources.base import Payload

# Read from the files with sed (first and last data line, Close column) and wc -l (rows).
# path: layout, close adjusted, rows, first date, first close, last date, last close
KNOWN = {
    "other/GOOG_yf_2021-2026.csv": ("yf_auto_adjust_false", False, 1262,
        "2021-05-12", 111.9540023803711, "2026-05-20", 384.8999938964844),
    "other/IWM_yf_2021-2026.csv": ("yf_auto_adjust_false", False, 1262,
        "2021-05-12", 211.85000610351562, "2026-05-20", 279.8699951171875),
    "other/RSP_yf_multiheader.csv": ("yf_multiindex", False, 5802,
        "2003-05-01", 25.4950008392334, "2026-05-21", 203.22000122070312),
    "other/^GSPC_yahoo_2019.csv": ("yahoo_classic", False, 17470,
        "1950-01-03", 16.66, "2019-06-07", 2873.34009),
    "other/^RUT_yahoo_2019.csv": ("yahoo_classic", False, 8000,
        "1987-09-10", 168.97, "2019-06-07", 1514.39001),
    "yahoo_classic_2026-05/AAPL.csv": ("yahoo_classic", False, 1760,
        "2019-05-16", 47.52000045776367, "2026-05-15", 300.2300109863281),
    "yahoo_classic_2026-05/AMZN.csv": ("yahoo_classic", False, 1760,
        "2019-05-16", 95.37850189208984, "2026-05-15", 264.1400146484375),
    "yahoo_classic_2026-05/GOOGL.csv": ("yahoo_classic", False, 1760,
        "2019-05-16", 59.224998474121094, "2026-05-15", 396.7799987792969),
    "yahoo_classic_2026-05/META.csv": ("yahoo_classic", False, 1760,
        "2019-05-16", 186.99000549316406, "2026-05-15", 614.22998046875),
    "yahoo_classic_2026-05/MSFT.csv": ("yahoo_classic", False, 1760,
        "2019-05-16", 128.92999267578125, "2026-05-15", 421.9200134277344),
    "yahoo_classic_2026-05/NVDA.csv": ("yahoo_classic", False, 1760,
        "2019-05-16", 4.004749774932861, "2026-05-15", 225.32000732421875),
    "yahoo_classic_2026-05/QQQ.csv": ("yahoo_classic", False, 1760,
        "2019-05-16", 184.92999267578125, "2026-05-15", 708.9299926757812),
    "yahoo_classic_2026-05/SPY.csv": ("yahoo_classic", False, 1760,
        "2019-05-16", 287.70001220703125, "2026-05-15", 739.1699829101562),
    "yahoo_classic_2026-05/TSLA.csv": ("yahoo_classic", False, 1760,
        "2019-05-16", 15.222000122070312, "2026-05-15", 422.239990234375),
    "yf_autoadj_2026-02/IWM.csv": ("yf_auto_adjust", True, 6473,
        "2000-05-26", 32.929141998291016, "2026-02-23", 260.510009765625),
    "yf_autoadj_2026-02/QQQ.csv": ("yf_auto_adjust", True, 6781,
        "1999-03-10", 43.234283447265625, "2026-02-23", 601.4099731445312),
    "yf_autoadj_2026-02/RTY=F.csv": ("yf_auto_adjust", True, 2173,
        "2017-07-10", 1408.699951171875, "2026-02-23", 2628.5),
    "yf_autoadj_2026-02/SPY.csv": ("yf_auto_adjust", True, 8323,
        "1993-01-29", 24.380447387695312, "2026-02-23", 682.3900146484375),
    "yf_autoadj_2026-02/^RUT.csv": ("yf_auto_adjust", True, 9686,
        "1987-09-10", 168.97000122070312, "2026-02-23", 2620.988525390625),
    "yf_ohlcv_2026-06/IWM.csv": ("yf_ohlcv", True, 6545,
        "2000-05-26", 32.726261138916016, "2026-06-05", 281.6499938964844),
    "yf_ohlcv_2026-06/QQQ.csv": ("yf_ohlcv", True, 6853,
        "1999-03-10", 43.12864303588867, "2026-06-05", 705.0599975585938),
    "yf_ohlcv_2026-06/RSP.csv": ("yf_ohlcv", True, 5746,
        "2003-05-01", 17.98339080810547, "2026-03-03", 202.0800018310547),
    "yf_ohlcv_2026-06/SPY.csv": ("yf_ohlcv", True, 8395,
        "1993-01-29", 24.24138641357422, "2026-06-05", 737.5499877929688),
}  # fmt: skip
WITH_ADJ_CLOSE = {"yahoo_classic", "yf_auto_adjust_false", "yf_multiindex"}
_CACHE: dict[str, yahoo.Prices] = {}


def load(data_dir: Path, name: str, ticker: str | None = None) -> yahoo.Prices:
    """Parse a mirrored price file once per session (the cross-file tests reuse them)."""
    key = f"{name}:{ticker}"
    if key not in _CACHE:
        path = data_dir / "prices" / name
        _CACHE[key] = yahoo.parse(path.read_bytes(), origin=path.name, ticker=ticker)
    return _CACHE[key]


# --- every real file ------------------------------------------------------------------------


def test_every_mirrored_price_file_is_covered(data_dir: Path) -> None:
    found = {p.relative_to(data_dir / "prices").as_posix() for p in data_dir.glob("prices/*/*")}
    assert found == set(KNOWN)


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_price_file_known_values(data_dir: Path, name: str) -> None:
    layout, adjusted, rows, first, first_close, last, last_close = KNOWN[name]
    prices = load(data_dir, name)
    frame = prices.frame
    assert (prices.layout, prices.adjusted, len(frame)) == (layout, adjusted, rows)
    assert frame.index[0] == pd.Timestamp(first) and frame.index[-1] == pd.Timestamp(last)
    assert frame["close"].iloc[0] == first_close and frame["close"].iloc[-1] == last_close
    fields = ["open", "high", "low", "close", "adj_close", "volume"]
    expected = fields if layout in WITH_ADJ_CLOSE else [f for f in fields if f != "adj_close"]
    assert list(frame.columns) == expected
    assert (frame.dtypes == "float64").all() and frame.index.name == "date"
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert not frame["close"].isna().any() and (frame["close"] > 0).all()
    assert prices.notes[0].startswith(("Yahoo's classic", "yfinance"))
    says = "yfinance's default (auto_adjust=True)" if adjusted else "not dividend-adjusted"
    assert says in prices.notes[0]  # the note says what close is, and why


def test_classic_aapl_close_and_adj_close(data_dir: Path) -> None:
    frame = load(data_dir, "yahoo_classic_2026-05/AAPL.csv").frame
    assert frame["adj_close"].iloc[0] == 45.467559814453125  # line 2 of the file
    differ = ~np.isclose(frame["close"], frame["adj_close"], rtol=1e-9)
    assert differ.sum() == 1755  # dividends paid after the first 1755 days
    assert not differ[-5:].any()  # no dividend in the last 5 days
    ratio = frame["adj_close"] / frame["close"]
    assert ratio.iloc[0] == pytest.approx(0.956809, abs=1e-6)
    assert (np.diff(ratio) > -1e-6).all()  # rises at each dividend, flat otherwise (float32)


def test_multiindex_header_gives_the_ticker(data_dir: Path) -> None:
    prices = load(data_dir, "other/RSP_yf_multiheader.csv")
    assert prices.ticker == "RSP" and prices.layout == "yf_multiindex"
    assert prices.frame["adj_close"].iloc[0] == 17.90673065185547
    data = (data_dir / "prices/other/RSP_yf_multiheader.csv").read_bytes()
    assert yahoo.parse(data, origin="RSP.csv", ticker="rsp").ticker == "RSP"
    with pytest.raises(ParseError, match=r"RSP.csv, line 2: .*'RSP' but 'IWM'"):
        yahoo.parse(data, origin="RSP.csv", ticker="IWM")


def test_rut_partial_last_bar_is_flagged_not_dropped(data_dir: Path) -> None:
    prices = load(data_dir, "yf_autoadj_2026-02/^RUT.csv", ticker="^RUT")
    assert prices.frame["volume"].iloc[-1] == 0 and prices.frame["volume"].iloc[-2] == 5432480000
    assert any("last bar 2026-02-23 has volume 0" in n for n in prices.notes)
    others = load(data_dir, "yf_ohlcv_2026-06/IWM.csv")  # last volume 35403374
    assert not any("volume 0" in n for n in others.notes)


def test_tidy_series_ids_units_and_adjusted_flags(data_dir: Path) -> None:
    path = data_dir / "prices/yahoo_classic_2026-05/AAPL.csv"
    result = yahoo.tidy(path.read_bytes(), origin=path.name, ticker="aapl")
    fields = ["open", "high", "low", "close", "adj_close", "volume"]
    assert result.series_ids == [f"price/AAPL/{f}" for f in fields]
    assert len(result.frame) == 6 * 1760
    meta = result.meta
    assert [meta[f"price/AAPL/{f}"].adjusted for f in fields] == [False] * 4 + [True, None]
    assert meta["price/AAPL/close"].units == "USD" and meta["price/AAPL/volume"].units == "shares"
    assert {m.frequency for m in meta.values()} == {"D"}
    assert "not dividend-adjusted" in meta["price/AAPL/close"].notes
    close = result.series("price/AAPL/close")
    assert close.index[-1] == pd.Timestamp("2026-05-15") and close.iloc[-1] == 300.2300109863281

    rut = data_dir / "prices/yf_autoadj_2026-02/^RUT.csv"
    meta = yahoo.tidy(rut.read_bytes(), origin=rut.name, ticker="^RUT").meta
    # an auto-adjusted layout stores its OHLC under adj_* ids: "close" always means the traded one
    assert list(meta) == [
        f"price/^RUT/{f}" for f in ("adj_open", "adj_high", "adj_low", "adj_close", "volume")
    ]
    adj = meta["price/^RUT/adj_close"]
    assert adj.units == "index points" and adj.adjusted
    assert "volume 0" in adj.notes
    assert "price/^RUT/close" not in meta


# --- the same instrument in several files ---------------------------------------------------


def test_iwm_three_files_adjusted_as_of_different_days(data_dir: Path) -> None:
    """How the three IWM files relate (what was found, asserted so a new mirror re-checks it).

    * ``other/IWM_yf_2021-2026`` (auto_adjust=False, saved 2026-05-20) is consistent: Adj Close
      / Close steps only on IWM's quarterly ex-dividend days, last on 2026-03-17 ($0.442).
    * ``yf_ohlcv_2026-06`` equals that Adj Close times 1/0.998224 before 2026-03-17 and the raw
      close after: adjusted before the March 2026 dividend, then appended to without re-adjusting.
    * ``yf_autoadj_2026-02`` is a patchwork: its "adjusted" close is the raw close from
      2025-06-16 to 2025-11-14, so its ratio to a proper adjusted close jumps off dividend days.
    """
    ohlcv = load(data_dir, "yf_ohlcv_2026-06/IWM.csv").frame["close"]
    autoadj = load(data_dir, "yf_autoadj_2026-02/IWM.csv").frame["close"]
    raw = load(data_dir, "other/IWM_yf_2021-2026.csv").frame

    factor = raw["adj_close"] / raw["close"]
    steps = factor.index[1:][np.abs(np.diff(factor.to_numpy())) > 1e-6]
    assert len(steps) == 20 and steps[0] == pd.Timestamp("2021-06-10")
    assert steps[-1] == pd.Timestamp("2026-03-17") and factor.iloc[-1] == 1.0
    assert {d.month for d in steps} == {3, 6, 9, 12}  # quarterly distributions
    dividend = raw["close"]["2026-03-16"] * (1 - factor["2026-03-16"])
    assert dividend == pytest.approx(0.442, abs=1e-3)

    ratio = (ohlcv / raw["adj_close"]).dropna()
    before, after = ratio[:"2026-03-16"], ratio["2026-03-17":]
    assert len(before) + len(after) == 1262
    assert before.min() == pytest.approx(1 / factor["2026-03-16"], rel=1e-6)
    assert before.max() / before.min() - 1 < 1e-6 and np.allclose(after, 1.0, rtol=1e-9)

    # the two adjusted files: constant ratio (both adjusted, as of different days) to mid 2025
    both = (ohlcv / autoadj)[:"2025-06-13"].dropna()
    assert len(both) == 6300 and both.max() / both.min() - 1 < 4e-6
    assert both.mean() == pytest.approx(0.993839, abs=1e-6)

    # ... but the 2026-02 file's close is unadjusted between 2025-06-16 and 2025-11-14
    window = (autoadj / raw["close"])["2025-06-16":"2025-11-14"].dropna()
    assert len(window) == 107 and (np.abs(window - 1) < 2e-4).all()
    drift = (autoadj / raw["adj_close"])["2025-09-16":"2025-12-15"].dropna()
    assert drift.max() / drift.min() - 1 > 1e-3  # not constant between two ex-dividend days


def test_rut_index_vintages_agree_on_close_not_on_volume(data_dir: Path) -> None:
    old = load(data_dir, "other/^RUT_yahoo_2019.csv").frame
    new = load(data_dir, "yf_autoadj_2026-02/^RUT.csv", ticker="^RUT").frame
    both = old.add_suffix("_2019").join(new, how="inner")
    assert len(both) == 8000  # every 2019 day is in the 2026 file
    assert (both["close"] - both["close_2019"]).abs().max() < 1e-4  # an index has no dividends
    assert (both["volume"] / both["volume_2019"]).median() == 100.0  # Yahoo rescaled volume


# --- validation -----------------------------------------------------------------------------

GOOD = b"Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,1,2,0.5,1.5,1.4,100\n"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"<!DOCTYPE html><html><title>Yahoo</title></html>", "HTML page titled 'Yahoo'"),
        (b"", "empty file"),
        (b"  \n", "empty file"),
        (b"Date,Open,High,Low,Close,Adj Close,Volume\n", "no price rows"),
        (b"Date,Close\n2024-01-02,1\n", r"line 1: unknown header 'Date,Close'.*yahoo_classic"),
        (GOOD + b"2024-01-03,1,2,0.5,1.x,1.4,100\n", r"line 3, field 'Close': .*'1.x'"),
        (GOOD + b"2024-13-03,1,2,0.5,1.5,1.4,100\n", r"line 3, field 'Date': .*'2024-13-03'"),
        (GOOD + b"01/03/2024,1,2,0.5,1.5,1.4,100\n", r"line 3, field 'Date'"),
        (GOOD + b"2024-01-02,1,2,0.5,1.5,1.4,100\n", r"line 3, field 'Date': duplicate.*line 2"),
        (GOOD + b"2024-01-01,1,2,0.5,1.5,1.4,100\n", r"line 3, field 'Date': dates go back"),
        (GOOD + b"2024-01-03,1,2,0.5,0,1.4,100\n", r"line 3, field 'Close': non-positive"),
        (GOOD + b"2024-01-03,1,2,0.5,1,-1.4,100\n", r"line 3, field 'Adj Close': non-pos"),
        (GOOD + b"2024-01-03,1,2,0.5,1,1.4,-5\n", r"line 3, field 'Volume': negative"),
        (GOOD + b"2024-01-03,1,2,0.5,1,1.4,5,7\n", r"line 3: wrong number of fields"),
        (GOOD + b"2024-01-03,1,2,0.5\n", r"line 3: line has 4 fields, expected 7"),
        (GOOD + b"2024-01-03,1,2,0.5,1,inf,5\n", r"line 3, field 'Adj Close'"),
    ],
)
def test_bad_bytes_raise_parse_error_naming_where(body: bytes, needle: str) -> None:
    with pytest.raises(ParseError, match=needle) as info:
        yahoo.parse(body, origin="IWM.csv")
    assert str(info.value).startswith("IWM.csv")


def test_missing_markers_blank_lines_crlf_bom_and_times() -> None:
    text = (
        "\ufeffDate,Close,High,Low,Open,Volume\r\n"
        "2024-01-02 00:00:00-05:00,10,11,9,null,100\r\n"
        "\r\n"
        "2024-01-03T00:00:00Z,10.5,,9.5,10,\r\n"
        "2024-01-04,11,12,10,10.5,0\r\n"
        "\r\n"
    )
    prices = yahoo.parse(text.encode(), origin="x.csv", ticker="IWM")
    frame = prices.frame
    assert list(frame.index) == list(pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]))
    assert np.isnan(frame["open"].iloc[0]) and np.isnan(frame["high"].iloc[1])
    assert np.isnan(frame["volume"].iloc[1]) and frame["close"].tolist() == [10, 10.5, 11]
    assert any("times or time zones" in n for n in prices.notes)
    assert any("last bar 2024-01-04 has volume 0" in n for n in prices.notes)


def test_comma_only_line_is_an_unreadable_date() -> None:
    with pytest.raises(ParseError, match=r"line 3, field 'Date': cannot read ''"):
        yahoo.parse(GOOD + b",,,,,,\n", origin="x.csv")


# --- fetch ----------------------------------------------------------------------------------


def yf_frame(n: int = 3, *, tz: str | None = None) -> pd.DataFrame:
    """What yfinance.download(auto_adjust=False, multi_level_index=False) returns."""
    index = pd.date_range("2024-01-02", periods=n, freq="B", tz=tz, name="Date")
    close = np.linspace(100.0, 101.0, n)
    return pd.DataFrame(
        {
            "Adj Close": close * 0.99,
            "Close": close,
            "High": close + 1,
            "Low": close - 1,
            "Open": close + 0.25,
            "Volume": np.arange(n, dtype="int64") * 1000 + 5,
        },
        index=index,
    )


def bars_of(frame: pd.DataFrame) -> pd.DataFrame:
    """The bar frame parse() should give back for yf_frame()."""
    index = pd.DatetimeIndex(frame.index.tz_localize(None) if frame.index.tz else frame.index)
    out = pd.DataFrame(
        {yahoo.FIELDS[c]: frame[c].to_numpy(dtype=float) for c in yahoo.FIELDS if c in frame},
        index=pd.DatetimeIndex(index.normalize(), name="date").as_unit("ns"),
    )
    if "dividends" not in out:  # yfinance without actions: no dividend column, none paid
        out["dividends"] = 0.0
    return out


# yfinance.download arguments that change the numbers or their dates, with the values we need
MEANING = {
    "interval": "1d",
    "auto_adjust": False,
    "back_adjust": False,
    "actions": True,  # the dividends, stored as their own series
    "repair": False,
    "keepna": False,
    "rounding": False,
    "prepost": False,
    "ignore_tz": False,
    "multi_level_index": False,
}


class FakeDownload:
    """Raises or logs the given outcomes in turn, then returns the frame; records calls."""

    def __init__(self, frame: pd.DataFrame | None, *outcomes: BaseException | str) -> None:
        self.frame, self.outcomes, self.calls = frame, list(outcomes), []

    def __call__(self, tickers: str, **kwargs: object) -> pd.DataFrame | None:
        self.calls.append((tickers, kwargs))
        if self.outcomes:
            outcome = self.outcomes.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
            logging.getLogger("yfinance").error(outcome)  # what download() does with errors
            return pd.DataFrame()
        return self.frame


def test_fetch_round_trip_and_call() -> None:
    frame = yf_frame(5)
    fake, sleeps = FakeDownload(frame), []
    payload = yahoo.fetch("iwm", start="2024-01-01", download=fake, sleep=sleeps.append)
    assert isinstance(payload, Payload) and payload.source == "yahoo" and sleeps == []
    assert "ticker=IWM" in payload.url and "auto_adjust=False" in payload.url
    head = b"Date,Open,High,Low,Close,Adj Close,Volume,Dividends\n2024-01-02,"
    assert payload.data.startswith(head)
    [(symbol, kwargs)] = fake.calls
    assert symbol == "IWM" and kwargs["start"] == "2024-01-01" and kwargs["period"] is None
    assert "session" not in kwargs  # yfinance's own session unless one is given
    # every argument that changes what the numbers mean is explicit: a new default cannot bite
    assert set(kwargs) <= set(inspect.signature(yfinance.download).parameters)
    assert {k: kwargs[k] for k in MEANING} == MEANING
    prices = yahoo.parse(payload.data, origin=payload.url, ticker="IWM")
    assert prices.layout == "yahoo_actions" and prices.adjusted is False
    pd.testing.assert_frame_equal(prices.frame, bars_of(frame), check_freq=False)


def test_fetch_without_start_asks_for_the_whole_history() -> None:
    """Since yfinance 0.2.64 no start and no end means one month: ask for period="max"."""
    fake = FakeDownload(yf_frame(3))
    payload = yahoo.fetch("IWM", download=fake, sleep=lambda s: None)
    kwargs = fake.calls[0][1]
    assert (kwargs["start"], kwargs["end"], kwargs["period"]) == (None, None, "max")
    assert "period=max" in payload.url and "repair=False" in payload.url
    assert {k: kwargs[k] for k in MEANING} == MEANING


def test_fetch_multiindex_columns_and_time_zones() -> None:
    frame = yf_frame(4, tz="America/New_York")
    wide = pd.concat({"IWM": frame}, axis=1, names=["Ticker", "Price"]).swaplevel(0, 1, axis=1)
    payload = yahoo.fetch("IWM", download=FakeDownload(wide), sleep=lambda s: None)
    parsed = yahoo.parse(payload.data, origin=payload.url).frame
    pd.testing.assert_frame_equal(parsed, bars_of(frame), check_freq=False)
    assert parsed.index[0] == pd.Timestamp("2024-01-02")  # the trading day, not UTC

    two = pd.concat({"IWM": frame, "SPY": frame}, axis=1)
    with pytest.raises(FetchError, match=r"\['IWM', 'SPY'\], expected 'IWM' alone"):
        yahoo.fetch("IWM", download=FakeDownload(two), sleep=lambda s: None)


def test_fetch_retries_rate_limit_then_succeeds() -> None:
    fake, sleeps = FakeDownload(yf_frame(), YFRateLimitError(), YFRateLimitError()), []
    payload = yahoo.fetch("IWM", download=fake, sleep=sleeps.append)
    assert sleeps == [2.0, 4.0] and len(fake.calls) == 3
    assert yahoo.parse(payload.data, origin="x").frame["close"].iloc[0] == 100.0


def test_fetch_logged_rate_limit_is_retried_too() -> None:
    """yfinance.download swallows YFRateLimitError: an empty frame and a log line say it."""
    logged = "['IWM']: YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"
    fake, sleeps = FakeDownload(yf_frame(), logged), []
    handlers = list(logging.getLogger("yfinance").handlers)
    yahoo.fetch("IWM", download=fake, sleep=sleeps.append, backoff=1.0)
    assert sleeps == [1.0] and logging.getLogger("yfinance").handlers == handlers


def test_fetch_uses_yfinance_download_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    import yfinance

    fake = FakeDownload(yf_frame(2))
    monkeypatch.setattr(yfinance, "download", fake)
    payload = yahoo.fetch("^rut", end="2024-02-01")
    assert fake.calls[0][0] == "^RUT" and fake.calls[0][1]["end"] == "2024-02-01"
    assert yahoo.parse(payload.data, origin=payload.url).frame.shape == (2, 7)  # and dividends


def test_fetch_rate_limit_outlasting_retries_is_a_rate_limit_error() -> None:
    fake, sleeps = FakeDownload(None, *[YFRateLimitError() for _ in range(4)]), []
    with pytest.raises(RateLimitError, match=r"yfinance.*IWM.*still rate limiting.*wait") as info:
        yahoo.fetch("IWM", download=fake, sleep=sleeps.append)
    assert sleeps == [2.0, 4.0, 8.0] and info.value.status == 429
    assert str(info.value).endswith("Nothing in the store was changed.")


@pytest.mark.parametrize(
    ("result", "needle"),
    [
        (pd.DataFrame(), r"no prices for 'XXXX'.*finance.yahoo.com"),
        (None, r"no prices for 'XXXX'"),
        (yf_frame().assign(Close=np.nan), r"no prices for 'XXXX'"),
        (yf_frame().drop(columns="Adj Close"), r"missing \['Adj Close'\]"),
    ],
)
def test_fetch_empty_or_wrong_frame_names_the_ticker(
    result: pd.DataFrame | None, needle: str
) -> None:
    with pytest.raises(FetchError, match=needle):
        yahoo.fetch("XXXX", download=FakeDownload(result), sleep=lambda s: None)


def test_fetch_reports_what_yfinance_logged_and_other_failures() -> None:
    said = "['XXXX']: YFPricesMissingError('possibly delisted; no price data found')"
    with pytest.raises(FetchError, match=r"'XXXX' \(yfinance said: .*possibly delisted"):
        yahoo.fetch("XXXX", download=FakeDownload(None, said), sleep=lambda s: None)
    boom = FakeDownload(None, ConnectionError("DNS failure"))
    with pytest.raises(FetchError, match=r"yfinance failed for 'XXXX': ConnectionError: DNS"):
        yahoo.fetch("XXXX", download=boom, sleep=lambda s: None)


# --- round trips ----------------------------------------------------------------------------

LAYOUT_NAMES = [*yahoo.LAYOUTS, yahoo.MULTIINDEX]
price = st.floats(min_value=1e-4, max_value=1e7, allow_nan=False, allow_infinity=False)


@st.composite
def bar_frames(draw: st.DrawFn, adj_close: bool) -> pd.DataFrame:
    days = draw(st.lists(st.integers(0, 30000), min_size=1, max_size=25, unique=True))
    n = len(days)
    index = pd.DatetimeIndex(
        pd.Timestamp("1950-01-03") + pd.to_timedelta(sorted(days), unit="D"), name="date"
    ).as_unit("ns")
    columns = ["open", "high", "low", "close", *(["adj_close"] if adj_close else []), "volume"]
    data = {c: draw(st.lists(price, min_size=n, max_size=n)) for c in columns[:-1]}
    data["open"] = [draw(st.sampled_from([v, np.nan])) for v in data["open"]]  # missing cells
    data["volume"] = draw(st.lists(st.integers(0, 10**12).map(float), min_size=n, max_size=n))
    return pd.DataFrame(data, index=index)[columns]


@pytest.mark.parametrize("layout", LAYOUT_NAMES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), crlf=st.booleans())
def test_any_frame_survives_each_layout(layout: str, data: st.DataObject, crlf: bool) -> None:
    with_adj = yahoo.LAYOUTS[layout].adjusted is False if layout in yahoo.LAYOUTS else None
    if with_adj is None:
        with_adj = data.draw(st.booleans())
    frame = data.draw(bar_frames(adj_close=with_adj))
    if layout == "yahoo_actions":  # the live layout also has each day's dividend
        cash = st.sampled_from([0.0, 0.0, 0.25, 1.7969971])
        frame["dividends"] = data.draw(st.lists(cash, min_size=len(frame), max_size=len(frame)))
    body = yahoo.to_csv(frame, layout=layout, ticker="IWM", lineterminator="\r\n" if crlf else "\n")
    prices = yahoo.parse(body, origin="x.csv", ticker="IWM")
    assert prices.layout == layout and prices.adjusted is not with_adj
    pd.testing.assert_frame_equal(prices.frame, frame)


# --- the partial last bar -------------------------------------------------------------------


def at(stamp: str, zone: str) -> datetime:
    return pd.Timestamp(stamp).tz_localize(zone).to_pydatetime()


@pytest.mark.parametrize(
    ("now", "zone", "kept"),
    [
        (at("2024-01-04 12:00", "America/New_York"), "America/New_York", 2),  # session open
        (at("2024-01-04 17:59", "America/New_York"), "America/New_York", 2),
        (at("2024-01-04 18:00", "America/New_York"), "America/New_York", 3),  # settled
        (at("2024-01-05 09:00", "America/New_York"), "America/New_York", 3),  # next morning
        # 22:00 in London is 17:00 in New York: a US bar dated that day is still partial ...
        (at("2024-01-04 22:00", "Europe/London"), "America/New_York", 2),
        # ... while 23:00 UTC on 2024-01-04 is already 2024-01-05 in Tokyo: that bar is final
        (at("2024-01-04 23:00", "UTC"), "Asia/Tokyo", 3),
        (at("2024-01-04 12:00", "America/New_York"), None, 2),  # no zone: New York's
    ],
)
def test_fetch_drops_a_bar_dated_the_fetch_day_before_the_close(
    now: datetime, zone: str | None, kept: int
) -> None:
    frame = yf_frame(3, tz=zone)  # 2024-01-02 .. 2024-01-04
    payload = yahoo.fetch(
        "IWM", download=FakeDownload(frame), sleep=lambda s: None, now=lambda: now
    )
    stored = yahoo.parse(payload.data, origin=payload.url).frame
    pd.testing.assert_frame_equal(stored, bars_of(frame).iloc[:kept], check_freq=False)


def test_fetch_drops_a_last_bar_with_volume_0_after_trading_days() -> None:
    later = at("2025-01-01 12:00", "UTC")
    frame = yf_frame(4).assign(Volume=[5, 7, 9, 0])
    payload = yahoo.fetch(
        "IWM", download=FakeDownload(frame), sleep=lambda s: None, now=lambda: later
    )
    assert len(yahoo.parse(payload.data, origin="x").frame) == 3
    assert "volume 0" in yahoo.partial_last_bar(bars_of(frame), later, None)
    # an index whose volume is always 0 keeps its last bar
    quiet = yf_frame(4).assign(Volume=0)
    payload = yahoo.fetch(
        "^VIX", download=FakeDownload(quiet), sleep=lambda s: None, now=lambda: later
    )
    assert len(yahoo.parse(payload.data, origin="x").frame) == 4
    only = yf_frame(1, tz="America/New_York")
    with pytest.raises(FetchError, match="only a partial bar"):
        yahoo.fetch(
            "IWM",
            download=FakeDownload(only),
            sleep=lambda s: None,
            now=lambda: at("2024-01-02 10:00", "America/New_York"),
        )
