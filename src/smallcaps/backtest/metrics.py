"""Performance metrics of many variants at once: rows are variants, columns periods.

Every function takes ``net`` of shape ``(V, n)`` (periodic simple returns) and returns one value
per variant. :data:`DEFINITIONS` gives the one-line definition the report prints.
"""

from __future__ import annotations

import numpy as np

DEFINITIONS = {
    "cagr": "compound annual growth rate of the net returns: growth ** (periods per year / n) - 1",
    "vol": "standard deviation of periodic net returns (ddof 1) x sqrt(periods per year)",
    "sharpe": "mean / standard deviation (ddof 1) of net returns over cash (the T-bill rate, "
    "French RF), x sqrt(periods per year)",
    "sortino": "mean net return over cash / root mean square of its negative part, "
    "x sqrt(periods per year)",
    "max_dd": "largest fall of the growth of 1 from its running peak (negative)",
    "max_dd_periods": "longest time under a previous peak, in periods (to recovery or the end)",
    "turnover": "sum of |change of weight| over the small and large legs per year "
    "(a full switch is 2)",
    "time_small": "average weight held in small caps",
    "hit_rate": "share of periods whose net return beat cash",
    "excess": "CAGR minus the benchmark's CAGR over the same periods",
}


def _rows(net: np.ndarray) -> np.ndarray:
    x = np.asarray(net, dtype=float)
    return x[None, :] if x.ndim == 1 else x


def total_return(net: np.ndarray) -> np.ndarray:
    """Growth of 1 minus 1, per variant."""
    return np.prod(1.0 + _rows(net), axis=1) - 1.0


def cagr(net: np.ndarray, periods_per_year: float) -> np.ndarray:
    """Compound annual growth rate."""
    x = _rows(net)
    growth = np.prod(1.0 + x, axis=1)
    years = x.shape[1] / periods_per_year
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(growth > 0, growth ** (1.0 / years) - 1.0, -1.0)


def sharpe(net: np.ndarray, periods_per_year: float, rf: np.ndarray | None = None) -> np.ndarray:
    """Annualised Sharpe ratio of returns over ``rf`` (ddof 1; NaN when flat)."""
    x = _rows(net)
    if rf is not None:
        x = x - np.asarray(rf, float)
    sd = x.std(axis=1, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sd > 0, x.mean(axis=1) / sd, np.nan) * np.sqrt(periods_per_year)


def sortino(net: np.ndarray, periods_per_year: float, rf: np.ndarray | None = None) -> np.ndarray:
    """Annualised Sortino ratio (downside deviation: root mean square of negative excess)."""
    x = _rows(net)
    if rf is not None:
        x = x - np.asarray(rf, float)
    down = np.sqrt(np.mean(np.minimum(x, 0.0) ** 2, axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(down > 0, x.mean(axis=1) / down, np.nan) * np.sqrt(periods_per_year)


def drawdowns(net: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum drawdown (<= 0) and the longest time under water in periods, per variant.

    The growth of 1 starts at 1 before the first period, which counts as a peak.
    """
    x = _rows(net)
    v, n = x.shape
    wealth = np.empty((v, n + 1))
    wealth[:, 0] = 1.0
    np.cumprod(1.0 + x, axis=1, out=wealth[:, 1:])
    peak = np.maximum.accumulate(wealth, axis=1)
    np.divide(wealth, peak, out=wealth)
    del peak
    max_dd = wealth.min(axis=1) - 1.0
    # the longest stretch between peaks (ratio 1; column 0 is one) or from the last to the end
    rows, cols = np.nonzero(wealth >= 1.0)
    gap = np.empty(len(cols), dtype=np.int64)
    gap[:-1] = cols[1:] - cols[:-1] - 1
    last = np.r_[rows[1:] != rows[:-1], True]
    gap[last] = n - cols[last]
    longest = np.maximum.reduceat(gap, np.flatnonzero(np.r_[True, last[:-1]]))
    return max_dd, longest.astype(np.int64)


def drawdown_path(net: np.ndarray) -> np.ndarray:
    """Drawdown from the running peak at each period (1-D in, 1-D out)."""
    wealth = np.cumprod(1.0 + np.asarray(net, float))
    peak = np.maximum.accumulate(np.r_[1.0, wealth])[1:]
    return wealth / peak - 1.0


def hit_rate(net: np.ndarray, rf: np.ndarray | None = None) -> np.ndarray:
    """Share of periods whose return beat ``rf`` (0 when not given)."""
    x = _rows(net)
    base = 0.0 if rf is None else np.asarray(rf, float)
    return np.mean(x > base, axis=1)


def summarise(
    net: np.ndarray,
    *,
    periods_per_year: float,
    rf: np.ndarray | None = None,
    turnover: np.ndarray | None = None,
    time_small: np.ndarray | None = None,
    excess: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Every metric of :data:`DEFINITIONS` except ``excess``, one array per metric.

    Parameters
    ----------
    net : ndarray, shape (V, n)
        Net periodic returns.
    periods_per_year : float
        12 for months, 252 for trading days.
    rf : ndarray, shape (n,), optional
        Cash return per period (Sharpe, Sortino and hit rate are over it).
    turnover : ndarray, shape (V,), optional
        Total turnover over the ``n`` periods (divided by the years here).
    time_small : ndarray, shape (V,), optional
        Average small-cap weight.
    excess : ndarray, shape (V, n), optional
        ``net - rf`` when the caller has it already (the same numbers, one pass fewer).
    """
    x = _rows(net)
    v, n = x.shape
    max_dd, dd_len = drawdowns(x)
    years = n / periods_per_year
    over = None if excess is None or rf is None else _rows(excess)
    ppy = periods_per_year
    return {
        "cagr": cagr(x, periods_per_year),
        "vol": x.std(axis=1, ddof=1) * np.sqrt(periods_per_year),
        "sharpe": sharpe(x, periods_per_year, rf) if over is None else sharpe(over, ppy),
        "sortino": sortino(x, periods_per_year, rf) if over is None else sortino(over, ppy),
        "max_dd": max_dd,
        "max_dd_periods": dd_len,
        "turnover": (np.zeros(v) if turnover is None else np.asarray(turnover, float)) / years,
        "time_small": np.full(v, np.nan) if time_small is None else np.asarray(time_small, float),
        "hit_rate": hit_rate(x, rf),
    }


def sharpe_from_sums(
    total: np.ndarray, total_sq: np.ndarray, n: int, periods_per_year: float
) -> np.ndarray:
    """Annualised Sharpe (over 0, ddof 1) from the sum and sum of squares of ``n`` returns."""
    mean = np.asarray(total, float) / n
    var = (np.asarray(total_sq, float) - n * mean * mean) / (n - 1)
    sd = np.sqrt(np.maximum(var, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sd > 0, mean / sd, np.nan) * np.sqrt(periods_per_year)
