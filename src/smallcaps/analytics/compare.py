"""Comparisons: one or two sleeves over a set of windows, with figures a claim can test.

For two sleeves the per-window figure is the *difference* ``first - second`` of their window
returns; for one sleeve it is the sleeve's window return. Either way the same figures describe
it (:data:`DEFINITIONS`): ``n``, ``mean``, ``median``, ``hit_rate``, ``sign_p``, ``t``,
``t_nw``, ``ci_low``/``ci_high``; two sleeves add ``first_mean`` and ``second_mean``.

:func:`inside_outside` compares one sleeve's per-period returns inside a set of windows with
those outside (one month of the year against the others).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from smallcaps.analytics._jsonready import jsonready
from smallcaps.analytics.sleeves import Sleeve
from smallcaps.analytics.windows import WindowSet
from smallcaps.errors import InsufficientDataError
from smallcaps.results import Result

DEFINITIONS: dict[str, str] = {
    "n": "number of windows both sleeves cover (incomplete and uncovered windows left out)",
    "mean": "mean over windows of x, where x is first minus second window return (two "
    "sleeves) or the sleeve's window return (one sleeve)",
    "median": "median over windows of x",
    "hit_rate": "share of windows with x > 0 (first beats second; one sleeve: share positive)",
    "sign_p": "two-sided sign-test p-value: binomial(wins, wins + losses, 1/2); ties dropped",
    "t": "mean / (sample sd / sqrt(n)) of x, IID",
    "t_nw": "t of the mean of x with Newey-West (HAC, Bartlett) standard errors, "
    "statsmodels OLS on a constant; lags = hac_lags or floor(4 (n/100)^(2/9))",
    "ci_low": "lower end of the IID bootstrap percentile interval of the mean of x "
    "(conf, reps, seed)",
    "ci_high": "upper end of that interval",
    "first_mean": "mean window return of the first sleeve",
    "second_mean": "mean window return of the second sleeve",
}
INSIDE_DEFINITIONS: dict[str, str] = {
    "n_in": "periods inside the windows",
    "n_out": "periods outside the windows",
    "mean_in": "mean per-period return inside the windows",
    "mean_out": "mean per-period return outside",
    "diff": "mean_in - mean_out",
    "t": "Welch t of diff (unequal variances)",
    "hit_rate": "share of periods inside with a return above mean_out",
}


@dataclass(frozen=True, slots=True, eq=False)
class Comparison(Result):
    """Window returns of one or two sleeves and the figures of :data:`DEFINITIONS`."""

    sleeves: tuple[str, ...]
    windows: pd.DataFrame  # label, event, start, end, first[, second], x
    windows_description: str
    n: int
    mean: float
    median: float
    hit_rate: float
    sign_p: float
    t: float
    t_nw: float
    hac_lags: int
    ci_low: float
    ci_high: float
    conf: float
    first_mean: float
    second_mean: float
    units: str
    left_out: int  # windows not covered or incomplete
    sources: tuple[str, ...] = ()
    as_of: pd.Timestamp | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def definitions(self) -> dict[str, str]:
        """Each figure's definition."""
        keep = DEFINITIONS if len(self.sleeves) == 2 else {
            k: v for k, v in DEFINITIONS.items() if not k.endswith("_mean")}  # fmt: skip
        return dict(keep)

    def summary(self) -> str:
        """Two lines: what was compared, then the figures."""
        what = " vs ".join(self.sleeves)
        x = "first - second" if len(self.sleeves) == 2 else "return"
        head = f"{what} over {self.windows_description}: {self.n} windows"
        if self.left_out:
            head += f" ({self.left_out} left out: incomplete or not covered)"
        if self.n == 0:
            return head
        pct = "return" in self.units

        def f(v: float) -> str:
            return f"{v:+.2%}" if pct else f"{v:+.3g}"

        return (
            f"{head}\n{x} ({self.units}): mean {f(self.mean)}, median {f(self.median)}, "
            f"positive in {self.hit_rate:.0%} (sign-test p {self.sign_p:.2f}), t {self.t:.2f}, "
            f"t_NW {self.t_nw:.2f}, {self.conf:.0%} bootstrap [{f(self.ci_low)}, "
            f"{f(self.ci_high)}]"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per window."""
        return self.windows

    def to_dict(self) -> dict[str, Any]:
        """Figures at the top level, each defined in ``definitions``; windows as a list."""
        out = {
            "measure": "sleeves.compare", "sleeves": list(self.sleeves),
            "over": self.windows_description, "n": self.n, "mean": self.mean,
            "median": self.median, "hit_rate": self.hit_rate, "sign_p": self.sign_p,
            "t": self.t, "t_nw": self.t_nw, "hac_lags": self.hac_lags, "ci_low": self.ci_low,
            "ci_high": self.ci_high, "conf": self.conf, "units": self.units,
            "left_out": self.left_out, "windows": self.windows,
            "definitions": self.definitions, "sources": list(self.sources),
            "as_of": self.as_of, "notes": list(self.notes),
        }  # fmt: skip
        if len(self.sleeves) == 2:
            out["first_mean"], out["second_mean"] = self.first_mean, self.second_mean
        return jsonready(out)


def nw_lags(n: int) -> int:
    """Newey-West's rule of thumb: floor(4 (n / 100)^(2/9))."""
    return math.floor(4 * (n / 100) ** (2 / 9)) if n > 0 else 0


def t_stats(x: np.ndarray, hac_lags: int | None = None) -> tuple[float, float, int]:
    """Plain t and Newey-West t of the mean of ``x``, and the lags used (NaN when n < 3)."""
    n = len(x)
    lags = nw_lags(n) if hac_lags is None else hac_lags
    if n < 3:
        return float("nan"), float("nan"), lags
    sd = float(np.std(x, ddof=1))
    t = float(np.mean(x)) / (sd / math.sqrt(n)) if sd > 0 else float("nan")
    if sd == 0:
        return t, float("nan"), lags
    import statsmodels.api as sm

    fit = sm.OLS(x, np.ones(n)).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    return t, float(fit.tvalues[0]), lags


def sign_p(x: np.ndarray) -> float:
    """Two-sided sign-test p of ``x`` (zeros dropped); NaN when every value is zero."""
    wins, losses = int((x > 0).sum()), int((x < 0).sum())
    if wins + losses == 0:
        return float("nan")
    from scipy.stats import binomtest

    return float(binomtest(wins, wins + losses, 0.5, alternative="two-sided").pvalue)


def bootstrap_mean(
    x: np.ndarray, *, conf: float = 0.90, reps: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """IID bootstrap percentile interval of the mean of ``x`` (NaN when n < 2)."""
    if len(x) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(reps, len(x)))].mean(axis=1)
    a = (1 - conf) / 2
    lo, hi = np.quantile(means, [a, 1 - a])
    return float(lo), float(hi)


