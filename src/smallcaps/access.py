"""Point-in-time access to the store: the only door to stored data for analytics and backtests.

Two ideas keep the past honest:

* a *vintage* is what we fetched at a time; an as-of read uses the newest vintage fetched by
  then (revised history arrives later and must not leak backwards);
* a *release rule* says when an observation became public: March's unemployment rate is dated
  2026-03-01 by FRED but was published on the first Friday of April. :func:`release_rules`
  (also ``RELEASE_RULES``) is the one table of rules, assembled from the publishers'
  registrations (:mod:`smallcaps.publishers`) and a default by frequency; an observation is
  visible at ``t`` only if its publication date is ``<= t``. The rules themselves are
  :class:`smallcaps.release.ReleaseRule` objects.

Times are compared as instants in UTC: a bare date means midnight at its start, so a vintage
fetched later that day is not yet known (conservative).

Business days are US federal business days (see :mod:`smallcaps.release`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from smallcaps import publishers
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.release import (
    END_OF_MARCH_NEXT_YEAR,
    END_OF_NEXT_MONTH,
    END_OF_NEXT_QUARTER,
    NEXT_BUSINESS_DAY,
    ONE_WEEK,
    ReleaseRule,
    RuleEntry,
    TimeLike,
    calendar_id,
    calendar_rule,
)
from smallcaps.store.adjustments import (
    MissedAdjustment,
    checks_adjustments,
    missed_adjustments,
    partial_bar,
    repaired,
)
from smallcaps.store.db import SeriesMeta, Store, VintageData

# -- release rules -------------------------------------------------------------------------------

#: the rule of a series no publisher row claims, by its frequency (``"*"`` of the table)
BY_FREQUENCY: Mapping[str, ReleaseRule] = {
    "D": NEXT_BUSINESS_DAY,
    "W": ONE_WEEK,
    "M": END_OF_NEXT_MONTH,
    "Q": END_OF_NEXT_QUARTER,
    "A": END_OF_MARCH_NEXT_YEAR,
}


@cache
def release_rules() -> dict[str, RuleEntry]:
    """The release table: every publisher's rows (its registration's ``release``), then ``"*"``.

    Keys are series ids (exact; an id written with its publisher's kind, ``fred/DFF``, counts
    as the bare id), prefixes ending in ``/`` (the longest that matches wins; ``:`` in an id
    counts as ``/``), then ``"*"``; a mapping picks by the series' frequency (``"*"``: any
    other frequency).
    """
    return {**publishers.release_rows(), "*": BY_FREQUENCY}


@cache
def _prefixes() -> list[str]:
    return sorted((k for k in release_rules() if k.endswith("/")), key=len, reverse=True)


def __getattr__(name: str) -> Any:
    # RELEASE_RULES is assembled from the publishers' registrations on first use
    if name == "RELEASE_RULES":
        return release_rules()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def release_rule(series_id: str, frequency: str = "D") -> ReleaseRule:
    """The rule of :func:`release_rules` that applies to a series.

    Parameters
    ----------
    series_id : str
        E.g. ``"UNRATE"``, ``"fred/UNRATE"``, ``"french/Portfolios_Formed_on_ME/..."``.
    frequency : str, default "D"
        One of ``D W M Q A``; picks among frequency-dependent rules.
    """
    rules = release_rules()
    path = series_id.replace(":", "/")
    prefix = next((k for k in _prefixes() if path.startswith(k)), None)
    keys = [series_id, publishers.unalias(series_id), prefix, "*"]
    entry = next(rules[k] for k in keys if k is not None and k in rules)
    if isinstance(entry, ReleaseRule):
        return entry
    return entry.get(frequency) or entry["*"]


def dating_rule(store: Store, series_id: str, frequency: str | None = None) -> ReleaseRule:
    """The rule that dates a series' reads: its real release calendar when one is stored.

    A calendar (``release/<SERIES>``, fetched from FRED with a key) dates each observation by
    the first release day after its period; the rule table (:func:`release_rule`) dates what
    the calendar does not cover, and every series without one. The rule's description, kept
    in each read's provenance, says which it is.
    """
    frequency = store.meta(series_id).frequency if frequency is None else frequency
    rule = release_rule(series_id, frequency)
    cid = calendar_id(publishers.unalias(series_id))
    if cid == series_id or cid not in store.series_ids():
        return rule
    vint = store.vintages(cid)
    vid = int(vint["vintage_id"].iat[-1])
    days = store.vintage_data(vid).dates
    description = (
        f"by the publisher's release calendar {cid} (vintage {vid}, {len(days)} release days "
        f"to {pd.Timestamp(days[-1]):%Y-%m-%d}); outside it, {rule.description}"
    )
    return calendar_rule(days, frequency, rule, name=f"calendar:{cid}:{vid}:{rule.name}",
                         description=description)  # fmt: skip


# -- as-of reads ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class AsOf:
    """A series as it could be known at ``as_of``, with its provenance.

    Parameters
    ----------
    values : Series
        Float values indexed by date.
    series_id, vintage_id, sha256, url, fetched_at
        Which vintage (and raw payload, by sha256 in the archive) the values come from.
    as_of : Timestamp or None
        The point in time asked for (naive UTC); None for "latest vintage, all rows".
    real_time : bool
        False when ``as_of`` precedes our first fetch, so today's (possibly revised) data is
        read back in time, or when rows were appended from a later vintage (``extended_from``);
        reports mark such numbers.
    extended_from : int or None
        The later vintage whose rows beyond this vintage's end, published by ``as_of``, were
        appended (the vintage known at ``as_of`` ended before it: nothing was fetched between).
    rule : str
        The release rule applied: the publisher's real calendar, or the rule table
        (:func:`dating_rule`).
    avoided : tuple of MissedAdjustment
        Adjustments the vintage lacks (an adjusted close missing a dividend that another
        vintage or the dividends series known by ``as_of`` shows); ``values`` carry them
        (:func:`smallcaps.store.adjustments.repaired`), so the vintage's faulty returns are
        avoided.
    partial : Timestamp or None
        A partial (intraday, volume 0) last bar of the vintage that was left out
        (:func:`smallcaps.store.adjustments.partial_bar`).
    """

    values: pd.Series
    series_id: str
    vintage_id: int
    sha256: str
    url: str
    fetched_at: pd.Timestamp
    as_of: pd.Timestamp | None
    real_time: bool
    rule: str
    extended_from: int | None = None
    avoided: tuple[MissedAdjustment, ...] = ()
    partial: pd.Timestamp | None = None

    def summary(self) -> str:
        """One line of provenance."""
        when = "latest" if self.as_of is None else f"as of {self.as_of:%Y-%m-%d %H:%M}"
        flag = "" if self.real_time else " [not real-time: read back before our first fetch]"
        if self.extended_from is not None:
            flag = (
                f" [not real-time: rows after the vintage's end appended from vintage "
                f"{self.extended_from}, as published by then]"
            )
        for m in self.avoided:
            flag += (
                f" [vintage {m.vintage_id} misses {m.what()}: repaired with that adjustment "
                f"({100 * m.shortfall:.2f}%)]"
            )
        if self.partial is not None:
            flag += (
                f" [the vintage's last bar {self.partial:%Y-%m-%d} left out: a partial "
                "(intraday) snapshot, volume 0]"
            )
        last = f"{self.values.index[-1]:%Y-%m-%d}" if len(self.values) else "-"
        return (
            f"{self.series_id} {when}: {len(self.values)} values to {last}, vintage "
            f"{self.vintage_id} fetched {self.fetched_at:%Y-%m-%d %H:%M} UTC from {self.url} "
            f"(sha256 {self.sha256[:12]}); released {self.rule}{flag}"
        )

    def __str__(self) -> str:
        return self.summary()


def end_of_day(text: str) -> pd.Timestamp:
    """A date as a point in time: a bare date is the end of that day (UTC).

    That is after the day's close and its releases; a time of day (``2026-01-09T14:00``) is
    taken as is.

    Raises
    ------
    ConfigError
        ``text`` is not a date.
    """
    try:
        ts = pd.Timestamp(text)
    except ValueError:
        raise ConfigError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    if ts.tzinfo is not None:
        ts = ts.tz_convert(UTC).tz_localize(None)
    if ts == ts.normalize() and "T" not in text and ":" not in text:
        ts = ts + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return ts.as_unit("ns")


def as_timestamp(t: TimeLike) -> pd.Timestamp:
    """A point in time as a naive UTC Timestamp (aware times are converted to UTC)."""
    ts = pd.Timestamp(t)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(UTC).tz_localize(None)
    return ts.as_unit("ns")


def read(store: Store, series_id: str, as_of: TimeLike | None = None) -> AsOf:
    """Read a series as it could be known at ``as_of``.

    Parameters
    ----------
    store : Store
    series_id : str
    as_of : date-like, optional
        None: the latest vintage, every row. Otherwise the newest vintage fetched by ``as_of``
        (or, before our first fetch, the oldest, with ``real_time=False``), keeping the rows
        whose publication date under :func:`release_rule` is on or before ``as_of``; rows of the
        newest vintage dated after that vintage's end and published by ``as_of`` are appended
        (``extended_from``, ``real_time=False``). An adjusted close
        (``price/<T>/adj_close``) whose vintage misses a dividend that another vintage or the
        dividends series known by ``as_of`` shows is read with that adjustment applied
        (``avoided``; :mod:`smallcaps.store.adjustments`).

    Raises
    ------
    UnknownSeriesError
        No such series (close matches are suggested).
    InsufficientDataError
        Nothing of the series was public by ``as_of``; names its first publication date.
    """
    vint = store.vintages(series_id)
    rule = dating_rule(store, series_id)
    fetched = _naive_ns(vint["fetched_at"])
    if as_of is None:
        k, t, real_time = len(vint) - 1, None, True
    else:
        t = as_timestamp(as_of)
        k = int(np.searchsorted(fetched, t.to_datetime64(), side="right")) - 1
        real_time = k >= 0
        k = max(k, 0)
    row = vint.iloc[k]
    data = store.vintage_data(int(row["vintage_id"]))
    n = len(data.dates)
    if t is not None:
        pub = _published(data, rule)
        n = int(np.searchsorted(pub, t.to_datetime64(), side="right"))
        if n == 0:
            raise InsufficientDataError(
                f"no value of {series_id!r} was public by {t:%Y-%m-%d}: its first observation "
                f"({pd.Timestamp(data.dates[0]):%Y-%m-%d}) was published "
                f"{pd.Timestamp(pub[0]):%Y-%m-%d} ({rule.description}); ask for a date on or "
                "after that"
            )
    partial = partial_bar(store, series_id, str(row["sha256"]))
    if partial is not None and n == len(data.dates) and data.dates[-1] == partial.to_datetime64():
        n -= 1  # a partial last bar is kept out of figures (the provenance says so)
    else:
        partial = None
    avoided: tuple[MissedAdjustment, ...] = ()
    vals = data.values
    if checks_adjustments(series_id):
        # judged only on what was fetched by t: a later capture never condemns an earlier one
        avoided = missed_adjustments(store, series_id, int(row["vintage_id"]), known_by=t)
        vals = _repaired(data, avoided)
    dates, vals = data.dates[:n], vals[:n]
    extended_from = None
    if t is not None and real_time and k + 1 < len(vint):
        # The vintage known at t may end well before t (no fetch in between). Rows that a later
        # vintage holds beyond its end, and that were published by t, were public at t too:
        # append them, flagged (their values may carry revisions made after t).
        later_row = vint.iloc[-1]
        later = store.vintage_data(int(later_row["vintage_id"]))
        m = int(np.searchsorted(_published(later, rule), t.to_datetime64(), side="right"))
        if m == len(later.dates) and partial_bar(store, series_id, str(later_row["sha256"])):
            m -= 1  # nor is the later vintage's partial last bar appended
        last = dates[-1] if n else np.datetime64("NaT")
        start = int(np.searchsorted(later.dates[:m], last, side="right")) if n else 0
        if start < m:
            dates = np.concatenate([dates, later.dates[start:m]])
            vals = np.concatenate([vals, later.values[start:m]])
            extended_from, real_time = int(later_row["vintage_id"]), False
    values = pd.Series(
        vals.copy(),
        index=pd.DatetimeIndex(dates.copy(), name="date"),
        name=series_id,
    )
    return AsOf(
        values=values,
        series_id=series_id,
        vintage_id=int(row["vintage_id"]),
        sha256=str(row["sha256"]),
        url=str(row["url"]),
        fetched_at=pd.Timestamp(row["fetched_at"]),
        as_of=t,
        real_time=real_time,
        rule=rule.description,
        extended_from=extended_from,
        avoided=avoided,
        partial=partial,
    )


def _repaired(data: VintageData, avoided: tuple[MissedAdjustment, ...]) -> np.ndarray:
    """The vintage's values with the adjustments it misses applied (cached per set)."""
    if not avoided:
        return data.values
    key = "repaired:" + ",".join(f"{m.date:%Y-%m-%d}:{m.step:.12g}" for m in avoided)
    got = data.extras.get(key)
    if got is None:
        got = repaired(data.dates, data.values, avoided)
        got.flags.writeable = False
        data.extras[key] = got
    return got  # type: ignore[no-any-return]


