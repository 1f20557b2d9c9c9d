"""Windows: spans of time over which a sleeve's return is measured.

A window is a pair of closes ``(start, end]`` on a *calendar* (the closing dates of a sleeve's
periods: trading days or month ends); its return covers the periods closing after ``start`` up to
and including ``end``. Every builder returns a :class:`WindowSet`.

Anchors say which close an event's window starts from:

- ``"next"``: the close of the event's own period (its month's end, or its day's close), so the
  first period counted is the one *after* the event: the 1995-07-06 cut's first month is August;
- ``"event"`` (also ``"close_before"``): the last close *before* the event's date, so the event's
  own period is counted: the cut month July, or the cut day's return from the close before.

Lengths count calendar periods (``periods``: trading days or months on their own calendar) or
calendar months on a daily calendar (``months``). A window that would end after the calendar's
last close is *incomplete* and left out (counted in ``incomplete``), so a window never reads
past the data; one that starts before it is left out too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from smallcaps.analytics.eventsets import EventSet
from smallcaps.errors import ConfigError

ANCHORS = ("next", "event", "close_before")
CONDITIONS = ("rising", "falling", "above", "below")
EACH = {"month": "M", "quarter": "Q", "year": "Y"}
COLUMNS = ["label", "event", "start", "end"]


@dataclass(frozen=True, slots=True, eq=False)
class WindowSet:
    """Windows ``(start, end]`` on a calendar, each with a label and its event date (or NaT)."""

    frame: pd.DataFrame  # columns label, event, start, end
    description: str
    incomplete: int = 0  # windows left out: they run past the calendar (or start before it)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return len(self.frame)


def frequency(calendar: pd.DatetimeIndex) -> str:
    """``"M"`` for a calendar of month ends, else ``"D"``."""
    if len(calendar) and calendar.is_month_end.all() and calendar.to_period("M").is_unique:
        return "M"
    return "D"


def check_anchor(anchor: str) -> str:
    """``anchor`` if known, else ConfigError listing the anchors."""
    if anchor not in ANCHORS:
        raise ConfigError(f"unknown anchor {anchor!r} (known: {', '.join(ANCHORS)})")
    return anchor


def anchor_close(calendar: pd.DatetimeIndex, date: pd.Timestamp, anchor: str) -> int:
    """Position in ``calendar`` of the close an event's window starts from (-1: none)."""
    check_anchor(anchor)
    day = pd.Timestamp(date).normalize()
    if anchor == "next":
        last = day + pd.offsets.MonthEnd(0) if frequency(calendar) == "M" else day
        return int(calendar.searchsorted(last, side="right")) - 1
    return int(calendar.searchsorted(day, side="left")) - 1


