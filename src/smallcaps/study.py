"""A study: every measurement run once per (name, parameters, as-of), over one store.

The claim checker, the report and the command line ask a :class:`Study` for measurements
instead of calling the registry themselves, so a report that shows ``valuation.gap`` and checks
three claims on it computes it once, and every figure keeps the provenance of the read that
produced it::

    from smallcaps import Study, Store
    with Store.open("~/.smallcaps/store.duckdb", "~/.smallcaps/archive") as store:
        study = Study(store, as_of="2026-01-10")
        gap = study.measure("valuation.gap")          # a ValuationGap-like result
        run = study.run("size.cycles", threshold=0.3)  # a Run: result, provenance, error
        print(run)                                   # its summary

Runs are keyed by the measurement's name, *all* its parameters (defaults filled in, values
converted to their declared types) and the as-of time, so ``run("fed.cycles")`` and
``run("fed.cycles", pause_days=180)`` are the same run. A run that fails with a
:class:`~smallcaps.errors.SmallcapsError` is kept as a failed :class:`Run` (and not retried);
other exceptions are bugs and propagate.

With a :class:`RunCache` (the command line uses ``SMALLCAPS_HOME/cache``), successful runs are
also kept on disk between commands, keyed as above plus the store's fingerprint (its id and its
newest vintage: vintages are only ever added) and a digest of smallcaps' own code, so a second
``smallcaps check`` on an unchanged store reads its figures back instead of recomputing them,
and any new fetch or code change computes them afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from smallcaps import registry
from smallcaps.errors import SmallcapsError
from smallcaps.results import Result

if TYPE_CHECKING:
    import pandas as pd

    from smallcaps.store import Store

T = TypeVar("T")

#: ``as_of -> View``: how a study reads series when it is not given a store (tests, notebooks).
ViewFactory = Callable[["pd.Timestamp | None"], registry.View]


class _Same:
    """Marker: the study's own as-of time."""

    def __repr__(self) -> str:
        return "<the study's as_of>"


SAME = _Same()


@dataclass(frozen=True, slots=True, eq=False)
class Run(Result):
    """One measurement run: its result or error, the provenance of its reads, and its time.

    Attributes
    ----------
    name : str
        The measurement.
    params : Mapping
        Every parameter it ran with (defaults included).
    as_of : Timestamp or None
        What was known then (None: the newest data).
    result : Result or None
        The measurement's typed result; None when it failed.
    provenance : tuple of dict
        One record per series read: vintage, payload sha256, URL, fetch time, release rule,
        real-time flag, last date (see :meth:`smallcaps.access.StoreView.provenance`).
    error : SmallcapsError or None
        Why it failed (its ``hint`` says what to do).
    seconds : float
        Time it took.
    """

    name: str
    params: Mapping[str, Any]
    as_of: pd.Timestamp | None
    result: Result | None = None
    provenance: tuple[dict[str, Any], ...] = ()
    error: SmallcapsError | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the measurement gave a result."""
        return self.result is not None

    def unwrap(self) -> Result:
        """The result, or raise the error that prevented it."""
        if self.result is None:
            assert self.error is not None
            raise self.error
        return self.result

    def summary(self) -> str:
        """The result's summary, or the error."""
        if self.result is not None:
            return self.result.summary()
        return f"{self.name}: {self.error}"

    def to_frame(self) -> pd.DataFrame:
        """The result's main table (empty when it failed)."""
        if self.result is None:
            return super(Run, self).to_frame()
        return self.result.to_frame()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: name, summary, the result's ``to_dict()``, provenance, error, seconds."""
        return {
            "name": self.name,
            "summary": None if self.result is None else self.result.summary(),
            "result": None if self.result is None else self.result.to_dict(),
            "provenance": [dict(p) for p in self.provenance],
            "error": None if self.error is None else str(self.error),
            "seconds": round(self.seconds, 3),
        }


@cache
def code_digest() -> str:
    """A digest of smallcaps' own source files: cached runs of other code are not reused."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.toml")]):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class RunCache:
    """Successful runs kept on disk between commands (pickles under ``root``).

    The cache is a speed-up only: a file that cannot be read is ignored and replaced, and at most
    ``max_files`` are kept (the least recently written go first).
    """

    root: Path
    max_files: int = 400

    def path(self, key: str) -> Path:
        """Where the run of ``key`` is kept."""
        return self.root / f"{key}.pkl"

    def load(self, key: str, kind: type[T]) -> T | None:
        """The ``kind`` object kept under ``key``; None if absent, unreadable or another kind."""
        path = self.path(key)
        try:
            with path.open("rb") as fh:
                run = pickle.load(fh)
        except FileNotFoundError:
            return None
        except Exception:  # a damaged or foreign file: forget it, compute again
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        return run if isinstance(run, kind) else None

    def save(self, key: str, run: object) -> None:
        """Keep ``run`` under ``key`` (atomically); failures to write are ignored."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            part = self.path(key).with_suffix(f".{os.getpid()}.part")
            with part.open("wb") as fh:
                pickle.dump(run, fh, protocol=pickle.HIGHEST_PROTOCOL)
            part.replace(self.path(key))
            self._prune()
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            return

    def _prune(self) -> None:
        files = sorted(self.root.glob("*.pkl"), key=lambda p: p.stat().st_mtime)
        for old in files[: max(0, len(files) - self.max_files)]:
            with contextlib.suppress(OSError):
                old.unlink()


