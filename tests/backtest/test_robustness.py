"""Robustness statistics: worked examples, known answers, plain-loop references, properties."""

from __future__ import annotations

import json
import math
import statistics
import warnings
from dataclasses import replace
from itertools import combinations
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from arch.bootstrap import StationaryBootstrap
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import integrate
from scipy.stats import norm, rankdata

from smallcaps.backtest.robustness import (
    PBO,
    SPA,
    DeflatedSharpe,
    Robustness,
    WalkForward,
    deflated_sharpe,
    deflated_sharpe_from_stats,
    expected_max_sharpe,
    judge,
    pbo,
    sharpe_ratios,
    spa,
    spa_chunk,
    spa_from_stats,
    spa_indices,
    spa_plan,
    stationary_variance,
    verdict,
    walk_forward,
)
from smallcaps.errors import ConfigError, InsufficientDataError

GAMMA = 0.5772156649015329


# --- plain-loop references (no numpy vectorisation, stdlib statistics) -----------------------


def loop_sharpe(values: list[float]) -> float:
    """Per-period Sharpe by the stdlib; the module's rule: no variation -> 0, < 2 rows -> NaN."""
    if len(values) < 2:
        return float("nan")
    mean, sd = statistics.fmean(values), statistics.stdev(values)
    return 0.0 if sd <= 1e-9 * abs(mean) else mean / sd


def loop_argmax(values: list[float]) -> int:
    best = 0
    for j, v in enumerate(values):
        if v > values[best]:
            best = j
    return best


def loop_moments(values: list[float]) -> tuple[float, float]:
    """Biased sample skewness and non-excess kurtosis, by hand."""
    n, mean = len(values), statistics.fmean(values)
    m2 = sum((v - mean) ** 2 for v in values) / n
    m3 = sum((v - mean) ** 3 for v in values) / n
    m4 = sum((v - mean) ** 4 for v in values) / n
    return m3 / m2**1.5, m4 / m2**2


def loop_cscv(x: np.ndarray, n_splits: int) -> tuple[list[int], list[float]]:
    """CSCV by the book: every half of the blocks as IS, winner's average OOS rank, logit."""
    t, n = x.shape
    blocks = np.array_split(np.arange(t), n_splits)
    chosen, logits = [], []
    for combo in combinations(range(n_splits), n_splits // 2):
        is_rows = [r for b in combo for r in blocks[b]]
        oos_rows = [r for b in range(n_splits) if b not in combo for r in blocks[b]]
        sr_is = [loop_sharpe([float(x[r, j]) for r in is_rows]) for j in range(n)]
        sr_oos = [loop_sharpe([float(x[r, j]) for r in oos_rows]) for j in range(n)]
        best = loop_argmax(sr_is)
        rank = float(rankdata(sr_oos, method="average")[best])
        chosen.append(best)
        logits.append(math.log(rank / (n + 1 - rank)))
    return chosen, logits


def loop_walk_forward(x: np.ndarray, train: int, test: int, step: int, ppy: int) -> list[dict]:
    folds, start = [], 0
    while start + train + test <= len(x):
        sr = [loop_sharpe(list(x[start : start + train, j])) for j in range(x.shape[1])]
        pick = loop_argmax(sr)
        held = list(x[start + train : start + train + test, pick])
        folds.append(
            {
                "train_start": start,
                "train_end": start + train - 1,
                "test_start": start + train,
                "test_end": start + train + test - 1,
                "chosen": pick,
                "is_sharpe": sr[pick] * math.sqrt(ppy),
                "oos_sharpe": loop_sharpe(held) * math.sqrt(ppy),
            }
        )
        start += step
    return folds


def noise(seed: int, t: int, n: int, sd: float = 0.01) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, sd, (t, n))


def assert_json_ready(result: object) -> None:
    text = json.dumps(result.to_dict(), allow_nan=False)  # type: ignore[attr-defined]
    assert isinstance(json.loads(text), dict)
    assert str(result) == result.summary()  # type: ignore[attr-defined]


# --- Sharpe ratios ------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.int64, st.tuples(st.integers(2, 40), st.integers(1, 4)), elements=st.integers(-50, 50)
    )
)
def test_sharpe_ratios_match_a_stdlib_loop(ints: np.ndarray) -> None:
    x = ints / 1000.0
    got = sharpe_ratios(x, periods_per_year=12)
    want = [loop_sharpe(list(x[:, j])) * math.sqrt(12) for j in range(x.shape[1])]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sharpe_ratios(-x, periods_per_year=12), -got, atol=1e-12)
    np.testing.assert_allclose(
        sharpe_ratios(3.7 * x, periods_per_year=12), got, rtol=1e-12, atol=1e-12
    )


