"""What every source module shares: the raw payload, series metadata, the tidy result, checks.

Each publisher module has two independent steps:

* ``fetch(...) -> Payload``: bytes over HTTP (see :mod:`smallcaps.sources._http`), no parsing;
* ``parse(data, *, origin, ...)``: bytes to frames, no network. ``origin`` (a file name or URL)
  feeds every error message.

and ``tidy(data, *, origin, ...) -> Tidy`` that turns the parsed bytes into the long
``series_id, date, value`` frame plus one :class:`SeriesMeta` per series, which is what the store
and the mirror consume.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from smallcaps.errors import ParseError

TIDY_COLUMNS = ("series_id", "date", "value")
FREQUENCIES = ("D", "W", "M", "Q", "A")


@dataclass(frozen=True, slots=True)
class Payload:
    """Raw bytes as a publisher served them, with where and when.

    Parameters
    ----------
    source : str
        Publisher name (``"fred"``, ``"french"``, ``"yahoo"``, ``"mirror"``, ...).
    url : str
        URL or file path the bytes came from (keys masked).
    data : bytes
        The body, untouched.
    retrieved_at : datetime
        UTC time of retrieval.
    """

    source: str
    url: str
    data: bytes
    retrieved_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def sha256(self) -> str:
        """Hex digest of ``data``: the payload's key in the archive."""
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True, slots=True)
class SeriesMeta:
    """What a series is, in words a user and the store can both read.

    Parameters
    ----------
    series_id : str
        The id used in the store, e.g. ``"UNRATE"`` or ``"french:F-F_Research_Data_Factors:SMB"``.
    source : str
        Publisher name.
    title : str
        Human title.
    units : str
        Units of the stored values, e.g. ``"decimal return"``, ``"percent"``, ``"USD"``.
    frequency : str
        One of ``D W M Q A``.
    publisher_units : str, optional
        Units in the publisher's file when they differ (``"percent"`` for French returns).
    adjusted : bool, optional
        For prices: whether the close is dividend- and split-adjusted. None when not a price.
    publisher_vintage : str, optional
        The publisher's own vintage stamp, e.g. the CRSP month ``"202602"`` of a French file.
    notes : str, optional
        Anything a user should know (a partial last bar, a discontinued series).
    """

    series_id: str
    source: str
    title: str
    units: str
    frequency: str
    publisher_units: str | None = None
    adjusted: bool | None = None
    publisher_vintage: str | None = None
    notes: str | None = None

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise ValueError(f"frequency must be one of {FREQUENCIES}, got {self.frequency!r}")


@dataclass(frozen=True, slots=True, eq=False)
class Tidy:
    """Parsed series ready for the store: a long frame and a metadata record per series.

    ``frame`` has columns ``series_id`` (str), ``date`` (datetime64), ``value`` (float64), no
    duplicate ``(series_id, date)``; ``meta`` has exactly one entry per series id in the frame.
    """

    frame: pd.DataFrame
    meta: Mapping[str, SeriesMeta]

    def __post_init__(self) -> None:
        check_tidy(self.frame, origin="Tidy")
        ids = set(self.frame["series_id"].unique())
        if ids != set(self.meta):
            missing, extra = sorted(ids - set(self.meta)), sorted(set(self.meta) - ids)
            raise ValueError(f"meta does not match frame: missing {missing}, extra {extra}")

    @property
    def series_ids(self) -> list[str]:
        """Series ids in the order of ``meta``."""
        return list(self.meta)

    def series(self, series_id: str) -> pd.Series:
        """One series as a float Series indexed by date."""
        rows = self.frame[self.frame["series_id"] == series_id]
        return pd.Series(
            rows["value"].to_numpy(), index=pd.DatetimeIndex(rows["date"]), name=series_id
        )

    @staticmethod
    def concat(parts: Sequence[Tidy]) -> Tidy:
        """Join several results (e.g. every table of one file) into one."""
        frame = pd.concat([p.frame for p in parts], ignore_index=True)
        meta: dict[str, SeriesMeta] = {}
        for p in parts:
            meta.update(p.meta)
        return Tidy(frame, meta)


