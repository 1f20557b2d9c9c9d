"""The federal funds target, its changes, easing cycles and how each cycle ended.

Three layers, each a pure function of series in and a frame or a typed result out:

* :func:`target_path` joins FRED's point target ``DFEDTAR`` (1982-09-27 to 2008-12-15) and the
  target range ``DFEDTARL``/``DFEDTARU`` (from 2008-12-16) into one daily path; the monthly
  effective rate ``FEDFUNDS`` may fill the months before the first target as a flagged fallback
  (a monthly average of a market rate, not a target, so it never yields "changes").
* :func:`target_changes` lists every change with both of its dates: FRED's *effective* date and
  the FOMC's *announcement* date (:func:`announcement_dates`). They differ since March 2017,
  when changes began to take effect the day after the statement (FRED has the 2019 and 2024
  first cuts on 2019-08-01 and 2024-09-19; they were announced on 2019-07-31 and 2024-09-18).
  Before February 1994 the FOMC did not announce changes at all: the effective date is all
  there is. Markets move on the announcement, so event studies anchor on it.
* :func:`easing_cycles` finds first cuts (a cut after net tightening, or after a long pause) and
  the cycles they open; :func:`cycle_outcomes` labels each soft landing or recession from NBER
  turning points, using only those NBER had announced by the as-of date
  (:data:`NBER_ANNOUNCEMENTS`).

A third party's list of FOMC meeting dates is checked, not trusted: :func:`check_meetings`.
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

#: First change whose effective date is the day after its announcement (FRED shows the
#: 2016-12-14 hike on the day of the statement and the 2017-03-15 hike on 2017-03-16).
NEXT_DAY_SINCE = pd.Timestamp("2017-03-16")
#: The first target change the FOMC announced the day it decided it.
FIRST_ANNOUNCED = pd.Timestamp("1994-02-04")

#: Unscheduled (intermeeting) target changes since 1994, by announcement date. Federal Reserve
#: press releases; 2020-03-15 was a Sunday. Used to label moves and to check meeting lists.
UNSCHEDULED: frozenset[pd.Timestamp] = frozenset(
    pd.Timestamp(d)
    for d in (
        "1994-04-18",
        "1998-10-15",
        "2001-01-03",
        "2001-04-18",
        "2001-09-17",
        "2008-01-22",
        "2008-10-08",
        "2020-03-03",
        "2020-03-15",
    )
)

#: When NBER's Business Cycle Dating Committee announced each turning point since 1980:
#: ``(kind, "YYYY-MM") -> announcement date``. From NBER's announcement releases; all but the
#: 1980 peak (2001-11-26 given by the project brief; 1980-06-03 from NBER's published table)
#: were re-read in NBER press releases while writing this. Turning points not listed are taken
#: as announced :data:`NBER_FALLBACK_LAG_MONTHS` after the end of their month (flagged).
NBER_ANNOUNCEMENTS: Mapping[tuple[str, str], pd.Timestamp] = {
    ("peak", "1980-01"): pd.Timestamp("1980-06-03"),
    ("trough", "1980-07"): pd.Timestamp("1981-07-08"),
    ("peak", "1981-07"): pd.Timestamp("1982-01-06"),
    ("trough", "1982-11"): pd.Timestamp("1983-07-08"),
    ("peak", "1990-07"): pd.Timestamp("1991-04-25"),
    ("trough", "1991-03"): pd.Timestamp("1992-12-22"),
    ("peak", "2001-03"): pd.Timestamp("2001-11-26"),
    ("trough", "2001-11"): pd.Timestamp("2003-07-17"),
    ("peak", "2007-12"): pd.Timestamp("2008-12-01"),
    ("trough", "2009-06"): pd.Timestamp("2010-09-20"),
    ("peak", "2020-02"): pd.Timestamp("2020-06-08"),
    ("trough", "2020-04"): pd.Timestamp("2021-07-19"),
}
NBER_FALLBACK_LAG_MONTHS = 12

_TOL = 1e-9  # target levels are multiples of 1/16 pp; compare with a tolerance
_FALLBACK = "FEDFUNDS"


# ---- the path and its changes ---------------------------------------------------------------


def target_path(
    point: pd.Series | None,
    upper: pd.Series | None = None,
    lower: pd.Series | None = None,
    *,
    fallback: pd.Series | None = None,
) -> pd.DataFrame:
    """The federal funds target as one path, in percent.

    Parameters
    ----------
    point : Series or None
        ``DFEDTAR``, the point target (daily, to 2008-12-15).
    upper, lower : Series or None
        ``DFEDTARU`` and ``DFEDTARL``, the target range (daily, from 2008-12-16). Where the
        range exists it replaces the point target.
    fallback : Series, optional
        ``FEDFUNDS`` (monthly average effective rate, period-start stamps); only its rows before
        the first target date are kept, with ``source = "FEDFUNDS"``.

    Returns
    -------
    DataFrame
        Index ``date``; columns ``lower``, ``upper``, ``target`` (the point target, or the upper
        limit of the range) and ``source`` (``DFEDTAR``, ``DFEDTARU/DFEDTARL`` or ``FEDFUNDS``).

    Raises
    ------
    InsufficientDataError
        Neither a point target nor a range has any value.
    """
    parts = []
    rng = pd.DataFrame()
    if upper is not None and lower is not None:
        rng = pd.concat({"lower": lower, "upper": upper}, axis=1, join="inner").dropna()
    if point is not None:
        p = point.dropna()
        if len(rng):
            p = p[p.index < rng.index[0]]
        parts.append(pd.DataFrame({"lower": p, "upper": p, "source": "DFEDTAR"}))
    if len(rng):
        parts.append(rng.assign(source="DFEDTARU/DFEDTARL"))
    parts = [x for x in parts if len(x)]
    if not parts:
        raise InsufficientDataError(
            "no federal funds target: DFEDTAR, DFEDTARU and DFEDTARL have no values here; "
            "fetch them (smallcaps fetch DFEDTAR DFEDTARU DFEDTARL)"
        )
    path = pd.concat(parts).sort_index()
    if fallback is not None:
        fb = fallback.dropna()
        fb = fb[fb.index < path.index[0]]
        if len(fb):
            path = pd.concat([pd.DataFrame({"lower": fb, "upper": fb, "source": _FALLBACK}), path])
    path.index = pd.DatetimeIndex(path.index, name="date")
    path["lower"] = path["lower"].astype(float)
    path["upper"] = path["upper"].astype(float)
    path["target"] = path["upper"]
    return path[["lower", "upper", "target", "source"]]


def announcement_dates(
    effective: pd.DatetimeIndex, *, next_day_since: pd.Timestamp | str = NEXT_DAY_SINCE
) -> pd.DataFrame:
    """The FOMC announcement date of each change, from FRED's effective date.

    Rule: since ``next_day_since`` a change takes effect the calendar day after the statement
    (Sunday 2020-03-15 -> Monday 2020-03-16 included); from 1994-02-04 it took effect the day
    it was announced; before that nothing was announced and the effective date is used.

    Returns
    -------
    DataFrame
        Index ``effective``; columns ``announced`` and ``basis`` (which rule applied).
    """
    eff = pd.DatetimeIndex(effective)
    since = pd.Timestamp(next_day_since)
    later = eff >= since
    announced = eff.where(~later, eff - pd.Timedelta(days=1))
    basis = np.where(
        later,
        "effective the day after the FOMC statement (practice since March 2017)",
        np.where(
            eff >= FIRST_ANNOUNCED,
            "effective the day it was announced",
            "not announced before 1994-02-04 (markets inferred it from open market "
            "operations): effective date",
        ),
    )
    return pd.DataFrame(
        {"announced": announced, "basis": basis}, index=pd.DatetimeIndex(eff, name="effective")
    )


def target_changes(
    path: pd.DataFrame, *, next_day_since: pd.Timestamp | str = NEXT_DAY_SINCE
) -> pd.DataFrame:
    """Every change of the target (the ``FEDFUNDS`` fallback rows are not targets and are skipped).

    Returns
    -------
    DataFrame
        One row per change, in date order: ``effective`` (FRED's date), ``announced`` (the
        FOMC statement), ``basis``, ``old``, ``new`` and ``change`` (target in percent and its
        change in percentage points; the upper limit for ranges), ``old_range``, ``new_range``,
        ``direction`` (``cut`` or ``hike``) and ``unscheduled`` (an intermeeting move listed in
        :data:`UNSCHEDULED`).
    """
    p = path[path["source"] != _FALLBACK]
    lo = p["lower"].to_numpy(dtype=float)
    hi = p["upper"].to_numpy(dtype=float)
    moved = np.r_[False, (np.abs(np.diff(lo)) > _TOL) | (np.abs(np.diff(hi)) > _TOL)]
    at = np.flatnonzero(moved)
    eff = pd.DatetimeIndex(p.index[at])
    ann = announcement_dates(eff, next_day_since=next_day_since)
    old, new = hi[at - 1], hi[at]
    out = pd.DataFrame(
        {
            "effective": eff,
            "announced": ann["announced"].to_numpy(),
            "basis": ann["basis"].to_numpy(),
            "old": old,
            "new": new,
            "change": new - old,
            "old_range": [_range(a, b) for a, b in zip(lo[at - 1], old, strict=True)],
            "new_range": [_range(a, b) for a, b in zip(lo[at], new, strict=True)],
        }
    )
    out["direction"] = np.where(out["change"] < 0, "cut", "hike")
    out["unscheduled"] = out["announced"].isin(list(UNSCHEDULED))
    return out


def _range(lo: float, hi: float) -> str:
    return f"{hi:g}" if abs(hi - lo) < _TOL else f"{lo:g}-{hi:g}"


# ---- meeting lists ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class MeetingCheck(Result):
    """What a list of FOMC meeting dates gets right and wrong against the target's changes.

    Attributes
    ----------
    issues : DataFrame
        ``date``, ``issue``: dates on a weekend or a Monday/Friday (statements come on Tuesday,
        Wednesday or, after elections, Thursday), years without the 8 scheduled meetings, target
        changes whose announcement is not listed (unscheduled moves or gaps).
    status : Series
        Per change (index: announcement date): ``listed``, ``not listed (unscheduled move)``,
        ``not listed`` or ``outside the list (start..end)``.
    start, end : Timestamp
        The list's span.
    """

    issues: pd.DataFrame
    status: pd.Series
    start: pd.Timestamp
    end: pd.Timestamp
    method: str = (
        "a change is 'listed' when its announcement date (rule of announcement_dates) is in the "
        "list; the list only cross-checks the rule, it never moves a date"
    )

    @property
    def confirmed(self) -> int:
        """Changes inside the list's span whose announcement date it lists."""
        return int((self.status == "listed").sum())

    @property
    def inside(self) -> int:
        """Changes inside the list's span."""
        return int((~self.status.str.startswith("outside")).sum())

    def summary(self) -> str:
        """One line: span, confirmed changes, issues."""
        return (
            f"meeting list {iso(self.start)}..{iso(self.end)}: {self.confirmed} of {self.inside} "
            f"target changes in its span listed on their announcement day; "
            f"{len(self.issues)} issues"
        )

    def to_frame(self) -> pd.DataFrame:
        """The issues found."""
        return self.issues

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return jsonready(
            {
                "start": self.start,
                "end": self.end,
                "confirmed": self.confirmed,
                "inside": self.inside,
                "issues": self.issues,
                "method": self.method,
            }
        )


