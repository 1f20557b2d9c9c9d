"""Size pillar: ``size.cycles`` (leadership cycles) and ``size.premium`` (SMB and small - large).

Defaults read the Ken French files of the mirror: value-weight returns of the bottom and top
size quintiles (``Portfolios_Formed_on_ME``, ``Lo 20`` and ``Hi 20``) and the monthly SMB factor
(``F-F_Research_Data_Factors``). Any two stored series can be compared instead, e.g.
``small=price/^RUT/adj_close large=price/^GSPC/adj_close`` or ``price/IWM/adj_close`` and
``price/SPY/adj_close``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd

from smallcaps import publishers
from smallcaps.analytics.cycles import Kind, SizeCycles, size_cycles
from smallcaps.analytics.premium import SizePremium, parse_period, size_premium
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.registry import View, register

ME_RETURNS = publishers.series_id(
    "french", "Portfolios_Formed_on_ME", "Average Value Weight Returns -- Monthly"
)
SMALL = f"{ME_RETURNS}/Lo 20"
LARGE = f"{ME_RETURNS}/Hi 20"
SMB = publishers.series_id("french", "F-F_Research_Data_Factors", "Monthly", "SMB")
PERIODS = ("1926-07:1981-12", "1982-01:1999-12", "2000-01:")  # to Banz (1981), to 1999, since


@dataclass
class Reader:
    """Reads series from a view, renamed to short labels, and remembers every id it read."""

    view: View
    ids: list[str] = field(default_factory=list)

    def __call__(self, series_id: str, label: str | None = None) -> pd.Series:
        """The series (float, sorted by date), named ``label`` or a short label of its id."""
        if not series_id:
            raise ConfigError("empty series id; pass a stored id such as 'price/IWM/adj_close'")
        s = self.view.series(series_id)
        self.ids.append(series_id)
        s = s.astype(float).sort_index()
        return s.rename(label if label is not None else short_label(series_id))

    def maybe(self, series_id: str, label: str | None = None) -> pd.Series | None:
        """Like calling the reader, but None when the series is absent or empty as of the view."""
        if not series_id or not self.view.has(series_id):
            return None
        try:
            return self(series_id, label)
        except InsufficientDataError:
            return None

    def stamp(self, result: Any) -> Any:
        """``result`` with ``sources`` (the ids read) and ``as_of`` (the view's) filled in."""
        return dataclasses.replace(result, sources=tuple(self.ids), as_of=self.view.as_of)


def short_label(series_id: str) -> str:
    """``price/IWM/adj_close`` -> ``IWM``; ``french/<dataset>/<section>/<col>`` -> ``<col>``."""
    parts = series_id.split("/")
    if parts[0] in ("price", "stooq") and len(parts) >= 3:
        return parts[1]
    if parts[0] == "french" and len(parts) >= 4:
        return parts[-1]
    return series_id


def kind_of(series_id: str) -> str:
    """Whether a stored series holds ``"returns"`` or ``"prices"``, from its id's scheme.

    Raises
    ------
    ConfigError
        The id's scheme does not say (a user series): pass ``kind=returns`` or ``kind=prices``.
    """
    parts = series_id.split("/")
    if parts[0] in ("price", "stooq") and len(parts) >= 3 and "volume" not in parts[-1]:
        return "prices"
    if parts[0] == "french" and len(parts) >= 4:
        section = parts[2]
        if "return" in section or section in ("monthly", "daily", "weekly", "annual"):
            return "returns"
    raise ConfigError(
        f"cannot tell whether {series_id!r} holds returns or prices; pass kind=returns or "
        "kind=prices"
    )


@register(
    "size.cycles",
    description=(
        "Relative wealth of small vs large caps (default French bottom vs top size quintile, "
        "1926 on), leadership cycles dated by a reversal threshold, and where the current "
        "cycle stands against past ones."
    ),
)
def run_cycles(
    view: View,
    *,
    small: str = SMALL,
    large: str = LARGE,
    kind: str = "auto",
    threshold: float = 0.25,
    min_obs: int = 24,
) -> SizeCycles:
    """Leadership cycles of ``small`` versus ``large``.

    Parameters
    ----------
    view : View
        Series as of a date.
    small, large : str
        Series ids: returns (French portfolios) or prices (``price/<TICKER>/adj_close``).
    kind : {"auto", "returns", "prices"}
        ``auto`` reads it from the ids' scheme (see :func:`kind_of`).
    threshold : float, default 0.25
        Reversal threshold in (0, 1).
    min_obs : int, default 24
        Fewest common dates.
    """
    if kind not in ("auto", "returns", "prices"):
        raise ConfigError(f"size.cycles: kind must be auto, returns or prices; got {kind!r}")
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"size.cycles: threshold must be in (0, 1), e.g. 0.25; got {threshold}")
    read = Reader(view)
    s, lg = read(small), read(large)  # an unknown id fails here, with close matches
    if kind == "auto":
        kinds = {kind_of(small), kind_of(large)}
        if len(kinds) > 1:
            raise ConfigError(
                f"size.cycles: {small!r} and {large!r} are not both returns or both prices"
            )
        kind = kinds.pop()
    result = size_cycles(s, lg, kind=cast(Kind, kind), threshold=threshold, min_obs=min_obs)
    return read.stamp(result)


