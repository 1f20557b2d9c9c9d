"""Yahoo Finance daily prices: live through yfinance, and every CSV layout people save them in.

:func:`fetch` calls ``yfinance.download(..., period="max", auto_adjust=False)`` so that the whole
history arrives with both the close and the adjusted close, and writes the frame as Yahoo's
classic CSV; :func:`parse` reads that and every layout found in the data mirror, so live and
mirrored bytes take the same path:

========================  =============================================  ===============
layout                    header                                         ``close`` is
========================  =============================================  ===============
``yahoo_classic``         ``Date,Open,High,Low,Close,Adj Close,Volume``  not adjusted
``yf_ohlcv``              ``Date,Open,High,Low,Close,Volume``            adjusted [1]_
``yf_auto_adjust``        ``Date,Close,High,Low,Open,Volume``            adjusted [1]_
``yf_auto_adjust_false``  ``Date,Adj Close,Close,High,Low,Open,Volume``  not adjusted
``yf_multiindex``         ``Price,...`` / ``Ticker,...`` / ``Date,,,``   either [2]_
========================  =============================================  ===============

.. [1] yfinance's default ``auto_adjust=True`` adjusts open, high, low and close for splits and
   dividends and drops ``Adj Close``. The file cannot prove it; the layout is the evidence.
.. [2] a ``DataFrame.to_csv`` of yfinance's ``(Price, Ticker)`` columns; adjusted when there is
   no ``Adj Close`` among the fields. The ticker is read from the second line.

"Not adjusted" means Yahoo's ``Close``: split-adjusted but not dividend-adjusted. Adjusted
values are adjusted *as of the download*: a file kept up to date by appending days misses the
dividends paid since (the mirror's IWM files show it; see the tests). Series ids are
``price/<TICKER>/<field>`` with fields ``open high low close adj_close volume``.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import numpy as np
import pandas as pd

from smallcaps.errors import FetchError, NetworkError, ParseError, RateLimitError
from smallcaps.publishers import Publisher, register
from smallcaps.release import SAME_DAY
from smallcaps.sources.base import (
    Payload,
    SeriesMeta,
    Tidy,
    decode_text,
    long_frame,
    reject_empty,
    reject_html,
)

if TYPE_CHECKING:
    from smallcaps.config import Config

SOURCE = "yahoo"
URL = "yfinance.download"  # not an HTTP address: yfinance owns the requests (cookies, crumb)
FIELDS: Mapping[str, str] = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
    "Dividends": "dividends",  # cash per share paid on each ex-date (0 on other days)
}
ORDER = ("open", "high", "low", "close", "adj_close", "volume", "dividends")  # Prices.frame
MISSING = frozenset({"", "null", "NaN", "nan", "NA", "N/A", "-"})  # old Yahoo CSVs say "null"

_ADJUSTED_NOTE = (
    "no Adj Close column: open, high, low and close are taken as split- and dividend-adjusted "
    "because that is yfinance's default (auto_adjust=True); the file itself does not prove it. "
    "Adjusted as of each row's download: a file updated by appending days misses later dividends"
)
_UNADJUSTED_NOTE = (
    "Close is Yahoo's close: split-adjusted, not dividend-adjusted; Adj Close is adjusted for "
    "splits and dividends as of the download"
)


@dataclass(frozen=True, slots=True)
class Layout:
    """A CSV layout: its name, header, whether ``close`` is adjusted, and what to tell users."""

    name: str
    header: tuple[str, ...]
    adjusted: bool | None
    note: str


# fmt: off
LAYOUTS: Mapping[str, Layout] = {
    lay.name: lay
    for lay in (
        Layout("yahoo_classic", ("Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"),
               False, "Yahoo's classic download layout; " + _UNADJUSTED_NOTE),
        Layout("yf_ohlcv", ("Date", "Open", "High", "Low", "Close", "Volume"), True,
               "yfinance OHLCV; " + _ADJUSTED_NOTE),
        Layout("yf_auto_adjust", ("Date", "Close", "High", "Low", "Open", "Volume"), True,
               "yfinance auto_adjust column order; " + _ADJUSTED_NOTE),
        Layout("yf_auto_adjust_false",
               ("Date", "Adj Close", "Close", "High", "Low", "Open", "Volume"), False,
               "yfinance auto_adjust=False column order; " + _UNADJUSTED_NOTE),
        Layout("yahoo_actions",
               ("Date", "Open", "High", "Low", "Close", "Adj Close", "Volume", "Dividends"),
               False, "smallcaps' live layout: Yahoo's classic columns and the dividends paid "
               "(yfinance actions); " + _UNADJUSTED_NOTE),
    )
}
# fmt: on
MULTIINDEX = "yf_multiindex"
_ISO_DAY = re.compile(  # the day, then an optional time and UTC offset (yfinance dumps)
    r"^\s*(\d{4}-\d{2}-\d{2})"
    r"(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?\s*$"
)
_RATE_LIMITED = ("YFRateLimitError", "Too Many Requests", "Rate limited")
_NO_ROUTE = ("could not resolve host", "could not connect", "timed out", "dnserror")


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: comparing frames is ambiguous
class Prices:
    """Daily bars of one instrument, with how to read them.

    Parameters
    ----------
    ticker : str or None
        Upper-cased ticker (``"IWM"``, ``"^RUT"``); None when neither the caller nor the file
        named it.
    frame : DataFrame
        Float columns among ``open high low close adj_close volume dividends`` (in that order) on a
        ``DatetimeIndex`` named ``date``: one row per trading day, increasing, no duplicates.
    adjusted : bool or None
        Whether ``close`` (and open, high, low) are split- and dividend-adjusted; None when the
        publisher does not say (Stooq).
    layout : str
        Name of the layout detected from the header.
    notes : tuple of str
        What a user should know: the adjustment convention, a partial last bar.
    """

    ticker: str | None
    frame: pd.DataFrame
    adjusted: bool | None
    layout: str
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line: ticker, layout, span, rows, adjustment."""
        f, adj = self.frame, {True: "adjusted", False: "unadjusted", None: "adjustment unknown"}
        return (
            f"{self.ticker or '?'} ({self.layout}): {f.index[0]:%Y-%m-%d} to "
            f"{f.index[-1]:%Y-%m-%d}, {len(f)} days, close {adj[self.adjusted]}"
        )

    def to_tidy(self, *, source: str = SOURCE, namespace: str = "price") -> Tidy:
        """Long frame ``<namespace>/<TICKER>/<field>`` plus one :class:`SeriesMeta` per field.

        A field's id says whether it is adjusted, whatever the layout: ``close`` is always the
        traded close and ``adj_close`` always the split- and dividend-adjusted one, so captures
        of one instrument in different layouts are comparable vintages of the same series.
        Layouts whose OHLC are adjusted (yfinance's ``auto_adjust=True``) store them as
        ``adj_open``, ``adj_high``, ``adj_low`` and ``adj_close``.
        """
        if not self.ticker:
            raise ValueError("Prices.ticker is not set; pass ticker= to parse()")
        parts, meta = [], {}
        note = "; ".join(self.notes) or None
        for column in self.frame.columns:
            field = column
            if self.adjusted and column in ("open", "high", "low", "close"):
                field = f"adj_{column}"
            series_id = f"{namespace}/{self.ticker}/{field}"
            values, index = self.frame[column].to_numpy(), self.frame.index
            if column == "dividends":  # its own series: the ex-dates only
                paid = values > 0
                if not paid.any():
                    continue
                values, index = values[paid], index[paid]
            parts.append(long_frame(series_id, index, values))
            meta[series_id] = SeriesMeta(
                series_id,
                source,
                title=f"{self.ticker} daily {_TITLES[field]}",
                units=_units(self.ticker, column),
                frequency="D",
                adjusted=_field_adjusted(field, self.adjusted),
                notes=note,
            )
        return Tidy(pd.concat(parts, ignore_index=True), meta)


