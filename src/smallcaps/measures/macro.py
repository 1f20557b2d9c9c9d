"""Macro pillar: the growth/labour/credit regime, rate sensitivity, and credit-spread risk.

``macro.regime``, ``rates.sensitivity`` and ``risk.credit`` read inputs only through
``view.series`` and call :mod:`smallcaps.analytics.macro`, :mod:`~smallcaps.analytics.rates`
and :mod:`~smallcaps.analytics.credit`.
"""

from __future__ import annotations

from dataclasses import replace

from smallcaps.analytics import credit, macro, rates
from smallcaps.measures.fed import LARGE_DAILY, SMALL_DAILY, ids, levels, optional
from smallcaps.registry import View, register

HY_OAS = "BAMLH0A0HYM2"  # FRED: ICE BofA US high-yield option-adjusted spread, percent


@register(
    "macro.regime",
    description=(
        "Real GDP growth (q/q annualised, y/y), unemployment and its Sahm-rule gap, NFCI, "
        "high-yield spread and 2s10s, with a labelled regime (expansion / slowdown / recession "
        "risk) and its thresholds."
    ),
)
def regime(
    view: View,
    *,
    gdp: str = "GDPC1",
    unrate: str = "UNRATE",
    nfci: str = "NFCI",
    hy: str = HY_OAS,
    curve: str = "T10Y2Y",
    sahm_red: float = macro.THRESHOLDS["sahm_red"],
    sahm_amber: float = macro.THRESHOLDS["sahm_amber"],
    gdp_yoy_red: float = macro.THRESHOLDS["gdp_yoy_red"],
    gdp_yoy_amber: float = macro.THRESHOLDS["gdp_yoy_amber"],
    gdp_qoq_amber: float = macro.THRESHOLDS["gdp_qoq_amber"],
    nfci_red: float = macro.THRESHOLDS["nfci_red"],
    nfci_amber: float = macro.THRESHOLDS["nfci_amber"],
    hy_red: float = macro.THRESHOLDS["hy_red"],
    hy_amber: float = macro.THRESHOLDS["hy_amber"],
    curve_amber: float = macro.THRESHOLDS["curve_amber"],
    near_low_pp: float = 0.5,
) -> macro.MacroRegime:
    """The macro regime as of the view's date (thresholds as parameters)."""
    th = {
        "sahm_red": sahm_red,
        "sahm_amber": sahm_amber,
        "gdp_yoy_red": gdp_yoy_red,
        "gdp_yoy_amber": gdp_yoy_amber,
        "gdp_qoq_amber": gdp_qoq_amber,
        "nfci_red": nfci_red,
        "nfci_amber": nfci_amber,
        "hy_red": hy_red,
        "hy_amber": hy_amber,
        "curve_amber": curve_amber,
    }
    return macro.macro_regime(
        view.series(gdp),
        view.series(unrate),
        nfci=optional(view, nfci),
        hy=optional(view, hy),
        curve=optional(view, curve),
        thresholds=th,
        near_low_pp=near_low_pp,
    )


@register(
    "rates.sensitivity",
    description=(
        "Regression of small-minus-large returns (weekly or daily) on changes in the 2-year and "
        "10-year Treasury yields and the high-yield spread, HAC (Newey-West) standard errors, "
        "full sample and rolling windows."
    ),
)
def sensitivity(
    view: View,
    *,
    small: tuple[str, ...] = SMALL_DAILY,
    large: tuple[str, ...] = LARGE_DAILY,
    two: str = "DGS2",
    ten: str = "DGS10",
    hy: str = HY_OAS,
    frequency: str = "W",
    window: int = 156,
    step: int = 13,
    hac_lags: int | None = None,
    min_obs: int = 52,
) -> rates.RateSensitivity:
    """Rate sensitivity of small minus large (``hac_lags`` None: the Newey-West rule of thumb)."""
    s, s_note = levels(view, ids(small), "small-cap")
    lg, l_note = levels(view, ids(large), "large-cap")
    result = rates.rate_sensitivity(
        s,
        lg,
        view.series(two),
        view.series(ten),
        optional(view, hy),
        frequency=frequency,
        window=window,
        step=step,
        hac_lags=hac_lags,
        min_obs=min_obs,
    )
    return replace(result, notes=(*result.notes, f"Legs: small: {s_note}; large: {l_note}."))


@register(
    "risk.credit",
    description=(
        "Small-minus-large performance in high-yield-spread regimes (widening vs tightening, "
        "level terciles), regime known the day before (refinancing risk)."
    ),
)
def credit_risk(
    view: View,
    *,
    small: tuple[str, ...] = ("price/IWM/adj_close", "price/^RUT/adj_close"),
    large: tuple[str, ...] = ("price/SPY/adj_close", "price/^GSPC/adj_close"),
    hy: str = HY_OAS,
    change_days: int = 21,
    hac_lags: int | None = None,
    min_days: int = 60,
) -> credit.CreditRegimes:
    """Credit-spread regimes (IWM vs SPY by default: total-return legs over the HY span)."""
    s, s_note = levels(view, ids(small), "small-cap")
    lg, l_note = levels(view, ids(large), "large-cap")
    result = credit.credit_regimes(
        s,
        lg,
        view.series(hy),
        change_days=change_days,
        hac_lags=hac_lags,
        min_days=min_days,
    )
    return replace(result, notes=(*result.notes, f"Legs: small: {s_note}; large: {l_note}."))
