"""No look-ahead: what is published after t never moves a position decided up to t."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallcaps import access, release
from smallcaps.backtest import check_no_lookahead, engine, load_rules, signals
from smallcaps.backtest.rules import parse_rules
from smallcaps.store import Store

RULES = {
    "small": "S", "large": "L", "cash": "C",
    "rule": [
        {"name": "mom", "on": "small", "off": "large",
         "when": [{"signal": "size_momentum", "op": ">", "lookback": [1, 5], "threshold": [0.0]}]},
        {"name": "trend", "on": "small", "off": "cash",
         "when": [{"signal": "trend", "op": ">", "window": [3, 20], "threshold": [0.0, 0.01]}]},
        {"name": "dd", "on": 0.5, "off": "large",
         "when": [{"signal": "size_drawdown", "op": "<", "window": [0, 10], "threshold": -0.05}]},
        {"name": "cut", "on": "small", "off": "large",
         "when": [{"signal": "periods_since_first_cut", "op": "<", "threshold": [3, 30],
                   "pause_days": [30]}]},
        {"name": "ease", "on": "small", "off": "large",
         "when": [{"signal": "easing", "op": ">=", "threshold": 1, "pause_days": 30}]},
        {"name": "hy", "on": "small", "off": "large",
         "when": [{"signal": "hy_spread", "op": "<", "threshold": [4.0], "lookback": [0, 3]}]},
    ],
}  # fmt: skip


def synthetic_panel(monthly: bool, seed: int = 0) -> signals.Panel:
    rng = np.random.default_rng(seed)
    if monthly:
        cal = pd.date_range("1990-01-31", periods=240, freq="ME")
        legs = {"S": pd.Series(rng.normal(0.01, 0.06, len(cal)), cal),
                "L": pd.Series(rng.normal(0.008, 0.04, len(cal)), cal)}  # fmt: skip
        french = access.release_rule("french/F-F_Research_Data_Factors/monthly/SMB", "M")
        kinds, leg_rule = {"S": "returns", "L": "returns"}, french
    else:
        cal = pd.bdate_range("2001-01-02", periods=500)
        legs = {k: pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(cal)))), cal)
                for k in ("S", "L")}  # fmt: skip
        kinds, leg_rule = {"S": "prices", "L": "prices"}, release.SAME_DAY
    days = pd.date_range(cal[0] - pd.Timedelta(days=400), cal[-1], freq="D")
    steps = np.zeros(len(days))
    steps[rng.choice(len(days), 14, replace=False)] = rng.choice([-0.5, 0.25, 0.5], 14)
    target = pd.Series(5.0 + np.cumsum(steps), days)
    hy = pd.Series(4.0 + np.cumsum(rng.normal(0, 0.05, len(days))), days)
    data = {**legs, "DFEDTAR": target, "BAMLH0A0HYM2": hy}
    rules = {"S": leg_rule, "L": leg_rule, "DFEDTAR": release.NEXT_BUSINESS_DAY,
             "BAMLH0A0HYM2": release.NEXT_BUSINESS_DAY}  # fmt: skip
    return signals.Panel(pd.DatetimeIndex(cal), "S", "L", kinds, None, data, rules)


VARIANTS = parse_rules(RULES).variants()


def positions_of(panel: signals.Panel) -> np.ndarray:
    return engine.positions(VARIANTS, panel)


@settings(max_examples=25, deadline=None)
@given(st.booleans(), st.floats(0.05, 0.95), st.integers(0, 2**32 - 1))
def test_changing_data_after_t_leaves_positions_up_to_t(monthly, where, seed) -> None:
    panel = synthetic_panel(monthly)
    base = positions_of(panel)
    i = int(where * (len(panel.calendar) - 1))
    t = panel.calendar[i].to_datetime64()
    rng = np.random.default_rng(seed)
    shocked = {}
    for sid, s in panel.data.items():
        later = panel.published(sid) > t
        v = s.to_numpy().copy()
        v[later] = v[later] * rng.uniform(0.2, 3.0, later.sum()) + rng.normal(0, 1, later.sum())
        shocked[sid] = pd.Series(v, s.index)
    moved = positions_of(panel.with_data(shocked))
    np.testing.assert_array_equal(moved[:, : i + 1], base[:, : i + 1])


def test_the_shock_does_reach_later_positions() -> None:
    panel = synthetic_panel(monthly=False)
    result = check_no_lookahead(positions_of, panel, n_cuts=3, seed=1)
    assert result.ok, result.summary()
    base = positions_of(panel)
    i = len(panel.calendar) // 2
    t = panel.calendar[i].to_datetime64()
    flipped = {
        k: s.where(panel.published(k) <= t, s[::-1].to_numpy()) for k, s in panel.data.items()
    }
    moved = positions_of(panel.with_data(flipped))
    assert (moved[:, i + 1 :] != base[:, i + 1 :]).any()


def test_monthly_french_returns_wait_for_publication() -> None:
    # a French return for month m is public at the end of month m+1: the decision at the end of
    # month m cannot see it, the decision at the end of m+1 can
    panel = synthetic_panel(monthly=True)
    mom1 = signals.compute(panel, "size_momentum", (("lookback", 1),))
    rel = np.log1p(panel.data["S"].to_numpy()) - np.log1p(panel.data["L"].to_numpy())
    np.testing.assert_allclose(mom1[2:], rel[1:-1], rtol=1e-12)
    assert np.isnan(mom1[:2]).all()  # month 0's return is public at the end of month 1


def test_a_foresight_rule_is_caught() -> None:
    panel = synthetic_panel(monthly=False)

    def foresight(p: signals.Panel) -> np.ndarray:
        prices = p.series("S").to_numpy()
        tomorrow = np.r_[prices[1:] / prices[:-1] - 1.0, 0.0]  # next close: not yet known
        return (tomorrow > 0).astype(float)[None, :]

    result = check_no_lookahead(foresight, panel, n_cuts=4, seed=0)
    assert not result.ok
    assert result.violations and result.violations[0].endswith("1 variants moved at or before it")
    assert "look-ahead" in result.summary()


def test_shipped_rules_have_no_lookahead_on_the_mirror(mirror_home: Path) -> None:
    rs = load_rules(engine.default_rules_path())
    variants = rs.variants()
    with Store.open(mirror_home / "store.duckdb", mirror_home / "archive") as store:
        view = access.StoreView(store)
        legs = engine.load_legs(rs, view)
        panel = engine.view_panel(rs, view, legs.dates, legs.kinds)
        result = check_no_lookahead(lambda p: engine.positions(variants, p), panel, n_cuts=3)
    assert result.ok, result.summary()
    assert {"DFEDTAR", "DFEDTARU"} <= set(panel.data)  # the Fed rules did read the target


@pytest.mark.parametrize("lookback", [1, 12])
def test_size_momentum_by_hand_on_the_mirror(mirror_home: Path, lookback: int) -> None:
    # by an independent route: compounded French returns over the lookback, known a month late
    rs = load_rules(engine.default_rules_path())
    with Store.open(mirror_home / "store.duckdb", mirror_home / "archive") as store:
        view = access.StoreView(store)
        legs = engine.load_legs(rs, view)
        panel = engine.view_panel(rs, view, legs.dates, legs.kinds)
        got = signals.compute(panel, "size_momentum", (("lookback", lookback),))
        small = access.read(store, rs.small).values
        large = access.read(store, rs.large).values
    d = legs.dates.get_loc(pd.Timestamp("2009-03-31"))
    window_end = pd.Timestamp("2009-02-28")  # February's return is public at the end of March
    s = small[:window_end].iloc[-lookback:]
    lg = large[:window_end].iloc[-lookback:]
    want = float(np.log((1 + s).prod()) - np.log((1 + lg).prod()))
    assert got[d] == pytest.approx(want, rel=1e-10)
