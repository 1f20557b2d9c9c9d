"""Concentration: how much of a cap-weighted index's gain came from its top names.

Over a window ``[t0, t1]`` a buy-and-hold cap-weighted index earns ``R = sum_i w_i(t0) R_i``, so
name ``i`` contributes ``w_i(t0) R_i`` and its share of the gain is ``w_i(t0) R_i / R``.
Start-of-window weights are rarely published; holdings files give weights on one date ``T``.
Under buy-and-hold, weights drift with relative performance, ``w_i(T) = w_i(t0) (1 + R_i) /
(1 + R)`` with returns from ``t0`` to ``T``, so::

    w_i(t0) = w_i(T) (1 + R(t0, T)) / (1 + R_i(t0, T))

which needs only the end weights, each name's return and the index's return (an ETF tracking
the index stands in for it). Assumptions, stated in every result: no change of shares
outstanding or float (buybacks, issuance), no index additions or deletions, returns measured
the same way (total return: dividends reinvested in the same name) for names and index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from smallcaps.analytics._jsonready import jsonready
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.results import Result

ASSUMPTIONS = (
    "start-of-window weights are backed out of the end weights: w(t0) = w(T) (1 + R_index) / "
    "(1 + R_name), returns from t0 to T (buy-and-hold)",
    "shares outstanding and float are constant over the window (buybacks, issuance and float "
    "changes are ignored)",
    "no index additions or deletions; the index is proxied by an ETF that tracks it",
    "names and index are measured on the same basis (adjusted closes: total return)",
)


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: comparing frames is ambiguous
class Concentration(Result):
    """Share of an index's gain from its top names, and the equal- versus cap-weight spread.

    Attributes
    ----------
    table : DataFrame
        Per name: ``weight_end`` (at ``weights_date``), ``weight_start`` (backed out at
        ``start``), ``return`` (``start`` to ``end``), ``contribution`` (``weight_start x
        return``) and ``share`` (``contribution / index_return``).
    share : float
        Sum of the names' shares of the index gain.
    index_return : float
        The index proxy's return from ``start`` to ``end``.
    start, end : Timestamp
        The window.
    weights_date : Timestamp
        Date of the end weights.
    priced_to : Timestamp
        Last date with prices for all names, up to ``weights_date``; weights are rolled back
        from here (a gap between ``priced_to`` and ``weights_date`` is ignored).
    equal_return, spread : float
        Equal-weight proxy's return over the window and ``equal_return - index_return``
        (NaN without an equal-weight series).
    """

    table: pd.DataFrame
    share: float
    index_return: float
    start: pd.Timestamp
    end: pd.Timestamp
    weights_date: pd.Timestamp
    priced_to: pd.Timestamp
    equal_return: float = float("nan")
    spread: float = float("nan")
    index_name: str = "index"
    equal_name: str = "equal weight"
    claim_share: float | None = None
    assumptions: tuple[str, ...] = ASSUMPTIONS
    method: str = ""
    sources: tuple[str, ...] = ()
    as_of: pd.Timestamp | None = None

    @property
    def years(self) -> float:
        """Window length in years (days / 365.25)."""
        return (self.end - self.start).days / 365.25

    @property
    def spread_annual(self) -> float:
        """Annualised spread: ``((1 + R_equal) / (1 + R_index)) ** (1 / years) - 1``."""
        if np.isnan(self.equal_return):
            return float("nan")
        rel = (1.0 + self.equal_return) / (1.0 + self.index_return)
        return float(rel ** (1.0 / self.years) - 1.0)

    def to_frame(self) -> pd.DataFrame:
        """The per-name table."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the table, the share, the window, the spread and the assumptions."""
        return jsonready(
            {
                "measure": "concentration.top",
                "names": list(self.table.index),
                "share": self.share,
                "index": self.index_name,
                "index_return": self.index_return,
                "start": self.start,
                "end": self.end,
                "years": self.years,
                "weights_date": self.weights_date,
                "priced_to": self.priced_to,
                "table": self.table,
                "equal_weight": self.equal_name,
                "equal_return": self.equal_return,
                "spread": self.spread,
                "spread_annual": self.spread_annual,
                "claim_share": self.claim_share,
                "assumptions": list(self.assumptions),
                "method": self.method,
                "sources": list(self.sources),
                "as_of": self.as_of,
            }
        )

    def summary(self) -> str:
        """The share, the biggest contributors, the claim and the equal-weight spread."""
        top = self.table.sort_values("contribution", ascending=False)
        names = ", ".join(f"{n} {s:.0%}" for n, s in top["share"].head(4).items())
        lines = [
            f"{len(self.table)} names ({' '.join(self.table.index)}) contributed "
            f"{self.share:.0%} of {self.index_name}'s {self.index_return:+.0%} gain from "
            f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d} ({self.years:.1f} years; {names}); "
            f"their weight went from {top['weight_start'].sum():.1%} to "
            f"{top['weight_end'].sum():.1%} (end weights of {self.weights_date:%Y-%m-%d})."
        ]
        if self.claim_share is not None:
            diff = self.share - self.claim_share
            verdict = (
                "roughly agrees"
                if abs(diff) <= 0.05
                else ("overstates it" if diff < 0 else "understates it")
            )
            lines.append(
                f"Claimed: about {self.claim_share:.0%}; the data say "
                f"{self.share:.0%}, so the claim {verdict}."
            )
        if not np.isnan(self.equal_return):
            lines.append(
                f"Equal weight ({self.equal_name}) {self.equal_return:+.0%} vs cap weight "
                f"({self.index_name}) {self.index_return:+.0%}: spread {self.spread:+.0%} "
                f"({self.spread_annual:+.1%}/yr)."
            )
        lines.append("Assumptions: " + "; ".join(self.assumptions) + ".")
        return "\n".join(lines)