_TITLES = {
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "adj_open": "adjusted open",
    "adj_high": "adjusted high",
    "adj_low": "adjusted low",
    "adj_close": "adjusted close (splits and dividends)",
    "volume": "volume",
    "dividends": "dividends per share, on each ex-date",
}


def _units(ticker: str, column: str) -> str:
    futures = ticker.endswith("=F")
    if column == "volume":
        return "contracts" if futures else "shares"
    if ticker.startswith("^"):
        return "index points"
    if futures:
        return "futures quote units"
    money = "local currency" if "." in ticker else "USD"  # VOD.L is in pence, 7203.T in yen
    return f"{money} per share" if column == "dividends" else money


def _field_adjusted(column: str, adjusted: bool | None) -> bool | None:
    if column.startswith("adj_"):
        return True
    return None if column == "volume" else adjusted


# --- parse ----------------------------------------------------------------------------------


def parse(data: bytes, *, origin: str, ticker: str | None = None) -> Prices:
    """Read a Yahoo/yfinance daily price CSV in any layout of :data:`LAYOUTS` (or multi-index).

    Parameters
    ----------
    data : bytes
        The file's bytes.
    origin : str
        File name or URL, for messages only (the ticker is never taken from it).
    ticker : str, optional
        The instrument; a multi-index file names its own and must agree.

    Returns
    -------
    Prices
        Missing cells (empty, ``null``) are NaN; times and time zones on dates are dropped (the
        date is the exchange's trading day). A last bar with volume 0 is kept and flagged: a
        saved file is history as it was captured (``smallcaps doctor`` reports such bars);
        :func:`fetch` never stores one (see :func:`partial_last_bar`).

    Raises
    ------
    ParseError
        HTML or empty body, unknown header, unreadable date or number (line and field named),
        duplicate or decreasing dates, a close or adjusted close <= 0, a negative volume.
    """
    return read_prices(data, origin=origin, layouts=LAYOUTS.values(), ticker=ticker)


