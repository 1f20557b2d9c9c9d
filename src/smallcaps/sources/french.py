"""Kenneth R. French Data Library: factor and portfolio files, every section addressable by title.

:func:`fetch` downloads ``<name>_CSV.zip``; :func:`parse` reads the zip or the CSV inside it;
:func:`tidy` turns every table into long series for the store.

The layout, as the publisher writes it::

    This file was created using the 202602 CRSP database.   <- description (CRSP vintage)
    ...
                                                             <- blank line
      Average Value Weight Returns -- Monthly                <- title block (1+ lines)
    ,<= 0,Lo 30,Med 40,...                                   <- column header
    192607,  -99.99,    0.06, ...                            <- data rows
    ...
                                                             <- blank line(s)
      Number of Firms in Portfolios                          <- next section
    ...
    Copyright 2026 Eugene F. Fama and Kenneth R. French      <- footer (ignored)

Sections are found by their structure, never by line offsets or table lengths (sections come
and go between editions; pandas-datareader's ``len(chunk) < 800`` split broke in 2025): a table
is a maximal run of lines starting with a digit, the line above it is its column header, and the
non-blank lines above the header are its title block. Rules, in order:

* **Title**: the title block's first line, whitespace-normalised, skipping leading context lines
  ``For portfolios formed in June of year t``; the whole block (formula lines included) is kept in
  :attr:`FrenchTable.note`. A table without a title block (factor files start with one) is called
  ``"Daily"``, ``"Weekly"``, ``"Monthly"`` or ``"Annual"`` after its dates. A title seen again in
  the same file gets ``" (2)"``, ``" (3)"``, ... in order of appearance.
* **Dates**: ``YYYYMM`` is the month's last day, ``YYYY`` is December 31, ``YYYYMMDD`` and ISO
  ``YYYY-MM-DD`` (the re-saved daily layout with a ``Date`` header) are that day; a day-stamped
  table whose median gap is 5 days or more is weekly. Dates must increase strictly.
* **Units**, from the title: returns (``... Returns ...``, ``... Factors ...`` and the untitled
  factor tables) are percent in the file and become decimal returns; ``Number of Firms`` is a
  count; ``Average Firm Size`` / ``Average Market Cap`` are USD millions; ``Sum of X / Sum of ME``
  and ``Value Weight Average of X`` (BE/ME, E/P, OP, investment) are plain ratios, not percent
  (E/P of the top E/P quintile in 1951 reads ``0.264``, BE/ME near 1 for value stocks), kept as
  published. Any other section keeps its values with units ``"unknown"``.
* **Missing**: ``-99.99`` and ``-999`` (the publisher's markers, also as ``-99.9900``), empty
  and ``.`` cells are NaN. Anything else that is not a decimal number (``0.97x``, ``inf``,
  ``1_0``) is a ParseError naming the line and column; so are rows with too few or too many
  fields, dates that are not dates or do not increase, and headers with empty or repeated names.
* **Speed**: numbers are read per table in one vectorised pass (:func:`_read_fixed` on the
  publisher's fixed-width layout, else pandas' C reader); a cell-by-cell reader runs only to
  name the line and column of what those could not read.
* **Series ids** (:func:`tidy`): ``french/<dataset>/<slug>/<column>``, ``<column>`` verbatim
  from the header. The slug lower-cases the title, drops a formula clause starting at
  ``Calculated`` (``"Value Weight Average of BE/ME Calculated for June of t ..."`` ->
  ``value-weight-average-of-be-me``, the same slug as ``"Value Weight Average of BE / ME"`` in
  ``Portfolios_Formed_on_BE-ME``), turns every run of other characters than ``a-z0-9`` into
  ``-`` and trims ``-``; a slug seen again in the file gets ``-2``, ``-3``, ...
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx
import numpy as np
import pandas as pd

from smallcaps.errors import ConfigError, ParseError, UnknownSeriesError
from smallcaps.publishers import Publisher, register
from smallcaps.release import ReleaseRule, month_end, year_end
from smallcaps.sources._http import get
from smallcaps.sources.base import (
    TIDY_COLUMNS,
    Payload,
    SeriesMeta,
    Tidy,
    decode_text,
    reject_empty,
    reject_html,
    unzip_single,
)

if TYPE_CHECKING:
    from smallcaps.config import Config

SOURCE = "french"
BASE = "https://mba.tuck.dartmouth.edu/pages/faculty/ken.french/ftp"  # SMALLCAPS_URL_FRENCH
URL = BASE + "/{name}_CSV.zip"
MISSING = (-99.99, -999.0)  # the publisher's missing-data markers
RETURN_UNITS, PERCENT = "decimal return", "percent"

_VINTAGE = re.compile(r"\busing\s+the\s+(\d{6})\s+CRSP\s+database", re.IGNORECASE)
_CONTEXT = re.compile(r"for\s+portfolios\s+formed\b", re.IGNORECASE)
_FORMULA = re.compile(r"\s+calculated\b.*$", re.IGNORECASE)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNTITLED = {"D": "Daily", "W": "Weekly", "M": "Monthly", "A": "Annual"}
# units by title keyword, first match wins: (keywords, units, publisher_units, divisor)
_UNITS: tuple[tuple[tuple[str, ...], str, str, float], ...] = (
    (("number of firms",), "count", "count", 1.0),
    (("firm size", "market cap"), "USD millions", "USD millions", 1.0),
    (("sum of", "average of"), "ratio", "ratio", 1.0),
    (("return", "factor"), RETURN_UNITS, PERCENT, 100.0),
)


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: comparing frames is ambiguous
class FrenchTable:
    """One section of a French file.

    Parameters
    ----------
    title : str
        The section title, whitespace-normalised (see the module docstring for the rules).
    frame : DataFrame
        Wide: a DatetimeIndex named ``date``, one float column per portfolio or factor, in
        ``units`` (returns already divided by 100).
    frequency : str
        ``"D"``, ``"W"``, ``"M"`` or ``"A"``.
    units : str
        Units of ``frame``: ``"decimal return"``, ``"count"``, ``"USD millions"``, ``"ratio"``
        or ``"unknown"``.
    publisher_units : str
        Units in the file (``"percent"`` for returns).
    slug : str
        The title's slug, unique in the file; the ``<slug>`` part of the series ids.
    note : str
        The whole title block (formula lines included), lines joined by newlines.
    line : int
        1-based line of the column header in the file.
    """

    title: str
    frame: pd.DataFrame
    frequency: str
    units: str
    publisher_units: str
    slug: str
    note: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class FrenchFile:
    """A parsed French file: its header text, CRSP vintage and tables by title.

    Parameters
    ----------
    description : str
        The text above the first table.
    crsp_vintage : str or None
        The CRSP database month stated in the header (``"202602"``), None when absent.
    tables : mapping of str to FrenchTable
        Every table, keyed by title, in file order.
    """

    description: str
    crsp_vintage: str | None
    tables: Mapping[str, FrenchTable] = field(default_factory=dict)

    def table(self, title: str) -> FrenchTable:
        """The table titled ``title``; UnknownSeriesError suggests close titles."""
        try:
            return self.tables[title]
        except KeyError:
            raise UnknownSeriesError(title, self.tables, what="French section") from None

    def frames(self) -> dict[str, pd.DataFrame]:
        """Every table's wide frame, keyed by title."""
        return {title: t.frame for title, t in self.tables.items()}


