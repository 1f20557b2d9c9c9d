"""Fed pillar: the target path, easing cycles, and small caps around first cuts.

``fed.path``, ``fed.cycles``, ``fed.event_study`` and ``fed.event_paths`` read every input
through ``view.series`` (so an as-of view decides what was known) and hand plain series to
:mod:`smallcaps.analytics.fed` and :mod:`smallcaps.analytics.event_study`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from smallcaps import publishers
from smallcaps.analytics import event_study as es
from smallcaps.analytics import fed
from smallcaps.analytics.event_paths import EventPaths
from smallcaps.analytics.event_paths import event_paths as paths_around
from smallcaps.errors import InsufficientDataError, UnknownSeriesError
from smallcaps.measures.size import LARGE as LARGE_MONTHLY
from smallcaps.measures.size import SMALL as SMALL_MONTHLY
from smallcaps.registry import View, register

#: FRED: the target rate (to 2008-12-15), its range since, the monthly effective rate before 1982
FED_TARGET, FED_UPPER, FED_LOWER, FED_FUNDS = "DFEDTAR", "DFEDTARU", "DFEDTARL", "FEDFUNDS"
SMALL_DAILY = ("price/^RUT/adj_close", "price/IWM/adj_close")
LARGE_DAILY = ("price/^GSPC/adj_close", "price/SPY/adj_close")
SMB_DAILY = publishers.series_id("french", "F-F_Research_Data_Factors_daily", "daily", "SMB")
DAILY_WINDOWS = ("-21:0", "0:21", "0:63", "0:126", "0:252")
MONTHLY_WINDOWS = ("-1:0", "0:1", "0:3", "0:6", "0:12")
FREQUENCIES = ("daily", "monthly", "smb_daily")


# ---- reading through the view ------------------------------------------------------------------


def optional(view: View, series_id: str) -> pd.Series | None:
    """The series, or None when it is not stored or has nothing public by ``view.as_of``."""
    if not series_id or not view.has(series_id):
        return None
    try:
        s = view.series(series_id)
    except (InsufficientDataError, UnknownSeriesError):
        return None
    return s if len(s.dropna()) else None


def ids(value: str | Sequence[str]) -> tuple[str, ...]:
    """A parameter holding one series id or several."""
    return (value,) if isinstance(value, str) else tuple(value)


def levels(view: View, series_ids: Sequence[str], what: str) -> tuple[pd.Series, str]:
    """Spliced price level from the ids available (priority order) and a note on the splice."""
    found = [(sid, s) for sid in series_ids if (s := optional(view, sid)) is not None]
    if not found:
        raise InsufficientDataError(
            f"no {what} prices: none of {list(series_ids)} has data"
            + (f" as of {view.as_of:%Y-%m-%d}" if view.as_of is not None else "")
            + "; fetch one (smallcaps fetch yahoo:IWM) or pass another id"
        )
    note = " then ".join(
        f"{sid} ({s.dropna().index[0]:%Y-%m-%d}..{s.dropna().index[-1]:%Y-%m-%d})"
        for sid, s in found
    )
    return es.spliced_levels([s for _, s in found]), note


def _dates(s: pd.Series | None) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([]) if s is None else pd.DatetimeIndex(s.dropna().index)


def _path(view: View, target: str, upper: str, lower: str, fallback: str) -> pd.DataFrame:
    return fed.target_path(
        optional(view, target),
        optional(view, upper),
        optional(view, lower),
        fallback=optional(view, fallback),
    )


def _cycles(
    view: View,
    *,
    target: str,
    upper: str,
    lower: str,
    peaks: str,
    troughs: str,
    pause_days: int,
    min_hike: float,
    min_cut: float,
    horizon_months: int,
    nber_lag_months: int,
    next_day_since: str,
) -> fed.EasingCycles:
    path = _path(view, target, upper, lower, "")
    changes = fed.target_changes(path, next_day_since=next_day_since)
    end = path.index[-1]
    as_of = view.as_of if view.as_of is not None else end
    return fed.fed_cycles(
        changes,
        _dates(optional(view, peaks)),
        _dates(optional(view, troughs)),
        as_of=pd.Timestamp(as_of),
        pause_days=pause_days,
        min_hike=min_hike,
        min_cut=min_cut,
        horizon_months=horizon_months,
        lag_months=nber_lag_months,
        end=end,
    )


#: parameters every first-cut measurement passes on to :func:`_cycles` (fed.cycles' names)
CYCLE_PARAMS = ("target", "upper", "lower", "peaks", "troughs", "pause_days", "min_hike",
                "min_cut", "horizon_months", "nber_lag_months", "next_day_since")  # fmt: skip


def _cycle_args(given: Mapping[str, Any]) -> dict[str, Any]:
    """The cycle parameters among a measurement's arguments (``locals()`` of its runner)."""
    return {k: given[k] for k in CYCLE_PARAMS}


