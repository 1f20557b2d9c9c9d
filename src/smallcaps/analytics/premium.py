"""The size premium: mean, volatility and Newey-West t-statistic, by sub-period and rolling.

The premium is a monthly long-short return: Fama-French SMB (small minus big, averaged over the
value, neutral and growth thirds) or a plain small-minus-large portfolio return (e.g. bottom
minus top size quintile). Its mean is tested against zero with a heteroskedasticity- and
autocorrelation-consistent (HAC) standard error, Bartlett kernel (Newey and West 1987,
Econometrica 55(3)), computed by statsmodels' ``OLS(y, 1).fit(cov_type="HAC")``; the default lag
count is Newey and West's (1994, RES 61(4)) rule ``floor(4 (T / 100) ** (2 / 9))``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from smallcaps.analytics._jsonready import jsonready
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.results import Result

Period = tuple[str | None, str | None]


def newey_west_lags(n: int) -> int:
    """Newey and West (1994) rule of thumb: ``floor(4 (n / 100) ** (2 / 9))``."""
    return math.floor(4.0 * (max(n, 1) / 100.0) ** (2.0 / 9.0))


def mean_test(returns: pd.Series, *, lags: int | None = None) -> tuple[float, float, int]:
    """Mean of ``returns`` and its Newey-West t-statistic.

    Parameters
    ----------
    returns : Series
        Decimal returns without NaN.
    lags : int, optional
        Bartlett-kernel lags; default :func:`newey_west_lags` of the length.

    Returns
    -------
    (mean, t, lags) : tuple
        ``t`` is NaN when the series has no variance.
    """
    from statsmodels.regression.linear_model import OLS  # ~0.9 s import: only when used

    y = returns.to_numpy(dtype=float)
    n = len(y)
    lags = newey_west_lags(n) if lags is None else int(lags)
    if lags < 0:
        raise ConfigError(f"Newey-West lags must be >= 0, got {lags}")
    mean = float(y.mean())
    if n < 2 or float(np.ptp(y)) == 0.0:
        return mean, float("nan"), lags
    fit = OLS(y, np.ones((n, 1))).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    return mean, float(fit.tvalues[0]), lags


@dataclass(frozen=True, slots=True, eq=False)
class SizePremium(Result):
    """Size-premium statistics.

    Attributes
    ----------
    table : DataFrame
        One row per series and period: ``series``, ``period``, ``start``, ``end``, ``n``
        (months), ``mean`` (annualised arithmetic mean, ``12 x`` the monthly mean), ``vol``
        (annualised standard deviation, ``sqrt(12) x`` monthly), ``t_nw`` (Newey-West t of the
        monthly mean), ``lags``, ``positive`` (share of months above zero).
    rolling : DataFrame
        Rolling ``window``-month annualised mean of each series (NaN until a full window).
    window : int
        Rolling window in periods.
    periods_per_year : int
        12 for monthly returns.
    """

    table: pd.DataFrame
    rolling: pd.DataFrame
    window: int
    periods_per_year: int
    method: str = ""
    sources: tuple[str, ...] = ()
    as_of: pd.Timestamp | None = None

    def full(self, series: str) -> pd.Series:
        """The full-sample row of ``series``."""
        rows = self.table[(self.table["series"] == series) & (self.table["period"] == "full")]
        if rows.empty:
            raise KeyError(series)
        return rows.iloc[0]

    def to_frame(self) -> pd.DataFrame:
        """The statistics table."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the table, the last rolling value of each series, the method."""
        last = {}
        for col in self.rolling.columns:
            s = self.rolling[col].dropna()
            if len(s):
                last[col] = {
                    "date": s.index[-1],
                    "mean": float(s.iloc[-1]),
                    "percentile": float((s <= s.iloc[-1]).mean()),
                    "min": float(s.min()),
                    "min_date": s.idxmin(),
                    "max": float(s.max()),
                    "max_date": s.idxmax(),
                }
        return jsonready(
            {
                "measure": "size.premium",
                "table": self.table,
                "rolling_window_months": self.window,
                "rolling_last": last,
                "method": self.method,
                "sources": list(self.sources),
                "as_of": self.as_of,
            }
        )

    def summary(self) -> str:
        """One line per series, then what the last rolling window says."""
        lines = []
        years = self.window / self.periods_per_year
        for name in dict.fromkeys(self.table["series"]):
            rows = self.table[self.table["series"] == name]
            bits = [
                f"{r.start:%Y-%m}..{r.end:%Y-%m} {r.mean:+.2%}/yr (t = {r.t_nw:.2f})"
                for r in rows.itertuples()
            ]
            line = f"{name}: " + "; ".join(bits)
            roll = self.rolling[name].dropna() if name in self.rolling else pd.Series(dtype=float)
            if len(roll):
                last = float(roll.iloc[-1])
                verdict = "no size premium" if last <= 0 else "a positive premium"
                line += (
                    f". Last {years:.0f} years to {roll.index[-1]:%Y-%m}: {last:+.2%}/yr, "
                    f"{verdict} (percentile {(roll <= last).mean():.0%} among rolling "
                    f"{years:.0f}-year windows since {roll.index[0]:%Y-%m})"
                )
            lines.append(line + ".")
        return "\n".join(lines)