def fetch(
    name: str,
    *,
    client: httpx.Client,
    url: str = URL,
    retries: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Payload:
    """Download one dataset's zip (retries 5xx and timeouts). No parsing, no store.

    Parameters
    ----------
    name : str
        The dataset as the library names it, e.g. ``"F-F_Research_Data_Factors"``.
    client : httpx.Client
        See :func:`smallcaps.sources._http.make_client`.
    url : str, default URL
        Template with ``{name}``.
    retries, backoff, sleep
        Passed to :func:`smallcaps.sources._http.get`.
    """
    return get(client, SOURCE, url.format(name=name), retries=retries, backoff=backoff, sleep=sleep)


def parse(data: bytes, *, origin: str) -> FrenchFile:
    """Read a French file (the zip as served, or the CSV inside it) into titled tables.

    Parameters
    ----------
    data : bytes
        The zip archive or the CSV text (CRLF or LF, UTF-8 or cp1252).
    origin : str
        File name or URL, named in every error.

    Returns
    -------
    FrenchFile

    Raises
    ------
    ParseError
        An HTML page instead of the file, an empty or truncated download, a table without a
        header, a changed header, a row with too many or too few fields, a cell that is not a
        number, a bad or non-increasing date; with the line and column when known.
    """
    if not data or data.isspace():  # base.reject_empty strips (copies) every body to check
        reject_empty(data, origin)
    reject_html(data, origin, expected="a French CSV file or zip archive")
    if data[:2] == b"PK":  # a zip archive, possibly truncated: unzip_single says which
        data = unzip_single(data, origin)
        if not data or data.isspace():
            reject_empty(data, origin)
    # canonical UTF-8 bytes: the line offsets index them (ASCII, the usual case, needs no copy)
    buf = data if data.isascii() else decode_text(data, origin).encode()
    if b"\n" not in buf:  # old Mac line ends
        buf = buf.replace(b"\r", b"\n")
    return _parse_buffer(buf, origin)


def tidy(data: bytes, *, origin: str, dataset: str) -> Tidy:
    """Parse and return every table as long series ``french/<dataset>/<slug>/<column>``.

    Parameters
    ----------
    data : bytes
        As for :func:`parse`.
    origin : str
        File name or URL, for errors.
    dataset : str
        The dataset name, e.g. ``"Portfolios_Formed_on_ME"``; the second part of the ids.

    Returns
    -------
    Tidy
        NaN observations (the publisher's missing markers) are kept as rows.
    """
    if not dataset or "/" in dataset or dataset != dataset.strip():
        raise ConfigError(f"French dataset name must be non-empty without '/': got {dataset!r}")
    parsed = parse(data, origin=origin)
    frames: list[pd.DataFrame] = []
    meta: dict[str, SeriesMeta] = {}
    for table in parsed.tables.values():
        ids = [f"{SOURCE}/{dataset}/{table.slug}/{column}" for column in table.frame.columns]
        notes = table.note if table.note != table.title else None
        for series_id, column in zip(ids, table.frame.columns, strict=True):
            meta[series_id] = SeriesMeta(
                series_id,
                SOURCE,
                f"{dataset}: {table.title}: {column}",
                table.units,
                table.frequency,
                publisher_units=table.publisher_units,
                publisher_vintage=parsed.crsp_vintage,
                notes=notes,
            )
        frames.append(_long(ids, table.frame))
    return Tidy(pd.concat(frames, ignore_index=True), meta)


def slug(title: str) -> str:
    """The series-id slug of a section title (rule in the module docstring); a slug is its own."""
    return _NOT_SLUG.sub("-", _FORMULA.sub("", title.lower())).strip("-")


def series_id(dataset: str, section: str, column: str | None = None) -> str:
    """``french/<dataset>/<slug of section>/<column>`` (without ``column``: the section's prefix).

    ``section`` is a title as printed in the file or its slug.
    """
    base = f"{SOURCE}/{dataset}/{slug(section)}"
    return base if column is None else f"{base}/{column}"


# ---------------------------------------------------------------------------------------------
# internals


def _long(ids: list[str], frame: pd.DataFrame) -> pd.DataFrame:
    # base.long_frame builds one series per call; a 25-portfolio file has ~250 series, so the
    # whole table is melted at once (column-major, same dtypes and column order).
    n = len(frame)
    values = frame.to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "series_id": np.repeat(np.asarray(ids, dtype=object), n),
            "date": np.tile(frame.index.as_unit("ns").to_numpy(), len(ids)),
            "value": values.ravel(order="F"),
        },
        columns=list(TIDY_COLUMNS),
    )