@register(
    "size.premium",
    description=(
        "SMB and small-minus-large returns: annualised mean, volatility and Newey-West t over "
        "the full sample and sub-periods; rolling 10-year premium."
    ),
)
def run_premium(
    view: View,
    *,
    smb: str = SMB,
    small: str = SMALL,
    large: str = LARGE,
    periods: tuple[str, ...] = PERIODS,
    lags: int | None = None,
    window: int = 120,
    min_obs: int = 24,
) -> SizePremium:
    """Size-premium statistics.

    Parameters
    ----------
    view : View
        Series as of a date.
    smb : str
        Id of a premium return series (SMB); empty to leave it out.
    small, large : str
        Ids of two return series whose difference is the second premium; empty to leave out.
    periods : tuple of str
        Sub-periods ``"YYYY-MM:YYYY-MM"`` (either side may be empty). Default periods that
        the data as of the view do not reach (fewer than ``min_obs`` months) are skipped;
        periods given explicitly must have ``min_obs`` months.
    lags : int, optional
        Newey-West lags; None: ``floor(4 (T/100)^(2/9))`` per period.
    window : int, default 120
        Rolling window in months.
    min_obs : int, default 24
        Fewest months per series and period.
    """
    read = Reader(view)
    columns = {}
    if smb:
        columns["SMB"] = read(smb, "SMB")
    if small and large:
        for sid in (small, large):
            if kind_of(sid) != "returns":
                raise ConfigError(f"size.premium: {sid!r} is not a return series")
        s, lg = read(small), read(large)
        columns[f"{s.name} - {lg.name}"] = (s - lg).dropna()
    if not columns:
        raise ConfigError("size.premium: nothing to measure; pass smb= or small= and large=")
    frame = pd.concat(columns, axis=1, sort=True)
    parsed = [parse_period(p) for p in periods]
    if tuple(periods) == PERIODS:  # the defaults adapt to what is known as of the view
        parsed = [p for p in parsed if _months_in(frame, p) >= min_obs]
    result = size_premium(
        frame,
        periods=parsed,
        lags=lags,
        window=window,
        min_obs=min_obs,
    )
    return read.stamp(result)


def _months_in(frame: pd.DataFrame, period: tuple[str | None, str | None]) -> int:
    lo = pd.Timestamp(period[0]) if period[0] else None
    hi = pd.Timestamp(period[1]) + pd.offsets.MonthEnd(0) if period[1] else None
    return int(frame.loc[lo:hi].notna().all(axis=1).sum())
