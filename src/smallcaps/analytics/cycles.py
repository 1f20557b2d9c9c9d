"""Leadership cycles of small versus large caps: relative wealth, dated peaks and troughs.

Relative wealth is small-cap wealth divided by large-cap wealth: it rises while small caps lead
and falls while large caps lead. Its turning points are dated with a reversal rule (a zigzag, as
bull and bear markets are dated with a 20% rule; Lunde and Timmermann 2004, "Duration dependence
in stock prices", JBES 22(3)): a running maximum becomes a **peak** once relative wealth has
fallen ``threshold`` below it, a running minimum becomes a **trough** once relative wealth has
risen ``threshold`` above it. Peaks and troughs therefore alternate, and each is known only on
its *confirmation* date, which the result also reports. A leg from a trough to the next peak is a
small-cap cycle; from a peak to the next trough, a large-cap cycle.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from smallcaps.analytics._jsonready import jsonready
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.results import Result

Kind = Literal["returns", "prices"]
DAYS_PER_MONTH = 365.25 / 12
TOL = 1e-9  # relative tolerance for equal values in turning_points


def relative_wealth(small: pd.Series, large: pd.Series, *, kind: Kind) -> pd.Series:
    """Wealth of ``small`` relative to ``large`` on their common dates.

    Parameters
    ----------
    small, large : Series
        Decimal returns per period (``kind="returns"``) or price levels, total-return or not
        (``kind="prices"``), on a DatetimeIndex.
    kind : {"returns", "prices"}
        What the inputs are; never guessed from the values.

    Returns
    -------
    Series
        Returns: ``prod(1 + r_small) / prod(1 + r_large)`` up to each date (the first value is
        the first period's relative gross return, the base of 1 sits one period earlier).
        Prices: ``(P_small / P_small[0]) / (P_large / P_large[0])`` (1 on the first common date).

    Raises
    ------
    InsufficientDataError
        Fewer than two common dates, or a gap (NaN) inside the common span of return series.
    ConfigError
        An unknown ``kind``, or a price that is not positive.
    """
    if kind not in ("returns", "prices"):
        raise ConfigError(f"relative_wealth: kind must be 'returns' or 'prices', got {kind!r}")
    both = pd.concat({"small": small, "large": large}, axis=1, join="inner", sort=True).sort_index()
    valid = both.notna().all(axis=1).to_numpy()
    if valid.sum() < 2:
        raise InsufficientDataError(
            f"relative wealth of {small.name!r} and {large.name!r} needs two common dates with "
            f"values, got {int(valid.sum())}"
        )
    first, last = int(valid.argmax()), len(valid) - int(valid[::-1].argmax())
    if kind == "returns":
        both = both.iloc[first:last]
        gaps = both.isna().any(axis=1)
        if gaps.any():
            raise InsufficientDataError(
                f"return series have a gap on {gaps.idxmax():%Y-%m-%d} inside their common span; "
                "a missing return cannot be skipped without changing the wealth path"
            )
        gross = np.log1p(both["small"].to_numpy()) - np.log1p(both["large"].to_numpy())
        values = np.exp(np.cumsum(gross))
    else:
        both = both[valid]
        if (both <= 0).to_numpy().any():
            raise ConfigError("relative_wealth: prices must be positive")
        s, lg = both["small"].to_numpy(), both["large"].to_numpy()
        values = (s / s[0]) / (lg / lg[0])
    return pd.Series(values, index=both.index, name="relative_wealth")


def turning_points(wealth: pd.Series, *, threshold: float = 0.25) -> pd.DataFrame:
    """Alternating peaks and troughs of a positive series under a reversal rule.

    Parameters
    ----------
    wealth : Series
        Positive values (relative wealth) on a DatetimeIndex.
    threshold : float, default 0.25
        A peak is confirmed when the series falls to ``(1 - threshold)`` times the running
        maximum, a trough when it rises to ``(1 + threshold)`` times the running minimum
        (values within a relative ``1e-9`` count as equal).

    Returns
    -------
    DataFrame
        Index ``date`` (the turn), columns ``kind`` (``"peak"``/``"trough"``), ``value`` and
        ``confirmed`` (the first date the rule knew it). Empty when the series never reverses.
    """
    _check_threshold(threshold)
    v = wealth.to_numpy(dtype=float)
    if len(v) and not (np.isfinite(v).all() and (v > 0).all()):
        raise ConfigError("turning_points: the series must be positive and have no NaN")
    # Values within a relative TOL count as equal, so rounding noise (prices scaled by a
    # constant, a ratio computed another way) cannot move a turn: a plateau's first date is
    # its turn, and a move within TOL of the threshold reaches it.
    down, up = (1.0 - threshold) * (1.0 + TOL), (1.0 + threshold) * (1.0 - TOL)
    turns: list[tuple[int, str, int]] = []  # (turn index, kind, confirmation index)
    state = 0  # 0: no turn yet, 1: rising since a trough, -1: falling since a peak
    hi_i = lo_i = 0
    # A plain loop: each step depends on the previous state (no vectorised form), and 26,000
    # daily points take a few milliseconds.
    for i in range(1, len(v)):
        x = v[i]
        if state >= 0 and x > v[hi_i] * (1.0 + TOL):
            hi_i = i
        if state <= 0 and x < v[lo_i] * (1.0 - TOL):
            lo_i = i
        if state >= 0 and x <= v[hi_i] * down:
            turns.append((hi_i, "peak", i))
            state, lo_i = -1, i
        elif state <= 0 and x >= v[lo_i] * up:
            turns.append((lo_i, "trough", i))
            state, hi_i = 1, i
    idx = wealth.index
    return pd.DataFrame(
        {
            "kind": np.array([k for _, k, _ in turns], dtype=object),
            "value": np.array([v[t] for t, _, _ in turns], dtype=float),
            "confirmed": pd.DatetimeIndex([idx[c] for _, _, c in turns]),
        },
        index=pd.DatetimeIndex([idx[t] for t, _, _ in turns], name="date"),
    )


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: comparing Series fields is ambiguous
class SizeCycles(Result):
    """Dated small-versus-large leadership cycles and where the current one stands.

    Attributes
    ----------
    wealth : Series
        Relative wealth small / large (see :func:`relative_wealth`).
    turns : DataFrame
        Peaks and troughs (see :func:`turning_points`).
    cycles : DataFrame
        One row per completed leg between two turns: ``leader`` (``"small"`` from a trough to a
        peak, ``"large"`` from a peak to a trough), ``start``, ``end``, ``months``, ``move``
        (relative wealth at end / at start - 1).
    leader : str
        Leader of the open leg since the last turn: ``"small"`` after a trough, ``"large"``
        after a peak, ``"undetermined"`` before the first turn.
    start : Timestamp
        Start of the open leg (the last turn, else the first date).
    age_months : float
        Months from ``start`` to the last date.
    move : float
        Relative wealth on the last date / at ``start`` - 1.
    drawdown : float
        Relative wealth on the last date / its maximum since ``start`` - 1 (<= 0).
    rebound : float
        Relative wealth on the last date / its minimum since ``start`` - 1 (>= 0).
    extreme : Timestamp
        Date of the open leg's running extreme, the turn-to-be if confirmed: its minimum when
        large caps lead, its maximum when small caps lead (``start`` before the first turn).
    age_percentile, move_percentile : float
        Share of completed legs with the same leader that were at most as long (in months) and
        at most as large (in absolute move) as the open leg so far; NaN when there are none.
    threshold : float
        The reversal threshold.
    """

    wealth: pd.Series
    turns: pd.DataFrame
    cycles: pd.DataFrame
    leader: str
    start: pd.Timestamp
    age_months: float
    move: float
    drawdown: float
    rebound: float
    extreme: pd.Timestamp
    age_percentile: float
    move_percentile: float
    threshold: float
    small_name: str = "small"
    large_name: str = "large"
    method: str = ""
    sources: tuple[str, ...] = ()
    as_of: pd.Timestamp | None = None

    @property
    def last_date(self) -> pd.Timestamp:
        """The last date of the relative-wealth series."""
        return pd.Timestamp(self.wealth.index[-1])

    def to_frame(self) -> pd.DataFrame:
        """Completed cycles plus the open leg (``complete`` False) as the last row."""
        current = pd.DataFrame(
            {
                "leader": [self.leader],
                "start": [self.start],
                "end": [self.last_date],
                "months": [self.age_months],
                "move": [self.move],
                "complete": [False],
            }
        )
        done = self.cycles.assign(complete=True)
        return pd.concat([done, current], ignore_index=True) if len(done) else current

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields: the cycles, the turns, the open leg and the method."""
        return jsonready(
            {
                "measure": "size.cycles",
                "small": self.small_name,
                "large": self.large_name,
                "first_date": self.wealth.index[0],
                "last_date": self.last_date,
                "threshold": self.threshold,
                "n_cycles": len(self.cycles),
                "cycles": self.cycles,
                "turns": self.turns,
                "current": {
                    "leader": self.leader,
                    "start": self.start,
                    "age_months": self.age_months,
                    "move": self.move,
                    "drawdown": self.drawdown,
                    "rebound": self.rebound,
                    "extreme": self.extreme,
                    "age_percentile": self.age_percentile,
                    "move_percentile": self.move_percentile,
                },
                "relative_wealth_last": float(self.wealth.iloc[-1]),
                "method": self.method,
                "sources": list(self.sources),
                "as_of": self.as_of,
            }
        )

    def summary(self) -> str:
        """A few lines: the cycle history, the open leg, and whether a small-cap cycle is on."""
        c = self.cycles
        head = (
            f"Relative wealth {self.small_name} / {self.large_name}, "
            f"{self.wealth.index[0]:%Y-%m} to {self.last_date:%Y-%m}, "
            f"{self.threshold:.0%} reversals: {len(c)} completed cycles"
        )
        parts = []
        for who in ("small", "large"):
            mine = c[c["leader"] == who]
            if len(mine):
                parts.append(
                    f"{len(mine)} led by {who} caps (median {mine['months'].median():.0f} months, "
                    f"median move {mine['move'].median():+.0%})"
                )
        lines = [head + (": " + "; ".join(parts) if parts else "") + "."]
        if self.leader == "undetermined":
            lines.append(
                f"No {self.threshold:.0%} reversal yet since {self.start:%Y-%m}: "
                "no cycle can be dated."
            )
            return "\n".join(lines)
        same = int((self.cycles["leader"] == self.leader).sum())
        plural = "cycle" if same == 1 else "cycles"
        pct = (
            f", longer than {self.age_percentile:.0%} and larger than "
            f"{self.move_percentile:.0%} of the {same} past {self.leader}-cap {plural}"
            if same
            else f", the first {self.leader}-cap cycle in this sample"
        )
        lines.append(
            f"Now: {self.leader} caps have led since the {self._turn_word()} of "
            f"{self.start:%Y-%m}: {self.age_months:.0f} months, relative move "
            f"{self.move:+.1%}{pct}."
        )
        if self.leader == "large":
            needed = self.threshold
            lines.append(
                f"Small caps are {self.rebound:+.1%} off this leg's low ({self.extreme:%Y-%m}); "
                f"a new small-cap "
                f"cycle needs a {needed:.0%} rebound, so by this rule the data do not show a "
                "small-cap leadership cycle under way."
            )
        else:
            lines.append(
                f"Small caps are {self.drawdown:+.1%} from this leg's high ({self.extreme:%Y-%m}); "
                "the small-cap cycle "
                f"ends if that reaches -{self.threshold:.0%}."
            )
        return "\n".join(lines)

    def _turn_word(self) -> str:
        return "trough" if self.leader == "small" else "peak"


def size_cycles(
    small: pd.Series,
    large: pd.Series,
    *,
    kind: Kind,
    threshold: float = 0.25,
    min_obs: int = 24,
) -> SizeCycles:
    """Date the leadership cycles of ``small`` versus ``large`` and place the current one.

    Parameters
    ----------
    small, large : Series
        Returns or prices (see :func:`relative_wealth`); their names label the result.
    kind : {"returns", "prices"}
        What the inputs are.
    threshold : float, default 0.25
        Reversal threshold in (0, 1) (see :func:`turning_points`).
    min_obs : int, default 24
        Fewest common dates accepted.

    Returns
    -------
    SizeCycles

    Raises
    ------
    ConfigError
        ``threshold`` outside (0, 1), or an unknown ``kind``.
    InsufficientDataError
        Fewer than ``min_obs`` common dates.
    """
    _check_threshold(threshold)
    wealth = relative_wealth(small, large, kind=kind)
    if len(wealth) < min_obs:
        raise InsufficientDataError(
            f"size_cycles needs {min_obs} common dates of {small.name!r} and {large.name!r}, "
            f"got {len(wealth)}"
        )
    turns = turning_points(wealth, threshold=threshold)
    monthly = bool(wealth.index.is_month_end.all())
    dates = list(turns.index)
    cycles = pd.DataFrame(
        {
            "leader": ["small" if k == "trough" else "large" for k in turns["kind"].iloc[:-1]],
            "start": pd.DatetimeIndex(dates[:-1]),
            "end": pd.DatetimeIndex(dates[1:]),
            "months": [_months(a, b, monthly) for a, b in itertools.pairwise(dates)],
            "move": turns["value"].to_numpy()[1:] / turns["value"].to_numpy()[:-1] - 1.0,
        }
    )
    if len(turns):
        start = pd.Timestamp(dates[-1])
        leader = "small" if turns["kind"].iloc[-1] == "trough" else "large"
    else:
        start, leader = pd.Timestamp(wealth.index[0]), "undetermined"
    leg = wealth[start:]
    now = float(wealth.iloc[-1])
    age = _months(start, wealth.index[-1], monthly)
    move = now / float(leg.iloc[0]) - 1.0
    same = cycles[cycles["leader"] == leader]
    if len(same):
        age_pct = float((same["months"] <= age + 1e-9).mean())
        move_pct = float((same["move"].abs() <= abs(move)).mean())
    else:
        age_pct = move_pct = float("nan")
    unit = "calendar months" if monthly else "days / 30.44"
    method = (
        f"relative wealth = {'compounded returns' if kind == 'returns' else 'price relatives'} "
        f"of small / large; a peak (trough) is the running maximum (minimum) once relative "
        f"wealth has fallen (risen) {threshold:.0%} from it; cycles run between consecutive "
        f"turns; months in {unit}; percentiles against completed cycles with the same leader"
    )
    return SizeCycles(
        wealth=wealth,
        turns=turns,
        cycles=cycles,
        leader=leader,
        start=start,
        age_months=age,
        move=move,
        drawdown=now / float(leg.max()) - 1.0,
        rebound=now / float(leg.min()) - 1.0,
        extreme=pd.Timestamp(
            leg.idxmax() if leader == "small" else leg.idxmin() if leader == "large" else start
        ),
        age_percentile=age_pct,
        move_percentile=move_pct,
        threshold=threshold,
        small_name=str(small.name) if small.name is not None else "small",
        large_name=str(large.name) if large.name is not None else "large",
        method=method,
    )


def _check_threshold(threshold: float) -> None:
    if not 0.0 < threshold < 1.0:
        raise ConfigError(
            f"reversal threshold must be in (0, 1), e.g. 0.25 for 25%; got {threshold!r}"
        )


def _months(start: pd.Timestamp, end: pd.Timestamp, monthly: bool) -> float:
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if monthly:
        return float((end.year - start.year) * 12 + end.month - start.month)
    return (end - start).days / DAYS_PER_MONTH


__all__ = ["SizeCycles", "relative_wealth", "size_cycles", "turning_points"]
