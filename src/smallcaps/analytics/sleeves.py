"""Sleeves: any return series a claim can name, and its return over a window.

A *sleeve* is a series of per-period returns with the rule that adds them up over a window:

==========================================  =====================================================
id                                          returns
==========================================  =====================================================
``french:<dataset>/<section>/<column>``     the Ken French column as published (decimal returns;
                                            ``<section>`` is the section title or its slug)
``yahoo:<TICKER>``                          total return: change of the adjusted close (splits
                                            and dividends reinvested), close to close
``fred:<ID>``                               the series' change per period in its own units
                                            (percentage points for a rate); changes *add up*
``user:<name>``                             a stored user series of returns (``user/<name>``)
``<sleeve> minus <sleeve>``                 the difference of two sleeves' returns each period (a
                                            long-short sleeve rebalanced every period, as SMB)
==========================================  =====================================================

Returns compound over a window (``(1 + r1)(1 + r2)... - 1``); FRED changes add. A daily sleeve
used with a monthly one, or over windows counted in months, becomes monthly: compounded (or
summed) within each calendar month and stamped at the month's end; a last month whose data ends
before its last business day is left out.

Everything here is pure: a measurement reads the stored series through the as-of door and hands
them to :func:`from_returns`, :func:`from_levels` and :func:`from_changes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from smallcaps.errors import ConfigError, InsufficientDataError

KINDS = ("french", "yahoo", "fred", "user")
MINUS = " minus "
FREQUENCIES = ("D", "M")
_TICKER = re.compile(r"^[A-Za-z0-9^=.\-]{1,20}$")


@dataclass(frozen=True, slots=True)
class SleeveId:
    """A parsed sleeve id: a leaf (``kind``, ``key``) or a difference (``legs``)."""

    text: str
    kind: str  # french, yahoo, fred, user, or "minus"
    key: str = ""
    legs: tuple[SleeveId, ...] = ()

    @property
    def leaves(self) -> tuple[SleeveId, ...]:
        """Every leaf sleeve this id reads, in order."""
        if self.kind == "minus":
            return tuple(x for leg in self.legs for x in leg.leaves)
        return (self,)


def parse_sleeve(text: str) -> SleeveId:
    """Parse a sleeve id (see the module docstring).

    Raises
    ------
    ConfigError
        An unknown kind, an empty key, a malformed French path or ticker; names the id.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"a sleeve id must be a non-empty string, not {text!r}")
    text = text.strip()
    if MINUS in text:
        left, _, right = text.partition(MINUS)
        a, b = parse_sleeve(left), parse_sleeve(right)
        return SleeveId(text, "minus", legs=(a, b))
    kind, sep, key = text.partition(":")
    kind, key = kind.strip().lower(), key.strip()
    if not sep or kind not in KINDS or not key:
        raise ConfigError(
            f"sleeve {text!r}: expected KIND:KEY with KIND one of {', '.join(KINDS)} "
            "(e.g. 'yahoo:SPY', 'french:F-F_Research_Data_Factors/Monthly/HML'), or "
            "'<sleeve> minus <sleeve>'"
        )
    if kind == "french" and (key.count("/") < 2 or any(not p.strip() for p in key.split("/"))):
        raise ConfigError(
            f"sleeve {text!r}: a French sleeve is french:<dataset>/<section>/<column>, e.g. "
            "'french:Portfolios_Formed_on_ME/Average Value Weight Returns -- Monthly/Lo 20'"
        )
    if kind == "yahoo" and not _TICKER.match(key):
        raise ConfigError(f"sleeve {text!r}: {key!r} is not a ticker")
    return SleeveId(text, kind, key)


@dataclass(frozen=True, slots=True, eq=False)
class Sleeve:
    """A sleeve's per-period returns (or changes) and how they add up over a window.

    Attributes
    ----------
    id : str
        The sleeve id as written.
    returns : Series
        Per-period returns (decimal) or changes, indexed by the period's closing date, sorted,
        NaN where the publisher has no value.
    start : Timestamp
        The close the first return is measured from (the level's first date, or the month end
        before the first French month).
    frequency : {"D", "M"}
    compound : bool
        True: returns compound over a window; False: changes add.
    units : str
        What a window figure is (``decimal return`` or ``change in <units>``).
    sources : tuple of str
        The stored series read.
    """

    id: str
    returns: pd.Series
    start: pd.Timestamp
    frequency: str
    compound: bool = True
    units: str = "decimal return"
    sources: tuple[str, ...] = field(default_factory=tuple)

    @property
    def end(self) -> pd.Timestamp:
        """The last period's closing date."""
        return pd.Timestamp(self.returns.index[-1])

    def window(self, start: pd.Timestamp, end: pd.Timestamp) -> float:
        """The return over the periods closing in ``(start, end]``; NaN when not covered.

        Covered means ``start`` is on or after the sleeve's first close, ``end`` on or before
        its last, and no period inside has a missing value. Only returns dated ``<= end`` are
        read.
        """
        if start < self.start or end > self.end or end <= start:
            return float("nan")
        idx = self.returns.index
        lo, hi = idx.searchsorted(start, side="right"), idx.searchsorted(end, side="right")
        r = self.returns.to_numpy()[lo:hi]
        if not len(r) or np.isnan(r).any():
            return float("nan")
        return float(np.prod(1.0 + r) - 1.0) if self.compound else float(r.sum())


def _clean(values: pd.Series, what: str) -> pd.Series:
    s = pd.Series(values, dtype=float).sort_index()
    s.index = pd.DatetimeIndex(s.index)
    s = s[~s.index.duplicated(keep="last")]
    if s.dropna().empty:
        raise InsufficientDataError(f"sleeve {what}: no values")
    first, last = s.first_valid_index(), s.last_valid_index()
    return s.loc[first:last]


