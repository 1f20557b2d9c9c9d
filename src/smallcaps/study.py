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
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smallcaps import registry
from smallcaps.errors import SmallcapsError
from smallcaps.results import Result

if TYPE_CHECKING:
    import pandas as pd

    from smallcaps.store import Store

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
    """

    source: Store | ViewFactory
    as_of: pd.Timestamp | None = None
    _runs: dict[tuple[Any, ...], Run] = field(default_factory=dict, repr=False)
    hits: int = 0

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
        return run

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