def check_meetings(meetings: pd.DatetimeIndex, changes: pd.DataFrame) -> MeetingCheck:
    """Validate a third party's FOMC meeting dates against the target's changes.

    Parameters
    ----------
    meetings : DatetimeIndex
        Statement days as listed (e.g. ``events/fomc/meeting``).
    changes : DataFrame
        From :func:`target_changes`.
    """
    m = pd.DatetimeIndex(meetings).normalize().unique().sort_values()
    if m.empty:
        raise InsufficientDataError("check_meetings needs at least one meeting date")
    start, end = m[0], m[-1]
    issues: list[tuple[pd.Timestamp, str]] = []
    for d in m:
        if d in UNSCHEDULED:
            continue
        if d.day_of_week >= 5:
            issues.append((d, f"a {d:%A}: no scheduled FOMC statement falls on a weekend"))
        elif d.day_of_week in (0, 4):
            issues.append((d, f"a {d:%A}: scheduled statements come Tuesday to Thursday"))
    scheduled = pd.Series(1, index=m[~m.isin(list(UNSCHEDULED))])
    per_year = scheduled.groupby(scheduled.index.year).size()
    for year, n in per_year.items():
        whole = pd.Timestamp(f"{year}-01-31") >= start and pd.Timestamp(f"{year}-12-01") <= end
        if whole and n != 8:
            issues.append(
                (pd.Timestamp(f"{year}-12-31"), f"{n} dates listed in {year}; 8 scheduled")
            )
    status = {}
    for ann, unscheduled in zip(changes["announced"], changes["unscheduled"], strict=True):
        if ann < start or ann > end:
            status[ann] = f"outside the list ({iso(start)}..{iso(end)})"
        elif ann in m:
            status[ann] = "listed"
        elif unscheduled:
            status[ann] = "not listed (unscheduled move)"
            issues.append((ann, "unscheduled target change not listed"))
        else:
            status[ann] = "not listed"
            issues.append((ann, "target change announced on a day the list lacks"))
    frame = pd.DataFrame(issues, columns=["date", "issue"]).sort_values("date", ignore_index=True)
    return MeetingCheck(frame, pd.Series(status, name="meeting_list", dtype=str), start, end)


