"""Robert Shiller's monthly stock-market data (``ie_data.xls``): S&P Composite, CAPE, GS10.

The workbook (Excel 97) has a sheet ``Data`` whose column-code row (``Date, P, D, E, CPI,
Fraction, Rate GS10, Price, Dividend, Price, Earnings, Earnings, CAPE, , TR CAPE, , Yield, ...``)
sits under a multi-line header; monthly rows follow, then a few notes (``May price is May 5th
close``). The code row is found by content, not by position, and columns are matched by their
code plus the words above it (``Price`` appears twice: *Real* Price and *Real Total Return*
Price).

Dates are fractional years: ``1871.01`` is January 1871 and ``1871.1`` is October (a float
cannot tell ``.1`` from ``.10``), so the month is ``round((x - year) * 100)``. Each month is
stamped at its **first day**, like FRED: Shiller's P is the monthly average of daily closes, a
value for the month as a whole, not for its last day.

``NA`` and empty cells are NaN; D and E end a couple of months before P (Shiller fills them
later), which leaves trailing NaN in the wide frame and shorter series in :func:`tidy`.
"""

from __future__ import annotations

import html
import io
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import httpx
import pandas as pd
import xlrd

from smallcaps.errors import FetchError, ParseError
from smallcaps.publishers import Capture, Publisher, register
from smallcaps.release import ReleaseRule, month_end
from smallcaps.sources._http import get
from smallcaps.sources.base import Payload, SeriesMeta, Tidy, long_frame, reject_empty, reject_html

if TYPE_CHECKING:
    from smallcaps.config import Config

SOURCE = "shiller"
SHEET = "Data"
PAGE_URL = "https://shillerdata.com/"  # SMALLCAPS_URL_SHILLER
# The download link on shillerdata.com; the folder id and ``ver`` change with every upload, so
# when this 404s, copy the current "ie_data.xls" link from PAGE_URL (as served 2026-09).
URL = (
    "https://img1.wsimg.com/blobby/go/e5e77e0b-59d1-44d9-ab25-4763ac982e53/downloads/"
    "70fec4f5-727f-4e53-b5f1-179af109c5fa/ie_data.xls?ver=1788371540009"
)

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97 (.xls) compound-file signature
_MISSING = {"", "NA", "N/A", "#N/A"}
Cell = float | str | None
_FORWARD = (
    "forward-looking: the return over the 10 years AFTER the date, known only 10 years later; "
    "never use it as a signal at that date"
)
_REBASED = "deflated to the latest month's CPI: the whole history changes with every update"


@dataclass(frozen=True, slots=True)
class _Column:
    name: str  # our snake-case name, also the series id's last part
    code: str  # the publisher's code in the column-code row
    words: str | None  # must appear in the lowercased words above the code (None: any)
    title: str
    units: str
    required: bool = True
    notes: str | None = None


# fmt: off
COLUMNS: tuple[_Column, ...] = (
    _Column("price", "P", None, "S&P Composite price, monthly average of daily closes",
            "index points"),
    _Column("dividend", "D", None, "S&P Composite dividends, 12-month total",
            "USD per index unit"),
    _Column("earnings", "E", None, "S&P Composite earnings, 12-month total",
            "USD per index unit"),
    _Column("cpi", "CPI", None, "Consumer price index", "index (1982-84=100)"),
    _Column("gs10", "Rate GS10", None, "Long interest rate (10-year Treasury, GS10)", "percent"),
    _Column("real_price", "Price", "real price", "Real S&P Composite price", "index points",
            notes=_REBASED),
    _Column("real_dividend", "Dividend", "real", "Real dividends, 12-month total",
            "USD per index unit", notes=_REBASED),
    _Column("real_tr_price", "Price", "total return", "Real total-return price",
            "index (real total return)", notes=_REBASED),
    _Column("real_earnings", "Earnings", "real earnings", "Real earnings, 12-month total",
            "USD per index unit", notes=_REBASED),
    _Column("real_tr_earnings", "Earnings", "scaled", "Real total-return scaled earnings",
            "USD per index unit", notes=_REBASED),
    _Column("cape", "CAPE", None, "Cyclically adjusted price-earnings ratio (P/E10, CAPE)",
            "ratio"),
    _Column("tr_cape", "TR CAPE", None, "Total-return CAPE (TR P/E10)", "ratio"),
    _Column("excess_cape_yield", "Yield", "excess", "Excess CAPE yield", "decimal yield",
            required=False),
    _Column("bond_return", "Returns", "monthly total bond", "Monthly total bond return",
            "gross return (1 + r)", required=False),
    _Column("real_bond_tr", "Returns", "real total bond", "Real total bond return index",
            "index (real total return)", required=False, notes=_REBASED),
    _Column("stock_real_return_10y", "Real Return", "stock",
            "10-year annualized real stock return, forward", "decimal return", required=False,
            notes=_FORWARD),
    _Column("bond_real_return_10y", "Real Return", "bond",
            "10-year annualized real bond return, forward", "decimal return", required=False,
            notes=_FORWARD),
    _Column("excess_real_return_10y", "Returns", "excess",
            "10-year annualized real excess stock return, forward", "decimal return",
            required=False, notes=_FORWARD),
)
# fmt: on


