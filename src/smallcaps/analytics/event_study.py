"""Returns of small and large caps around dated events, with bootstrap intervals and a placebo.

Conventions (one for every frequency):

* ``returns`` are simple periodic returns stamped at the *end* of their period (a daily close,
  a French month end). For an event on date ``e`` the **anchor** (period ``0``) is, with
  ``anchor="before"``, the last period ending strictly before ``e``: the close before an FOMC
  statement (statements come during trading hours or, in 2020, on a Sunday). With
  ``anchor="nearest"`` it is the period end closest to ``e`` (ties go before): for monthly data
  a cut on the 29th is anchored at that month's end, so ``0..+1`` is the month that follows it
  rather than the month that led up to it.
* A window ``(a, b)`` is the compounded return from the end of period ``a`` to the end of period
  ``b`` relative to the anchor: ``-21..0`` is the month *before* the announcement, ``0..+21``
  the announcement-day reaction plus the next 20 trading days. A window running past the data is
  missing (NaN), never shortened.
* ``small_minus_large`` is the small leg's window return minus the large leg's (a long-short
  position held over the window), or a spread series compounded as given (French ``SMB``).

Statistics per group of events (``all`` and each label such as ``soft landing``): count, mean,
median, share positive, an IID bootstrap interval of the mean (``arch``'s
:class:`~arch.bootstrap.IIDBootstrap`, percentile method), and a **placebo**: the same mean over
``placebo_draws`` sets of as many random non-event anchors (more than ``exclude`` periods from
every event), with the actual mean's percentile among them. With a dozen events these are
descriptions, not tests; results say so.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from smallcaps.analytics._jsonready import iso, jsonready
from smallcaps.errors import InsufficientDataError
from smallcaps.results import Result

Window = tuple[int, int]
DAILY_WINDOWS: tuple[Window, ...] = ((-21, 0), (0, 21), (0, 63), (0, 126), (0, 252))
MONTHLY_WINDOWS: tuple[Window, ...] = ((-1, 0), (0, 1), (0, 3), (0, 6), (0, 12))
LEGS = ("small", "large", "small_minus_large")
SML = "small_minus_large"


# ---- windows and legs -----------------------------------------------------------------------


def parse_windows(spec: Iterable[str | Sequence[int]]) -> tuple[Window, ...]:
    """Windows from ``"a:b"`` strings (``"-21:0"``, ``"0:21"``) or ``(a, b)`` pairs.

    Raises
    ------
    ValueError
        A window that is not two integers with ``a < b``.
    """
    out = []
    for w in spec:
        try:
            a, b = (int(x) for x in (w.replace("..", ":").split(":") if isinstance(w, str) else w))
        except ValueError:
            raise ValueError(
                f"window {w!r} is not 'a:b' with integers a < b, e.g. '0:21'"
            ) from None
        if a >= b:
            raise ValueError(f"window {w!r}: the start must come before the end, e.g. '0:21'")
        out.append((a, b))
    if not out:
        raise ValueError("at least one window is needed, e.g. '0:21'")
    return tuple(out)


def window_label(window: Window) -> str:
    """``(-21, 0)`` -> ``"-21..0"``, ``(0, 21)`` -> ``"0..+21"``."""
    return "..".join("0" if k == 0 else f"{k:+d}" for k in window)


def spliced_levels(levels: Sequence[pd.Series]) -> pd.Series:
    """One price level from several, in priority order, linked by returns.

    The first series' returns are used over its whole span; each next series fills only the
    dates before or after the span covered so far (``^GSPC`` to 2019-06-07, then ``SPY``). The
    level starts at 1.0 on the earliest date. Non-positive and missing prices are dropped.

    Raises
    ------
    InsufficientDataError
        No series has two valid prices.
    """
    rets, lo, hi, first = [], None, None, None
    for s in levels:
        s = s.dropna()
        s = s[s > 0].sort_index()
        if len(s) < 2:
            continue
        r = s.pct_change().iloc[1:]
        if lo is not None:
            r = r[(r.index <= lo) | (r.index > hi)]
        rets.append(r)
        lo = s.index[0] if lo is None else min(lo, s.index[0])
        hi = s.index[-1] if hi is None else max(hi, s.index[-1])
        first = s.index[0] if first is None else min(first, s.index[0])
    if not rets:
        raise InsufficientDataError("spliced_levels: no series has two positive prices")
    r = pd.concat(rets).sort_index()
    r = r[~r.index.duplicated()]
    level = pd.concat([pd.Series([1.0], index=[first]), (1.0 + r).cumprod()])
    level.index = pd.DatetimeIndex(level.index, name="date")
    return level.sort_index().rename("level")


def leg_returns(small: pd.Series, large: pd.Series) -> pd.DataFrame:
    """Simple returns of two price levels on the dates both have (a day one lacks is spanned)."""
    both = pd.concat({"small": small, "large": large}, axis=1, join="inner").dropna()
    if len(both) < 2:
        raise InsufficientDataError(
            f"small and large prices share {len(both)} dates; need at least 2"
        )
    return both.pct_change().iloc[1:]


# ---- window returns --------------------------------------------------------------------------


def _log_levels(returns: pd.DataFrame) -> np.ndarray:
    """Row ``k + 1`` is the log level after period ``k``; row 0 is the start (0)."""
    x = np.log1p(returns.to_numpy(dtype=float))
    return np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])


def _window_values(logl: np.ndarray, pos: np.ndarray, window: Window) -> np.ndarray:
    """Compounded returns over ``window`` for anchors ``pos`` (any shape); NaN if incomplete."""
    a, b = window
    n = logl.shape[0] - 1
    lo, hi = pos + a + 1, pos + b + 1
    ok = (lo >= 0) & (hi <= n) & (pos >= 0)
    out = np.full((*pos.shape, logl.shape[1]), np.nan)
    out[ok] = np.expm1(logl[hi[ok]] - logl[lo[ok]])
    return out


def anchor_positions(
    index: pd.DatetimeIndex, dates: pd.DatetimeIndex, anchor: str = "before"
) -> np.ndarray:
    """Row of the anchor period of each date (``-1`` when no period ends before it).

    ``"before"``: the last period ending strictly before the date; ``"nearest"``: the period
    end closest to the date, the earlier one on a tie.
    """
    if anchor not in ("before", "nearest"):
        raise ValueError(f"anchor must be 'before' or 'nearest', not {anchor!r}")
    d = pd.DatetimeIndex(dates).values
    before = np.searchsorted(index.values, d, side="left") - 1
    if anchor == "before":
        return before
    secs = index.values.astype("datetime64[s]").astype(np.int64)
    ds = d.astype("datetime64[s]").astype(np.int64)
    after = np.minimum(before + 1, len(index) - 1)
    gap_before = np.where(before >= 0, ds - secs[np.maximum(before, 0)], np.iinfo(np.int64).max)
    use_after = (after > before) & (secs[after] - ds < gap_before)
    return np.where(use_after, after, before)


def window_returns(
    returns: pd.DataFrame,
    dates: pd.DatetimeIndex,
    windows: Sequence[Window],
    *,
    anchor: str = "before",
) -> pd.DataFrame:
    """Compounded returns of every column over every window around each date.

    Parameters
    ----------
    returns : DataFrame
        Simple returns, increasing ``DatetimeIndex``, no missing values.
    dates : DatetimeIndex
        Event dates.
    windows : sequence of (a, b)
    anchor : {"before", "nearest"}
        See :func:`anchor_positions`.

    Returns
    -------
    DataFrame
        Index ``dates``; columns ``(column, window label)``.
    """
    r = _check_returns(returns)
    pos = anchor_positions(r.index, pd.DatetimeIndex(dates), anchor)
    logl = _log_levels(r)
    data = {}
    for w in windows:
        vals = _window_values(logl, pos, w)
        for j, col in enumerate(r.columns):
            data[(col, window_label(w))] = vals[:, j]
    return pd.DataFrame(data, index=pd.DatetimeIndex(dates))


def _check_returns(returns: pd.DataFrame) -> pd.DataFrame:
    r = returns.sort_index()
    if not isinstance(r.index, pd.DatetimeIndex) or r.index.has_duplicates:
        raise ValueError("returns need an increasing DatetimeIndex without duplicates")
    bad = ~np.isfinite(r.to_numpy(dtype=float))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InsufficientDataError(
            f"return of {r.columns[j]!r} on {r.index[i]:%Y-%m-%d} is missing or infinite; "
            "drop or fill such rows before the event study"
        )
    return r


# ---- the study -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class EventStudy(Result):
    """Returns around events: per event, and summarised per group with intervals and a placebo.

    Attributes
    ----------
    table : DataFrame
        One row per ``(group, leg, window)``: ``n``, ``mean``, ``median``, ``share_up``,
        ``ci_low``, ``ci_high`` (bootstrap of the mean at ``conf``), ``placebo_mean``,
        ``placebo_p05``, ``placebo_p95`` and ``placebo_percentile`` (share of placebo means at
        or below the actual mean).
    by_event : DataFrame
        One row per covered event: ``anchor`` (the reference close), ``group``, the carried
        event columns, and ``"<leg> <window>"`` returns.
    not_covered : DataFrame
        Events outside the returns' span (``date``, ``reason``).
    focus : DataFrame or None
        The events in ``focus_years`` with their returns over ``focus_window``.
    """

    table: pd.DataFrame
    by_event: pd.DataFrame
    not_covered: pd.DataFrame
    windows: tuple[str, ...]
    unit: str
    anchor: str
    span: tuple[pd.Timestamp, pd.Timestamp]
    conf: float
    reps: int
    placebo_draws: int
    exclude: int
    focus: pd.DataFrame | None = None
    focus_window: str | None = None
    claim_range: tuple[float, float] | None = None
    legs_note: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    method: str = (
        "anchor = last period ending before the event date (or, anchor='nearest', the period "
        "end closest to it); window a..b = compounded return "
        "from the end of period a to the end of period b after the anchor; small_minus_large = "
        "small window return - large window return; mean across events with an IID bootstrap "
        "percentile interval (arch); placebo = the same mean over random non-event anchors "
        "(drawn with replacement, more than `exclude` periods from any event), percentile = share "
        "of placebo means <= actual"
    )

    @property
    def n_events(self) -> int:
        """Events with data."""
        return len(self.by_event)

    def stat(self, leg: str, window: str, group: str = "all", column: str = "mean") -> float:
        """One number of :attr:`table`, e.g. ``stat("small", "0..+21")``; NaN when absent."""
        t = self.table  # plain arrays: pandas masks cost ~0.2 ms a call, and summary() makes 100
        hit = np.flatnonzero(
            (t["group"].to_numpy() == group)
            & (t["leg"].to_numpy() == leg)
            & (t["window"].to_numpy() == window)
        )
        return float(t[column].to_numpy()[hit[0]]) if len(hit) else float("nan")

    @property
    def focus_small_mean(self) -> float:
        """Mean small-leg return over the focus window across the focus events (NaN if none)."""
        if self.focus is None or self.focus.empty:
            return float("nan")
        return float(self.focus["small"].mean()) if "small" in self.focus else float("nan")

    def summary(self) -> str:
        """How many events, what small caps and small-minus-large did, the placebo, the claim."""
        if self.n_events == 0:
            return f"No event falls inside the returns ({iso(self.span[0])}..{iso(self.span[1])})."
        years = ", ".join(f"{d:%Y-%m-%d}" for d in self.by_event.index)
        main = (
            self.focus_window
            if self.focus_window in self.windows
            else self.windows[min(1, len(self.windows) - 1)]
        )
        lines = [
            f"{self.n_events} events with data ({years}) in {self.unit} "
            f"{iso(self.span[0])}..{iso(self.span[1])}. So few events: read the numbers as a "
            "handful of episodes, not a statistical law."
        ]
        for leg in LEGS:
            m = self.stat(leg, main)
            if np.isnan(m):
                continue
            lines.append(
                f"{leg.replace('_', ' ')} {main}: mean {m:+.1%} (median "
                f"{self.stat(leg, main, column='median'):+.1%}, {self.conf:.0%} bootstrap CI "
                f"{_pct(self.stat(leg, main, column='ci_low'))} to "
                f"{_pct(self.stat(leg, main, column='ci_high'))}, up in "
                f"{self.stat(leg, main, column='share_up'):.0%}); placebo percentile "
                f"{self.stat(leg, main, column='placebo_percentile'):.0%} of "
                f"{self.placebo_draws} random-date means"
            )
        groups = [g for g in self.table["group"].unique() if g != "all"]
        has_small = "small" in set(self.table["leg"])
        for g in groups:
            n = int(self.stat(SML, main, g, "n"))
            text = f"{g} (n={n}), {main}: "
            if has_small:
                text += f"small mean {_pct(self.stat('small', main, g))}, "
            lines.append(text + f"small minus large mean {_pct(self.stat(SML, main, g))}")
        lines.extend(self._claim_lines(self.focus_window or main))
        if len(self.not_covered):
            lines.append(
                f"Not covered ({len(self.not_covered)}): "
                + "; ".join(f"{d:%Y-%m-%d} ({why})" for d, why in self.not_covered.values)
            )
        if self.legs_note:
            lines.append(f"Legs: {self.legs_note}.")
        return "\n".join([*lines, *self.notes])

    def _claim_lines(self, main: str) -> list[str]:
        if self.focus is None:
            return []
        if self.focus.empty:
            return ["No first cut of the focus years has data at this frequency."]
        leg = "small" if "small" in self.focus else SML
        each = "; ".join(f"{d:%Y-%m-%d} {v:+.1%}" for d, v in self.focus[leg].items())
        text = f"Focus events, {leg.replace('_', ' ')} over {main}: {each}"
        if self.claim_range is not None and leg == "small":
            lo, hi = self.claim_range
            inside = self.focus[leg].between(lo, hi)
            verdict = (
                "the data agree with the claim"
                if inside.all()
                else "the data do NOT support the claim"
                if inside.mean() < 0.5
                else "the data only partly support the claim"
            )
            text += (
                f". Claimed {lo:+.0%} to {hi:+.0%}: {int(inside.sum())} of {len(inside)} inside; "
                f"{verdict}."
            )
        return [text]

    def to_frame(self) -> pd.DataFrame:
        """The statistics table."""
        return self.table

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: table, per-event returns, coverage, focus, parameters, method."""
        return jsonready(
            {
                "n_events": self.n_events,
                "unit": self.unit,
                "anchor": self.anchor,
                "span": list(self.span),
                "windows": list(self.windows),
                "conf": self.conf,
                "reps": self.reps,
                "placebo_draws": self.placebo_draws,
                "exclude": self.exclude,
                "table": self.table,
                "by_event": self.by_event,
                "not_covered": self.not_covered,
                "focus_window": self.focus_window,
                "focus": self.focus,
                "focus_small_mean": self.focus_small_mean,
                "claim_range": list(self.claim_range) if self.claim_range else None,
                "legs": self.legs_note,
                "notes": list(self.notes),
                "method": self.method,
                "summary": self.summary(),
            }
        )


