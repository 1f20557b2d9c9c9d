"""Small-minus-large performance in high-yield credit-spread regimes (refinancing risk).

A common worry is that indebted small caps suffer when refinancing costs rise. The market price
of that risk is the high-yield spread. :func:`credit_regimes` splits trading days
by the spread's regime *known at the start of the day* (the previous observation), so no day is
classified with its own close:

* direction: ``widening`` when the spread rose over the previous ``change_days`` observations,
  ``tightening`` when it fell, ``flat`` when unchanged;
* level: terciles of the spread over the sample (``low``, ``mid``, ``high``; cut points from the
  whole sample, so they are descriptive, not tradable).

Per regime: days, mean daily small-minus-large return (also annualised, x 252), its
Newey-West t-statistic, and the mean daily return of each leg; then the difference
widening - tightening and high - low with HAC t-statistics (OLS on a regime dummy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from smallcaps.analytics._jsonready import iso, jsonready
from smallcaps.analytics.event_study import leg_returns
from smallcaps.analytics.premium import newey_west_lags
from smallcaps.errors import InsufficientDataError
from smallcaps.results import Result

DAYS_PER_YEAR = 252


def spread_regimes(hy: pd.Series, *, change_days: int = 21) -> pd.DataFrame:
    """Each spread observation's regime.

    Returns
    -------
    DataFrame
        ``spread``, ``change`` over ``change_days`` observations, ``direction`` (``widening``,
        ``tightening``, ``flat``; None while the change is unknown) and ``level`` (``low``,
        ``mid``, ``high``: whole-sample terciles).
    """
    h = hy.dropna().sort_index()
    change = h - h.shift(change_days)
    direction = np.select([change > 0, change < 0], ["widening", "tightening"], "flat")
    direction = np.where(change.isna(), None, direction)  # type: ignore[call-overload]
    q1, q2 = h.quantile([1 / 3, 2 / 3])
    level = np.select([h <= q1, h <= q2], ["low", "mid"], "high")
    return pd.DataFrame(
        {"spread": h, "change": change, "direction": direction, "level": level}, index=h.index
    )


def _mean_t(y: pd.Series, lags: int) -> tuple[float, float]:
    import statsmodels.api as sm  # imported on use: ~0.5 s at import time

    if len(y) < 3 or float(y.std()) == 0:
        return float(y.mean()) if len(y) else float("nan"), float("nan")
    fit = sm.OLS(y.to_numpy(), np.ones(len(y))).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    return float(fit.params[0]), float(fit.tvalues[0])


def _diff_t(y: pd.Series, dummy: pd.Series, lags: int) -> tuple[float, float]:
    import statsmodels.api as sm  # imported on use: ~0.5 s at import time

    if dummy.nunique() < 2 or len(y) < 5:
        return float("nan"), float("nan")
    x = sm.add_constant(dummy.astype(float).to_numpy())
    fit = sm.OLS(y.to_numpy(), x).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    return float(fit.params[1]), float(fit.tvalues[1])


@dataclass(frozen=True, slots=True, eq=False)
class CreditRegimes(Result):
    """Small-minus-large by high-yield-spread regime.

    Attributes
    ----------
    table : DataFrame
        One row per ``(split, regime)``: ``days``, ``sml_mean`` (daily), ``sml_annual``
        (x 252), ``sml_t`` (HAC), ``small_mean``, ``large_mean``, ``spread_mean``.
    contrasts : DataFrame
        ``widening - tightening`` and ``high - low``: ``diff`` (daily), ``diff_annual``, ``t``.
    days : DataFrame
        Per trading day: ``sml``, ``small``, ``large`` returns and the regime known that morning.
    span : (Timestamp, Timestamp)
        First and last day classified.
    """

    table: pd.DataFrame
    contrasts: pd.DataFrame
    days: pd.DataFrame
    span: tuple[pd.Timestamp, pd.Timestamp]
    change_days: int
    hac_lags: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    method: str = (
        "daily small-minus-large return (simple returns of the two price levels) grouped by the "
        "HY spread regime known at the previous observation: direction = sign of the spread's "
        "change over change_days observations; level = whole-sample terciles; means with "
        "Newey-West HAC t-statistics (statsmodels); contrasts = OLS of the return on a regime "
        "dummy with HAC t"
    )

    def contrast(self, name: str, column: str = "diff") -> float:
        """``contrast("widening - tightening")`` etc.; NaN when absent."""
        c = self.contrasts
        hit = c[c["contrast"] == name]
        return float(hit[column].iloc[0]) if len(hit) else float("nan")

    def summary(self) -> str:
        """The regimes, the contrasts and what they say about refinancing risk."""
        t = self.table.set_index(["split", "regime"])
        parts = []
        for regime in ("widening", "tightening"):
            if ("direction", regime) in t.index:
                r = t.loc[("direction", regime)]
                parts.append(
                    f"{regime} {r['sml_annual']:+.1%}/yr (t={r['sml_t']:+.1f}, "
                    f"{int(r['days'])} days)"
                )
        d, dt = self.contrast("widening - tightening"), self.contrast("widening - tightening", "t")
        h, ht = self.contrast("high - low"), self.contrast("high - low", "t")
        lines = [
            f"Small minus large by HY-spread regime, {iso(self.span[0])}..{iso(self.span[1])} "
            f"({len(self.days)} days; direction over {self.change_days} days, known the day "
            f"before): " + "; ".join(parts) + ".",
            f"Widening minus tightening: {d * DAYS_PER_YEAR:+.1%}/yr (t={dt:+.1f}); high minus "
            f"low spread tercile: {h * DAYS_PER_YEAR:+.1%}/yr (t={ht:+.1f}).",
        ]
        if np.isnan(d):
            verdict = "not testable here"
        elif d < 0 and dt <= -2:
            verdict = "small caps lag large caps clearly when spreads widen (t <= -2)"
        elif d < 0:
            verdict = "small caps lag large caps when spreads widen, but not clearly (t > -2)"
        else:
            verdict = "small caps do not lag large caps when spreads widen"
        lines.append(f"Reading: {verdict}.")
        return "\n".join([*lines, *self.notes])

    def to_frame(self) -> pd.DataFrame:
        """The regime table."""
        return self.table

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (daily rows left out)."""
        return jsonready(
            {
                "span": list(self.span),
                "days": len(self.days),
                "change_days": self.change_days,
                "hac_lags": self.hac_lags,
                "table": self.table,
                "contrasts": self.contrasts,
                "notes": list(self.notes),
                "method": self.method,
                "summary": self.summary(),
            }
        )


