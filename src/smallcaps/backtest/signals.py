"""Signals for rotation rules, each known only from data published by its decision date.

A :class:`Panel` holds the decision calendar and the raw series (by their publisher's date
stamps) with the release rule of each (:func:`smallcaps.access.release_rule`). A signal is
computed on the stamps with causal operations only (expanding or trailing windows), then put on
the calendar by *publication* date: at decision time ``t`` a signal takes the last value whose
inputs were all published by ``t``, as :func:`smallcaps.access.align` does for raw series.
:func:`smallcaps.backtest.engine.check_no_lookahead` tests that promise by changing every value
published after ``t`` and checking that positions up to ``t`` do not move.

Each entry of :data:`SIGNALS` names its parameters (with defaults and types) and what its value
means; rules compare the value with a threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from smallcaps import publishers
from smallcaps.access import ReleaseRule, release_rule
from smallcaps.errors import InsufficientDataError, UnknownSeriesError
from smallcaps.measures.fed import FED_LOWER, FED_UPPER
from smallcaps.measures.fed import FED_TARGET as FED_POINT
from smallcaps.measures.macro import HY_OAS


@dataclass(eq=False)
class Panel:
    """Decision calendar plus raw series and their release rules.

    Parameters
    ----------
    calendar : DatetimeIndex
        Decision dates (a bare date is its start, as in :func:`smallcaps.access.align`).
    small, large : str
        Series ids of the two legs.
    kinds : mapping
        ``"returns"`` or ``"prices"`` for each leg id.
    loader : callable, optional
        ``series_id -> (Series, ReleaseRule)``, called once per id not yet in ``data``.
    data : dict
        Series already loaded (by date stamp).
    rules : dict
        The release rule of each loaded series.
    """

    calendar: pd.DatetimeIndex
    small: str
    large: str
    kinds: Mapping[str, str]
    loader: Callable[[str], tuple[pd.Series, ReleaseRule]] | None = None
    data: dict[str, pd.Series] = field(default_factory=dict)
    rules: dict[str, ReleaseRule] = field(default_factory=dict)
    cache: dict[Any, Any] = field(default_factory=dict)

    def series(self, series_id: str) -> pd.Series:
        """A raw series by stamp (loaded once)."""
        if series_id not in self.data:
            if self.loader is None:
                raise UnknownSeriesError(series_id, self.data)
            values, rule = self.loader(series_id)
            self.data[series_id] = values.astype(float).sort_index()
            self.rules[series_id] = rule
        return self.data[series_id]

    def published(self, series_id: str) -> np.ndarray:
        """Publication dates (datetime64[ns]) of the series' rows, non-decreasing."""
        s = self.series(series_id)
        rule = self.rules.get(series_id) or release_rule(series_id)
        pub = np.asarray(rule(s.index).values.astype("datetime64[ns]"))
        return np.maximum.accumulate(pub.view(np.int64)).view("datetime64[ns]")

    def with_data(self, data: Mapping[str, pd.Series]) -> Panel:
        """A copy holding ``data`` instead (same calendar, rules; no loader, empty cache)."""
        return Panel(
            self.calendar, self.small, self.large, self.kinds, None, dict(data), dict(self.rules)
        )

    def on_calendar(self, values: np.ndarray, published: np.ndarray) -> np.ndarray:
        """At each decision date, the last non-NaN value published by then (NaN if none).

        ``published`` is non-decreasing, so the rows published by a date are a prefix: the
        answer is the prefix's last non-NaN value, the values carried forward read at the
        prefix's end. Where each date's prefix ends depends only on ``published``, so it is
        found once per array (a sweep asks for a thousand signals on the same dates).
        """
        key = ("prefix", id(published))
        hit = self.cache.get(key)
        if hit is None or hit[0] is not published:
            t = np.asarray(self.calendar.values.astype("datetime64[ns]"))
            hit = (published, np.searchsorted(published, t, side="right") - 1)
            self.cache[key] = hit
        end = hit[1]
        x = np.asarray(values, dtype=float)
        if not len(x):
            return np.full(len(end), np.nan)
        nan = np.isnan(x)
        first = int(np.argmin(nan))  # the first value (0 when none: caught below)
        if not nan[first:].any():  # NaN only before the first value (a warm-up): no gaps
            return np.where(end >= first, x[np.maximum(end, 0)], np.nan)
        # the last non-NaN row at or before each row (-1: none), then its value
        last = np.maximum.accumulate(np.where(nan, -1, np.arange(len(x))))
        at = last[np.maximum(end, 0)]
        return np.where((end >= 0) & (at >= 0), x[np.maximum(at, 0)], np.nan)

    def relative(self) -> tuple[np.ndarray, np.ndarray]:
        """Log wealth of small relative to large on their common stamps, and publication dates.

        Returns are compounded (``log1p``); prices are taken as total-return levels.
        """
        key = ("relative",)
        if key not in self.cache:
            legs = []
            for sid in (self.small, self.large):
                s = self.series(sid)
                pub = pd.Series(self.published(sid), index=s.index)
                legs.append((s, pub))
            both = pd.concat(
                {"s": legs[0][0], "l": legs[1][0], "ps": legs[0][1], "pl": legs[1][1]},
                axis=1,
                join="inner",
            ).dropna()
            logs = []
            for col, sid in (("s", self.small), ("l", self.large)):
                x = both[col].to_numpy(dtype=float)
                with np.errstate(invalid="ignore", divide="ignore"):  # a loss of 100%+: NaN
                    if self.kinds.get(sid, "returns") == "returns":
                        logs.append(np.cumsum(np.log1p(x)))
                    else:
                        logs.append(np.log(x))
            pub = np.maximum(both["ps"].to_numpy(), both["pl"].to_numpy())
            self.cache[key] = (logs[0] - logs[1], pub.astype("datetime64[ns]"))
        return self.cache[key]