def _pct(x: float) -> str:
    return "n/a" if np.isnan(x) else f"{x:+.1%}"


def coverage(
    index: pd.DatetimeIndex, dates: pd.DatetimeIndex, anchor: str = "before"
) -> tuple[np.ndarray, np.ndarray, list[tuple[pd.Timestamp, str]]]:
    """Which events the returns cover: a mask, each event's anchor position, and the reasons.

    An event is covered when its anchor lies in ``index``, the event is not after the last
    return, and a return lies within three median spacings (plus a week) before it.
    """
    idx = pd.DatetimeIndex(index)
    pos_all = anchor_positions(idx, dates, anchor)
    spacing = float(np.median(np.diff(idx.values).astype("timedelta64[D]").astype(float)))
    max_gap = pd.Timedelta(days=3 * spacing + 7)
    covered, reasons = [], []
    for d, p in zip(dates, pos_all, strict=True):
        if p < 0:
            reasons.append((d, f"before the returns start ({iso(idx[0])})"))
        elif d > idx[-1]:
            reasons.append((d, f"after the returns end ({iso(idx[-1])})"))
        elif abs(d - idx[p]) > max_gap:
            reasons.append((d, f"no return in the {max_gap.days} days before it"))
        else:
            covered.append(True)
            continue
        covered.append(False)
    return np.asarray(covered, dtype=bool), pos_all, reasons


