"""The valuation gap: aggregate B/M (or E/P) of small versus large caps, in history.

**Aggregating French portfolios.** The Size x B/M files (``25_Portfolios_5x5``,
``6_Portfolios_2x3``) publish, for each portfolio ``p`` and month ``m``, a value-weighted
average ratio ``R_p(m) = sum_i ME_i(m) BM_i / sum_i ME_i(m)`` over its firms ``i``, the number
of firms ``N_p(m)`` and their average market cap ``A_p(m)``. The ratio of a whole size group
(the small quintile: five B/M portfolios) is the same cap-weighted average over the union of
their firms, which is the portfolios' ratios weighted by their total caps::

    R_group(m) = sum_p ME_p(m) R_p(m) / sum_p ME_p(m),    ME_p(m) = N_p(m) * A_p(m)

With ``BM_i = BE_i / ME_i`` this is ``sum(BE) / sum(ME)`` of the group when every firm's weight
and ratio use the same market cap: the aggregate book-to-market an index reports. A plain mean of
the five portfolios would instead give the few, tiny firms of the high-B/M corner the weight of
the rest of the quintile and overstate the group's B/M.

**Which prices a ratio reflects.** French fixes each firm's ratio at portfolio formation (end of
June of year ``t``) and keeps it from July ``t`` to June ``t + 1``: the ``BE/ME`` section divides
book equity of fiscal year ``t - 1`` by market equity of **December ``t - 1``**; the
``BE_FYt-1/ME_June t`` section by market equity of **June ``t``**. So the February 2026 row
carries December 2024 (or June 2025) prices, and only the weights move monthly.
:func:`roll_forward` moves the June-``t`` ratios to each month's prices with the portfolios'
returns since formation (an estimate; see its notes).

**The gap** is ``log(R_small / R_big)``; above 0 small caps are cheaper. The discount is
``1 - (P/B small) / (P/B big) = 1 - exp(-gap)``; its percentile and z-score are taken in the
history up to the last date (nothing later is seen).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from smallcaps.analytics._jsonready import jsonready
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.results import Result

Prices = Literal["december", "june"]
_SIZE = re.compile(r"^(SMALL|BIG|ME(\d+))\b")


def size_groups(columns: Sequence[str]) -> dict[int, list[str]]:
    """Columns of a French Size x ratio file by size group, 1 = smallest.

    ``SMALL LoBM``, ``ME1 BM2`` ... are group 1; ``BIG HiBM`` and ``ME5 BM2`` the largest group
    (``ME2`` in the 2x3 file).

    Raises
    ------
    ConfigError
        A column that names no size group (the file is not a Size x ratio sort).
    """
    found: dict[str, int | None] = {}
    for c in columns:
        match = _SIZE.match(str(c))
        if not match:
            raise ConfigError(
                f"column {c!r} names no size group (expected 'SMALL ...', 'BIG ...' or 'ME<k> ...')"
            )
        small = match.group(1) == "SMALL"
        found[str(c)] = int(match.group(2)) if match.group(2) else (1 if small else None)
    top = max([g for g in found.values() if g is not None] or [2])
    groups: dict[int, list[str]] = {}
    for c, g in found.items():
        groups.setdefault(top if g is None else g, []).append(c)
    return dict(sorted(groups.items()))


def aggregate_ratio(
    ratios: pd.DataFrame,
    counts: pd.DataFrame,
    avg_caps: pd.DataFrame,
    columns: Sequence[str],
) -> pd.Series:
    """Cap-weighted ratio of the union of portfolios ``columns`` (see the module docstring).

    Parameters
    ----------
    ratios : DataFrame
        Value-weighted ratio per portfolio (B/M or E/P), one column per portfolio.
    counts : DataFrame
        Number of firms per portfolio.
    avg_caps : DataFrame
        Average market cap per portfolio (any currency unit, the same for all).
    columns : sequence of str
        The portfolios to combine.

    Returns
    -------
    Series
        ``sum_p N_p A_p R_p / sum_p N_p A_p`` on the dates all three tables share; portfolios
        with no firms or no ratio that month are left out of both sums; NaN when none is left.
    """
    missing = [c for c in columns if c not in ratios or c not in counts or c not in avg_caps]
    if missing:
        raise ConfigError(f"portfolios {missing} are not in all of ratios, counts and caps")
    idx = ratios.index.intersection(counts.index).intersection(avg_caps.index)
    r = ratios.loc[idx, list(columns)].to_numpy(dtype=float)
    w = counts.loc[idx, list(columns)].to_numpy(dtype=float) * avg_caps.loc[idx, list(columns)]
    w = np.asarray(w, dtype=float)
    ok = np.isfinite(r) & np.isfinite(w) & (w > 0)
    num = np.where(ok, r * w, 0.0).sum(axis=1)
    den = np.where(ok, w, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / den, np.nan)
    return pd.Series(out, index=idx, name="ratio")


def price_dates(index: pd.DatetimeIndex, *, prices: Prices) -> pd.DatetimeIndex:
    """The month end whose market equity a French ratio row divides by.

    Rows from July ``t`` to June ``t + 1`` belong to the portfolios formed in June ``t``; their
    ratios use ME of December ``t - 1`` (``prices="december"``) or June ``t`` (``"june"``).
    """
    if prices not in ("december", "june"):
        raise ConfigError(f"prices must be 'december' or 'june', got {prices!r}")
    idx = pd.DatetimeIndex(index)
    formed = idx.year - (idx.month < 7).astype(int)
    if prices == "june":
        stamps = [pd.Timestamp(year=int(y), month=6, day=30) for y in formed]
    else:
        stamps = [pd.Timestamp(year=int(y) - 1, month=12, day=31) for y in formed]
    return pd.DatetimeIndex(stamps, name="prices_of")


def roll_forward(ratios: pd.DataFrame, returns: pd.DataFrame) -> pd.DataFrame:
    """June-``t`` ratios moved to each month's prices: ``R_p(m) / prod(1 + r_p)`` since July ``t``.

    Parameters
    ----------
    ratios : DataFrame
        The ``BE_FYt-1/ME_June t`` section (ratios on June ``t`` prices), monthly.
    returns : DataFrame
        The same portfolios' value-weighted monthly returns (decimal).

    Returns
    -------
    DataFrame
        Ratios on the dates both share. Notes: the returns include dividends, so the price
        growth and the fall in B/M are overstated by the dividend yield (about 1-2% a year, at
        most 12 months' worth); firms within a portfolio are assumed to move together (exact for
        the portfolio's sum of BE over sum of ME, approximate for its cap-weighted mean ratio).
    """
    idx = ratios.index.intersection(returns.index)
    cols = [c for c in ratios.columns if c in returns.columns]
    r = returns.loc[idx, cols]
    formed = pd.Index(idx.year - (idx.month < 7).astype(int), name="formed")
    growth = np.exp(np.log1p(r).groupby(formed.to_numpy()).cumsum())
    growth.index = idx
    return ratios.loc[idx, cols] / growth


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: comparing Series fields is ambiguous
class ValuationGap(Result):
    """Relative valuation of small versus big caps.

    Attributes
    ----------
    gap : Series
        ``log(R_small / R_big)`` for a cheapness ratio ``R`` (B/M, E/P); > 0: small is cheaper.
    discount : float
        ``1 - (P/B small) / (P/B big) = 1 - exp(-gap)`` on the last date.
    percentile : float
        Share of the history at or below the last gap, in (0, 1].
    zscore : float
        ``(last - mean) / sd`` of the gap history; NaN without variance.
    wide_since : Timestamp
        Start of the current run of dates with a gap at least as wide as the last one.
    last_as_wide : Timestamp or None
        The latest date before that run with a gap at least as wide; None: never before.
    ratio : str
        ``"B/M"`` or ``"E/P"``.
    """

    gap: pd.Series
    discount: float
    percentile: float
    zscore: float
    wide_since: pd.Timestamp
    last_as_wide: pd.Timestamp | None
    ratio: str = "B/M"
    method: str = "log ratio small / big; full-sample percentile and z-score up to the last date"

    @property
    def date(self) -> pd.Timestamp:
        """The last date."""
        return pd.Timestamp(self.gap.index[-1])

    @property
    def discounts(self) -> pd.Series:
        """The discount at each date, ``1 - exp(-gap)``."""
        return (1.0 - np.exp(-self.gap)).rename("discount")

    def discount_on(self, when: str | pd.Timestamp) -> tuple[pd.Timestamp, float] | None:
        """The discount on the last date at or before ``when`` (a month string means its end)."""
        text = str(when)
        stamp = pd.Timestamp(when)
        if isinstance(when, str) and text.count("-") == 1:
            stamp = stamp + pd.offsets.MonthEnd(0)
        d = self.discounts.loc[:stamp]
        return (pd.Timestamp(d.index[-1]), float(d.iloc[-1])) if len(d) else None

    def share_at_least(self, discount: float, since: str | pd.Timestamp) -> float:
        """Share of dates from ``since`` on with a discount of at least ``discount``."""
        d = self.discounts.loc[pd.Timestamp(since) :]
        return float((d >= discount).mean()) if len(d) else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """Gap and discount by date."""
        return self.gap.to_frame("gap").assign(discount=lambda f: 1.0 - np.exp(-f["gap"]))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready scalar fields."""
        return jsonready(
            {
                "ratio": self.ratio,
                "date": self.date,
                "first_date": self.gap.index[0],
                "n": len(self.gap),
                "gap": float(self.gap.iloc[-1]),
                "discount": self.discount,
                "percentile": self.percentile,
                "zscore": self.zscore,
                "median_discount": float(1.0 - np.exp(-self.gap.median())),
                "wide_since": self.wide_since,
                "last_as_wide": self.last_as_wide,
                "method": self.method,
            }
        )

    def summary(self) -> str:
        """One line (STYLE.md's example, plus when the gap last stood as wide)."""
        before = (
            f"last as wide before that: {self.last_as_wide:%Y-%m}"
            if self.last_as_wide is not None
            else "never as wide before that"
        )
        return (
            f"Small caps at a {self.discount:.0%} {self._price_word()} discount on "
            f"{self.date:%Y-%m} ({self.percentile:.0%} percentile, z = {self.zscore:+.2f}, "
            f"n = {len(self.gap)}; at least this wide since {self.wide_since:%Y-%m}, {before})"
        )

    def _price_word(self) -> str:
        return "P/B" if self.ratio == "B/M" else "P/E"


def valuation_gap(
    small: pd.Series, big: pd.Series, *, min_obs: int = 24, ratio: str = "B/M"
) -> ValuationGap:
    """Relative cheapness of small versus big caps.

    Parameters
    ----------
    small, big : Series
        Aggregate cheapness ratios (B/M or E/P: higher is cheaper) on a shared date index,
        e.g. from :func:`aggregate_ratio`.
    min_obs : int, default 24
        Fewest overlapping dates.
    ratio : str, default "B/M"
        Label of the ratio, for the text.

    Raises
    ------
    InsufficientDataError
        Fewer than ``min_obs`` overlapping dates with positive ratios.
    """
    both = pd.concat({"small": small, "big": big}, axis=1, join="inner", sort=True).dropna()
    both = both[(both > 0).all(axis=1)]
    if len(both) < min_obs:
        raise InsufficientDataError(
            f"valuation_gap needs {min_obs} overlapping dates with positive ratios, got {len(both)}"
        )
    gap = np.log(both["small"] / both["big"]).rename("gap")
    values = gap.to_numpy()
    last, sd = float(values[-1]), float(gap.std(ddof=1))
    wide = values >= last
    run = len(values) - 1
    while run > 0 and wide[run - 1]:
        run -= 1
    earlier = np.flatnonzero(wide[:run])
    return ValuationGap(
        gap=gap,
        discount=1.0 - float(np.exp(-last)),
        percentile=float((values <= last).mean()),
        zscore=(last - float(values.mean())) / sd if sd > 0 else float("nan"),
        wide_since=pd.Timestamp(gap.index[run]),
        last_as_wide=pd.Timestamp(gap.index[earlier[-1]]) if len(earlier) else None,
        ratio=ratio,
    )


@dataclass(frozen=True, slots=True, eq=False)
class LevelInHistory(Result):
    """A valuation level (CAPE, a vendor P/E) on its last date against its own history."""

    name: str
    series: pd.Series
    last: float
    date: pd.Timestamp
    percentile: float
    zscore: float
    median: float

    def summary(self) -> str:
        """One line: the last value, its percentile and z-score in its own history."""
        return (
            f"{self.name} {self.last:.1f} on {self.date:%Y-%m-%d}: percentile "
            f"{self.percentile:.0%} of {self.series.index[0]:%Y-%m}..{self.date:%Y-%m}, "
            f"z = {self.zscore:+.2f}, median {self.median:.1f} (n = {len(self.series)})"
        )

    def to_frame(self) -> pd.DataFrame:
        """The history by date."""
        return self.series.to_frame(self.name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready scalars."""
        return jsonready(
            {
                "name": self.name,
                "last": self.last,
                "date": self.date,
                "first_date": self.series.index[0],
                "percentile": self.percentile,
                "zscore": self.zscore,
                "median": self.median,
            }
        )


def level_in_history(series: pd.Series, *, name: str) -> LevelInHistory:
    """The last value of ``series`` with its percentile, z-score and the median of its history.

    Raises
    ------
    InsufficientDataError
        Fewer than two values.
    """
    s = series.dropna()
    if len(s) < 2:
        raise InsufficientDataError(f"{name}: needs two values, got {len(s)}")
    last, sd = float(s.iloc[-1]), float(s.std(ddof=1))
    return LevelInHistory(
        name=name,
        series=s,
        last=last,
        date=pd.Timestamp(s.index[-1]),
        percentile=float((s <= last).mean()),
        zscore=(last - float(s.mean())) / sd if sd > 0 else float("nan"),
        median=float(s.median()),
    )


@dataclass(frozen=True, slots=True, eq=False)
class VendorPE(Result):
    """A vendor's P/E of small and large caps (user-supplied data, not computed here)."""

    small: pd.Series
    big: pd.Series
    date: pd.Timestamp
    pe_small: float
    pe_big: float
    discount: float  # 1 - PE_small / PE_big on the last common date
    percentile: float  # of that discount in the vendor history
    small_name: str = "small"
    big_name: str = "big"

    def summary(self) -> str:
        """One line: both P/Es, the discount and its percentile, labelled as vendor data."""
        return (
            f"Vendor data (user-supplied, not computed here): {self.small_name} P/E "
            f"{self.pe_small:.1f}x vs {self.big_name} {self.pe_big:.1f}x on {self.date:%Y-%m-%d}, "
            f"a {self.discount:.0%} discount (percentile {self.percentile:.0%} of "
            f"{len(self.small)} common dates)"
        )

    def to_frame(self) -> pd.DataFrame:
        """Both P/E series and the discount on their common dates."""
        return pd.DataFrame({self.small_name: self.small, self.big_name: self.big}).assign(
            discount=1.0 - self.small / self.big
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready scalars, labelled as vendor data."""
        return jsonready(
            {
                "data": "vendor (user-supplied), not computed by smallcaps",
                "small": self.small_name,
                "big": self.big_name,
                "date": self.date,
                "pe_small": self.pe_small,
                "pe_big": self.pe_big,
                "discount": self.discount,
                "percentile": self.percentile,
                "n": len(self.small),
            }
        )


def vendor_pe(small: pd.Series, big: pd.Series) -> VendorPE:
    """Compare two vendor P/E series on their common dates: ``1 - PE_small / PE_big``.

    Raises
    ------
    InsufficientDataError
        No common date with positive P/E in both.
    """
    both = pd.concat({"small": small, "big": big}, axis=1, join="inner", sort=True).dropna()
    both = both[(both > 0).all(axis=1)]
    if both.empty:
        raise InsufficientDataError(
            f"vendor P/E {small.name!r} and {big.name!r} share no date with positive values"
        )
    disc = 1.0 - both["small"] / both["big"]
    return VendorPE(
        small=both["small"],
        big=both["big"],
        date=pd.Timestamp(both.index[-1]),
        pe_small=float(both["small"].iloc[-1]),
        pe_big=float(both["big"].iloc[-1]),
        discount=float(disc.iloc[-1]),
        percentile=float((disc <= disc.iloc[-1]).mean()),
        small_name=str(small.name),
        big_name=str(big.name),
    )


@dataclass(frozen=True, slots=True, eq=False)
class ValuationReport(Result):
    """The ``valuation.gap`` measurement: the French gap, its context and any claims passed in.

    Attributes
    ----------
    gap : ValuationGap
        On the ratios as published (stale prices, see ``prices_of``).
    prices_of : Timestamp
        The month whose market equity the last published row divides by.
    updated : ValuationGap or None
        The same gap on ratios rolled forward to each month's prices (:func:`roll_forward`).
    cape : LevelInHistory or None
        Shiller CAPE of the S&P Composite (large-cap context).
    vendor : VendorPE or None
        User-supplied vendor P/E, compared as given.
    claim_discount, claim_date : float, str
        A claimed discount and the month it was claimed to be last that wide.
    claim_pe_small, claim_pe_big : float
        Claimed forward P/Es (not testable without vendor data).
    """

    gap: ValuationGap
    prices_of: pd.Timestamp
    updated: ValuationGap | None = None
    cape: LevelInHistory | None = None
    vendor: VendorPE | None = None
    small_label: str = "small"
    big_label: str = "big"
    claim_discount: float | None = None
    claim_date: str | None = None
    claim_pe_small: float | None = None
    claim_pe_big: float | None = None
    method: str = ""
    notes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    as_of: pd.Timestamp | None = None

    @property
    def discount(self) -> float:
        """The headline discount: the published-ratio gap's last discount."""
        return self.gap.discount

    def to_frame(self) -> pd.DataFrame:
        """Published (and rolled-forward) gap and discount by date."""
        frame = self.gap.to_frame()
        if self.updated is not None:
            up = self.updated.to_frame().add_suffix("_updated")
            frame = frame.join(up, how="outer")
        return frame

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every part, the claims and what the data say about them."""
        claim = self._claim_check()
        return jsonready(
            {
                "measure": "valuation.gap",
                "small": self.small_label,
                "big": self.big_label,
                "discount": self.discount,
                "prices_of": self.prices_of,
                "published": self.gap.to_dict(),
                "updated": self.updated.to_dict() if self.updated is not None else None,
                "cape": self.cape.to_dict() if self.cape is not None else None,
                "vendor_pe": self.vendor.to_dict() if self.vendor is not None else None,
                "claims": claim,
                "method": self.method,
                "notes": list(self.notes),
                "sources": list(self.sources),
                "as_of": self.as_of,
            }
        )

    def _claim_check(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.claim_discount is not None:
            g = self.gap
            out["discount_claimed"] = self.claim_discount
            out["discount_measured"] = g.discount
            if self.claim_date:
                at = g.discount_on(self.claim_date)
                out["claim_date"] = self.claim_date
                out["discount_on_claim_date"] = at[1] if at else None
                out["share_since_claim_date_at_least_claimed"] = g.share_at_least(
                    self.claim_discount, at[0] if at else self.claim_date
                )
            out["last_as_wide_as_now"] = g.last_as_wide
        if self.claim_pe_small is not None and self.claim_pe_big:
            out["pe_claimed"] = [self.claim_pe_small, self.claim_pe_big]
            out["pe_discount_claimed"] = 1.0 - self.claim_pe_small / self.claim_pe_big
            out["pe_checked_with"] = "vendor data" if self.vendor is not None else None
        return out

    def summary(self) -> str:
        """The gap, where it stands, the claims against the data, and the context."""
        g = self.gap
        price_word = "P/B" if g.ratio == "B/M" else "P/E"
        lines = [
            f"{self.small_label} vs {self.big_label}: aggregate {g.ratio} gives small caps a "
            f"{g.discount:.0%} {price_word} discount on the {g.date:%Y-%m} row (ratios on "
            f"{self.prices_of:%Y-%m} prices); percentile {g.percentile:.0%} of "
            f"{g.gap.index[0]:%Y-%m}..{g.date:%Y-%m}, z = {g.zscore:+.2f}, median "
            f"{1 - np.exp(-g.gap.median()):.0%}; at least this wide since {g.wide_since:%Y-%m}"
            + (
                f", and before that last on {g.last_as_wide:%Y-%m}."
                if g.last_as_wide is not None
                else ", never before."
            )
        ]
        u = self.updated
        if u is not None:
            lines.append(
                f"Rolled forward to {u.date:%Y-%m} prices with portfolio returns (estimate): "
                f"{u.discount:.0%} discount, percentile {u.percentile:.0%}."
            )
        if self.claim_discount is not None:
            lines.append(self._claim_text())
        if self.claim_pe_small is not None and self.claim_pe_big:
            implied = 1 - self.claim_pe_small / self.claim_pe_big
            if self.vendor is None:
                lines.append(
                    f"The claimed forward P/E {self.claim_pe_small:g}x vs "
                    f"{self.claim_pe_big:g}x ({implied:.0%} discount) is vendor data this tool "
                    "cannot check without a vendor series (pass vendor_small= and vendor_big=)."
                )
        if self.vendor is not None:
            v = self.vendor
            lines.append(
                f"Vendor data (user-supplied, not computed here): {v.small_name} P/E "
                f"{v.pe_small:.1f}x vs {v.big_name} {v.pe_big:.1f}x on {v.date:%Y-%m-%d}, a "
                f"{v.discount:.0%} discount (percentile {v.percentile:.0%} of the vendor history)"
                + (
                    f"; the claim was {self.claim_pe_small:g}x vs {self.claim_pe_big:g}x."
                    if self.claim_pe_small is not None and self.claim_pe_big
                    else "."
                )
            )
        if self.cape is not None:
            c = self.cape
            lines.append(
                f"Large-cap context: Shiller CAPE {c.last:.1f} in {c.date:%Y-%m} (percentile "
                f"{c.percentile:.0%} since {c.series.index[0]:%Y}, median {c.median:.1f})."
            )
        return "\n".join(lines)

    def _claim_text(self) -> str:
        g, claimed = self.gap, float(self.claim_discount or 0.0)
        measured = g.discount
        text = f"Claimed: a {claimed:.0%} discount"
        if self.claim_date:
            text += f", last seen around {self.claim_date}"
        text += f". The data say {measured:.0%} in {g.ratio} terms"
        if self.claim_date:
            at = g.discount_on(self.claim_date)
            if at is not None and at[0] >= g.date:
                text += f"; the data end at {g.date:%Y-%m}, before the claim could be checked"
            elif at is not None:
                share = g.share_at_least(claimed, at[0])
                text += (
                    f"; in {at[0]:%Y-%m} it was {at[1]:.0%}, and the discount has been at least "
                    f"{claimed:.0%} in {share:.0%} of months since"
                )
                if share > 0.05:
                    text += (
                        f", so '{claimed:.0%}, last seen in {self.claim_date[:4]}' does not hold "
                        "for this measure"
                    )
        text += " (levels of different ratios and indexes are not comparable, percentiles are)."
        return text


def ratio_label(section: str) -> str:
    """``"E/P"`` for an E/P section slug or title, else ``"B/M"``."""
    s = section.lower()
    return "E/P" if ("e-p" in s or "e/p" in s or "e / me" in s or "of-e-me" in s) else "B/M"


def groups_for(columns: Sequence[str], wanted: Sequence[int], *, what: str) -> list[str]:
    """The portfolio columns of size groups ``wanted`` (1 = smallest).

    Raises
    ------
    ConfigError
        A group number the file does not have (the valid ones are listed).
    """
    groups = size_groups(columns)
    bad = [g for g in wanted if g not in groups]
    if bad or not wanted:
        raise ConfigError(
            f"{what}: size groups {list(wanted)} not in the file; valid groups are "
            f"{list(groups)} (1 = smallest)"
        )
    return [c for g in wanted for c in groups[g]]
