"""Check a store's integrity and rebuild a damaged one from its payload archive.

:func:`verify` reads every table in full (DuckDB checks each block's checksum as it reads),
recomputes each vintage's row count, dates and content hash from its observations, and checks
that every archived payload still hashes to its name. :func:`rebuild` parses the archived
payload of every vintage again, writes them oldest first into a fresh file (same vintages, same
fetch times), checks the result against the old catalogue, and only then swaps it in with one
atomic rename; the damaged file is kept beside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import duckdb
import numpy as np
import pandas as pd

from smallcaps.errors import STORE_UNCHANGED, ParseError, SmallcapsError, StoreError
from smallcaps.results import Result
from smallcaps.sources.base import Payload
from smallcaps.store import gate
from smallcaps.store.archive import Archive
from smallcaps.store.db import Store

_DAY_NS = 86_400 * 10**9


@dataclass(eq=False)
class Verification(Result):
    """What :func:`verify` found: counts and one line per problem (empty: the store is sound)."""

    path: str
    vintages: int = 0
    observations: int = 0
    payloads: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def summary(self) -> str:
        """One line: sound or how many problems."""
        what = (
            f"{self.vintages:,} vintages, {self.observations:,} observations, "
            f"{self.payloads:,} archived payloads"
        )
        if self.ok:
            return f"{self.path}: sound ({what})"
        return f"{self.path}: {len(self.problems)} problem(s) ({what})"

    def to_frame(self) -> pd.DataFrame:
        """One row per problem."""
        return pd.DataFrame({"problem": self.problems})


def verify(store_path: Path, archive_root: Path) -> Verification:
    """Check the store file and the archive; never writes.

    Returns
    -------
    Verification
        ``problems`` lists unreadable tables, vintages whose rows do not match their recorded
        count, dates or content hash, and payloads missing from or corrupt in the archive.
    """
    out = Verification(str(store_path))
    archive = Archive(archive_root)
    if not Path(store_path).is_file():
        out.problems.append(f"no store file at {str(store_path)!r}")
        return out
    try:
        con = duckdb.connect(str(store_path), read_only=True)
    except duckdb.Error as exc:
        out.problems.append(f"the store file cannot be opened: {_one_line(exc)}")
        return out
    try:
        vintages = _read(con, out, "vintages", "SELECT * FROM vintages ORDER BY vintage_id")
        for table in ("store_info", "series", "mirror_files"):
            _read(con, out, table, f"SELECT * FROM {table}")
        obs = None
        try:
            obs = con.execute(
                "SELECT vintage_id, date, value FROM observations ORDER BY vintage_id, date"
            ).fetchnumpy()
        except duckdb.Error as exc:
            out.problems.append(f"table observations cannot be read: {_one_line(exc)}")
    finally:
        con.close()
    if vintages is not None:
        out.vintages = len(vintages)
        if obs is not None:
            out.observations = len(obs["vintage_id"])
            _check_vintages(vintages, obs, out)
        for sha in sorted(set(vintages["sha256"])):
            try:
                archive.get(sha)
            except StoreError as exc:
                out.problems.append(str(exc))
    for sha in archive.digests():
        out.payloads += 1
        if vintages is None or sha not in set(vintages["sha256"]):
            try:
                archive.get(sha)
            except StoreError as exc:
                out.problems.append(str(exc))
    return out


def _read(con: duckdb.DuckDBPyConnection, out: Verification, table: str, sql: str) -> Any:
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        out.problems.append(f"table {table} cannot be read: {_one_line(exc)}")
        return None


def _check_vintages(vintages: pd.DataFrame, obs: dict[str, Any], out: Verification) -> None:
    vid = np.asarray(obs["vintage_id"], dtype=np.int64)
    days = np.asarray(obs["date"]).astype("datetime64[ns]").astype(np.int64) // _DAY_NS
    values = np.ma.filled(obs["value"].astype(float), np.nan)
    values = np.where(np.isnan(values), np.nan, values + 0.0)
    for row in vintages.itertuples(index=False):
        v = int(row.vintage_id)
        lo, hi = np.searchsorted(vid, [v, v + 1])
        where = f"vintage {v} of {row.series_id!r}"
        if hi - lo != int(row.row_count):
            out.problems.append(f"{where}: {hi - lo} observations, recorded {row.row_count}")
            continue
        d, x = days[lo:hi].astype("<i8"), values[lo:hi].astype("<f8")
        h = hashlib.sha256(d.tobytes())
        h.update(x.tobytes())
        if h.hexdigest() != row.content_hash:
            out.problems.append(f"{where}: its observations no longer match their content hash")
    known = set(vintages["vintage_id"].astype(int))
    orphans = set(np.unique(vid).tolist()) - known
    if orphans:
        out.problems.append(f"{len(orphans)} vintage id(s) have observations but no vintage row")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


# ---- rebuild ------------------------------------------------------------------------------------

#: ``parse(payload, series_ids) -> Tidy``: re-read one archived payload (default: by spec)
Reparse = Callable[[Payload, list[str]], Any]


@dataclass(eq=False)
class Rebuild(Result):
    """What :func:`rebuild` did."""

    path: str
    payloads: int
    vintages: int
    backup: str

    def summary(self) -> str:
        """One line."""
        return (
            f"rebuilt {self.path} from {self.payloads:,} archived payloads: {self.vintages:,} "
            f"vintages; the damaged file is kept as {self.backup}"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row."""
        return pd.DataFrame([vars(self)])


