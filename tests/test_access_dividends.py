"""Reads of an adjusted close avoid a vintage that misses a dividend; partial bars stay out.

Independent figures come from the raw CSV files (csv module): total return compounded from raw
closes plus the dividends the capture with both closes implies.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from smallcaps.access import StoreView, read
from smallcaps.store import Store
from smallcaps.store.adjustments import missed_adjustments


def _columns(path: Path) -> dict[str, dict[str, float]]:
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {c: {r["Date"][:10]: float(r[c]) for r in rows if r[c]} for c in rows[0] if c != "Date"}


def _total_return(path: Path, start: str, end: str) -> float:
    """Compounded ``(close + dividend) / previous close`` from the last day <= start to end."""
    cols = _columns(path)
    close, adj = cols["Close"], cols["Adj Close"]
    dates = sorted(d for d in close if d <= end)
    first = max(i for i, d in enumerate(dates) if d <= start)
    growth = 1.0
    for prev, now in zip(dates[first:], dates[first + 1 :], strict=False):
        factor = (adj[prev] / close[prev]) / (adj[now] / close[now])
        dividend = close[prev] * (1 - factor) if abs(1 - factor) > 1e-4 else 0.0
        growth *= (close[now] + dividend) / close[prev]
    return growth - 1


def _window(values: pd.Series, start: str, end: str) -> float:
    return float(values[:end].iloc[-1] / values[:start].iloc[-1] - 1)


# the faulty newest capture, the capture with both closes (its last day ends the window)
CASES = [
    ("IWM", "yf_ohlcv_2026-06", "other/IWM_yf_2021-2026.csv", "2025-05-20", "2026-05-20",
     "2026-03-17"),
    ("SPY", "yf_ohlcv_2026-06", "yahoo_classic_2026-05/SPY.csv", "2025-05-15", "2026-05-15",
     "2026-03-20"),
]  # fmt: skip


@pytest.mark.parametrize(("ticker", "faulty", "good", "start", "end", "ex_date"), CASES)
@pytest.mark.parametrize("as_of", [None, "2026-06-06"])
def test_trailing_total_return_avoids_the_faulty_vintage(
    open_mirror_store: Callable[[], Store],
    data_dir: Path,
    ticker: str,
    faulty: str,
    good: str,
    start: str,
    end: str,
    ex_date: str,
    as_of: str | None,
) -> None:
    expected = _total_return(data_dir / "prices" / good, start, end)
    sid = f"price/{ticker}/adj_close"
    with open_mirror_store() as store:
        view = StoreView(store, None if as_of is None else pd.Timestamp(as_of))
        got = view.read(sid)
        raw = store.vintage_data(got.vintage_id).series()
        record = view.provenance([sid])[0]
    assert got.url.endswith(f"{faulty}/{ticker}.csv")  # the newest vintage, repaired
    assert [f"{m.date:%Y-%m-%d}" for m in got.avoided] == [ex_date]
    avoided = record["avoided"]
    assert isinstance(avoided, list) and avoided[0]["vintage_id"] == got.vintage_id
    assert ex_date in str(avoided[0]["reason"])
    assert "misses the" in got.summary()
    figure = _window(got.values, start, end)
    assert figure == pytest.approx(expected, abs=3e-4)
    # the faulty vintage as stored is lower by about the dividend yield
    yield_ = got.avoided[0].shortfall
    assert 0.001 < yield_ < 0.004
    assert figure - _window(raw, start, end) == pytest.approx(yield_ * (1 + figure), rel=0.02)


def test_a_later_vintage_never_judges_an_earlier_one_before_it_was_fetched(
    open_mirror_store: Callable[[], Store],
) -> None:
    sid = "price/IWM/adj_close"
    with open_mirror_store() as store:
        vint = store.vintages(sid)
        feb = int(vint.loc[vint["url"].str.contains("yf_autoadj_2026-02"), "vintage_id"].iat[0])
        # known to be faulty once later captures are in ...
        assert missed_adjustments(store, sid, feb)
        # ... but before they were fetched it is read as it was
        before = pd.Timestamp("2026-05-27 12:00")
        assert missed_adjustments(store, sid, feb, known_by=before) == ()
        got = read(store, sid, before)
        assert got.vintage_id == feb and got.avoided == ()
        stored = store.vintage_data(feb).series()
        own = got.values[: stored.index[-1]]
        pd.testing.assert_series_equal(own, stored.loc[own.index], check_names=False)
        # every read's evidence was fetched by its as-of date
        for t in ("2026-06-06", "2026-07-01"):
            r = read(store, sid, t)
            fetched = {
                int(v): f for v, f in zip(vint["vintage_id"], vint["fetched_at"], strict=True)
            }
            for m in r.avoided:
                ev = pd.Timestamp(fetched[m.evidence_vintage]).tz_localize(None)
                assert ev <= pd.Timestamp(t)


def test_partial_last_bar_is_left_out_and_said(
    open_mirror_store: Callable[[], Store], data_dir: Path
) -> None:
    path = data_dir / "prices" / "yf_autoadj_2026-02" / "^RUT.csv"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[-1]["Date"][:10] == "2026-02-23" and float(rows[-1]["Volume"]) == 0
    assert float(rows[-2]["Volume"]) > 0
    with open_mirror_store() as store:
        view = StoreView(store, None)
        got = view.read("price/^RUT/adj_close")
        record = view.provenance()[0]
        earlier = read(store, "price/^RUT/adj_close", "2026-02-20")
    assert got.url.endswith("%5ERUT.csv") and "yf_autoadj_2026-02" in got.url
    assert got.values.index[-1] == pd.Timestamp(rows[-2]["Date"][:10])
    assert got.values.iloc[-1] == pytest.approx(float(rows[-2]["Close"]), rel=1e-12)
    assert got.partial == pd.Timestamp("2026-02-23")
    assert record["partial_bar_left_out"] == "2026-02-23" and "partial" in got.summary()
    assert earlier.partial is None  # the bar was not public then: nothing to leave out