@dataclass(frozen=True, slots=True, eq=False)
class _Lines:
    """Where each line of the (UTF-8) text starts and ends, and whether it is a data row."""

    buf: bytes
    starts: np.ndarray  # byte offset of each line
    ends: np.ndarray  # byte offset of its end, line break excluded
    is_data: np.ndarray  # first non-blank character is a digit

    def text(self, i: int) -> str:
        return self.buf[self.starts[i] : self.ends[i]].decode()

    def blank(self, i: int) -> bool:
        return not self.is_data[i] and not self.text(i).strip(" \t,")

    def rows(self, start: int, end: int) -> memoryview:
        return memoryview(self.buf)[self.starts[start] : self.ends[end - 1]]


def _index_lines(buf: bytes) -> _Lines:
    # Vectorised over the bytes: a Python loop over the lines (26,000 in a daily file) would
    # cost as much as reading the numbers.
    b = np.frombuffer(buf, dtype=np.uint8)
    breaks = np.flatnonzero(b == 10)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(b)]))
    if starts[-1] == len(b):  # text ends with a line break
        starts, ends = starts[:-1], ends[:-1]
    ends = ends - ((ends > starts) & (b[np.maximum(ends - 1, 0)] == 13))  # CRLF
    is_data = np.zeros(len(starts), dtype=bool)
    pending = np.arange(len(starts))  # lines whose first non-blank byte is not yet found
    pos = starts.copy()
    while len(pending):
        live = pos < ends[pending]
        pending, pos = pending[live], pos[live]
        char = b[pos]
        is_data[pending] = (char >= 48) & (char <= 57)
        blank = (char == 32) | (char == 9)  # leading blanks: look one byte further
        pending, pos = pending[blank], pos[blank] + 1
    return _Lines(buf, starts, ends, is_data)


@dataclass(frozen=True, slots=True)
class _Run:
    """One table's rows ``[start, end)`` (0-based line numbers), header and title block."""

    start: int
    end: int
    columns: list[str]
    block: list[str]
    iso: bool