def tidy(data: bytes, *, origin: str, ticker: str) -> Tidy:
    """Parse and return series ``price/<TICKER>/<field>`` with their metadata."""
    return parse(data, origin=origin, ticker=ticker).to_tidy(source=SOURCE)


def read_prices(
    data: bytes,
    *,
    origin: str,
    layouts: Iterable[Layout],
    ticker: str | None = None,
    multiindex: bool = True,
) -> Prices:
    """Parse daily bars whose header is one of ``layouts`` (shared by Yahoo and Stooq).

    Parameters
    ----------
    data : bytes
        CSV bytes.
    origin : str
        File name or URL for messages.
    layouts : iterable of Layout
        Accepted headers; anything else is a ParseError listing them.
    ticker : str, optional
        The instrument, upper-cased.
    multiindex : bool, default True
        Also accept yfinance's three-line ``Price/Ticker/Date`` header (fields as in a layout).
    """
    layouts = list(layouts)
    reject_empty(data, origin)
    reject_html(data, origin)
    text = decode_text(data, origin)
    head = [line.rstrip("\r") for line in text.split("\n", 3)[:3]]
    header = _cells(head[0])
    wanted = _normal_ticker(ticker) if ticker is not None else None
    layout: Layout | None
    if multiindex and header[:1] == ["Price"]:
        layout, columns, wanted = _multiindex(head, header, layouts, wanted, origin)
        skip = 3
    else:
        layout = next((lay for lay in layouts if tuple(header) == lay.header), None)
        if layout is None:
            known = "; ".join(f"{lay.name}: {','.join(lay.header)}" for lay in layouts)
            if multiindex:
                known += f"; {MULTIINDEX}: Price,<fields> / Ticker,<ticker>... / Date,,,"
            raise ParseError(
                origin, f"unknown header {','.join(header)!r}; known layouts: {known}", line=1
            )
        columns, skip = list(layout.header), 1
    frame, notes = _read_body(text, columns, skip, origin)
    return Prices(wanted, frame, layout.adjusted, layout.name, (layout.note, *notes))


def _cells(line: str) -> list[str]:
    row = next(csv.reader([line]), [])
    return [c.strip().lstrip("\ufeff") for c in row]


def _normal_ticker(ticker: str) -> str:
    cleaned = ticker.strip().upper()
    if not cleaned:
        raise ValueError("ticker must be a non-empty string, e.g. 'IWM' or '^RUT'")
    return cleaned


def _multiindex(
    head: list[str], header: list[str], layouts: list[Layout], wanted: str | None, origin: str
) -> tuple[Layout, list[str], str]:
    """The three-line header yfinance's MultiIndex columns produce: Price / Ticker / Date."""
    if len(head) < 3:
        raise ParseError(origin, "multi-index header ends early; expected Price, Ticker, Date")
    tickers, dates = _cells(head[1]), _cells(head[2])
    n = len(header)
    if tickers[:1] != ["Ticker"] or len(tickers) != n:
        raise ParseError(
            origin, f"expected 'Ticker' and {n - 1} tickers after a 'Price' line", line=2
        )
    if dates[:1] != ["Date"] or any(dates[1:]) or len(dates) != n:
        raise ParseError(origin, f"expected 'Date' and {n - 1} empty cells", line=3)
    fields = tuple(header[1:])
    inner = next((lay for lay in layouts if lay.header[1:] == fields), None)
    if inner is None:
        known = "; ".join(",".join(lay.header[1:]) for lay in layouts)
        raise ParseError(
            origin, f"unknown fields {','.join(fields)!r} in a multi-index header; known: {known}"
        )
    found = sorted({t.upper() for t in tickers[1:]})
    if len(found) != 1 or not found[0]:
        raise ParseError(origin, f"expected one ticker, found {found}; save one per file", line=2)
    if wanted is not None and wanted != found[0]:
        raise ParseError(
            origin, f"the header names ticker {found[0]!r} but {wanted!r} was asked for", line=2
        )
    note = "yfinance multi-index dump; " + inner.note.split("; ", 1)[1]
    layout = Layout(MULTIINDEX, ("Date", *fields), inner.adjusted, note)
    return layout, ["Date", *fields], found[0]