def compare(
    sleeves: list[Sleeve],
    windows: WindowSet,
    *,
    conf: float = 0.90,
    reps: int = 2000,
    seed: int = 0,
    hac_lags: int | None = None,
) -> Comparison:
    """Window returns of one or two sleeves (on one calendar) and their figures.

    Parameters
    ----------
    sleeves : list of Sleeve
        One or two, on the same frequency (see :func:`smallcaps.analytics.sleeves.common`).
    windows : WindowSet
    conf, reps, seed
        The bootstrap interval's level, resamples and seed.
    hac_lags : int, optional
        Newey-West lags (default: :func:`nw_lags` of the number of windows).
    """
    if len(sleeves) not in (1, 2):
        raise ValueError("compare takes one or two sleeves")
    if not 0 < conf < 1 or reps < 1:
        raise ValueError(f"conf must be in (0, 1) and reps >= 1, got {conf}, {reps}")
    f = windows.frame
    legs = [np.array([s.window(a, b) for a, b in zip(f["start"], f["end"], strict=True)])
            for s in sleeves]  # fmt: skip
    ok = np.all([~np.isnan(v) for v in legs], axis=0) if len(f) else np.zeros(0, dtype=bool)
    table = f.loc[ok].reset_index(drop=True).copy()
    table["first"] = legs[0][ok]
    if len(sleeves) == 2:
        table["second"] = legs[1][ok]
        table["x"] = table["first"] - table["second"]
    else:
        table["x"] = table["first"]
    x = table["x"].to_numpy(dtype=float)
    n = len(x)
    nan = float("nan")
    t, t_nw, lags = t_stats(x, hac_lags)
    lo, hi = bootstrap_mean(x, conf=conf, reps=reps, seed=seed)
    units = sleeves[0].units
    return Comparison(
        sleeves=tuple(s.id for s in sleeves),
        windows=table,
        windows_description=windows.description,
        n=n,
        mean=float(x.mean()) if n else nan,
        median=float(np.median(x)) if n else nan,
        hit_rate=float((x > 0).mean()) if n else nan,
        sign_p=sign_p(x),
        t=t,
        t_nw=t_nw,
        hac_lags=lags,
        ci_low=lo,
        ci_high=hi,
        conf=conf,
        first_mean=float(table["first"].mean()) if n else nan,
        second_mean=float(table["second"].mean()) if n and len(sleeves) == 2 else nan,
        units=units if len(sleeves) == 1 else f"{units}, first minus second",
        left_out=int(len(f) - n) + windows.incomplete,
        sources=tuple(x for s in sleeves for x in s.sources),
        notes=windows.notes,
    )


