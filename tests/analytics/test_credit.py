"""Credit-spread regimes: a plain loop over IWM, SPY and the HY spread; regimes known beforehand."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smallcaps.analytics import credit
from smallcaps.errors import InsufficientDataError
from smallcaps.sources import fred as fred_source
from smallcaps.sources import yahoo


def table(path: Path, date_col: str, value_col: str) -> dict[str, float]:
    with path.open(newline="") as fh:
        return {r[date_col]: float(r[value_col]) for r in csv.DictReader(fh) if r[value_col]}


@pytest.fixture(scope="module")
def files(data_dir: Path) -> dict[str, Path]:
    p = data_dir / "prices" / "yf_ohlcv_2026-06"
    return {
        "iwm": p / "IWM.csv",
        "spy": p / "SPY.csv",
        "hy": data_dir / "fred" / "BAMLH0A0HYM2.csv",
    }


@pytest.fixture(scope="module")
def result(files) -> credit.CreditRegimes:
    def px(path: Path, t: str) -> pd.Series:
        return yahoo.parse(path.read_bytes(), origin=path.name, ticker=t).frame["close"]

    frame = fred_source.parse(files["hy"].read_bytes(), origin="hy", series_id="BAMLH0A0HYM2")
    hy = pd.Series(frame["value"].to_numpy(), index=pd.DatetimeIndex(frame["date"]))
    return credit.credit_regimes(px(files["iwm"], "IWM"), px(files["spy"], "SPY"), hy)


def test_widening_days_by_a_plain_loop(files, result) -> None:
    iwm = table(files["iwm"], "Date", "Close")
    spy = table(files["spy"], "Date", "Close")
    hy = sorted(table(files["hy"], "date", "value").items())
    days = sorted(set(iwm) & set(spy))
    sml = {d: iwm[d] / iwm[p] - spy[d] / spy[p] for p, d in itertools.pairwise(days)}
    widening, tightening = [], []
    for d, r in sml.items():
        known = [k for k, (day, _) in enumerate(hy) if day < d]  # spread seen before day d opens
        if not known or known[-1] < 21:
            continue
        k = known[-1]
        change = hy[k][1] - hy[k - 21][1]
        (widening if change > 0 else tightening if change < 0 else []).append(r)
    t = result.table.set_index(["split", "regime"])
    assert t.loc[("direction", "widening"), "days"] == len(widening)
    assert t.loc[("direction", "widening"), "sml_mean"] == pytest.approx(np.mean(widening))
    assert t.loc[("direction", "tightening"), "sml_mean"] == pytest.approx(np.mean(tightening))
    diff = np.mean(widening) - np.mean(tightening)
    assert result.contrast("widening - tightening") == pytest.approx(diff)


def test_summary_names_the_short_spread_history(result) -> None:
    text = result.summary()
    assert "covers only 2023-08-22..2026-08-20" in text and "Reading: " in text
    payload = json.loads(json.dumps(result.to_dict()))
    assert {r["regime"] for r in payload["table"]} >= {
        "widening",
        "tightening",
        "low",
        "mid",
        "high",
    }


def synthetic(n: int = 400, seed: int = 0) -> tuple[pd.Series, pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2020-01-01", periods=n)
    hy = pd.Series(4 + np.cumsum(rng.normal(0, 0.05, n)), idx)
    large = pd.Series(100 * np.cumprod(1 + rng.normal(0, 0.01, n)), idx)
    return large * 1.0, large, hy


def test_a_day_is_classified_by_the_spread_before_it() -> None:
    small, large, hy = synthetic()
    base = credit.credit_regimes(small, large, hy, change_days=5)
    day = base.days.index[100]
    bumped = hy.copy()
    bumped[day] += 10.0  # today's close must not change today's regime
    same = credit.credit_regimes(small, large, bumped, change_days=5)
    assert same.days.loc[day, "direction"] == base.days.loc[day, "direction"]
    nxt = base.days.index[101]
    assert same.days.loc[nxt, "direction"] == "widening"
    assert (base.days["known_at"] < base.days.index).all()


def test_later_spreads_do_not_move_earlier_days() -> None:
    small, large, hy = synthetic(seed=2)
    cutoff = hy.index[250]
    shocked = hy.copy()
    shocked[shocked.index > cutoff] += 3.0
    a = credit.credit_regimes(small, large, hy, change_days=5).days
    b = credit.credit_regimes(small, large, shocked, change_days=5).days
    cols = ["sml", "direction", "known_at"]  # level terciles are whole-sample by design
    pd.testing.assert_frame_equal(a.loc[:cutoff, cols], b.loc[:cutoff, cols])


def test_identical_legs_give_zero_and_short_data_is_an_error() -> None:
    small, large, hy = synthetic()
    same = credit.credit_regimes(small, large, hy)
    assert (same.table["sml_mean"].abs() < 1e-15).all()
    with pytest.raises(InsufficientDataError, match="spread"):
        credit.credit_regimes(small, large, hy.iloc[:30])