def top_contribution(
    prices: pd.DataFrame,
    index: pd.Series,
    weights: Mapping[str, float] | pd.Series,
    *,
    weights_date: pd.Timestamp | str,
    years: float = 5.0,
    end: pd.Timestamp | str | None = None,
    equal: pd.Series | None = None,
    claim_share: float | None = None,
) -> Concentration:
    """Share of the index's gain over ``years`` to ``end`` contributed by the names in ``prices``.

    Parameters
    ----------
    prices : DataFrame
        Adjusted closes, one column per name (the names of ``weights``).
    index : Series
        Adjusted closes of the index proxy (e.g. SPY for the S&P 500).
    weights : mapping or Series
        Decimal weights of the names in the index on ``weights_date`` (e.g. IVV holdings).
    weights_date : Timestamp or str
        Date of ``weights``.
    years : float, default 5
        Window length; the window starts on the last common trading date at or before
        ``end - years``.
    end : Timestamp or str, optional
        Window end (last common date at or before it); default the last common date up to
        ``weights_date``.
    equal : Series, optional
        Adjusted closes of an equal-weight proxy (e.g. RSP) for the spread.
    claim_share : float, optional
        A claimed share to compare with.

    Raises
    ------
    ConfigError
        A name without a weight or prices, non-positive years, or negative weights.
    InsufficientDataError
        Prices that do not cover the window (the names and dates are named).
    """
    if years <= 0:
        raise ConfigError(f"years must be positive, got {years}")
    w = pd.Series(weights, dtype=float)
    names = list(prices.columns)
    missing = [n for n in names if n not in w.index]
    if missing or not names:
        raise ConfigError(
            f"no end weight for {missing or 'any name'}; weights given: {list(w.index)}"
        )
    w = w[names]
    if (w < 0).any():
        raise ConfigError("weights must be non-negative")
    wdate = pd.Timestamp(weights_date)
    panel = pd.concat([prices, index.rename("__index__")], axis=1, join="inner", sort=True).dropna()
    panel = panel[panel.index <= wdate]
    if len(panel) < 2:
        raise InsufficientDataError(
            f"the names {names} and {index.name!r} share fewer than two priced dates up to the "
            f"weights date {wdate:%Y-%m-%d}"
        )
    priced_to = pd.Timestamp(panel.index[-1])
    stop = priced_to if end is None else min(pd.Timestamp(end), priced_to)
    upto = panel.loc[:stop]
    if upto.empty:
        raise InsufficientDataError(f"no common prices at or before the window end {stop:%Y-%m-%d}")
    t1 = pd.Timestamp(upto.index[-1])
    target = t1 - pd.DateOffset(years=int(years)) if float(years).is_integer() else None
    if target is None:
        target = t1 - pd.Timedelta(days=round(years * 365.25))
    before = panel.loc[:target]
    if before.empty:
        first = {c: f"{prices[c].first_valid_index():%Y-%m-%d}" for c in names}
        raise InsufficientDataError(
            f"a {years:g}-year window ending {t1:%Y-%m-%d} needs prices on or before "
            f"{target:%Y-%m-%d}; common prices start {panel.index[0]:%Y-%m-%d} (first prices: "
            f"{first}, {index.name}: {index.first_valid_index():%Y-%m-%d})"
        )
    t0 = pd.Timestamp(before.index[-1])
    p0, p1, p_w = panel.loc[t0], panel.loc[t1], panel.loc[priced_to]
    growth = p_w / p0  # 1 + return from t0 to the weights (priced_to)
    w_start = w * growth["__index__"] / growth[names]
    ret = p1[names] / p0[names] - 1.0
    index_return = float(p1["__index__"] / p0["__index__"] - 1.0)
    contribution = w_start * ret
    table = pd.DataFrame(
        {
            "weight_end": w,
            "weight_start": w_start,
            "return": ret,
            "contribution": contribution,
            "share": contribution / index_return if index_return != 0 else np.nan,
        }
    )
    table.index.name = "name"
    eq_ret = spread = float("nan")
    if equal is not None:
        e = equal.dropna()
        e0, e1 = e.loc[:t0], e.loc[:t1]
        if e0.empty or e1.index[-1] < t1 - pd.Timedelta(days=7):
            raise InsufficientDataError(
                f"equal-weight series {equal.name!r} does not cover {t0:%Y-%m-%d}..{t1:%Y-%m-%d} "
                f"(it has {e.index[0]:%Y-%m-%d}..{e.index[-1]:%Y-%m-%d})"
            )
        eq_ret = float(e1.iloc[-1] / e0.iloc[-1] - 1.0)
        spread = eq_ret - index_return
    gap = (wdate - priced_to).days
    assumptions = ASSUMPTIONS + (
        (
            f"the weights of {wdate:%Y-%m-%d} are taken as the weights on {priced_to:%Y-%m-%d}, "
            f"the last date with prices for every name ({gap} days earlier)",
        )
        if gap > 0
        else ()
    )
    method = (
        "share = sum over names of w_start * R_name / R_index, R over the window; w_start = "
        "w_end * (1 + R_index) / (1 + R_name) with returns from the window start to the weights "
        "date; spread = R_equal - R_index"
    )
    return Concentration(
        table=table,
        share=float(contribution.sum() / index_return) if index_return != 0 else float("nan"),
        index_return=index_return,
        start=t0,
        end=t1,
        weights_date=wdate,
        priced_to=priced_to,
        equal_return=eq_ret,
        spread=spread,
        index_name=str(index.name) if index.name is not None else "index",
        equal_name=str(equal.name) if equal is not None and equal.name is not None else "equal",
        claim_share=claim_share,
        assumptions=assumptions,
        method=method,
    )
