"""Return of a price level between two dates, with an all-time-high check, and fund breadth.

Pure functions for the claim checker's generic figures ("the Russell 2000 rallied 12% after
the cuts, to an all-time high"; "broad exposure to 2,000 stocks").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from smallcaps.analytics._jsonready import iso, jsonready
from smallcaps.errors import InsufficientDataError
from smallcaps.results import Result

ATH_TOLERANCE = 0.005  # within 0.5% of the running high counts as "at an all-time high"


@dataclass(frozen=True, slots=True)
class WindowReturn(Result):
    """Total change of a level from ``start`` to ``end`` and where ``end`` sits against its past.

    ``ret`` = level(end) / level(start) - 1, with start = the last observation on or before the
    asked start date (the close before an event) and end = the last on or before the asked end.
    ``peak_ret`` is the highest level inside the window against the start level. ``ath`` is true
    when level(end) is within ``ATH_TOLERANCE`` of the highest level up to ``end``.
    """

    series: str
    start: pd.Timestamp
    end: pd.Timestamp
    start_level: float
    end_level: float
    ret: float
    peak_ret: float
    peak_date: pd.Timestamp
    high: float
    high_date: pd.Timestamp
    from_high: float
    ath: bool
    first_date: pd.Timestamp
    sources: tuple[str, ...] = ()
    as_of: pd.Timestamp | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        """One line."""
        at = "at an all-time high" if self.ath else f"{self.from_high:+.1%} from its high"
        return (
            f"{self.series} {iso(self.start)}..{iso(self.end)}: {self.ret:+.1%} (peak "
            f"{self.peak_ret:+.1%} on {iso(self.peak_date)}); {at} (high {iso(self.high_date)}, "
            f"data from {iso(self.first_date)})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row of the figures."""
        return pd.DataFrame([self.to_dict()]).drop(columns=["notes", "sources"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields; ``return`` is ``ret``."""
        return jsonready({
            "measure": "returns.window", "series": self.series, "start": self.start,
            "end": self.end, "start_level": self.start_level, "end_level": self.end_level,
            "return": self.ret, "peak_return": self.peak_ret, "peak_date": self.peak_date,
            "high": self.high, "high_date": self.high_date, "from_high": self.from_high,
            "ath": self.ath, "first_date": self.first_date, "notes": list(self.notes),
            "sources": list(self.sources), "as_of": self.as_of,
            "method": "return = level(end) / level(start) - 1 with the last observation on or "
            "before each date; ath = level(end) >= (1 - 0.5%) x max level up to end",
        })  # fmt: skip


def window_return(
    level: pd.Series, start: pd.Timestamp, end: pd.Timestamp | None = None
) -> WindowReturn:
    """The return of ``level`` from ``start`` to ``end`` (default: its last date).

    Raises
    ------
    InsufficientDataError
        No observation on or before ``start`` or ``end``, or ``end`` before ``start``.
    """
    s = level.dropna().astype(float).sort_index()
    name = str(level.name)
    end = s.index[-1] if end is None else pd.Timestamp(end)
    before_start, before_end = s[s.index <= start], s[s.index <= end]
    if before_start.empty:
        raise InsufficientDataError(
            f"{name} starts {iso(s.index[0]) if len(s) else '-'}, after the window start "
            f"{iso(start)}"
        )
    if before_end.index[-1] <= before_start.index[-1]:
        raise InsufficientDataError(
            f"{name} ends {iso(s.index[-1])}: no observation after the window start "
            f"{iso(start)} up to {iso(end)}"
        )
    t0, t1 = before_start.index[-1], before_end.index[-1]
    inside = s[(s.index >= t0) & (s.index <= t1)]
    v0, v1 = float(s[t0]), float(s[t1])
    high_date = before_end.idxmax()
    high = float(before_end.max())
    return WindowReturn(
        series=name, start=t0, end=t1, start_level=v0, end_level=v1, ret=v1 / v0 - 1,
        peak_ret=float(inside.max()) / v0 - 1, peak_date=inside.idxmax(), high=high,
        high_date=high_date, from_high=v1 / high - 1, ath=v1 >= (1 - ATH_TOLERANCE) * high,
        first_date=s.index[0],
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Holdings(Result):
    """Breadth of a fund from one holdings snapshot: names held, top-10 weight, effective N.

    ``effective_n`` = 1 / sum of squared weights (weights renormalised to sum to 1).
    """

    fund: str
    date: pd.Timestamp
    n: int
    top10_weight: float
    effective_n: float
    largest: tuple[tuple[str, float], ...]
    sources: tuple[str, ...] = ()
    as_of: pd.Timestamp | None = None

    def summary(self) -> str:
        """One line."""
        return (
            f"{self.fund} on {iso(self.date)}: {self.n:,} holdings, top 10 = "
            f"{self.top10_weight:.1%} of the fund, effective number of names "
            f"{self.effective_n:,.0f}"
        )

    def to_frame(self) -> pd.DataFrame:
        """The largest holdings."""
        return pd.DataFrame(self.largest, columns=["ticker", "weight"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return jsonready({
            "measure": "vehicle.holdings", "fund": self.fund, "date": self.date, "n": self.n,
            "top10_weight": self.top10_weight, "effective_n": self.effective_n,
            "largest": [{"ticker": t, "weight": w} for t, w in self.largest],
            "sources": len(self.sources), "as_of": self.as_of,
            "method": "n = holdings with a positive weight in the latest snapshot; effective_n = "
            "1 / sum(w^2) with weights renormalised to 1",
        })  # fmt: skip


def holdings(fund: str, weights: dict[str, pd.Series]) -> Holdings:
    """Breadth from each holding's weight series, on the latest date any of them has.

    Raises
    ------
    InsufficientDataError
        No weights.
    """
    last = max((s.index[-1] for s in weights.values() if len(s)), default=None)
    if last is None:
        raise InsufficientDataError(f"no holdings of {fund} stored")
    w = pd.Series(
        {t: float(s.loc[last]) for t, s in weights.items() if len(s) and last in s.index},
        dtype=float,
    )
    w = w[w > 0].sort_values(ascending=False)
    share = w / w.sum()
    return Holdings(
        fund=fund, date=last, n=len(w), top10_weight=float(share.iloc[:10].sum()),
        effective_n=float(1.0 / (share**2).sum()),
        largest=tuple((str(t), float(x)) for t, x in share.iloc[:10].items()),
    )  # fmt: skip