def test_sharpe_ratios_of_excess_returns_and_constant_columns() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0.01, 0.02, (120, 3))
    rf = np.full(120, 0.004)
    got = sharpe_ratios(x, periods_per_year=12, rf=rf)
    want = [loop_sharpe(list(x[:, j] - 0.004)) * math.sqrt(12) for j in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(sharpe_ratios(x, periods_per_year=12, rf=np.tile(rf, (3, 1)).T), got)
    flat = np.c_[np.full(120, 0.01), np.zeros(120), x[:, 0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a zero std must not warn
        got = sharpe_ratios(flat, periods_per_year=12)
    assert got[0] == 0.0 and got[1] == 0.0 and got[2] > 0


@pytest.mark.parametrize(
    ("bad", "error", "needle"),
    [
        (np.zeros((4, 2, 2)), ConfigError, r"\(T, N\) array"),
        (np.array([[0.1, 0.2], [0.3, np.nan], [0.0, 0.1]]), ConfigError, "row 1, column 1"),
        (np.array([[0.1, 0.2]]), InsufficientDataError, "at least 2 rows"),
        ([["a", "b"], ["c", "d"]], ConfigError, "array of numbers"),
    ],
)
def test_sharpe_ratios_refuse_bad_input(bad: object, error: type, needle: str) -> None:
    with pytest.raises(error, match=needle):
        sharpe_ratios(bad, periods_per_year=12)


def test_sharpe_ratios_refuse_a_misshaped_rf() -> None:
    with pytest.raises(ConfigError, match="rf must have shape"):
        sharpe_ratios(np.zeros((10, 2)), periods_per_year=12, rf=np.zeros(9))


# --- Deflated Sharpe Ratio ----------------------------------------------------------------------


def test_dsr_reproduces_the_papers_numerical_example() -> None:
    # Bailey and López de Prado (2014), numerical example: best of N = 100 trials has an
    # annualised SR of 2.5 over 5 years of daily returns (T = 1250, 250 days a year), the
    # trials' annualised Sharpe ratios have variance 1/2, skew -3, kurtosis 10:
    # SR0 = 0.1132 per day and DSR = 0.9004, not significant at 0.95.
    r = deflated_sharpe_from_stats(
        2.5 / math.sqrt(250), 0.5 / 250, 100, 1250, -3.0, 10.0, periods_per_year=250
    )
    assert r.expected_max_sharpe_period == pytest.approx(0.1132, abs=5e-5)
    assert r.expected_max_sharpe == pytest.approx(1.7894, abs=5e-4)
    assert r.dsr == pytest.approx(0.9004, abs=5e-5)
    assert not r.significant and r.best is None and r.sharpe == pytest.approx(2.5)
    # the same through the stdlib's normal distribution, by hand
    z = NormalDist().inv_cdf
    sr, v = 2.5 / math.sqrt(250), 0.5 / 250
    sr0 = math.sqrt(v) * ((1 - GAMMA) * z(1 - 1 / 100) + GAMMA * z(1 - 1 / (100 * math.e)))
    stat = (sr - sr0) * math.sqrt(1249) / math.sqrt(1 + 3 * sr + 9 / 4 * sr**2)
    assert r.dsr == pytest.approx(NormalDist().cdf(stat), abs=1e-12)
    assert_json_ready(r)


@pytest.mark.parametrize("n_trials", [10, 100, 1000])
def test_expected_max_sharpe_is_close_to_the_exact_expected_maximum(n_trials: int) -> None:
    # E[max of N iid N(0, 1)] = int x N phi(x) Phi(x)^(N-1) dx; the paper's approximation is
    # within a few percent of it for N >= 10.
    exact, _ = integrate.quad(
        lambda u: u * n_trials * norm.pdf(u) * norm.cdf(u) ** (n_trials - 1), -10, 10
    )
    approx = expected_max_sharpe(4.0, n_trials) / 2.0
    assert approx == pytest.approx(exact, rel=0.04)
    assert expected_max_sharpe(4.0, 1) == 0.0


def test_dsr_from_returns_matches_a_hand_computation() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_t(5, (500, 12)) * 0.01 + rng.normal(0.0005, 0.0005, 12)
    r = deflated_sharpe(x, periods_per_year=252)
    srs = [loop_sharpe(list(x[:, j])) for j in range(12)]
    best = loop_argmax(srs)
    skew, kurt = loop_moments(list(x[:, best]))
    z = NormalDist().inv_cdf
    sr0 = math.sqrt(statistics.variance(srs)) * (
        (1 - GAMMA) * z(1 - 1 / 12) + GAMMA * z(1 - 1 / (12 * math.e))
    )
    spread = math.sqrt(1 - skew * srs[best] + (kurt - 1) / 4 * srs[best] ** 2)
    assert r.best == best and r.n_trials == 12 and r.n_obs == 500
    assert r.skew == pytest.approx(skew, rel=1e-9) and r.kurtosis == pytest.approx(kurt, rel=1e-9)
    assert r.expected_max_sharpe_period == pytest.approx(sr0, rel=1e-9)
    want = NormalDist().cdf((srs[best] - sr0) * math.sqrt(499) / spread)
    assert r.dsr == pytest.approx(want, abs=1e-9)
    assert r.psr_zero == pytest.approx(NormalDist().cdf(srs[best] * math.sqrt(499) / spread))
    assert r.sharpe == pytest.approx(srs[best] * math.sqrt(252))
    assert_json_ready(r)


@pytest.mark.parametrize("seed", range(5))
def test_dsr_of_pure_noise_is_not_significant(seed: int) -> None:
    x = noise(seed, 1000, 200)
    r = deflated_sharpe(x, periods_per_year=252)
    assert not r.significant and r.dsr < 0.95
    # SR0 is the best Sharpe noise produces: the observed maximum is close to it
    assert r.sharpe_period == pytest.approx(r.expected_max_sharpe_period, rel=0.35)


def test_dsr_finds_a_planted_edge() -> None:
    x = noise(11, 1000, 200)
    x[:, 7] += 0.003  # per-period Sharpe 0.3, t about 9.5
    r = deflated_sharpe(x, periods_per_year=252)
    assert r.best == 7 and r.significant and r.dsr > 0.99


def test_dsr_effective_trials_and_single_variant() -> None:
    x = noise(5, 600, 50)
    x[:, 3] += 0.0015
    full = deflated_sharpe(x, periods_per_year=252)
    fewer = deflated_sharpe(x, periods_per_year=252, n_trials=5)
    assert fewer.n_trials == 5 and fewer.expected_max_sharpe < full.expected_max_sharpe
    assert fewer.dsr > full.dsr and fewer.sharpe_variance == full.sharpe_variance
    one = deflated_sharpe(x[:, 3], periods_per_year=252)
    assert one.n_trials == 1 and one.expected_max_sharpe == 0.0 and one.dsr == one.psr_zero
    other = deflated_sharpe(x, periods_per_year=252, best=0)
    assert other.best == 0 and other.sharpe < full.sharpe
    with pytest.raises(ConfigError, match="at least 2 variants"):
        deflated_sharpe(x[:, 3], periods_per_year=252, n_trials=10)
    with pytest.raises(ConfigError, match=r"best must be a column index in 0\.\.49"):
        deflated_sharpe(x, periods_per_year=252, best=50)


def test_dsr_of_a_constant_best_column_does_not_warn() -> None:
    x = noise(2, 300, 5) - 0.01  # every variant loses; cash (column 5) is best
    x = np.c_[x, np.zeros(300)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = deflated_sharpe(x, periods_per_year=12)
    assert r.best == 5 and r.sharpe == 0.0 and (r.skew, r.kurtosis) == (0.0, 3.0)


def test_dsr_from_stats_refuses_impossible_moments() -> None:
    with pytest.raises(ConfigError, match="must be > 0"):
        deflated_sharpe_from_stats(1.0, 0.01, 10, 100, 5.0, 1.0)
    with pytest.raises(ConfigError, match="n_obs"):
        deflated_sharpe_from_stats(0.1, 0.01, 10, 1, 0.0, 3.0)


# --- PBO ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("t", "n", "n_splits"), [(24, 5, 4), (39, 6, 6)])
def test_pbo_matches_a_plain_loop_exactly(t: int, n: int, n_splits: int) -> None:
    x = noise(t, t, n)
    x[:, 2] = x[:, 1]  # a duplicate column: IS ties go to column 1, OOS ties share ranks
    r = pbo(x, n_splits=n_splits, periods_per_year=12)
    chosen, logits = loop_cscv(x, n_splits)
    assert r.n_combinations == math.comb(n_splits, n_splits // 2) == len(logits)
    assert list(r.chosen) == chosen and 2 not in chosen
    np.testing.assert_array_equal(r.logits, np.array(logits))
    assert r.pbo == np.mean(np.array(logits) <= 0)
    assert r.median_logit == np.median(logits)
    slope = np.polyfit(r.is_sharpe, r.oos_sharpe, 1)[0]
    assert r.performance_degradation == pytest.approx(slope, rel=1e-9)
    assert r.prob_oos_loss == np.mean(r.oos_sharpe < 0)


def test_pbo_of_pure_noise_is_near_one_half() -> None:
    r = pbo(noise(2024, 1000, 50), n_splits=16, periods_per_year=12)
    assert r.n_combinations == 12870 and len(r.logits) == 12870
    assert 0.35 <= r.pbo <= 0.65
    assert abs(r.median_logit) < 1.0
    assert_json_ready(r)


def test_pbo_of_a_planted_edge_is_near_zero() -> None:
    x = noise(7, 1000, 50)
    x[:, 13] += 0.002  # per-period Sharpe 0.2 among 49 noise variants
    r = pbo(x, n_splits=16, periods_per_year=12)
    assert r.pbo < 0.05 and not r.overfit
    assert np.mean(r.chosen == 13) > 0.9 and r.prob_oos_loss < 0.05
    assert r.median_logit == pytest.approx(math.log(50 / 1))  # rank 50 of 50: w = 50/51


def test_pbo_of_identical_variants_is_one() -> None:
    r = pbo(np.zeros((64, 4)), n_splits=8, periods_per_year=12)
    # every Sharpe is 0: column 0 wins every IS half and ranks at the median OOS (logit 0)
    assert (r.chosen == 0).all() and (r.logits == 0).all() and r.pbo == 1.0 and r.overfit


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(3, 8), st.sampled_from([2, 4, 6]))
def test_pbo_does_not_depend_on_column_order(seed: int, n: int, n_splits: int) -> None:
    x = noise(seed, 40, n)
    perm = np.random.default_rng(seed).permutation(n)
    a = pbo(x, n_splits=n_splits, periods_per_year=12)
    b = pbo(x[:, perm], n_splits=n_splits, periods_per_year=12)
    np.testing.assert_array_equal(perm[b.chosen], a.chosen)
    np.testing.assert_array_equal(a.logits, b.logits)
    assert (np.abs(a.logits) <= math.log(n) + 1e-12).all()


def test_pbo_on_a_large_sweep_matches_direct_splits() -> None:
    # many chunks of CSCV halves: spot-check splits (and their mirrors) computed directly
    x = noise(0, 1200, 1000)
    r = pbo(x, n_splits=16, periods_per_year=12)
    assert r.n_combinations == 12870 and len(r.logits) == len(r.chosen) == 12870
    combos = list(combinations(range(16), 8))
    blocks = np.array_split(np.arange(1200), 16)
    for k in (0, 1, 700, 6434, 6435, 12869):
        is_rows = np.concatenate([blocks[b] for b in combos[k]])
        oos_rows = np.setdiff1d(np.arange(1200), is_rows)
        sr_is = x[is_rows].mean(axis=0) / x[is_rows].std(axis=0, ddof=1)
        sr_oos = x[oos_rows].mean(axis=0) / x[oos_rows].std(axis=0, ddof=1)
        best = int(np.argmax(sr_is))
        rank = float(rankdata(sr_oos, method="average")[best])
        assert r.chosen[k] == best
        assert r.logits[k] == pytest.approx(math.log(rank / (1001 - rank)), abs=1e-12)
        assert r.oos_sharpe[k] == pytest.approx(sr_oos[best] * math.sqrt(12), rel=1e-9)


def test_pbo_ties_are_exact_when_half_samples_are_identical() -> None:
    # Three variants identical over block 1 (rows 30..59) and different over block 0, where
    # column 0 is the worst. Split {0}: the IS winner (column 2, best on block 0) ties with
    # every variant OOS, so its rank is the average 2 of 3: logit 0. Split {1}: all three tie
    # IS, so column 0 wins and ranks last OOS: logit ln(1/3). The documented rule gives
    # PBO = 1 exactly; Sharpe ratios centred by full-sample means would break the ties.
    rng = np.random.default_rng(4)
    same = rng.normal(0.001, 0.01, 30)
    head = rng.normal(0.0, 0.01, (30, 3)) + np.array([-0.01, 0.0, 0.01])
    x = np.vstack([head, np.tile(same[:, None], (1, 3))])
    r = pbo(x, n_splits=2, periods_per_year=12)
    assert list(r.chosen) == [2, 0]
    assert list(r.logits) == [0.0, math.log(1 / 3)] and r.pbo == 1.0
    # the same over 16 blocks: a plain loop with the stdlib (ties exact by construction)
    y = noise(9, 160, 6)
    y[:80, 3] = y[:80, 1]  # equal in the first half of the blocks, different in the rest
    y[80:, 4] = y[80:, 2]
    chosen, logits = loop_cscv(y, 8)
    got = pbo(y, n_splits=8, periods_per_year=12)
    assert list(got.chosen) == chosen
    np.testing.assert_array_equal(got.logits, np.array(logits))


def test_pbo_on_one_or_two_threads_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    x = noise(3, 120, 11)
    x[:, 7] = x[:, 2]  # a tie: the lower column must win
    monkeypatch.setattr("smallcaps.backtest.robustness.local_threads", lambda: 1)
    one = pbo(x, n_splits=6, periods_per_year=12)
    monkeypatch.setattr("smallcaps.backtest.robustness.local_threads", lambda: 2)
    many = pbo(x, n_splits=6, periods_per_year=12)
    np.testing.assert_array_equal(one.chosen, many.chosen)
    np.testing.assert_array_equal(one.logits, many.logits)
    np.testing.assert_array_equal(one.oos_sharpe, many.oos_sharpe)
    assert 7 not in set(one.chosen)


@pytest.mark.parametrize(
    ("kwargs", "error", "needle"),
    [
        ({"n_splits": 5}, ConfigError, "even integer"),
        ({"n_splits": 26}, ConfigError, "even integer"),
        ({"n_splits": 16, "shape": (31, 4)}, InsufficientDataError, "at least 32 rows"),
        ({"n_splits": 4, "shape": (40, 1)}, ConfigError, "at least 2 variants"),
    ],
)
def test_pbo_refuses_bad_splits(kwargs: dict, error: type, needle: str) -> None:
    x = noise(0, *kwargs.pop("shape", (100, 4)))
    with pytest.raises(error, match=needle):
        pbo(x, periods_per_year=12, **kwargs)


# --- SPA ----------------------------------------------------------------------------------------


def spa_data(seed: int, edge: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    bench = rng.normal(0.0005, 0.01, 600)
    variants = bench[:, None] + rng.normal(0.0, 0.005, (600, 10))
    variants[:, 3] += edge
    return bench, variants


def test_spa_of_variants_that_are_the_benchmark_plus_noise_is_not_significant() -> None:
    bench, variants = spa_data(1, 0.0)
    r = spa(bench, variants, reps=300, seed=1)
    assert not r.significant and r.p_consistent > 0.05
    assert r.p_lower <= r.p_consistent <= r.p_upper
    assert r.block_size == round(600 ** (1 / 3)) == 8 and r.n_variants == 10
    excess = [statistics.fmean(variants[:, j] - bench) for j in range(10)]
    assert r.best == loop_argmax(excess) and r.best_excess_mean == pytest.approx(max(excess))
    assert_json_ready(r)


def test_spa_rarely_rejects_when_no_variant_is_better() -> None:
    # under the null the consistent p-value is roughly uniform or larger: few of 10 reject
    rejections = [spa(*spa_data(100 + k, 0.0), reps=200, seed=k).significant for k in range(10)]
    assert sum(rejections) <= 2


def test_spa_finds_a_clear_edge_and_is_reproducible() -> None:
    bench, variants = spa_data(2, 0.002)  # t about 10 on the loss differential
    r = spa(bench, variants, reps=300, seed=7)
    assert r.significant and r.p_consistent < 0.01 and r.best == 3
    assert spa(bench, variants, reps=300, seed=7) == r
    assert spa(bench, variants, reps=300, seed=7, block_size=3).block_size == 3


@pytest.mark.parametrize(("seed", "edge", "n"), [(0, 0.0, 6), (3, 0.001, 4), (5, -0.0005, 12)])
def test_spa_equals_arch_on_the_same_bootstrap(seed: int, edge: float, n: int) -> None:
    from arch import bootstrap

    rng = np.random.default_rng(seed)
    bench = rng.normal(0.0005, 0.01, 300)
    variants = bench[:, None] + rng.normal(0.0, 0.004, (300, n))
    variants[:, 1] += edge
    variants[:, 2] -= 0.002  # clearly worse: left out of the consistent p-value
    size = round(300 ** (1 / 3))
    ours = spa(bench, variants, reps=200, seed=seed)
    ref = bootstrap.SPA(
        -bench, -variants, block_size=size, reps=200, bootstrap="stationary", seed=seed
    )
    ref.compute()
    p = ref.pvalues
    assert (ours.p_lower, ours.p_consistent, ours.p_upper) == (
        p["lower"],
        p["consistent"],
        p["upper"],
    )
    # the same indices: arch's bootstrap draws them, and its loop variance equals ours
    idx = spa_indices(300, reps=200, block_size=size, seed=seed)
    boot = StationaryBootstrap(size, np.empty(300), seed=seed)
    for row in idx[:3]:
        boot._index = boot.update_indices()
        np.testing.assert_array_equal(row, boot.index)
    ref._compute_variance()
    d = (variants - bench[:, None]).T
    np.testing.assert_allclose(
        stationary_variance(d - d.mean(axis=1, keepdims=True), size),
        ref._loss_diff_var,
        rtol=1e-9,
    )
    # in blocks of variants, merged: the same p-values
    plan = spa_plan(300, reps=200, seed=seed)
    parts = [spa_chunk(d[lo : lo + 3], plan.weights, plan.block_size) for lo in range(0, n, 3)]
    assert spa_from_stats(parts, plan) == ours


@pytest.mark.parametrize(("t", "block"), [(2000, 5), (3000, 19), (500, 1), (400, 150), (64, 2)])
def test_stationary_variance_equals_arch_loop_over_lags(t: int, block: int) -> None:
    # arch's formula lag by lag; long samples with short blocks take the truncated wrap branch
    rng = np.random.default_rng(t + block)
    x = rng.normal(0.0, 0.01, (3, t))
    x[:, : t // 4] += 0.004  # autocorrelated: the lags matter
    x -= x.mean(axis=1, keepdims=True)
    p = 1.0 / block
    loop = (x * x).sum(axis=1)
    for i in range(1, t):
        kappa = (1 - i / t) * (1 - p) ** i + (i / t) * (1 - p) ** (t - i)
        loop += 2.0 * kappa * (x[:, :-i] * x[:, i:]).sum(axis=1)
    np.testing.assert_allclose(stationary_variance(x, block), loop / t, rtol=1e-12)


def test_spa_refuses_misaligned_input() -> None:
    bench, variants = spa_data(0, 0.0)
    with pytest.raises(ConfigError, match="600 rows but variants have 599"):
        spa(bench, variants[1:], reps=100)
    with pytest.raises(ConfigError, match="benchmark must be one series"):
        spa(variants, variants, reps=100)


# --- walk-forward -------------------------------------------------------------------------------


@pytest.mark.parametrize(("train", "test", "step"), [(24, 6, None), (36, 1, 1), (20, 5, 9)])
def test_walk_forward_matches_a_plain_loop(train: int, test: int, step: int | None) -> None:
    x = noise(4, 130, 7)
    r = walk_forward(x, train=train, test=test, step=step, periods_per_year=12)
    want = loop_walk_forward(x, train, test, step or test, 12)
    assert r.n_folds == len(want)
    for got, ref in zip(r.folds, want, strict=True):
        assert {k: got[k] for k in ("train_start", "train_end", "test_start", "test_end")} == {
            k: ref[k] for k in ("train_start", "train_end", "test_start", "test_end")
        }
        assert got["chosen"] == ref["chosen"]
        assert got["is_sharpe"] == pytest.approx(ref["is_sharpe"], rel=1e-12)
        assert got["oos_sharpe"] == pytest.approx(ref["oos_sharpe"], rel=1e-12, nan_ok=True)
    held = [x[row, f["chosen"]] for f in want for row in range(f["test_start"], f["test_end"] + 1)]
    np.testing.assert_array_equal(r.oos_returns, held)
    np.testing.assert_array_equal(
        r.oos_rows, [row for f in want for row in range(f["test_start"], f["test_end"] + 1)]
    )
    assert r.oos_sharpe == pytest.approx(loop_sharpe(held) * math.sqrt(12), rel=1e-12)
    assert r.is_sharpe == pytest.approx(statistics.fmean(f["is_sharpe"] for f in want))
    assert_json_ready(r)  # a one-row test window has a NaN fold Sharpe: null in JSON


def test_walk_forward_always_picks_a_dominant_variant_and_reports_dates() -> None:
    x = noise(8, 120, 5)
    x[:, 2] += 0.02
    index = pd.date_range("2000-01-31", periods=120, freq="ME")
    r = walk_forward(x, train=36, test=12, periods_per_year=12, index=index)
    assert r.chosen == [2] * 7 and r.oos_sharpe > 0
    assert r.folds[0]["train_start"] == "2000-01-31" and r.folds[0]["train_end"] == "2002-12-31"
    assert r.folds[0]["test_start"] == "2003-01-31" and r.folds[-1]["test_end"] == "2009-12-31"
    assert "2003-01-31 to 2009-12-31" in r.summary()


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(2, 6),
    st.integers(3, 30),
    st.integers(1, 10),
    st.integers(0, 3),
    st.data(),
)
def test_walk_forward_choices_never_see_the_future(
    seed: int, n: int, train: int, test: int, extra: int, data: st.DataObject
) -> None:
    x = noise(seed, 120, n)
    step = test + extra
    before = walk_forward(x, train=train, test=test, step=step, periods_per_year=12)
    k = data.draw(st.integers(0, before.n_folds - 1))
    cut = before.folds[k]["train_end"] + 1  # first row after fold k's train window
    shocked = x.copy()
    shocked[cut:] = np.random.default_rng(seed + 1).normal(0.05, 0.2, shocked[cut:].shape)
    after = walk_forward(shocked, train=train, test=test, step=step, periods_per_year=12)
    assert after.chosen[: k + 1] == before.chosen[: k + 1]
    assert [f["is_sharpe"] for f in after.folds[: k + 1]] == [
        f["is_sharpe"] for f in before.folds[: k + 1]
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "needle"),
    [
        ({"train": 100, "test": 30}, InsufficientDataError, "train \\+ test = 130 rows, got 120"),
        ({"train": 24, "test": 12, "step": 6}, ConfigError, "step \\(6\\) < test \\(12\\)"),
        ({"train": 1, "test": 12}, ConfigError, "train must be an integer >= 2"),
        ({"train": 24, "test": 12, "index": pd.RangeIndex(120)}, ConfigError, "DatetimeIndex"),
    ],
)
def test_walk_forward_refuses_bad_windows(kwargs: dict, error: type, needle: str) -> None:
    with pytest.raises(error, match=needle):
        walk_forward(noise(0, 120, 3), periods_per_year=12, **kwargs)


# --- verdict ------------------------------------------------------------------------------------


def run_all(x: np.ndarray, bench: np.ndarray) -> tuple[bool, list[str]]:
    return verdict(
        deflated_sharpe(x, periods_per_year=252),
        pbo(x, n_splits=10, periods_per_year=252),
        spa(bench, x, reps=200, seed=0),
        walk_forward(x, train=250, test=50, periods_per_year=252),
    )


def test_verdict_passes_a_real_edge_and_fails_noise() -> None:
    rng = np.random.default_rng(21)
    bench = rng.normal(0.0, 0.01, 1000)
    x = noise(22, 1000, 30)
    x[:, 4] += 0.003
    ok, reasons = run_all(x, bench)
    assert ok and len(reasons) == 4
    assert (
        reasons[0].startswith("DSR over cash 1.00 >= 0.95") and "30 trials of noise" in reasons[0]
    )
    assert reasons[1].startswith("PBO 0% <= 50%") and "252 splits" in reasons[1]
    assert reasons[2].startswith("SPA p = 0.000 < 0.05: some variant")
    assert reasons[3].startswith("walk-forward OOS Sharpe") and " > 0 over 15 folds" in reasons[3]

    ok, reasons = run_all(noise(23, 1000, 30), bench)
    assert not ok
    assert " < 0.95: " in reasons[0] and "SPA p = " in reasons[2] and ">= 0.05: no" in reasons[2]


def test_verdict_reasons_quote_the_numbers() -> None:
    dsr = replace(
        deflated_sharpe_from_stats(0.81 / math.sqrt(12), 0.003, 240, 120, 0.0, 3.0),
        sharpe=0.81,
        expected_max_sharpe=0.95,
        dsr=0.62,
        significant=False,
    )
    logits = np.array([-1.0, 0.5, 0.2, -0.3])
    cscv = PBO(
        pbo=0.5, n_splits=4, n_combinations=4, logits=logits, median_logit=-0.05,
        performance_degradation=0.1, prob_oos_loss=0.25, overfit=False,
        chosen=np.zeros(4, dtype=np.int64), is_sharpe=np.ones(4), oos_sharpe=np.ones(4),
        n_variants=240, n_obs=120,
    )  # fmt: skip
    test = SPA(
        p_lower=0.01, p_consistent=0.03, p_upper=0.04, n_variants=240, n_obs=120, reps=1000,
        block_size=5, seed=0, significant=True, best=3, best_excess_mean=0.0012,
    )  # fmt: skip
    wf = WalkForward(
        folds=[{"test_start": 60, "test_end": 119, "chosen": 3}], oos_returns=np.zeros(60),
        oos_rows=np.arange(60, 120), oos_sharpe=float("nan"), is_sharpe=0.9, n_folds=1,
        train=60, test=60, step=60,
    )  # fmt: skip
    ok, reasons = verdict(dsr, cscv, test, wf)
    assert not ok
    assert reasons == [
        "DSR over cash 0.62 < 0.95: the best Sharpe (0.81) is within what 240 trials of noise "
        "would produce (0.95)",
        "PBO 50% <= 50%: the in-sample winner beat the out-of-sample median in 50% of 4 splits",
        "SPA p = 0.030 < 0.05: some variant beats the benchmark once all 240 are accounted for "
        "(best mean excess +0.120% per period)",
        "walk-forward OOS Sharpe nan <= 0 over 1 folds (in-sample 0.90)",
    ]
    assert isinstance(dsr, DeflatedSharpe)


def test_judge_keeps_the_typed_results_and_the_verdict() -> None:
    rng = np.random.default_rng(21)
    bench = rng.normal(0.0, 0.01, 1000)
    x = noise(22, 1000, 30)
    x[:, 4] += 0.003
    d = deflated_sharpe(x, periods_per_year=252)
    p = pbo(x, n_splits=10, periods_per_year=252)
    s = spa(bench, x, reps=200, seed=0)
    w = walk_forward(x, train=250, test=50, periods_per_year=252)
    rob = judge(d, p, s, w, spa_benchmark="the index")
    ok, reasons = verdict(d, p, s, w)
    assert isinstance(rob, Robustness) and rob.dsr is d and rob.spa is s
    assert rob.survives == ok and list(rob.reasons) == reasons and rob.word == "survives"
    assert str(rob) == rob.summary() and all(r in rob.summary() for r in reasons)
    assert "Hansen SPA vs the index: p = 0.000" in rob.figures()[2]
    doc = rob.to_dict()
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc
    assert "logits" not in doc["pbo"] and len(doc["pbo"]["chosen"]) == p.n_combinations
    assert "oos_returns" not in doc["walk_forward"] and doc["spa"]["benchmark"] == "the index"
    assert doc["dsr"] == d.to_dict() and doc["survives"] is True
    assert rob.to_frame()["value"].tolist() == [d.dsr, p.pbo, s.p_consistent, w.oos_sharpe]


def test_results_render_html_from_their_summary_and_table() -> None:
    x = noise(3, 240, 6)
    w = walk_forward(x, train=120, test=24, periods_per_year=12)
    page = w._repr_html_()
    assert page.startswith(f"<pre>{w.summary()}</pre>") and "<table" in page
    assert len(w.to_frame()) == w.n_folds
    p = pbo(x, n_splits=8, periods_per_year=12)
    assert p.to_frame()["chosen"].tolist() == p.chosen.tolist()
    d = replace(deflated_sharpe(x, periods_per_year=12), best=None)
    assert d._repr_html_() == f"<pre>{d.summary()}</pre>"  # no table: the summary only


def test_a_dsr_just_under_the_level_never_prints_as_the_level() -> None:
    from smallcaps.backtest.robustness import _near

    assert _near(0.62, 0.95) == "0.62" and _near(0.95, 0.95) == "0.95"
    assert _near(0.946, 0.95) == "0.946"  # not "0.95 < 0.95"
    assert _near(0.94996, 0.95) == "0.94996"
    assert _near(0.9512, 0.95) == "0.951"  # above the level, also shown apart from it