# ---- easing cycles ---------------------------------------------------------------------------


def easing_cycles(
    changes: pd.DataFrame,
    *,
    pause_days: int = 180,
    min_hike: float = 0.25,
    min_cut: float = 0.25,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """First cuts and the easing cycles they open.

    A cut of at least ``min_cut`` is a *first cut* when, before it, the target was raised by at
    least ``min_hike`` percentage points net since the previous cut of at least ``min_cut``
    (``trigger = "hike"``), or when no change happened for ``pause_days`` days (``trigger =
    "pause"``). Both tests look only backwards, so a first cut never depends on later changes.
    The first change in the data cannot be classified (its past is unknown) and is skipped. A
    cycle runs from a first cut through the last cut before net hikes of ``min_hike`` (any hike
    when 0) or the next first cut; smaller hikes in between and cuts smaller than ``min_cut``
    (the 1/16- and 1/8-point technical adjustments of the 1980s borrowed-reserves regime)
    neither end nor open a cycle.

    Parameters
    ----------
    changes : DataFrame
        From :func:`target_changes` (``effective``, ``announced``, ``old``, ``new``).
    pause_days : int, default 180
        A cut this many days or more after the previous change starts a new cycle.
    min_hike : float, default 0.25
        Net tightening (pp) since the previous cut that makes the next cut a first cut; 0 means
        any hike.
    min_cut : float, default 0.25
        Smallest cut (pp) that can open a cycle or serve as "the previous cut"; 0 means any cut.
    end : Timestamp, optional
        The last date the target is known (for ``ended_by = "ongoing"``); default: the last
        change.

    Returns
    -------
    DataFrame
        One row per cycle: ``first_cut`` (effective), ``announced``, ``trigger``, ``days_since_
        change``, ``target_before``, ``first_cut_size``, ``n_cuts``, ``last_cut``, ``target_
        after``, ``depth`` (pp, positive), ``length_days`` (first to last cut), ``ended_by``
        (``hike``, ``pause`` or ``ongoing``).
    """
    if pause_days < 1 or min_hike < 0 or min_cut < 0:
        raise ValueError("pause_days must be >= 1, min_hike and min_cut >= 0")
    c = changes.sort_values("effective", ignore_index=True)
    eff = pd.DatetimeIndex(c["effective"])
    ann = pd.DatetimeIndex(c["announced"]) if "announced" in c else eff
    olds, news = c["old"].to_numpy(dtype=float), c["new"].to_numpy(dtype=float)
    days = eff.values.astype("datetime64[D]").astype(np.int64)
    end = eff[-1] if end is None and len(eff) else end
    rows: list[dict[str, Any]] = []
    level_after_cut = 0.0  # target right after the latest cut of >= min_cut (or at data start)
    is_open = False  # whether later cuts still belong to the latest cycle
    for i in range(len(c)):
        old, new = olds[i], news[i]
        if i == 0:
            level_after_cut = min(old, new)
            continue
        if new >= old:
            tightening = new - level_after_cut
            if is_open and tightening > _TOL and tightening >= min_hike - _TOL:
                is_open = False
                rows[-1]["ended_by"] = "hike"
            continue
        gap = int(days[i] - days[i - 1])
        tightening = old - level_after_cut
        hiked = tightening > _TOL and tightening >= min_hike - _TOL
        big = old - new >= min_cut - _TOL
        if big and (hiked or gap >= pause_days):
            if is_open:
                rows[-1]["ended_by"] = "pause"
            rows.append(
                {
                    "first_cut": eff[i],
                    "announced": ann[i],
                    "trigger": "hike" if hiked else "pause",
                    "days_since_change": gap,
                    "target_before": old,
                    "first_cut_size": old - new,
                    "n_cuts": 1,
                    "last_cut": eff[i],
                    "target_after": new,
                    "ended_by": "ongoing",
                }
            )
            is_open = True
        elif is_open:
            rows[-1].update(n_cuts=rows[-1]["n_cuts"] + 1, last_cut=eff[i], target_after=new)
        if big:
            level_after_cut = new
    cols = [
        "first_cut", "announced", "trigger", "days_since_change", "target_before",
        "first_cut_size", "n_cuts", "last_cut", "target_after", "depth", "length_days",
        "ended_by",
    ]  # fmt: skip
    if not rows:
        empty = {
            k: pd.Series(dtype="datetime64[ns]") for k in ("first_cut", "announced", "last_cut")
        }
        return pd.DataFrame(empty).reindex(columns=cols)
    last = rows[-1]
    quiet = end is not None and (pd.Timestamp(end) - last["last_cut"]).days >= pause_days
    if last["ended_by"] == "ongoing" and quiet:
        last["ended_by"] = "pause"
    out = pd.DataFrame(rows)
    out["depth"] = out["target_before"] - out["target_after"]
    out["length_days"] = (out["last_cut"] - out["first_cut"]).dt.days
    return out[cols]


# ---- NBER outcomes ---------------------------------------------------------------------------


def nber_announcements(
    peaks: pd.DatetimeIndex,
    troughs: pd.DatetimeIndex,
    *,
    lag_months: int = NBER_FALLBACK_LAG_MONTHS,
) -> pd.DataFrame:
    """Turning points with the date NBER announced each.

    Returns
    -------
    DataFrame
        ``kind`` (peak, trough), ``month`` (first day of the turning-point month),
        ``announced`` and ``approximate`` (True when not in :data:`NBER_ANNOUNCEMENTS`: then
        ``lag_months`` after the month's end, which is how NBER's lag is usually summarised).
    """
    rows = []
    for kind, dates in (("peak", peaks), ("trough", troughs)):
        for d in pd.DatetimeIndex(dates):
            month = d.to_period("M")
            known = NBER_ANNOUNCEMENTS.get((kind, str(month)))
            fallback = (month + lag_months).to_timestamp(how="end").normalize()
            rows.append(
                {
                    "kind": kind,
                    "month": month.to_timestamp(),
                    "announced": known if known is not None else fallback,
                    "approximate": known is None,
                }
            )
    frame = pd.DataFrame(rows, columns=["kind", "month", "announced", "approximate"])
    return frame.sort_values(["month", "kind"], ignore_index=True)


def cycle_outcomes(
    first_cuts: pd.DatetimeIndex,
    peaks: pd.DatetimeIndex,
    troughs: pd.DatetimeIndex,
    *,
    as_of: pd.Timestamp,
    horizon_months: int = 12,
    lag_months: int = NBER_FALLBACK_LAG_MONTHS,
) -> pd.DataFrame:
    """Soft landing or recession after each first cut, as NBER's dates were known at ``as_of``.

    A first cut at ``c`` is a ``recession`` when a peak announced by ``as_of`` lies at or
    before ``c + horizon_months`` and ``c`` is not after the end of that recession's trough
    month (a trough not announced by ``as_of`` leaves the recession open); a ``soft landing``
    when no such peak is known and ``as_of`` is at least ``horizon_months + lag_months`` after
    ``c`` (time for NBER to have spoken); else ``pending``.

    Returns
    -------
    DataFrame
        Index: the first cuts; columns ``outcome``, ``peak`` (the peak month used, NaT if none)
        and ``peak_announced``.
    """
    tp = nber_announcements(peaks, troughs, lag_months=lag_months)
    known = tp[tp["announced"] <= as_of]
    kp = known[known["kind"] == "peak"]["month"].sort_values().to_numpy()
    kt = known[known["kind"] == "trough"]["month"].sort_values().to_numpy()
    ann = {
        (k, pd.Timestamp(m)): a for k, m, a in tp[["kind", "month", "announced"]].itertuples(False)
    }
    rows = []
    for c in pd.DatetimeIndex(first_cuts):
        horizon = c + pd.DateOffset(months=horizon_months)
        hit = None
        for p in kp:
            p = pd.Timestamp(p)
            if p > horizon:
                break
            after = kt[kt > p.to_datetime64()]
            trough_end = (
                pd.Timestamp(after[0]).to_period("M").to_timestamp(how="end")
                if len(after)
                else None
            )
            if trough_end is None or c <= trough_end:
                hit = p
                break
        if hit is not None:
            outcome = "recession"
        elif as_of >= horizon + pd.DateOffset(months=lag_months):
            outcome = "soft landing"
        else:
            outcome = "pending"
        rows.append(
            {
                "outcome": outcome,
                "peak": hit if hit is not None else pd.NaT,
                "peak_announced": ann[("peak", hit)] if hit is not None else pd.NaT,
            }
        )
    return pd.DataFrame(rows, index=pd.DatetimeIndex(first_cuts, name="first_cut"))


# ---- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class FedPath(Result):
    """The federal funds target and its changes.

    Attributes
    ----------
    path : DataFrame
        From :func:`target_path` (daily target; monthly ``FEDFUNDS`` rows before it, flagged).
    changes : DataFrame
        From :func:`target_changes`, plus ``meeting_list`` when a list was checked.
    meetings : MeetingCheck or None
        The check of the meeting list, if one was given.
    """

    path: pd.DataFrame
    changes: pd.DataFrame
    meetings: MeetingCheck | None = None
    method: str = (
        "target = DFEDTAR (point, 1982-09-27..2008-12-15), then the upper limit of DFEDTARL/"
        "DFEDTARU; FEDFUNDS monthly average before 1982-09-27 as a flagged fallback, never a "
        "change; a change is any move of the point or of either limit; 'effective' is FRED's "
        "date, 'announced' the FOMC statement (day before effective since 2017-03-16, same day "
        "1994-02-04..2017, unannounced before 1994)"
    )

    @property
    def current(self) -> pd.Series:
        """The last row of the path."""
        return self.path.iloc[-1]

    def summary(self) -> str:
        """Span, counts, the current target and the meeting-list check."""
        tgt = self.path[self.path["source"] != _FALLBACK]
        fb = self.path[self.path["source"] == _FALLBACK]
        cuts = int((self.changes["direction"] == "cut").sum())
        last = self.changes.iloc[-1] if len(self.changes) else None
        cur = self.current
        text = (
            f"Fed funds target {iso(tgt.index[0])}..{iso(tgt.index[-1])}: "
            f"{len(self.changes)} changes ({cuts} cuts, {len(self.changes) - cuts} hikes); "
            f"now {_range(cur['lower'], cur['upper'])}%"
        )
        if last is not None:
            text += (
                f" since {iso(last['effective'])} (announced {iso(last['announced'])}, "
                f"{last['change']:+.2f} pp)"
            )
        if len(fb):
            text += f". Before {iso(tgt.index[0])}: FEDFUNDS monthly average (not a target)"
        if self.meetings is not None:
            text += f". {self.meetings.summary()}"
        return text + "."

    def to_frame(self) -> pd.DataFrame:
        """Every change: effective and announced dates, old and new target."""
        return self.changes

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: changes, current target, span, the meeting check."""
        tgt = self.path[self.path["source"] != _FALLBACK]
        cur = self.current
        return jsonready(
            {
                "start": tgt.index[0],
                "end": tgt.index[-1],
                "fallback_start": self.path.index[0] if len(self.path) > len(tgt) else None,
                "current": {
                    "lower": cur["lower"],
                    "upper": cur["upper"],
                    "date": self.path.index[-1],
                },
                "changes": self.changes,
                "meetings": self.meetings.to_dict() if self.meetings is not None else None,
                "method": self.method,
                "summary": self.summary(),
            }
        )


@dataclass(frozen=True, slots=True, eq=False)
class EasingCycles(Result):
    """Easing cycles, each with its first cut and how the economy fared.

    Attributes
    ----------
    cycles : DataFrame
        :func:`easing_cycles` joined with :func:`cycle_outcomes` (``outcome``, ``peak``,
        ``peak_announced``).
    turning_points : DataFrame
        :func:`nber_announcements` with ``known`` (announced by ``as_of``).
    as_of : Timestamp
        The date the outcomes were judged at.
    pause_days, min_hike, min_cut, horizon_months, lag_months
        The parameters used.
    notes : tuple of str
        What a reader should know (unclassifiable first change, approximate NBER dates).
    """

    cycles: pd.DataFrame
    turning_points: pd.DataFrame
    as_of: pd.Timestamp
    pause_days: int
    min_hike: float
    min_cut: float
    horizon_months: int
    lag_months: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    method: str = (
        "first cut = a cut of >= min_cut pp after >= min_hike pp of net hikes since the previous "
        "such cut, or after pause_days without a change; a cycle runs to the last cut before "
        "the next first cut; depth = target before the first cut - target after the last cut "
        "(pp; range: upper limit); outcome = recession if an NBER peak announced by as_of lies "
        "no later than horizon_months after the first cut's announcement and the cut is not "
        "after that recession's trough, soft landing if none and horizon + NBER lag has passed, "
        "else pending"
    )

    def summary(self) -> str:
        """Counts by outcome and the list of first cuts."""
        c = self.cycles
        if c.empty:
            return (
                f"No easing cycle found (pause {self.pause_days} days, min hike {self.min_hike})."
            )
        counts = c["outcome"].value_counts()
        parts = ", ".join(
            f"{counts.get(k, 0)} {k}" for k in ("soft landing", "recession", "pending")
        )
        cuts = "; ".join(
            f"{iso(r.announced)} ({r.outcome}, -{r.depth:.2f} pp in {r.n_cuts} cuts)"
            for r in c.itertuples()
        )
        return (
            f"{len(c)} easing cycles {c['first_cut'].iloc[0]:%Y}-{c['first_cut'].iloc[-1]:%Y} "
            f"as of {iso(self.as_of)} ({parts}; recession = NBER peak within "
            f"{self.horizon_months} months; pause {self.pause_days} days, min hike "
            f"{self.min_hike:g} pp, min cut {self.min_cut:g} pp). First cuts (announced): {cuts}."
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per cycle."""
        return self.cycles

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return jsonready(
            {
                "as_of": self.as_of,
                "pause_days": self.pause_days,
                "min_hike": self.min_hike,
                "min_cut": self.min_cut,
                "horizon_months": self.horizon_months,
                "lag_months": self.lag_months,
                "cycles": self.cycles,
                "turning_points": self.turning_points,
                "notes": list(self.notes),
                "method": self.method,
                "summary": self.summary(),
            }
        )


def fed_cycles(
    changes: pd.DataFrame,
    peaks: pd.DatetimeIndex,
    troughs: pd.DatetimeIndex,
    *,
    as_of: pd.Timestamp,
    pause_days: int = 180,
    min_hike: float = 0.25,
    min_cut: float = 0.25,
    horizon_months: int = 12,
    lag_months: int = NBER_FALLBACK_LAG_MONTHS,
    end: pd.Timestamp | None = None,
) -> EasingCycles:
    """Easing cycles with outcomes (see :func:`easing_cycles` and :func:`cycle_outcomes`)."""
    cycles = easing_cycles(
        changes, pause_days=pause_days, min_hike=min_hike, min_cut=min_cut, end=end
    )
    outcomes = cycle_outcomes(
        pd.DatetimeIndex(cycles["announced"]),
        peaks,
        troughs,
        as_of=as_of,
        horizon_months=horizon_months,
        lag_months=lag_months,
    )
    cycles = pd.concat([cycles, outcomes.reset_index(drop=True)], axis=1)
    tp = nber_announcements(peaks, troughs, lag_months=lag_months)
    tp["known"] = tp["announced"] <= as_of
    notes = []
    if len(changes):
        first = changes.iloc[0]
        notes.append(
            f"the first change in the data ({iso(first['effective'])}, {first['direction']}) "
            "has no known past and is not classified"
        )
    approx = tp[tp["approximate"] & tp["known"]]
    if len(approx):
        notes.append(
            f"{len(approx)} turning points before 1980 use an assumed {lag_months}-month "
            "announcement lag"
        )
    return EasingCycles(
        cycles, tp, as_of, pause_days, min_hike, min_cut, horizon_months, lag_months, tuple(notes)
    )