def _read_body(
    text: str, columns: list[str], skip: int, origin: str
) -> tuple[pd.DataFrame, list[str]]:
    """Rows after the header: dates, numbers, and the checks a price series must pass."""
    fast = _read_clean_body(text, columns, skip)
    if fast is not None:
        return fast
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            header=None,
            skiprows=skip,
            names=columns,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,  # keeps row i on line skip + i + 1 for messages
            index_col=False,
        )
    except pd.errors.ParserError as exc:  # "Expected 7 fields in line 9, saw 8"
        match = re.search(r"line (\d+)", str(exc))
        raise ParseError(
            origin,
            f"wrong number of fields; expected {len(columns)} ({exc})",
            line=int(match.group(1)) if match else None,
        ) from None
    raw = raw.apply(lambda col: col.str.strip())
    lines = np.arange(len(raw)) + skip + 1
    empty = raw == ""
    if empty.to_numpy().any():
        text_lines = text.split("\n")
        blank = empty.all(axis=1).to_numpy().copy()
        if len(text_lines) < lines[-1]:  # pandas split lines where "\n" does not (a NUL, "\r")
            raise ParseError(origin, "unreadable line breaks (a damaged download?)")
        blank[blank] = [not text_lines[i - 1].strip() for i in lines[blank]]  # blank lines only
        for row in np.flatnonzero(empty.any(axis=1).to_numpy() & ~blank):
            i = int(row)
            found = text_lines[lines[i] - 1].count(",") + 1
            if found != len(columns):  # pandas pads short rows with "": a truncated line
                raise ParseError(
                    origin,
                    f"line has {found} fields, expected {len(columns)} (truncated download?)",
                    line=int(lines[i]),
                )
        raw, lines = raw[~blank], lines[~blank]
    if raw.empty:
        raise ParseError(origin, "no price rows after the header")

    notes: list[str] = []
    stamp = raw["Date"]
    day = stamp.str.extract(_ISO_DAY, expand=False)
    dates = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        i = int(dates.isna().to_numpy().argmax())
        raise ParseError(
            origin,
            f"cannot read {stamp.iloc[i]!r} as a date; expected YYYY-MM-DD",
            line=int(lines[i]),
            field="Date",
        )
    if (stamp.str.len() > 10).any():
        notes.append("dates carried times or time zones; the trading day was kept")
    index = pd.DatetimeIndex(dates, name="date").as_unit("ns")
    dup = index.duplicated()
    if dup.any():
        i = int(dup.argmax())
        first = int(lines[int(np.flatnonzero(index == index[i])[0])])
        raise ParseError(
            origin,
            f"duplicate date {index[i]:%Y-%m-%d} (first on line {first}); expected one row a day",
            line=int(lines[i]),
            field="Date",
        )
    back = np.flatnonzero(np.diff(index.asi8) < 0)
    if back.size:
        i = int(back[0]) + 1
        raise ParseError(
            origin,
            f"dates go backwards ({index[i - 1]:%Y-%m-%d} then {index[i]:%Y-%m-%d}); "
            "expected increasing dates",
            line=int(lines[i]),
            field="Date",
        )

    values: dict[str, np.ndarray] = {}
    for name in columns[1:]:
        cells = raw[name]
        missing = cells.isin(MISSING).to_numpy()
        numbers = pd.to_numeric(cells.mask(missing), errors="coerce").to_numpy(dtype=float)
        bad = ~missing & ~np.isfinite(numbers)
        if bad.any():
            i = int(bad.argmax())
            raise ParseError(
                origin,
                f"cannot read {cells.iloc[i]!r} as a number",
                line=int(lines[i]),
                field=name,
            )
        values[FIELDS[name]] = numbers
    for field, name in (("close", "Close"), ("adj_close", "Adj Close")):
        if field in values and (values[field] <= 0).any():
            i = int((values[field] <= 0).argmax())
            raise ParseError(
                origin,
                f"non-positive price {raw[name].iloc[i]!r}; a close must be > 0 "
                "(a 0 often stands for a missing value)",
                line=int(lines[i]),
                field=name,
            )
    if "volume" in values:
        volume = values["volume"]
        if (volume < 0).any():
            i = int((volume < 0).argmax())
            raise ParseError(
                origin,
                f"negative volume {raw['Volume'].iloc[i]!r}",
                line=int(lines[i]),
                field="Volume",
            )
        if volume[-1] == 0:
            notes.append(
                f"last bar {index[-1]:%Y-%m-%d} has volume 0: probably a partial (intraday) "
                "snapshot saved before the close; its prices may not be final"
            )
    frame = pd.DataFrame({c: values[c] for c in ORDER if c in values}, index=index)
    return frame, notes