def size_premium(
    returns: pd.DataFrame,
    *,
    periods: Sequence[Period] = (),
    lags: int | None = None,
    window: int = 120,
    periods_per_year: int = 12,
    min_obs: int = 24,
) -> SizePremium:
    """Mean, volatility and Newey-West t of each premium, full sample and sub-periods.

    Parameters
    ----------
    returns : DataFrame
        One column per premium (e.g. ``SMB``, ``Lo 20 - Hi 20``), decimal returns on a
        DatetimeIndex. Each column is used over its own non-missing dates.
    periods : sequence of (start, end)
        Sub-periods as date strings (``"1982-01"``, ``"1999-12"``); None is open. A month
        string means the whole month (``end="1999-12"`` includes 1999-12-31).
    lags : int, optional
        Newey-West lags; default :func:`newey_west_lags` of each period's length.
    window : int, default 120
        Rolling window for the rolling premium (10 years of months).
    periods_per_year : int, default 12
        Annualisation factor.
    min_obs : int, default 24
        Fewest observations per period.

    Raises
    ------
    InsufficientDataError
        A series or sub-period with fewer than ``min_obs`` observations (named).
    ConfigError
        ``window`` < 2, or a period whose start is after its end.
    """
    if window < 2:
        raise ConfigError(f"rolling window must be at least 2 periods, got {window}")
    rows = []
    for name in returns.columns:
        r = returns[name].dropna()
        if len(r) < min_obs:
            raise InsufficientDataError(
                f"size premium: {name!r} has {len(r)} observations, needs {min_obs}"
            )
        for label, (start, end) in [("full", (None, None)), *[(_label(p), p) for p in periods]]:
            sub = _slice(r, start, end)
            if len(sub) < min_obs:
                raise InsufficientDataError(
                    f"size premium: {name!r} has {len(sub)} observations in period "
                    f"{label}, needs {min_obs}"
                )
            mean, t, used = mean_test(sub, lags=lags)
            rows.append(
                {
                    "series": str(name),
                    "period": label,
                    "start": sub.index[0],
                    "end": sub.index[-1],
                    "n": len(sub),
                    "mean": mean * periods_per_year,
                    "vol": float(sub.std(ddof=1)) * math.sqrt(periods_per_year),
                    "t_nw": t,
                    "lags": used,
                    "positive": float((sub > 0).mean()),
                }
            )
    rolling = returns.rolling(window, min_periods=window).mean() * periods_per_year
    rule = "floor(4 (T/100)^(2/9)) per period" if lags is None else f"{lags}"
    method = (
        f"annualised arithmetic mean = {periods_per_year} x monthly mean; vol = "
        f"sqrt({periods_per_year}) x monthly standard deviation; t = mean / Newey-West HAC "
        f"standard error (statsmodels OLS on a constant, Bartlett kernel, lags {rule}, no small-"
        f"sample correction); rolling = {window}-month mean x {periods_per_year}"
    )
    return SizePremium(pd.DataFrame(rows), rolling, window, periods_per_year, method)


def parse_period(text: str) -> Period:
    """``"1982-01:1999-12"`` -> ``("1982-01", "1999-12")``; an empty side is open."""
    start, sep, end = text.partition(":")
    if not sep:
        raise ConfigError(f"period {text!r} must look like 'YYYY-MM:YYYY-MM' (either side empty)")
    return (start.strip() or None, end.strip() or None)


def _label(period: Period) -> str:
    return f"{period[0] or ''}:{period[1] or ''}"


def _slice(r: pd.Series, start: str | None, end: str | None) -> pd.Series:
    lo = pd.Timestamp(start) if start else None
    hi = _period_end(end) if end else None
    if lo is not None and hi is not None and lo > hi:
        raise ConfigError(f"period {start}:{end} starts after it ends")
    return r.loc[lo:hi]


def _period_end(text: str) -> pd.Timestamp:
    """The last instant of the day, month or year a date string names."""
    stamp = pd.Timestamp(text)
    parts = text.strip().count("-")
    if parts == 0 and len(text.strip()) == 4:
        return stamp + pd.offsets.YearEnd(0)
    if parts == 1:
        return stamp + pd.offsets.MonthEnd(0)
    return stamp