@dataclass(frozen=True, slots=True, eq=False)
class InsideOutside(Result):
    """One sleeve's per-period returns inside a set of windows against those outside."""

    sleeve: str
    windows_description: str
    n_in: int
    n_out: int
    mean_in: float
    mean_out: float
    diff: float
    t: float
    hit_rate: float
    sources: tuple[str, ...] = ()
    as_of: pd.Timestamp | None = None

    def summary(self) -> str:
        """One line."""
        return (
            f"{self.sleeve} in {self.windows_description}: mean {self.mean_in:+.2%} per period "
            f"over {self.n_in} vs {self.mean_out:+.2%} over {self.n_out} outside (diff "
            f"{self.diff:+.2%}, Welch t {self.t:.2f})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Figures at the top level with their definitions."""
        out = {f: getattr(self, f) for f in ("sleeve", "n_in", "n_out", "mean_in", "mean_out",
                                              "diff", "t", "hit_rate")}  # fmt: skip
        out.update(measure="sleeves.compare", over=self.windows_description,
                   definitions=INSIDE_DEFINITIONS, sources=list(self.sources),
                   as_of=self.as_of)  # fmt: skip
        return jsonready(out)


def inside_outside(sleeve: Sleeve, windows: WindowSet) -> InsideOutside:
    """Per-period returns of ``sleeve`` inside ``windows`` against every other period."""
    r = sleeve.returns.dropna()
    inside = np.zeros(len(r), dtype=bool)
    idx = r.index
    for a, b in zip(windows.frame["start"], windows.frame["end"], strict=True):
        inside |= (idx > a) & (idx <= b)
    x_in, x_out = r.to_numpy()[inside], r.to_numpy()[~inside]
    if len(x_in) < 2 or len(x_out) < 2:
        raise InsufficientDataError(
            f"{sleeve.id}: {len(x_in)} periods inside and {len(x_out)} outside the windows; "
            "need at least 2 of each"
        )
    m_in, m_out = float(x_in.mean()), float(x_out.mean())
    se = math.sqrt(x_in.var(ddof=1) / len(x_in) + x_out.var(ddof=1) / len(x_out))
    return InsideOutside(
        sleeve.id, windows.description, len(x_in), len(x_out), m_in, m_out, m_in - m_out,
        (m_in - m_out) / se if se > 0 else float("nan"), float((x_in > m_out).mean()),
        sources=sleeve.sources,
    )  # fmt: skip