def event_study(
    returns: pd.DataFrame,
    events: pd.DataFrame,
    *,
    windows: Sequence[Window] = DAILY_WINDOWS,
    unit: str = "trading days",
    anchor: str = "before",
    conf: float = 0.90,
    reps: int = 2000,
    placebo_draws: int = 2000,
    exclude: int = 21,
    focus_years: Sequence[tuple[int, int]] = (),
    focus_window: Window | None = None,
    claim_range: tuple[float, float] | None = None,
    legs_note: str = "",
    seed: int | None = 0,
) -> EventStudy:
    """Event study of small, large and small-minus-large returns.

    Parameters
    ----------
    returns : DataFrame
        Simple returns with columns among ``small``, ``large``, ``small_minus_large`` (a spread
        series such as French ``SMB``); with ``small`` and ``large`` and no spread column, the
        spread is the difference of their window returns.
    events : DataFrame
        Index: event dates (announcement days); column ``group`` (e.g. ``soft landing``); other
        columns are carried into :attr:`EventStudy.by_event`.
    windows : sequence of (a, b), default DAILY_WINDOWS
        Periods relative to the anchor (see the module docstring).
    unit : str, default "trading days"
        What a period is, for the summary.
    anchor : {"before", "nearest"}, default "before"
        Period 0: the last period ending before the event, or the period end nearest to it
        (:func:`anchor_positions`; "nearest" suits monthly data).
    conf : float, default 0.90
        Coverage of the bootstrap interval.
    reps : int, default 2000
        Bootstrap replications (``arch`` IIDBootstrap, percentile method).
    placebo_draws : int, default 2000
        Random sets of non-event anchors.
    exclude : int, default 21
        Placebo anchors lie more than this many periods from every event anchor.
    focus_years : sequence of (first, last) years
        Events announced in these years are listed in :attr:`EventStudy.focus`.
    focus_window : (a, b), optional
        The window for the focus table and the summary's headline; default the first window
        starting at 0.
    claim_range : (low, high), optional
        A claimed range for the small leg over ``focus_window``; the summary says how many focus
        events fall inside.
    legs_note : str
        What the legs are (series and splices), kept in the result.
    seed : int, optional
        Seeds the bootstrap and the placebo draws.

    Raises
    ------
    InsufficientDataError
        Missing returns inside the data, or fewer than 2 periods.
    """
    r = _check_returns(returns)
    cols = [c for c in LEGS if c in r.columns]
    if not cols or len(cols) != len(r.columns):
        raise ValueError(f"returns columns must be among {LEGS}, got {list(r.columns)}")
    if len(r) < 2:
        raise InsufficientDataError(
            f"event_study needs at least 2 periods of returns, got {len(r)}"
        )
    if "group" not in events.columns:
        raise ValueError("events need a 'group' column (use 'all' when there is one group)")
    derive = "small" in cols and "large" in cols and SML not in cols
    legs = [*cols, SML] if derive else cols
    windows = tuple(windows)
    labels = tuple(window_label(w) for w in windows)
    if focus_window is None:
        focus_window = next((w for w in windows if w[0] == 0 and w[1] > 0), windows[0])
    rng = np.random.default_rng(seed)

    ev = events.sort_index()
    dates = pd.DatetimeIndex(ev.index)
    idx = r.index
    mask, pos_all, reasons = coverage(idx, dates, anchor)
    ev_c, pos = ev[mask], pos_all[mask]
    logl = _log_levels(r[cols])

    vals = np.full((len(pos), len(windows), len(legs)), np.nan)
    for k, w in enumerate(windows):
        v = _window_values(logl, pos, w)
        vals[:, k, : len(cols)] = v
        if derive:
            vals[:, k, -1] = v[:, cols.index("small")] - v[:, cols.index("large")]

    by_event = ev_c.copy()
    by_event.insert(0, "anchor", idx[pos] if len(pos) else pd.DatetimeIndex([]))
    for k, lab in enumerate(labels):
        for j, leg in enumerate(legs):
            by_event[f"{leg} {lab}"] = vals[:, k, j]
    by_event.index.name = "date"

    # placebo pools: every anchor position except those near an event (covered or not)
    n = len(r)
    all_pos = np.arange(-1, n)
    event_pos = pos_all[(pos_all >= -1)]
    near = np.zeros(all_pos.shape, dtype=bool)
    for p in event_pos:
        near |= np.abs(all_pos - p) <= exclude
    free = all_pos[~near]

    groups = ["all", *sorted(pd.unique(ev_c["group"].astype(str)))]
    rows = []
    for g in groups:
        in_g = (
            np.ones(len(ev_c), bool) if g == "all" else (ev_c["group"].astype(str) == g).to_numpy()
        )
        for k, w in enumerate(windows):
            v = vals[in_g, k, :]
            v = v[~np.isnan(v).any(axis=1)]
            m = len(v)
            stats = _describe(v, legs)
            ci = _bootstrap(v, conf=conf, reps=reps, rng=rng)
            plc = _placebo(logl, free, w, m, placebo_draws, rng, derive, cols)
            for j, leg in enumerate(legs):
                actual = stats["mean"][j]
                row = {"group": g, "leg": leg, "window": labels[k], "n": m}
                row |= {key: stats[key][j] for key in ("mean", "median", "share_up")}
                row |= {"ci_low": ci[0, j], "ci_high": ci[1, j]}
                if plc is None or np.isnan(actual):
                    row |= dict.fromkeys(
                        ("placebo_mean", "placebo_p05", "placebo_p95", "placebo_percentile"),
                        np.nan,
                    )
                else:
                    pj = plc[:, j]
                    row |= {
                        "placebo_mean": float(pj.mean()),
                        "placebo_p05": float(np.quantile(pj, 0.05)),
                        "placebo_p95": float(np.quantile(pj, 0.95)),
                        "placebo_percentile": float(np.mean(pj <= actual)),
                    }
                rows.append(row)
    table = pd.DataFrame(rows)

    focus = None
    if focus_years:
        years = by_event.index.year
        pick = np.zeros(len(by_event), bool)
        for lo, hi in focus_years:
            pick |= (years >= lo) & (years <= hi)
        fl = window_label(focus_window)
        cols_f = {leg: f"{leg} {fl}" for leg in legs if f"{leg} {fl}" in by_event}
        if not cols_f:  # the focus window is not among the windows: compute it
            extra = _window_values(logl, pos, focus_window)
            data = {c: extra[:, j] for j, c in enumerate(cols)}
            if derive:
                data[SML] = data["small"] - data["large"]
            fr = pd.DataFrame(data, index=by_event.index)
        else:
            fr = by_event[list(cols_f.values())].set_axis(list(cols_f), axis=1)
        focus = fr[pick].assign(group=by_event.loc[pick, "group"])

    notes = []
    if len(ev_c) < 10:
        notes.append(f"only {len(ev_c)} events: bootstrap intervals under-cover at this size")
    return EventStudy(
        table=table,
        by_event=by_event,
        not_covered=pd.DataFrame(reasons, columns=["date", "reason"]),
        windows=labels,
        unit=unit,
        anchor=anchor,
        span=(idx[0], idx[-1]),
        conf=conf,
        reps=reps,
        placebo_draws=placebo_draws,
        exclude=exclude,
        focus=focus,
        focus_window=window_label(focus_window),
        claim_range=(
            (float(claim_range[0]), float(claim_range[1])) if claim_range is not None else None
        ),
        legs_note=legs_note,
        notes=tuple(notes),
    )


