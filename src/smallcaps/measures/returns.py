"""Generic figures for claims: ``returns.window`` (a move between dates), ``vehicle.holdings``."""

from __future__ import annotations

import pandas as pd

from smallcaps.analytics.window import Holdings, WindowReturn, holdings, window_return
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.measures.size import Reader
from smallcaps.registry import View, register


@register(
    "returns.window",
    description=(
        "Return of a stored level between two dates (the close before start to the last close by "
        "end), its peak inside the window, and whether the end is at an all-time high."
    ),
)
def run_window(
    view: View,
    *,
    series: tuple[str, ...] = ("price/^RUT/adj_close", "price/^RUT/close", "price/IWM/adj_close"),
    start: str = "2025-09-16",
    end: str | None = None,
) -> WindowReturn:
    """Return of the first stored of ``series`` from ``start`` to ``end`` (default: last date).

    Parameters
    ----------
    view : View
    series : tuple of str
        Candidate ids; the first that covers the window is used (defaults: the Russell 2000
        from Yahoo, then IWM, which tracks it).
    start, end : str
        ``YYYY-MM-DD``; the level on or before each is used. The default start is the close
        before the Fed's 2025-09-17 cut, the first of late 2025's cuts.
    """
    try:
        t0 = pd.Timestamp(start)
        t1 = pd.Timestamp(end) if end else None
    except ValueError:
        raise ConfigError(
            f"returns.window: start/end must be dates, got {start!r}, {end!r}"
        ) from None
    read = Reader(view)
    why = []
    for sid in series:  # the first candidate that covers the window
        level = read.maybe(sid, sid)
        if level is None:
            why.append(f"{sid} not stored or not public")
            continue
        try:
            result = window_return(level, t0, t1)
        except InsufficientDataError as exc:
            why.append(str(exc))
            continue
        read.ids[:] = [sid]  # provenance: the series used, not the candidates tried
        return read.stamp(result)
    raise InsufficientDataError(f"returns.window: no series covers the window ({'; '.join(why)})")


@register(
    "vehicle.holdings",
    description=(
        "Breadth of a fund from its latest iShares holdings snapshot: number of names, top-10 "
        "weight, effective number of names."
    ),
)
def run_holdings(view: View, *, fund: str = "IWM") -> Holdings:
    """Breadth of ``fund`` from ``ishares/<fund>/weight/<TICKER>`` series.

    Raises
    ------
    InsufficientDataError
        No holdings of the fund stored: ``smallcaps fetch ishares:<fund>``.
    """
    prefix = f"ishares/{fund}/weight/"
    ids = [i for i in view.ids(prefix)] if hasattr(view, "ids") else []
    if not ids:
        raise InsufficientDataError(
            f"vehicle.holdings: no holdings of {fund} stored; run `smallcaps fetch ishares:{fund}`"
        )
    read = Reader(view)
    weights = {}
    for sid in ids:
        s = read.maybe(sid, sid.removeprefix(prefix))
        if s is not None:
            weights[sid.removeprefix(prefix)] = s
    if not weights:
        raise InsufficientDataError(f"vehicle.holdings: no {fund} snapshot public as of the view")
    return read.stamp(holdings(fund, weights))