def _read_clean_body(
    text: str, columns: list[str], skip: int
) -> tuple[pd.DataFrame, list[str]] | None:
    """:func:`_read_body` for a file that passes every check, or None to take the slow path.

    Numbers are read by the CSV reader itself and plain ``YYYY-MM-DD`` dates checked on bytes,
    with no per-cell string work; anything unusual (a missing or unreadable cell, a time on a
    date, a blank or short line, a check that fails) returns None, and :func:`_read_body`
    reads the file cell by cell and names what is wrong. The numbers are the same: both paths
    convert text with pandas' one float parser.
    """
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            header=None,
            skiprows=skip,
            names=columns,
            dtype={c: (object if c == "Date" else np.float64) for c in columns},
            na_filter=False,
            skip_blank_lines=False,
            index_col=False,
        )
    except (ValueError, TypeError, pd.errors.ParserError):
        return None
    if raw.empty:
        return None
    try:
        stamp = np.asarray(raw["Date"].to_numpy(), dtype="U11")
    except (TypeError, ValueError):
        return None
    chars = stamp.view(np.uint32).reshape(len(stamp), 11)
    digits = chars[:, [0, 1, 2, 3, 5, 6, 8, 9]]
    if not (
        (chars[:, 10] == 0).all()
        and (chars[:, [4, 7]] == ord("-")).all()
        and ((digits >= ord("0")) & (digits <= ord("9"))).all()
    ):
        return None
    dates = pd.to_datetime(pd.Series(stamp, dtype=object), format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        return None
    index = pd.DatetimeIndex(dates, name="date").as_unit("ns")
    if index.duplicated().any() or (np.diff(index.asi8) < 0).any():
        return None
    values: dict[str, np.ndarray] = {}
    for name in columns[1:]:
        numbers = raw[name].to_numpy(dtype=np.float64)
        if not np.isfinite(numbers).all():
            return None
        values[FIELDS[name]] = numbers
    for field in ("close", "adj_close"):
        if field in values and (values[field] <= 0).any():
            return None
    notes: list[str] = []
    if "volume" in values:
        volume = values["volume"]
        if (volume < 0).any():
            return None
        if volume[-1] == 0:
            notes.append(
                f"last bar {index[-1]:%Y-%m-%d} has volume 0: probably a partial (intraday) "
                "snapshot saved before the close; its prices may not be final"
            )
    frame = pd.DataFrame({c: values[c] for c in ORDER if c in values}, index=index)
    return frame, notes


# --- write ----------------------------------------------------------------------------------


def to_csv(
    frame: pd.DataFrame,
    *,
    layout: str = "yahoo_classic",
    ticker: str | None = None,
    lineterminator: str = "\n",
) -> bytes:
    r"""Write bars (columns as in :attr:`Prices.frame`) in one of the layouts; parse's inverse.

    Parameters
    ----------
    frame : DataFrame
        Exactly the fields the layout has, on a DatetimeIndex.
    layout : str, default "yahoo_classic"
        A key of :data:`LAYOUTS` or ``"yf_multiindex"`` (which needs ``ticker``).
    ticker : str, optional
        Written on the second line of a multi-index header.
    lineterminator : str, default "\n"
        ``"\r\n"`` writes what Windows-saved files look like.
    """
    if layout == MULTIINDEX:
        if not ticker:
            raise ValueError("a multi-index header needs ticker=")
        every = ("Adj Close", "Close", "High", "Low", "Open", "Volume")
        fields: tuple[str, ...] = every if "adj_close" in frame.columns else every[1:]
        head = [f"Price,{','.join(fields)}", f"Ticker{f',{ticker}' * len(fields)}"]
        head.append("Date" + "," * len(fields))
    elif layout in LAYOUTS:
        fields, head = LAYOUTS[layout].header[1:], [",".join(LAYOUTS[layout].header)]
    else:
        raise ValueError(f"unknown layout {layout!r}; known: {[*LAYOUTS, MULTIINDEX]}")
    names = [FIELDS[f] for f in fields]
    if sorted(names) != sorted(frame.columns):
        raise ValueError(f"layout {layout!r} needs columns {names}, got {list(frame.columns)}")
    out = frame[names].set_axis(list(fields), axis=1)
    if "Volume" in out:
        volume = out["Volume"].to_numpy(dtype=float)
        finite = volume[np.isfinite(volume)]
        if np.array_equal(finite, np.round(finite)) and (np.abs(finite) < 2**53).all():
            out["Volume"] = out["Volume"].astype("Int64")  # 132125600, not 132125600.0
    body = out.to_csv(header=False, date_format="%Y-%m-%d", lineterminator=lineterminator)
    return (lineterminator.join(head) + lineterminator + body).encode()


# --- fetch ----------------------------------------------------------------------------------


def fetch(
    ticker: str,
    *,
    start: str | date | None = None,
    end: str | date | None = None,
    download: Callable[..., pd.DataFrame | None] | None = None,
    session: object | None = None,
    timeout: float = 30.0,
    retries: int = 3,
    backoff: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Payload:
    """Download daily bars with yfinance; return them as Yahoo classic CSV bytes plus dividends.

    Every ``yfinance.download`` argument that changes what the numbers mean is passed
    explicitly, so a new yfinance default cannot change the stored data: the whole history
    (``period="max"`` when no ``start``; since yfinance 0.2.64 no dates means one month),
    daily bars, raw and adjusted closes (``auto_adjust=False``), no repairs, the dividends
    (``actions=True``; stored as ``price/<TICKER>/dividends``), exchange-time dates. A partial
    last bar is dropped (:func:`partial_last_bar`).

    Parameters
    ----------
    ticker : str
        Yahoo symbol: ``"IWM"``, ``"^RUT"`` (indices start with ``^``), ``"RTY=F"``.
    start, end : str or date, optional
        First day (inclusive) and last day (exclusive), ``YYYY-MM-DD``; without ``start``, the
        whole history (yfinance's ``period="max"``: from 99 years before ``end`` or now).
    download : callable, optional
        Stands in for ``yfinance.download`` (tests inject a fake; nothing touches the network).
    session : requests or curl_cffi Session, optional
        Handed to ``yfinance.download``, which then uses it for every request of the process
        (yfinance keeps one shared session); default: yfinance's own.
    timeout : float, default 30.0
        Seconds yfinance waits for each answer.
    retries : int, default 3
        Extra attempts after the first while Yahoo rate-limits us.
    backoff : float, default 2.0
        Seconds before the first retry, doubled each time.
    sleep : callable, default time.sleep
        Injected so tests do not wait.
    now : callable, default the current UTC time
        The fetch time, for the partial-bar rule (tests inject one).

    Raises
    ------
    RateLimitError
        Still rate-limited after the retries.
    FetchError
        No prices for the ticker (unknown, delisted, empty range), or yfinance failed.
    """
    symbol = _normal_ticker(ticker)
    period = "max" if start is None else None
    arguments: dict[str, object] = {
        "start": start,
        "end": end,
        "period": period,
        "interval": "1d",
        "auto_adjust": False,  # both Close and Adj Close
        "back_adjust": False,
        "actions": True,  # the dividends, stored as their own series
        "repair": False,
        "keepna": False,
        "rounding": False,
        "prepost": False,
        "ignore_tz": False,  # dates in the exchange's time zone (for the partial-bar rule)
        "multi_level_index": False,
        "progress": False,
        "threads": False,
        "timeout": timeout,
    }
    shown = {"ticker": symbol} | {
        k: v for k, v in arguments.items() if v is not None and k not in ("progress", "timeout")
    }
    url = f"{URL}?{urlencode(shown)}"
    from yfinance.exceptions import YFRateLimitError  # importing yfinance takes about a second

    if download is None:
        import yfinance

        download = yfinance.download
    if session is not None:
        arguments["session"] = session
    frame: pd.DataFrame | None = None
    said: list[str] = []
    for attempt in range(retries + 1):
        said = []
        with _yfinance_log(said):
            try:
                frame = download(symbol, **arguments)
                # download() catches its own errors and returns an empty frame; only its log
                # tells a rate limit from an unknown ticker.
                limited = _no_rows(frame) and any(m in s for s in said for m in _RATE_LIMITED)
            except YFRateLimitError:
                limited = True
            except Exception as exc:  # yfinance raises many kinds; none may end as a traceback
                reason = f"yfinance failed for {symbol!r}: {type(exc).__name__}: {exc}"
                raise FetchError(SOURCE, url, reason) from exc
        if not limited:
            break
        if attempt == retries:
            raise RateLimitError(
                SOURCE,
                url,
                f"Yahoo is still rate limiting us ('Too Many Requests') after {retries + 1} "
                "attempts; wait a few minutes (up to an hour), then run the same command again",
                status=429,
            )
        sleep(backoff * 2**attempt)
    zone = _zone(frame)
    bars = _from_download(frame, symbol, url, said)
    why = partial_last_bar(bars, now(), zone)
    if why is not None:
        _log.warning("%s: last bar %s not stored: %s", symbol, f"{bars.index[-1]:%Y-%m-%d}", why)
        bars = bars.iloc[:-1]
        if bars.empty:
            raise FetchError(SOURCE, url, f"Yahoo returned only a partial bar for {symbol!r}")
    return Payload(source=SOURCE, url=url, data=to_csv(bars, layout="yahoo_actions"))


_log = logging.getLogger(__name__)
EXCHANGE_ZONE = "America/New_York"  # when yfinance's dates carry no time zone
SETTLED = clock(18, 0)
"""Exchange time after which a bar dated that day is final: every regular session we fetch
has closed by then (New York 16:00, London 16:30, Tokyo 15:30) and Yahoo has settled it."""


def partial_last_bar(bars: pd.DataFrame, now: datetime, zone: str | None) -> str | None:
    """Why the last bar is a partial (intraday) snapshot rather than a final close, or None.

    The rule: the last bar is partial when it is dated the fetch day (or later) in the
    exchange's time zone and the fetch happens before :data:`SETTLED` there, or when its volume
    is 0 while the bar before traded (an index whose volume is always 0 is not flagged).

    Parameters
    ----------
    bars : DataFrame
        Bars on a naive DatetimeIndex of trading days (the exchange's dates), with ``volume``.
    now : datetime
        The fetch time, time zone aware.
    zone : str or None
        The exchange's time zone (IANA name); None means :data:`EXCHANGE_ZONE`.
    """
    if bars.empty:
        return None
    last = bars.index[-1]
    local = pd.Timestamp(now).tz_convert(zone or EXCHANGE_ZONE)
    if last.date() >= local.date() and local.time() < SETTLED:
        return (
            f"dated the fetch day and fetched at {local:%H:%M} {local.tzname()}, before "
            f"{SETTLED:%H:%M}: the session may still be open"
        )
    if "volume" in bars and len(bars) > 1:
        volume = bars["volume"].to_numpy()
        if volume[-1] == 0 and volume[-2] > 0:
            return "volume 0 after a day with trades: a snapshot saved before the close"
    return None


def _zone(frame: pd.DataFrame | None) -> str | None:
    """The exchange's time zone of yfinance's index (``ignore_tz=False``), or None."""
    if frame is None or not isinstance(frame.index, pd.DatetimeIndex) or frame.index.tz is None:
        return None
    return str(frame.index.tz)


def _no_rows(frame: pd.DataFrame | None) -> bool:
    return frame is None or len(frame) == 0


class _Collect(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


@contextmanager
def _yfinance_log(sink: list[str]) -> Iterator[None]:
    """Collect yfinance's warnings and errors during a download (it logs what it swallowed).

    While our handler is attached, Python's last-resort handler no longer prints them to stderr;
    they reach the user inside our error message instead.
    """
    logger, handler = logging.getLogger("yfinance"), _Collect(sink)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _from_download(
    frame: pd.DataFrame | None, symbol: str, url: str, said: list[str]
) -> pd.DataFrame:
    """Turn yfinance's frame (flat or ``(Price, Ticker)`` columns) into our bar frame."""
    why = f" (yfinance said: {' | '.join(said)[:300]})" if said else ""
    nothing = (
        f"Yahoo returned no prices for {symbol!r}{why}; check the symbol on "
        "https://finance.yahoo.com (indices start with '^', e.g. '^RUT'; futures end in '=F') "
        "and the dates"
    )
    if frame is None or len(frame) == 0:
        # download() swallows transport errors; only its log (curl's words) says there was no
        # answer at all, which the fetch loop must know to stop trying this publisher.
        if any(m in s.lower() for s in said for m in _NO_ROUTE):
            raise NetworkError(SOURCE, url, f"could not reach Yahoo{why}")
        raise FetchError(SOURCE, url, nothing)
    if isinstance(frame.columns, pd.MultiIndex):
        frame = _one_ticker(frame, symbol, url)
    missing = [c for c in FIELDS if c not in frame.columns and c != "Dividends"]
    if missing:
        raise FetchError(
            SOURCE,
            url,
            f"yfinance returned columns {[str(c) for c in frame.columns]}, missing {missing}; "
            "expected auto_adjust=False output (Open, High, Low, Close, Adj Close, Volume)",
        )
    index = pd.DatetimeIndex(frame.index)
    if index.tz is not None:
        index = index.tz_localize(None)  # the exchange's wall clock: its trading day
    index = pd.DatetimeIndex(index.normalize(), name="date").as_unit("ns")
    bars = pd.DataFrame(
        {FIELDS[c]: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
         for c in FIELDS if c in frame.columns},
        index=index,
    )  # fmt: skip
    if "dividends" not in bars:  # no actions column: no dividend was paid in the range
        bars["dividends"] = 0.0
    bars["dividends"] = bars["dividends"].fillna(0.0)
    if bars["close"].isna().all():
        raise FetchError(SOURCE, url, nothing)
    return bars


def _one_ticker(frame: pd.DataFrame, symbol: str, url: str) -> pd.DataFrame:
    columns = frame.columns
    known = set(FIELDS) | {"Dividends", "Stock Splits", "Capital Gains"}
    levels = [i for i in range(columns.nlevels) if set(columns.get_level_values(i)) <= known]
    if columns.nlevels != 2 or len(levels) != 1:
        raise FetchError(SOURCE, url, f"unexpected yfinance columns {list(columns)[:8]}")
    other = 1 - levels[0]
    tickers = sorted({str(t).upper() for t in columns.get_level_values(other)})
    if tickers != [symbol]:
        raise FetchError(SOURCE, url, f"yfinance returned {tickers}, expected {symbol!r} alone")
    return frame.droplevel(other, axis=1)


# --- the registration ---------------------------------------------------------------------------

DEFAULT = (
    "IWM", "SPY", "QQQ", "RSP", "^RUT", "^GSPC", "AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "GOOG",
    "META", "TSLA",
)  # fmt: skip


def series_id(ticker: str, field: str) -> str:
    """``price/<TICKER>/<field>``, e.g. ``price/IWM/adj_close``."""
    return f"price/{ticker.upper()}/{field}"


def redirected_session(base: str, *, timeout: float = 30.0) -> Any:
    """A ``requests`` session sending ``https://<host>/<path>`` to ``<base>/<host>/<path>``.

    For ``SMALLCAPS_URL_YAHOO``: yfinance's whole traffic (cookie, crumb, chart API) goes to
    ``base`` with Yahoo's host kept as the first path segment (a proxy or a local test server).
    No proxy from the environment is used.
    """
    import requests
    from requests.adapters import HTTPAdapter

    class Redirect(HTTPAdapter):
        def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            parts = urlsplit(request.url or "")
            query = f"?{parts.query}" if parts.query else ""
            request.url = f"{base.rstrip('/')}/{parts.hostname}{parts.path or '/'}{query}"
            kwargs["timeout"] = kwargs.get("timeout") or timeout
            kwargs["proxies"] = {}
            return super().send(request, **kwargs)

    session = requests.Session()
    session.trust_env = False
    adapter = Redirect(max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def live(ticker: str, *, config: Config | None = None, **_: object) -> tuple[Payload, Tidy]:
    """Download (through yfinance, which keeps its own session) and parse one ticker.

    With ``SMALLCAPS_URL_YAHOO`` set, yfinance talks to that address instead
    (:func:`redirected_session`).
    """
    base = None if config is None else config.urls.get("yahoo")
    payload = fetch(ticker, session=None if base is None else redirected_session(base))
    return payload, tidy(payload.data, origin=payload.url, ticker=ticker)


PUBLISHER = register(
    Publisher(
        kind=SOURCE,
        title="Yahoo Finance daily prices (via yfinance)",
        order=3,
        root="price/",
        template="price/{NAME}/",
        series_id=series_id,
        release={"price/": SAME_DAY},
        tidy=lambda name, data, *, origin, **params: tidy(
            data, origin=origin, ticker=params.get("ticker", name)
        ),
        live=live,
        defaults=DEFAULT,
        prices=True,
    )
)


# --- dividends: total return from closes, and adjusted closes that miss one ---------------------


def implied_dividends(close: pd.Series, adjusted: pd.Series) -> pd.Series:
    """The cash dividend each ex-date's step in ``adjusted / close`` stands for (Yahoo's rule).

    Yahoo multiplies the history before an ex-date by ``1 - dividend / previous close``, so the
    dividend is ``previous close * (1 - factor before / factor on the day)``. Steps under a
    basis point of the close are the files' rounding and give 0; the first day gives NaN.
    """
    both = pd.concat([close, adjusted], axis=1, keys=["close", "adj"], join="inner").dropna()
    factor = both["adj"] / both["close"]
    cash = both["close"].shift(1) * (1 - factor.shift(1) / factor)
    return cash.where(cash.abs() > 1e-4 * both["close"].shift(1), 0.0).rename("dividend")


def missed_dividends(
    adjusted: pd.Series, close: pd.Series, dividends: pd.Series, *, share: float = 0.5
) -> pd.DataFrame:
    """Ex-dates whose dividend an adjusted close does not carry (a faulty capture).

    Parameters
    ----------
    adjusted : Series
        The adjusted close to check (one capture).
    close : Series
        Raw closes of the same instrument (another capture may supply them).
    dividends : Series
        Cash dividends on their ex-dates (``price/<TICKER>/dividends``).
    share : float, default 0.5
        An ex-date is missed when ``adjusted`` implies less than this share of its dividend.

    Returns
    -------
    DataFrame
        Indexed by ex-date: ``dividend`` paid and ``implied`` by ``adjusted``; empty when the
        adjusted close carries every dividend of the dates both cover.
    """
    implied = implied_dividends(close, adjusted)
    paid = dividends[dividends > 0]
    paid = paid[paid.index.isin(implied.index[1:])]
    got = implied.reindex(paid.index)
    table = pd.DataFrame({"dividend": paid, "implied": got})
    return table[table["implied"] < share * table["dividend"]]


def total_return(close: pd.Series, dividends: pd.Series) -> pd.Series:
    """Daily total returns from raw closes and cash dividends: ``(close + dividend) / prev - 1``."""
    paid = dividends.reindex(close.index).fillna(0.0)
    return ((close + paid) / close.shift(1) - 1).iloc[1:].rename("total_return")
