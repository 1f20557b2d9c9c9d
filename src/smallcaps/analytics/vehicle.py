"""The vehicle: an index fund against its index (IWM versus the Russell 2000), and its risks.

**Tracking difference** per calendar year is the fund's total return (adjusted closes: dividends
reinvested) minus the index's return. With only the *price* index available (Yahoo's ``^RUT``
carries no dividends), it splits exactly into two parts::

    TD = (fund total - fund price)   +   (fund price - index price)
         distributions                   residual

Distributions are what the fund paid out: the index's dividends less the fund's expenses (an ETF
pays its fees out of income), so the index's dividend yield is estimated as distributions plus
the expense ratio, and ``TD = dividends - expense ratio + residual``. The residual is price
tracking (sampling, securities lending, cash drag, timing of the close). The expense ratio is a
parameter (the issuer's figure), prorated for partial years.

Drawdowns are from running highs of the adjusted close; recovery is the first later close at or
above the previous high. Betas are of daily simple returns on the market's (OLS slope,
``cov / var``). Trailing returns count trading days (21 ~ a month, 63 ~ a quarter, 252 ~ a year).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from smallcaps.analytics._jsonready import jsonready
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.results import Result

HORIZONS: Mapping[str, int] = {"1m": 21, "3m": 63, "1y": 252}


def tracking_by_year(
    fund_total: pd.Series,
    index: pd.Series,
    *,
    fund_price: pd.Series | None = None,
    expense_ratio: float = 0.0019,
) -> pd.DataFrame:
    """Tracking difference of a fund against an index, per calendar year, split into its parts.

    Parameters
    ----------
    fund_total : Series
        The fund's adjusted (total-return) closes.
    index : Series
        The index level (a price index).
    fund_price : Series, optional
        The fund's traded (not dividend-adjusted) closes; without it the split is NaN.
    expense_ratio : float, default 0.0019
        Annual expense ratio (decimal), prorated by ``days / 365.25`` in partial years.

    Returns
    -------
    DataFrame
        Index ``year``; columns ``start``, ``end`` (common dates), ``days``, ``full`` (a whole
        calendar year), ``fund_total``, ``index``, ``tracking_difference``, ``fund_price``,
        ``distributions``, ``expense_ratio``, ``dividends_est``, ``residual``.

    Raises
    ------
    InsufficientDataError
        Fewer than two common dates.
    """
    if not 0.0 <= expense_ratio < 0.1:
        raise ConfigError(
            f"expense_ratio must be a decimal in [0, 0.1), e.g. 0.0019; got {expense_ratio}"
        )
    both = pd.concat(
        {"total": fund_total, "index": index}, axis=1, join="inner", sort=True
    ).dropna()
    if len(both) < 2:
        raise InsufficientDataError(
            f"{fund_total.name!r} and {index.name!r} share {len(both)} priced dates; need 2"
        )
    price = fund_price.reindex(both.index) if fund_price is not None else None
    years = both.index.year
    ends = both.groupby(years).tail(1)
    rows = []
    prev_date = both.index[0]
    for date in ends.index:
        year = date.year
        first_of_year = pd.Timestamp(year=year, month=1, day=1)
        start = prev_date
        t = float(both.at[date, "total"] / both.at[start, "total"] - 1.0)
        i = float(both.at[date, "index"] / both.at[start, "index"] - 1.0)
        p = np.nan
        if price is not None and pd.notna(price.get(start)) and pd.notna(price.get(date)):
            p = float(price[date] / price[start] - 1.0)
        days = (date - start).days
        full = start < first_of_year and date.month == 12 and date.day >= 24
        er = expense_ratio * days / 365.25
        rows.append(
            {
                "year": year,
                "start": start,
                "end": date,
                "days": days,
                "full": bool(full),
                "fund_total": t,
                "index": i,
                "tracking_difference": t - i,
                "fund_price": p,
                "distributions": t - p,
                "expense_ratio": er,
                "dividends_est": t - p + er,
                "residual": p - i,
            }
        )
        prev_date = date
    return pd.DataFrame(rows).set_index("year")


def drawdowns(prices: pd.Series, *, top: int = 5) -> pd.DataFrame:
    """The ``top`` deepest drawdowns from running highs, with their recovery.

    Returns
    -------
    DataFrame
        ``peak``, ``trough``, ``depth`` (trough / peak - 1), ``recovered`` (first close at or
        above the peak; NaT if not yet), ``days_to_trough`` and ``days_to_recover`` (calendar
        days from the peak; NaN when not recovered), deepest first.
    """
    p = prices.dropna()
    if len(p) < 2:
        raise InsufficientDataError(f"drawdowns of {prices.name!r} need two prices, got {len(p)}")
    v = p.to_numpy(dtype=float)
    high = np.maximum.accumulate(v)
    under = v / high - 1.0
    new_high = under >= 0
    # an episode runs from a high to the next high; label each date by its latest high
    episode = np.cumsum(new_high)
    rows = []
    idx = p.index
    for e in np.unique(episode[~new_high]):
        where = np.flatnonzero(episode == e)
        peak_i = where[0]  # the high opening the episode (new_high there)
        body = where[1:]
        trough_i = body[np.argmin(under[body])]
        nxt = where[-1] + 1
        recovered = idx[nxt] if nxt < len(v) else pd.NaT
        rows.append(
            {
                "peak": idx[peak_i],
                "trough": idx[trough_i],
                "depth": float(under[trough_i]),
                "recovered": recovered,
                "days_to_trough": (idx[trough_i] - idx[peak_i]).days,
                "days_to_recover": (recovered - idx[peak_i]).days
                if recovered is not pd.NaT
                else np.nan,
            }
        )
    cols = ["peak", "trough", "depth", "recovered", "days_to_trough", "days_to_recover"]
    frame = pd.DataFrame(rows, columns=cols)
    return frame.sort_values("depth", kind="stable").head(top).reset_index(drop=True)


def rolling_beta(asset: pd.Series, market: pd.Series, *, window: int = 252) -> pd.Series:
    """Rolling OLS beta of daily simple returns of ``asset`` on ``market`` (``cov / var``)."""
    if window < 2:
        raise ConfigError(f"beta window must be at least 2 days, got {window}")
    r = (
        pd.concat({"a": asset, "m": market}, axis=1, join="inner", sort=True)
        .dropna()
        .pct_change()
        .dropna()
    )
    if len(r) < window:
        raise InsufficientDataError(
            f"rolling beta of {asset.name!r} on {market.name!r} needs {window} common returns, "
            f"got {len(r)}"
        )
    beta = r["a"].rolling(window).cov(r["m"]) / r["m"].rolling(window).var()
    return beta.dropna().rename("beta")


def trailing_returns(
    prices: pd.Series, *, horizons: Mapping[str, int] = HORIZONS
) -> dict[str, Any]:
    """Returns over the last ``n`` trading days, and an all-time-high check, on the last date.

    Returns
    -------
    dict
        ``date``, one key per horizon (NaN if the history is too short), ``ath`` (the last
        close is the highest so far), ``ath_date`` (date of the highest close), ``from_ath``
        (last / highest - 1).
    """
    p = prices.dropna()
    if p.empty:
        raise InsufficientDataError(f"trailing returns of {prices.name!r}: no prices")
    v = p.to_numpy(dtype=float)
    out: dict[str, Any] = {"series": str(p.name), "date": p.index[-1]}
    for label, n in horizons.items():
        out[label] = float(v[-1] / v[-1 - n] - 1.0) if len(v) > n else float("nan")
        out[f"{label}_from"] = p.index[-1 - n] if len(v) > n else pd.NaT
    peak = int(np.argmax(v))
    out["ath"] = bool(v[-1] >= v.max())
    out["ath_date"] = p.index[peak]
    out["from_ath"] = float(v[-1] / v[peak] - 1.0)
    return out


@dataclass(frozen=True, slots=True, eq=False)
class VehicleReport(Result):
    """IWM-style fund versus its index: tracking, drawdowns, beta, trailing returns.

    Attributes
    ----------
    tracking : DataFrame
        :func:`tracking_by_year`.
    drawdowns : DataFrame
        :func:`drawdowns` of the fund's adjusted close.
    current_drawdown : float
        Last adjusted close / running high - 1.
    beta : Series
        :func:`rolling_beta` of the fund on the market.
    beta_full : float
        Beta over all common daily returns.
    trailing : DataFrame
        :func:`trailing_returns` of each series given, one row each.
    """

    tracking: pd.DataFrame
    drawdowns: pd.DataFrame
    current_drawdown: float
    beta: pd.Series
    beta_full: float
    trailing: pd.DataFrame
    expense_ratio: float
    window: int = 252
    fund_name: str = "fund"
    index_name: str = "index"
    market_name: str = "market"
    claim_month_return: float | None = None
    claim_date: pd.Timestamp | None = None
    claim_measured: float = float("nan")  # the fund's 21-day return to claim_date
    method: str = ""
    notes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    as_of: pd.Timestamp | None = None

    def full_years(self) -> pd.DataFrame:
        """Tracking rows of whole calendar years."""
        return self.tracking[self.tracking["full"]]

    def to_frame(self) -> pd.DataFrame:
        """The per-year tracking table."""
        return self.tracking.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: tracking, averages, drawdowns, betas, trailing returns."""
        full = self.full_years()
        return jsonready(
            {
                "measure": "vehicle.tracking",
                "fund": self.fund_name,
                "index": self.index_name,
                "market": self.market_name,
                "expense_ratio": self.expense_ratio,
                "tracking": self.tracking,
                "mean_full_years": full.drop(columns=["start", "end", "full"]).mean().to_dict()
                if len(full)
                else None,
                "drawdowns": self.drawdowns,
                "current_drawdown": self.current_drawdown,
                "beta_last": float(self.beta.iloc[-1]),
                "beta_last_date": self.beta.index[-1],
                "beta_full": self.beta_full,
                "beta_window": self.window,
                "trailing": self.trailing,
                "claim": {
                    "month_return_claimed": self.claim_month_return,
                    "date": self.claim_date,
                    "month_return_measured": self.claim_measured,
                }
                if self.claim_month_return is not None
                else None,
                "method": self.method,
                "notes": list(self.notes),
                "sources": list(self.sources),
                "as_of": self.as_of,
            }
        )

    def summary(self) -> str:
        """Tracking, the split, drawdown, beta, trailing returns and the claims."""
        lines = []
        full = self.full_years()
        if len(full):
            lines.append(
                f"{self.fund_name} vs {self.index_name} (price index), {len(full)} full years "
                f"{full.index[0]}-{full.index[-1]}: tracking difference "
                f"{full['tracking_difference'].mean():+.2%}/yr on average."
            )
        split = full.dropna(subset=["fund_price"]) if len(full) else full
        if len(split):
            lines.append(
                f"Split over {split.index[0]}-{split.index[-1]} (traded closes available): "
                f"distributions {split['distributions'].mean():+.2%}/yr = estimated index "
                f"dividends {split['dividends_est'].mean():+.2%} - expense ratio "
                f"{self.expense_ratio:.2%}; residual price tracking "
                f"{split['residual'].mean():+.2%}/yr."
            )
        elif len(self.tracking):
            lines.append(
                "No full tracked year has traded (unadjusted) closes of the fund: the split "
                "into dividends and expenses is not available."
            )
        if len(self.drawdowns):
            d = self.drawdowns.iloc[0]
            rec = (
                f"recovered {d['recovered']:%Y-%m-%d} ({d['days_to_recover']:.0f} days after the "
                "peak)"
                if pd.notna(d["recovered"])
                else "not recovered"
            )
            lines.append(
                f"Deepest drawdown {d['depth']:.0%} ({d['peak']:%Y-%m-%d} to "
                f"{d['trough']:%Y-%m-%d}), {rec}; now {self.current_drawdown:.1%} from the high."
            )
        lines.append(
            f"Beta to {self.market_name}: {self.beta.iloc[-1]:.2f} over the year to "
            f"{self.beta.index[-1]:%Y-%m-%d}, {self.beta_full:.2f} over all days."
        )
        for row in self.trailing.to_dict(orient="records"):
            ath = (
                "at an all-time high"
                if row["ath"]
                else f"{row['from_ath']:+.1%} from its high of {row['ath_date']:%Y-%m-%d}"
            )
            rets = ", ".join(f"{k} {row[k]:+.1%}" for k in HORIZONS if k in row)
            lines.append(f"{row['series']} to {row['date']:%Y-%m-%d}: {rets}; {ath}.")
        if self.claim_month_return is not None:
            claimed = self.claim_month_return
            when = f"{self.claim_date:%Y-%m-%d}" if self.claim_date is not None else "-"
            if np.isnan(self.claim_measured):
                lines.append(
                    f"The claimed 'past month {claimed:+.1%}' (to {when}) cannot be checked: "
                    f"{self.fund_name}'s prices as of the view do not cover the 21 trading days "
                    "to that date."
                )
            else:
                got = self.claim_measured
                verdict = "agrees" if abs(got - claimed) <= 0.005 else "disagrees"
                lines.append(
                    f"The claimed 'past month {claimed:+.1%}' {verdict} with the data: "
                    f"{self.fund_name} {got:+.1%} over the 21 trading days to {when}."
                )
        lines.extend(f"Note: {n}." for n in self.notes)
        return "\n".join(lines)


