"""Bring the store up to date: the loop behind ``smallcaps fetch`` and the first stage of a report.

Each spec is read from the mirror folder (offline) or its live publisher, and every capture is
written as a vintage. A spec that fails is recorded with its error and the others go on; the
store keeps what it had for the failed one.

A mirror file already stored is not parsed again: the store records each file it loaded (size,
mtime, sha256, and how it was read). While size and mtime hold the file is not even opened; a
file touched but unchanged is hashed only.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smallcaps import __version__
from smallcaps.config import Config
from smallcaps.errors import NetworkError, SmallcapsError, UnknownSeriesError
from smallcaps.sources import catalog
from smallcaps.sources import fred as fred_source
from smallcaps.sources._http import make_client
from smallcaps.sources.base import Payload, Tidy
from smallcaps.sources.catalog import MirrorFile, Spec
from smallcaps.store import MirrorMark, Store, gate

OFFLINE_AFTER = 2  # publishers unreachable before the rest are not tried either
UNCHANGED_MIRROR = "unchanged mirror file"  # Outcome.skipped of a spec whose files are stored


@dataclass(slots=True)
class Outcome:
    """What happened to one spec: rows stored and new vintages, or why not.

    ``error`` is the exception that failed the spec (its ``hint`` says what to do);
    ``skipped`` says why a spec was not fetched (fresh enough, its publisher unreachable, its
    mirror files stored already: :data:`UNCHANGED_MIRROR`, then ``series``, ``rows``, ``first``
    and ``last`` describe what the store holds).
    """

    spec: Spec
    series: int = 0
    rows: int = 0
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    files: int = 0
    new_vintages: int = 0
    error: SmallcapsError | None = None
    skipped: str | None = None

    @property
    def failed(self) -> bool:
        """True when the spec was tried and failed (a skip is not a failure)."""
        return self.error is not None

    @property
    def status(self) -> str:
        """``ok``, ``skipped: ...``, ``not tried: ...`` or the error's message, for tables."""
        if self.skipped is not None:
            return self.skipped if self.error is not None else f"skipped: {self.skipped}"
        return "ok" if self.error is None else str(self.error)

    @property
    def hint(self) -> str | None:
        """How to fix a failure (from the exception), or None."""
        return None if self.error is None else self.error.hint

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the spec, whether it failed or was skipped, the message and the fix."""
        return {
            "spec": str(self.spec),
            "kind": self.spec.kind,
            "name": self.spec.name,
            "failed": self.failed,
            "skipped": self.skipped is not None and not self.failed,
            "error": None if self.status == "ok" else self.status,
            "new_vintages": self.new_vintages,
            "hint": self.hint,
        }


def default_specs(config: Config) -> list[Spec]:
    """Every spec the mirror maps (offline) or every default live spec."""
    if config.mirror is not None:
        return sorted({f.spec for f in catalog.mirror_files()})
    return list(catalog.DEFAULT_SPECS)


def update(
    store: Store,
    config: Config,
    specs: Iterable[Spec] | None = None,
    *,
    since: pd.Timestamp | None = None,
    alfred: bool = False,
    on_spec: Callable[[Spec], None] | None = None,
) -> list[Outcome]:
    """Fetch ``specs`` (default :func:`default_specs`) into ``store``.

    Parameters
    ----------
    store : Store
    config : Config
        ``config.mirror`` set: read the mirror folder; otherwise the live publishers.
    specs : iterable of Spec, optional
    since : Timestamp, optional
        Skip specs whose newest vintage was fetched on or after this time.
    alfred : bool
        FRED specs store every ALFRED release as a vintage (needs ``FRED_API_KEY``).
    on_spec : callable, optional
        Called with each spec before it is fetched (progress bars).

    Returns
    -------
    list of Outcome
        One per spec, in order; failures carry the exception (with its ``hint``). After a
        transport failure
        (no connection, timeouts) the publisher's remaining specs are not tried, and after two
        publishers fail so, no spec is (the machine is offline).
    """
    specs = list(default_specs(config) if specs is None else specs)
    files = catalog.mirror_files() if config.mirror is not None else []
    done: list[MirrorMark] = []  # mirror files stored (or found unchanged) in this run
    stored: _Stored | None = None  # the store's listing, read once if a spec is skipped
    listing = store.series_list() if since is not None else None
    limiter = fred_source.LIMITER  # one per process: FRED counts requests per second
    outcomes: list[Outcome] = []
    unreachable: dict[str, NetworkError] = {}  # publisher kind -> the error that ended it
    # a mirror needs no HTTP client (building one loads the CA bundle: a tenth of a second),
    # and with no network to wait for, its writes share one connection
    mirror = config.mirror is not None
    with (
        store.session() if mirror else nullcontext(),
        nullcontext() if mirror else make_client() as client,
    ):
        marks = store.mirror_marks() if mirror else {}
        for spec in specs:
            if on_spec is not None:
                on_spec(spec)
            outcome = Outcome(spec)
            outcomes.append(outcome)
            if listing is not None and catalog.stored_since(spec, listing, since):
                outcome.skipped = f"fetched since {since:%Y-%m-%d}"
                continue
            if spec.kind in unreachable:  # don't wait out the same dead network 40 times
                outcome.error = unreachable[spec.kind]
                outcome.skipped = f"not tried: {spec.kind} was unreachable"
                continue
            if len(unreachable) >= OFFLINE_AFTER:
                kinds = " and ".join(sorted(unreachable))
                outcome.error = next(iter(unreachable.values()))
                outcome.skipped = f"not tried: no network ({kinds} unreachable)"
                continue
            try:
                if config.mirror is not None:
                    pairs, fresh, unchanged = _read_mirror(spec, config.mirror, files, marks)
                    done.extend(unchanged)
                    if not pairs:
                        outcome.skipped = UNCHANGED_MIRROR
                        stored = _Stored.of(store) if stored is None else stored
                        _describe_stored(outcome, stored)
                        continue
                elif alfred and spec.kind == "fred":
                    assert client is not None
                    pairs = catalog.fetch_alfred(spec.name, client=client, config=config,
                                                 limiter=limiter)  # fmt: skip
                else:
                    assert client is not None
                    live = catalog.fetch_live(spec, client=client, config=config, limiter=limiter)
                    pairs = [live]
                # the gate: dates, all-missing, the dataset's schema; all pass or none is written
                pairs = [(payload, gate.check(payload, tidy)) for payload, tidy in pairs]
                extra: list[tuple[Payload, Tidy]] = []
                if client is not None:  # live: what the publisher stores along (a calendar,
                    # whose future release days the date gate would refuse by design)
                    extra = catalog.fetch_companions(spec, client=client, config=config,
                                                     limiter=limiter)  # fmt: skip
                results = store.write_many([*pairs, *extra])  # oldest capture first
                for result in results[: len(pairs)]:
                    outcome.new_vintages += len(result.added)
                    outcome.files += 1
                if config.mirror is not None:
                    done.extend(fresh)  # written: the next refresh may skip these files
                tidy = pairs[-1][1]
                dates = tidy.frame["date"]
                outcome.series, outcome.rows = len(tidy.meta), len(tidy.frame)
                outcome.first, outcome.last = dates.min(), dates.max()
            except SmallcapsError as exc:
                outcome.error = exc
                if config.mirror is None and isinstance(exc, NetworkError):
                    unreachable[spec.kind] = exc
        store.mark_mirror(done)
    failed = [o for o in outcomes if o.failed and o.series == 0]
    if failed:  # say what the store still holds for each failure (an empty store holds nothing)
        stored = _Stored.of(store) if stored is None else stored
        for o in failed:
            _describe_stored(o, stored)
    return outcomes


@dataclass(frozen=True, slots=True)
class Failure:
    """Specs that failed for one reason at one publisher: one line, one fix.

    ``stored`` counts the specs of the group the store still holds data for.
    """

    kind: str
    specs: tuple[Spec, ...]
    reason: str
    fix: str | None
    stored: int

    def summary(self) -> str:
        """``fred: 16 specs not fetched (DFF, ...): why. Fix: how.`` in one line."""
        names = ", ".join(s.name for s in self.specs[:4])
        names += f", ... ({len(self.specs) - 4} more)" if len(self.specs) > 4 else ""
        count = f"{len(self.specs)} spec{'s' if len(self.specs) > 1 else ''}"
        if self.stored == len(self.specs):
            kept = "the store's earlier data is used"
        elif self.stored:
            kept = f"the store has earlier data for {self.stored} of them"
        else:
            kept = "the store has none of them"
        fix = f" Fix: {self.fix}." if self.fix else ""
        return f"{self.kind}: {count} not fetched ({names}): {self.reason}; {kept}.{fix}"

    def __str__(self) -> str:
        return self.summary()


def failures(outcomes: Iterable[Outcome]) -> list[Failure]:
    """The failed outcomes grouped by publisher and cause, publishers in order of first failure.

    A dead network, a missing key or a refusal affects every spec of a publisher alike; the
    group says it once, with the fix (for FRED without a key: where to get one and
    ``FRED_API_KEY``).
    """
    groups: dict[tuple[str, str, str | None], list[Outcome]] = {}
    for o in outcomes:
        if o.error is None:
            continue
        error = o.error
        reason = str(getattr(error, "reason", error)).rstrip(". ")
        if isinstance(error, NetworkError):
            reason = "no answer (no network, or the publisher is down)"
        elif (url := str(getattr(error, "url", ""))) and url in reason:
            reason = reason.replace(url, "").strip(": ")
        # no network is one cause for every publisher: one line for all of them
        kind = "" if isinstance(error, NetworkError) else o.spec.kind
        groups.setdefault((kind, reason, error.hint), []).append(o)
    out = []
    for (kind, reason, hint), group in groups.items():
        kept = sum(1 for o in group if o.series)
        kind = kind or ", ".join(dict.fromkeys(o.spec.kind for o in group))
        out.append(Failure(kind, tuple(o.spec for o in group), reason, hint, kept))
    return out


def _read_mirror(
    spec: Spec, root: Path, files: list[MirrorFile], marks: dict[tuple[str, str], MirrorMark]
) -> tuple[list[tuple[Payload, Tidy]], list[MirrorMark], list[MirrorMark]]:
    """The captures of ``spec`` not yet stored, parsed; files already stored are skipped.

    Returns the pairs to write, the marks to record once they are written, and the marks of
    files found unchanged by their bytes (touched only), to record at once.
    """
    mine = [f for f in files if f.spec == spec]
    if not mine:
        raise UnknownSeriesError(str(spec), {str(f.spec) for f in files}, what="mirror series")
    pairs: list[tuple[Payload, Tidy]] = []
    fresh: list[MirrorMark] = []
    unchanged: list[MirrorMark] = []
    for f in mine:
        path = root / f.path
        try:
            st = path.stat()
        except OSError:
            catalog.mirror_payload(f, root)  # raises the error that names the missing file
            raise
        key = (str(path.resolve()), _reader(f))
        mark = marks.get(key)
        if mark is not None and (mark.size, mark.mtime_ns) == (st.st_size, st.st_mtime_ns):
            continue  # stored, and not touched since
        payload = catalog.mirror_payload(f, root)
        now = MirrorMark(*key, size=st.st_size, mtime_ns=st.st_mtime_ns, sha256=payload.sha256)
        if mark is not None and mark.sha256 == now.sha256:
            unchanged.append(now)  # touched, same bytes: nothing to parse
            continue
        pairs.append((payload, catalog.parse_mirror(f, payload)))
        fresh.append(now)
    return pairs, fresh, unchanged


def _reader(f: MirrorFile) -> str:
    """How a mirror file is read: its spec, capture time, parameters and the parsing code."""
    params = json.dumps(dict(f.params), sort_keys=True, default=str)
    return f"{f.spec}|{f.retrieved.isoformat()}|{params}|{_parser_version()}"


@cache
def _parser_version() -> str:
    """A digest of the code that turns files into stored rows: a new parser reads files again."""
    from smallcaps.store import db

    sources = Path(catalog.__file__).parent
    h = hashlib.sha256(__version__.encode())
    for p in [*sorted(sources.rglob("*.py")), Path(db.__file__)]:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class _Stored:
    """The store's latest vintages, sorted by series id, for describing skipped specs."""

    ids: list[str]
    rows: np.ndarray
    first: np.ndarray
    last: np.ndarray

    @classmethod
    def of(cls, store: Store) -> _Stored:
        listing = store.series_list().sort_values("series_id", ignore_index=True)
        return cls(
            listing["series_id"].tolist(),
            listing["rows"].to_numpy(dtype=np.int64),
            pd.DatetimeIndex(listing["first"]).to_numpy(),
            pd.DatetimeIndex(listing["last"]).to_numpy(),
        )


def _describe_stored(outcome: Outcome, stored: _Stored) -> None:
    """Fill an outcome's series, rows and dates from what the store holds for its spec."""
    prefix = catalog.series_prefix(outcome.spec)
    lo = bisect_left(stored.ids, prefix)
    end = prefix if outcome.spec.kind == "fred" else prefix + "\U0010ffff"
    hi = bisect_right(stored.ids, end)
    if hi > lo:
        outcome.series, outcome.rows = hi - lo, int(stored.rows[lo:hi].sum())
        outcome.first = pd.Timestamp(stored.first[lo:hi].min())
        outcome.last = pd.Timestamp(stored.last[lo:hi].max())