def _parse_buffer(buf: bytes, origin: str) -> FrenchFile:
    lines = _index_lines(buf)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], lines.is_data.view(np.int8), [0]))))
    if not len(edges):
        raise ParseError(origin, "no table found: expected rows starting with a date like 192607")
    runs = [_find_run(lines, s, e, origin) for s, e in zip(edges[::2], edges[1::2], strict=True)]
    top = runs[0].start - 1 - len(runs[0].block)
    description = "\n".join(lines.text(i).rstrip() for i in range(top)).strip()
    groups: dict[tuple[int, bool], list[_Run]] = {}
    for run in runs:  # one read per layout: per-call overhead dominates small tables
        groups.setdefault((len(run.columns), run.iso), []).append(run)
    read: dict[int, tuple[pd.DatetimeIndex, np.ndarray, str]] = {}
    for group in groups.values():
        read.update(zip((r.start for r in group), _read_group(lines, group, origin), strict=True))

    tables: dict[str, FrenchTable] = {}
    slugs: set[str] = set()
    for run in runs:
        dates, values, frequency = read[run.start]
        kept = [b for b in run.block if not _CONTEXT.match(b)] or run.block
        title = _unique(kept[0] if kept else _UNTITLED[frequency], tables)
        units, publisher_units, divisor = _units(title, untitled=not kept, description=description)
        if divisor != 1.0:
            values = values / divisor  # x / 100, as a user converts (x * 0.01 rounds differently)
        frame = pd.DataFrame(values, index=dates, columns=pd.Index(run.columns))
        table_slug = _unique_slug(slug(title) or "table", slugs)
        note = "\n".join(run.block)
        tables[title] = FrenchTable(
            title, frame, frequency, units, publisher_units, table_slug, note, run.start
        )
    match = _VINTAGE.search(description)
    return FrenchFile(description, match.group(1) if match else None, tables)


def _find_run(lines: _Lines, start: int, end: int, origin: str) -> _Run:
    """Check the header above rows ``[start, end)`` and collect the title block above it."""
    start, end = int(start), int(end)
    header = start - 1
    if header < 0 or lines.blank(header) or "," not in lines.text(header):
        found = f", found {lines.text(header).strip()!r}" if header >= 0 else ""
        raise ParseError(
            origin,
            f"expected a column header line (like ',Lo 30,Med 40') above the rows starting on "
            f"line {start + 1}{found}",
            line=max(header, 0) + 1,
        )
    top = header
    while top > 0 and not lines.is_data[top - 1] and not lines.blank(top - 1):
        top -= 1
    if top == header and header > 0 and lines.is_data[header - 1]:
        raise ParseError(
            origin,
            f"{lines.text(header).strip()!r} interrupts a table: expected a number row, or a "
            "blank line and a title before a new table",
            line=header + 1,
        )
    columns = _columns(lines.text(header), origin, header + 1)
    block = [" ".join(lines.text(i).split()) for i in range(top, header)]
    iso = _ISO_DATE.match(lines.text(start).lstrip()) is not None
    return _Run(start, end, columns, block, iso)


def _units(title: str, *, untitled: bool, description: str) -> tuple[str, str, float]:
    lowered = title.lower()
    if untitled:  # factor files; *_Breakpoints files are untitled too but hold no returns
        if "breakpoint" in description.lower():
            return "unknown", "unknown", 1.0
        return RETURN_UNITS, PERCENT, 100.0
    for keywords, units, publisher_units, divisor in _UNITS:
        if any(k in lowered for k in keywords):
            return units, publisher_units, divisor
    return "unknown", "unknown", 1.0


def _unique(title: str, taken: Mapping[str, object]) -> str:
    if title not in taken:
        return title
    n = 2
    while f"{title} ({n})" in taken:
        n += 1
    return f"{title} ({n})"


def _unique_slug(base: str, taken: set[str]) -> str:
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def _columns(line: str, origin: str, number: int) -> list[str]:
    cells = [" ".join(c.split()) for c in line.split(",")]
    names = cells[1:]
    if not names or "" in names:
        raise ParseError(
            origin,
            f"column header with an empty name: {line.strip()!r}; expected ',Name1,Name2,...'",
            line=number,
        )
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ParseError(origin, f"column {dup!r} appears twice in the header", line=number)
    return names