def vehicle_report(
    fund_total: pd.Series,
    index: pd.Series,
    market: pd.Series,
    *,
    fund_price: pd.Series | None = None,
    expense_ratio: float = 0.0019,
    window: int = 252,
    top: int = 5,
    trailing: Sequence[pd.Series] = (),
    claim_month_return: float | None = None,
    claim_date: pd.Timestamp | str | None = None,
) -> VehicleReport:
    """Tracking, drawdowns, rolling beta and trailing returns of a fund.

    Parameters
    ----------
    fund_total : Series
        Fund adjusted closes (named, e.g. ``"IWM"``).
    index : Series
        Index level (price index).
    market : Series
        Market proxy adjusted closes, for the beta (e.g. SPY).
    fund_price : Series, optional
        Fund traded closes, for the dividend/expense split.
    expense_ratio : float, default 0.0019
        The fund's expense ratio.
    window : int, default 252
        Rolling-beta window in trading days.
    top : int, default 5
        Drawdowns listed.
    trailing : sequence of Series, optional
        Series for trailing returns and the all-time-high check; default the fund and index.
    claim_month_return : float, optional
        A claimed one-month return of the fund to compare with.
    claim_date : Timestamp or str, optional
        The date the claim was made (its 21 trading days end on the last close at or before
        it); default the last date.
    """
    track = tracking_by_year(fund_total, index, fund_price=fund_price, expense_ratio=expense_ratio)
    dd = drawdowns(fund_total, top=top)
    p = fund_total.dropna()
    current = float(p.iloc[-1] / p.max() - 1.0)
    beta = rolling_beta(fund_total, market, window=window)
    r = (
        pd.concat({"a": fund_total, "m": market}, axis=1, join="inner", sort=True)
        .dropna()
        .pct_change()
    )
    r = r.dropna()
    var = float(np.var(r["m"], ddof=1))
    beta_full = float(np.cov(r["a"], r["m"], ddof=1)[0, 1] / var) if var > 0 else float("nan")
    series = list(trailing) or [fund_total, index]
    trail = pd.DataFrame([trailing_returns(s) for s in series])
    when = pd.Timestamp(claim_date) if claim_date is not None else p.index[-1]
    measured = float("nan")
    upto = p.loc[:when]
    if claim_month_return is not None and when <= p.index[-1] and len(upto) > HORIZONS["1m"]:
        when = upto.index[-1]
        measured = trailing_returns(upto)["1m"]
    method = (
        "tracking difference = fund total return - index price return per calendar year on "
        "common dates = distributions (fund total - fund price) + residual (fund price - index "
        f"price); estimated dividends = distributions + expense ratio ({expense_ratio:.2%}, "
        f"prorated); drawdowns of adjusted closes from running highs; beta = rolling {window}-day "
        "cov/var of daily simple returns; trailing returns over 21/63/252 trading days"
    )
    return VehicleReport(
        tracking=track,
        drawdowns=dd,
        current_drawdown=current,
        beta=beta,
        beta_full=beta_full,
        trailing=trail,
        expense_ratio=expense_ratio,
        window=window,
        fund_name=str(fund_total.name),
        index_name=str(index.name),
        market_name=str(market.name),
        claim_month_return=claim_month_return,
        claim_date=when if claim_month_return is not None else None,
        claim_measured=measured,
        method=method,
    )
