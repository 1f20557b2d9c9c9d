"""Event sets: dated events a window can start or end at, each used only once it was known.

An :class:`EventSet` holds each event's *date* (what windows anchor on) and the date it became
known (*announced*). Sets:

- ``nber.peak``, ``nber.trough``: NBER turning points, dated at the first day of the turning
  point's month and known from NBER's announcement (:data:`smallcaps.analytics.fed.NBER_
  ANNOUNCEMENTS`; turning points not listed there: ``lag_months`` after the month's end);
- ``fed.first_cut``, ``fed.first_hike``: the first move of an easing or tightening cycle by
  :func:`smallcaps.analytics.fed.easing_cycles` (a move of at least ``min_move`` after net moves
  the other way of at least ``min_opposite``, or after ``pause_days`` without a change), dated
  at the FOMC's announcement;
- ``fomc.meeting``: meeting dates from a list;
- ``user:<name>`` or any stored id: the dates a series has a non-zero value;
- ``dates:YYYY-MM-DD,YYYY-MM-DD,...``: dates written in the claim.

Everything is pure; the measurement reads the inputs through the as-of door.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from smallcaps.analytics import fed
from smallcaps.errors import ConfigError, InsufficientDataError

NAMED = ("nber.peak", "nber.trough", "fed.first_cut", "fed.first_hike", "fomc.meeting")
PREFIXES = ("dates:", "user:", "events/")


@dataclass(frozen=True, slots=True, eq=False)
class EventSet:
    """Dated events and when each became known.

    ``dates`` and ``announced`` are aligned, sorted by date; ``hidden`` counts events the data
    holds that were not yet known at ``as_of`` (left out).
    """

    name: str
    dates: pd.DatetimeIndex
    announced: pd.DatetimeIndex
    description: str
    hidden: int = 0

    def __len__(self) -> int:
        return len(self.dates)


def check_name(name: str) -> str:
    """``name`` if it names an event set, else ConfigError listing the kinds."""
    if name in NAMED or (name.startswith(PREFIXES) and len(name.split(":", 1)[-1]) > 0):
        return name
    raise ConfigError(
        f"unknown event set {name!r} (known: {', '.join(NAMED)}, user:<name>, dates:YYYY-MM-DD,...)"
    )


def _known(
    name: str, dates: pd.DatetimeIndex, announced: pd.DatetimeIndex,
    as_of: pd.Timestamp | None, description: str,
) -> EventSet:  # fmt: skip
    order = dates.argsort()
    dates, announced = dates[order], announced[order]
    keep = announced <= as_of if as_of is not None else pd.Series(True, index=dates).to_numpy()
    return EventSet(name, dates[keep], announced[keep], description, int((~keep).sum()))


def nber(
    kind: str,
    peaks: pd.DatetimeIndex,
    troughs: pd.DatetimeIndex,
    *,
    as_of: pd.Timestamp | None,
    lag_months: int = fed.NBER_FALLBACK_LAG_MONTHS,
) -> EventSet:
    """NBER peaks or troughs (``kind``) announced by ``as_of`` (None: all)."""
    tp = fed.nber_announcements(peaks, troughs, lag_months=lag_months)
    tp = tp[tp["kind"] == kind]
    desc = (
        f"NBER business-cycle {kind}s (the first day of the turning-point month), each used "
        "only from NBER's announcement"
    )
    return _known(f"nber.{kind}", pd.DatetimeIndex(tp["month"]),
                  pd.DatetimeIndex(tp["announced"]), as_of, desc)  # fmt: skip


def first_moves(
    changes: pd.DataFrame,
    direction: str,
    *,
    as_of: pd.Timestamp | None,
    pause_days: int = 180,
    min_move: float = 0.25,
    min_opposite: float = 0.25,
    end: pd.Timestamp | None = None,
) -> EventSet:
    """First cuts (``direction="cut"``) or first hikes (``"hike"``) of the target rate.

    A first hike is a first cut of the mirrored path (every level negated), so both follow
    :func:`smallcaps.analytics.fed.easing_cycles` with ``min_cut=min_move`` and
    ``min_hike=min_opposite``.
    """
    if direction not in ("cut", "hike"):
        raise ConfigError(f"direction must be 'cut' or 'hike', not {direction!r}")
    c = changes.copy()
    if direction == "hike":
        c["old"], c["new"] = -c["old"], -c["new"]
    cycles = fed.easing_cycles(c, pause_days=pause_days, min_hike=min_opposite,
                               min_cut=min_move, end=end)  # fmt: skip
    ann = pd.DatetimeIndex(cycles["announced"])
    desc = (
        f"first {direction}s of the federal funds target: a {direction} of at least "
        f"{min_move:g} pp after net moves the other way of at least {min_opposite:g} pp or "
        f"{pause_days} days without a change; dated at the FOMC announcement"
    )
    return _known(f"fed.first_{direction}", ann, ann, as_of, desc)


def from_series(name: str, values: pd.Series, *, description: str = "") -> EventSet:
    """The dates a stored series has a non-zero value (a list of dates stored as 1.0)."""
    s = values.dropna()
    dates = pd.DatetimeIndex(s.index[s.to_numpy() != 0]).normalize()
    if not len(dates):
        raise InsufficientDataError(f"event set {name}: no dated events")
    return EventSet(name, dates, dates, description or f"dates of {name}")


def from_text(text: str, *, as_of: pd.Timestamp | None) -> EventSet:
    """Dates written in a claim: ``dates:2009-03-09,2020-03-23`` (``,`` or ``;`` between).

    Dates after ``as_of`` are left out.
    """
    body = text.split(":", 1)[1]
    parts = [p.strip() for p in body.replace(";", ",").split(",") if p.strip()]
    try:
        dates = pd.DatetimeIndex([pd.Timestamp(p) for p in parts]).normalize()
    except ValueError:
        raise ConfigError(
            f"event set {text!r}: expected dates YYYY-MM-DD separated by ','"
        ) from None
    if not len(dates):
        raise ConfigError(f"event set {text!r} lists no dates")
    return _known("dates", dates.sort_values(), dates.sort_values(), as_of,
                  "dates given in the claim")  # fmt: skip