def _describe(v: np.ndarray, legs: Sequence[str]) -> dict[str, np.ndarray]:
    if len(v) == 0:
        nan = np.full(len(legs), np.nan)
        return {"mean": nan, "median": nan, "share_up": nan}
    return {"mean": v.mean(axis=0), "median": np.median(v, axis=0), "share_up": (v > 0).mean(0)}


def _bootstrap(v: np.ndarray, *, conf: float, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Percentile interval of the column means; NaN with fewer than 3 events or no variation."""
    if len(v) < 3 or reps < 1 or not (np.ptp(v, axis=0) > 0).any():
        return np.full((2, v.shape[1]), np.nan)
    from arch.bootstrap import IIDBootstrap  # arch imports in ~0.9 s: only when bootstrapping

    bs = IIDBootstrap(v, seed=rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = bs.conf_int(lambda x: x.mean(axis=0), reps=reps, method="percentile", size=conf)
    return np.asarray(ci, dtype=float)


def _placebo(
    logl: np.ndarray,
    free: np.ndarray,
    window: Window,
    m: int,
    draws: int,
    rng: np.random.Generator,
    derive: bool,
    cols: Sequence[str],
) -> np.ndarray | None:
    """``draws`` x legs matrix of means over ``m`` random anchors with a complete window."""
    if m == 0 or draws < 1:
        return None
    a, b = window
    n = logl.shape[0] - 1
    pool = free[(free + a + 1 >= 0) & (free + b + 1 <= n) & (free >= 0)]
    if len(pool) == 0:
        return None
    picks = rng.choice(pool, size=(draws, m), replace=True)
    v = _window_values(logl, picks, window)  # draws x m x cols
    means = v.mean(axis=1)
    if derive:
        means = np.column_stack(
            [means, means[:, cols.index("small")] - means[:, cols.index("large")]]
        )
    return means