def _events(cycles: fed.EasingCycles) -> pd.DataFrame:
    """First cuts as events: outcome group, effective date, trigger, depth; by announcement."""
    cyc = cycles.cycles
    return pd.DataFrame(
        {
            "group": cyc["outcome"].to_numpy(),
            "effective": cyc["first_cut"].to_numpy(),
            "trigger": cyc["trigger"].to_numpy(),
            "depth": cyc["depth"].to_numpy(),
        },
        index=pd.DatetimeIndex(cyc["announced"], name="announced"),
    )


# ---- measurements -----------------------------------------------------------------------------


@register(
    "fed.path",
    description=(
        "Federal funds target (DFEDTAR, then the DFEDTARL/DFEDTARU range; FEDFUNDS monthly before "
        "1982 as a flagged fallback) and every change with its effective and announcement date; "
        "checks the FOMC meeting list."
    ),
)
def path(
    view: View,
    *,
    target: str = FED_TARGET,
    upper: str = FED_UPPER,
    lower: str = FED_LOWER,
    fallback: str = FED_FUNDS,
    meetings: str = "events/fomc/meeting",
    next_day_since: str = "2017-03-16",
) -> fed.FedPath:
    """The target path and its changes.

    Parameters
    ----------
    view : View
    target, upper, lower : str
        Point target and range series ids.
    fallback : str
        Monthly rate used before the first target date (empty string: none).
    meetings : str
        A list of FOMC statement dates to check (empty string: no check).
    next_day_since : str
        First effective date that follows its announcement by a day.
    """
    p = _path(view, target, upper, lower, fallback)
    changes = fed.target_changes(p, next_day_since=next_day_since)
    listed = optional(view, meetings)
    check = None
    if listed is not None:
        check = fed.check_meetings(_dates(listed), changes)
        changes = changes.join(check.status, on="announced")
    return fed.FedPath(p, changes, check)


@register(
    "fed.cycles",
    description=(
        "Easing cycles: first cut (after net hikes or a long pause), depth, number of cuts, "
        "length, and soft landing or recession from NBER dates announced by the as-of date."
    ),
)
def cycles(
    view: View,
    *,
    pause_days: int = 180,
    min_hike: float = 0.25,
    min_cut: float = 0.25,
    horizon_months: int = 12,
    nber_lag_months: int = 12,
    target: str = FED_TARGET,
    upper: str = FED_UPPER,
    lower: str = FED_LOWER,
    peaks: str = "events/nber/peak",
    troughs: str = "events/nber/trough",
    next_day_since: str = "2017-03-16",
) -> fed.EasingCycles:
    """Easing cycles and their outcomes (see :func:`smallcaps.analytics.fed.easing_cycles`)."""
    return _cycles(view, **_cycle_args(locals()))


