"""``sleeves.compare`` (one or two sleeves over windows) and :func:`sleeve_list`.

Windows lie around events, between events, where a condition holds, in calendar months or in
sub-periods; :func:`sleeve_list` is what ``smallcaps sleeves`` prints.

Sleeve ids are those of :mod:`smallcaps.analytics.sleeves`, event sets those of
:mod:`smallcaps.analytics.eventsets`, windows those of :mod:`smallcaps.analytics.windows`;
every series is read through the view, so an as-of view decides what was known (an NBER turning
point is used only from its announcement).
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from smallcaps import publishers
from smallcaps.analytics import eventsets as ev
from smallcaps.analytics import fed
from smallcaps.analytics import sleeves as sl
from smallcaps.analytics import windows as win
from smallcaps.analytics.compare import Comparison, InsideOutside, compare, inside_outside
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.measures.fed import FED_LOWER, FED_TARGET, FED_UPPER, optional
from smallcaps.measures.size import LARGE, SMALL
from smallcaps.registry import View, register

DEFAULT_SLEEVES = (
    "french:" + SMALL.removeprefix("french/"),
    "french:" + LARGE.removeprefix("french/"),
)
SPECIAL_WHEN = ("easing", "recession")


# ---- sleeves ------------------------------------------------------------------------------------


def series_of(leaf: sl.SleeveId) -> str:
    """The stored series id a leaf sleeve reads."""
    if leaf.kind == "french":
        parts = leaf.key.split("/")
        return publishers.series_id("french", parts[0], "/".join(parts[1:-1]), parts[-1])
    if leaf.kind == "yahoo":
        return f"price/{leaf.key}/adj_close"
    if leaf.kind == "user":
        return f"user/{leaf.key}"
    return leaf.key


def read_sleeve(view: View, text: str, ids: list[str]) -> sl.Sleeve:
    """The sleeve ``text`` from the view (series read are appended to ``ids``).

    Raises
    ------
    ConfigError
        A malformed id, or a French section that is not monthly or daily returns.
    UnknownSeriesError, InsufficientDataError
        The series is not stored or not public as of the view.
    """
    sid = sl.parse_sleeve(text)
    if sid.kind == "minus":
        a, b = (read_sleeve(view, leg.text, ids) for leg in sid.legs)
        return sl.difference(sid.text, a, b)
    series_id = series_of(sid)
    if sid.kind == "french" and "annual" in series_id.split("/")[2]:
        raise ConfigError(f"sleeve {text!r}: annual French returns cannot be windowed; use the "
                          "monthly section")  # fmt: skip
    values = view.series(series_id)
    ids.append(series_id)
    if sid.kind == "yahoo":
        return sl.from_levels(sid.text, values, sources=(series_id,))
    if sid.kind == "fred":
        units = view.meta(series_id).units if hasattr(view, "meta") else ""
        return sl.from_changes(sid.text, values, units=units, sources=(series_id,))
    return sl.from_returns(sid.text, values, sources=(series_id,))


def sleeve_list(series: pd.DataFrame) -> pd.DataFrame:
    """Sleeve ids a store can serve, from :meth:`smallcaps.store.Store.series_list`.

    Returns
    -------
    DataFrame
        ``sleeve, series_id, kind, units, frequency, first, last, title``: French monthly and
        daily return columns, Yahoo adjusted closes (total return), FRED series (changes) and
        user series.
    """
    rows = []
    for r in series.itertuples(index=False):
        sid = str(r.series_id)
        parts = sid.split("/")
        if r.source == "french" and r.units == "decimal return" and r.frequency in ("M", "D"):
            sleeve, kind, units = "french:" + "/".join(parts[1:]), "french", "decimal return"
        elif parts[0] == "price" and len(parts) == 3 and parts[2] == "adj_close":
            total = "price return (an index)" if parts[1].startswith("^") else "total return"
            sleeve, kind, units = f"yahoo:{parts[1]}", "yahoo", f"decimal {total}"
        elif r.source == "fred":
            sleeve, kind, units = f"fred:{sid}", "fred", f"change in {r.units}"
        elif r.source == "user" and len(parts) == 2:
            sleeve, kind, units = f"user:{parts[1]}", "user", str(r.units)
        else:
            continue
        rows.append((sleeve, sid, kind, units, r.frequency, r.first, r.last, r.title))
    cols = ["sleeve", "series_id", "kind", "units", "frequency", "first", "last", "title"]
    return pd.DataFrame(rows, columns=cols).sort_values("sleeve", ignore_index=True)


# ---- events --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class FedRule:
    """How first cuts and first hikes are found (parameters of ``sleeves.compare``)."""

    pause_days: int
    min_move: float
    min_opposite: float
    target: str
    upper: str
    lower: str
    nber_lag_months: int


def _nber_dates(view: View, ids: list[str]) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    out = []
    for kind in ("peak", "trough"):
        s = optional(view, f"events/nber/{kind}")
        if s is not None:
            ids.append(f"events/nber/{kind}")
        out.append(pd.DatetimeIndex([]) if s is None else pd.DatetimeIndex(s.dropna().index))
    return out[0], out[1]


def _changes(view: View, rule: FedRule, ids: list[str]) -> tuple[pd.DataFrame, pd.Timestamp]:
    parts = [optional(view, x) for x in (rule.target, rule.upper, rule.lower)]
    ids.extend(x for x, s in zip((rule.target, rule.upper, rule.lower), parts, strict=True)
               if s is not None)  # fmt: skip
    if all(p is None for p in parts):
        raise InsufficientDataError(
            f"no federal funds target as of the view ({rule.target}, {rule.upper}, "
            f"{rule.lower}); run `smallcaps fetch fred:{rule.target}`"
        )
    path = fed.target_path(*parts)
    return fed.target_changes(path), pd.Timestamp(path.index[-1])


def event_set(view: View, name: str, rule: FedRule, ids: list[str]) -> ev.EventSet:
    """The event set ``name`` as known at ``view.as_of``."""
    ev.check_name(name)
    as_of = view.as_of
    if name in ("nber.peak", "nber.trough"):
        peaks, troughs = _nber_dates(view, ids)
        return ev.nber(name.split(".")[1], peaks, troughs, as_of=as_of,
                       lag_months=rule.nber_lag_months)  # fmt: skip
    if name in ("fed.first_cut", "fed.first_hike"):
        changes, end = _changes(view, rule, ids)
        return ev.first_moves(changes, name.removeprefix("fed.first_"), as_of=as_of,
                              pause_days=rule.pause_days, min_move=rule.min_move,
                              min_opposite=rule.min_opposite, end=end)  # fmt: skip
    if name.startswith("dates:"):
        return ev.from_text(name, as_of=as_of)
    series_id = {"fomc.meeting": "events/fomc/meeting"}.get(name, name)
    if series_id.startswith("user:"):
        series_id = "user/" + series_id.removeprefix("user:")
    values = view.series(series_id)
    ids.append(series_id)
    return ev.from_series(name, values)


# ---- windows -------------------------------------------------------------------------------------


def parse_when(text: str) -> tuple[str, str, float | None]:
    """A condition: ``"fred:T10Y2Y below 0"`` -> ``("T10Y2Y", "below", 0.0)``.

    The series is a sleeve-style id (``fred:ID``, ``yahoo:TICKER`` for its adjusted close) or a
    stored id; the condition is ``rising``/``falling`` (optionally a lookback in periods) or
    ``above``/``below`` a number.
    """
    words = text.split()
    if len(words) == 1 and words[0] in SPECIAL_WHEN:
        return words[0], "", None
    number: float | None = None
    if len(words) >= 3:
        try:
            number = float(words[-1])
            words = words[:-1]
        except ValueError:
            number = None
    if len(words) < 2 or words[-1] not in win.CONDITIONS:
        raise ConfigError(
            f"when={text!r}: expected '<series> rising|falling [N]', '<series> above|below X', "
            f"or one of {', '.join(SPECIAL_WHEN)}"
        )
    op, series = words[-1], " ".join(words[:-1])
    if op in ("above", "below") and number is None:
        raise ConfigError(f"when={text!r}: '{op}' needs a level, e.g. '{series} {op} 0'")
    if series.startswith(("fred:", "yahoo:", "french:", "user:")):
        series = series_of(sl.parse_sleeve(series))
    return series, op, number


@register(
    "sleeves.compare",
    description=(
        "One or two sleeves (French portfolios, tickers' total return, FRED changes, a minus b) "
        "over windows: after/before/around events (NBER, Fed first cuts/hikes, FOMC, your "
        "dates), between two event sets, where a condition holds, calendar months or "
        "sub-periods; mean and median difference, hit rate, sign test, t and Newey-West t, "
        "bootstrap interval."
    ),
)
def run_compare(
    view: View,
    *,
    sleeves: tuple[str, ...] = DEFAULT_SLEEVES,
    after: str = "",
    before: str = "",
    around: str = "",
    months: int | None = None,
    days: int | None = None,
    lead: int = 0,
    anchor: str = "next",
    between: tuple[str, ...] = (),
    when: str = "",
    lookback: int = 1,
    lag: int = 0,
    month: int | None = None,
    each: str = "",
    start: str = "",
    end: str = "",
    versus: str = "",
    pause_days: int = 180,
    min_move: float = 0.25,
    min_opposite: float = 0.25,
    target: str = FED_TARGET,
    upper: str = FED_UPPER,
    lower: str = FED_LOWER,
    nber_lag_months: int = 12,
    conf: float = 0.90,
    reps: int = 2000,
    seed: int = 0,
    hac_lags: int | None = None,
) -> Comparison | InsideOutside:
    """Compare sleeves over one kind of windows.

    Parameters
    ----------
    sleeves : tuple of str
        One sleeve (its window returns) or two (first minus second).
    after, before, around : str
        An event set: windows of ``months`` (or ``days`` trading days) after, before, or
        ``lead`` before to ``months``/``days`` after each event, from the ``anchor`` close.
    anchor : {"next", "event", "close_before"}
        ``next``: from the end of the event's month (or day); ``event``/``close_before``: from
        the last close before the event.
    between : tuple of two str
        From each event of the first set to the next of the second (``nber.peak, nber.trough``).
    when : str
        A condition: ``"fred:T10Y2Y below 0"``, ``"fred:BAMLH0A0HYM2 rising"``, ``"easing"``
        (first cut through last cut of each cycle), ``"recession"`` (NBER peak to trough);
        ``lookback`` and ``lag`` as in :func:`smallcaps.analytics.windows.condition`.
    month : int
        One month of the year (1-12): each such month is a window.
    each : {"month", "quarter", "year"}
        Every calendar period is a window (the default when nothing else is given: "year").
    start, end : str
        Keep only windows inside these dates; alone: one window from ``start`` to ``end``.
    versus : {"", "rest"}
        ``rest`` (one sleeve): per-period returns inside the windows against all others.
    pause_days, min_move, min_opposite, target, upper, lower
        The Fed cycle rule for ``fed.first_cut`` / ``fed.first_hike``.
    nber_lag_months : int
        Announcement lag assumed for NBER turning points without a recorded announcement.
    conf, reps, seed, hac_lags
        Bootstrap interval and Newey-West lags of the figures.
    """
    if len(sleeves) not in (1, 2):
        raise ConfigError(f"sleeves.compare: give one or two sleeves, got {len(sleeves)}")
    kinds = {"after": after, "before": before, "around": around, "between": between,
             "when": when, "month": month, "each": each}  # fmt: skip
    given = [k for k, v in kinds.items() if v not in ("", (), None)]
    if len(given) > 1:
        raise ConfigError(f"sleeves.compare: give one kind of window, not {', '.join(given)}")
    if months is not None and days is not None:
        raise ConfigError("sleeves.compare: give months or days, not both")
    if versus not in ("", "rest"):
        raise ConfigError(f"sleeves.compare: versus must be 'rest' or empty, not {versus!r}")
    win.check_anchor(anchor)
    ids: list[str] = []
    events_used: list[ev.EventSet] = []
    rule = FedRule(pause_days, min_move, min_opposite, target, upper, lower, nber_lag_months)
    raw = [read_sleeve(view, s, ids) for s in sleeves]
    monthly = days is None and (months is not None or any(s.frequency == "M" for s in raw)
                                or given in (["month"], ["between"]) or not given
                                or given == ["when"])  # fmt: skip
    legs = sl.common(raw, "M" if monthly else "D")
    calendar = _calendar(legs)
    t0 = pd.Timestamp(start) if start else None
    t1 = pd.Timestamp(end) if end else None
    kind = given[0] if given else ("span" if t0 is not None else "each")
    if kind in ("after", "before", "around"):
        n = months if months is not None else days
        if n is None:
            raise ConfigError(f"sleeves.compare: {kind}= needs months= or days=")
        events = event_set(view, str(kinds[kind]), rule, ids)
        events_used.append(events)
        unit = "months" if months is not None else "periods"
        a, b = (n, lead) if kind == "around" else ((n, 0) if kind == "after" else (0, n))
        ws = win.around(calendar, events, after=a, before=b, unit=unit, anchor=anchor)
    elif kind == "between":
        if len(between) != 2:
            raise ConfigError("sleeves.compare: between= takes two event sets, e.g. "
                              "['nber.peak', 'nber.trough']")  # fmt: skip
        first, second = (event_set(view, e, rule, ids) for e in between)
        events_used.extend((first, second))
        ws = win.between(calendar, first, second, anchor=anchor)
    elif kind == "when":
        ws = _when(view, calendar, when, rule, ids, lookback=lookback, lag=lag, anchor=anchor)
    elif kind == "month":
        assert month is not None
        ws = win.calendar_month(calendar, month)
    elif kind == "span":
        assert t0 is not None
        ws = win.span(calendar, t0, t1)
        t0 = t1 = None
    else:
        ws = win.each_period(calendar, each or "year")
    ws = win.restrict(ws, calendar, t0, t1)
    hidden = [f"{e.name}: {e.hidden} event(s) not yet known as of the view, left out"
              for e in events_used if e.hidden]  # fmt: skip
    if hidden:
        ws = dataclasses.replace(ws, notes=(*ws.notes, *hidden))
    if versus == "rest":
        if len(legs) != 1:
            raise ConfigError("sleeves.compare: versus='rest' takes one sleeve")
        result: Comparison | InsideOutside = inside_outside(legs[0], ws)
    else:
        result = compare(legs, ws, conf=conf, reps=reps, seed=seed, hac_lags=hac_lags)
    return dataclasses.replace(result, sources=tuple(dict.fromkeys(ids)), as_of=view.as_of)


def _calendar(legs: list[sl.Sleeve]) -> pd.DatetimeIndex:
    """Closes all legs share: each leg's start close, then its periods' closes, intersected."""
    cal: pd.DatetimeIndex | None = None
    for s in legs:
        own = pd.DatetimeIndex([s.start]).append(pd.DatetimeIndex(s.returns.index))
        own = own[own >= max(x.start for x in legs)]
        cal = own if cal is None else cal.intersection(own)
    assert cal is not None
    if len(cal) < 2:
        raise InsufficientDataError("sleeves.compare: the sleeves share fewer than two periods")
    return cal.sort_values()


def _when(
    view: View, calendar: pd.DatetimeIndex, text: str, rule: FedRule, ids: list[str], *,
    lookback: int, lag: int, anchor: str,
) -> win.WindowSet:  # fmt: skip
    series, op, number = parse_when(text)
    if series == "recession":
        peaks = event_set(view, "nber.peak", rule, ids)
        troughs = event_set(view, "nber.trough", rule, ids)
        return win.between(calendar, peaks, troughs, anchor="next")
    if series == "easing":
        changes, last = _changes(view, rule, ids)
        cyc = fed.easing_cycles(changes, pause_days=rule.pause_days, min_hike=rule.min_opposite,
                                min_cut=rule.min_move, end=last)  # fmt: skip
        return win.spans(calendar, pd.DatetimeIndex(cyc["announced"]),
                         pd.DatetimeIndex(cyc["last_cut"]), anchor=anchor,
                         description="each easing phase (first cut to last cut)")  # fmt: skip
    values = view.series(series)
    ids.append(series)
    if op in ("rising", "falling"):
        lookback = int(number) if number is not None else lookback
        return win.condition(calendar, values, op, lookback=lookback, lag=lag, name=series)
    assert number is not None
    return win.condition(calendar, values, op, level=number, lag=lag, name=series)