def frequency_of(index: pd.DatetimeIndex) -> str:
    """``"M"`` when the dates are month ends at most one per month, else ``"D"``."""
    if len(index) and index.is_month_end.all() and index.to_period("M").is_unique:
        return "M"
    return "D"


def from_returns(sleeve_id: str, returns: pd.Series, *, sources: tuple[str, ...] = ()) -> Sleeve:
    """A sleeve of published returns (French columns, a user's return series)."""
    r = _clean(returns, sleeve_id)
    freq = frequency_of(pd.DatetimeIndex(r.index))
    first = pd.Timestamp(r.index[0])
    start = (first - pd.offsets.MonthEnd(1)) if freq == "M" else _previous_business_day(first)
    return Sleeve(sleeve_id, r.rename(sleeve_id), start, freq, True, "decimal return", sources)


def from_levels(sleeve_id: str, level: pd.Series, *, sources: tuple[str, ...] = ()) -> Sleeve:
    """A sleeve of the change of a price level (an adjusted close: total return)."""
    lv = _clean(level, sleeve_id).dropna()
    if len(lv) < 2:
        raise InsufficientDataError(f"sleeve {sleeve_id}: fewer than two levels")
    if (lv <= 0).any():
        raise ConfigError(f"sleeve {sleeve_id}: a price level is zero or negative")
    r = lv.pct_change().iloc[1:]
    freq = frequency_of(pd.DatetimeIndex(lv.index))
    return Sleeve(sleeve_id, r.rename(sleeve_id), pd.Timestamp(lv.index[0]), freq, True,
                  "decimal return", sources)  # fmt: skip


def from_changes(
    sleeve_id: str, level: pd.Series, *, units: str = "", sources: tuple[str, ...] = ()
) -> Sleeve:
    """A sleeve of a series' changes (FRED rates, spreads): they add up over a window."""
    lv = _clean(level, sleeve_id).dropna()
    if len(lv) < 2:
        raise InsufficientDataError(f"sleeve {sleeve_id}: fewer than two values")
    d = lv.diff().iloc[1:]
    freq = frequency_of(pd.DatetimeIndex(lv.index))
    what = f"change in {units}" if units else "change"
    return Sleeve(sleeve_id, d.rename(sleeve_id), pd.Timestamp(lv.index[0]), freq, False, what,
                  sources)  # fmt: skip


def _previous_business_day(day: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(day - pd.offsets.BDay(1))


def to_monthly(sleeve: Sleeve) -> Sleeve:
    """A daily sleeve as monthly returns (compounded, or summed for changes), at month ends.

    A month is kept only when its periods are all present (no NaN) and, for the last month,
    when the data reaches its last business day.
    """
    if sleeve.frequency == "M":
        return sleeve
    r = sleeve.returns
    months = r.index.to_period("M")
    if sleeve.compound:
        grouped = (1.0 + r).groupby(months).prod(min_count=1) - 1.0
    else:
        grouped = r.groupby(months).sum(min_count=1)
    bad = r.isna().groupby(months).any()
    grouped[bad] = np.nan
    last = pd.Timestamp(r.index[-1])
    if last < pd.Timestamp(last + pd.offsets.BMonthEnd(0)).normalize():
        grouped = grouped.iloc[:-1]
    start = sleeve.start
    first_month_end = (start + pd.offsets.MonthEnd(0)).normalize()
    if start < pd.Timestamp(start + pd.offsets.BMonthEnd(0)).normalize():
        # the first close is inside a month: that month's return would be partial
        grouped = grouped.iloc[1:]
        month_start = first_month_end
    else:
        month_start = start.normalize() + pd.offsets.MonthEnd(0)
    if grouped.empty:
        raise InsufficientDataError(f"sleeve {sleeve.id}: no complete month")
    idx = grouped.index.to_timestamp(how="end").normalize()
    out = pd.Series(grouped.to_numpy(), index=pd.DatetimeIndex(idx), name=sleeve.id)
    return Sleeve(sleeve.id, out, pd.Timestamp(month_start), "M", sleeve.compound, sleeve.units,
                  sleeve.sources)  # fmt: skip


def difference(sleeve_id: str, first: Sleeve, second: Sleeve) -> Sleeve:
    """``first`` minus ``second`` each period (both brought to the coarser frequency)."""
    if first.frequency != second.frequency:
        first, second = to_monthly(first), to_monthly(second)
    both = pd.concat([first.returns, second.returns], axis=1, join="inner")
    if both.empty:
        raise InsufficientDataError(f"sleeve {sleeve_id}: the two legs share no period")
    d = both.iloc[:, 0] - both.iloc[:, 1]
    units = first.units if first.units == second.units else f"{first.units} minus {second.units}"
    return Sleeve(sleeve_id, d.rename(sleeve_id), max(first.start, second.start),
                  first.frequency, first.compound and second.compound, units,
                  (*first.sources, *second.sources))  # fmt: skip


def common(sleeves: list[Sleeve], frequency: str) -> list[Sleeve]:
    """The sleeves on one frequency: ``"M"`` (daily ones made monthly), ``"D"`` (all daily).

    Raises
    ------
    ConfigError
        ``"D"`` asked of a monthly sleeve.
    """
    if frequency == "M":
        return [to_monthly(s) for s in sleeves]
    monthly = [s.id for s in sleeves if s.frequency == "M"]
    if monthly:
        raise ConfigError(
            f"sleeve {monthly[0]} is monthly; count windows in months, not trading days"
        )
    return sleeves