@register(
    "fed.event_study",
    description=(
        "Small, large and small-minus-large returns around each first cut's announcement "
        "(daily: Russell 2000 vs S&P 500; monthly: French size quintiles back to 1926; "
        "smb_daily: French daily SMB), by soft landing vs recession, with bootstrap intervals "
        "and a random-date placebo; optionally lists the first cuts of chosen years against a "
        "claimed range."
    ),
)
def event_study(
    view: View,
    *,
    frequency: str = "daily",
    small: tuple[str, ...] = SMALL_DAILY,
    large: tuple[str, ...] = LARGE_DAILY,
    windows: tuple[str, ...] = DAILY_WINDOWS,
    monthly_small: str = SMALL_MONTHLY,
    monthly_large: str = LARGE_MONTHLY,
    monthly_windows: tuple[str, ...] = MONTHLY_WINDOWS,
    monthly_anchor: str = "nearest",
    smb: str = SMB_DAILY,
    conf: float = 0.90,
    reps: int = 2000,
    placebo_draws: int = 2000,
    exclude: int = 21,
    seed: int = 0,
    focus: tuple[str, ...] = (),
    claim_low: float | None = None,
    claim_high: float | None = None,
    pause_days: int = 180,
    min_hike: float = 0.25,
    min_cut: float = 0.25,
    horizon_months: int = 12,
    nber_lag_months: int = 12,
    target: str = FED_TARGET,
    upper: str = FED_UPPER,
    lower: str = FED_LOWER,
    peaks: str = "events/nber/peak",
    troughs: str = "events/nber/trough",
    next_day_since: str = "2017-03-16",
) -> es.EventStudy:
    """Event study around first cuts, anchored on announcement dates.

    Parameters
    ----------
    frequency : {"daily", "monthly", "smb_daily"}
        ``daily``: ``small``/``large`` price ids, spliced in order (Russell 2000 index from
        1987-09, then IWM; S&P 500 index to 2019-06, then SPY), windows in trading days.
        ``monthly``: French value-weighted size quintiles (``monthly_small``/``monthly_large``),
        windows in months, anchored at the nearest month end. ``smb_daily``: the French daily
        SMB factor as the small-minus-large leg, back to 1926.
    exclude : int
        Placebo anchors lie more than this many trading days from any first cut (monthly:
        ``exclude // 21`` months, at least 1).
    focus, claim_low, claim_high : optional
        Years (``"YYYY-YYYY"``) whose first cuts are listed (``focus`` in the result), and a
        claimed small-cap return range over the first window starting at 0 that the summary
        checks them against (none by default).
    Other parameters are those of ``fed.cycles``.
    """
    if frequency not in FREQUENCIES:
        raise ValueError(f"frequency must be one of {FREQUENCIES}, not {frequency!r}")
    cyc = _cycles(view, **_cycle_args(locals()))
    events = _events(cyc)
    anchor, unit, ex = "before", "trading days", exclude
    if frequency == "daily":
        s, s_note = levels(view, ids(small), "small-cap")
        lg, l_note = levels(view, ids(large), "large-cap")
        returns = es.leg_returns(s, lg)
        win = windows
        note = f"small: {s_note}; large: {l_note} (price indices; ETFs include dividends)"
    elif frequency == "monthly":
        returns = pd.concat(
            {"small": view.series(monthly_small), "large": view.series(monthly_large)},
            axis=1,
            join="inner",
        ).dropna()
        win, anchor, unit, ex = monthly_windows, monthly_anchor, "months", max(1, exclude // 21)
        note = f"small: {monthly_small}; large: {monthly_large} (monthly total returns)"
    else:
        returns = view.series(smb).dropna().to_frame(es.SML)
        win = windows
        note = f"small minus large: {smb} (daily Fama-French SMB, a long-short factor)"
    years = []
    for span in focus:
        first, _, last = span.partition("-")
        years.append((int(first), int(last or first)))
    result = es.event_study(
        returns,
        events,
        windows=es.parse_windows(win),
        unit=unit,
        anchor=anchor,
        conf=conf,
        reps=reps,
        placebo_draws=placebo_draws,
        exclude=ex,
        focus_years=years,
        claim_range=(
            (claim_low, claim_high) if claim_low is not None and claim_high is not None else None
        ),
        legs_note=note,
        seed=seed,
    )
    missed = result.not_covered["date"]
    missed = [d for d in missed if any(lo <= d.year <= hi for lo, hi in years)]
    if missed:
        hint = (
            "First cuts of the focus years outside this data ("
            + ", ".join(f"{d:%Y-%m-%d}" for d in missed)
            + "): run with frequency=monthly (French size portfolios from 1926) or smb_daily."
        )
        result = replace(result, notes=(*result.notes, hint))
    return result


@register(
    "fed.event_paths",
    description=(
        "Daily small-minus-large paths from 21 trading days before to 252 after each first cut "
        "(the last close before the announcement = 0), their mean, an IID bootstrap interval "
        "of the mean and a placebo band of random non-event anchors."
    ),
)
def event_paths(
    view: View,
    *,
    small: tuple[str, ...] = SMALL_DAILY,
    large: tuple[str, ...] = LARGE_DAILY,
    before: int = 21,
    after: int = 252,
    conf: float = 0.90,
    reps: int = 1000,
    draws: int = 1000,
    exclude: int = 21,
    seed: int = 0,
    pause_days: int = 180,
    min_hike: float = 0.25,
    min_cut: float = 0.25,
    horizon_months: int = 12,
    nber_lag_months: int = 12,
    target: str = "DFEDTAR",
    upper: str = "DFEDTARU",
    lower: str = "DFEDTARL",
    peaks: str = "events/nber/peak",
    troughs: str = "events/nber/trough",
    next_day_since: str = "2017-03-16",
) -> EventPaths:
    """Paths of small minus large around the first cuts the daily returns cover.

    The events are ``fed.event_study``'s (same cycle parameters); see
    :func:`smallcaps.analytics.event_paths.event_paths` for the bands.
    """
    cyc = _cycles(view, **_cycle_args(locals()))
    events = _events(cyc).sort_index()
    s, _ = levels(view, ids(small), "small-cap")
    lg, _ = levels(view, ids(large), "large-cap")
    returns = es.leg_returns(s, lg)
    covered, _, _ = es.coverage(pd.DatetimeIndex(returns.index), pd.DatetimeIndex(events.index))
    return paths_around(
        returns, events["group"][covered], before=before, after=after, conf=conf, reps=reps,
        draws=draws, exclude=exclude, seed=seed,
    )  # fmt: skip