@dataclass(frozen=True, slots=True)
class SignalSpec:
    """A named signal: parameters (defaults fix their types), lower bounds, what it means."""

    name: str
    compute: Callable[..., np.ndarray]
    params: Mapping[str, Any]
    minimum: Mapping[str, float]
    description: str
    sources: Callable[[Panel], tuple[str, ...]]


SIGNALS: dict[str, SignalSpec] = {}


def _signal(
    name: str,
    *,
    params: Mapping[str, Any],
    minimum: Mapping[str, float],
    description: str,
    sources: Callable[[Panel], tuple[str, ...]],
) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    def decorate(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        SIGNALS[name] = SignalSpec(name, fn, dict(params), dict(minimum), description, sources)
        return fn

    return decorate


def _legs(p: Panel) -> tuple[str, ...]:
    return (p.small, p.large)


def compute(panel: Panel, signal: str, params: tuple[tuple[str, Any], ...]) -> np.ndarray:
    """The signal's values on the panel's calendar (cached per signal and parameters)."""
    key = (signal, params)
    if key not in panel.cache:
        panel.cache[key] = np.asarray(SIGNALS[signal].compute(panel, **dict(params)), dtype=float)
    return panel.cache[key]


@_signal(
    "size_momentum",
    params={"lookback": 12},
    minimum={"lookback": 1},
    description="log return of small minus large caps over the last `lookback` periods",
    sources=_legs,
)
def size_momentum(panel: Panel, *, lookback: int) -> np.ndarray:
    """Small-minus-large log return over ``lookback`` periods of the legs' own stamps."""
    rel, pub = panel.relative()
    out = np.full(len(rel), np.nan)
    out[lookback:] = rel[lookback:] - rel[:-lookback]
    return panel.on_calendar(out, pub)


@_signal(
    "size_drawdown",
    params={"window": 0},
    minimum={"window": 0},
    description="small/large relative wealth over its running peak, minus 1 (<= 0); "
    "window 0: the whole history, else the last `window` periods",
    sources=_legs,
)
def size_drawdown(panel: Panel, *, window: int) -> np.ndarray:
    """Relative drawdown of small versus large caps."""
    rel, pub = panel.relative()
    peak = (
        np.maximum.accumulate(rel)
        if window == 0
        else pd.Series(rel).rolling(window, min_periods=1).max().to_numpy()
    )
    return panel.on_calendar(np.exp(rel - peak) - 1.0, pub)


@_signal(
    "trend",
    params={"window": 200},
    minimum={"window": 1},
    description="small/large relative wealth over its `window`-period average, minus 1",
    sources=_legs,
)
def trend(panel: Panel, *, window: int) -> np.ndarray:
    """Relative strength of small caps against its moving average."""
    rel, pub = panel.relative()
    key = ("relative_level",)
    if key not in panel.cache:  # a sweep asks for hundreds of windows of the same ratio
        panel.cache[key] = pd.Series(np.exp(rel))
    ratio = panel.cache[key]
    ma = ratio.rolling(window, min_periods=window).mean().to_numpy()
    return panel.on_calendar(ratio.to_numpy() / ma - 1.0, pub)


def _gap(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    key = ("valuation_gap",)
    if key not in panel.cache:
        from smallcaps.measures.valuation import run as valuation_run

        view = _PanelView(panel)
        report = valuation_run(view, cape="", min_obs=24)
        g = (report.updated or report.gap).gap.dropna()
        # a month's gap is known once every input row up to that month is published (French
        # files: the end of the following month)
        pub = _latest_pub(panel, view.read, pd.DatetimeIndex(g.index))
        panel.cache[key] = (g.to_numpy(dtype=float), pub)
    return panel.cache[key]


def _latest_pub(panel: Panel, ids: list[str], stamps: pd.DatetimeIndex) -> np.ndarray:
    """For each stamp, the latest publication date of any input row stamped on or before it."""
    out = np.full(len(stamps), np.datetime64("NaT", "ns")).view(np.int64)
    out[:] = np.iinfo(np.int64).min
    t = np.asarray(stamps.values.astype("datetime64[ns]"))
    for sid in dict.fromkeys(ids):
        s = panel.series(sid)
        pub = panel.published(sid).view(np.int64)
        k = np.searchsorted(np.asarray(s.index.values.astype("datetime64[ns]")), t, "right") - 1
        out = np.maximum(out, np.where(k >= 0, pub[np.maximum(k, 0)], out))
    return out.view("datetime64[ns]")


@dataclass(eq=False)
class _PanelView:
    """A registry View reading the panel's series (so perturbations reach measurements)."""

    panel: Panel
    as_of: pd.Timestamp | None = None
    read: list[str] = field(default_factory=list)

    def series(self, series_id: str) -> pd.Series:
        self.read.append(series_id)
        return self.panel.series(series_id)

    def has(self, series_id: str) -> bool:
        if series_id in self.panel.data:
            return True
        try:
            self.panel.series(series_id)
        except (UnknownSeriesError, InsufficientDataError):
            return False
        return True


def _expanding_z(g: np.ndarray, window: int, min_obs: int) -> np.ndarray:
    s = pd.Series(g)
    roll = s.expanding(min_periods=min_obs) if window == 0 else s.rolling(window, min_obs)
    sd = roll.std(ddof=1).to_numpy()
    z = (g - roll.mean().to_numpy()) / np.where(sd > 0, sd, np.nan)
    return z


def _expanding_pct(g: np.ndarray, window: int, min_obs: int) -> np.ndarray:
    out = np.full(len(g), np.nan)
    for i in range(min_obs - 1, len(g)):
        hist = g[: i + 1] if window == 0 else g[max(0, i + 1 - window) : i + 1]
        out[i] = float(np.mean(hist <= g[i]))
    return out


def _val_sources(panel: Panel) -> tuple[str, ...]:
    from smallcaps.measures.valuation import DATASET

    return (publishers.get("french").prefix(DATASET),)


@_signal(
    "valuation_z",
    params={"window": 0, "min_obs": 60},
    minimum={"window": 0, "min_obs": 2},
    description="z-score of the small-vs-large valuation gap (log B/M ratio, French 25 "
    "Size x B/M sorts; > 0: small caps cheaper than usual) over the history to date "
    "(window 0) or the last `window` months",
    sources=_val_sources,
)
def valuation_z(panel: Panel, *, window: int, min_obs: int) -> np.ndarray:
    """Z-score of the valuation gap, trailing."""
    g, pub = _gap(panel)
    return panel.on_calendar(_expanding_z(g, window, min_obs), pub)


@_signal(
    "valuation_pct",
    params={"window": 0, "min_obs": 60},
    minimum={"window": 0, "min_obs": 1},
    description="percentile of the valuation gap in its history to date (share of months "
    "with a gap at or below; near 1: small caps as cheap as ever)",
    sources=_val_sources,
)
def valuation_pct(panel: Panel, *, window: int, min_obs: int) -> np.ndarray:
    """Percentile of the valuation gap, trailing."""
    g, pub = _gap(panel)
    return panel.on_calendar(_expanding_pct(g, window, min_obs), pub)


def _fed_events(panel: Panel, pause_days: int, min_hike: float) -> tuple[np.ndarray, np.ndarray]:
    """Publication dates of first cuts and of hikes (datetime64[ns], sorted)."""
    from smallcaps.analytics import fed

    key = ("fed", pause_days, min_hike)
    if key not in panel.cache:
        parts = {}
        for sid in (FED_POINT, FED_UPPER, FED_LOWER):
            try:
                parts[sid] = panel.series(sid)
            except (UnknownSeriesError, InsufficientDataError):
                parts[sid] = None
        path = fed.target_path(parts[FED_POINT], parts[FED_UPPER], parts[FED_LOWER])
        changes = fed.target_changes(path)
        cycles = fed.easing_cycles(changes, pause_days=pause_days, min_hike=min_hike)
        rule = panel.rules.get(FED_UPPER) or release_rule(FED_UPPER)
        cuts = np.asarray(rule(pd.DatetimeIndex(cycles["first_cut"])).values, "datetime64[ns]")
        hikes_at = pd.DatetimeIndex(changes.loc[changes["direction"] == "hike", "effective"])
        hikes = np.asarray(rule(hikes_at).values, "datetime64[ns]")
        panel.cache[key] = (np.sort(cuts), np.sort(hikes))
    return panel.cache[key]


_FED_SOURCES = (FED_POINT, FED_UPPER, FED_LOWER)


@_signal(
    "periods_since_first_cut",
    params={"pause_days": 180, "min_hike": 0.25},
    minimum={"pause_days": 1, "min_hike": 0.0},
    description="decision periods since the latest Fed first cut was public (0 on the first "
    "decision date after FRED published it; NaN before any); first cut as in fed.cycles",
    sources=lambda p: _FED_SOURCES,
)
def periods_since_first_cut(panel: Panel, *, pause_days: int, min_hike: float) -> np.ndarray:
    """Periods since the latest known first cut."""
    cuts, _ = _fed_events(panel, pause_days, min_hike)
    t = np.asarray(panel.calendar.values.astype("datetime64[ns]"))
    k = np.searchsorted(cuts, t, side="right") - 1
    known = np.where(k >= 0, cuts[np.maximum(k, 0)], np.datetime64("NaT"))
    first_on = np.searchsorted(t, known, side="left")  # first decision date seeing that cut
    return np.where(k >= 0, np.arange(len(t)) - first_on, np.nan).astype(float)


@_signal(
    "easing",
    params={"pause_days": 180, "min_hike": 0.25},
    minimum={"pause_days": 1, "min_hike": 0.0},
    description="1 in an easing phase (a first cut public and no hike public since), else 0",
    sources=lambda p: _FED_SOURCES,
)
def easing(panel: Panel, *, pause_days: int, min_hike: float) -> np.ndarray:
    """Whether the Fed is easing, as known at each decision date."""
    cuts, hikes = _fed_events(panel, pause_days, min_hike)
    t = np.asarray(panel.calendar.values.astype("datetime64[ns]"))
    kc = np.searchsorted(cuts, t, side="right") - 1
    kh = np.searchsorted(hikes, t, side="right") - 1
    last_cut = np.where(kc >= 0, cuts[np.maximum(kc, 0)].view(np.int64), np.iinfo(np.int64).min)
    last_hike = np.where(kh >= 0, hikes[np.maximum(kh, 0)].view(np.int64), np.iinfo(np.int64).min)
    return ((kc >= 0) & (last_cut > last_hike)).astype(float)


@_signal(
    "hy_spread",
    params={"lookback": 0},
    minimum={"lookback": 0},
    description="ICE BofA US high-yield OAS in percent (lookback 0), or its change over the "
    "last `lookback` observations; NaN where FRED has no history (the mirror: from 2023-08)",
    sources=lambda p: (HY_OAS,),
)
def hy_spread(panel: Panel, *, lookback: int) -> np.ndarray:
    """High-yield credit spread level or change."""
    s = panel.series(HY_OAS)
    v = s.to_numpy(dtype=float)
    pub = panel.published(HY_OAS)
    ok = ~np.isnan(v)
    v, pub = v[ok], pub[ok]
    if lookback:
        out = np.full(len(v), np.nan)
        out[lookback:] = v[lookback:] - v[:-lookback]
        v = out
    return panel.on_calendar(v, pub)