def rebuild(store_path: Path, archive_root: Path, *, reparse: Reparse | None = None) -> Rebuild:
    """Re-ingest every archived payload into a fresh store and swap it in atomically.

    The vintages table of the damaged store says which payload made which vintage and when;
    each payload is parsed again (by the spec its series ids belong to, with the mirror's
    parameters when it came from a mirror file) and written in the original order, so the new
    store has the same vintages with the same fetch times. The new file replaces the old one
    only after its vintages matched the old catalogue; the old file is kept as
    ``store.duckdb.damaged-<time>``.

    Raises
    ------
    StoreError
        The vintages table itself cannot be read, a payload is missing from the archive or
        cannot be parsed again, or the rebuilt vintages differ; the old store is left as it was.
    """
    store_path = Path(store_path)
    try:
        con = duckdb.connect(str(store_path), read_only=True)
        try:
            old = con.execute(
                "SELECT vintage_id, series_id, source, url, fetched_at, sha256, content_hash "
                "FROM vintages ORDER BY vintage_id"
            ).df()
        finally:
            con.close()
    except duckdb.Error as exc:
        raise StoreError(
            f"cannot rebuild {str(store_path)!r}: its vintages table cannot be read "
            f"({_one_line(exc)}); fetch everything again into a new SMALLCAPS_HOME"
        ) from None
    archive = Archive(archive_root)
    reparse = reparse or _reparse_by_spec
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    fresh_path = store_path.with_name(f"{store_path.name}.rebuild-{stamp}")
    groups = old.groupby(["sha256", "fetched_at", "url", "source"], sort=False)
    order = sorted(groups, key=lambda kv: int(kv[1]["vintage_id"].min()))
    try:
        fresh = Store.open(fresh_path, archive_root, cache=False)
        for (sha, fetched, url, source), rows in order:
            when = pd.Timestamp(fetched).tz_localize(UTC).to_pydatetime()
            payload = Payload(str(source), str(url), archive.get(str(sha)), when)
            ids = sorted(set(rows["series_id"]))
            try:
                tidy = reparse(payload, ids)
            except SmallcapsError as exc:
                raise StoreError(
                    f"cannot rebuild {str(store_path)!r}: payload {sha[:12]} ({url}) cannot be "
                    f"read again: {exc}. {STORE_UNCHANGED}"
                ) from None
            # what the gate did at the first ingest (a declared alias renames a section); a
            # payload stored before the gate existed is kept as it was
            with contextlib.suppress(ParseError):
                tidy = gate.check(payload, tidy)
            fresh.write(payload, tidy)
        new = _vintages_of(fresh_path)
        _same_vintages(old, new, store_path)
    except BaseException:
        for p in (fresh_path, fresh_path.with_name(fresh_path.name + ".wal")):
            p.unlink(missing_ok=True)
        raise
    backup = store_path.with_name(f"{store_path.name}.damaged-{stamp}")
    os.link(store_path, backup)  # the old file stays reachable under the backup name
    wal = store_path.with_name(store_path.name + ".wal")
    if wal.exists():
        os.replace(wal, backup.with_name(backup.name + ".wal"))
    os.replace(fresh_path, store_path)  # atomic: readers see the old file or the new one
    return Rebuild(str(store_path), payloads=len(order), vintages=len(new), backup=str(backup))


def _vintages_of(path: Path) -> pd.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT series_id, fetched_at, content_hash FROM vintages ORDER BY vintage_id"
        ).df()
    finally:
        con.close()


def _same_vintages(old: pd.DataFrame, new: pd.DataFrame, path: Path) -> None:
    cols = ["series_id", "fetched_at", "content_hash"]
    a = old[cols].sort_values(cols, ignore_index=True)
    b = new[cols].sort_values(cols, ignore_index=True)
    if not a.equals(b):
        raise StoreError(
            f"cannot rebuild {str(path)!r}: the rebuilt store would hold {len(b):,} vintages "
            f"where the old one recorded {len(a):,} (or others); {STORE_UNCHANGED}"
        )


def _reparse_by_spec(payload: Payload, series_ids: list[str]) -> Any:
    """Parse an archived payload as the spec its series belong to (mirror params if any)."""
    from smallcaps import publishers

    name = _spec_name(payload.source, series_ids[0])
    params: dict[str, Any] = {}
    if payload.url.startswith("file:"):
        path = unquote(urlparse(payload.url).path)
        for f in _mirror_files():
            if f.spec.kind == payload.source and path.endswith("/" + f.path):
                name, params = f.spec.name, dict(f.params)
                break
    tidy_fn = publishers.get(payload.source).tidy
    if tidy_fn is None:
        raise StoreError(f"publisher {payload.source!r} has no parser to re-read its payloads")
    origin = Path(urlparse(payload.url).path).name or payload.url
    return tidy_fn(name, payload.data, origin=origin, **params)


@cache
def _mirror_files() -> list[Any]:
    from smallcaps.sources import catalog

    return catalog.mirror_files()


def _spec_name(kind: str, series_id: str) -> str:
    """The spec name a stored id belongs to (``french/X/...`` -> ``X``, ``DFF`` -> ``DFF``)."""
    parts = series_id.split("/")
    if kind == "fred":
        return re.sub(r"^fred[/:]", "", series_id, flags=re.IGNORECASE)
    if kind == "shiller":
        return "ie_data"
    return parts[1] if len(parts) > 1 else series_id