def credit_regimes(
    small: pd.Series,
    large: pd.Series,
    hy: pd.Series,
    *,
    change_days: int = 21,
    hac_lags: int | None = None,
    min_days: int = 60,
) -> CreditRegimes:
    """Small-minus-large daily returns grouped by the high-yield spread's regime.

    Parameters
    ----------
    small, large : Series
        Daily price levels (total return, e.g. IWM and SPY adjusted closes).
    hy : Series
        High-yield OAS in percent (``BAMLH0A0HYM2``).
    change_days : int, default 21
        Observations over which the spread's direction is measured.
    hac_lags : int, optional
        Newey-West lags; default :func:`~smallcaps.analytics.premium.newey_west_lags`.
    min_days : int, default 60
        Fewer classified days than this is an error.

    Raises
    ------
    InsufficientDataError
        Too few days with both prices and a known spread regime.
    """
    if change_days < 1:
        raise ValueError("change_days must be >= 1")
    rets = leg_returns(small, large)
    rets["sml"] = rets["small"] - rets["large"]
    reg = spread_regimes(hy, change_days=change_days)
    # the regime known on the morning of day t: the last spread observation strictly before t
    known = reg.copy()
    known["known_at"] = known.index
    days = pd.merge_asof(
        rets.rename_axis("date").reset_index(),
        known.reset_index(drop=True).sort_values("known_at"),
        left_on="date",
        right_on="known_at",
        allow_exact_matches=False,
        direction="backward",
    ).set_index("date")
    stale = days["known_at"].isna() | ((days.index - days["known_at"]) > pd.Timedelta(days=7))
    days = days[~stale & days["direction"].notna()]
    if len(days) < min_days:
        h = hy.dropna()
        span = f"{iso(h.index[0])}..{iso(h.index[-1])}" if len(h) else "none"
        raise InsufficientDataError(
            f"credit_regimes needs {min_days} days with prices and a known spread regime, got "
            f"{len(days)} (spread {span}, prices {iso(rets.index[0])}..{iso(rets.index[-1])})"
        )
    lags = newey_west_lags(len(days)) if hac_lags is None else int(hac_lags)
    rows = []
    for split in ("direction", "level"):
        for regime, grp in days.groupby(split, sort=False):
            mean, t = _mean_t(grp["sml"], lags)
            rows.append(
                {"split": split, "regime": regime, "days": len(grp), "sml_mean": mean,
                 "sml_annual": mean * DAYS_PER_YEAR, "sml_t": t,
                 "small_mean": float(grp["small"].mean()),
                 "large_mean": float(grp["large"].mean()),
                 "spread_mean": float(grp["spread"].mean())}
            )  # fmt: skip
    order = {"widening": 0, "tightening": 1, "flat": 2, "low": 0, "mid": 1, "high": 2}
    table = pd.DataFrame(rows)
    table = table.sort_values(
        ["split", "regime"], key=lambda s: s.map(order) if s.name == "regime" else s
    ).reset_index(drop=True)
    contrasts = []
    for name, split, a, b in (
        ("widening - tightening", "direction", "widening", "tightening"),
        ("high - low", "level", "high", "low"),
    ):
        sub = days[days[split].isin([a, b])]
        diff, t = _diff_t(sub["sml"], sub[split] == a, lags)
        contrasts.append({"contrast": name, "diff": diff, "diff_annual": diff * DAYS_PER_YEAR,
                          "t": t, "days": len(sub)})  # fmt: skip
    notes = []
    h = hy.dropna()
    if h.index[0] > pd.Timestamp("2000-01-01"):
        notes.append(
            f"The HY spread covers only {iso(h.index[0])}..{iso(h.index[-1])} (FRED serves 3 "
            "years of ICE data): one credit cycle at most, so this is a snapshot, not history."
        )
    cols = ["sml", "small", "large", "spread", "change", "direction", "level", "known_at"]
    return CreditRegimes(
        table=table,
        contrasts=pd.DataFrame(contrasts),
        days=days[cols],
        span=(days.index[0], days.index[-1]),
        change_days=change_days,
        hac_lags=lags,
        notes=tuple(notes),
    )
