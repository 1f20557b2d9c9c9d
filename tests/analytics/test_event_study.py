"""Event study: real Russell 2000 closes by a plain loop, anchors, bootstrap and placebo."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from smallcaps.analytics import event_study as es
from smallcaps.errors import InsufficientDataError
from smallcaps.sources import yahoo


def closes_by_loop(path: Path) -> tuple[list[str], list[float]]:
    """Dates and closes of a classic Yahoo CSV, read with the csv module."""
    days, closes = [], []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            days.append(row["Date"])
            closes.append(float(row["Close"]))
    return days, closes


def return_after(days: list[str], closes: list[float], announced: str, n: int) -> float:
    """From the last close before the announcement day to n trading days after that close."""
    i = max(k for k, d in enumerate(days) if d < announced)
    return closes[i + n] / closes[i] - 1


@pytest.fixture(scope="module")
def rut(data_dir: Path) -> pd.Series:
    path = data_dir / "prices" / "yf_autoadj_2026-02" / "^RUT.csv"
    return yahoo.parse(path.read_bytes(), origin=path.name, ticker="^RUT").frame["close"]


# ---- known values -----------------------------------------------------------------------------


@pytest.mark.parametrize("announced", ["2001-01-03", "2007-09-18"])
def test_russell_2000_month_after_the_first_cut(data_dir: Path, rut: pd.Series, announced) -> None:
    # a second file (the 2019 classic capture) read by a plain loop is the oracle
    days, closes = closes_by_loop(data_dir / "prices" / "other" / "^RUT_yahoo_2019.csv")
    expected = return_after(days, closes, announced, 21)
    returns = rut.pct_change().iloc[1:].to_frame("small")
    got = es.window_returns(returns, pd.DatetimeIndex([announced]), [(0, 21)])
    assert got[("small", "0..+21")].iloc[0] == pytest.approx(expected, rel=1e-6)
    before = es.window_returns(returns, pd.DatetimeIndex([announced]), [(-21, 0)])
    i = max(k for k, d in enumerate(days) if d < announced)
    assert before.iloc[0, 0] == pytest.approx(closes[i] / closes[i - 21] - 1, rel=1e-6)


def test_the_2001_and_2007_numbers(rut: pd.Series) -> None:
    # 2001-01-02 close 462.49 -> 2001-02-01 close 508.94; 2007-09-17 775.81 -> 2007-10-16 823.35
    returns = rut.pct_change().iloc[1:].to_frame("small")
    got = es.window_returns(returns, pd.DatetimeIndex(["2001-01-03", "2007-09-18"]), [(0, 21)])
    assert got.iloc[:, 0].round(4).tolist() == [
        round(508.94 / 462.49 - 1, 4),
        round(823.35 / 775.81 - 1, 4),
    ]


def test_announcement_day_not_effective_day_anchors_the_window(rut: pd.Series) -> None:
    returns = rut.pct_change().iloc[1:].to_frame("small")
    events = pd.DataFrame({"group": ["x"]}, index=pd.DatetimeIndex(["2019-07-31"]))
    result = es.event_study(returns, events, windows=[(0, 21)], reps=0, placebo_draws=0)
    assert result.by_event["anchor"].iloc[0] == pd.Timestamp("2019-07-30")
    on_effective = es.window_returns(returns, pd.DatetimeIndex(["2019-08-01"]), [(0, 21)])
    assert result.by_event["small 0..+21"].iloc[0] != on_effective.iloc[0, 0]


def test_monthly_anchor_before_and_nearest() -> None:
    idx = pd.date_range("1998-01-31", periods=12, freq="ME")
    returns = pd.DataFrame({"small": np.linspace(0.01, 0.12, 12)}, index=idx)
    late, early = pd.DatetimeIndex(["1998-09-29"]), pd.DatetimeIndex(["1998-09-10"])
    assert idx[es.anchor_positions(idx, late, "before")[0]] == pd.Timestamp("1998-08-31")
    assert idx[es.anchor_positions(idx, late, "nearest")[0]] == pd.Timestamp("1998-09-30")
    assert idx[es.anchor_positions(idx, early, "nearest")[0]] == pd.Timestamp("1998-08-31")
    # 0..+1 after a cut on the 29th is October's return with "nearest"
    got = es.window_returns(returns, late, [(0, 1)], anchor="nearest")
    assert got.iloc[0, 0] == pytest.approx(returns.loc["1998-10-31", "small"])


# ---- the study --------------------------------------------------------------------------------


def synthetic(n: int = 3000, seed: int = 1, mean: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("1990-01-01", periods=n)
    return pd.DataFrame(
        {"small": rng.normal(mean, 0.01, n), "large": rng.normal(mean, 0.008, n)}, index=idx
    )


def test_study_table_by_event_focus_and_json() -> None:
    r = synthetic()
    dates = r.index[[100, 700, 1500, 2200, 2990]]
    events = pd.DataFrame({"group": ["a", "b", "a", "b", "a"]}, index=dates)
    result = es.event_study(
        r,
        events,
        reps=200,
        placebo_draws=200,
        focus_years=((1992, 1994),),
        claim_range=(0.04, 0.07),
    )
    t = result.table
    assert set(t["group"]) == {"all", "a", "b"} and len(t) == 3 * 3 * 5
    row = t[(t["group"] == "all") & (t["leg"] == "small_minus_large") & (t["window"] == "0..+21")]
    per_event = result.by_event["small 0..+21"] - result.by_event["large 0..+21"]
    assert row["mean"].iloc[0] == pytest.approx(per_event.mean())
    # the last event's 252-day window runs past the data: missing, never shortened
    assert np.isnan(result.by_event["small 0..+252"].iloc[-1])
    assert result.stat("small", "0..+252", column="n") == 4
    assert list(result.focus.index) == [d for d in dates if 1992 <= d.year <= 1994]
    text = result.summary()
    assert "5 events" in text and "handful" in text and "Claimed +4% to +7%" in text
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["n_events"] == 5 and payload["windows"][1] == "0..+21"


def test_events_outside_the_data_are_listed_not_dropped_silently() -> None:
    r = synthetic(n=300)
    events = pd.DataFrame(
        {"group": ["x", "x", "x"]},
        index=pd.DatetimeIndex(["1985-01-02", r.index[150], "2030-01-01"]),
    )
    result = es.event_study(r, events, reps=0, placebo_draws=0)
    assert result.n_events == 1
    assert list(result.not_covered["date"]) == [
        pd.Timestamp("1985-01-02"),
        pd.Timestamp("2030-01-01"),
    ]
    assert "Not covered (2)" in result.summary()


def test_a_spread_series_alone_is_compounded() -> None:
    r = synthetic(n=500)
    smb = (r["small"] - r["large"]).to_frame(es.SML)
    events = pd.DataFrame({"group": ["x"]}, index=r.index[[200]])
    result = es.event_study(smb, events, windows=[(0, 5)], reps=0, placebo_draws=0)
    expected = np.prod(1 + smb[es.SML].iloc[200:205]) - 1  # anchor 199; days 200..204
    assert result.by_event[f"{es.SML} 0..+5"].iloc[0] == pytest.approx(expected)


def test_bad_inputs_are_clear_errors() -> None:
    r = synthetic(n=50)
    events = pd.DataFrame({"group": ["x"]}, index=r.index[[20]])
    with pytest.raises(ValueError, match="columns must be among"):
        es.event_study(r.rename(columns={"small": "iwm"}), events)
    with pytest.raises(ValueError, match="group"):
        es.event_study(r, events.rename(columns={"group": "g"}))
    holed = r.copy()
    holed.iloc[10, 0] = np.nan
    with pytest.raises(InsufficientDataError, match="missing"):
        es.event_study(holed, events)
    with pytest.raises(ValueError, match="0:21"):
        es.parse_windows(["21:0"])
    assert es.parse_windows(["-21:0", "0..21", (0, 63)]) == ((-21, 0), (0, 21), (0, 63))


# ---- statistical properties -------------------------------------------------------------------


def test_placebo_percentile_is_uniform_when_events_are_random_dates() -> None:
    # a fresh series each time, events drawn from every date with a complete window
    rng = np.random.default_rng(11)
    pct = []
    for k in range(300):
        r = synthetic(n=1000, seed=5000 + k)
        anchors = np.sort(rng.choice(np.arange(0, 1000 - 6), size=8, replace=False))
        events = pd.DataFrame({"group": "x"}, index=r.index[anchors + 1])
        result = es.event_study(
            r, events, windows=[(0, 5)], reps=0, placebo_draws=200, exclude=0, seed=k
        )
        pct.append(result.stat("small_minus_large", "0..+5", column="placebo_percentile"))
    pct = np.sort(pct)
    n = len(pct)
    ks = max(np.max(np.arange(1, n + 1) / n - pct), np.max(pct - np.arange(n) / n))
    assert ks < 1.628 / np.sqrt(n)  # Kolmogorov-Smirnov against U(0, 1) at the 1% level
    assert 0.44 < pct.mean() < 0.56
    assert 0.05 < (pct <= 0.1).mean() < 0.16  # the lowest decile is hit about 10% of the time


def test_bootstrap_interval_covers_the_true_mean_at_about_the_nominal_rate() -> None:
    true_mean, hits, sims = 0.002, 0, 200
    for k in range(sims):
        r = synthetic(n=400, seed=100 + k, mean=true_mean)
        events = pd.DataFrame({"group": "x"}, index=r.index[np.arange(10, 390, 9)])  # 43 events
        result = es.event_study(
            r, events, windows=[(0, 1)], conf=0.90, reps=250, placebo_draws=0, seed=k
        )
        lo = result.stat("small", "0..+1", column="ci_low")
        hi = result.stat("small", "0..+1", column="ci_high")
        hits += lo <= true_mean <= hi
    assert 0.83 <= hits / sims <= 0.96  # nominal 0.90; percentile intervals run a bit short


@settings(max_examples=30, deadline=None)
@given(st.floats(-0.01, 0.01), st.integers(1, 30), st.integers(0, 5))
def test_constant_returns_compound_exactly(c: float, length: int, start: int) -> None:
    idx = pd.bdate_range("2000-01-03", periods=80)
    r = pd.DataFrame({"small": c, "large": 0.0}, index=idx)
    got = es.window_returns(r, idx[[40]], [(start - 5, start - 5 + length)])
    assert got.iloc[0, 0] == pytest.approx((1 + c) ** length - 1, abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_percentiles_and_intervals_are_well_formed(seed: int) -> None:
    r = synthetic(n=400, seed=seed % 1000)
    events = pd.DataFrame({"group": ["a", "b"] * 3}, index=r.index[[30, 90, 150, 210, 270, 330]])
    result = es.event_study(
        r, events, windows=[(-5, 0), (0, 10)], reps=50, placebo_draws=50, seed=seed
    )
    t = result.table.dropna(subset=["placebo_percentile"])
    assert ((t["placebo_percentile"] >= 0) & (t["placebo_percentile"] <= 1)).all()
    ci = result.table.dropna(subset=["ci_low"])
    assert (ci["ci_low"] <= ci["ci_high"] + 1e-15).all()
    sml = result.table[result.table["leg"] == es.SML].reset_index(drop=True)
    diff = (
        result.table[result.table["leg"] == "small"]["mean"].to_numpy()
        - result.table[result.table["leg"] == "large"]["mean"].to_numpy()
    )
    np.testing.assert_allclose(sml["mean"].to_numpy(), diff, atol=1e-15)


# ---- splicing and look-ahead ------------------------------------------------------------------


def test_spliced_levels_use_the_first_series_then_fill_outside_its_span() -> None:
    idx = pd.bdate_range("2019-01-01", periods=10)
    first = pd.Series([100, 101, 102, 103, 104, 105.0], index=idx[2:8])
    second = pd.Series(np.linspace(50, 59, 10), index=idx)
    level = es.spliced_levels([first, second])
    r = level.pct_change().dropna()
    pd.testing.assert_series_equal(
        r[idx[3] : idx[7]], first.pct_change().dropna(), check_names=False, check_freq=False
    )
    outside = second.pct_change()
    assert r[idx[1]] == pytest.approx(outside[idx[1]]) and r[idx[2]] == pytest.approx(
        outside[idx[2]]
    )
    assert r[idx[8]] == pytest.approx(outside[idx[8]]) and r[idx[9]] == pytest.approx(
        outside[idx[9]]
    )
    assert level.iloc[0] == 1.0 and level.index[0] == idx[0]


def test_results_as_of_t_ignore_returns_after_t() -> None:
    r = synthetic(n=1500, seed=5)
    cutoff = r.index[900]
    shocked = r.copy()
    later = shocked.index > cutoff
    shocked.loc[later] = np.random.default_rng(9).normal(0.0, 0.05, (later.sum(), 2))
    events = pd.DataFrame({"group": "x"}, index=r.index[[100, 400, 700, 880]])
    a = es.event_study(r[r.index <= cutoff], events, reps=100, placebo_draws=100)
    b = es.event_study(shocked[shocked.index <= cutoff], events, reps=100, placebo_draws=100)
    pd.testing.assert_frame_equal(a.by_event, b.by_event)
    pd.testing.assert_frame_equal(a.table, b.table)
    full = es.event_study(shocked, events, reps=100, placebo_draws=100)
    done = [c for c in a.by_event.columns if c.endswith("..0") or c.endswith("+21")]
    pd.testing.assert_frame_equal(a.by_event[done].iloc[:3], full.by_event[done].iloc[:3])
    assert np.isnan(a.by_event["small 0..+63"].iloc[-1])  # its window was not over at t
    assert not np.isnan(full.by_event["small 0..+63"].iloc[-1])