def _frame(rows: list[tuple[str, object, pd.Timestamp, pd.Timestamp]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for c in ("event", "start", "end"):
        frame[c] = pd.to_datetime(frame[c])
    return frame


def around(
    calendar: pd.DatetimeIndex,
    events: EventSet,
    *,
    after: int,
    before: int = 0,
    unit: str = "periods",
    anchor: str = "next",
) -> WindowSet:
    """A window around each event: from ``before`` to ``after`` units of the anchor close.

    Parameters
    ----------
    calendar : DatetimeIndex
        Closing dates, sorted.
    events : EventSet
    after, before : int
        Units after and before the anchor close (``after=12, before=0``: the 12 periods after
        it; ``after=0, before=12``: the 12 before it).
    unit : {"periods", "months"}
        ``periods`` counts calendar closes; ``months`` counts calendar months (on a daily
        calendar: the last close on or before the date that many months away).
    anchor : {"next", "event", "close_before"}
    """
    if after < 0 or before < 0 or after + before == 0:
        raise ConfigError(f"a window needs a length: after={after}, before={before}")
    if unit not in ("periods", "months"):
        raise ConfigError(f"unit must be 'periods' or 'months', not {unit!r}")
    by_month = unit == "months" and frequency(calendar) == "D"
    rows, incomplete = [], 0
    last = calendar[-1] if len(calendar) else pd.NaT
    for date in events.dates:
        p = anchor_close(calendar, date, anchor)
        if p < 0:
            incomplete += 1
            continue
        t0 = calendar[p]
        if by_month:
            lo_date, hi_date = t0 - pd.DateOffset(months=before), t0 + pd.DateOffset(months=after)
            if hi_date > last or lo_date < calendar[0]:
                incomplete += 1
                continue
            lo = int(calendar.searchsorted(lo_date, side="right")) - 1
            hi = int(calendar.searchsorted(hi_date, side="right")) - 1
        else:
            lo, hi = p - before, p + after
            if lo < 0 or hi >= len(calendar):
                incomplete += 1
                continue
        rows.append((f"{date:%Y-%m-%d}", date, calendar[lo], calendar[hi]))
    side = f"{after} {_unit(calendar, unit)} after" if after else ""
    if before:
        side = f"{before} {_unit(calendar, unit)} before" + (f" to {side}" if side else "")
    desc = f"{side} each of {events.name} ({_anchor_words(anchor, calendar)})"
    return WindowSet(_frame(rows), desc, incomplete)


def _unit(calendar: pd.DatetimeIndex, unit: str) -> str:
    if unit == "months" or frequency(calendar) == "M":
        return "months"
    return "trading days"


def _anchor_words(anchor: str, calendar: pd.DatetimeIndex) -> str:
    monthly = frequency(calendar) == "M"
    if anchor == "next":
        return (
            "counted from the end of the event's month"
            if monthly
            else ("counted from the close of the event's day")
        )
    return "counted from the last month end before the event (the event's month included)" if (
        monthly) else "counted from the last close before the event"  # fmt: skip


def between(
    calendar: pd.DatetimeIndex, first: EventSet, second: EventSet, *, anchor: str = "next"
) -> WindowSet:
    """From each event of ``first`` to the next event of ``second`` (each peak to its trough).

    An event of ``first`` with no event of ``second`` after it (before the next of ``first``)
    opens no window (an ongoing recession); both ends use ``anchor``.
    """
    rows, incomplete = [], 0
    a_dates, b_dates = first.dates.sort_values(), second.dates.sort_values()
    for i, a in enumerate(a_dates):
        nxt = a_dates[i + 1] if i + 1 < len(a_dates) else None
        later = b_dates[(b_dates > a) & ((b_dates <= nxt) if nxt is not None else True)]
        if not len(later):
            incomplete += 1
            continue
        lo, hi = anchor_close(calendar, a, anchor), anchor_close(calendar, later[0], anchor)
        if lo < 0 or hi <= lo or later[0] > calendar[-1] + pd.offsets.MonthEnd(0):
            incomplete += 1
            continue
        rows.append((f"{a:%Y-%m-%d}..{later[0]:%Y-%m-%d}", a, calendar[lo], calendar[hi]))
    desc = (
        f"from each of {first.name} to the next of {second.name} "
        f"({_anchor_words(anchor, calendar)})"
    )
    return WindowSet(_frame(rows), desc, incomplete)


def spans(
    calendar: pd.DatetimeIndex,
    starts: pd.DatetimeIndex,
    ends: pd.DatetimeIndex,
    *,
    description: str,
    anchor: str = "event",
) -> WindowSet:
    """From each start date (``anchor``) through the period of its end date (an easing phase)."""
    rows, incomplete = [], 0
    for a, b in zip(starts, ends, strict=True):
        lo, hi = anchor_close(calendar, a, anchor), anchor_close(calendar, b, "next")
        if lo < 0 or hi <= lo or pd.Timestamp(b) > calendar[-1]:
            incomplete += 1
            continue
        rows.append((f"{a:%Y-%m-%d}..{b:%Y-%m-%d}", a, calendar[lo], calendar[hi]))
    return WindowSet(_frame(rows), description, incomplete)


def condition(
    calendar: pd.DatetimeIndex,
    values: pd.Series,
    op: str,
    *,
    level: float = 0.0,
    lookback: int = 1,
    lag: int = 0,
    name: str = "",
) -> WindowSet:
    """Runs of consecutive periods in which a condition on ``values`` holds, one window each.

    At each close ``t`` the series' value is its last observation dated on or before ``t``.
    ``rising``/``falling``: that value is above/below the value ``lookback`` closes earlier;
    ``above``/``below``: it is above/below ``level``. The period ending at ``t`` is *in* when
    the condition holds at ``t`` (``lag=0``: the period's own move) or at the close ``lag``
    periods earlier (``lag=1``: known before the period began).
    """
    if op not in CONDITIONS:
        raise ConfigError(f"unknown condition {op!r} (known: {', '.join(CONDITIONS)})")
    if lookback < 1 or lag < 0:
        raise ConfigError(f"lookback must be >= 1 and lag >= 0, got {lookback}, {lag}")
    s = values.dropna().sort_index()
    v = s.reindex(calendar.union(s.index)).ffill().reindex(calendar)
    x = v.to_numpy(dtype=float)
    if op in ("rising", "falling"):
        prev = np.r_[np.full(lookback, np.nan), x[:-lookback]]
        held = x > prev if op == "rising" else x < prev
        held &= ~np.isnan(prev)
    else:
        held = x > level if op == "above" else x < level
    held &= ~np.isnan(x)
    if lag:
        held = np.r_[np.zeros(lag, dtype=bool), held[:-lag]]
    rows = []
    i, n = 1, len(calendar)  # position 0 is the first close: no period ends there
    while i < n:
        if held[i]:
            j = i
            while j + 1 < n and held[j + 1]:
                j += 1
            rows.append((f"{calendar[i]:%Y-%m-%d}..{calendar[j]:%Y-%m-%d}", pd.NaT,
                         calendar[i - 1], calendar[j]))  # fmt: skip
            i = j + 1
        else:
            i += 1
    what = f"{op} over {lookback} period(s)" if op in ("rising", "falling") else f"{op} {level:g}"
    known = f", known {lag} period(s) before" if lag else ""
    desc = f"each run of periods in which {name or values.name} is {what}{known}"
    return WindowSet(_frame(rows), desc)


def calendar_month(calendar: pd.DatetimeIndex, month: int) -> WindowSet:
    """Each period of one month of the year (``month`` 1-12) as a window.

    On a monthly calendar each window is one month; on a daily one, that month's trading days.
    """
    if not 1 <= month <= 12:
        raise ConfigError(f"month must be 1..12, got {month}")
    ws = each_period(calendar, "month")
    keep = ws.frame["end"].dt.month == month
    name = pd.Timestamp(2000, month, 1).strftime("%B")
    return WindowSet(ws.frame[keep].reset_index(drop=True), f"every {name}", ws.incomplete)


def each_period(calendar: pd.DatetimeIndex, each: str) -> WindowSet:
    """One window per calendar month, quarter or year of ``calendar`` (complete ones only)."""
    if each not in EACH:
        raise ConfigError(f"each must be one of {', '.join(EACH)}, not {each!r}")
    periods = calendar.to_period(EACH[each])
    rows, incomplete = [], 0
    cut = np.flatnonzero(periods[1:] != periods[:-1]) + 1  # first close of each new period
    for k in cut:
        p = periods[k]
        stop = int(np.searchsorted(periods.asi8, p.ordinal, side="right")) - 1
        if stop == len(calendar) - 1 and frequency(calendar) == "D":
            end_of_period = p.to_timestamp(how="end").normalize()
            if calendar[stop] < pd.bdate_range(end=end_of_period, periods=1)[0]:
                incomplete += 1  # the data ends inside this period
                continue
        rows.append((str(p), pd.NaT, calendar[k - 1], calendar[stop]))
    return WindowSet(_frame(rows), f"every calendar {each}", incomplete)


def span(calendar: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp | None) -> WindowSet:
    """One window from the last close on or before ``start`` to the last on or before ``end``."""
    lo = int(calendar.searchsorted(pd.Timestamp(start), side="right")) - 1
    stop = calendar[-1] if end is None else pd.Timestamp(end)
    hi = int(calendar.searchsorted(stop, side="right")) - 1
    if lo < 0 or hi <= lo:
        return WindowSet(_frame([]), f"{start:%Y-%m-%d} to {stop:%Y-%m-%d}", 1)
    label = f"{calendar[lo]:%Y-%m-%d}..{calendar[hi]:%Y-%m-%d}"
    return WindowSet(_frame([(label, pd.NaT, calendar[lo], calendar[hi])]),
                     f"from {start:%Y-%m-%d} to {stop:%Y-%m-%d}")  # fmt: skip


def restrict(
    ws: WindowSet,
    calendar: pd.DatetimeIndex,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
) -> WindowSet:
    """Only the windows inside ``[start, end]`` (a sub-period: since 2000, before 1982...).

    A window is inside when its first period closes on or after ``start`` (it starts at or
    after the last close before ``start``) and it ends on or before ``end``.
    """
    f = ws.frame
    keep = np.ones(len(f), dtype=bool)
    words = []
    if start is not None:
        p = int(calendar.searchsorted(pd.Timestamp(start), side="left")) - 1
        first = calendar[max(p, 0)]
        keep &= (f["start"] >= first).to_numpy()
        words.append(f"from {start:%Y-%m-%d}")
    if end is not None:
        keep &= (f["end"] <= end).to_numpy()
        words.append(f"to {end:%Y-%m-%d}")
    if not words:
        return ws
    return WindowSet(f[keep].reset_index(drop=True), f"{ws.description}, {' '.join(words)}",
                     ws.incomplete, ws.notes)  # fmt: skip
