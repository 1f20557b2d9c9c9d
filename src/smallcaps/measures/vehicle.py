"""Vehicle pillar: ``vehicle.tracking``, IWM against the Russell 2000 and its risks.

Defaults: IWM's adjusted closes (total return) and, where stored, its traded closes (for the
dividend/expense split) against Yahoo's ``^RUT`` (a price index: the mirror has no Russell 2000
total-return series), SPY for the beta; a claimed one-month return to compare with is a
parameter (none by default).
"""

from __future__ import annotations

import dataclasses

from smallcaps.analytics.vehicle import VehicleReport, vehicle_report
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.measures.size import Reader
from smallcaps.registry import View, register


@register(
    "vehicle.tracking",
    description=(
        "IWM vs the Russell 2000: tracking difference per year split into dividends, expense "
        "ratio and residual; drawdowns and recovery times; rolling beta to SPY; trailing 1m/3m/"
        "1y returns with an all-time-high check."
    ),
)
def run(
    view: View,
    *,
    fund: str = "IWM",
    index: str = "^RUT",
    market: str = "SPY",
    expense_ratio: float = 0.0019,
    window: int = 252,
    top: int = 5,
    claim_month_return: float | None = None,
    claim_date: str | None = None,
) -> VehicleReport:
    """Tracking, drawdowns, beta and trailing returns of ``fund``.

    Parameters
    ----------
    view : View
        Series as of a date.
    fund, index, market : str
        Tickers: the fund (``price/<fund>/adj_close``, and ``close`` when stored), its index
        (``adj_close`` or ``close``; the same for an index) and the market for the beta.
    expense_ratio : float, default 0.0019
        The fund's expense ratio (IWM: 0.19% per the issuer).
    window : int, default 252
        Rolling beta window in trading days.
    top : int, default 5
        Number of drawdowns listed.
    claim_month_return : float, optional
        A claimed "past month" return of the fund to compare with (none by default).
    claim_date : str, optional
        The day the claim was made: its 21 trading days end on the last close at or before it
        (default: the last close of the view).
    """
    if not 0.0 <= expense_ratio < 0.1:
        raise ConfigError(
            f"vehicle.tracking: expense_ratio is a decimal (0.0019 for 0.19%), got {expense_ratio}"
        )
    if top < 1:
        raise ConfigError(f"vehicle.tracking: top must be at least 1, got {top}")
    read = Reader(view)
    total = read(f"price/{fund}/adj_close", fund)
    price = read.maybe(f"price/{fund}/close", f"{fund} close")
    level = read.maybe(f"price/{index}/adj_close", index)
    if level is None:
        level = read.maybe(f"price/{index}/close", index)
    if level is None:
        raise InsufficientDataError(
            f"vehicle.tracking: no stored prices of {index!r} as of the view "
            f"(looked for price/{index}/adj_close and price/{index}/close)"
        )
    mkt = read(f"price/{market}/adj_close", market)
    notes = []
    if price is None:
        notes.append(
            f"no traded closes of {fund} as of the view: tracking is not split into "
            "distributions and residual"
        )
    else:
        notes.append(
            f"{fund}'s traded closes cover {price.index[0]:%Y-%m-%d}..{price.index[-1]:%Y-%m-%d}: "
            "the split is available for those years only"
        )
    notes.append(
        f"{index} is a price index; tracking difference is against its price return, so it "
        "includes the index's dividends"
    )
    lag = (total.index[-1] - level.index[-1]).days
    if lag > 30:
        notes.append(
            f"{index} prices known as of the view end {level.index[-1]:%Y-%m-%d}, {lag} days "
            f"before {fund}'s: tracking and {index}'s trailing returns stop there"
        )
    report = vehicle_report(
        total,
        level,
        mkt,
        fund_price=price,
        expense_ratio=expense_ratio,
        window=window,
        top=top,
        trailing=[total, level],
        claim_month_return=claim_month_return if claim_month_return else None,
        claim_date=claim_date or None,
    )
    report = dataclasses.replace(report, notes=tuple(notes))
    return read.stamp(report)