def check_tidy(frame: pd.DataFrame, *, origin: str) -> None:
    """Raise ParseError unless ``frame`` is a non-empty tidy long frame without duplicates."""
    if list(frame.columns) != list(TIDY_COLUMNS):
        raise ParseError(
            origin, f"expected columns {list(TIDY_COLUMNS)}, got {list(frame.columns)}"
        )
    if frame.empty:
        raise ParseError(origin, "no observations")
    if not pd.api.types.is_datetime64_any_dtype(frame["date"]):
        raise ParseError(origin, f"column 'date' must be datetime64, got {frame['date'].dtype}")
    if frame["date"].isna().any():
        raise ParseError(origin, "missing dates")
    codes, uniques, starts = series_codes(frame["series_id"])
    stamps = pd.DatetimeIndex(frame["date"]).asi8
    # the usual frame: one block of rows per series, dates increasing within it
    if (
        len(starts) == len(uniques)
        and ((codes[1:] != codes[:-1]) | (stamps[1:] > stamps[:-1])).all()
    ):
        return
    dup = frame.duplicated(["series_id", "date"])
    if dup.any():
        row = frame[dup].iloc[0]
        raise ParseError(origin, f"duplicate date {row['date']:%Y-%m-%d} in {row['series_id']!r}")


def series_codes(
    ids: pd.Series | np.ndarray, *, sort: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``pd.factorize(ids, sort=sort)`` for a column made of runs of one id, plus the run starts.

    Tidy frames repeat each series id over a block of rows: comparing neighbours (identical
    objects compare at once) and factorizing only the first id of each run is many times
    faster than hashing every cell, with the same codes and uniques.

    Returns
    -------
    codes : ndarray of intp
    uniques : ndarray of object
    starts : ndarray of intp
        Row where each run of equal ids starts.
    """
    values = np.asarray(ids, dtype=object)
    if not len(values):
        codes, uniques = pd.factorize(values, sort=sort)
        return codes, np.asarray(uniques, dtype=object), np.zeros(0, dtype=np.intp)
    starts = np.r_[0, np.flatnonzero(values[1:] != values[:-1]) + 1]
    heads, uniques = pd.factorize(values[starts], sort=sort)
    codes = np.repeat(heads, np.diff(np.r_[starts, len(values)]))
    return codes, np.asarray(uniques, dtype=object), starts


def long_frame(
    series_id: str, dates: pd.Series | pd.Index, values: Sequence[float] | np.ndarray
) -> pd.DataFrame:
    """Build a tidy frame for one series (dates as datetime64[ns], values as float64)."""
    return pd.DataFrame(
        {
            "series_id": series_id,
            "date": pd.DatetimeIndex(dates).as_unit("ns"),
            "value": pd.array(values, dtype="float64").to_numpy(dtype=float, na_value=float("nan")),
        },
        columns=list(TIDY_COLUMNS),
    )


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def reject_html(data: bytes, origin: str, *, expected: str = "CSV") -> None:
    """Raise ParseError if ``data`` is an HTML page (a login, error or consent page).

    Servers answer refused or broken requests with an HTML page and status 200; the page's
    ``<title>`` goes into the message so the user sees what the server said.
    """
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml")) or b"<html" in head[:512]:
        match = _TITLE.search(data[:8192])
        title = match.group(1).decode("utf-8", "replace").strip() if match else ""
        said = f" titled {title[:80]!r}" if title else ""
        raise ParseError(origin, f"got an HTML page{said} where {expected} was expected")


def reject_empty(data: bytes, origin: str) -> None:
    """Raise ParseError for an empty or whitespace-only body."""
    if not data.strip():
        raise ParseError(origin, "empty file")


def decode_text(data: bytes, origin: str) -> str:
    """Decode publisher text: UTF-8 (with or without BOM), falling back to cp1252.

    Never drops bytes silently (pandas-datareader decodes with ``errors="ignore"``): if neither
    encoding fits, the error names the first bad byte's position.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ParseError(origin, f"not UTF-8 or cp1252 text (byte {exc.start})") from None


def unzip_single(
    data: bytes, origin: str, *, suffixes: tuple[str, ...] = (".csv", ".txt")
) -> bytes:
    """Return the one data member of a zip archive; truncated or odd archives are ParseErrors."""
    reject_empty(data, origin)
    reject_html(data, origin, expected="a zip archive")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith(suffixes)]
            if len(names) != 1:
                raise ParseError(origin, f"expected one {'/'.join(suffixes)} member, found {names}")
            return zf.read(names[0])
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as exc:
        raise ParseError(
            origin, f"not a readable zip archive (truncated download?): {exc}"
        ) from None


def check_header(
    found: Sequence[str], expected: Sequence[str], origin: str, *, line: int = 1
) -> None:
    """Raise ParseError naming both headers when a file's header changed shape."""
    if [c.strip() for c in found] != list(expected):
        raise ParseError(
            origin, f"header changed: expected {list(expected)}, found {list(found)}", line=line
        )
