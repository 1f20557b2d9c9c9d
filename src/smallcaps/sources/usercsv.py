"""A series the user supplies as CSV (e.g. a vendor's forward P/E), stored as ``user/<name>``.

The file needs a header row, a date column and a value column, separated by ``,``, ``;`` or a
tab (whichever the header line uses most). Anything this module would have to guess is an error
that names the file and says what to pass instead:

* the date column is the one column whose every cell is a date (of several, the one with
  "date" in its name); otherwise pass ``date_column``. Dates may be ISO (``2020-01-31``,
  ``2020-01``, ``2020/01/31``), quarters (``2020Q1``, stamped at quarter start), with a month
  name (``Jan 31, 2020``, ``31 Jan 2020``, ``Jan 2020``) or numeric day/month/year with ``/``,
  ``.`` or ``-``: then the day must show which field it is in (some first field above 12: day
  first; some second field above 12: month first). Otherwise, as in ``01/02/2020`` throughout,
  pass ``date_format``. Two-digit years and bare years are not recognised (pass
  ``date_format``, e.g. ``"%Y"``).
* the value column is the only other column, or the one other column whose cells are mostly
  numbers (text columns such as a ticker are ignored); several: pass ``value_column`` (the
  message lists them).
* numbers: plain (``1234.5``, ``-1e-3``), or with *unambiguous* thousands separators
  (``1,234.5`` or ``1,234,567``). ``1,234`` (thousand or decimal comma?) and ``12,5`` are
  errors: save the file with plain numbers. A trailing ``%`` is accepted when every value in the
  column has one: the number is kept as is and the series' units become ``"percent"`` (we do
  not guess whether it is a rate, which stays in percent, or a return).
* ``""``, ``NA``, ``N/A``, ``#N/A``, ``NaN``, ``null``, ``.`` and ``-`` are missing values (NaN).
* duplicate dates, a missing date, an empty file, an HTML page: errors. Rows are sorted by date.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smallcaps.errors import ConfigError, ParseError
from smallcaps.publishers import Publisher, register
from smallcaps.release import SAME_DAY
from smallcaps.sources.base import (
    FREQUENCIES,
    SeriesMeta,
    Tidy,
    decode_text,
    long_frame,
    reject_empty,
    reject_html,
)

SOURCE = "user"
DEFAULT_UNITS = "unknown (user-supplied)"
NOTES = "user-supplied vendor data"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_MISSING = ("", "NA", "N/A", "#N/A", "NaN", "nan", "null", "NULL", ".", "-")
_PLAIN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}((,\d{3})+\.\d+|(,\d{3}){2,})$")  # 1,234.5  1,234,567
_COMMA = re.compile(r"^[+-]?\d+(,\d+)+$")  # 1,234 or 12,5: thousands or decimal comma?

_ISO = re.compile(r"^\d{4}-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?)?$")
_ISO_SLASH = re.compile(r"^\d{4}/\d{1,2}/\d{1,2}$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_DMY = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})$")
_NAMED = (
    "%d %b %Y", "%d %B %Y", "%d-%b-%Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y",
    "%b %Y", "%B %Y", "%b-%Y", "%Y-%b",
)  # fmt: skip
_STEPS = (("D", 0, 4), ("W", 5, 10), ("M", 26, 35), ("Q", 85, 95), ("A", 360, 370))


@dataclass(frozen=True, slots=True, eq=False)
class _Read:
    frame: pd.DataFrame
    date_column: str
    value_column: str
    percent: bool


def parse(
    data: bytes,
    *,
    origin: str,
    name: str,
    date_column: str | None = None,
    value_column: str | None = None,
    date_format: str | None = None,
) -> pd.DataFrame:
    """Read a user's CSV into the long frame ``series_id, date, value`` for ``user/<name>``.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    origin : str
        File name, for error messages.
    name : str
        Series name: letters, digits, ``_ . -``; the id is ``user/<name>``.
    date_column, value_column : str, optional
        Column names, needed when the file has several candidates.
    date_format : str, optional
        A ``strftime`` format such as ``"%d/%m/%Y"``, needed when dates are ambiguous.

    Raises
    ------
    ParseError
        Anything ambiguous or unreadable (see the module docstring); the message names the
        file, the line and column when known, and what to pass.
    ConfigError
        A ``name`` that cannot be part of a series id.
    """
    return _read(data, origin, name, date_column, value_column, date_format).frame


def tidy(
    data: bytes,
    *,
    origin: str,
    name: str,
    units: str = DEFAULT_UNITS,
    frequency: str | None = None,
    title: str | None = None,
    date_column: str | None = None,
    value_column: str | None = None,
    date_format: str | None = None,
) -> Tidy:
    """Parse and describe the series for the store.

    Parameters
    ----------
    units : str, default "unknown (user-supplied)"
        What the values are; becomes ``"percent"`` when the values carry ``%`` signs.
    frequency : {"D", "W", "M", "Q", "A"}, optional
        Inferred from the median spacing of the dates when not given.
    title : str, optional
        Defaults to the name and the value column.
    data, origin, name, date_column, value_column, date_format
        As in :func:`parse`.
    """
    read = _read(data, origin, name, date_column, value_column, date_format)
    frame = read.frame
    if frequency is None:
        frequency = _infer_frequency(pd.DatetimeIndex(frame["date"]), origin)
    elif frequency not in FREQUENCIES:
        raise ConfigError(f"frequency must be one of {', '.join(FREQUENCIES)}, got {frequency!r}")
    notes = f"{NOTES}; from {origin}, column {read.value_column!r}"
    if read.percent:
        if units == DEFAULT_UNITS:
            units = "percent"
        elif "percent" not in units.lower() and "%" not in units:
            raise ConfigError(
                f"{origin}: the values in {read.value_column!r} carry a % sign but units="
                f"{units!r}; pass units='percent' or remove the % signs"
            )
        notes += "; values carried a % sign, kept in percent"
    series_id = f"{SOURCE}/{name}"
    meta = SeriesMeta(
        series_id=series_id,
        source=SOURCE,
        title=title or f"{name} ({read.value_column}, user-supplied)",
        units=units,
        frequency=frequency,
        notes=notes,
    )
    return Tidy(frame, {series_id: meta})


def _read(
    data: bytes,
    origin: str,
    name: str,
    date_column: str | None,
    value_column: str | None,
    date_format: str | None,
) -> _Read:
    if not _NAME.match(name):
        raise ConfigError(
            f"series name {name!r} must start with a letter or digit and hold only letters, "
            "digits, '_', '.' and '-' (it becomes 'user/<name>')"
        )
    raw = _table(data, origin)
    columns = list(raw.columns)
    if date_column is None:
        date_column = _find_date_column(raw, origin, date_format)
    elif date_column not in columns:
        raise ParseError(origin, f"no column {date_column!r}; the columns are {columns}")
    if value_column is None:
        value_column = _find_value_column(raw, origin, date_column)
    elif value_column not in columns:
        raise ParseError(origin, f"no column {value_column!r}; the columns are {columns}")
    if value_column == date_column:
        raise ParseError(origin, f"date and value column are both {date_column!r}")
    dates = _to_dates(raw[date_column], origin, date_column, date_format)
    values, percent = _to_numbers(raw[value_column], origin, value_column)
    if np.isnan(values).all():
        raise ParseError(origin, "no values, only missing cells", field=value_column)
    order = np.argsort(dates.to_numpy(), kind="stable")
    stamps = pd.DatetimeIndex(dates.to_numpy()[order])
    values, lines = values[order], raw.index.to_numpy()[order]
    dup = stamps.duplicated()
    if dup.any():
        i = int(dup.argmax())
        raise ParseError(
            origin,
            f"duplicate date {stamps[i]:%Y-%m-%d} (also on line {lines[i - 1]}); one value per "
            "date expected",
            line=int(lines[i]),
            field=date_column,
        )
    frame = long_frame(f"{SOURCE}/{name}", stamps, values)
    return _Read(frame, date_column, value_column, percent)


def _table(data: bytes, origin: str) -> pd.DataFrame:
    """All cells as stripped strings; the index holds each row's line number in the file."""
    reject_empty(data, origin)
    reject_html(data, origin)
    text = decode_text(data, origin)
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:  # only white space, e.g. a no-break space the byte check lets through
        raise ParseError(origin, "the file holds only white space; expected a header line")
    leading = text[: text.index(first)].count("\n")  # blank lines above the header
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    sep = max(counts, key=lambda d: counts[d])
    if counts[sep] == 0:
        raise ParseError(
            origin,
            f"the header {first.strip()[:60]!r} has one column; expected a header with a date "
            "and a value column separated by ',' or ';'",
            line=leading + 1,
        )
    header = [c.strip() for c in next(csv.reader([first], delimiter=sep))]
    dups = sorted({c for c in header if header.count(c) > 1})
    if dups:
        raise ParseError(origin, f"duplicate column names {dups} in the header", line=leading + 1)
    try:
        raw = pd.read_csv(
            io.StringIO(text[text.index(first) :]),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise ParseError(origin, f"not a well-formed CSV: {exc}") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    raw = raw.apply(lambda col: col.str.strip())
    raw.index = pd.RangeIndex(len(raw)) + leading + 2
    raw = raw[(raw != "").any(axis=1)]
    if raw.empty:
        raise ParseError(origin, "no data rows under the header", line=leading + 2)
    return raw


def _date_kind(text: pd.Series) -> str | None:
    """How a column's (non-empty) cells read as dates: a kind or format, or None."""
    cells = text[text != ""]
    if cells.empty:
        return None
    if cells.str.fullmatch(_ISO).all():
        return "iso"
    if cells.str.fullmatch(_ISO_SLASH).all():
        return "%Y/%m/%d"
    if cells.str.fullmatch(_QUARTER).all():
        return "quarter"
    if cells.str.fullmatch(_DMY).all():
        return "numeric"
    if cells.str.contains(r"[A-Za-z]").all():
        for fmt in _NAMED:
            if pd.to_datetime(cells, format=fmt, errors="coerce").notna().all():
                return fmt
    return None


def _find_date_column(raw: pd.DataFrame, origin: str, date_format: str | None) -> str:
    if date_format is not None:
        found = [
            c
            for c in raw.columns
            if (raw[c] != "").any()
            and pd.to_datetime(raw[c][raw[c] != ""], format=date_format, errors="coerce")
            .notna()
            .all()
        ]
    else:
        found = [c for c in raw.columns if _date_kind(raw[c]) is not None]
    if len(found) > 1:
        named = [c for c in found if "date" in c.lower()]
        if len(named) == 1:
            return named[0]
        raise ParseError(
            origin, f"several columns hold dates: {found}; pass date_column= one of them"
        )
    if not found:
        how = f"format {date_format!r}" if date_format else "a recognised date format"
        raise ParseError(
            origin,
            f"no column whose every cell is a date in {how}; the columns are "
            f"{list(raw.columns)}; pass date_column= and date_format= (e.g. '%d/%m/%y')",
        )
    return found[0]


def _to_dates(text: pd.Series, origin: str, column: str, date_format: str | None) -> pd.Series:
    lines = text.index
    missing = text == ""
    if missing.any():
        raise ParseError(origin, "missing date", line=int(lines[missing.argmax()]), field=column)
    kind = "format" if date_format else _date_kind(text)
    if kind is None:
        bad = ~_any_date_shape(text)
        i = int(bad.argmax()) if bad.any() else 0
        raise ParseError(
            origin,
            f"cannot read {text.iat[i]!r} as a date; pass date_format= (e.g. '%d/%m/%Y')",
            line=int(lines[i]),
            field=column,
        )
    if kind == "format":
        dates = pd.to_datetime(text, format=date_format, errors="coerce")
    elif kind == "iso":
        dates = pd.to_datetime(text, format="ISO8601", errors="coerce")
    elif kind == "quarter":
        parts = text.str.extract(_QUARTER)
        iso = parts[0] + "-" + ((parts[1].astype(int) - 1) * 3 + 1).map("{:02d}".format) + "-01"
        dates = pd.to_datetime(iso, format="%Y-%m-%d")
    elif kind == "numeric":
        dates = _numeric_dates(text, origin, column)
    else:
        dates = pd.to_datetime(text, format=kind, errors="coerce")
    bad = dates.isna()
    if bad.any():
        i = int(bad.argmax())
        shown = f"format {date_format!r}" if date_format else "a valid date"
        raise ParseError(
            origin, f"cannot read {text.iat[i]!r} as {shown}", line=int(lines[i]), field=column
        )
    _check_range(pd.DatetimeIndex(dates), text, origin, column)
    if kind == "iso":
        _check_iso_precision(text, origin, column)
    return pd.Series(pd.DatetimeIndex(dates).as_unit("ns"), index=lines)


def _check_range(dates: pd.DatetimeIndex, text: pd.Series, origin: str, column: str) -> None:
    """Dates the store can hold (pandas' nanosecond range, 1677-09-22 to 2262-04-11)."""
    lo, hi = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")
    out = np.asarray((dates < lo) | (dates > hi))
    if out.any():
        i = int(out.argmax())
        raise ParseError(
            origin,
            f"date {text.iat[i]!r} is outside the range smallcaps can store "
            f"({lo:%Y-%m-%d} to {hi:%Y-%m-%d}); fix or remove the row",
            line=int(text.index[i]),
            field=column,
        )


def _check_iso_precision(text: pd.Series, origin: str, column: str) -> None:
    """A bare month (``2020-02``) among full dates is an error, not the 1st of the month."""
    month_only = text.str.len().to_numpy() == 7
    if month_only.any() and not month_only.all():
        i = int(month_only.argmax())
        raise ParseError(
            origin,
            f"{text.iat[i]!r} is a month, but the other dates are days; write it as a full "
            "date like the others (e.g. the month's last day)",
            line=int(text.index[i]),
            field=column,
        )


def _any_date_shape(text: pd.Series) -> pd.Series:
    return (
        text.str.fullmatch(_ISO)
        | text.str.fullmatch(_ISO_SLASH)
        | text.str.fullmatch(_QUARTER)
        | text.str.fullmatch(_DMY)
    )


def _numeric_dates(text: pd.Series, origin: str, column: str) -> pd.Series:
    """``dd/mm/yyyy`` or ``mm/dd/yyyy``, decided from the data, never guessed."""
    parts = text.str.extract(_DMY)
    first, sep, second, year = (parts[0].astype(int), parts[1], parts[2].astype(int), parts[3])
    day_first, month_first = (first > 12).any(), (second > 12).any()
    s = sep.iat[0]
    if day_first and month_first:
        a, b = text[first > 12].iat[0], text[second > 12].iat[0]
        raise ParseError(
            origin,
            f"dates mix day-first ({a!r}) and month-first ({b!r}) order; fix the file",
            field=column,
        )
    if not (day_first or month_first):
        raise ParseError(
            origin,
            f"dates like {text.iat[0]!r} could be day-first or month-first (no day above 12 "
            f"tells which); pass date_format='%d{s}%m{s}%Y' or date_format='%m{s}%d{s}%Y'",
            field=column,
        )
    day, month = (first, second) if day_first else (second, first)
    iso = year + "-" + month.map("{:02d}".format) + "-" + day.map("{:02d}".format)
    return pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")


def _number_cells(text: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(missing, readable, has %) per cell."""
    missing = text.isin(_MISSING)
    percent = text.str.endswith("%")
    body = text.str.removesuffix("%").str.strip()
    readable = body.str.fullmatch(_PLAIN) | body.str.fullmatch(_GROUPED)
    return missing, readable & ~missing, percent & ~missing


def _find_value_column(raw: pd.DataFrame, origin: str, date_column: str) -> str:
    others = [c for c in raw.columns if c != date_column]
    if len(others) == 1:
        return others[0]  # the only candidate; its cells get their own messages
    numeric = []
    for c in others:
        missing, readable, _ = _number_cells(raw[c])
        commas = raw[c].str.removesuffix("%").str.fullmatch(_COMMA)  # 1,234: reported later
        present = int((~missing).sum())
        if present and (readable | commas).sum() >= present / 2:  # a typo gets its own message
            numeric.append(c)
    if len(numeric) > 1:
        raise ParseError(
            origin, f"several numeric columns {numeric}; pass value_column= one of them"
        )
    if not numeric:
        raise ParseError(
            origin,
            f"no numeric column besides the date column {date_column!r} (found {others}); "
            "pass value_column=",
        )
    return numeric[0]


def _to_numbers(text: pd.Series, origin: str, column: str) -> tuple[np.ndarray, bool]:
    missing, readable, percent = _number_cells(text)
    bad = ~(missing | readable)
    if bad.any():
        i = int(bad.argmax())
        cell = text.iat[i]
        body = cell.removesuffix("%").strip()
        if _COMMA.match(body):
            why = (
                "a comma could be a thousands separator or a decimal comma; save the file "
                "with plain numbers such as 1234.5"
            )
        else:
            why = "expected a number such as 1234.5, 1,234.5 or 12.5%, or an empty cell"
        line = int(text.index[i])
        raise ParseError(
            origin, f"cannot read {cell!r} as a number: {why}", line=line, field=column
        )
    present = ~missing
    has_percent = bool(percent.any())
    if has_percent and not percent[present].all():
        i = int((present & ~percent).argmax())
        raise ParseError(
            origin,
            f"{text.iat[i]!r} has no % sign while other values in the column do; use one unit",
            line=int(text.index[i]),
            field=column,
        )
    body = text.where(present).str.removesuffix("%").str.replace(",", "", regex=False)
    return pd.to_numeric(body).to_numpy(dtype=float, na_value=np.nan), has_percent


def _infer_frequency(dates: pd.DatetimeIndex, origin: str) -> str:
    if len(dates) < 2:
        raise ParseError(
            origin, "one observation: cannot infer the frequency; pass frequency='D'|'W'|'M'|..."
        )
    step = float(np.median(np.diff(dates.to_numpy()) / np.timedelta64(1, "D")))
    for freq, low, high in _STEPS:
        if low <= step <= high:
            return freq
    raise ParseError(
        origin,
        f"cannot infer the frequency from a median spacing of {step:g} days; pass "
        "frequency= one of 'D', 'W', 'M', 'Q', 'A'",
    )


# --- the registration: the release rule of user series; added from files, not by spec -----------

PUBLISHER = register(
    Publisher(
        kind=SOURCE,
        title="user-supplied CSV files",
        order=8,
        root=f"{SOURCE}/",
        template=SOURCE + "/{name}",
        series_id=lambda name: f"{SOURCE}/{name}",
        release={f"{SOURCE}/": SAME_DAY},
        specs=False,
    )
)