def _read_group(
    lines: _Lines, runs: list[_Run], origin: str
) -> list[tuple[pd.DatetimeIndex, np.ndarray, str]]:
    """Dates, float matrix and frequency of each run; all runs share field count and date style.

    Three readers, fastest first, each used only when the one before declines: fixed-width
    columns read with numpy (the publisher's own layout), pandas' C reader, and a cell-by-cell
    reader that names the line and field of whatever the others could not read.
    """
    parts = {r.start: _read_fixed(lines, r) for r in runs}
    rest = [r for r in runs if parts[r.start] is None]
    if rest:
        parts.update(zip((r.start for r in rest), _read_csv_runs(lines, rest, origin), strict=True))
    read = {k: v for k, v in parts.items() if v is not None}  # every run is read by now
    stamps = np.concatenate([read[r.start][0] for r in runs])
    days, kinds = _to_days(stamps, runs, origin)
    out = []
    offset = 0
    for run, kind in zip(runs, kinds, strict=True):
        stop = offset + run.end - run.start
        values = read[run.start][1]
        values[(values == MISSING[0]) | (values == MISSING[1])] = np.nan
        index = pd.DatetimeIndex(days[offset:stop].astype("datetime64[ns]"), name="date")
        out.append((index, values, kind))
        offset = stop
    return out