def align(store: Store, series_ids: Iterable[str], calendar: pd.DatetimeIndex) -> pd.DataFrame:
    """For each date of ``calendar`` and each series, the last value public at that date.

    Each date uses the vintage known then (the oldest before our first fetch) and that
    vintage's rows published on or before the date; missing values (NaN) are skipped, so the
    last real value carries forward. No row sees data published after its date.

    Parameters
    ----------
    store : Store
    series_ids : iterable of str
    calendar : DatetimeIndex
        Decision times (a bare date is midnight UTC at its start); any order.

    Returns
    -------
    DataFrame
        Indexed by ``calendar``, one float column per series; NaN where nothing was public yet.
    """
    ids = list(dict.fromkeys(series_ids))
    cal = pd.DatetimeIndex(calendar)
    if cal.tz is not None:
        cal = cal.tz_convert(UTC).tz_localize(None)
    times = np.asarray(cal.values.astype("datetime64[ns]"))
    order = np.argsort(times, kind="stable")
    t_sorted = times[order]
    out = np.full((len(times), len(ids)), np.nan)
    for j, sid in enumerate(ids if len(times) else []):
        vint = store.vintages(sid)
        rule = dating_rule(store, sid)
        fetched = _naive_ns(vint["fetched_at"])
        k = np.maximum(np.searchsorted(fetched, t_sorted, side="right") - 1, 0)
        vids = vint["vintage_id"].to_numpy(dtype=np.int64)
        datas = store.load_vintages(vids[np.unique(k)])
        col = np.full(len(t_sorted), np.nan)
        cuts = np.r_[0, np.flatnonzero(k[1:] != k[:-1]) + 1, len(k)]
        newest = int(vids[-1])
        for lo, hi in itertools.pairwise(cuts):
            vid = int(vids[k[lo]])
            pub, vals = _published_values(datas[vid], rule)
            if len(vals):
                idx = np.searchsorted(pub, t_sorted[lo:hi], side="right") - 1
                col[lo:hi] = np.where(idx >= 0, vals[np.maximum(idx, 0)], np.nan)
            real = fetched[k[lo:hi]] <= t_sorted[lo:hi]  # not before our first fetch
            if real.any() and vid != newest:  # as read(): rows past its end, from the newest
                if newest not in datas:
                    datas.update(store.load_vintages(np.array([newest])))
                _extend(col, lo, hi, t_sorted, real, datas[vid], datas[newest], rule)
        out[order, j] = col
    return pd.DataFrame(out, index=calendar, columns=pd.Index(ids))


