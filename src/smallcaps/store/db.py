"""The vintaged store: one DuckDB file (no server) plus the archive of raw payloads.

Tables::

    series        series_id PK, source, title, units, frequency, publisher_units, adjusted,
                  notes                            (the newest metadata of each series)
    vintages      vintage_id PK, series_id, source, url, fetched_at (TIMESTAMP, UTC),
                  publisher_vintage, sha256 (of the payload), content_hash (of the series'
                  rows), row_count, first_date, last_date
    observations  vintage_id, date, value          PK (vintage_id, date)
    store_info    key PK, value                    (store_id, schema_version)
    mirror_files  path, reader PK, size, mtime_ns, sha256
                                                   (mirror files already stored: a refresh
                                                   skips them unread while they stay so)

Every fetch of a series whose rows changed becomes a new vintage; observations are only ever
inserted, never updated or deleted, and "latest" is a query. A write validates first, archives
the raw bytes, then adds every series of the payload in one transaction: a failed, invalid or
killed write leaves the tables as they were.

DuckDB lets one process at a time open the file. The store therefore opens a connection per
operation and closes it at once; a process that finds the file locked retries with backoff for
``lock_timeout`` seconds, then raises :class:`StoreError`. Opening costs ~15 ms, so reads are
served from an in-process cache: observations by vintage id (vintages never change), and the
small catalogue of series and vintages, which is re-read whenever the file or its write-ahead
log changed on disk.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import duckdb
import numpy as np
import pandas as pd

from smallcaps.errors import STORE_UNCHANGED, ParseError, UnknownSeriesError
from smallcaps.sources.base import Payload, SeriesMeta, Tidy, check_tidy, series_codes
from smallcaps.store.archive import Archive, StoreError

if TYPE_CHECKING:
    from smallcaps.config import Config

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS store_info (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE SEQUENCE IF NOT EXISTS vintage_id_seq START 1;
CREATE TABLE IF NOT EXISTS series (
    series_id VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    units VARCHAR NOT NULL,
    frequency VARCHAR NOT NULL,
    publisher_units VARCHAR,
    adjusted BOOLEAN,
    notes VARCHAR
);
CREATE TABLE IF NOT EXISTS vintages (
    vintage_id BIGINT PRIMARY KEY,
    series_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    url VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    publisher_vintage VARCHAR,
    sha256 VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    row_count BIGINT NOT NULL,
    first_date DATE NOT NULL,
    last_date DATE NOT NULL
);
CREATE TABLE IF NOT EXISTS observations (
    vintage_id BIGINT NOT NULL,
    date DATE NOT NULL,
    value DOUBLE,
    PRIMARY KEY (vintage_id, date)
);
CREATE TABLE IF NOT EXISTS mirror_files (
    path VARCHAR NOT NULL,
    reader VARCHAR NOT NULL,
    size BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL,
    sha256 VARCHAR NOT NULL,
    PRIMARY KEY (path, reader)
);
"""

