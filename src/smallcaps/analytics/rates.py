"""How small-minus-large returns move with Treasury yields and the high-yield spread.

:func:`rate_sensitivity` regresses the small-minus-large return (daily or weekly) on the
changes of the 2-year and 10-year yields, by OLS with Newey-West (HAC) standard errors from
``statsmodels``, over the full sample and over rolling windows; a second model adds the change
of the high-yield spread over the dates that spread exists. Coefficients are returns per +1
percentage point (100 bp) of yield or spread change within the period; a negative 2-year
coefficient means small caps beat large caps when short yields fall, which is what "small caps
benefit from lower borrowing costs" predicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from smallcaps.analytics._jsonready import iso, jsonready
from smallcaps.analytics.premium import newey_west_lags
from smallcaps.errors import InsufficientDataError
from smallcaps.results import Result

FREQUENCIES = {"D": None, "W": "W-FRI"}
RATE_TERMS = ("d_2y", "d_10y")


def _hac_fit(y: pd.Series, x: pd.DataFrame, lags: int) -> Any:
    import statsmodels.api as sm  # imported on use: ~0.5 s at import time

    return sm.OLS(y, sm.add_constant(x, has_constant="add")).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags}
    )


def sensitivity_panel(
    small: pd.Series,
    large: pd.Series,
    two: pd.Series,
    ten: pd.Series,
    hy: pd.Series | None = None,
    *,
    frequency: str = "W",
) -> pd.DataFrame:
    """Returns and yield changes on one calendar.

    Prices and yields are sampled at the period's last observation (weekly: Friday or the last
    day before it), then ``small``, ``large`` and ``sml`` (= small - large) are simple returns
    and ``d_2y``, ``d_10y``, ``d_hy`` changes in percentage points. Rows missing a price or a
    yield are dropped; ``d_hy`` is NaN where the spread does not exist.
    """
    if frequency not in FREQUENCIES:
        raise ValueError(f"frequency must be one of {sorted(FREQUENCIES)}, not {frequency!r}")
    rule = FREQUENCIES[frequency]
    cols = {"small": small, "large": large, "two": two, "ten": ten}
    if hy is not None:
        cols["hy"] = hy
    frame = pd.concat({k: v.dropna() for k, v in cols.items()}, axis=1, sort=True)
    core = ["small", "large", "two", "ten"]
    frame = frame.dropna(subset=core) if rule is None else frame.resample(rule).last()
    frame = frame.dropna(subset=core)
    out = pd.DataFrame(
        {
            "small": frame["small"].pct_change(),
            "large": frame["large"].pct_change(),
            "d_2y": frame["two"].diff(),
            "d_10y": frame["ten"].diff(),
        }
    )
    out["sml"] = out["small"] - out["large"]
    if "hy" in frame:
        out["d_hy"] = frame["hy"].diff()
    return out.iloc[1:]


@dataclass(frozen=True, slots=True, eq=False)
class RateSensitivity(Result):
    """Full-sample and rolling HAC regressions of small-minus-large on rate changes.

    Attributes
    ----------
    coefficients : DataFrame
        One row per ``(model, y, term)``: ``coef``, ``se``, ``t``, ``p``, ``n``, ``r2``,
        ``start``, ``end``. Models ``rates`` (``d_2y``, ``d_10y``; y = ``sml``, ``small``,
        ``large``), ``parallel`` (the sum of both rate coefficients: a parallel shift) and
        ``rates+hy`` (adds ``d_hy`` where the spread exists).
    rolling : DataFrame
        Per window end: ``n``, ``coef`` and ``t`` of ``d_2y``, ``d_10y`` and the parallel shift
        for y = ``sml``.
    """

    coefficients: pd.DataFrame
    rolling: pd.DataFrame
    frequency: str
    window: int
    step: int
    hac_lags: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    method: str = (
        "OLS of the period's return on the period's changes in the 2-year and 10-year Treasury "
        "yields (pp) [and the ICE BofA HY OAS], with a constant; Newey-West HAC standard errors "
        "(statsmodels, Bartlett kernel, maxlags = hac_lags); coefficients are returns per +1 pp; "
        "'parallel' = coef(d_2y) + coef(d_10y) with its HAC standard error; rolling windows of "
        "`window` periods every `step` periods"
    )

    def coef(self, term: str, model: str = "rates", y: str = "sml", column: str = "coef") -> float:
        """One number of :attr:`coefficients` (NaN when absent)."""
        c = self.coefficients  # plain arrays: pandas masks are slow in summary()'s many calls
        hit = np.flatnonzero(
            (c["model"].to_numpy() == model)
            & (c["y"].to_numpy() == y)
            & (c["term"].to_numpy() == term)
        )
        return float(c[column].to_numpy()[hit[0]]) if len(hit) else float("nan")

    def summary(self) -> str:
        """The sensitivities, their stability, and what their sign says."""
        c = self.coefficients
        base = c[(c["model"] == "rates") & (c["y"] == "sml")].iloc[0]
        unit = {"W": "weekly", "D": "daily"}[self.frequency]
        par, par_t = (
            self.coef("parallel", "parallel"),
            self.coef("parallel", "parallel", "sml", "t"),
        )
        b2, t2 = self.coef("d_2y"), self.coef("d_2y", column="t")
        b10, t10 = self.coef("d_10y"), self.coef("d_10y", column="t")
        lines = [
            f"{unit.capitalize()} small-minus-large return on yield changes, "
            f"{iso(base['start'])}..{iso(base['end'])} (n={int(base['n'])}, HAC {self.hac_lags} "
            f"lags): +100 bp 2-year {b2:+.2%} (t={t2:+.1f}), +100 bp 10-year {b10:+.2%} "
            f"(t={t10:+.1f}), parallel +100 bp {par:+.2%} (t={par_t:+.1f})."
        ]
        if len(self.rolling):
            neg = float((self.rolling["parallel_coef"] < 0).mean())
            sig = float((self.rolling["parallel_t"] < -2).mean())
            lines.append(
                f"Rolling {self.window}-period windows ({len(self.rolling)}): parallel-shift "
                f"coefficient negative in {neg:.0%}, below t=-2 in {sig:.0%}."
            )
        if "rates+hy" in set(c["model"]):
            hy = c[(c["model"] == "rates+hy") & (c["y"] == "sml")].iloc[0]
            lines.append(
                f"With the HY spread ({iso(hy['start'])}..{iso(hy['end'])} only, n={int(hy['n'])}):"
                f" +100 bp HY {self.coef('d_hy', 'rates+hy'):+.2%} "
                f"(t={self.coef('d_hy', 'rates+hy', column='t'):+.1f})."
            )
        if par < 0 and par_t <= -2:
            verdict = "small caps beat large caps when yields fall, clearly (t <= -2)"
        elif par < 0:
            verdict = "small caps beat large caps when yields fall, but not clearly (t > -2)"
        else:
            verdict = "small minus large did not rise when yields fell (the coefficient is >= 0)"
        lines.append(f"Reading: {verdict}.")
        return "\n".join([*lines, *self.notes])

    def to_frame(self) -> pd.DataFrame:
        """The coefficients table."""
        return self.coefficients

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return jsonready(
            {
                "frequency": self.frequency,
                "window": self.window,
                "step": self.step,
                "hac_lags": self.hac_lags,
                "coefficients": self.coefficients,
                "rolling": self.rolling,
                "notes": list(self.notes),
                "method": self.method,
                "summary": self.summary(),
            }
        )


def _rows(fit: Any, model: str, y: str, data: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "model": model,
            "y": y,
            "term": term,
            "coef": float(fit.params[term]),
            "se": float(fit.bse[term]),
            "t": float(fit.tvalues[term]),
            "p": float(fit.pvalues[term]),
            "n": int(fit.nobs),
            "r2": float(fit.rsquared),
            "start": data.index[0],
            "end": data.index[-1],
        }
        for term in fit.params.index
    ]


def _parallel(fit: Any) -> tuple[float, float, float]:
    """Sum of the two rate coefficients, its HAC standard error and t."""
    w = np.array([1.0 if t in RATE_TERMS else 0.0 for t in fit.params.index])
    coef = float(w @ fit.params.to_numpy())
    se = float(np.sqrt(w @ np.asarray(fit.cov_params()) @ w))
    return coef, se, coef / se if se > 0 else float("nan")


def rate_sensitivity(
    small: pd.Series,
    large: pd.Series,
    two: pd.Series,
    ten: pd.Series,
    hy: pd.Series | None = None,
    *,
    frequency: str = "W",
    window: int = 156,
    step: int = 13,
    hac_lags: int | None = None,
    min_obs: int = 52,
) -> RateSensitivity:
    """Regress small-minus-large returns on 2-year and 10-year yield (and HY spread) changes.

    Parameters
    ----------
    small, large : Series
        Price levels (total-return where available).
    two, ten : Series
        2-year and 10-year Treasury yields, percent (``DGS2``, ``DGS10``).
    hy : Series, optional
        High-yield OAS, percent (``BAMLH0A0HYM2``); a second model uses it where it exists.
    frequency : {"W", "D"}, default "W"
        Weekly (Friday closes) or daily.
    window, step : int, default 156, 13
        Rolling window length and spacing, in periods (3 years, every quarter, when weekly).
    hac_lags : int, optional
        Newey-West lags; default :func:`newey_west_lags` of the sample size.
    min_obs : int, default 52
        Fewer aligned periods than this is an error (and skips the HY model).

    Raises
    ------
    InsufficientDataError
        Fewer than ``min_obs`` periods with prices and both yields.
    """
    panel = sensitivity_panel(small, large, two, ten, hy, frequency=frequency)
    base = panel.dropna(subset=["sml", *RATE_TERMS])
    if len(base) < min_obs:
        raise InsufficientDataError(
            f"rate_sensitivity needs {min_obs} periods with prices and both yields, got {len(base)}"
        )
    lags = newey_west_lags(len(base)) if hac_lags is None else int(hac_lags)
    rows: list[dict[str, Any]] = []
    x = base[list(RATE_TERMS)]
    for y in ("sml", "small", "large"):
        fit = _hac_fit(base[y], x, lags)
        rows += _rows(fit, "rates", y, base)
        coef, se, t = _parallel(fit)
        rows.append(
            {"model": "parallel", "y": y, "term": "parallel", "coef": coef, "se": se, "t": t,
             "p": float("nan"), "n": int(fit.nobs), "r2": float(fit.rsquared),
             "start": base.index[0], "end": base.index[-1]}
        )  # fmt: skip
    notes = [
        "Contemporaneous co-movement: yields also move on growth news, so a positive "
        "coefficient can mean small caps rally with the growth that lifts yields; it is not the "
        "causal effect of borrowing costs."
    ]
    if "d_hy" in panel:
        with_hy = panel.dropna(subset=["sml", *RATE_TERMS, "d_hy"])
        if len(with_hy) >= min_obs:
            lags_hy = newey_west_lags(len(with_hy)) if hac_lags is None else int(hac_lags)
            fit = _hac_fit(with_hy["sml"], with_hy[[*RATE_TERMS, "d_hy"]], lags_hy)
            rows += _rows(fit, "rates+hy", "sml", with_hy)
            if with_hy.index[0] > pd.Timestamp("2000-01-01"):
                notes.append(
                    f"The HY spread covers only {iso(with_hy.index[0])}..{iso(with_hy.index[-1])}"
                    " (FRED serves 3 years of ICE data), so the HY model rests on "
                    f"{len(with_hy)} periods."
                )
        else:
            notes.append(f"HY model skipped: {len(with_hy)} periods with the spread (< {min_obs}).")
    roll = []
    if window >= 10 and len(base) >= window:
        for end in range(window, len(base) + 1, max(step, 1)):
            part = base.iloc[end - window : end]
            fit = _hac_fit(part["sml"], part[list(RATE_TERMS)], newey_west_lags(window))
            coef, _, t = _parallel(fit)
            roll.append(
                {"end": part.index[-1], "n": len(part),
                 "d_2y_coef": float(fit.params["d_2y"]), "d_2y_t": float(fit.tvalues["d_2y"]),
                 "d_10y_coef": float(fit.params["d_10y"]), "d_10y_t": float(fit.tvalues["d_10y"]),
                 "parallel_coef": coef, "parallel_t": t}
            )  # fmt: skip
    rolling = pd.DataFrame(
        roll,
        columns=["end", "n", "d_2y_coef", "d_2y_t", "d_10y_coef", "d_10y_t", "parallel_coef",
                 "parallel_t"],
    )  # fmt: skip
    return RateSensitivity(pd.DataFrame(rows), rolling, frequency, window, step, lags, tuple(notes))
