"""Paths of small-minus-large around events (first cuts), with bootstrap and placebo bands.

The event study (:mod:`smallcaps.analytics.event_study`) reports compounded returns over a few
windows; the chart shows the whole path from ``-before`` to ``+after`` trading days with the
same conventions (anchor: the last close before the announcement), the mean path, a bootstrap
interval of the mean and a placebo band of mean paths around random non-event dates.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from smallcaps.analytics._jsonready import jsonready
from smallcaps.analytics.event_study import anchor_positions
from smallcaps.results import Result


@dataclass(frozen=True, slots=True, eq=False)
class EventPaths(Result):
    """Small-minus-large paths around events.

    Attributes
    ----------
    offsets : ndarray
        Trading days relative to the anchor (``-before .. after``).
    paths : DataFrame
        One column per event (its announcement date), rows ``offsets``: small's return minus
        large's from the anchor close (NaN past the data).
    groups : Series
        Each event's label (soft landing, recession, pending).
    mean, ci_low, ci_high, placebo_low, placebo_high : ndarray
        Mean over events with data at each offset; bootstrap interval of that mean; band of
        the same mean over random non-event anchors.
    conf : float
        Level of both bands.
    """

    offsets: np.ndarray
    paths: pd.DataFrame
    groups: pd.Series
    mean: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    placebo_low: np.ndarray
    placebo_high: np.ndarray
    conf: float
    method: str = (
        "path(k) = (P_small(k) / P_small(0) - 1) - (P_large(k) / P_large(0) - 1), 0 = the last "
        "close before the announcement; mean over the events with data at k; interval: IID "
        "bootstrap of events; placebo: the mean path of as many random anchors more than 21 "
        "trading days from any event"
    )

    def summary(self) -> str:
        """Mean path at the end of the window, against its bootstrap and placebo bands."""
        k = len(self.paths.columns)
        if not k or np.isnan(self.mean[-1]):
            return f"Small minus large around {k} events: no path reaches +{self.offsets[-1]} days."
        return (
            f"Small minus large around {k} events, {self.offsets[0]:+d} to "
            f"{self.offsets[-1]:+d} trading days: mean {self.mean[-1]:+.1%} at the end "
            f"({self.conf:.0%} interval {self.ci_low[-1]:+.1%} to {self.ci_high[-1]:+.1%}; "
            f"placebo {self.placebo_low[-1]:+.1%} to {self.placebo_high[-1]:+.1%})."
        )

    def to_frame(self) -> pd.DataFrame:
        """Mean path and bands by offset."""
        return pd.DataFrame(
            {"mean": self.mean, "ci_low": self.ci_low, "ci_high": self.ci_high,
             "placebo_low": self.placebo_low, "placebo_high": self.placebo_high},
            index=pd.Index(self.offsets, name="offset"),
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready paths and bands."""
        return jsonready(
            {
                "offsets": self.offsets.tolist(),
                "events": {
                    f"{d:%Y-%m-%d}": np.round(self.paths[d].to_numpy(), 5).tolist()
                    for d in self.paths.columns
                },
                "groups": {f"{d:%Y-%m-%d}": g for d, g in self.groups.items()},
                "mean": np.round(self.mean, 5).tolist(),
                "ci_low": np.round(self.ci_low, 5).tolist(),
                "ci_high": np.round(self.ci_high, 5).tolist(),
                "placebo_low": np.round(self.placebo_low, 5).tolist(),
                "placebo_high": np.round(self.placebo_high, 5).tolist(),
                "conf": self.conf,
                "method": self.method,
            }
        )


def event_paths(
    returns: pd.DataFrame,
    events: pd.Series,
    *,
    before: int = 21,
    after: int = 252,
    conf: float = 0.90,
    reps: int = 1000,
    draws: int = 1000,
    exclude: int = 21,
    seed: int = 0,
) -> EventPaths:
    """Small-minus-large paths around ``events``.

    Parameters
    ----------
    returns : DataFrame
        Columns ``small`` and ``large``: simple daily returns, increasing index.
    events : Series
        Group label per event, indexed by announcement date.
    before, after : int
        Trading days shown before and after the anchor.
    conf : float
        Level of the bootstrap interval and the placebo band.
    reps, draws : int
        Bootstrap resamples; placebo draws.
    exclude : int
        Placebo anchors lie more than this many days from every event.
    seed : int
    """
    r = returns[["small", "large"]].sort_index()
    logl = np.vstack([np.zeros((1, 2)), np.cumsum(np.log1p(r.to_numpy(dtype=float)), axis=0)])
    n = len(r)
    offsets = np.arange(-before, after + 1)
    pos = anchor_positions(r.index, pd.DatetimeIndex(events.index), "before")
    keep = pos >= 0
    events, pos = events[keep], pos[keep]

    def paths_at(anchors: np.ndarray) -> np.ndarray:
        """Array (len(anchors), len(offsets)) of small-minus-large from each anchor."""
        rows = anchors[:, None] + 1 + offsets[None, :]
        ok = (rows >= 0) & (rows <= n)
        base = logl[anchors + 1]
        lv = logl[np.clip(rows, 0, n)]
        small = np.expm1(lv[..., 0] - base[:, None, 0])
        large = np.expm1(lv[..., 1] - base[:, None, 1])
        return np.where(ok, small - large, np.nan)

    ev = paths_at(pos)
    rng = np.random.default_rng(seed)
    alpha = (1.0 - conf) / 2.0
    k = len(pos)
    nan = np.full(len(offsets), np.nan)
    if k:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # offsets no event reaches
            mean = np.nanmean(ev, axis=0)
            boot = np.nanmean(ev[rng.integers(0, k, size=(reps, k))], axis=1)
            ci_low, ci_high = np.nanquantile(boot, [alpha, 1 - alpha], axis=0)
        far = np.ones(n, dtype=bool)
        for p in pos:
            far[max(0, p - exclude) : p + exclude + 1] = False
        far[: before + 1] = False
        far[max(0, n - after - 1) :] = False
        pool = np.flatnonzero(far)
        if len(pool):
            picks = pool[rng.integers(0, len(pool), size=(draws, k))]
            means = paths_at(picks.ravel()).reshape(draws, k, len(offsets)).mean(axis=1)
            placebo_low, placebo_high = np.quantile(means, [alpha, 1 - alpha], axis=0)
        else:
            placebo_low = placebo_high = nan
    else:
        mean = ci_low = ci_high = placebo_low = placebo_high = nan
    cols = pd.DatetimeIndex(events.index)
    return EventPaths(
        offsets=offsets,
        paths=pd.DataFrame(ev.T, index=offsets, columns=cols),
        groups=pd.Series(events.to_numpy(), index=cols),
        mean=mean,
        ci_low=ci_low,
        ci_high=ci_high,
        placebo_low=placebo_low,
        placebo_high=placebo_high,
        conf=conf,
    )