_VINTAGE_COLUMNS = (
    "vintage_id, series_id, source, url, fetched_at, publisher_vintage, sha256, content_hash, "
    "row_count, first_date, last_date"
)
_META_COLUMNS = ("source", "title", "units", "frequency", "publisher_units", "adjusted", "notes")
_PID = re.compile(r"PID (\d+)")
_QUIET_SECONDS = 0.05  # a catalogue read from a file this quiet can be trusted while it stays so
_COARSE_QUIET_SECONDS = 2.5  # ... on a file system that keeps whole-second mtimes
_DAY_NS = 86_400 * 10**9
_FRESH_SECONDS = 0.05  # an untrusted catalogue still serves the calls of the next 50 ms


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a write did, series by series.

    Parameters
    ----------
    sha256 : str
        Digest of the payload (its key in the archive).
    vintages : Mapping[str, int | "unchanged"]
        For each series of the payload, the new vintage id, or ``"unchanged"`` when its rows
        equal those of its latest vintage (no vintage added).
    """

    sha256: str
    vintages: Mapping[str, int | Literal["unchanged"]]

    @property
    def added(self) -> dict[str, int]:
        """Series that got a new vintage, with its id."""
        return {k: v for k, v in self.vintages.items() if v != "unchanged"}

    @property
    def unchanged(self) -> list[str]:
        """Series whose rows were already stored as their latest vintage."""
        return [k for k, v in self.vintages.items() if v == "unchanged"]

    def summary(self) -> str:
        """One line: how many series got a new vintage."""
        return (
            f"{len(self.added)} new vintage(s), {len(self.unchanged)} unchanged series "
            f"(payload {self.sha256[:12]})"
        )


@dataclass(frozen=True, slots=True)
class MirrorMark:
    """A mirror file whose every series is stored: a refresh need not read it again.

    Parameters
    ----------
    path : str
        The file (resolved path).
    reader : str
        How it was read (spec, capture time, parameters, parser version); a mark counts only
        for the same reader, so a changed mapping or parser reads the file again.
    size, mtime_ns : int
        ``os.stat`` of the file when it was read: while both hold, the file is not opened.
    sha256 : str
        Digest of its bytes: a file touched but unchanged is hashed, not parsed.
    """

    path: str
    reader: str
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True, slots=True, eq=False)
class VintageData:
    """The observations of one vintage, sorted by date; the arrays are read-only.

    ``extras`` lets readers keep arrays derived from this vintage (publication dates under a
    release rule) for as long as the vintage stays in the cache.
    """

    vintage_id: int
    dates: np.ndarray  # datetime64[ns]
    values: np.ndarray  # float64, NaN where the publisher had no value
    extras: dict[str, Any] = field(default_factory=dict)

    def series(self, name: str | None = None) -> pd.Series:
        """The observations as a float Series indexed by date."""
        return pd.Series(self.values, index=pd.DatetimeIndex(self.dates, name="date"), name=name)


@dataclass(frozen=True, slots=True, eq=False)
class _Catalog:
    store_id: str
    vintages: pd.DataFrame  # sorted by series_id, fetched_at, vintage_id
    series: pd.DataFrame  # indexed by series_id
    bounds: dict[str, tuple[int, int]]  # series_id -> row slice of `vintages`
    ids: tuple[str, ...]  # series.index, sorted: asked for often (View.has, View.ids)


@dataclass(frozen=True, slots=True, eq=False)
class _Prepared:
    frame: pd.DataFrame  # series_id, date (datetime64[ns]), value; sorted by series, date
    starts: np.ndarray  # row where each series starts in `frame`
    per_series: pd.DataFrame  # series_id, publisher_vintage, content_hash, row_count, first/last


class Store:
    """A vintaged store of series: a DuckDB file plus an :class:`Archive` of raw payloads.

    Use :meth:`Store.open`; the object holds no connection, so it may live as long as needed
    without blocking other processes.

    Parameters
    ----------
    path : Path
        The DuckDB file.
    archive : Archive
        Where raw payloads go.
    lock_timeout : float, default 30
        Seconds to keep retrying while another process holds the file.
    cache : bool, default True
        Keep the catalogue and observations in memory between reads (see the module notes).
        When False, only the calls of one operation (50 ms) share a catalogue read.
    cache_rows : int, default 5_000_000
        Observations kept in memory, least recently used first out.
    """

    def __init__(
        self,
        path: Path,
        archive: Archive,
        *,
        lock_timeout: float = 30.0,
        cache: bool = True,
        cache_rows: int = 5_000_000,
    ) -> None:
        self.path = Path(path)
        self.archive = archive
        self.lock_timeout = lock_timeout
        self.cache = cache
        self.cache_rows = cache_rows
        self._lock = threading.RLock()
        # (stamp of the files, catalogue, trusted while the stamp holds, monotonic read time)
        self._catalog_cache: tuple[tuple[Any, ...], _Catalog, bool, float] | None = None
        self._data: OrderedDict[tuple[str, int], VintageData] = OrderedDict()
        self._data_rows = 0
        self._held: duckdb.DuckDBPyConnection | None = None  # see session()
        self.read_only = False  # set by open(): connections are then read-only too

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}, archive={str(self.archive.root)!r})"

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path | str,
        archive_root: Path | str,
        *,
        lock_timeout: float = 30.0,
        cache: bool = True,
        read_only: bool = False,
    ) -> Store:
        """Open (creating if needed) the store at ``path`` with its archive at ``archive_root``.

        Works as a context manager: ``with Store.open(p, a) as store: ...``.

        ``read_only=True`` opens an existing store without writing anything (not even the
        schema); a store whose file or folder this user may not write is opened so as well, and
        a write to it raises :class:`StoreError`.

        Raises
        ------
        StoreError
            The folder cannot be created (the home is a file, or not writable), the file is
            not a store of this version, or ``read_only`` and there is no store yet.
        """
        store = cls(Path(path), Archive(Path(archive_root)), lock_timeout=lock_timeout, cache=cache)
        folder = store.path.parent
        exists = store.path.is_file()
        if not read_only and exists and not _writable(store.path):
            read_only = True  # a read-only store still lists and reads
        store.read_only = read_only
        if read_only and not exists:
            raise StoreError(
                f"there is no store at {str(store.path)!r}; run 'smallcaps fetch' first (or "
                "set SMALLCAPS_HOME / --home to the folder that holds store.duckdb)"
            )
        if not read_only:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the store folder {str(folder)!r}: "
                    f"{exc.strerror or exc}; set SMALLCAPS_HOME (or --home) to a folder you can "
                    "write"
                ) from None
            if not folder.is_dir():
                raise StoreError(
                    f"the store folder {str(folder)!r} is not a folder; set SMALLCAPS_HOME (or "
                    "--home) to a folder you can write"
                )
        with store.connect(doing="read" if read_only else "create the schema in") as con:
            if not read_only:
                con.execute(_SCHEMA)
                con.execute(
                    "INSERT INTO store_info VALUES ('store_id', ?), ('schema_version', ?) "
                    "ON CONFLICT DO NOTHING",
                    [uuid.uuid4().hex, SCHEMA_VERSION],
                )
            rows = con.execute(
                "SELECT value FROM store_info WHERE key = 'schema_version'"
            ).fetchall()  # fetchall: DuckDB 2 refuses more work while a result is half read
        row = rows[0] if rows else None
        if row is None or row[0] != SCHEMA_VERSION:
            raise StoreError(
                f"{str(store.path)!r} has schema version {row and row[0]!r}, this smallcaps "
                f"reads version {SCHEMA_VERSION!r}; use a matching smallcaps or a new store"
            )
        return store

    @classmethod
    def from_config(cls, config: Config, **kwargs: Any) -> Store:
        """Open the store and archive named by a :class:`smallcaps.config.Config`."""
        return cls.open(config.store_path, config.archive_path, **kwargs)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.clear_cache()

    @contextmanager
    def connect(self, *, doing: str = "read") -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection, closed on exit; waits while another process holds the file.

        Inside :meth:`session` this is the session's connection, left open.

        Raises
        ------
        StoreError
            The file stayed locked for ``lock_timeout`` seconds, or is not a DuckDB store.
        """
        with self._lock if self._held is not None else nullcontext():
            held = self._held
            con = held if held is not None else self._open_connection(doing)
            try:
                yield con
            except duckdb.Error as exc:
                unchanged = f" {STORE_UNCHANGED}" if doing == "write" else ""
                raise StoreError(
                    f"cannot {doing} the store {str(self.path)!r}: {exc}.{unchanged}"
                ) from exc
            finally:
                if held is None:
                    con.close()

    @contextmanager
    def session(self) -> Iterator[Store]:
        """Hold one connection for every store call inside (one command's reads).

        Opening DuckDB costs ~15 ms and a thesis check reads some 70 vintages, each through a
        connection of its own otherwise. Other processes wait for the file until the session
        ends: wrap one command's work, never network waits or the life of a Store. Nested
        sessions share the outer one's connection.

        Raises
        ------
        StoreError
            The file stayed locked for ``lock_timeout`` seconds.
        """
        with self._lock:
            outer = self._held is None
            if outer:
                self._held = self._open_connection("read")
        if not outer:
            yield self
            return
        try:
            yield self
        finally:
            with self._lock:
                con, self._held = self._held, None
                if con is not None:
                    con.close()

    def _open_connection(self, doing: str) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.01
        unchanged = f" {STORE_UNCHANGED}" if doing == "write" else ""
        while True:
            if doing == "write" and self.read_only:
                raise StoreError(
                    f"cannot write the store {str(self.path)!r}: it is open read-only (the file "
                    "or its folder is not writable); make it writable or set SMALLCAPS_HOME to "
                    f"a folder you can write.{unchanged}"
                )
            try:
                return duckdb.connect(str(self.path), read_only=self.read_only)
            except duckdb.IOException as exc:
                text = str(exc)
                if "lock" not in text.lower():
                    raise StoreError(
                        f"cannot {doing} the store {str(self.path)!r}: {text}"
                    ) from None
                left = deadline - time.monotonic()
                if left <= 0:
                    pid = _PID.search(text)
                    holder = f" (PID {pid.group(1)})" if pid else ""
                    raise StoreError(
                        f"cannot {doing} the store {str(self.path)!r}: another smallcaps process"
                        f"{holder} holds it, still after {self.lock_timeout:g} s; wait for that "
                        f"process to finish (or stop it) and try again.{unchanged}"
                    ) from None
                time.sleep(min(left, delay * random.uniform(0.5, 1.0)))
                delay = min(delay * 1.6, 0.5)
            except duckdb.Error as exc:
                raise StoreError(f"cannot {doing} the store {str(self.path)!r}: {exc}") from None

    # -- writing -----------------------------------------------------------------------------

    def write(self, payload: Payload, tidy: Tidy) -> WriteResult:
        """Add every series of ``tidy`` whose rows changed as a new vintage of ``payload``.

        Validates first (ParseError, nothing written), archives the raw bytes, then writes all
        series in one transaction. A series whose rows equal those of its latest vintage gets
        no new vintage. Metadata of a series is replaced when this payload is its newest fetch.

        Parameters
        ----------
        payload : Payload
            The raw bytes the rows came from (source, url, retrieval time).
        tidy : Tidy
            The parsed long frame and one SeriesMeta per series.

        Raises
        ------
        ParseError
            ``tidy`` is not a valid tidy frame (duplicate dates, a time of day, inf, ...).
        StoreError
            The file stayed locked for ``lock_timeout`` seconds, or DuckDB failed.
        """
        return self.write_many([(payload, tidy)])[0]

    def write_many(self, items: Iterable[tuple[Payload, Tidy]]) -> list[WriteResult]:
        """Write several payloads through one connection, each in its own transaction.

        Faster than :meth:`write` in a loop (the file is opened once), but holds the file for
        the whole batch. Each payload is validated just before its transaction: an invalid one
        raises after the ones before it were stored, and leaves nothing of its own.
        """
        results: list[WriteResult] = []
        with self._lock:
            try:
                with self.connect(doing="write") as con:
                    for payload, tidy in items:
                        results.append(self._write_one(con, payload, tidy))
            finally:
                self._catalog_cache = None
        return results

    def _write_one(
        self, con: duckdb.DuckDBPyConnection, payload: Payload, tidy: Tidy
    ) -> WriteResult:
        prepared = _prepare(tidy, origin=payload.url)
        sha256 = payload.sha256
        fetched_at = _utc_naive(payload.retrieved_at)
        self.archive.put(payload)
        meta = pd.DataFrame(
            [
                {"series_id": sid, **{c: getattr(tidy.meta[sid], c) for c in _META_COLUMNS}}
                for sid in prepared.per_series["series_id"]
            ]
        )
        meta["adjusted"] = meta["adjusted"].astype("object")
        con.begin()
        try:
            new_v = prepared.per_series
            con.register("new_v", new_v)
            latest = con.execute(
                "SELECT series_id, content_hash, fetched_at FROM vintages "
                "WHERE series_id IN (SELECT series_id FROM new_v) QUALIFY row_number() "
                "OVER (PARTITION BY series_id ORDER BY fetched_at DESC, vintage_id DESC) = 1"
            ).fetchall()
            last_hash = {sid: h for sid, h, _ in latest}
            last_fetch = {sid: ts for sid, _, ts in latest}
            # the same capture loaded again (a mirror file, same content and fetch time) is
            # not news either, even when a newer capture of the series is stored
            seen = {
                sid
                for (sid,) in con.execute(
                    "SELECT DISTINCT v.series_id FROM vintages v JOIN new_v n "
                    "ON v.series_id = n.series_id AND v.content_hash = n.content_hash "
                    "WHERE v.fetched_at = ?",
                    [fetched_at],
                ).fetchall()
            }
            changed = new_v[
                (new_v["content_hash"] != new_v["series_id"].map(last_hash))
                & ~new_v["series_id"].isin(seen)
            ]
            ids: dict[str, int] = {}
            store_id = ""
            if len(changed):
                con.register("changed_v", changed)
                rows = con.execute(
                    f"INSERT INTO vintages ({_VINTAGE_COLUMNS}) SELECT "
                    "nextval('vintage_id_seq'), series_id, ?, ?, ?, publisher_vintage, ?, "
                    "content_hash, row_count, CAST(first_date AS DATE), "
                    "CAST(last_date AS DATE) FROM changed_v RETURNING vintage_id, series_id",
                    [payload.source, payload.url, fetched_at, sha256],
                ).fetchall()
                ids = {sid: int(vid) for vid, sid in rows}
                _insert_observations(con, _with_vintage_ids(prepared, ids))
                ((store_id,),) = con.execute(
                    "SELECT value FROM store_info WHERE key = 'store_id'"
                ).fetchall()  # fetchall: DuckDB 2 refuses more work while a result is half read
            newest = [
                sid
                for sid in meta["series_id"]
                if sid not in last_fetch or fetched_at >= last_fetch[sid]
            ]
            if newest:
                con.register("new_meta", meta[meta["series_id"].isin(newest)])
                sets = ", ".join(f"{c} = excluded.{c}" for c in _META_COLUMNS)
                con.execute(
                    f"INSERT INTO series SELECT series_id, {', '.join(_META_COLUMNS)} "
                    f"FROM new_meta ON CONFLICT (series_id) DO UPDATE SET {sets}"
                )
            con.commit()
        except BaseException:
            with suppress(duckdb.Error):  # a dead transaction is rolled back anyway
                con.rollback()
            raise
        finally:
            for name in ("new_v", "changed_v", "new_meta"):
                with suppress(duckdb.Error):
                    con.unregister(name)
        if ids and len(prepared.frame) <= self.cache_rows // 10:
            self._prime(str(store_id), prepared, ids)
        vintages = {sid: ids.get(sid, "unchanged") for sid in prepared.per_series["series_id"]}
        return WriteResult(sha256=sha256, vintages=vintages)  # type: ignore[arg-type]

    def mark_mirror(self, marks: Iterable[MirrorMark]) -> None:
        """Record mirror files as stored (one connection for all; a newer mark replaces).

        Call only once their payloads are written: a marked file is skipped unread.
        """
        rows = [(m.path, m.reader, m.size, m.mtime_ns, m.sha256) for m in marks]
        if not rows:
            return
        with self._lock, self.connect(doing="write") as con:
            con.executemany(
                "INSERT INTO mirror_files VALUES (?, ?, ?, ?, ?) ON CONFLICT (path, reader) "
                "DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
                "sha256 = excluded.sha256",
                rows,
            )

    # -- reading -----------------------------------------------------------------------------

    def mirror_marks(self) -> dict[tuple[str, str], MirrorMark]:
        """The mirror files recorded as stored, by ``(path, reader)`` (one query)."""
        with self.connect() as con:
            rows = con.execute(
                "SELECT path, reader, size, mtime_ns, sha256 FROM mirror_files"
            ).fetchall()
        return {(r[0], r[1]): MirrorMark(*r) for r in rows}

    def mirror_seen(self, path: str, reader: str, size: int, mtime_ns: int) -> str | None:
        """The recorded sha256 of a mirror file if its size and mtime still match, else None."""
        mark = self.mirror_marks().get((path, reader))
        if mark is None or (mark.size, mark.mtime_ns) != (size, mtime_ns):
            return None
        return mark.sha256

    def fingerprint(self) -> str:
        """What the store holds, in one short string: its id, number of vintages, newest vintage.

        Vintages are only ever added (never updated or deleted), so any write changes it; used
        to key results computed from the store (:class:`smallcaps.study.RunCache`).
        """
        cat = self._catalog()
        ids = cat.vintages["vintage_id"]
        return f"{cat.store_id}:{len(ids)}:{int(ids.max()) if len(ids) else 0}"

    def series_ids(self) -> list[str]:
        """Every stored series id, sorted."""
        return list(self._catalog().ids)

    def series_list(self) -> pd.DataFrame:
        """One row per series: metadata, number of vintages and the latest vintage's extent.

        Columns ``series_id, source, title, units, frequency, vintages, latest_fetched_at,
        first, last, rows``.
        """
        cat = self._catalog()
        v = cat.vintages
        cols = ["series_id", "source", "title", "units", "frequency", "vintages"]
        cols += ["latest_fetched_at", "first", "last", "rows"]
        if v.empty:
            return pd.DataFrame(columns=cols)
        last = v.groupby("series_id", sort=True).tail(1).set_index("series_id")
        out = cat.series[["source", "title", "units", "frequency"]].copy()
        out["vintages"] = v.groupby("series_id").size()
        out["latest_fetched_at"] = last["fetched_at"]
        out["first"] = last["first_date"]
        out["last"] = last["last_date"]
        out["rows"] = last["row_count"]
        return out.rename_axis("series_id").reset_index()[cols]

    def vintages(self, series_id: str) -> pd.DataFrame:
        """The vintages of one series, oldest fetch first (fetched_at is UTC)."""
        cat = self._catalog()
        lo, hi = self._bounds(cat, series_id)
        return cat.vintages.iloc[lo:hi].reset_index(drop=True)

    def meta(self, series_id: str) -> SeriesMeta:
        """The newest metadata of a series, with the publisher vintage of its latest vintage."""
        cat = self._catalog()
        _, hi = self._bounds(cat, series_id)
        row = cat.series.loc[series_id]
        adjusted = row["adjusted"]
        return SeriesMeta(
            series_id=series_id,
            source=str(row["source"]),
            title=str(row["title"]),
            units=str(row["units"]),
            frequency=str(row["frequency"]),
            publisher_units=_none_or_str(row["publisher_units"]),
            adjusted=None if pd.isna(adjusted) else bool(adjusted),
            publisher_vintage=_none_or_str(cat.vintages["publisher_vintage"].iat[hi - 1]),
            notes=_none_or_str(row["notes"]),
        )

    def vintage_data(self, vintage_id: int) -> VintageData:
        """The observations of one vintage (cached: vintages never change)."""
        return self.load_vintages([vintage_id])[int(vintage_id)]

    def load_vintages(self, vintage_ids: Iterable[int]) -> dict[int, VintageData]:
        """Observations of several vintages, fetched with one query for those not cached."""
        ids = [int(v) for v in dict.fromkeys(vintage_ids)]
        store_id = self._catalog().store_id
        with self._lock:
            found = {v: self._data.get((store_id, v)) for v in ids}
            missing = [v for v, d in found.items() if d is None]
            if missing:
                with self.connect() as con:
                    got = con.execute(
                        "SELECT vintage_id, date, value FROM observations "
                        "WHERE vintage_id IN (SELECT unnest(?::BIGINT[])) "
                        "ORDER BY vintage_id, date",
                        [missing],
                    ).fetchnumpy()
                vid = np.asarray(got["vintage_id"], dtype=np.int64)
                dates = np.asarray(got["date"]).astype("datetime64[ns]")
                values = np.ma.filled(got["value"].astype(float), np.nan)
                for v in missing:
                    lo, hi = np.searchsorted(vid, [v, v + 1])
                    if lo == hi:
                        raise StoreError(f"vintage {v} has no observations in {str(self.path)!r}")
                    d, x = dates[lo:hi].copy(), values[lo:hi].copy()
                    d.flags.writeable = x.flags.writeable = False
                    found[v] = data = VintageData(v, d, x)
                    self._remember(store_id, data)
            for v in ids:
                if (store_id, v) in self._data:
                    self._data.move_to_end((store_id, v))
        return {v: d for v, d in found.items() if d is not None}

    def checksum(self) -> str:
        """A digest of every table's content (order-independent), to tell whether anything moved."""
        queries = {
            "store_info": "SELECT count(*), bit_xor(hash(key, value)) FROM store_info",
            "series": f"SELECT count(*), bit_xor(hash(series_id, {', '.join(_META_COLUMNS)})) "
            "FROM series",
            "vintages": f"SELECT count(*), bit_xor(hash({_VINTAGE_COLUMNS})) FROM vintages",
            "observations": "SELECT count(*), bit_xor(hash(vintage_id, date, value)) "
            "FROM observations",
        }
        with self.connect() as con:
            parts = {k: con.execute(q).fetchall() for k, q in queries.items()}
        return hashlib.sha256(repr(sorted(parts.items())).encode()).hexdigest()

    def clear_cache(self) -> None:
        """Forget cached catalogue and observations (the next read opens the file)."""
        with self._lock:
            self._catalog_cache = None
            self._data.clear()
            self._data_rows = 0

    # -- internals ---------------------------------------------------------------------------

    def _bounds(self, cat: _Catalog, series_id: str) -> tuple[int, int]:
        try:
            return cat.bounds[series_id]
        except KeyError:
            raise UnknownSeriesError(series_id, cat.bounds) from None

    def _prime(self, store_id: str, prepared: _Prepared, ids: Mapping[str, int]) -> None:
        """Cache the vintages just written: a read right after a write need not open the file."""
        dates = prepared.frame["date"].to_numpy()
        values = prepared.frame["value"].to_numpy()
        per = prepared.per_series
        for start, sid, n in zip(prepared.starts, per["series_id"], per["row_count"], strict=True):
            if sid in ids:
                d, x = dates[start : start + n].copy(), values[start : start + n].copy()
                d.flags.writeable = x.flags.writeable = False
                self._remember(store_id, VintageData(ids[sid], d, x))

    def _remember(self, store_id: str, data: VintageData) -> None:
        if not self.cache:
            return
        self._data[(store_id, data.vintage_id)] = data
        self._data_rows += len(data.dates)
        while self._data_rows > self.cache_rows and len(self._data) > 1:
            _, old = self._data.popitem(last=False)
            self._data_rows -= len(old.dates)

    def _stamp(self) -> tuple[Any, ...]:
        out: list[Any] = []
        for p in (self.path, self.path.with_name(self.path.name + ".wal")):
            try:
                st = p.stat()
            except FileNotFoundError:
                out.append(None)
            else:
                out.append((st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(out)

    def _catalog(self) -> _Catalog:
        """The series and vintages tables, re-read only when the files changed on disk.

        A cached copy is trusted while the file and its WAL keep the (inode, size, mtime) seen
        before and after reading it, if the file had been quiet for a moment before the read,
        so that any later write gets a later mtime even on a coarse clock. A copy read from a
        file that had just changed serves only the next few milliseconds (one ``read`` call).
        """
        with self._lock:
            if self._catalog_cache is not None:
                stamp, cat, trusted, read_at = self._catalog_cache
                if stamp == self._stamp() and (
                    (trusted and self.cache) or time.monotonic() - read_at < _FRESH_SECONDS
                ):
                    return cat
            started = time.time()
            before = self._stamp()
            with self.connect() as con:
                cat = _read_catalog(con)
            after = self._stamp()
            read_at = time.monotonic()
            mtimes = [s[2] for s in before if s is not None]
            coarse = any(m % 1_000_000_000 == 0 for m in mtimes)
            wait = _COARSE_QUIET_SECONDS if coarse else _QUIET_SECONDS
            trusted = before == after and (not mtimes or max(mtimes) / 1e9 < started - wait)
            old = self._catalog_cache[1] if self._catalog_cache else None
            if old is not None and old.store_id != cat.store_id:
                self._data.clear()  # another store file now lives at this path
                self._data_rows = 0
            self._catalog_cache = (after, cat, trusted, read_at)
            return cat


def _read_catalog(con: duckdb.DuckDBPyConnection) -> _Catalog:
    store_id = con.execute("SELECT value FROM store_info WHERE key = 'store_id'").fetchall()
    vintages = con.execute(
        f"SELECT {_VINTAGE_COLUMNS} FROM vintages ORDER BY series_id, fetched_at, vintage_id"
    ).df()
    series = con.execute(
        f"SELECT series_id, {', '.join(_META_COLUMNS)} FROM series ORDER BY series_id"
    ).df()
    for col in ("fetched_at", "first_date", "last_date"):
        vintages[col] = pd.to_datetime(vintages[col]).astype("datetime64[ns]")
    vintages["fetched_at"] = vintages["fetched_at"].dt.tz_localize(UTC)
    ids = vintages["series_id"].to_numpy()
    bounds: dict[str, tuple[int, int]] = {}
    if len(ids):
        cuts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
        starts = np.r_[0, cuts]
        ends = np.r_[cuts, len(ids)]
        bounds = {str(ids[s]): (int(s), int(e)) for s, e in zip(starts, ends, strict=True)}
    return _Catalog(
        store_id=str(store_id[0][0]) if store_id else "",
        vintages=vintages,
        series=series.set_index("series_id"),
        bounds=bounds,
        ids=tuple(series["series_id"].tolist()),
    )


def _insert_observations(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """Bulk insert ``vintage_id, date, value`` rows (DuckDB scans the DataFrame in place)."""
    con.register("obs_frame", frame)
    con.execute(
        "INSERT INTO observations SELECT vintage_id, CAST(date AS DATE), value FROM obs_frame"
    )
    con.unregister("obs_frame")


def _with_vintage_ids(prepared: _Prepared, ids: Mapping[str, int]) -> pd.DataFrame:
    """The rows of the series in ``ids``, with their new vintage id."""
    per = prepared.per_series
    counts = per["row_count"].to_numpy()
    vid = per["series_id"].map(ids).fillna(-1).to_numpy(dtype=np.int64)
    col = np.repeat(vid, counts)
    keep = col >= 0
    frame = prepared.frame
    return pd.DataFrame(
        {
            "vintage_id": col[keep],
            "date": frame["date"].to_numpy()[keep],
            "value": frame["value"].to_numpy()[keep],
        }
    )


def _prepare(tidy: Tidy, *, origin: str) -> _Prepared:
    """Validate, normalise and sort a Tidy; one summary row per series. ParseError if invalid."""
    if not isinstance(tidy, Tidy):
        raise ParseError(origin, f"expected a Tidy, got {type(tidy).__name__}")
    frame = tidy.frame
    check_tidy(frame, origin=origin)
    ids = frame["series_id"]
    try:
        codes, uniques, _ = series_codes(ids, sort=True)
    except TypeError:  # ids of several types cannot be sorted: rejected just below
        codes, uniques, _ = series_codes(ids)
    if not all(isinstance(s, str) and s.strip() == s and s for s in uniques) or (codes < 0).any():
        raise ParseError(origin, "series ids must be non-empty strings without outer spaces")
    if set(uniques) != set(tidy.meta):
        raise ParseError(origin, "meta does not match the series in the frame")
    for sid, m in tidy.meta.items():
        if m.series_id != sid:
            raise ParseError(origin, f"meta for {sid!r} names series {m.series_id!r}")
    dates = pd.DatetimeIndex(frame["date"])
    if dates.tz is not None:
        dates = dates.tz_localize(None)
    dates = dates.as_unit("ns")
    if not (dates.asi8 % _DAY_NS == 0).all():
        raise ParseError(origin, "dates must be calendar days (found a time of day)", field="date")
    try:
        values = frame["value"].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise ParseError(origin, "values must be numbers", field="value") from None
    if np.isinf(values).any():
        i = int(np.isinf(values).argmax())
        raise ParseError(origin, f"infinite value in {ids.iat[i]!r} on {dates[i]:%Y-%m-%d}")
    values = np.where(np.isnan(values), np.nan, values + 0.0)  # one NaN, no -0.0
    stamps = dates.asi8
    if ((codes[1:] > codes[:-1]) | ((codes[1:] == codes[:-1]) & (stamps[1:] > stamps[:-1]))).all():
        d, x = stamps, values  # sorted already (the usual case)
    else:
        order = np.lexsort((stamps, codes))
        codes, d, x = codes[order], stamps[order], values[order]
    starts = np.r_[0, np.flatnonzero(codes[1:] != codes[:-1]) + 1]
    ends = np.r_[starts[1:], len(codes)]
    days = (d // _DAY_NS).astype("<i8")
    x8 = x.astype("<f8")
    rows = []
    for s, e in zip(starts, ends, strict=True):
        sid = str(uniques[codes[s]])
        h = hashlib.sha256(days[s:e].tobytes())
        h.update(x8[s:e].tobytes())
        rows.append(
            {
                "series_id": sid,
                "publisher_vintage": tidy.meta[sid].publisher_vintage,
                "content_hash": h.hexdigest(),
                "row_count": int(e - s),
                "first_date": pd.Timestamp(d[s]),
                "last_date": pd.Timestamp(d[e - 1]),
            }
        )
    per = pd.DataFrame(rows)
    per["publisher_vintage"] = per["publisher_vintage"].astype("object")
    out = pd.DataFrame(
        {
            "series_id": uniques[codes],
            "date": d.view("datetime64[ns]"),
            "value": x,
        }
    )
    return _Prepared(frame=out, starts=starts, per_series=per)


def _writable(path: Path) -> bool:
    """Whether this process may write ``path`` and create files beside it (DuckDB's WAL)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


def _utc_naive(ts: datetime | pd.Timestamp) -> datetime:
    """A timestamp as naive UTC (naive input is taken to be UTC already)."""
    t = pd.Timestamp(ts)
    if t.tzinfo is not None:
        t = t.tz_convert(UTC).tz_localize(None)
    return t.to_pydatetime()


def _none_or_str(x: Any) -> str | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA else str(x)