_LINK = re.compile(rb"""href\s*=\s*["']([^"']*ie_data\.xls[^"']*)["']""", re.IGNORECASE)


def find_download(page: bytes, *, base: str = PAGE_URL) -> str | None:
    """The ``ie_data.xls`` link on Shiller's data page (absolute), or None if there is none."""
    match = _LINK.search(page)
    if match is None:
        return None
    return urljoin(base, html.unescape(match.group(1).decode("utf-8", "replace")))


def fetch(
    *,
    client: httpx.Client,
    url: str | None = None,
    page_url: str = PAGE_URL,
    fallback: str | bool = True,
    retries: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Payload:
    """Download ``ie_data.xls`` (retries 5xx and timeouts). No parsing, no store.

    Parameters
    ----------
    client : httpx.Client
        E.g. from :func:`smallcaps.sources._http.make_client`.
    url : str, optional
        The workbook's address. By default it is read from the link on ``page_url``, since it
        changes with every upload; if the page cannot be read or has no link, the last known
        address (``URL``) is tried.
    page_url : str, default PAGE_URL
        Shiller's data page.
    fallback : str or bool, default True
        The address tried when the page cannot be read or has no link: True for the last
        known address (``URL``), False for none (the page's failure is the error).
    retries, backoff, sleep
        Passed to :func:`smallcaps.sources._http.get` (tests pass a ``sleep`` that does not
        wait).
    """
    if fallback is True:
        fallback = URL
    if url is None:
        try:
            page = get(client, SOURCE, page_url, retries=retries, backoff=backoff, sleep=sleep)
            url = find_download(page.data, base=page_url) or (fallback or None)
        except FetchError:
            if not fallback:
                raise
            url = str(fallback)
        if url is None:
            raise FetchError(SOURCE, page_url, "the page links no ie_data.xls")
    return get(client, SOURCE, url, retries=retries, backoff=backoff, sleep=sleep)


def parse(data: bytes, *, origin: str) -> pd.DataFrame:
    """Read the ``Data`` sheet into a wide monthly frame.

    Parameters
    ----------
    data : bytes
        The workbook as downloaded.
    origin : str
        File name or URL, for error messages.

    Returns
    -------
    DataFrame
        Indexed by month start (``date``), one float column per entry of :data:`COLUMNS`
        found (``price, dividend, earnings, cpi, gs10, real_price, ..., cape, tr_cape, ...``),
        in the publisher's units (GS10 in percent). ``NA`` and empty cells are NaN.

    Raises
    ------
    ParseError
        An HTML page or a body that is not an Excel 97 workbook, a truncated file, no ``Data``
        sheet, no column-code row, a required column missing, a date that is not a month.
    """
    return _frame(_read_grid(data, origin), origin)


def _frame(grid: list[list[Cell]], origin: str) -> pd.DataFrame:
    """The wide frame from the sheet's cells (rows of float, str or None for empty/error)."""
    code_row = _find_code_row(grid, origin)
    positions = _match_columns(grid, code_row, origin)
    dates: list[pd.Timestamp] = []
    rows: list[list[float]] = []
    for r in range(code_row + 1, len(grid)):
        stamp = _cell(grid, r, 0)
        if not isinstance(stamp, float):
            break  # the notes under the data ("May price is May 5th close")
        date = _month_start(stamp, origin, line=r + 1)
        if dates and date <= dates[-1]:
            raise ParseError(
                origin,
                f"date {stamp!r} does not follow {dates[-1]:%Y-%m}; "
                "expected one row per month in increasing order",
                line=r + 1,
                field="Date",
            )
        dates.append(date)
        rows.append([_number(grid, r, c, origin, name) for name, c in positions.items()])
    if not rows:
        raise ParseError(origin, "no data rows under the column-code row", line=code_row + 2)
    index = pd.DatetimeIndex(dates, name="date").as_unit("ns")
    return pd.DataFrame(rows, index=index, columns=list(positions), dtype="float64")


def tidy(data: bytes, *, origin: str) -> Tidy:
    """Parse and convert to the long frame: ``shiller/<column>`` ids, NaN rows dropped.

    Each series keeps only the months it has a value for (CAPE starts in 1881, D and E end
    where Shiller stopped filling them). ``publisher_vintage`` is the last month of the price.
    """
    wide = parse(data, origin=origin)
    vintage = f"{wide['price'].last_valid_index():%Y-%m}"
    specs = {c.name: c for c in COLUMNS}
    parts, meta = [], {}
    for name in wide.columns:
        values = wide[name].dropna()
        if values.empty:
            continue
        spec, sid = specs[name], series_id(name)
        parts.append(long_frame(sid, values.index, values.to_numpy()))
        meta[sid] = SeriesMeta(
            series_id=sid,
            source=SOURCE,
            title=spec.title,
            units=spec.units,
            frequency="M",
            publisher_vintage=vintage,
            notes="; ".join(filter(None, ["monthly, stamped at month start", spec.notes])),
        )
    return Tidy(pd.concat(parts, ignore_index=True), meta)


def _read_grid(data: bytes, origin: str) -> list[list[Cell]]:
    """The ``Data`` sheet as rows of cells: float (numbers), str (text), None (empty, error)."""
    # xlrd directly rather than pd.read_excel: pandas 3 deprecates its xlrd engine, and xlrd
    # itself prints corruption warnings to stdout unless given a log file; we also want the
    # cell types (number, text, empty) to tell data rows from notes.
    reject_empty(data, origin)
    reject_html(data, origin, expected="an Excel workbook")
    if not data.startswith(_OLE2):
        kind = "an .xlsx (zip) workbook" if data.startswith(b"PK") else f"{data[:16]!r}"
        raise ParseError(
            origin, f"expected an Excel 97 workbook (.xls), got {kind}; has the format changed?"
        )
    try:
        book = xlrd.open_workbook(file_contents=data, logfile=io.StringIO(), on_demand=True)
        if SHEET not in book.sheet_names():
            raise ParseError(
                origin, f"no sheet {SHEET!r} in the workbook; found {book.sheet_names()}"
            )
        sheet = book.sheet_by_name(SHEET)
        rows = (
            zip(sheet.row_types(r), sheet.row_values(r), strict=True) for r in range(sheet.nrows)
        )
        return [[_convert(kind, value) for kind, value in row] for row in rows]
    except ParseError:
        raise
    except Exception as exc:  # xlrd raises IndexError, AssertionError, XLRDError... on bad bytes
        raise ParseError(
            origin,
            f"not a readable Excel 97 workbook (truncated download?): {type(exc).__name__}: "
            f"{exc}; download it again",
        ) from None


def _convert(kind: int, value: object) -> Cell:
    if kind == xlrd.XL_CELL_NUMBER:
        return float(value)  # type: ignore[arg-type]
    if kind == xlrd.XL_CELL_TEXT:
        return str(value)
    if kind == xlrd.XL_CELL_BOOLEAN:
        return str(bool(value))
    if kind == xlrd.XL_CELL_DATE:
        return f"(Excel date {value})"  # Shiller's dates are year.month numbers, never these
    return None  # empty, blank, or an error cell (#N/A, #DIV/0!): nothing Shiller reports


def _cell(grid: list[list[Cell]], r: int, c: int) -> Cell:
    return grid[r][c] if c < len(grid[r]) else None


def _text(grid: list[list[Cell]], r: int, c: int) -> str:
    value = _cell(grid, r, c)
    return " ".join(value.split()) if isinstance(value, str) else ""


def _find_code_row(grid: list[list[Cell]], origin: str) -> int:
    """The row whose first cell is ``Date`` and that holds the codes ``P`` and ``CAPE``."""
    for r in range(min(len(grid), 50)):
        cells = {_text(grid, r, c) for c in range(len(grid[r]))}
        if _text(grid, r, 0) == "Date" and {"P", "CAPE"} <= cells:
            return r
    raise ParseError(
        origin,
        f"no column-code row (first cell 'Date', with 'P' and 'CAPE') in the first 50 rows "
        f"of sheet {SHEET!r}; has the layout changed?",
    )


def _match_columns(grid: list[list[Cell]], code_row: int, origin: str) -> dict[str, int]:
    """Map our names to column positions by code and the header words above the code."""
    width = len(grid[code_row])
    codes = [_text(grid, code_row, c) for c in range(width)]
    above = [
        " ".join(" ".join(_text(grid, r, c) for r in range(code_row + 1)).lower().split())
        for c in range(width)
    ]
    found: dict[str, int] = {}
    for spec in COLUMNS:
        hits = [
            c
            for c in range(1, width)
            if codes[c] == spec.code and (spec.words is None or spec.words in above[c])
        ]
        if len(hits) > 1:
            raise ParseError(
                origin,
                f"code {spec.code!r} matches columns {hits}; cannot tell which is {spec.name}",
                line=code_row + 1,
            )
        if hits:
            found[spec.name] = hits[0]
        elif spec.required:
            where = f" under words containing {spec.words!r}" if spec.words else ""
            raise ParseError(
                origin,
                f"no column {spec.code!r}{where} for {spec.name}; the column codes are "
                f"{[c for c in codes if c]}",
                line=code_row + 1,
            )
    return found


def _month_start(value: float, origin: str, *, line: int) -> pd.Timestamp:
    """``1871.01`` -> 1871-01-01, ``1871.1`` -> 1871-10-01 (the float cannot keep ``.10``)."""
    year = math.floor(value + 1e-6) if math.isfinite(value) else 0
    month = round((value - year) * 100) if year else 0
    if not 1 <= year <= 9999 or not 1 <= month <= 12 or abs((value - year) * 100 - month) > 1e-4:
        raise ParseError(
            origin, f"cannot read {value!r} as a year.month date", line=line, field="Date"
        )
    return pd.Timestamp(year=year, month=month, day=1)


def _number(grid: list[list[Cell]], r: int, c: int, origin: str, name: str) -> float:
    value = _cell(grid, r, c)
    if value is None:
        return float("nan")
    if isinstance(value, float):
        return value
    if value.strip() in _MISSING:
        return float("nan")
    raise ParseError(
        origin,
        f"cannot read {value!r} as a number (expected a number, 'NA' or an empty cell)",
        line=r + 1,
        field=name,
    )


# --- the registration: everything the rest of the package knows about Shiller ------------------

#: Shiller posts ie_data.xls a month or two after the month; D and E are filled in later still
RELEASE = ReleaseRule(
    "shiller_release",
    "the end of the second month after the observation's month (Shiller's ie_data)",
    lambda d: month_end(d, 2),
)


def series_id(column: str) -> str:
    """``shiller/<column>``, e.g. ``shiller/cape`` (columns: :data:`COLUMNS`)."""
    return f"{SOURCE}/{column}"


def live(
    name: str, *, client: httpx.Client, config: Config | None = None, **_: object
) -> tuple[Payload, Tidy]:
    """Download and parse the workbook (``name`` is ``ie_data``, its only file).

    With ``SMALLCAPS_URL_SHILLER`` set, that page's link is followed and nothing else tried.
    """
    page = PAGE_URL if config is None else config.url("shiller", PAGE_URL)
    fallback = page == PAGE_URL  # a page set by the user: nothing else is tried
    payload = fetch(client=client, page_url=page, fallback=fallback)
    return payload, tidy(payload.data, origin=payload.url)


PUBLISHER = register(
    Publisher(
        kind=SOURCE,
        title="Robert Shiller's U.S. stock market data (ie_data.xls)",
        order=4,
        root=f"{SOURCE}/",
        template=f"{SOURCE}/",  # one file: every shiller/ id comes from shiller:ie_data
        series_id=series_id,
        release={f"{SOURCE}/": RELEASE},
        tidy=lambda name, data, *, origin, **_: tidy(data, origin=origin),
        live=live,
        defaults=("ie_data",),
        mirror=(Capture("valuation/ie_data.xls", "ie_data", date(2026, 5, 21)),),
    )
)
