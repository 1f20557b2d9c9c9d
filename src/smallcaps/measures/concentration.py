"""Concentration pillar: ``concentration.top``, the top names' share of the index's gain.

Defaults: the "Magnificent 7" (Alphabet as both share classes, GOOGL and GOOG), the S&P 500
proxied by SPY, end weights from the latest iShares IVV holdings snapshot known as of the view,
adjusted closes (total return), and RSP against SPY for the equal- versus cap-weight spread.
The mirror's only weights are the IVV snapshot of 2026-06-19: as of an earlier date there are
none, and the measurement says so; to look at a window ending earlier, keep the latest view
and pass ``end=YYYY-MM-DD`` (the weights are then rolled back from the snapshot).
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from smallcaps.analytics.concentration import Concentration, top_contribution
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.measures.size import Reader
from smallcaps.registry import View, register

MAG7 = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "GOOG", "META", "TSLA")


@register(
    "concentration.top",
    description=(
        "Share of a cap-weighted index's gain over a window (default 5 years) contributed by "
        "its top names (default the Magnificent 7), from prices and holdings weights; "
        "equal- vs cap-weight spread (RSP vs SPY)."
    ),
)
def run(
    view: View,
    *,
    tickers: tuple[str, ...] = MAG7,
    index: str = "SPY",
    equal: str = "RSP",
    fund: str = "IVV",
    field: str = "adj_close",
    years: float = 5.0,
    end: str | None = None,
    proxies: tuple[str, ...] = ("GOOG=GOOGL",),
    claim_share: float | None = None,
) -> Concentration:
    """Top names' share of the index gain.

    Parameters
    ----------
    view : View
        Series as of a date.
    tickers : tuple of str
        The names; each needs ``price/<T>/<field>`` and ``ishares/<fund>/weight/<T>``.
    index, equal : str
        Tickers of the cap-weight index proxy and of an equal-weight one (empty: no spread).
    fund : str
        iShares fund whose holdings give the end weights.
    field : str, default "adj_close"
        Price field (``adj_close``: total return; ``close``: price return).
    years : float, default 5
        Window length.
    end : str
        Window end ``YYYY-MM-DD``; default the last date priced for every name.
    proxies : tuple of str
        ``T=P``: use P's prices for T where T's history does not reach the window start
        (GOOG's mirror prices start 2021-05; GOOGL is the same company).
    claim_share : float, optional
        A claimed share of the gain to compare with (none by default).
    """
    if not tickers:
        raise ConfigError("concentration.top: tickers is empty")
    subs = _proxies(proxies)
    read = Reader(view)
    weights, wdate = _weights(view, read, fund, tickers)
    prices = {t: read.maybe(f"price/{t}/{field}", t) for t in tickers}
    idx = read(f"price/{index}/{field}", index)
    lasts = [s.index[-1] for s in prices.values() if s is not None] + [idx.index[-1]]
    stop = min([*lasts, wdate])
    if end:
        stop = min(stop, pd.Timestamp(end))
    start_needed = stop - pd.DateOffset(years=int(years)) if float(years).is_integer() else None
    if start_needed is None:
        start_needed = stop - pd.Timedelta(days=round(years * 365.25))
    notes = []
    for t, s in list(prices.items()):
        short = s is None or s.first_valid_index() > start_needed
        if short and t in subs:
            p = read.maybe(f"price/{subs[t]}/{field}", t)
            if p is not None:
                prices[t] = p
                notes.append(
                    f"{t} priced with {subs[t]}'s {field} (same company, other share class)"
                )
                continue
        if s is None:
            raise InsufficientDataError(
                f"concentration.top: no stored prices 'price/{t}/{field}' as of the view"
            )
    frame = pd.concat(prices, axis=1, sort=True)
    eq = read.maybe(f"price/{equal}/{field}", equal) if equal else None
    if equal and eq is None:
        notes.append(f"no prices for {equal!r}: no equal- vs cap-weight spread")
    result = top_contribution(
        frame,
        idx,
        weights,
        weights_date=wdate,
        years=years,
        end=end or None,
        equal=eq,
        claim_share=claim_share if claim_share else None,
    )
    result = dataclasses.replace(result, assumptions=result.assumptions + tuple(notes))
    return read.stamp(result)


def _proxies(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        if not item:
            continue
        name, sep, proxy = item.partition("=")
        if not sep or not name.strip() or not proxy.strip():
            raise ConfigError(f"concentration.top: proxy {item!r} must look like 'GOOG=GOOGL'")
        out[name.strip()] = proxy.strip()
    return out


def _weights(
    view: View, read: Reader, fund: str, tickers: tuple[str, ...]
) -> tuple[pd.Series, pd.Timestamp]:
    """The latest snapshot date on which every ticker has a weight, and those weights."""
    series = {}
    for t in tickers:
        sid = f"ishares/{fund}/weight/{t}"
        if not view.has(sid):
            raise InsufficientDataError(
                f"concentration.top: no weight of {t} in the {fund} holdings ({sid!r} is not "
                f"stored); fetch 'ishares:{fund}' or drop {t} from tickers"
            )
        try:
            series[t] = read(sid, t)
        except InsufficientDataError:
            when = f"{view.as_of:%Y-%m-%d}" if view.as_of is not None else "now"
            raise InsufficientDataError(
                f"concentration.top: no {fund} holdings snapshot known as of {when}; the end "
                "weights must come from a snapshot published by then. Judge on a date after a "
                f"stored snapshot (with end=YYYY-MM-DD to end the window earlier), or store a "
                f"snapshot of {fund} published by {when}"
            ) from None
    frame = pd.concat(series, axis=1, sort=True).dropna()
    if frame.empty:
        raise InsufficientDataError(
            f"concentration.top: no {fund} holdings snapshot has a weight for every one of "
            f"{list(tickers)}"
        )
    return frame.iloc[-1], pd.Timestamp(frame.index[-1])
