"""The macro backdrop: growth, unemployment (Sahm-rule style), financial conditions, credit, curve.

:func:`macro_regime` reads the latest value of each indicator, compares it with thresholds that
are part of the result (and can be changed), and labels the regime ``expansion``, ``slowdown``
or ``recession risk``:

* ``recession risk`` when any *red* signal fires: Sahm gap >= 0.50 pp (Sahm 2019), real GDP
  below its level a year earlier, NFCI > 0.5, HY spread >= 6 pp;
* ``slowdown`` when any *amber* signal fires: Sahm gap >= 0.30 pp, the latest quarter's
  annualised growth < 0, year-on-year growth < 1.5 %, NFCI > 0 (tighter than average), HY
  spread >= 4.5 pp, 2s10s < 0 (inverted);
* ``expansion`` otherwise.

Definitions: GDP growth q/q annualised ``(g_t / g_{t-1})^4 - 1``, y/y ``g_t / g_{t-4} - 1``;
Sahm gap ``mean(u_{t-2..t}) - min over the previous 12 months of that 3-month mean``;
unemployment's distance from its 12-month low ``u_t - min(u_{t-11..t})``. Values are those of
the series given: with a vintage-aware view they are what was published by the as-of date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from smallcaps.analytics._jsonready import iso, jsonready
from smallcaps.errors import InsufficientDataError
from smallcaps.results import Result

#: Thresholds of the regime rules (percent or percentage points; NFCI in its own units).
THRESHOLDS: Mapping[str, float] = {
    "sahm_red": 0.50,
    "sahm_amber": 0.30,
    "gdp_yoy_red": 0.0,
    "gdp_yoy_amber": 1.5,
    "gdp_qoq_amber": 0.0,
    "nfci_red": 0.5,
    "nfci_amber": 0.0,
    "hy_red": 6.0,
    "hy_amber": 4.5,
    "curve_amber": 0.0,
}
REGIMES = ("expansion", "slowdown", "recession risk")


def sahm_gap(unrate: pd.Series) -> pd.Series:
    """3-month mean of unemployment minus its minimum over the previous 12 months (pp)."""
    u = unrate.dropna().sort_index()
    ma3 = u.rolling(3).mean()
    low = ma3.shift(1).rolling(12).min()
    return (ma3 - low).rename("sahm")


def gdp_growth(gdp: pd.Series) -> pd.DataFrame:
    """Real GDP growth in percent: ``qoq_ann`` (annualised) and ``yoy``, by quarter stamp."""
    g = gdp.dropna().sort_index()
    return pd.DataFrame(
        {"qoq_ann": ((g / g.shift(1)) ** 4 - 1) * 100, "yoy": (g / g.shift(4) - 1) * 100}
    )


_OPS = {">=": np.greater_equal, ">": np.greater, "<": np.less}


def _signal(value: float, amber: float, red: float, op: str) -> str:
    """``red`` / ``amber`` when ``value <op> threshold``; ``info`` without thresholds."""
    if np.isnan(value):
        return "n/a"
    if np.isnan(amber) and np.isnan(red):
        return "info"
    hit = _OPS[op]
    if not np.isnan(red) and hit(value, red):
        return "red"
    if not np.isnan(amber) and hit(value, amber):
        return "amber"
    return "ok"


@dataclass(frozen=True, slots=True, eq=False)
class MacroRegime(Result):
    """Latest macro indicators, their signals and the regime label.

    Attributes
    ----------
    regime : str
        ``expansion``, ``slowdown`` or ``recession risk``.
    indicators : DataFrame
        One row per indicator: ``value``, ``date`` (observation), ``rule`` (the comparison),
        ``amber``, ``red`` (thresholds, NaN where not used), ``signal`` (``ok``, ``amber``,
        ``red``, ``info`` without thresholds, ``n/a`` without data), ``definition``, ``note``.
    history : DataFrame
        Month-end panel of the indicators and the regime by observation date (ex post: later
        data and revisions included; not what was known at each month).
    thresholds : dict
        The thresholds used.
    unemployment : dict
        ``value``, ``date``, ``percentile`` (share of months since the series starts at or below
        it), ``low_30y`` and ``low_30y_date`` (the lowest rate in the last 30 years), ``above_low``.
    near_low_pp : float
        Distance from the 30-year low (pp) within which unemployment counts as "near" it.
    """

    regime: str
    indicators: pd.DataFrame
    history: pd.DataFrame
    thresholds: Mapping[str, float]
    unemployment: Mapping[str, Any]
    near_low_pp: float = 0.5
    notes: tuple[str, ...] = field(default_factory=tuple)
    method: str = (
        "recession risk if any red signal (Sahm gap >= sahm_red, GDP y/y < gdp_yoy_red, NFCI > "
        "nfci_red, HY OAS >= hy_red), slowdown if any amber signal (Sahm gap >= sahm_amber, GDP "
        "q/q annualised < gdp_qoq_amber, GDP y/y < gdp_yoy_amber, NFCI > nfci_amber, HY OAS >= "
        "hy_amber, 2s10s < curve_amber), else expansion; latest observation of each series"
    )

    def summary(self) -> str:
        """The label, why, and where unemployment stands against its lows."""
        fired = self.indicators[self.indicators["signal"].isin(["red", "amber"])]
        why = (
            ", ".join(f"{n} {r.value:.2f} ({r.signal})" for n, r in fired.iterrows())
            if len(fired)
            else "no amber or red signal"
        )
        ind = self.indicators
        g = ind.loc["gdp_yoy"] if "gdp_yoy" in ind.index else None
        u = self.unemployment
        text = f"Macro regime: {self.regime} ({why})."
        if g is not None and not np.isnan(g["value"]):
            q = ind.loc["gdp_qoq_ann"]
            text += (
                f" Real GDP {q['date']:%Y}Q{q['date'].quarter}: {q['value']:+.1f}% q/q "
                f"annualised, {g['value']:+.1f}% y/y."
            )
        near = u["above_low"] <= self.near_low_pp
        verdict = (
            f"within {self.near_low_pp:g} pp of it, so near multi-decade lows"
            if near
            else f"more than {self.near_low_pp:g} pp above it, so 'near multi-decade lows' "
            "holds only loosely"
        )
        text += (
            f" Unemployment {u['value']:.1f}% ({u['date']:%Y-%m}): lower than in "
            f"{1 - u['percentile']:.0%} of months since {u['start']:%Y}, {u['above_low']:.1f} pp "
            f"above its 30-year low of {u['low_30y']:.1f}% ({u['low_30y_date']:%Y-%m}); "
            f"{verdict}."
        )
        if self.notes:
            text += " " + " ".join(self.notes)
        return text

    def to_frame(self) -> pd.DataFrame:
        """The indicators table."""
        return self.indicators

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the monthly history is left out; use ``history`` for it)."""
        return jsonready(
            {
                "regime": self.regime,
                "indicators": self.indicators,
                "thresholds": dict(self.thresholds),
                "unemployment": dict(self.unemployment),
                "near_low_pp": self.near_low_pp,
                "notes": list(self.notes),
                "method": self.method,
                "summary": self.summary(),
            }
        )


