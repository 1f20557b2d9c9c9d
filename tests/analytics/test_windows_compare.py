"""Windows and comparisons: properties (no window reads past its end; swapped sleeves negate)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallcaps.analytics import eventsets as ev
from smallcaps.analytics import sleeves as sl
from smallcaps.analytics import windows as win
from smallcaps.analytics.compare import compare
from smallcaps.errors import ConfigError

returns = st.lists(st.floats(-0.3, 0.3, allow_nan=False), min_size=30, max_size=120)


def _sleeve(name: str, values: list[float], daily: bool = False) -> sl.Sleeve:
    freq = "B" if daily else "ME"
    idx = pd.date_range("2000-01-31" if not daily else "2000-01-03", periods=len(values),
                        freq=freq)  # fmt: skip
    return sl.from_returns(name, pd.Series(values, idx))


@settings(deadline=None, max_examples=40)
@given(returns, st.lists(st.integers(0, 200), min_size=1, max_size=6), st.integers(1, 12),
       st.sampled_from(win.ANCHORS), st.booleans())  # fmt: skip
def test_a_window_never_reads_past_its_end(
    values: list[float], offsets: list[int], n: int, anchor: str, daily: bool
) -> None:
    s = _sleeve("a", values, daily)
    cal = pd.DatetimeIndex([s.start]).append(pd.DatetimeIndex(s.returns.index))
    dates = pd.DatetimeIndex([cal[0] + pd.Timedelta(days=o * (1 if daily else 10))
                              for o in offsets])  # fmt: skip
    events = ev.EventSet("e", dates, dates, "test")
    ws = win.around(cal, events, after=n, anchor=anchor)
    shocked = s.returns.copy()
    for _, row in ws.frame.iterrows():
        assert row["start"] < row["end"] <= cal[-1]
        later = shocked.index > row["end"]
        changed = sl.Sleeve("a", shocked.where(~later, 9.0), s.start, s.frequency)
        assert changed.window(row["start"], row["end"]) == s.window(row["start"], row["end"])
    assert len(ws) + ws.incomplete == len(dates)


@settings(deadline=None, max_examples=40)
@given(returns, st.data())
def test_swapping_sleeves_negates_the_difference(values: list[float], data: st.DataObject) -> None:
    other = data.draw(st.lists(st.floats(-0.3, 0.3, allow_nan=False), min_size=len(values),
                               max_size=len(values)))  # fmt: skip
    a, b = _sleeve("a", values), _sleeve("b", other)
    cal = pd.DatetimeIndex([a.start]).append(pd.DatetimeIndex(a.returns.index))
    ws = win.each_period(cal, "quarter")
    ab, ba = compare([a, b], ws, reps=200), compare([b, a], ws, reps=200)
    np.testing.assert_allclose(ab.to_frame()["x"], -ba.to_frame()["x"])
    assert ab.mean == pytest.approx(-ba.mean, abs=1e-12)
    assert ab.median == pytest.approx(-ba.median, abs=1e-12)
    ties = int((ab.to_frame()["x"] == 0).sum())
    assert ab.hit_rate + ba.hit_rate == pytest.approx(1 - ties / max(ab.n, 1))
    if not np.isnan(ab.t_nw):
        assert ab.t_nw == pytest.approx(-ba.t_nw, rel=1e-9)
    assert ab.sign_p == pytest.approx(ba.sign_p) or np.isnan(ab.sign_p)


def test_monthly_anchor_of_a_mid_month_event() -> None:
    cal = pd.date_range("1995-01-31", periods=24, freq="ME")
    assert cal[win.anchor_close(cal, pd.Timestamp("1995-07-06"), "next")] == pd.Timestamp(
        "1995-07-31"
    )
    assert cal[win.anchor_close(cal, pd.Timestamp("1995-07-06"), "event")] == pd.Timestamp(
        "1995-06-30"
    )


def test_daily_sleeve_to_monthly_drops_partial_months() -> None:
    idx = pd.bdate_range("2020-01-15", "2020-04-15")
    s = sl.from_levels("x", pd.Series(np.linspace(100, 130, len(idx)), idx))
    m = sl.to_monthly(s)
    assert list(m.returns.index) == list(pd.to_datetime(["2020-02-29", "2020-03-31"]))
    feb = s.returns[(s.returns.index > "2020-01-31") & (s.returns.index <= "2020-02-29")]
    assert m.returns.iloc[0] == pytest.approx(float(np.prod(1 + feb) - 1))


def test_sleeve_ids_parse_or_say_why() -> None:
    d = sl.parse_sleeve("yahoo:RSP minus yahoo:SPY")
    assert d.kind == "minus" and [x.key for x in d.leaves] == ["RSP", "SPY"]
    for bad in ("SPY", "bloomberg:SPX", "french:OnlyDataset", "yahoo:no spaces"):
        with pytest.raises(ConfigError):
            sl.parse_sleeve(bad)


def test_condition_windows_are_runs() -> None:
    cal = pd.date_range("2000-01-31", periods=8, freq="ME")
    level = pd.Series([1, 2, 3, 2, 1, 2, 3, 4], cal, dtype=float)
    ws = win.condition(cal, level, "rising")
    assert list(zip(ws.frame["start"], ws.frame["end"], strict=True)) == [
        (cal[0], cal[2]), (cal[4], cal[7])]  # fmt: skip