@dataclass(eq=False)
class Study:
    """Measurements over one source, each run once per (name, parameters, as-of).

    Parameters
    ----------
    source : Store or callable
        A :class:`smallcaps.store.Store` (read through :class:`smallcaps.access.StoreView`, so
        each series is read as it was public at the as-of time), or ``as_of -> View`` (e.g. a
        :class:`smallcaps.registry.MemoryView` factory).
    as_of : Timestamp, str or None
        The default as-of time of :meth:`run` (None: the newest data). A string is read as
        ``YYYY-MM-DD`` meaning the end of that day.
    cache : RunCache, optional
        Keep successful runs on disk between processes (only with a store as the source).
    """

    source: Store | ViewFactory
    as_of: pd.Timestamp | None = None
    cache: RunCache | None = None
    _runs: dict[tuple[Any, ...], Run] = field(default_factory=dict, repr=False)
    _memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)
    _docs: dict[tuple[int, str], tuple[Run, Any]] = field(default_factory=dict, repr=False)
    hits: int = 0
    disk_hits: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.as_of, str):
            from smallcaps.access import end_of_day

            self.as_of = end_of_day(self.as_of)

    def view(self, as_of: pd.Timestamp | _Same | None = SAME) -> registry.View:
        """A fresh view of the source as of ``as_of`` (default: the study's)."""
        when = self.as_of if isinstance(as_of, _Same) else as_of
        if callable(self.source):
            return self.source(when)
        from smallcaps.access import StoreView

        return StoreView(self.source, when)

    def run(self, name: str, *, as_of: pd.Timestamp | _Same | None = SAME, **params: Any) -> Run:
        """Run ``name`` with ``params`` as of ``as_of``, or return the run made before.

        Raises
        ------
        UnknownMeasurementError, ConfigError
            An unknown measurement, parameter or parameter value (nothing is run).
        """
        measure = registry.get(name)
        full = registry.full_params(measure, params)
        when = self.as_of if isinstance(as_of, _Same) else as_of
        key = (name, tuple(sorted(full.items())), when)
        if key in self._runs:
            self.hits += 1
            return self._runs[key]
        disk = self._disk_key(key)
        if disk is not None and self.cache is not None:
            kept = self.cache.load(disk, Run)
            if kept is not None and kept.result is not None:
                self.disk_hits += 1
                self._runs[key] = kept
                return kept
        view = self.view(when)
        started = time.perf_counter()
        result: Result | None = None
        error: SmallcapsError | None = None
        try:
            result = measure.run(view, **full)
        except SmallcapsError as exc:
            error = exc
        run = Run(
            name,
            full,
            when,
            result,
            tuple(_provenance(view)),
            error,
            time.perf_counter() - started,
        )
        self._runs[key] = run
        if disk is not None and self.cache is not None and run.result is not None:
            self.cache.save(disk, run)
        return run

    def remember(self, name: str, parts: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """``compute()`` once per (``name``, ``parts``), kept on disk too when there is a cache.

        The disk key adds the store's fingerprint and the code's digest. For results that are
        not measurements (a backtest of a rules file): ``parts`` must say everything the result
        depends on besides the store and the code (file digests, dates). Exceptions propagate
        and nothing is kept.
        """
        key = ("remember", name, parts)
        if key in self._memo:
            self.hits += 1
            return cast("T", self._memo[key])
        disk = self._disk_key(key)
        if disk is not None and self.cache is not None:
            kept = self.cache.load(disk, object)
            if kept is not None:
                self.disk_hits += 1
                self._memo[key] = kept
                return cast("T", kept)
        value = compute()
        self._memo[key] = value
        if disk is not None and self.cache is not None:
            self.cache.save(disk, value)
        return value

    def _disk_key(self, key: tuple[Any, ...]) -> str | None:
        """The on-disk key: the run's key, the store's fingerprint and the code's digest."""
        if self.cache is None or callable(self.source):
            return None
        text = repr((key, self.source.fingerprint(), code_digest()))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def document(self, run: Run) -> dict[str, Any]:
        """``run.result.to_dict()``, made once per run (claims read many figures from one)."""
        return self._once(run, "to_dict", lambda r: r.to_dict())

    def summary(self, run: Run) -> str:
        """``run.result.summary()``, made once per run."""
        return self._once(run, "summary", lambda r: r.summary())

    def _once(self, run: Run, what: str, make: Callable[[Result], T]) -> T:
        key = (id(run), what)
        if key not in self._docs or self._docs[key][0] is not run:
            self._docs[key] = (run, make(run.unwrap()))
        return cast("T", self._docs[key][1])

    def measure(self, name: str, **params: Any) -> Result:
        """The result of :meth:`run` at the study's as-of time; raises its error."""
        return self.run(name, **params).unwrap()

    @property
    def runs(self) -> tuple[Run, ...]:
        """Every run made so far, in order."""
        return tuple(self._runs.values())

    def __iter__(self) -> Iterator[Run]:
        return iter(self._runs.values())

    def __len__(self) -> int:
        return len(self._runs)


def _provenance(view: registry.View) -> list[dict[str, Any]]:
    """The view's provenance records, or the ids it read (a MemoryView keeps only those)."""
    records = getattr(view, "provenance", None)
    if callable(records):
        return [dict(r) for r in records()]
    return [{"series_id": s} for s in dict.fromkeys(getattr(view, "reads", []))]
