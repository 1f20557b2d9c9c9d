"""The compiled switching sweep and CSCV against numpy routes computed independently."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallcaps.backtest import engine, fused, robustness


def synthetic(seed: int, *, n: int = 12, t: int = 300, lag: int = 1, bps: float = 5.0) -> dict:
    """Arguments of engine.evaluate_chunk for ``n`` switching variants on random data.

    Two or three conditions per variant (some padded with -1), NaN signal values, every
    comparison operator, variants that go into small on the condition and ones that go
    into large.
    """
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0, 1.0, (4, t))
    values[rng.random((4, t)) < 0.05] = np.nan
    signal = rng.integers(0, 4, (n, 3))
    signal[rng.random((n, 3)) < 0.3] = -1
    signal[:, 0] = rng.integers(0, 4, n)  # at least one condition each
    small = np.array([1.0, 0.0])
    large = np.array([0.0, 1.0])
    into_small = rng.random(n) < 0.6
    return {
        "values": values,
        "signal": signal.astype(np.int64),
        "op": rng.integers(0, 4, (n, 3)).astype(np.int8),
        "threshold": rng.normal(0.0, 0.7, (n, 3)),
        "on": np.where(into_small[:, None], small, large),
        "off": np.where(into_small[:, None], large, small),
        "r_small": rng.normal(4e-4, 0.014, t),
        "r_large": rng.normal(3e-4, 0.011, t),
        "r_cash": np.abs(rng.normal(1e-4, 5e-5, t)),
        "lag": lag,
        "cost": bps / 1e4,
        "expense_small": 0.0019 / 252,
        "expense_large": 0.000945 / 252,
        "periods_per_year": 252,
    }


def stats(shared: dict, *, reps: int = 60) -> dict[str, Any]:
    n = len(shared["r_cash"]) - shared["lag"] - 1
    plan = robustness.spa_plan(n, reps=reps, seed=3)
    return {
        "r_bench": shared["r_large"][shared["lag"] + 1 :] - 2e-5,
        "pbo_edges": robustness.pbo_edges(n, 6),
        "wf_windows": robustness.walk_forward_windows(n, 120, 40, 40),
        "spa_weights": plan.weights,
        "spa_block": plan.block_size,
    }


@settings(max_examples=25)
@given(
    seed=st.integers(0, 10_000),
    lag=st.integers(0, 3),
    bps=st.sampled_from([0.0, 5.0, 50.0]),
)
def test_compiled_sweep_equals_the_general_simulation(seed: int, lag: int, bps: float) -> None:
    shared = synthetic(seed, lag=lag, bps=bps)
    extra = stats(shared)
    rows = np.arange(len(shared["on"]))
    slow = engine.evaluate_chunk(rows, **shared, **extra, keep=True, switching=False)
    fast = engine.evaluate_chunk(rows, **shared, **extra, keep=True, switching=True)
    assert set(fast) == set(slow)
    for key in fast:
        if key == "spa":
            assert fast[key]["best"] == slow[key]["best"]
            np.testing.assert_allclose(fast[key]["max_sim"], slow[key]["max_sim"], atol=1e-15)
        else:
            np.testing.assert_allclose(fast[key], slow[key], rtol=1e-12, atol=1e-15, err_msg=key)


def test_bootstrap_sums_from_switches_equal_the_dense_product() -> None:
    shared = synthetic(7, n=40, t=500)
    extra = stats(shared, reps=50)
    edges = robustness.window_edges(extra["wf_windows"], 498)
    tables = engine.switching_spa_tables(
        extra["spa_weights"], r_bench=extra["r_bench"],
        **{k: shared[k] for k in engine._TABLE_KEYS},
    )  # fmt: skip
    got = fused.switching_chunk(
        np.arange(40), **shared, r_bench=extra["r_bench"], pbo_edges=extra["pbo_edges"],
        wf_edges=edges, spa_tables=tables, spa_block=extra["spa_block"], keep=True,
    )  # fmt: skip
    d = got["net"] - extra["r_bench"]
    dense = d @ extra["spa_weights"].T  # (variants, reps): every period, resampled
    np.testing.assert_allclose(got["spa_boot"], dense, rtol=0, atol=1e-13)
    np.testing.assert_allclose(got["spa_mean"], d.mean(axis=1), rtol=1e-13)
    assert got["spa_boot"].shape == (40, 50)
    # a variance only where the mean is negative, equal to the numpy route's
    neg = got["spa_mean"] < 0
    assert neg.any() and (~neg).any()
    assert np.isnan(got["spa_var"][~neg]).all()
    want = robustness.stationary_variance(
        d[neg] - d[neg].mean(axis=1, keepdims=True), extra["spa_block"]
    )
    np.testing.assert_allclose(got["spa_var"][neg], want, rtol=1e-12)


@pytest.mark.parametrize(("t", "block"), [(10, 1), (50, 2), (400, 7), (3000, 14)])
def test_one_pass_variance_equals_the_numpy_route(t: int, block: int) -> None:
    x = np.random.default_rng(t).normal(0.0, 0.01, t)
    x -= x.mean()
    pw = fused.powers(block, t)
    got = fused._variance(x + 0.5, np.full(t, 0.5), 0.0, t, 1.0 - 1.0 / block, pw)
    assert got == pytest.approx(robustness.stationary_variance(x[None, :], block)[0], rel=1e-12)


@pytest.mark.parametrize("n", [3, 50, 700])
def test_compiled_cscv_equals_numpy(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(n)
    x = rng.normal(0.0, 0.01, (240, n))
    x[:, n - 1] = x[:, 0]  # an exact tie: the lower column wins, ranks average
    x[:120, 1] = x[:120, 2]  # tied in the first half of the blocks only
    numpy_side = robustness.pbo(x, n_splits=8, periods_per_year=12)
    monkeypatch.setattr(robustness, "COMPILED_PBO", 0)
    compiled = robustness.pbo(x, n_splits=8, periods_per_year=12)
    np.testing.assert_array_equal(compiled.chosen, numpy_side.chosen)
    np.testing.assert_array_equal(compiled.logits, numpy_side.logits)
    np.testing.assert_array_equal(compiled.is_sharpe, numpy_side.is_sharpe)
    np.testing.assert_array_equal(compiled.oos_sharpe, numpy_side.oos_sharpe)
    assert n - 1 not in set(compiled.chosen)


def test_half_sums_with_or_without_room_for_partial_sums_agree() -> None:
    rng = np.random.default_rng(11)
    bs = rng.normal(0.0, 0.01, (8, 300))
    bss = bs * bs
    halves = [np.array(h) for h in ([0, 1, 2, 3], [0, 1, 2, 5], [0, 1, 4, 6], [0, 3, 5, 7])]
    keep = np.empty((2, 4, 300))
    one = np.empty((2, 1, 300))
    prev = np.full(4, -1)
    for h in halves:
        fused._half_sums(bs, bss, h, prev, keep[0], keep[1])  # reuses the shared prefix
        fused._half_sums(bs, bss, h, prev, one[0], one[1])  # adds every block again
        want = np.zeros(300)
        for b in h:  # the plain sequential sum
            want = want + bs[b]
        np.testing.assert_array_equal(keep[0, -1], want)
        np.testing.assert_array_equal(one[0, -1], want)
        np.testing.assert_array_equal(keep[1, -1], one[1, -1])
        prev = h


def test_read_only_inputs_need_no_second_compilation(monkeypatch: pytest.MonkeyPatch) -> None:
    """numba compiles one code per argument type, and a read-only array is a type of its own.

    The legs come read-only from the store: the same sweep on read-only and on writable
    inputs must run one compiled code (a second costs about 20 s per new install).
    """
    monkeypatch.setattr(robustness, "COMPILED_PBO", 0)

    def run(read_only: bool) -> None:
        shared = synthetic(5, n=30, t=400)
        extra = stats(shared)
        for value in (*shared.values(), *extra.values()):
            if isinstance(value, np.ndarray):
                value.setflags(write=not read_only)
        got = engine.evaluate_chunk(np.arange(30), **shared, **extra, switching=True)
        s = got["pbo_s"]
        s.setflags(write=not read_only)
        robustness.pbo_from_blocks(s, s * s, np.diff(extra["pbo_edges"]), periods_per_year=252)

    kernels = (fused.sweep, fused.bootstrap_sums, fused._fill_tables, fused.cscv)
    run(read_only=False)
    before = [len(f.signatures) for f in kernels]
    run(read_only=True)
    assert [len(f.signatures) for f in kernels] == before
    assert min(before) >= 1
