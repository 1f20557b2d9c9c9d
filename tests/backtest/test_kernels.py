"""Kernels against plain Python loops, cost invariants, and the fast switch path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallcaps.backtest import kernels, metrics


def loop_simulate(ws, wl, rs, rl, rc, *, lag, cost, es, el, start_in_cash=False):
    """Value of one portfolio, period by period, the slow way (independent of the kernel)."""
    t = len(rs)
    held = []
    for k in range(t):
        src = k - lag
        held.append((ws[src], wl[src]) if src >= 0 else (ws[0], wl[0]))
    prev = (0.0, 0.0) if start_in_cash else held[0]
    value, values = 1.0, []
    for j in range(t):
        if j >= 1:
            hs, hl = held[j - 1] if j - 1 >= lag or not start_in_cash else (0.0, 0.0)
            value *= 1 + hs * (rs[j] - es) + hl * (rl[j] - el) + (1 - hs - hl) * rc[j]
        now = held[j] if (j >= lag or not start_in_cash) else (0.0, 0.0)
        sells = max(prev[0] - now[0], 0) + max(prev[1] - now[1], 0)
        buys = max(now[0] - prev[0], 0) + max(now[1] - prev[1], 0)
        value *= (1 - cost * sells) / (1 + cost * buys)
        prev = now
        values.append(value)
    growth = np.array(values)
    return np.diff(np.r_[1.0, growth]) / np.r_[1.0, growth[:-1]]


weights = st.lists(st.floats(0.0, 1.0), min_size=8, max_size=40)


@settings(max_examples=60, deadline=None)
@given(weights, st.integers(0, 3), st.floats(0, 0.01), st.integers(0, 2**32 - 1))
def test_simulate_matches_a_loop(ws, lag, cost, seed) -> None:
    rng = np.random.default_rng(seed)
    t = len(ws)
    ws = np.array(ws)
    wl = (1 - ws) * rng.uniform(0, 1, t)  # some cash too
    rs, rl = rng.normal(0.01, 0.05, t), rng.normal(0.008, 0.04, t)
    rc = rng.uniform(0, 0.003, t)
    sim = kernels.simulate(ws[None], rs, rl, rc, w_large=wl[None], lag=lag, cost=cost,
                           expense_small=1e-4, expense_large=5e-5)  # fmt: skip
    want = loop_simulate(ws, wl, rs, rl, rc, lag=lag, cost=cost, es=1e-4, el=5e-5)
    k = kernels.first_period(lag)
    np.testing.assert_allclose(sim.net[0, k:], want[k:], rtol=1e-12, atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=5, max_size=40), st.floats(0, 0.01), st.integers(0, 99))
def test_start_in_cash_pays_the_entry(pos, cost, seed) -> None:
    rng = np.random.default_rng(seed)
    ws = np.array(pos, float)
    rs, rl = rng.normal(0, 0.02, len(ws)), rng.normal(0, 0.02, len(ws))
    sim = kernels.simulate(ws[None], rs, rl, lag=0, cost=cost, start_in_cash=True)
    want = loop_simulate(ws, 1 - ws, rs, rl, np.zeros(len(ws)), lag=0, cost=cost, es=0, el=0,
                         start_in_cash=True)  # fmt: skip
    np.testing.assert_allclose(sim.net[0], want, rtol=1e-12, atol=1e-14)
    assert sim.net[0, 0] == pytest.approx(1 / (1 + cost) - 1)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(1e-5, 0.02), st.integers(0, 2))
def test_doubling_the_cost_never_raises_a_return(seed, cost, lag) -> None:
    rng = np.random.default_rng(seed)
    v, t = 12, 60
    ws = rng.uniform(0, 1, (v, t))
    ws[: v // 2] = ws[: v // 2] > 0.5  # switching variants and fractional ones
    wl = (1 - ws) * rng.uniform(0.5, 1, (v, t))
    rs, rl, rc = rng.normal(0, 0.05, t), rng.normal(0, 0.04, t), np.full(t, 0.001)
    k = kernels.first_period(lag)
    growth = []
    for c in (cost, 2 * cost):
        sim = kernels.simulate(ws, rs, rl, rc, w_large=wl, lag=lag, cost=c)
        growth.append(np.prod(1 + sim.net[:, k:], axis=1))
    assert np.all(growth[1] <= growth[0])
    traded = kernels.simulate(ws, rs, rl, rc, w_large=wl, lag=lag).turnover > 0
    assert np.all(growth[1][traded] < growth[0][traded])


def test_zero_turnover_pays_no_cost() -> None:
    rng = np.random.default_rng(1)
    t = 50
    rs, rl, rc = rng.normal(0, 0.05, t), rng.normal(0, 0.04, t), np.full(t, 0.002)
    ws = np.tile([[0.6], [1.0], [0.0], [0.3]], (1, t))
    wl = np.tile([[0.4], [0.0], [0.0], [0.3]], (1, t))
    free = kernels.simulate(ws, rs, rl, rc, w_large=wl, lag=1, cost=0.0)
    dear = kernels.simulate(ws, rs, rl, rc, w_large=wl, lag=1, cost=0.05)
    assert np.all(dear.turnover == 0)
    np.testing.assert_array_equal(free.net, dear.net)
    # all in cash earns exactly the cash rate
    np.testing.assert_allclose(dear.net[2, 2:], rc[2:], rtol=1e-15)


def test_decision_at_t_earns_the_period_after_the_lag() -> None:
    t = 6
    rs = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    rl = np.zeros(t)
    ws = np.zeros((1, t))
    ws[0, 2] = 1.0  # decided at close 2 only
    for lag, period in ((0, 3), (1, 4), (2, 5)):
        net = kernels.simulate(ws, rs, rl, lag=lag).net[0]
        earned = np.flatnonzero(net[kernels.first_period(lag) :]) + kernels.first_period(lag)
        assert list(earned) == [period], lag
        assert net[period] == pytest.approx(rs[period])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 3), st.floats(0, 0.01), st.booleans())
def test_switch_stats_equal_the_full_simulation(seed, lag, cost, cash_start) -> None:
    rng = np.random.default_rng(seed)
    v, t = 9, 70
    pos = rng.uniform(0, 1, (v, t)) > rng.uniform(0.1, 0.9, (v, 1))
    pos[0] = True
    pos[1] = False
    lag = 0 if cash_start else lag
    rs, rl = rng.normal(0.0005, 0.02, t), rng.normal(0.0004, 0.01, t)
    sim = kernels.simulate(pos.astype(float), rs, rl, lag=lag, cost=cost, expense_small=3e-5,
                           expense_large=1e-5, start_in_cash=cash_start)  # fmt: skip
    net = sim.net if cash_start else sim.net[:, kernels.first_period(lag) :]
    st_ = kernels.switch_stats(pos, rs, rl, lag=lag, cost=cost, expense_small=3e-5,
                               expense_large=1e-5, start_in_cash=cash_start)  # fmt: skip
    assert st_.n == net.shape[1]
    np.testing.assert_allclose(st_.total, net.sum(axis=1), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(st_.total_sq, (net**2).sum(axis=1), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(st_.log_growth, np.log1p(net).sum(axis=1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        metrics.sharpe_from_sums(st_.total, st_.total_sq, st_.n, 252),
        metrics.sharpe(net, 252), rtol=1e-8,
    )  # fmt: skip
    switches = (np.diff(pos[:, : t - lag].astype(int), axis=1) != 0).sum(axis=1)
    np.testing.assert_allclose(st_.trades, switches + cash_start)


def test_positions_from_conditions_and_pads() -> None:
    bank = np.array([[1, 1, 0, 0], [1, 0, 1, 0]], dtype=bool)
    index = np.array([[0, 1], [0, -1], [-1, -1]])
    on = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    off = np.array([[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    ws, wl = kernels.positions_from_conditions(bank, index, on, off)
    np.testing.assert_array_equal(ws, [[1, 0, 0, 0], [0.5, 0.5, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(wl, [[0, 1, 1, 1], [0.5, 0.5, 0, 0], [1, 1, 1, 1]])