def _extend(
    col: np.ndarray,
    lo: int,
    hi: int,
    times: np.ndarray,
    mask: np.ndarray,
    old: VintageData,
    new: VintageData,
    rule: ReleaseRule,
) -> None:
    """Where ``new`` has a row dated after ``old``'s last date published by a time, use it."""
    if not len(old.dates):
        return
    pub, vals = _published_values(new, rule)
    dates = _valued_dates(new)
    idx = np.searchsorted(pub, times[lo:hi], side="right") - 1
    ok = idx >= 0
    later = mask & ok & (dates[np.maximum(idx, 0)] > old.dates[-1]) if len(dates) else ok & False
    col[lo:hi] = np.where(later, vals[np.maximum(idx, 0)] if len(vals) else np.nan, col[lo:hi])


def _valued_dates(data: VintageData) -> np.ndarray:
    """Dates of the rows that have a value (as :func:`_published_values` keeps them), cached."""
    got = data.extras.get("valued_dates")
    if got is None:
        got = data.dates[~np.isnan(data.values)]
        data.extras["valued_dates"] = got
    return got


def _naive_ns(fetched: pd.Series) -> np.ndarray:
    s = pd.DatetimeIndex(fetched)
    if s.tz is not None:
        s = s.tz_convert(UTC).tz_localize(None)
    return np.asarray(s.values.astype("datetime64[ns]"))