def _last(s: pd.Series | None) -> tuple[float, pd.Timestamp | None]:
    if s is None:
        return float("nan"), None
    s = s.dropna()
    return (float(s.iloc[-1]), s.index[-1]) if len(s) else (float("nan"), None)


def _label(signals: list[str]) -> str:
    if "red" in signals:
        return "recession risk"
    return "slowdown" if "amber" in signals else "expansion"


def macro_regime(
    gdp: pd.Series,
    unrate: pd.Series,
    *,
    nfci: pd.Series | None = None,
    hy: pd.Series | None = None,
    curve: pd.Series | None = None,
    thresholds: Mapping[str, float] | None = None,
    near_low_pp: float = 0.5,
) -> MacroRegime:
    """Label the macro regime from the latest indicators.

    Parameters
    ----------
    gdp : Series
        Real GDP level, quarterly (``GDPC1``).
    unrate : Series
        Unemployment rate, monthly, percent (``UNRATE``).
    nfci, hy, curve : Series, optional
        Chicago Fed NFCI (weekly), ICE BofA US high-yield OAS (percent), 10-year minus 2-year
        Treasury yield (pp). Missing ones read ``n/a``.
    thresholds : mapping, optional
        Overrides of :data:`THRESHOLDS` (unknown keys are an error).
    near_low_pp : float, default 0.5
        Unemployment within this many pp of its 30-year low is "near multi-decade lows".

    Raises
    ------
    InsufficientDataError
        Fewer than 5 quarters of GDP or 15 months of unemployment.
    """
    th = dict(THRESHOLDS)
    unknown = set(thresholds or {}) - set(th)
    if unknown:
        raise ValueError(f"unknown thresholds {sorted(unknown)}; known: {sorted(th)}")
    th.update(thresholds or {})
    g = gdp.dropna().sort_index()
    u = unrate.dropna().sort_index()
    if len(g) < 5:
        raise InsufficientDataError(f"macro_regime needs 5 quarters of real GDP, got {len(g)}")
    if len(u) < 15:
        raise InsufficientDataError(f"macro_regime needs 15 months of unemployment, got {len(u)}")
    growth = gdp_growth(g)
    sahm = sahm_gap(u)
    u_low12 = u - u.rolling(12).min()
    nan = np.nan
    rows = {
        "gdp_qoq_ann": (growth["qoq_ann"], th["gdp_qoq_amber"], nan, "<",
                        "real GDP growth, last quarter, annualised, %"),
        "gdp_yoy": (growth["yoy"], th["gdp_yoy_amber"], th["gdp_yoy_red"], "<",
                    "real GDP growth over four quarters, %"),
        "unrate": (u, nan, nan, ">=", "unemployment rate, %"),
        "unrate_above_12m_low": (u_low12, nan, nan, ">=",
                                 "unemployment minus its 12-month low (incl. this month), pp"),
        "sahm": (sahm, th["sahm_amber"], th["sahm_red"], ">=",
                 "3-month mean unemployment minus its low over the previous 12 months, pp"),
        "nfci": (nfci, th["nfci_amber"], th["nfci_red"], ">",
                 "Chicago Fed NFCI (> 0: tighter than average)"),
        "hy_oas": (hy, th["hy_amber"], th["hy_red"], ">=",
                   "ICE BofA US high-yield option-adjusted spread, pp"),
        "curve_2s10s": (curve, th["curve_amber"], nan, "<",
                        "10-year minus 2-year Treasury yield, pp"),
    }  # fmt: skip
    recs = []
    for name, (series, amber, red, op, definition) in rows.items():
        value, date = _last(series)
        recs.append(
            {"indicator": name, "value": value, "date": date if date is not None else pd.NaT,
             "rule": op, "amber": amber, "red": red, "signal": _signal(value, amber, red, op),
             "definition": definition, "note": ""}
        )  # fmt: skip
    ind = pd.DataFrame(recs).set_index("indicator")
    notes = []
    if hy is not None and len(hy.dropna()):
        h = hy.dropna()
        span = f"{iso(h.index[0])}..{iso(h.index[-1])}"
        ind.loc["hy_oas", "note"] = f"covers only {span}"
        if h.index[0] > pd.Timestamp("2000-01-01"):
            notes.append(f"The HY spread covers only {span} (FRED serves 3 years of ICE data).")
    regime = _label(list(ind["signal"]))
    history = _history(growth, u, sahm, nfci, hy, curve, th)
    start = u.index[0]
    recent = u[u.index > u.index[-1] - pd.DateOffset(years=30)]
    low_date = recent.idxmin()
    unemployment = {
        "value": float(u.iloc[-1]),
        "date": u.index[-1],
        "start": start,
        "percentile": float((u <= u.iloc[-1]).mean()),
        "low_30y": float(recent.min()),
        "low_30y_date": low_date,
        "above_low": float(u.iloc[-1] - recent.min()),
    }
    return MacroRegime(regime, ind, history, th, unemployment, near_low_pp, tuple(notes))


