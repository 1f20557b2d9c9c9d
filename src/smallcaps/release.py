"""Release rules: when an observation became public, as a function of its date stamp.

A :class:`ReleaseRule` maps ``datetime64[D]`` stamps to publication dates. This module holds
the rule type, the date arithmetic publishers build their rules with (:func:`month_end`,
:func:`quarter_end`, :func:`year_end`) and the rules that follow an agency's calendar rather
than one publisher's (BLS, BEA, NBER, the Chicago Fed, "next business day"). A publisher's own
rules live in its module and reach :data:`smallcaps.access.RELEASE_RULES` through its
registration (:mod:`smallcaps.publishers`).

It imports nothing from the package, so every layer may use it.

Business days are US federal business days from pandas' ``USFederalHolidayCalendar`` (the Federal
Reserve's calendar, with today's rules: before 1971 some holidays fell on other days, so an old
date can be off by a day). ``exchange_calendars`` would give NYSE days (Good Friday closed,
Columbus Day open); it is not a dependency, so prices use "same day" and iShares "next federal
business day".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import TypeAlias

import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar

TimeLike: TypeAlias = str | date | datetime | pd.Timestamp | np.datetime64
_DAY = np.timedelta64(1, "D")


# -- date arithmetic on datetime64[D] arrays (publishers build their rules with these) ----------


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


def month_end(d: np.ndarray, months_after: int = 0) -> np.ndarray:
    """The last day of the month ``months_after`` months after each stamp's month."""
    return (d.astype("datetime64[M]") + (months_after + 1)).astype("datetime64[D]") - _DAY


def _month_start(d: np.ndarray, months_after: int = 0) -> np.ndarray:
    return (d.astype("datetime64[M]") + months_after).astype("datetime64[D]")


def quarter_end(d: np.ndarray, quarters_after: int = 0) -> np.ndarray:
    """The last day of the quarter ``quarters_after`` quarters after each stamp's quarter."""
    m = d.astype("datetime64[M]")
    last_month = m + (2 - m.astype(np.int64) % 3) + 3 * quarters_after  # 1970-01 is a Q1 month
    return (last_month + 1).astype("datetime64[D]") - _DAY


def year_end(d: np.ndarray) -> np.ndarray:
    """December 31 of each stamp's year."""
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


#: a row of the release table: one rule, or one per frequency (``"*"``: any other frequency)
RuleEntry = ReleaseRule | Mapping[str, ReleaseRule]

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
    lambda d: month_end(d) + 15 * _DAY,
)
GDP_ADVANCE = ReleaseRule(
    "gdp_advance",
    "30 days after the reference quarter ends (BEA advance estimate; revisions are later vintages)",
    lambda d: quarter_end(d) + 30 * _DAY,
)
NFCI_RELEASE = ReleaseRule(
    "nfci_release", "the Wednesday after the week's Friday stamp (Chicago Fed)", _next_wednesday
)
NBER_RELEASE = ReleaseRule(
    "nber_release",
    "12 months after the reference month ends (NBER dates turning points late; conservative)",
    lambda d: month_end(d, 12),
)
END_OF_NEXT_MONTH = ReleaseRule(
    "end_of_next_month",
    "the end of the month after the observation's month",
    lambda d: month_end(d, 1),
)
ONE_WEEK = ReleaseRule("one_week", "7 days after the stamp", lambda d: d + 7 * _DAY)
END_OF_NEXT_QUARTER = ReleaseRule(
    "end_of_next_quarter",
    "the end of the quarter after the observation's quarter",
    lambda d: quarter_end(d, 1),
)
END_OF_MARCH_NEXT_YEAR = ReleaseRule(
    "end_of_march_next_year",
    "the end of March after the observation's year",
    lambda d: month_end(year_end(d), 3),
)


# -- real release calendars ----------------------------------------------------------------------

#: a series' release calendar is stored as ``release/<SERIES>``: one row per publication day
CALENDAR_PREFIX = "release/"


def calendar_id(series_id: str) -> str:
    """The id a series' release calendar is stored under (``CPIAUCSL`` -> ``release/CPIAUCSL``)."""
    return CALENDAR_PREFIX + series_id


def period_end(d: np.ndarray, frequency: str) -> np.ndarray:
    """The last day of the period each stamp opens (daily and weekly stamps are that day)."""
    if frequency == "M":
        return month_end(d)
    if frequency == "Q":
        return quarter_end(d)
    if frequency == "A":
        return year_end(d)
    return d


def calendar_rule(
    days: np.ndarray, frequency: str, fallback: ReleaseRule, *, name: str, description: str
) -> ReleaseRule:
    """A rule that dates each observation by the publisher's real release days.

    An observation is published on the first release day after its period ends; observations
    whose period ends before the calendar's first day, or after its last, are dated by
    ``fallback`` (the rule table).

    Parameters
    ----------
    days : ndarray
        The release days, ``datetime64``, sorted.
    frequency : str
        The series' frequency (``D W M Q A``), for the end of each stamp's period.
    fallback : ReleaseRule
        The rule outside the calendar.
    name, description : str
        Of the new rule (the name keys cached publication dates: make it unique per calendar).
    """
    cal = np.asarray(days, dtype="datetime64[D]")

    def publish(d: np.ndarray) -> np.ndarray:
        other = fallback.publish(d)
        if not len(cal) or not len(d):
            return other
        end = period_end(d, frequency)
        i = np.searchsorted(cal, end, side="right")
        inside = (end >= cal[0]) & (i < len(cal))
        return np.where(inside, cal[np.minimum(i, len(cal) - 1)], other)

    return ReleaseRule(name, description, publish)