def _published(data: VintageData, rule: ReleaseRule) -> np.ndarray:
    """Publication dates (datetime64[ns]) of a vintage's rows, made non-decreasing, cached."""
    key = f"published:{rule.name}"
    pub = data.extras.get(key)
    if pub is None:
        raw = rule.publish(data.dates.astype("datetime64[D]")).astype("datetime64[ns]")
        # a later-dated row never shows before an earlier one (rules are monotone anyway)
        pub = np.maximum.accumulate(raw.view(np.int64)).view("datetime64[ns]")
        pub.flags.writeable = False
        data.extras[key] = pub
    return pub


def _published_values(data: VintageData, rule: ReleaseRule) -> tuple[np.ndarray, np.ndarray]:
    """Publication dates and values of the rows that have a value (NaN rows dropped), cached."""
    key = f"published_values:{rule.name}"
    got = data.extras.get(key)
    if got is None:
        ok = ~np.isnan(data.values)
        got = (_published(data, rule)[ok], data.values[ok])
        data.extras[key] = got
    return got


# -- the store as a measurement View -------------------------------------------------------------


@dataclass(eq=False)
class StoreView:
    """A :class:`smallcaps.registry.View` over the store: every series read as of ``as_of``.

    Each read is kept in ``reads`` so a result can say which vintage and payload each input
    came from (:meth:`provenance`).
    """

    store: Store
    as_of: pd.Timestamp | None = None
    reads: dict[str, AsOf] = field(default_factory=dict)

    def series(self, series_id: str) -> pd.Series:
        """The series as it could be known at ``as_of`` (see :func:`read`)."""
        return self.read(series_id).values

    def read(self, series_id: str) -> AsOf:
        """The series as of ``as_of`` with its provenance (see :func:`read`); kept in ``reads``."""
        got = read(self.store, series_id, self.as_of)
        self.reads[series_id] = got
        return got

    def meta(self, series_id: str) -> SeriesMeta:
        """The series' newest metadata (title, units, frequency, ...)."""
        return self.store.meta(series_id)

    def release_rule(self, series_id: str) -> ReleaseRule:
        """The rule dating the series' reads (:func:`dating_rule`: calendar or rule table)."""
        return dating_rule(self.store, series_id)

    def has(self, series_id: str) -> bool:
        """Whether the store holds ``series_id``."""
        return series_id in self.store.series_ids()

    def ids(self, prefix: str = "") -> list[str]:
        """Stored series ids starting with ``prefix``, sorted."""
        return [s for s in self.store.series_ids() if s.startswith(prefix)]

    def provenance(self, series_ids: Iterable[str] | None = None) -> list[dict[str, object]]:
        """One record per series read: vintage, payload hash, URL, fetch time, rule, real-time.

        ``series_ids`` keeps only the reads of those series (in the order they were read).
        """
        keep = None if series_ids is None else set(series_ids)
        return [
            {
                "series_id": r.series_id,
                "vintage_id": r.vintage_id,
                "sha256": r.sha256,
                "url": r.url,
                "fetched_at": r.fetched_at.isoformat(),
                "as_of": None if r.as_of is None else r.as_of.isoformat(),
                "real_time": r.real_time,
                "extended_from": r.extended_from,
                "avoided": [m.to_dict() for m in r.avoided] or None,
                "partial_bar_left_out": None if r.partial is None else f"{r.partial:%Y-%m-%d}",
                "release_rule": r.rule,
                "last_date": f"{r.values.index[-1]:%Y-%m-%d}" if len(r.values) else None,
            }
            for r in self.reads.values()
            if keep is None or r.series_id in keep
        ]


#: What a backtest or a measurement may be handed: the store (read as of a date through a new
#: :class:`StoreView`) or a view already open.
Source = Store | StoreView


def view_of(source: Source, as_of: TimeLike | None = None) -> StoreView:
    """A :class:`StoreView` of ``source`` as of ``as_of`` (a view is returned as it is).

    Raises
    ------
    ConfigError
        ``source`` is a view as of another date than ``as_of``.
    """
    if isinstance(source, StoreView):
        if as_of is not None and source.as_of != as_timestamp(as_of):
            raise ConfigError(
                f"the view reads as of {source.as_of}, not {as_timestamp(as_of)}; pass the store "
                "or a view as of that date"
            )
        return source
    return StoreView(source, None if as_of is None else as_timestamp(as_of))
