"""The doctor names each faulty adjusted-close vintage of the mirror and the dividend it misses.

The expected ex-dates and amounts are computed here from the raw CSV files (csv module), apart
from the code under test: the dividend is ``previous close * (1 - factor before / factor on the
day)`` with ``factor = Adj Close / Close`` of the capture that carries both columns.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from smallcaps.store import Store
from smallcaps.store.adjustments import faulty_vintages
from smallcaps.store.doctor import FAULTY, checkup, ranked


def _columns(path: Path) -> dict[str, dict[str, float]]:
    """Each column of a Yahoo CSV as ``{date: value}``."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {c: {r["Date"][:10]: float(r[c]) for r in rows if r[c]} for c in rows[0] if c != "Date"}


def _dividend(good: Path, day: str, adj: str = "Adj Close") -> float:
    """The dividend on ``day`` implied by a capture with both a raw and an adjusted close."""
    cols = _columns(good)
    dates = sorted(cols["Close"])
    i = dates.index(day)
    prev, now = dates[i - 1], dates[i]
    f_prev = cols[adj][prev] / cols["Close"][prev]
    f_now = cols[adj][now] / cols["Close"][now]
    return cols["Close"][prev] * (1 - f_prev / f_now)


def _return_on(path: Path, column: str, day: str) -> float:
    col = _columns(path)[column]
    dates = sorted(col)
    i = dates.index(day)
    return col[dates[i]] / col[dates[i - 1]] - 1


# (series, faulty capture file, ex-date, capture with raw + adjusted close, expected $)
FAULTS = [
    ("price/SPY/adj_close", "yf_ohlcv_2026-06/SPY.csv", "2026-03-20",
     "yahoo_classic_2026-05/SPY.csv", 1.797),
    ("price/IWM/adj_close", "yf_ohlcv_2026-06/IWM.csv", "2026-03-17",
     "other/IWM_yf_2021-2026.csv", 0.442),
    ("price/IWM/adj_close", "yf_autoadj_2026-02/IWM.csv", "2025-09-16",
     "other/IWM_yf_2021-2026.csv", 0.677),
]  # fmt: skip


@pytest.mark.parametrize(("series_id", "faulty", "day", "good", "cash"), FAULTS)
def test_doctor_names_the_faulty_capture_and_its_dividend(
    open_mirror_store: Callable[[], Store],
    data_dir: Path,
    series_id: str,
    faulty: str,
    day: str,
    good: str,
    cash: float,
) -> None:
    prices = data_dir / "prices"
    expected = _dividend(prices / good, day)
    assert expected == pytest.approx(cash, abs=5e-4)  # the brief's figure, from the files
    # the faulty capture's return on the ex-date is the price return: lower by the yield
    faulty_ret = _return_on(prices / faulty, "Close", day)
    good_ret = _return_on(prices / good, "Adj Close", day)
    with open_mirror_store() as store:
        found = [m for m in faulty_vintages(store, series_id) if f"{m.date:%Y-%m-%d}" == day]
        checks = checkup(store, series=[series_id])
    assert len(found) == 1
    m = found[0]
    assert m.capture == faulty.split("/")[0]
    assert m.is_dividend is True and m.dividend == pytest.approx(expected, rel=1e-6)
    assert m.shortfall == pytest.approx(1 - (1 + faulty_ret) / (1 + good_ret), rel=1e-3)
    assert f"misses the {day} dividend (${cash:.3f}" in m.reason()
    lines = [f.line() for f in ranked(checks) if f.classification == FAULTY]
    assert any(f"vintage {m.vintage_id} ({m.capture}" in x and day in x for x in lines)


def test_good_captures_are_not_named(open_mirror_store: Callable[[], Store]) -> None:
    with open_mirror_store() as store:
        for sid in ("price/IWM/adj_close", "price/SPY/adj_close"):
            vint = store.vintages(sid)
            classic = vint[vint["url"].str.contains("IWM_yf_2021|yahoo_classic")]
            good = set(classic["vintage_id"].astype(int))
            assert good and not good & {m.vintage_id for m in faulty_vintages(store, sid)}
        checks = checkup(store, series=["price/IWM/adj_close"])
    # the anonymous dividend/adjustment findings of the adjusted close gave way to named ones
    kinds = {f.classification for c in checks for f in c.findings}
    assert FAULTY in kinds and "dividend/adjustment" not in kinds


def test_a_splice_is_told_from_an_ex_date(
    open_mirror_store: Callable[[], Store], data_dir: Path
) -> None:
    # yf_autoadj_2026-02/IWM.csv is adjusted for December's dividend only from 2025-11-17 on;
    # the capture with both closes shows no dividend that day
    good = data_dir / "prices" / "other" / "IWM_yf_2021-2026.csv"
    assert abs(_dividend(good, "2025-11-17")) < 1e-3
    with open_mirror_store() as store:
        found = {
            f"{m.date:%Y-%m-%d}": m
            for m in faulty_vintages(store, "price/IWM/adj_close")
            if m.capture == "yf_autoadj_2026-02"
        }
    splice = found["2025-11-17"]
    assert splice.is_dividend is False and splice.dividend is None and "splice" in splice.reason()
    assert math.isfinite(splice.shortfall) and splice.shortfall > 0.002
    assert pd.Timestamp("2025-09-16") in {m.date for m in found.values()}