def _history(
    growth: pd.DataFrame,
    u: pd.Series,
    sahm: pd.Series,
    nfci: pd.Series | None,
    hy: pd.Series | None,
    curve: pd.Series | None,
    th: Mapping[str, float],
) -> pd.DataFrame:
    """Month-end panel (observation dates) and the regime each month would get."""
    parts = {"unrate": u, "sahm": sahm}
    for name, s in (("nfci", nfci), ("hy_oas", hy), ("curve_2s10s", curve)):
        if s is not None and len(s.dropna()):
            parts[name] = s.dropna()
    monthly = {k: v.resample("ME").last() for k, v in parts.items()}
    q = growth.copy()
    q.index = q.index + pd.offsets.QuarterEnd(0)  # the quarter's last month
    parts = {**monthly, "gdp_qoq_ann": q["qoq_ann"], "gdp_yoy": q["yoy"]}
    frame = pd.concat(parts, axis=1, sort=True)
    frame[["gdp_qoq_ann", "gdp_yoy"]] = frame[["gdp_qoq_ann", "gdp_yoy"]].ffill(limit=5)
    red = (
        (frame["sahm"] >= th["sahm_red"])
        | (frame["gdp_yoy"] < th["gdp_yoy_red"])
        | (frame.get("nfci", np.nan) > th["nfci_red"])
        | (frame.get("hy_oas", np.nan) >= th["hy_red"])
    )
    amber = (
        (frame["sahm"] >= th["sahm_amber"])
        | (frame["gdp_qoq_ann"] < th["gdp_qoq_amber"])
        | (frame["gdp_yoy"] < th["gdp_yoy_amber"])
        | (frame.get("nfci", np.nan) > th["nfci_amber"])
        | (frame.get("hy_oas", np.nan) >= th["hy_amber"])
        | (frame.get("curve_2s10s", np.nan) < th["curve_amber"])
    )
    frame["regime"] = np.where(red, "recession risk", np.where(amber, "slowdown", "expansion"))
    return frame
