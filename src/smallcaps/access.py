"""Point-in-time access to the store: the only door to stored data for analytics and backtests.

Two ideas keep the past honest:

* a *vintage* is what we fetched at a time; an as-of read uses the newest vintage fetched by
  then (revised history arrives later and must not leak backwards);
* a *release rule* says when an observation became public: March's unemployment rate is dated
  2026-03-01 by FRED but was published on the first Friday of April. :data:`RELEASE_RULES` is the
  one table of rules; an observation is visible at ``t`` only if its publication date is ``<= t``.

Times are compared as instants in UTC: a bare date means midnight at its start, so a vintage
fetched later that day is not yet known (conservative).

Business days are US federal business days from pandas' ``USFederalHolidayCalendar`` (the Federal
Reserve's calendar, with today's rules: before 1971 some holidays fell on other days, so an old
date can be off by a day). ``exchange_calendars`` would give NYSE days (Good Friday closed,
Columbus Day open); it is not a dependency, so prices use "same day" and iShares "next federal
business day".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache

import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar

from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.store.db import SeriesMeta, Store, VintageData

TimeLike = str | date | datetime | pd.Timestamp | np.datetime64
_DAY = np.timedelta64(1, "D")


# -- date arithmetic on datetime64[D] arrays -----------------------------------------------------


_BLOCK = 25  # years of holidays computed at a time (pandas takes ~15 ms per block)


@cache
def _holiday_block(block: int) -> np.ndarray:
    first = block * _BLOCK
    days = USFederalHolidayCalendar().holidays(f"{first}-01-01", f"{first + _BLOCK - 1}-12-31")
    return np.asarray(days.values.astype("datetime64[D]"))


def _holidays(d: np.ndarray) -> np.ndarray:
    """US federal holidays covering the dates ``d`` (and a year beyond)."""
    if not len(d):
        return np.array([], dtype="datetime64[D]")
    years = d.astype("datetime64[Y]").astype(np.int64) + 1970
    lo, hi = int(years.min()) // _BLOCK, (int(years.max()) + 1) // _BLOCK
    return np.concatenate([_holiday_block(b) for b in range(lo, hi + 1)])


def _month_end(d: np.ndarray, months_after: int = 0) -> np.ndarray:
    return (d.astype("datetime64[M]") + (months_after + 1)).astype("datetime64[D]") - _DAY


def _month_start(d: np.ndarray, months_after: int = 0) -> np.ndarray:
    return (d.astype("datetime64[M]") + months_after).astype("datetime64[D]")


def _quarter_end(d: np.ndarray, quarters_after: int = 0) -> np.ndarray:
    m = d.astype("datetime64[M]")
    last_month = m + (2 - m.astype(np.int64) % 3) + 3 * quarters_after  # 1970-01 is a Q1 month
    return (last_month + 1).astype("datetime64[D]") - _DAY


def _year_end(d: np.ndarray) -> np.ndarray:
    return (d.astype("datetime64[Y]") + 1).astype("datetime64[D]") - _DAY


def _weekday(d: np.ndarray) -> np.ndarray:
    return (d.astype(np.int64) + 3) % 7  # Monday 0; 1970-01-01 was a Thursday


def _next_business_day(d: np.ndarray) -> np.ndarray:
    return np.busday_offset(d + _DAY, 0, roll="forward", holidays=_holidays(d))


def _first_business_day_next_month(d: np.ndarray) -> np.ndarray:
    return np.busday_offset(_month_start(d, 1), 0, roll="forward", holidays=_holidays(d))


def _employment_situation(d: np.ndarray) -> np.ndarray:
    # BLS: the third Friday after the reference week (Sunday to Saturday, holding the 12th);
    # that is the first Friday of the next month, or the second when the first comes too early
    twelfth = _month_start(d) + 11 * _DAY
    saturday = twelfth + ((5 - _weekday(twelfth)) % 7) * _DAY
    return saturday + 20 * _DAY


def _next_wednesday(d: np.ndarray) -> np.ndarray:
    ahead = (2 - _weekday(d)) % 7
    return d + np.where(ahead == 0, 7, ahead) * _DAY


# -- release rules -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReleaseRule:
    """When observations become public, as a function of their date stamps.

    Parameters
    ----------
    name : str
        Short key, e.g. ``"next_business_day"``.
    description : str
        One line for docs and provenance.
    publish : callable
        ``datetime64[D]`` array of stamps to the ``datetime64[D]`` array of publication dates;
        never earlier than the stamp, and never decreasing when the stamps increase.
    """

    name: str
    description: str
    publish: Callable[[np.ndarray], np.ndarray]

    def __call__(self, dates: pd.DatetimeIndex | Sequence[TimeLike]) -> pd.DatetimeIndex:
        """The publication date of each date stamp."""
        days = np.asarray(pd.DatetimeIndex(dates).values.astype("datetime64[D]"))
        return pd.DatetimeIndex(self.publish(days).astype("datetime64[ns]"), name="published")


SAME_DAY = ReleaseRule(
    "same_day", "public on its own date (a closing price, the user's data)", lambda d: d
)
NEXT_BUSINESS_DAY = ReleaseRule(
    "next_business_day", "published the next US business day", _next_business_day
)
EMPLOYMENT_SITUATION = ReleaseRule(
    "employment_situation",
    "the third Friday after the week of the 12th (BLS): the next month's first or second Friday",
    _employment_situation,
)
FIRST_BUSINESS_DAY_NEXT_MONTH = ReleaseRule(
    "first_business_day_next_month",
    "the first US business day of the month after the reference month",
    _first_business_day_next_month,
)
CPI_RELEASE = ReleaseRule(
    "cpi_release",
    "15 days after the reference month ends (BLS CPI, out around the 10th-15th)",
    lambda d: _month_end(d) + 15 * _DAY,
)
GDP_ADVANCE = ReleaseRule(
    "gdp_advance",
    "30 days after the reference quarter ends (BEA advance estimate; revisions are later vintages)",
    lambda d: _quarter_end(d) + 30 * _DAY,
)
NFCI_RELEASE = ReleaseRule(
    "nfci_release", "the Wednesday after the week's Friday stamp (Chicago Fed)", _next_wednesday
)
NBER_RELEASE = ReleaseRule(
    "nber_release",
    "12 months after the reference month ends (NBER dates turning points late; conservative)",
    lambda d: _month_end(d, 12),
)
END_OF_NEXT_MONTH = ReleaseRule(
    "end_of_next_month",
    "the end of the month after the observation's month",
    lambda d: _month_end(d, 1),
)
FRENCH_MONTHLY = ReleaseRule(
    "french_monthly",
    "the end of the month after the observation's month (Ken French updates ~4 weeks after)",
    lambda d: _month_end(d, 1),
)
FRENCH_ANNUAL = ReleaseRule(
    "french_annual",
    "one month after the year ends (with the December update of the Ken French files)",
    lambda d: _month_end(_year_end(d), 1),
)
SHILLER_RELEASE = ReleaseRule(
    "shiller_release",
    "the end of the second month after the observation's month (Shiller's ie_data)",
    lambda d: _month_end(d, 2),
)
ONE_WEEK = ReleaseRule("one_week", "7 days after the stamp", lambda d: d + 7 * _DAY)
END_OF_NEXT_QUARTER = ReleaseRule(
    "end_of_next_quarter",
    "the end of the quarter after the observation's quarter",
    lambda d: _quarter_end(d, 1),
)
END_OF_MARCH_NEXT_YEAR = ReleaseRule(
    "end_of_march_next_year",
    "the end of March after the observation's year",
    lambda d: _month_end(_year_end(d), 3),
)

#: Series id (exact; a ``fred/`` prefix is ignored), then the longest matching prefix (``:`` in
#: an id counts as ``/``), then ``"*"``; a mapping picks by the series' frequency (``"*"``: any
#: other frequency).
RELEASE_RULES: dict[str, ReleaseRule | Mapping[str, ReleaseRule]] = {
    # FRED daily rates and spreads (H.15, ICE BofA)
    "DFF": NEXT_BUSINESS_DAY,
    "EFFR": NEXT_BUSINESS_DAY,
    "DFEDTAR": NEXT_BUSINESS_DAY,
    "DFEDTARU": NEXT_BUSINESS_DAY,
    "DFEDTARL": NEXT_BUSINESS_DAY,
    "DGS2": NEXT_BUSINESS_DAY,
    "DGS10": NEXT_BUSINESS_DAY,
    "T10Y2Y": NEXT_BUSINESS_DAY,
    "BAMLH0A0HYM2": NEXT_BUSINESS_DAY,
    # FRED macro series, stamped at the start of their period
    "UNRATE": EMPLOYMENT_SITUATION,
    "FEDFUNDS": FIRST_BUSINESS_DAY_NEXT_MONTH,
    "CPIAUCSL": CPI_RELEASE,
    "GDPC1": GDP_ADVANCE,
    "NFCI": NFCI_RELEASE,
    "USREC": NBER_RELEASE,
    "USRECP": NBER_RELEASE,
    # every series of a publisher
    "french/": {"A": FRENCH_ANNUAL, "*": FRENCH_MONTHLY},
    "price/": SAME_DAY,
    "stooq/": SAME_DAY,
    "shiller/": SHILLER_RELEASE,
    "ishares/": NEXT_BUSINESS_DAY,
    "user/": SAME_DAY,
    "events/nber/": NBER_RELEASE,  # peak and trough months
    "events/fomc/": SAME_DAY,  # meeting dates are scheduled in advance
    # anything else, by frequency
    "*": {
        "D": NEXT_BUSINESS_DAY,
        "W": ONE_WEEK,
        "M": END_OF_NEXT_MONTH,
        "Q": END_OF_NEXT_QUARTER,
        "A": END_OF_MARCH_NEXT_YEAR,
    },
}

_FRED = re.compile(r"^fred[/:]", re.IGNORECASE)
_PREFIXES = sorted((k for k in RELEASE_RULES if k.endswith("/")), key=len, reverse=True)


def release_rule(series_id: str, frequency: str = "D") -> ReleaseRule:
    """The rule of :data:`RELEASE_RULES` that applies to a series.

    Parameters
    ----------
    series_id : str
        E.g. ``"UNRATE"``, ``"fred/UNRATE"``, ``"french/Portfolios_Formed_on_ME/..."``.
    frequency : str, default "D"
        One of ``D W M Q A``; picks among frequency-dependent rules.
    """
    path = series_id.replace(":", "/")
    prefix = next((k for k in _PREFIXES if path.startswith(k)), None)
    keys = [series_id, _FRED.sub("", series_id), prefix, "*"]
    entry = next(RELEASE_RULES[k] for k in keys if k is not None and k in RELEASE_RULES)
    if isinstance(entry, ReleaseRule):
        return entry
    return entry.get(frequency) or entry["*"]


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
        The release rule applied.
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

    def summary(self) -> str:
        """One line of provenance."""
        when = "latest" if self.as_of is None else f"as of {self.as_of:%Y-%m-%d %H:%M}"
        flag = "" if self.real_time else " [not real-time: read back before our first fetch]"
        if self.extended_from is not None:
            flag = (
                f" [not real-time: rows after the vintage's end appended from vintage "
                f"{self.extended_from}, as published by then]"
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
        (``extended_from``, ``real_time=False``).

    Raises
    ------
    UnknownSeriesError
        No such series (close matches are suggested).
    InsufficientDataError
        Nothing of the series was public by ``as_of``; names its first publication date.
    """
    vint = store.vintages(series_id)
    rule = release_rule(series_id, store.meta(series_id).frequency)
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
    dates, vals = data.dates[:n], data.values[:n]
    extended_from = None
    if t is not None and real_time and k + 1 < len(vint):
        # The vintage known at t may end well before t (no fetch in between). Rows that a later
        # vintage holds beyond its end, and that were published by t, were public at t too:
        # append them, flagged (their values may carry revisions made after t).
        later_row = vint.iloc[-1]
        later = store.vintage_data(int(later_row["vintage_id"]))
        m = int(np.searchsorted(_published(later, rule), t.to_datetime64(), side="right"))
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
    )


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
        rule = release_rule(sid, store.meta(sid).frequency)
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
        """The release rule of the series (:func:`release_rule` at its stored frequency)."""
        return release_rule(series_id, self.store.meta(series_id).frequency)

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
