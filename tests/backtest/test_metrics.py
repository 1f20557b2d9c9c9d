"""Metrics against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallcaps.backtest import metrics


def test_drawdown_by_hand() -> None:
    net = np.array([0.1, -0.5, 0.2, 0.5, 0.2, -0.1, 0.0])
    # growth 1.1, .55, .66, .99, 1.188 (new peak), 1.0692, 1.0692
    dd, length = metrics.drawdowns(net)
    assert dd[0] == pytest.approx(0.55 / 1.1 - 1)
    assert length[0] == 3  # under the 1.1 peak for periods 2, 3, 4
    np.testing.assert_allclose(
        metrics.drawdown_path(net), [0, -0.5, -0.4, -0.1, 0, -0.1, -0.1], atol=1e-12
    )


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-0.5, 0.5), min_size=3, max_size=80))
def test_metrics_match_loops(values) -> None:
    net = np.array(values)
    n = len(net)
    wealth, worst, longest = loop_wealth(net.tolist())
    dd, length = metrics.drawdowns(net)
    assert dd[0] == pytest.approx(worst, abs=1e-12)
    assert length[0] == longest
    assert metrics.cagr(net, 12)[0] == pytest.approx(wealth ** (12 / n) - 1, rel=1e-9, abs=1e-12)
    mean = sum(net) / n
    sd = math.sqrt(sum((r - mean) ** 2 for r in net) / (n - 1))
    if sd > 1e-9:
        assert metrics.sharpe(net, 12)[0] == pytest.approx(mean / sd * math.sqrt(12), rel=1e-9)
        ss = metrics.sharpe_from_sums(net.sum(), (net**2).sum(), n, 12)
        assert ss == pytest.approx(mean / sd * math.sqrt(12), rel=1e-6, abs=1e-9)
    down = math.sqrt(sum(min(r, 0) ** 2 for r in net) / n)
    if down > 0:
        assert metrics.sortino(net, 12)[0] == pytest.approx(mean / down * math.sqrt(12), rel=1e-9)
    assert metrics.hit_rate(net)[0] == pytest.approx(sum(r > 0 for r in net) / n)


def loop_wealth(r: list[float]) -> tuple[float, float, int]:
    """Final wealth, worst drawdown and longest time under water, by a plain loop."""
    wealth, peak, worst, under, longest = 1.0, 1.0, 0.0, 0, 0
    for x in r:
        wealth *= 1 + x
        if wealth >= peak:
            peak, under = wealth, 0
        else:
            under += 1
        worst = min(worst, wealth / peak - 1)
        longest = max(longest, under)
    return wealth, worst, longest


def loop_metrics(r: list[float], rf: list[float], ppy: int) -> dict[str, float]:
    """Every metric of one variant by plain loops over its returns."""
    n = len(r)
    wealth, worst, longest = loop_wealth(r)
    mean = sum(r) / n
    vol = math.sqrt(sum((x - mean) ** 2 for x in r) / (n - 1))
    ex = [x - c for x, c in zip(r, rf, strict=True)]
    mex = sum(ex) / n
    sd = math.sqrt(sum((x - mex) ** 2 for x in ex) / (n - 1))
    down = math.sqrt(sum(min(x, 0.0) ** 2 for x in ex) / n)
    return {
        "cagr": wealth ** (ppy / n) - 1,
        "vol": vol * math.sqrt(ppy),
        "sharpe": mex / sd * math.sqrt(ppy),
        "sortino": mex / down * math.sqrt(ppy),
        "max_dd": worst,
        "max_dd_periods": longest,
        "hit_rate": sum(x > c for x, c in zip(r, rf, strict=True)) / n,
    }


def test_summarise_matches_loops_with_cash_turnover_and_time_in_small() -> None:
    rng = np.random.default_rng(0)
    net = rng.normal(0.008, 0.05, (3, 40))
    rf = rng.uniform(0.0, 0.004, 40)
    turnover = np.array([0.0, 4.0, 10.0])  # total over the 40 months
    time_small = np.array([0.0, 0.5, 1.0])
    got = metrics.summarise(net, periods_per_year=12, rf=rf, turnover=turnover,
                            time_small=time_small)  # fmt: skip
    assert set(got) == set(metrics.DEFINITIONS) - {"excess"}
    for v in range(3):
        want = loop_metrics(net[v].tolist(), rf.tolist(), 12)
        for name, value in want.items():
            assert got[name][v] == pytest.approx(value, rel=1e-9, abs=1e-12), (v, name)
        assert got["turnover"][v] == pytest.approx(turnover[v] / (40 / 12), rel=1e-12)
        assert got["time_small"][v] == time_small[v]
    assert got["max_dd"].min() < -0.1 and (got["max_dd_periods"] > 0).all()  # drawdowns seen