def _read_csv_runs(
    lines: _Lines, runs: list[_Run], origin: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stamps and values of each run, read in one call of pandas' C reader."""
    ncols = len(runs[0].columns) + 1
    blob = b"\n".join(lines.rows(r.start, r.end) for r in runs)
    if runs[0].iso:
        blob = _compact_iso(blob)
    n = sum(r.end - r.start for r in runs)
    # The C reader cannot say where a bad cell is and pads short rows with NaN, so every row
    # must have exactly `ncols` fields: the comma count gives the total, the reader rejects a
    # row longer than the first, and a longer first row would become an index (hence the
    # RangeIndex test). On any failure the slow path reads cell by cell and names line and field.
    raw = _read_csv(blob, ncols) if blob.count(b",") == n * (ncols - 1) else None
    if raw is None or raw.shape != (n, ncols) or not isinstance(raw.index, pd.RangeIndex):
        return [_read_slowly(lines, r, origin) for r in runs]
    table = raw.to_numpy(dtype=np.float64)
    if np.isinf(table).any():  # "inf" is not a French number: let the slow path say where
        return [_read_slowly(lines, r, origin) for r in runs]
    out, offset = [], 0
    for run in runs:
        stop = offset + run.end - run.start
        out.append((table[offset:stop, 0], table[offset:stop, 1:]))
        offset = stop
    return out


def _read_fixed(lines: _Lines, run: _Run) -> tuple[np.ndarray, np.ndarray] | None:
    """Stamps and values of a run in the publisher's fixed-width layout, or None to decline.

    French tables are written with every row the same length, commas and decimal points in the
    same columns and numbers right-aligned (``192607,  -99.99,    0.06``). Such a block is a
    byte matrix: each cell is taken as the 8 (or 16) bytes ending at its last character, bytes
    before the cell counting as blanks; its digits become an integer eight at a time (SWAR,
    see :func:`_eight_digits`), which is divided by the power of ten of its decimals: exact
    integer over exact power of ten, so correctly rounded, the same double as pandas' reader
    gives (tests compare both on every real file). Written here because it is 1.4 to 3 times
    faster than pandas' C reader, which walks the text byte by byte, and reading the numbers is
    most of a parse. Any row that does not fit the pattern exactly makes this decline, and the
    C reader takes the block; nothing is guessed.
    """
    n = run.end - run.start
    starts, ends = lines.starts[run.start : run.end], lines.ends[run.start : run.end]
    length = int(ends[0] - starts[0])
    if n < 2 or not (ends - starts == length).all():
        return None
    stride = int(starts[1] - starts[0])
    if not (np.diff(starts) == stride).all():
        return None
    nfields = len(run.columns)
    row = lines.buf[starts[0] : ends[0]]
    commas = [i for i, c in enumerate(row) if c == 44]
    width = length - commas[-1] - 1 if commas else 0
    if len(commas) != nfields or commas[1:] != list(
        range(commas[0] + width + 1, length, width + 1)
    ):
        return None  # value cells not all of one width
    if not (0 < width < 16 and 0 < commas[0] < 16):
        return None
    base = int(starts[0])
    separators = np.ndarray(
        (n, nfields), np.uint8, lines.buf, base + commas[0], (stride, width + 1)
    )
    if not (separators == 44).all():
        return None
    stamps = _fixed_cells(lines.buf, base + commas[0], n, stride, 1, 0, commas[0])
    values = _fixed_cells(lines.buf, base + length, n, stride, nfields, width + 1, width)
    if stamps is None or values is None:
        return None
    stamps = _fixed_numbers(stamps, width=commas[0], date=True)
    values = _fixed_numbers(values, width=width)
    if stamps is None or values is None:
        return None
    return stamps[0], values.T


def _fixed_cells(
    buf: bytes, end: int, n: int, stride: int, count: int, step: int, width: int
) -> np.ndarray | None:
    """(field, row, 8 or 16) bytes ending at each cell's end, the bytes before the cell blank.

    ``end`` is the offset where the first row's last cell ends; rows are ``stride`` bytes
    apart, cells ``step`` bytes. Eight bytes (one word) when the cells are that narrow.
    Field-major, so that per-field constants broadcast along long rows.
    """
    size = 8 if width <= 8 else 16
    first = end - (count - 1) * step - size
    if first < 0:
        return None
    # each window as one or two unaligned little-endian words straight from the buffer
    words = np.ndarray((count, n, size // 8), "<u8", buf, first, (step, stride, 8))
    cells = words.copy().view(np.uint8)
    if width < size:
        cells[:, :, : size - width] = 32
    return cells


def _fixed_numbers(cells: np.ndarray, *, width: int, date: bool = False) -> np.ndarray | None:
    """Numbers from (field, row, 8 or 16) right-aligned cells, or None to decline.

    A cell is blanks, an optional ``-``, then digits, with a ``.`` in the same byte as the
    field's first cell (or none); without digits (``.`` alone) it is NaN. ``date``: digits
    only, or ``YYYY-MM-DD`` (returned as ``YYYYMMDD``).
    """
    size = cells.shape[2]
    digit = cells - np.uint8(48)
    is_digit = digit < 10
    blank = cells == 32
    minus = cells == 45
    dot = cells == 46
    ok = is_digit | blank
    ok |= minus
    ok |= dot
    if not ok.all():
        return None
    # Byte flags read as words (byte 0 = lowest address = least significant byte): blanks must
    # be a run of low bytes (x & (x + 1) == 0 for 0xFF-per-blank words) and a "-" may only be
    # the byte right after them (the blank word + 1 has 0x01 exactly there).
    nwords = size // 8
    blanks = blank.view("<u8") * np.uint64(0xFF)
    signs = minus.view("<u8")
    points = dot.view("<u8")
    digits = is_digit.view("<u8")
    low_blank, low_sign, low_point = blanks[:, :, -1], signs[:, :, -1], points[:, :, -1]
    high_blank, high_sign, high_point = blanks[:, :, 0], signs[:, :, 0], points[:, :, 0]
    if (low_point != low_point[:, :1]).any() or (high_point != high_point[:, :1]).any():
        return None  # a point elsewhere than in the field's first cell
    shape_ok = (low_blank & (low_blank + 1)) == 0
    if nwords == 2:
        all_blank = high_blank == _ONES
        shape_ok &= (high_blank & (high_blank + 1)) == 0
        shape_ok &= all_blank | (low_blank == 0)
    iso = date and width == 10 and bool(cells[0, 0, size - 6] == 45)
    if iso:  # dashes at bytes 4 and 7 of the 10, nothing else
        shape_ok &= (high_sign == 0) & (low_sign == _DASHES) & ((high_point | low_point) == 0)
    elif date:
        shape_ok &= (high_sign | low_sign | high_point | low_point) == 0
    elif nwords == 1:
        shape_ok &= (low_sign == 0) | (low_sign == low_blank + 1)
    else:
        shape_ok &= np.where(
            all_blank,
            (high_sign == 0) & ((low_sign == 0) | (low_sign == low_blank + 1)),
            (low_sign == 0) & ((high_sign == 0) | (high_sign == high_blank + 1)),
        )
    empty = (digits[:, :, 0] | digits[:, :, -1]) == 0  # no digit: "." alone, or blank
    if not shape_ok.all() or (date and empty.any()):
        return None
    digit *= is_digit
    words = digit.view("<u8")  # eight digits per word
    number = _eight_digits(words[:, :, -1])
    if nwords == 2:
        number += _eight_digits(words[:, :, 0]) * np.uint64(100_000_000)
    if iso:  # YYYY0MM0DD -> YYYYMMDD
        number = number // 1_000_000 * 10_000 + number // 1_000 % 100 * 100 + number % 100
    out = number.astype(np.float64)  # exact: at most 15 digits
    if not date:
        # The point was read as a 0 digit: number = whole * 10**(d+1) + fraction, fraction <
        # 10**d, all below 2**53, so these float operations are exact; the last division by a
        # power of ten is correctly rounded.
        first = dot[:, 0, :]  # (field, byte): each field's point, from its first cell
        if (first.sum(axis=1) > 1).any():
            return None  # "1.2.3": not a number
        has_point = first.any(axis=1)[:, None]
        decimals = (size - 1 - first.argmax(axis=1))[:, None]
        low = np.where(has_point, 10.0**decimals, 1.0)
        high = np.where(has_point, low * 10.0, 2.0**60)  # no point: whole = 0, number kept
        whole = np.floor(out / high)
        out -= whole * high
        out += whole * low
        out /= low
        negative = (high_sign | low_sign) != 0
        if (negative & empty).any():
            return None
        np.negative(out, out=out, where=negative)
        out[empty] = np.nan
    return out


_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_DASHES = np.uint64((1 << 8 * 2) | (1 << 8 * 5))  # YYYY-MM-DD in bytes 6-15: "-" at 10 and 13


def _eight_digits(word: np.ndarray) -> np.ndarray:
    """Eight digit values packed in a little-endian uint64, first most significant, as an int.

    D. Lemire's SWAR reduction: pairs, then quads, then the eight, in three multiplications.
    """
    word = ((word & 0x0F0F0F0F0F0F0F0F) * 2561) >> 8
    word = ((word & 0x00FF00FF00FF00FF) * 6553601) >> 16
    return ((word & 0x0000FFFF0000FFFF) * 42949672960001) >> 32


def _compact_iso(blob: bytes) -> bytes:
    """``1926-07-01,...`` -> ``19260701,...`` on every row that has that shape, in one pass.

    Rows of another shape are left alone, fail to read as numbers and reach the slow path,
    which names them. Cheaper than parsing 26,000 date strings.
    """
    b = np.frombuffer(blob, dtype=np.uint8)
    starts = np.concatenate(([0], np.flatnonzero(b == 10) + 1))
    starts = starts[starts + 10 < len(b)]
    iso = (b[starts + 4] == 45) & (b[starts + 7] == 45) & (b[starts + 10] == 44)
    keep = np.ones(len(b), dtype=bool)
    keep[starts[iso] + 4] = keep[starts[iso] + 7] = False
    return b[keep].tobytes()


def _read_csv(blob: bytes, ncols: int) -> pd.DataFrame | None:
    try:
        return pd.read_csv(
            io.BytesIO(blob),
            header=None,
            names=list(range(ncols)),
            dtype=np.float64,
            keep_default_na=False,
            na_values=[""],
            quoting=csv.QUOTE_NONE,
            skip_blank_lines=False,
            engine="c",
        )
    except (ValueError, pd.errors.ParserError):
        return None


def _read_slowly(lines: _Lines, run: _Run, origin: str) -> tuple[np.ndarray, np.ndarray]:
    """Cell by cell, only when the fast path failed: names the bad line and field."""
    rows = bytes(lines.rows(run.start, run.end)).decode().splitlines()
    values = np.empty((len(rows), len(run.columns)))
    stamps: list[object] = []
    for i, row in enumerate(rows):
        cells = row.split(",")
        if len(cells) != len(run.columns) + 1:
            raise ParseError(
                origin,
                f"expected {len(run.columns) + 1} fields like the column header on line "
                f"{run.start}, found {len(cells)}",
                line=run.start + i + 1,
            )
        stamp = cells[0].strip()
        if run.iso:
            stamps.append(stamp)
        elif stamp.isascii() and stamp.isdigit():  # "¹9" is a digit to str.isdigit
            stamps.append(float(stamp))
        else:
            raise ParseError(
                origin,
                f"cannot read {stamp!r} as a date (YYYYMM, YYYY, YYYYMMDD or YYYY-MM-DD)",
                line=run.start + i + 1,
            )
        for j, cell in enumerate(cells[1:]):
            text = cell.strip()
            if text in ("", "."):
                values[i, j] = np.nan
            elif _NUMBER.fullmatch(text):
                values[i, j] = float(text)
            else:
                raise ParseError(
                    origin,
                    f"cannot read {text!r} as a number",
                    line=run.start + i + 1,
                    field=run.columns[j],
                )
    return np.asarray(stamps, dtype=object if run.iso else np.float64), values


def _to_days(stamps: np.ndarray, runs: list[_Run], origin: str) -> tuple[np.ndarray, list[str]]:
    """Publisher stamps to days: YYYYMM -> month end, YYYY -> Dec 31, YYYYMMDD/ISO -> the day.

    ``stamps`` are numbers, or strings (object array) for ISO dates read by the slow path.
    """
    lengths = np.array([r.end - r.start for r in runs])
    heads = np.cumsum(lengths) - lengths  # each run's first row

    def fail(i: int, reason: str) -> ParseError:
        run = int(np.searchsorted(heads, i, side="right") - 1)
        return ParseError(origin, reason, line=runs[run].start + i - int(heads[run]) + 1)

    if stamps.dtype == object:
        parsed = pd.to_datetime(pd.Series(stamps), format="%Y-%m-%d", errors="coerce")
        bad = parsed.isna().to_numpy()
        if bad.any():
            i = int(bad.argmax())
            raise fail(i, f"cannot read {stamps[i]!r} as a date like the first row's (YYYY-MM-DD)")
        days = parsed.to_numpy().astype("datetime64[D]")
        size = np.full(len(days), 8)
    else:
        with np.errstate(invalid="ignore"):
            ints = np.nan_to_num(stamps, nan=-1.0).astype(np.int64)
        size = (ints >= 1000) * ((ints <= 9999) * 4 + (ints > 9999) * (ints <= 999_999) * 6)
        size += (ints > 999_999) * (ints <= 99_999_999) * 8
        bad = (size != np.repeat(size[heads], lengths)) | (size == 0) | (stamps != ints)
        div = np.where(size == 8, 10_000, np.where(size == 6, 100, 1))
        year = ints // div
        rest = ints - year * div  # MMDD, MM or 0
        month = np.where(size == 8, rest // 100, np.where(size == 6, rest, 12))
        day = np.where(size == 8, rest % 100, 1)
        bad |= (month < 1) | (month > 12) | (day < 1)
        month = np.clip(month, 1, 12)
        if bad.any():
            i = int(bad.argmax())
            head = int(heads[np.searchsorted(heads, i, side="right") - 1])
            raise fail(
                i,
                f"cannot read {_show(stamps[i])} as a date like the first row's "
                f"{_show(stamps[head])} (YYYYMM, YYYY or YYYYMMDD)",
            )
        last = _DAYS_IN_MONTH[month - 1] + ((month == 2) & _leap(year))
        day = np.where(size == 8, day, last)  # month end; Dec 31 for YYYY (month is 12)
        over = day > last
        if over.any():  # 20250231
            i = int(over.argmax())
            raise fail(i, f"no such day: {_show(stamps[i])}")
        days = _civil_days(year, month, day).view("datetime64[D]")
    steps = np.diff(days.view(np.int64))
    steps[heads[1:] - 1] = 1  # no order across tables
    if (steps <= 0).any():
        i = int((steps <= 0).argmax()) + 1
        raise fail(
            i,
            f"dates must increase: {days[i]} follows {days[i - 1]} (two tables run together, or "
            "a repeated row?)",
        )
    kinds = []
    for head, length in zip(heads.tolist(), lengths.tolist(), strict=True):
        kind = {4: "A", 6: "M", 8: "D"}[int(size[head])]
        if kind == "D" and length > 1 and np.median(steps[head : head + length - 1]) >= 5:
            kind = "W"
        kinds.append(kind)
    return days, kinds


_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _leap(year: np.ndarray) -> np.ndarray:
    return (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))


def _civil_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's days_from_civil).

    Integer arithmetic on whole arrays: numpy's datetime64[M] -> [D] casts walk the calendar
    element by element and cost more than reading a daily file's numbers.
    """
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _show(stamp: object) -> str:
    if isinstance(stamp, float):
        return (
            repr(str(int(stamp))) if stamp.is_integer() else repr("" if stamp != stamp else stamp)
        )
    return repr(str(stamp))


# ---------------------------------------------------------------------------------------------
# the registration

DEFAULT = (
    "F-F_Research_Data_Factors", "F-F_Research_Data_Factors_daily",
    "F-F_Research_Data_5_Factors_2x3", "Portfolios_Formed_on_ME", "Portfolios_Formed_on_BE-ME",
    "Portfolios_Formed_on_E-P", "25_Portfolios_5x5", "6_Portfolios_2x3",
)  # fmt: skip

MONTHLY_RELEASE = ReleaseRule(
    "french_monthly",
    "the end of the month after the observation's month (Ken French updates ~4 weeks after)",
    lambda d: month_end(d, 1),
)
ANNUAL_RELEASE = ReleaseRule(
    "french_annual",
    "one month after the year ends (with the December update of the Ken French files)",
    lambda d: month_end(year_end(d), 1),
)


def live(
    name: str, *, client: httpx.Client, config: Config | None = None, **_: object
) -> tuple[Payload, Tidy]:
    """Download and parse one dataset (``name`` as the library names it).

    The folder is ``config.url("french", BASE)`` (``SMALLCAPS_URL_FRENCH``).
    """
    base = BASE if config is None else config.url("french", BASE)
    payload = fetch(name, client=client, url=base.rstrip("/") + "/{name}_CSV.zip")
    return payload, tidy(payload.data, origin=payload.url, dataset=name)


PUBLISHER = register(
    Publisher(
        kind=SOURCE,
        title="Kenneth R. French Data Library",
        order=2,
        root=f"{SOURCE}/",
        template=SOURCE + "/{name}/",
        series_id=series_id,
        helpers={"slug": slug},
        release={f"{SOURCE}/": {"A": ANNUAL_RELEASE, "*": MONTHLY_RELEASE}},
        tidy=lambda name, data, *, origin, **_: tidy(data, origin=origin, dataset=name),
        live=live,
        defaults=DEFAULT,
    )
)
