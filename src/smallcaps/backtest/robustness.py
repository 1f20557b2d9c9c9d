"""Robustness of a backtest sweep: is the best variant better than luck.

Every function takes ``returns``, a ``(T, N)`` array of periodic simple returns of ``N`` strategy
variants (a 1-D array is one variant), and returns a finished, frozen result:

- :func:`sharpe_ratios`: annualised Sharpe ratio per variant.
- :func:`deflated_sharpe`: the Deflated Sharpe Ratio of the best variant (Bailey and López de
  Prado 2014), which discounts its Sharpe for the number of variants tried, the sample length
  and fat tails.
- :func:`pbo`: the Probability of Backtest Overfitting by combinatorially symmetric
  cross-validation (Bailey, Borwein, López de Prado and Zhu 2017).
- :func:`spa`: Hansen's (2005) test of Superior Predictive Ability against a benchmark.
- :func:`walk_forward`: choose on a rolling train window, hold over the next test window.
- :func:`verdict`: all four together, with one plain-English reason per test; :func:`judge`
  puts the four results and the verdict in one :class:`Robustness`.

**Conventions.** Sharpe ratios use the sample standard deviation (``ddof=1``); annualised ones
multiply the per-period ratio by ``sqrt(periods_per_year)``. A variant whose returns do not vary
(standard deviation at most ``1e-9`` times its mean, e.g. all in cash at zero) has Sharpe **0**,
not NaN or infinity: it takes no risk, so no risk-adjusted return is measured, and 0 keeps it
out of the lead. A Sharpe ratio of fewer than two returns is NaN. Ties between variants go to
the lowest column index. Inputs with NaN or infinities are refused (fill or drop the periods
first: nothing is filled silently).

References
----------
Bailey, D. H. and López de Prado, M. (2014). The Deflated Sharpe Ratio: Correcting for Selection
Bias, Backtest Overfitting and Non-Normality. *Journal of Portfolio Management* 40(5), 94-107.

Bailey, D. H., Borwein, J. M., López de Prado, M. and Zhu, Q. J. (2017). The Probability of
Backtest Overfitting. *Journal of Computational Finance* 20(4), 39-69.

Hansen, P. R. (2005). A Test for Superior Predictive Ability. *Journal of Business and Economic
Statistics* 23(4), 365-380.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import combinations, pairwise
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from smallcaps.analytics._jsonready import jsonready
from smallcaps.backtest.scheduler import local_threads
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.results import Result

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

EULER_GAMMA = 0.5772156649015329  # Euler-Mascheroni constant
FLAT_TOL = 1e-9  # a std at most this times |mean| counts as no variation: Sharpe 0
DSR_LEVEL = 0.95  # DSR at or above this is significant (Bailey and López de Prado 2014)
SPA_LEVEL = 0.05  # SPA consistent p-value below this is significant
MAX_SPLITS = 24  # C(24, 12) = 2.7 million CSCV combinations


# ---------------------------------------------------------------------------------------------
# Input checks and the one Sharpe formula
# ---------------------------------------------------------------------------------------------


def _matrix(returns: Any, name: str = "returns", *, min_rows: int = 2) -> FloatArray:
    """``returns`` as a finite float ``(T, N)`` array, or a ConfigError saying what is wrong."""
    try:
        x = np.array(returns, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be an array of numbers: {exc}") from None
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ConfigError(f"{name} must be a (T, N) array of returns, got shape {x.shape}")
    if x.shape[1] == 0:
        raise ConfigError(f"{name} has no variants (shape {x.shape})")
    bad = ~np.isfinite(x)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise ConfigError(
            f"{name} holds {int(bad.sum())} NaN or infinite value(s), first at row {row}, "
            f"column {col}; drop or fill those periods before testing (nothing is filled here)"
        )
    if x.shape[0] < min_rows:
        raise InsufficientDataError(f"{name} needs at least {min_rows} rows, got {x.shape[0]}")
    return x


def _positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _sharpe_from_sums(s: Any, ss: Any, n: Any, shift: Any = 0.0) -> FloatArray:
    """Per-period Sharpe from sums ``s`` and ``ss`` of ``x - shift`` over ``n`` rows.

    Centring by a per-column constant ``shift`` (the column mean) keeps ``ss - s**2 / n`` free
    of cancellation. Zero variation gives 0, fewer than two rows NaN (see the module notes).
    ``n`` may be a scalar or broadcast against ``s`` (a column of row counts); in-place
    arithmetic keeps the CSCV loop of :func:`pbo` fast.
    """
    s = np.asarray(s, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    few = n < 2
    n_safe = np.where(few, 2.0, n)
    mean = s / n_safe  # mean of the centred returns
    var = s * mean
    np.subtract(ss, var, out=var)
    var /= n_safe - 1.0
    np.maximum(var, 0.0, out=var)
    mean += shift  # mean of the returns themselves
    limit = mean * mean
    limit *= FLAT_TOL * FLAT_TOL
    flat = var <= limit
    np.sqrt(var, out=var)
    out = np.divide(mean, var, out=limit, where=~flat)
    out[flat] = 0.0
    if few.any():
        out[np.broadcast_to(few, out.shape)] = np.nan
    return out


def _period_sharpe(x: FloatArray) -> FloatArray:
    """Per-period Sharpe of each column of a 2-D array."""
    shift = x.mean(axis=0) if len(x) else np.zeros(x.shape[1])
    c = x - shift
    return _sharpe_from_sums(c.sum(axis=0), (c * c).sum(axis=0), len(x), shift)


def sharpe_from_raw_sums(s: Any, ss: Any, n: Any) -> FloatArray:
    """Per-period Sharpe from raw sums ``s = sum(x)`` and ``ss = sum(x**2)`` over ``n`` rows.

    The tie rule of the sample-split tests (PBO, walk-forward) rests on it: the sums of a
    sample depend only on that sample's returns (no centring by a full-sample mean), so two
    variants with identical returns in a sample get bit-identical Sharpe ratios there. Without
    centring, the variance of a constant column is only zero up to rounding (about
    ``n * eps * mean**2``): a variance at most ``(FLAT_TOL**2 + 4 n eps) * mean**2`` counts as
    no variation (Sharpe 0). Fewer than two rows give NaN.
    """
    s = np.asarray(s, dtype=np.float64)
    if s.ndim == 0:
        return sharpe_from_raw_sums(s[None], np.asarray(ss)[None], n)[0]
    n = np.asarray(n, dtype=np.float64)
    few = n < 2
    n_safe = np.where(few, 2.0, n)
    # the hot loop of PBO: in place, and a negative variance (rounding) is flat without a
    # clip (the limit is >= 0), its NaN square root overwritten with 0
    with np.errstate(invalid="ignore", divide="ignore"):
        out = s / n_safe  # the mean, then the Sharpe ratio
        var = s * out
        np.subtract(ss, var, out=var)
        var /= n_safe - 1.0
        limit = out * out
        limit *= FLAT_TOL * FLAT_TOL + 4.0 * np.finfo(np.float64).eps * n_safe
        flat = np.less_equal(var, limit)
        del limit
        np.sqrt(var, out=var)
        np.divide(out, var, out=out)
    np.copyto(out, 0.0, where=flat)
    if few.any():
        out[np.broadcast_to(few, out.shape)] = np.nan
    return out


def block_sums(x: FloatArray, edges: Any) -> tuple[FloatArray, FloatArray]:
    """Raw sums and sums of squares of the rows of ``x`` (T, N) between ``edges``: (B, N) each.

    The engine computes the same sums chunk by chunk (rows of variants); see
    :func:`sharpe_from_raw_sums` for why they are not centred.
    """
    starts = np.asarray(edges[:-1], dtype=np.int64)
    return np.add.reduceat(x, starts, axis=0), np.add.reduceat(x * x, starts, axis=0)


def sharpe_ratios(
    returns: Any, *, periods_per_year: int, rf: np.ndarray | None = None
) -> FloatArray:
    """Annualised Sharpe ratio of each variant: ``mean / std(ddof=1) * sqrt(periods_per_year)``.

    Parameters
    ----------
    returns : array of shape (T, N) or (T,)
        Periodic simple returns.
    periods_per_year : int
        12 for monthly returns, 252 for daily.
    rf : array of shape (T,) or (T, N), optional
        Risk-free return per period; the ratio is then of excess returns ``returns - rf``.

    Returns
    -------
    ndarray of shape (N,)
        A variant that does not vary has Sharpe 0 (not NaN); see the module notes.
    """
    x = _matrix(returns)
    ppy = _positive_int(periods_per_year, "periods_per_year")
    if rf is not None:
        r = _matrix(rf, "rf")
        if r.shape[0] != x.shape[0] or r.shape[1] not in (1, x.shape[1]):
            raise ConfigError(
                f"rf must have shape ({x.shape[0]},) or {x.shape} like returns, got {np.shape(rf)}"
            )
        x = x - r
    return _period_sharpe(x) * math.sqrt(ppy)


# ---------------------------------------------------------------------------------------------
# Deflated Sharpe Ratio
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeflatedSharpe(Result):
    """The Deflated Sharpe Ratio of one variant (Bailey and López de Prado 2014).

    ``dsr`` is the probability that the variant's true Sharpe exceeds ``expected_max_sharpe``,
    the best Sharpe that ``n_trials`` variants of pure noise would be expected to show.
    Annualised fields multiply the per-period ones by ``sqrt(periods_per_year)``.
    """

    sharpe: float  # annualised Sharpe of the variant tested
    sharpe_period: float  # the same, per period
    expected_max_sharpe: float  # annualised SR0: expected best Sharpe of n_trials noise variants
    expected_max_sharpe_period: float  # SR0 per period
    dsr: float  # PSR(SR0)
    psr_zero: float  # PSR(0): probability that the true Sharpe is above 0, ignoring selection
    n_trials: int  # trials used for SR0 (the number of variants, or the effective number given)
    sharpe_variance: float  # V[SR] of the trials' per-period Sharpe ratios (ddof=1)
    skew: float  # of the variant's returns
    kurtosis: float  # non-excess (3 for a normal)
    n_obs: int
    significant: bool  # dsr >= 0.95
    best: int | None  # column of the variant tested; None from deflated_sharpe_from_stats
    periods_per_year: int

    def summary(self) -> str:
        """One line: DSR, the Sharpe against SR0, and the inputs."""
        column = f"variant {self.best}" if self.best is not None else "the variant"
        word = "significant" if self.significant else "not"
        return (
            f"Deflated Sharpe {_near(self.dsr, DSR_LEVEL)} ({word} "
            f"at 0.95): {column} has Sharpe {self.sharpe:.2f} against "
            f"{self.expected_max_sharpe:.2f} expected from the best of {self.n_trials} noise "
            f"trials; PSR(0) = {self.psr_zero:.2f}; T = {self.n_obs}, skew {self.skew:+.2f}, "
            f"kurtosis {self.kurtosis:.2f}"
        )


def expected_max_sharpe(sr_variance: float, n_trials: int) -> float:
    """Expected maximum of ``n_trials`` Sharpe ratios of zero-mean variants.

    ``sqrt(V) * ((1 - g) * Phi^-1(1 - 1/N) + g * Phi^-1(1 - 1/(N e)))`` with ``g`` the
    Euler-Mascheroni constant (Bailey and López de Prado 2014, eq. 6, from extreme value theory;
    accurate for ``N`` from about 10). One trial involves no selection: the result is 0.
    """
    n = _positive_int(n_trials, "n_trials")
    if not (math.isfinite(sr_variance) and sr_variance >= 0):
        raise ConfigError(f"sr_variance must be a finite number >= 0, got {sr_variance!r}")
    if n == 1:
        return 0.0
    z1 = _NORMAL.inv_cdf(1.0 - 1.0 / n)
    z2 = _NORMAL.inv_cdf(1.0 - 1.0 / (n * math.e))
    return float(math.sqrt(sr_variance) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2))


# The standard normal from the standard library: scipy.stats gives the same values to 1e-15
# but costs a second to import, on every command that shows a backtest.
_NORMAL = NormalDist()


def _moments(x: np.ndarray) -> tuple[float, float]:
    """Biased skewness ``m3 / m2^1.5`` and kurtosis ``m4 / m2^2`` (as scipy.stats computes)."""
    d = x - x.mean()
    m2 = float(np.mean(d * d))
    if m2 == 0.0:
        return float("nan"), float("nan")
    return float(np.mean(d**3)) / m2**1.5, float(np.mean(d**4)) / m2**2


def _psr(sr: float, benchmark: float, n_obs: int, skew: float, kurtosis: float) -> float:
    """Probabilistic Sharpe Ratio ``PSR(benchmark)`` (Bailey and López de Prado 2012)."""
    spread = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr * sr
    if not spread > 0:
        raise ConfigError(
            f"1 - skew*SR + (kurtosis-1)/4*SR^2 = {spread:.4g} must be > 0 (skew {skew}, "
            f"kurtosis {kurtosis}, SR {sr}); sample moments always satisfy it: check the inputs"
        )
    return float(_NORMAL.cdf((sr - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(spread)))


def deflated_sharpe_from_stats(
    sr: float,
    sr_variance: float,
    n_trials: int,
    n_obs: int,
    skew: float,
    kurtosis: float,
    *,
    periods_per_year: int = 1,
) -> DeflatedSharpe:
    """Deflated Sharpe Ratio from summary statistics, all per period.

    ``DSR = Phi((SR - SR0) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2))`` with ``SR0``
    from :func:`expected_max_sharpe` (Bailey and López de Prado 2014, eqs. 6-7).

    Parameters
    ----------
    sr : float
        Per-period Sharpe ratio of the variant tested (annual / sqrt(periods per year)).
    sr_variance : float
        Variance of the per-period Sharpe ratios of all trials.
    n_trials : int
        Number of (independent) trials.
    n_obs : int
        Number of returns ``T`` behind ``sr``.
    skew, kurtosis : float
        Skewness and non-excess kurtosis of the variant's returns.
    periods_per_year : int, default 1
        Only scales the annualised fields of the result.
    """
    n_obs = _positive_int(n_obs, "n_obs", minimum=2)
    ppy = _positive_int(periods_per_year, "periods_per_year")
    for name, value in (("sr", sr), ("skew", skew), ("kurtosis", kurtosis)):
        if not math.isfinite(value):
            raise ConfigError(f"{name} must be finite, got {value!r}")
    sr0 = expected_max_sharpe(sr_variance, n_trials)
    dsr = _psr(sr, sr0, n_obs, skew, kurtosis)
    root = math.sqrt(ppy)
    return DeflatedSharpe(
        sharpe=float(sr) * root,
        sharpe_period=float(sr),
        expected_max_sharpe=sr0 * root,
        expected_max_sharpe_period=sr0,
        dsr=dsr,
        psr_zero=_psr(sr, 0.0, n_obs, skew, kurtosis),
        n_trials=int(n_trials),
        sharpe_variance=float(sr_variance),
        skew=float(skew),
        kurtosis=float(kurtosis),
        n_obs=n_obs,
        significant=dsr >= DSR_LEVEL,
        best=None,
        periods_per_year=ppy,
    )


def deflated_sharpe(
    returns: Any,
    *,
    periods_per_year: int,
    best: int | None = None,
    n_trials: int | None = None,
) -> DeflatedSharpe:
    """Deflated Sharpe Ratio of the best of ``N`` variants (Bailey and López de Prado 2014).

    The variance ``V[SR]`` of the per-period Sharpe ratios across the ``N`` columns (``ddof=1``)
    and the number of trials give ``SR0``, the Sharpe the best of that many zero-edge variants
    would be expected to show; the DSR is the probability that the chosen variant's true Sharpe
    exceeds ``SR0``, given ``T``, and the skewness and kurtosis of its returns
    (``scipy.stats.skew`` and ``kurtosis(fisher=False)``, biased sample moments).

    Parameters
    ----------
    returns : array of shape (T, N)
        Periodic returns of every variant tried, not only the winner.
    periods_per_year : int
        For the annualised fields.
    best : int, optional
        Column to test; by default the one with the highest Sharpe (lowest index on ties).
    n_trials : int, optional
        Effective number of independent trials, defaults to ``N``. Variants of one rule with
        neighbouring parameters are correlated and amount to fewer independent trials; passing
        a smaller count (e.g. the number of clusters of the correlation matrix, López de Prado
        2019) lowers ``SR0``. ``V[SR]`` is still measured across all ``N`` columns.

    Notes
    -----
    With a single trial there is no selection: ``SR0 = 0`` and the DSR equals ``psr_zero``.
    A constant best column (Sharpe 0) is given skew 0 and kurtosis 3.
    """
    x = _matrix(returns, min_rows=3)
    ppy = _positive_int(periods_per_year, "periods_per_year")
    n = x.shape[1]
    sr = _period_sharpe(x)
    if best is None:
        best = int(np.argmax(sr))
    elif isinstance(best, bool) or not isinstance(best, int | np.integer) or not 0 <= best < n:
        raise ConfigError(f"best must be a column index in 0..{n - 1}, got {best!r}")
    trials = n if n_trials is None else _positive_int(n_trials, "n_trials")
    if n == 1 and trials > 1:
        raise ConfigError(
            f"n_trials={trials} needs the returns of at least 2 variants to measure the "
            "variance of their Sharpe ratios; got 1 column"
        )
    return deflated_sharpe_of(sr, x[:, best], best=int(best), n_trials=trials, periods_per_year=ppy)


def deflated_sharpe_of(
    sharpes: Any,
    column: Any,
    *,
    best: int,
    periods_per_year: int,
    n_trials: int | None = None,
) -> DeflatedSharpe:
    """The DSR from every trial's per-period Sharpe and the tested variant's returns.

    What a streamed sweep keeps: ``sharpes`` (N,) of all variants, ``column`` (T,) the
    returns (over the same hurdle) of variant ``best``. :func:`deflated_sharpe` computes both
    from the full matrix.
    """
    sr = np.asarray(sharpes, dtype=np.float64)
    col = np.asarray(column, dtype=np.float64)
    n = len(sr)
    trials = n if n_trials is None else int(n_trials)
    variance = float(np.var(sr, ddof=1)) if n > 1 else 0.0
    if sr[best] == 0.0 and np.ptp(col) <= FLAT_TOL * abs(col.mean()):
        skew, kurt = 0.0, 3.0
    else:
        skew, kurt = _moments(col)
    result = deflated_sharpe_from_stats(
        float(sr[best]), variance, trials, len(col), skew, kurt, periods_per_year=periods_per_year
    )
    return replace(result, best=int(best))


# ---------------------------------------------------------------------------------------------
# Probability of Backtest Overfitting (CSCV)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class PBO(Result):
    """Probability of Backtest Overfitting by CSCV (Bailey, Borwein, López de Prado, Zhu 2017).

    One entry per combination of ``n_splits / 2`` in-sample blocks, in
    ``itertools.combinations`` order: ``chosen`` is the in-sample winner, ``logits`` the logit of
    its relative out-of-sample rank, ``is_sharpe`` and ``oos_sharpe`` its annualised Sharpe
    ratios in and out of sample.
    """

    pbo: float  # share of combinations whose in-sample winner ranks in the OOS bottom half
    n_splits: int
    n_combinations: int
    logits: FloatArray
    median_logit: float
    performance_degradation: float  # OLS slope of OOS on IS Sharpe of the winners (NaN if flat)
    prob_oos_loss: float  # share of winners with an OOS Sharpe below 0
    overfit: bool  # pbo > 0.5
    chosen: IntArray
    is_sharpe: FloatArray
    oos_sharpe: FloatArray
    n_variants: int
    n_obs: int

    def to_frame(self) -> pd.DataFrame:
        """One row per CSCV combination: the in-sample winner, its logit and Sharpe ratios."""
        return pd.DataFrame(
            {
                "chosen": self.chosen,
                "logit": self.logits,
                "is_sharpe": self.is_sharpe,
                "oos_sharpe": self.oos_sharpe,
            }
        )

    def summary(self) -> str:
        """One line: PBO, the number of splits and the degradation."""
        return (
            f"PBO {self.pbo:.0%} over {self.n_combinations} CSCV splits of {self.n_obs} periods "
            f"into {self.n_splits} blocks ({self.n_variants} variants): median logit "
            f"{self.median_logit:+.2f}, OOS/IS Sharpe slope {self.performance_degradation:+.2f}, "
            f"P(OOS Sharpe < 0) = {self.prob_oos_loss:.0%}" + ("; overfit" if self.overfit else "")
        )


def _block_edges(t: int, s: int) -> IntArray:
    """Edges of ``s`` contiguous blocks of ``t`` rows; the first ``t % s`` get one extra row."""
    sizes = np.full(s, t // s, dtype=np.int64)
    sizes[: t % s] += 1
    return np.concatenate([[0], np.cumsum(sizes)])


def _cscv_best(sr_in: FloatArray, sr_out: FloatArray) -> tuple[Any, Any, Any]:
    """IS winner of each row (lowest column on ties), its IS and its OOS Sharpe."""
    rows = np.arange(len(sr_in))
    star = np.argmax(sr_in, axis=1)
    return star, sr_in[rows, star], sr_out[rows, star]


def _check_splits(n_splits: Any, t: int) -> int:
    if (
        isinstance(n_splits, bool)
        or not isinstance(n_splits, int | np.integer)
        or n_splits % 2
        or not 2 <= n_splits <= MAX_SPLITS
    ):
        raise ConfigError(
            f"n_splits must be an even integer from 2 to {MAX_SPLITS}, got {n_splits!r}"
        )
    s = int(n_splits)
    if t < 2 * s:
        raise InsufficientDataError(
            f"pbo with n_splits={s} needs at least {2 * s} rows (2 per block), got {t}"
        )
    return s


def pbo_edges(t: int, n_splits: int) -> IntArray:
    """Row edges of the CSCV blocks of :func:`pbo` (checks ``n_splits`` against ``t``)."""
    return _block_edges(t, _check_splits(n_splits, t))


def pbo(returns: Any, *, n_splits: int = 16, periods_per_year: int) -> PBO:
    """Probability of Backtest Overfitting by combinatorially symmetric cross-validation.

    The ``T`` rows are cut into ``S = n_splits`` contiguous blocks (sizes differ by at most one
    row, the first ``T mod S`` blocks being longer). For each of the ``C(S, S/2)`` ways to pick
    half the blocks as in-sample (IS), the rest being out-of-sample (OOS), the variant with the
    best IS Sharpe is chosen and its OOS Sharpe ranked among all ``N``: relative rank
    ``w = r / (N + 1)``, logit ``ln(w / (1 - w))``. PBO is the share of logits ``<= 0``: the IS
    winner did no better than the OOS median (Bailey, Borwein, López de Prado and Zhu 2017).

    Parameters
    ----------
    returns : array of shape (T, N)
        Periodic returns of every variant tried, ``N >= 2``.
    n_splits : int, default 16
        Even, 2 to 24; ``T`` must give every block at least 2 rows.
    periods_per_year : int
        For the annualised ``is_sharpe`` and ``oos_sharpe``.

    Notes
    -----
    Ties: the IS winner is the lowest column index among equal IS Sharpe ratios; the OOS rank
    is the average rank among equal OOS Sharpe ratios (1 = worst), so a winner tied with all
    others ranks at the median, logit 0, and counts as overfit. Ties are exact: each half's
    Sharpe comes from raw per-block sums of that half's returns only
    (:func:`sharpe_from_raw_sums`), so variants with identical returns in a half have
    bit-identical Sharpe ratios there.

    The cost is four ``(C/2, S) @ (S, N)`` products; :func:`pbo_from_blocks` does the same from
    the per-block sums alone (what a streamed sweep keeps).
    """
    x = _matrix(returns)
    ppy = _positive_int(periods_per_year, "periods_per_year")
    t, n = x.shape
    if n < 2:
        raise ConfigError(f"pbo needs at least 2 variants to rank, got {n}")
    edges = pbo_edges(t, n_splits)
    block_s, block_ss = block_sums(x, edges)
    return pbo_from_blocks(block_s, block_ss, np.diff(edges), periods_per_year=ppy)


COMPILED_PBO = 4096  # variants from which pbo_from_blocks runs compiled
_PBO_ELEMENTS = 2_000_000  # half-split sums held at once by _cscv_numpy (16 MB arrays)


def _cscv_numpy(
    bs: FloatArray,
    bss: FloatArray,
    members: IntArray,
    others: IntArray,
    n_in: FloatArray,
    n_out: FloatArray,
    flat_in: FloatArray,
    flat_out: FloatArray,
    lo: int,
    hi: int,
    chosen: IntArray,
    is_sr: FloatArray,
    oos_sr: FloatArray,
    rank: FloatArray,
) -> None:
    """:func:`smallcaps.backtest.fused.cscv` in numpy, for a few thousand variants at most.

    A half's sums add its blocks one after another (a reduction over a middle axis), as the
    compiled loop does, so both give the same numbers; ``flat_*`` are unused (the limits
    come from :func:`sharpe_from_raw_sums` itself).
    """
    n_half, n = len(members), bs.shape[1]
    rows = max(1, _PBO_ELEMENTS // (members.shape[1] * n))
    for start in range(lo, hi, rows):
        at = np.arange(start, min(hi, start + rows))
        sr = [
            sharpe_from_raw_sums(bs[half].sum(axis=1), bss[half].sum(axis=1), m[at, None])
            for half, m in ((members[at], n_in), (others[at], n_out))
        ]
        for side, (sr_in, sr_out) in enumerate(((sr[0], sr[1]), (sr[1], sr[0]))):
            star = np.argmax(sr_in, axis=1)  # the lowest variant on ties
            target = sr_out[np.arange(len(at)), star][:, None]
            out = at + side * n_half
            chosen[out] = star
            is_sr[out] = sr_in[np.arange(len(at)), star]
            oos_sr[out] = target[:, 0]
            below = np.count_nonzero(sr_out < target, axis=1)
            rank[out] = below + (np.count_nonzero(sr_out == target, axis=1) + 1) / 2.0


def pbo_from_blocks(block_s: Any, block_ss: Any, block_n: Any, *, periods_per_year: int) -> PBO:
    """:func:`pbo` from per-block raw sums and sums of squares, each ``(S, N)``.

    ``block_n`` holds the rows of each block. From :data:`COMPILED_PBO` variants on, the
    half-splits run compiled (:func:`smallcaps.backtest.fused.cscv`), in two pieces on two
    cores, with memory beyond the sums a few arrays of ``N``; below, numpy does the same sums
    in the same order (:func:`_cscv_numpy`), without the compiler's start-up.
    """
    bs = np.asarray(block_s, dtype=np.float64)
    bss = np.asarray(block_ss, dtype=np.float64)
    bn = np.asarray(block_n, dtype=np.float64)
    ppy = _positive_int(periods_per_year, "periods_per_year")
    s, n = bs.shape
    t = int(bn.sum())
    _check_splits(s, t)
    if n < 2:
        raise ConfigError(f"pbo needs at least 2 variants to rank, got {n}")

    # Every split and its mirror image (IS and OOS swapped) share the two halves' Sharpe
    # ratios: evaluate the halves that hold block 0 once, against their complements.
    combos = list(combinations(range(s), s // 2))
    position = {frozenset(c): i for i, c in enumerate(combos)}
    halves = [c for c in combos if c[0] == 0]
    # the other halves' blocks in descending order: taken in this order the halves share
    # their first blocks with the previous one (fused.cscv reuses those sums); each half is
    # still summed in one fixed order, so identical returns tie exactly
    others = [tuple(sorted(set(range(s)) - set(c), reverse=True)) for c in halves]
    mirror = np.array([position[frozenset(c)] for c in others])
    own = np.array([position[frozenset(c)] for c in halves])
    members = np.array(halves, dtype=np.int64)
    rest = np.array(others, dtype=np.int64)
    # the half's rows and flat limit as sharpe_from_raw_sums computes them
    n_in = bn[members].sum(axis=1)
    n_out = bn[rest].sum(axis=1)
    eps = np.finfo(np.float64).eps
    flat_in = FLAT_TOL * FLAT_TOL + 4.0 * eps * n_in
    flat_out = FLAT_TOL * FLAT_TOL + 4.0 * eps * n_out
    h = len(halves)
    chosen_h = np.empty(2 * h, dtype=np.int64)
    rank_h = np.empty(2 * h)
    is_h = np.empty(2 * h)
    oos_h = np.empty(2 * h)
    # C-ordered and writable: the one argument type fused.cscv is compiled for
    bs_c, bss_c = (np.require(x, np.float64, ["C", "W"]) for x in (bs, bss))

    kernel: Callable[..., Any]
    if n >= COMPILED_PBO:
        from smallcaps.backtest import fused  # numba: imported only when a sweep needs it

        kernel = fused.cscv
    else:
        kernel = _cscv_numpy

    def score(span: tuple[int, int]) -> None:  # disjoint halves write disjoint rows
        kernel(
            bs_c, bss_c, members, rest, n_in, n_out, flat_in, flat_out, span[0], span[1],
            chosen_h, is_h, oos_h, rank_h,
        )  # fmt: skip

    threads = min(local_threads(), h)
    cut = [round(i * h / threads) for i in range(threads + 1)]
    spans = list(pairwise(cut))
    if threads == 1:
        score(spans[0])
    else:  # numba and numpy release the GIL: halves on two cores, the same numbers
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(score, spans))
    chosen = np.empty(len(combos), dtype=np.int64)
    rank = np.empty(len(combos))
    is_sr = np.empty(len(combos))
    oos_sr = np.empty(len(combos))
    for where, part in ((own, slice(0, h)), (mirror, slice(h, 2 * h))):
        chosen[where], rank[where] = chosen_h[part], rank_h[part]
        is_sr[where], oos_sr[where] = is_h[part], oos_h[part]

    logits = np.log(rank / (n + 1 - rank))
    root = math.sqrt(ppy)
    is_sr, oos_sr = is_sr * root, oos_sr * root
    spread = float(np.var(is_sr))
    slope = (
        float(np.mean((is_sr - is_sr.mean()) * (oos_sr - oos_sr.mean())) / spread)
        if spread > 0
        else float("nan")
    )
    p = float(np.mean(logits <= 0))
    return PBO(
        pbo=p,
        n_splits=s,
        n_combinations=len(combos),
        logits=logits,
        median_logit=float(np.median(logits)),
        performance_degradation=slope,
        prob_oos_loss=float(np.mean(oos_sr < 0)),
        overfit=p > 0.5,
        chosen=chosen,
        is_sharpe=is_sr,
        oos_sharpe=oos_sr,
        n_variants=n,
        n_obs=t,
    )


# ---------------------------------------------------------------------------------------------
# Hansen's SPA
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SPA(Result):
    """Hansen's (2005) test of Superior Predictive Ability: can any variant beat the benchmark.

    The null is that no variant has a higher expected return than the benchmark; small
    p-values reject it. ``p_consistent`` is Hansen's recommended one; ``p_lower`` and
    ``p_upper`` bound it (``p_upper`` is White's 2000 Reality Check, studentized).
    """

    p_lower: float
    p_consistent: float
    p_upper: float
    n_variants: int
    n_obs: int
    reps: int
    block_size: int  # mean block length of the stationary bootstrap
    seed: int
    significant: bool  # p_consistent < 0.05
    best: int  # variant with the highest mean excess return over the benchmark
    best_excess_mean: float  # its mean excess return per period (not annualised)

    def summary(self) -> str:
        """One line: the three p-values and the bootstrap settings."""
        return (
            f"SPA p = {self.p_consistent:.3f} (lower {self.p_lower:.3f}, upper "
            f"{self.p_upper:.3f}): {'some' if self.significant else 'no'} variant of "
            f"{self.n_variants} beats the benchmark at 5%; best mean excess "
            f"{self.best_excess_mean:+.4%} per period (variant {self.best}); T = {self.n_obs}, "
            f"{self.reps} stationary-bootstrap draws, mean block {self.block_size}, "
            f"seed {self.seed}"
        )


def spa(
    benchmark: Any,
    variants: Any,
    *,
    reps: int = 1000,
    block_size: int | None = None,
    seed: int = 0,
) -> SPA:
    """Hansen's (2005) Superior Predictive Ability test, equal to ``arch.bootstrap.SPA``.

    Losses are negative returns, so a variant beats the benchmark when its mean return is
    higher. The loss differentials are resampled with the stationary bootstrap of Politis and
    Romano (1994), on the very indices ``arch.bootstrap.SPA`` draws for ``seed``
    (:func:`spa_indices`); the p-values are arch's (:func:`spa_chunk` says why the test is
    computed here).

    Parameters
    ----------
    benchmark : array of shape (T,)
        Periodic returns of the benchmark (e.g. buy and hold the index).
    variants : array of shape (T, N)
        Periodic returns of the variants.
    reps : int, default 1000
        Bootstrap replications.
    block_size : int, optional
        Mean block length; defaults to ``max(1, round(T ** (1/3)))``, the rate that is optimal
        for the variance of a mean (Politis and White 2004 give a data-driven length).
    seed : int, default 0
        Seed of the bootstrap: the same seed gives the same p-values.
    """
    b = _matrix(benchmark, "benchmark", min_rows=10)
    if b.shape[1] != 1:
        raise ConfigError(f"benchmark must be one series of shape (T,), got {np.shape(benchmark)}")
    x = _matrix(variants, "variants", min_rows=10)
    t = x.shape[0]
    if len(b) != t:
        raise ConfigError(f"benchmark has {len(b)} rows but variants have {t}; align them first")
    plan = spa_plan(t, reps=reps, block_size=block_size, seed=seed)
    stats = spa_chunk((x - b).T, plan.weights, plan.block_size)
    return spa_from_stats([stats], plan)


@dataclass(frozen=True, slots=True, eq=False)
class SpaPlan:
    """The bootstrap of an SPA test: settings and the resampled rows ``indices`` ``(reps, T)``."""

    n_obs: int
    reps: int
    block_size: int
    seed: int
    indices: IntArray

    @property
    def weights(self) -> FloatArray:
        """``(reps, T)`` resampling counts, computed on each access (52 MB at 1,000 x 6,500).

        ``weights[r, j]`` is how often row ``j`` is drawn in replication ``r``, so a block's
        bootstrap sums are one product (:func:`spa_chunk`).
        """
        reps, t = self.indices.shape
        offsets = (np.arange(reps, dtype=np.int64) * t)[:, None]
        counts = np.bincount((self.indices + offsets).ravel(), minlength=reps * t)
        return counts.reshape(reps, t).astype(np.float64)


def spa_indices(t: int, *, reps: int, block_size: int, seed: int) -> IntArray:
    """The ``(reps, t)`` row indices ``arch.bootstrap.SPA`` resamples for this ``seed``.

    arch's ``StationaryBootstrap`` draws, per replication, ``t`` start rows
    (``Generator.integers``) then ``t`` uniforms, and continues the previous block (the next
    row, wrapping around) wherever a uniform exceeds ``1 / block_size``. The same draws from
    the same ``numpy.random.default_rng(seed)``, in the same order, then the blocks filled for
    every replication at once (and without importing arch, which takes seconds), give the
    same rows (tests/backtest/test_robustness.py checks them against arch).
    """
    rng = np.random.default_rng(seed)
    p = 1.0 / block_size
    idx = np.empty((reps, t), dtype=np.int64)
    u = np.empty((reps, t))
    for r in range(reps):
        idx[r] = rng.integers(t, size=t, dtype=np.int64)
        u[r] = rng.random(t)
    start = u <= p
    del u
    start[:, 0] = True
    pos = np.arange(t, dtype=np.int64)
    # each row's block start (the last start at or before it) and the offset from it
    first = np.maximum.accumulate(np.where(start, pos, 0), axis=1)
    del start
    out = np.take_along_axis(idx, first, axis=1)
    out += pos
    out -= first
    out[out >= t] -= t  # below 2 t: one subtraction wraps it (a modulo divides)
    return out


def spa_plan(t: int, *, reps: int = 1000, block_size: int | None = None, seed: int = 0) -> SpaPlan:
    """Check the settings and draw the bootstrap of an SPA test on ``t`` periods."""
    reps = _positive_int(reps, "reps", minimum=10)
    size = max(1, round(t ** (1 / 3))) if block_size is None else block_size
    size = _positive_int(size, "block_size")
    if size > t // 2:
        raise InsufficientDataError(f"block_size {size} needs at least {2 * size} rows, got {t}")
    seed = _positive_int(seed, "seed", minimum=0)
    return SpaPlan(t, reps, size, seed, spa_indices(t, reps=reps, block_size=size, seed=seed))


_VAR_BLOCK = 64  # columns per block of stationary_variance's in-block products
_VAR_ELEMENTS = 262_144  # variants x periods per stationary_variance call in spa_chunk
_NEGLIGIBLE = 1e-20  # weights below this (relative) are dropped by stationary_variance


_TINY = 1e-250  # weights below this are set to 0 (never subnormal: those are slow)


def _flushed(weights: FloatArray) -> FloatArray:
    """``weights`` with values below :data:`_TINY` set to 0 (negligible, and fast)."""
    return np.where(weights < _TINY, 0.0, weights)


def stationary_variance(demeaned: FloatArray, block_size: int) -> FloatArray:
    """Asymptotic variance (as arch computes it) of each row's mean under the stationary bootstrap.

    ``(g_0 + 2 sum_i k_i g_i) / T`` with ``g_i = sum_t x_t x_{t+i}`` the lag-``i``
    autocovariance sums and ``k_i = (1 - i/T) a^i + (i/T) a^(T - i)``, ``a = 1 - 1/block_size``.
    arch loops over the ``T - 1`` lags in Python (O(T^2) per variant); here the weights'
    geometric form does it in a few passes: ``sum_i (1 - i/T) a^i g_i`` is a pair sum
    ``sum_{t<s} x_t x_s (1 - (s-t)/T) a^(s-t)``, taken within blocks of
    :data:`_VAR_BLOCK` columns by one matrix product and across blocks through the two
    running sums a recursive filter would carry; ``sum_i (i/T) a^(T-i) g_i`` factors as
    ``sum_{t<s} (s-t) (x_t a^t)(x_s a^(T-s)) / T`` and needs only the first and last rows
    whose weights are not negligible (below :data:`_NEGLIGIBLE`, far under rounding).
    Equal to arch's loop to about 1e-13 (tests/backtest/test_robustness.py).
    """
    x = np.asarray(demeaned, dtype=np.float64)
    n, t = x.shape
    g0 = np.einsum("ij,ij->i", x, x)
    a = 1.0 - 1.0 / block_size
    if a <= 0.0 or t < 2:
        return g0 / t
    # near part: pairs (t, s), t < s, weight (1 - d/T) a^d with d = s - t
    size = _VAR_BLOCK
    nb = -(-t // size)
    xb = np.zeros((n, nb * size))
    xb[:, :t] = x
    xb = xb.reshape(n * nb, size)
    j = np.arange(size, dtype=np.float64)
    d = j[None, :] - j[:, None]  # d[j, k] = k - j
    inner = np.where(d > 0, (1.0 - d / t) * a ** np.maximum(d, 0.0), 0.0)
    tail = a ** (size - j)  # weight of column j at the next block's start
    extra = np.stack([tail, (size - j) * tail, a**j * (1.0 - j / t), a**j], axis=1)
    prod = xb @ np.concatenate([inner, extra], axis=1)  # (n * nb, size + 4)
    near = np.einsum("ij,ij->i", xb, prod[:, :size]).reshape(n, nb).sum(axis=1)
    # contiguous (n, nb) each: a strided operand would take numpy's slow matmul loop
    u, w, c1, c2 = np.ascontiguousarray(prod[:, size:].reshape(n, nb, 4).transpose(2, 0, 1))
    # the running sums at each block start s_b (a recursive filter's state), from every
    # earlier block's summaries: y = sum_{t < s_b} a^(s_b - t) x_t and
    # z = sum_{t < s_b} (s_b - t) a^(s_b - t) x_t
    gap = np.arange(nb)[None, :] - np.arange(nb)[:, None] - 1.0  # whole blocks between
    g_0 = np.where(gap >= 0, a ** (size * np.maximum(gap, 0.0)), 0.0)
    g_0[g_0 < _TINY] = 0.0  # subnormal weights are negligible and make the product crawl
    g_1 = size * gap * g_0
    y0 = u @ g_0
    z0 = w @ g_0 + u @ g_1
    near += np.einsum("ij,ij->i", y0, c1) - np.einsum("ij,ij->i", z0, c2) / t
    # wrap part: weight (d/T) a^(T-d) = (s - t)/T * a^t * a^(T-s); only rows near either end
    keep = math.ceil(math.log(_NEGLIGIBLE) / math.log(a))
    if 2 * keep >= t:
        rows = np.arange(t, dtype=np.float64)
        f = x * _flushed(a**rows)
        h = x * _flushed(a ** (t - rows))
        big_f = np.cumsum(f, axis=1) - f  # sums over t < s
        big_g = np.cumsum(f * rows, axis=1) - f * rows
        wrap = np.einsum("ij,ij->i", h, rows * big_f - big_g)
    else:
        head = np.arange(keep, dtype=np.float64)
        f = x[:, :keep] * _flushed(a**head)
        rows = np.arange(t - keep, t, dtype=np.float64)
        h = x[:, t - keep :] * _flushed(a ** (t - rows))
        wrap = (h @ rows) * f.sum(axis=1) - h.sum(axis=1) * (f @ head)
    return (g0 + 2.0 * (near + wrap / t)) / t


def spa_chunk(diff: Any, weights: FloatArray, block_size: int) -> dict[str, Any]:
    """What the SPA test needs from a block of variants: a few numbers, whatever its size.

    ``diff`` is ``(n, T)``: each variant's return minus the benchmark's (arch's loss
    differential with losses = -returns). Returns the largest mean difference and its row,
    and for each replication the largest recentred bootstrap mean over the block under the
    lower, consistent and upper recentrings (``max_sim``, shape ``(3, reps)``); the maxima of
    several blocks merge by :func:`spa_from_stats`.

    Why here and not ``arch.bootstrap.SPA``: arch computes the variance with a Python loop
    over every lag (O(T^2 N)), resamples the whole ``T x N`` matrix once per replication and
    keeps all ``N x reps x 3`` simulated values, which does not fit a sweep of a million
    variants. This is the same test on the same resampled rows (the bootstrap means are the
    resampling counts times the returns, one product per block; the variance in a few
    passes, :func:`stationary_variance`), and
    it equals arch's p-values (tests/backtest/test_robustness.py). Like arch 8, the
    simulated statistics are not studentized; the variance decides which variants count
    for the consistent p-value (Hansen 2005, eq. 10).
    """
    d = np.asarray(diff, dtype=np.float64)
    t = d.shape[1]
    mean = d.mean(axis=1)
    # only a negative mean needs its variance (see spa_maxima)
    variance = np.full(len(mean), np.nan)
    need = np.flatnonzero(mean < 0.0)
    rows = max(1, _VAR_ELEMENTS // max(t, 1))  # a few rows at a time: their arrays stay in cache
    for a in range(0, len(need), rows):
        sub = need[a : a + rows]
        variance[sub] = stationary_variance(d[sub] - mean[sub, None], block_size)
    return spa_maxima(mean, variance, weights @ d.T, t)


def spa_maxima(mean: FloatArray, variance: FloatArray, boot: FloatArray, t: int) -> dict[str, Any]:
    """:func:`spa_chunk`'s statistics from each variant's mean difference, variance and sums.

    ``boot`` holds the bootstrap sums ``(reps, n)`` (a transposed view will do) and is
    divided by ``t`` in place; ``variance`` is only read where the mean is negative. A
    variant is left out of the consistent p-value when its mean is below
    ``-sqrt(variance / T * 2 log log T)`` (Hansen 2005, eq. 10).
    """
    boot /= t
    with np.errstate(invalid="ignore"):
        bound = -np.sqrt(variance / t * 2.0 * np.log(np.log(t)))
    valid = (mean >= 0.0) | (mean >= bound)
    centres = (np.maximum(mean, 0.0), np.where(valid, mean, 0.0), mean)
    max_sim = np.stack([(boot - c).max(axis=1) for c in centres])
    best = int(np.argmax(mean))
    return {"max_mean": float(mean[best]), "best": best, "n": len(mean), "max_sim": max_sim}


def spa_from_stats(parts: list[dict[str, Any]], plan: SpaPlan) -> SPA:
    """The SPA result from the :func:`spa_chunk` statistics of consecutive blocks."""
    offset, best, best_mean = 0, 0, -np.inf
    max_sim = np.full((3, plan.reps), -np.inf)
    n = 0
    for part in parts:
        if part["max_mean"] > best_mean:  # strictly: the earlier block keeps a tie
            best, best_mean = offset + part["best"], part["max_mean"]
        np.maximum(max_sim, part["max_sim"], out=max_sim)
        offset += part["n"]
        n += part["n"]
    p = (max_sim > best_mean).mean(axis=1)
    return SPA(
        p_lower=float(p[0]),
        p_consistent=float(p[1]),
        p_upper=float(p[2]),
        n_variants=n,
        n_obs=plan.n_obs,
        reps=plan.reps,
        block_size=plan.block_size,
        seed=plan.seed,
        significant=float(p[1]) < SPA_LEVEL,
        best=best,
        best_excess_mean=float(best_mean),
    )


# ---------------------------------------------------------------------------------------------
# Walk-forward
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class WalkForward(Result):
    """Rolling selection: best IS Sharpe on each train window, held over the next test window.

    ``folds`` are dicts with ``train_start, train_end, test_start, test_end`` (inclusive row
    positions, or ISO dates when an index was given), ``chosen`` (column), ``is_sharpe`` and
    ``oos_sharpe`` (annualised; NaN for a one-row test window).
    """

    folds: list[dict[str, Any]]
    oos_returns: FloatArray  # the chosen variants' returns over the test windows, in order
    oos_rows: IntArray  # row position of each entry of oos_returns
    oos_sharpe: float  # annualised, of oos_returns
    is_sharpe: float  # mean of the folds' annualised in-sample Sharpe ratios of the winners
    n_folds: int
    train: int
    test: int
    step: int

    @property
    def chosen(self) -> list[int]:
        """The column chosen in each fold."""
        return [int(f["chosen"]) for f in self.folds]

    def to_frame(self) -> pd.DataFrame:
        """One row per fold (see the class notes)."""
        return pd.DataFrame(self.folds)

    def summary(self) -> str:
        """One line: folds, OOS against IS Sharpe, and how often the choice changed."""
        first, last = self.folds[0]["test_start"], self.folds[-1]["test_end"]
        switches = sum(a != b for a, b in zip(self.chosen, self.chosen[1:], strict=False))
        return (
            f"Walk-forward over {self.n_folds} folds (train {self.train}, test {self.test}, "
            f"step {self.step}; out of sample {first} to {last}): OOS Sharpe "
            f"{self.oos_sharpe:.2f} against IS {self.is_sharpe:.2f}; the choice changed "
            f"{switches} times"
        )


def walk_forward(
    returns: Any,
    *,
    train: int,
    test: int,
    periods_per_year: int,
    step: int | None = None,
    index: pd.DatetimeIndex | None = None,
) -> WalkForward:
    """Walk-forward selection: choose on ``train`` rows, hold over the next ``test`` rows.

    Fold ``k`` trains on rows ``[k*step, k*step + train)``, picks the variant with the best
    Sharpe there (lowest column on ties) and holds it over the following ``test`` rows. Folds
    continue while a full test window fits; trailing rows that do not fill one are unused. A
    choice never sees rows after its train window.

    Parameters
    ----------
    returns : array of shape (T, N)
    train : int
        Rows per train window, at least 2.
    test : int
        Rows per test window, at least 1.
    periods_per_year : int
    step : int, optional
        Rows between fold starts, defaults to ``test``. Must be ``>= test``: overlapping test
        windows would count rows twice in ``oos_returns``; ``step > test`` leaves gaps.
    index : DatetimeIndex, optional
        Dates of the ``T`` rows; folds then report ISO dates instead of row positions.
    """
    x = _matrix(returns)
    ppy = _positive_int(periods_per_year, "periods_per_year")
    t = x.shape[0]
    train = _positive_int(train, "train", minimum=2)
    test = _positive_int(test, "test")
    step = test if step is None else _positive_int(step, "step")
    if step < test:
        raise ConfigError(
            f"step ({step}) < test ({test}) would overlap test windows and count rows twice; "
            "use step >= test"
        )
    if index is not None and (not isinstance(index, pd.DatetimeIndex) or len(index) != t):
        raise ConfigError(
            f"index must be a DatetimeIndex of the {t} rows, got "
            f"{type(index).__name__} of length {len(index)}"
        )
    if train + test > t:
        raise InsufficientDataError(
            f"walk_forward needs train + test = {train + test} rows, got {t}"
        )

    windows = walk_forward_windows(t, train, test, step)
    edges = window_edges(windows, t)
    seg_s, seg_ss = block_sums(x, edges)
    sr = train_sharpes(seg_s, seg_ss, edges, windows)
    picks = np.argmax(sr, axis=1)
    is_sr = sr[np.arange(len(windows)), picks]
    return walk_forward_chosen(
        x, picks, is_sr, windows, periods_per_year=ppy, train=train, test=test, step=step,
        index=index,
    )  # fmt: skip


def walk_forward_windows(t: int, train: int, test: int, step: int) -> list[tuple[int, int, int]]:
    """``(train start, test start, test end)`` row positions of each fold (end exclusive)."""
    return [(a, a + train, a + train + test) for a in range(0, t - train - test + 1, step)]


def window_edges(windows: list[tuple[int, int, int]], t: int) -> IntArray:
    """Edges of the segments every train window is a union of (for :func:`block_sums`)."""
    cuts = {0, t, *(a for a, _lo, _hi in windows), *(lo for _a, lo, _hi in windows)}
    return np.array(sorted(cuts), dtype=np.int64)


def train_sharpes(
    seg_s: FloatArray, seg_ss: FloatArray, edges: IntArray, windows: list[tuple[int, int, int]]
) -> FloatArray:
    """Per-period Sharpe over each fold's train window, ``(F, N)``, from segment sums.

    The segments of a window are added in order, so the sums depend only on the window's
    returns: identical returns there tie exactly (the lowest column wins).
    """
    pos = {int(e): i for i, e in enumerate(edges)}
    out = np.empty((len(windows), seg_s.shape[1]))
    for f, (a, lo, _hi) in enumerate(windows):
        i, j = pos[a], pos[lo]
        s_, ss_ = seg_s[i].copy(), seg_ss[i].copy()
        for k in range(i + 1, j):
            s_ += seg_s[k]
            ss_ += seg_ss[k]
        out[f] = sharpe_from_raw_sums(s_, ss_, lo - a)
    return out


def walk_forward_chosen(
    x: Any,
    picks: Any,
    is_sharpe: Any,
    windows: list[tuple[int, int, int]],
    *,
    periods_per_year: int,
    train: int,
    test: int,
    step: int,
    index: pd.DatetimeIndex | None = None,
    labels: Any = None,
) -> WalkForward:
    """The walk-forward result once each fold's choice is made.

    ``x`` holds (at least) the chosen columns; ``picks[f]`` is fold ``f``'s column of ``x``
    and ``is_sharpe[f]`` its per-period train Sharpe; ``labels`` (default the column) is
    what ``chosen`` reports (a streamed sweep passes the variants' numbers).
    """
    x = np.asarray(x, dtype=np.float64)
    root = math.sqrt(periods_per_year)

    def label(i: int) -> Any:
        return i if index is None else jsonready(index[i])

    folds: list[dict[str, Any]] = []
    pieces, rows = [], []
    for (start, lo, hi), pick, sr in zip(windows, picks, is_sharpe, strict=True):
        held = x[lo:hi, int(pick)]
        folds.append(
            {
                "train_start": label(start),
                "train_end": label(lo - 1),
                "test_start": label(lo),
                "test_end": label(hi - 1),
                "chosen": int(pick) if labels is None else int(labels[int(pick)]),
                "is_sharpe": float(sr) * root,
                "oos_sharpe": float(_period_sharpe(held[:, None])[0]) * root,
            }
        )
        pieces.append(held)
        rows.append(np.arange(lo, hi))
    oos = np.concatenate(pieces)
    return WalkForward(
        folds=folds,
        oos_returns=oos,
        oos_rows=np.concatenate(rows).astype(np.int64),
        oos_sharpe=float(_period_sharpe(oos[:, None])[0]) * root,
        is_sharpe=float(np.mean([f["is_sharpe"] for f in folds])),
        n_folds=len(folds),
        train=train,
        test=test,
        step=step,
    )


# ---------------------------------------------------------------------------------------------
# Verdict
# ---------------------------------------------------------------------------------------------


def verdict(
    dsr: DeflatedSharpe,
    pbo: PBO,
    spa: SPA,
    wf: WalkForward,
    dsr_benchmark: DeflatedSharpe | None = None,
    benchmark: str = "the benchmark",
) -> tuple[bool, list[str]]:
    """Does the best variant survive? DSR, PBO, SPA and walk-forward must all agree.

    Survives when ``dsr.significant`` (DSR >= 0.95 on returns over cash), ``pbo.pbo <= 0.5``,
    ``spa.significant`` (consistent p < 0.05) and the walk-forward OOS Sharpe is above 0; with
    ``dsr_benchmark`` (the DSR of the returns over ``benchmark``) that one must be significant
    too: beating cash after selection is not beating the index the rules compete with. Returns
    that flag and one plain-English reason per test, in that order (the benchmark's DSR after
    the first).
    """
    reasons = [_dsr_reason(dsr, "cash")]
    if dsr_benchmark is not None:
        reasons.append(_dsr_reason(dsr_benchmark, benchmark))
    pbo_ok = pbo.pbo <= 0.5
    if pbo_ok:
        reasons.append(
            f"PBO {pbo.pbo:.0%} <= 50%: the in-sample winner beat the out-of-sample median in "
            f"{1 - pbo.pbo:.0%} of {pbo.n_combinations} splits"
        )
    else:
        reasons.append(
            f"PBO {pbo.pbo:.0%} > 50%: the in-sample winner did no better than the "
            f"out-of-sample median in {pbo.pbo:.0%} of {pbo.n_combinations} splits"
        )
    word = "some" if spa.significant else "no"
    sign = "<" if spa.significant else ">="
    reasons.append(
        f"SPA p = {spa.p_consistent:.3f} {sign} 0.05: {word} variant beats the benchmark once "
        f"all {spa.n_variants} are accounted for (best mean excess "
        f"{spa.best_excess_mean:+.3%} per period)"
    )
    wf_ok = bool(wf.oos_sharpe > 0)  # False for NaN
    reasons.append(
        f"walk-forward OOS Sharpe {wf.oos_sharpe:.2f} {'>' if wf_ok else '<='} 0 over "
        f"{wf.n_folds} folds (in-sample {wf.is_sharpe:.2f})"
    )
    survives = bool(dsr.significant and pbo_ok and spa.significant and wf_ok)
    if dsr_benchmark is not None:
        survives = survives and bool(dsr_benchmark.significant)
    return survives, reasons


def _near(value: float, level: float) -> str:
    """``value`` to two decimals, or more when two would print it as ``level`` (0.946 < 0.95)."""
    for digits in range(2, 7):
        text = f"{value:.{digits}f}"
        if (float(text) == level) == (value == level):
            return text
    return text


def _dsr_reason(dsr: DeflatedSharpe, over: str) -> str:
    head = f"DSR over {over} {_near(dsr.dsr, DSR_LEVEL)}"
    if dsr.significant:
        return (
            f"{head} >= 0.95: the best Sharpe ({dsr.sharpe:.2f}) is above what "
            f"{dsr.n_trials} trials of noise would produce ({dsr.expected_max_sharpe:.2f})"
        )
    if dsr.sharpe <= dsr.expected_max_sharpe:
        return (
            f"{head} < 0.95: the best Sharpe ({dsr.sharpe:.2f}) is within what "
            f"{dsr.n_trials} trials of noise would produce ({dsr.expected_max_sharpe:.2f})"
        )
    return (
        f"{head} < 0.95: the best Sharpe ({dsr.sharpe:.2f}) is above what "
        f"{dsr.n_trials} trials of noise would produce ({dsr.expected_max_sharpe:.2f}), "
        f"but not by enough for {dsr.n_obs} periods with skew {dsr.skew:+.2f} and "
        f"kurtosis {dsr.kurtosis:.1f}"
    )


@dataclass(frozen=True, slots=True, eq=False)
class Robustness(Result):
    """The four tests of the best variant of a sweep and whether it survives them.

    Attributes
    ----------
    dsr : DeflatedSharpe
    pbo : PBO
    spa : SPA or None
        None when the test was not run (then the variant cannot be said to survive it).
    walk_forward : WalkForward
    survives : bool
        Whether every test passed (see :func:`verdict`).
    reasons : tuple of str
        One plain-English reason per test, in the order above.
    spa_benchmark : str
        The benchmark SPA tested against (and the DSR over it).
    dsr_benchmark : DeflatedSharpe or None
        The DSR of the best variant's returns over that benchmark (None: not computed, as
        for results made before it existed); ``dsr`` is over cash.
    """

    dsr: DeflatedSharpe
    pbo: PBO
    spa: SPA | None
    walk_forward: WalkForward
    survives: bool
    reasons: tuple[str, ...]
    spa_benchmark: str = ""
    dsr_benchmark: DeflatedSharpe | None = None

    @property
    def word(self) -> str:
        """``"survives"`` or ``"does not survive"``."""
        return "survives" if self.survives else "does not survive"

    def figures(self) -> list[str]:
        """One line per test with its headline figures."""
        dsr, pbo, spa, wf = self.dsr, self.pbo, self.spa, self.walk_forward
        spa_line = (
            f"Hansen SPA vs {self.spa_benchmark}: not run"
            if spa is None
            else f"Hansen SPA vs {self.spa_benchmark}: p = {spa.p_consistent:.3f} "
            f"(lower {spa.p_lower:.3f}, upper {spa.p_upper:.3f})"
        )
        lines = [
            f"Deflated Sharpe Ratio over cash {dsr.dsr:.3f} (Sharpe {dsr.sharpe:.2f} against "
            f"{dsr.expected_max_sharpe:.2f} expected from {dsr.n_trials} trials)"
        ]
        if self.dsr_benchmark is not None:
            d = self.dsr_benchmark
            lines.append(
                f"Deflated Sharpe Ratio over {self.spa_benchmark} {d.dsr:.3f} (Sharpe of the "
                f"excess {d.sharpe:.2f} against {d.expected_max_sharpe:.2f} expected from "
                f"{d.n_trials} trials)"
            )
        return [
            *lines,
            f"PBO (CSCV on returns over cash, {pbo.n_combinations} splits) {pbo.pbo:.0%}",
            spa_line,
            f"walk-forward on returns over cash: OOS Sharpe {wf.oos_sharpe:.2f} (in sample "
            f"{wf.is_sharpe:.2f}, {wf.n_folds} folds)",
        ]

    def summary(self) -> str:
        """The verdict, the figures of each test and the reasons."""
        lines = [f"the best variant {self.word} the robustness tests:"]
        lines += [f"  {line}" for line in self.figures()]
        lines += [f"  - {r}" for r in self.reasons]
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One row per test: its headline figure and the reason."""
        spa = float("nan") if self.spa is None else self.spa.p_consistent
        tests = ["deflated Sharpe over cash", "PBO", "SPA p-value", "walk-forward OOS Sharpe"]
        values = [self.dsr.dsr, self.pbo.pbo, spa, self.walk_forward.oos_sharpe]
        if self.dsr_benchmark is not None:
            tests.insert(1, f"deflated Sharpe over {self.spa_benchmark}")
            values.insert(1, self.dsr_benchmark.dsr)
        return pd.DataFrame(
            {
                "test": tests,
                "value": values,
                "reason": list(self.reasons) + [""] * (len(tests) - len(self.reasons)),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; PBO's logits and the walk-forward's OOS returns are left out (too long)."""
        pbo = self.pbo.to_dict()
        pbo.pop("logits", None)
        wf = self.walk_forward.to_dict()
        wf.pop("oos_returns", None)
        wf.pop("oos_rows", None)
        spa = None if self.spa is None else {**self.spa.to_dict(), "benchmark": self.spa_benchmark}
        bench = self.dsr_benchmark
        return {
            "dsr": self.dsr.to_dict(),
            "dsr_benchmark": None
            if bench is None
            else {**bench.to_dict(), "benchmark": self.spa_benchmark},
            "pbo": pbo,
            "spa": spa,
            "walk_forward": wf,
            "survives": bool(self.survives),
            "reasons": list(self.reasons),
        }


def judge(
    dsr: DeflatedSharpe,
    pbo: PBO,
    spa: SPA,
    wf: WalkForward,
    *,
    spa_benchmark: str = "",
    dsr_benchmark: DeflatedSharpe | None = None,
) -> Robustness:
    """The results with their :func:`verdict`, as one :class:`Robustness`.

    ``dsr`` is over cash; ``dsr_benchmark`` (optional) over ``spa_benchmark``, the benchmark
    the SPA test uses too.
    """
    survives, reasons = verdict(dsr, pbo, spa, wf, dsr_benchmark, spa_benchmark or "the benchmark")
    return Robustness(dsr, pbo, spa, wf, survives, tuple(reasons), spa_benchmark, dsr_benchmark)


__all__ = [
    "PBO",
    "SPA",
    "DeflatedSharpe",
    "Robustness",
    "WalkForward",
    "deflated_sharpe",
    "deflated_sharpe_from_stats",
    "deflated_sharpe_of",
    "expected_max_sharpe",
    "judge",
    "pbo",
    "sharpe_ratios",
    "spa",
    "verdict",
    "walk_forward",
]
