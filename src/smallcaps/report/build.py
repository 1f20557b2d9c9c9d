"""Run everything as of a date and gather it into a :class:`Report` (no HTML here).

:func:`build_report` measures each pillar through its own :class:`~smallcaps.access.StoreView`
(so each section's provenance is its own), checks the thesis and runs the default backtest when
those modules are installed, and keeps going when a part fails: a measurement that raises a
:class:`~smallcaps.errors.SmallcapsError` leaves its section with a message saying what is
missing and how to supply it. :func:`refresh` is the fetch stage that comes before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from smallcaps import access, publishers, registry
from smallcaps.analytics._jsonready import jsonready
from smallcaps.config import Config
from smallcaps.errors import SmallcapsError
from smallcaps.store import Store

if TYPE_CHECKING:
    import plotly.graph_objects as go


@dataclass(frozen=True, slots=True)
class Pillar:
    """A section of the report: its anchor, heading, question and measurements."""

    id: str
    title: str
    question: str
    measures: tuple[str, ...]


PILLARS: tuple[Pillar, ...] = (
    Pillar(
        "cycles",
        "Structural cycles",
        "Where does the long cycle of small versus large caps stand?",
        ("size.cycles", "size.premium"),
    ),
    Pillar(
        "valuation",
        "Valuation gap",
        "How cheap are small caps against large caps, against their own history?",
        ("valuation.gap",),
    ),
    Pillar(
        "concentration",
        "Concentration",
        "How much of the large-cap index's gain came from its top names?",
        ("concentration.top",),
    ),
    Pillar(
        "macro",
        "Macro and Fed tailwinds",
        "What did small caps do after first cuts, and what do growth, jobs, credit and rates say?",
        ("fed.path", "fed.cycles", "fed.event_study", "macro.regime", "rates.sensitivity"),
    ),
    Pillar(
        "vehicle",
        "Vehicle and risks",
        "How well does IWM track the Russell 2000, and how do small caps fare when credit "
        "tightens?",
        ("vehicle.tracking", "risk.credit"),
    ),
)

#: Where a claim's evidence goes when its ``pillar`` names no section: by measurement prefix.
MEASURE_SECTION = {m: p.id for p in PILLARS for m in p.measures}


@dataclass(eq=False)
class Chart:
    """One interactive figure with a caption naming its sources."""

    id: str
    title: str
    figure: go.Figure
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Fact:
    """A headline number: label, formatted value, and its provenance as a tooltip."""

    label: str
    value: str
    tip: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    """A small table of formatted cells."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


@dataclass(eq=False)
class Measurement:
    """A measurement's result (None if it failed), its provenance and any error."""

    name: str
    result: Any = None
    provenance: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the result's ``to_dict()``, its summary, provenance and error."""
        return {
            "name": self.name,
            "summary": None if self.result is None else self.result.summary(),
            "result": None if self.result is None else self.result.to_dict(),
            "provenance": self.provenance,
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }


@dataclass(eq=False)
class Section:
    """One section of the page."""

    id: str
    title: str
    question: str = ""
    measurements: list[Measurement] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    definitions: list[tuple[str, str]] = field(default_factory=list)
    takeaways: list[str] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def provenance(self) -> list[dict[str, Any]]:
        """Every series read by the section's measurements, once each."""
        return merge_provenance(m.provenance for m in self.measurements)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: measurements, provenance, what is missing, extra results."""
        return {
            "id": self.id,
            "title": self.title,
            "measurements": {m.name: m.to_dict() for m in self.measurements},
            "provenance": self.provenance,
            "missing": self.missing,
            **{k: v for k, v in self.extras.items() if not k.startswith("_")},
        }


@dataclass(eq=False)
class Report:
    """Everything the page shows, before rendering; :meth:`to_dict` is the JSON export."""

    as_of: pd.Timestamp | None
    generated_at: pd.Timestamp
    sections: list[Section]
    thesis: dict[str, Any] | None = None
    thesis_error: str | None = None
    thesis_file: str | None = None
    backtest: dict[str, Any] | None = None
    backtest_error: str | None = None
    backtest_section: Section | None = None
    refresh: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def provenance(self) -> list[dict[str, Any]]:
        """Every series read by any section or claim, once each."""
        claims = (self.thesis or {}).get("claims", [])
        return merge_provenance(
            [s.provenance for s in self.sections] + [c.get("provenance", []) for c in claims]
        )

    def to_dict(self) -> dict[str, Any]:
        """One JSON-ready document with every section's results and provenance."""
        return jsonready(
            {
                "as_of": self.as_of,
                "generated_at": self.generated_at,
                "seconds": round(self.seconds, 2),
                "refresh": self.refresh,
                "thesis": self.thesis,
                "thesis_error": self.thesis_error,
                "thesis_file": self.thesis_file,
                "sections": [s.to_dict() for s in self.sections],
                "backtest": self.backtest,
                "backtest_error": self.backtest_error,
                "provenance": self.provenance,
            }
        )


def merge_provenance(groups: Iterable[Iterable[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Provenance records once per (series, vintage), in first-seen order."""
    seen: dict[tuple[Any, Any], dict[str, Any]] = {}
    for group in groups:
        for rec in group:
            seen.setdefault((rec.get("series_id"), rec.get("vintage_id")), dict(rec))
    return list(seen.values())


STALE_AFTER = pd.Timedelta(days=1)  # a series fetched longer ago than this is refreshed


# -- stages ------------------------------------------------------------------------------------


def refresh(
    store: Store,
    config: Config,
    *,
    stale_after: pd.Timedelta = STALE_AFTER,
    on_spec: Callable[[Any], None] | None = None,
) -> list[dict[str, Any]]:
    """Fetch what is missing or older than ``stale_after``; failures are recorded, not raised.

    Returns
    -------
    list of dict
        One per spec: ``spec``, ``kind``, ``name``, ``failed``, ``error``, ``new_vintages``.
    """
    from smallcaps.update import update

    since = pd.Timestamp.now(tz=UTC).tz_localize(None) - stale_after
    outcomes = update(store, config, since=since, on_spec=on_spec)
    return [
        {
            "spec": str(o.spec),
            "kind": o.spec.kind,
            "name": o.spec.name,
            "failed": o.failed,
            "skipped": o.skipped is not None and not o.failed,
            "error": None if o.status == "ok" else o.status,
            "new_vintages": o.new_vintages,
            "hint": o.hint,
        }
        for o in outcomes
    ]


def feeds(spec_kind: str, spec_name: str, series_id: str) -> bool:
    """Whether a fetched spec (``kind:name``) stores the series ``series_id``."""
    return publishers.feeds(spec_kind, spec_name, series_id)


def measure(store: Store, name: str, as_of: pd.Timestamp | None) -> Measurement:
    """Run one measurement with its own view; a SmallcapsError is kept as the error."""
    view = access.StoreView(store, as_of)
    started = time.perf_counter()
    m = Measurement(name)
    try:
        m.result = registry.run(name, view)
    except SmallcapsError as exc:
        m.error = str(exc)
    m.provenance = view.provenance()
    m.seconds = time.perf_counter() - started
    return m


def stages() -> list[str]:
    """Names of the stages of :func:`build_report`, in order (for a progress bar)."""
    return [f"measuring {m}" for p in PILLARS for m in p.measures] + [
        "checking the thesis",
        "running the backtest",
        "drawing charts",
    ]


def build_report(
    store: Store,
    *,
    as_of: pd.Timestamp | None = None,
    thesis_path: Path | None = None,
    rules_path: Path | None = None,
    refreshed: list[dict[str, Any]] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> Report:
    """Measure every pillar, check the thesis, run the backtest, and draw the charts.

    Parameters
    ----------
    store : Store
        An open store.
    as_of : Timestamp, optional
        Use only what was published by then (None: the newest data).
    thesis_path, rules_path : Path, optional
        A thesis TOML and backtest rules; default the shipped ones.
    refreshed : list of dict, optional
        Outcomes of :func:`refresh`, shown in the header and in the sections they feed.
    on_stage : callable, optional
        Called with each stage's name (see :func:`stages`) before it runs.
    """
    from smallcaps.report import sections as sec

    started = time.perf_counter()
    step = on_stage or (lambda _name: None)
    registry.load_all()
    failed = [r for r in refreshed or [] if r.get("failed")]
    sections = []
    for pillar in PILLARS:
        s = Section(pillar.id, pillar.title, pillar.question)
        for name in pillar.measures:
            step(f"measuring {name}")
            s.measurements.append(measure(store, name, as_of))
        sections.append(s)
    report = Report(
        as_of=as_of,
        generated_at=pd.Timestamp.now(tz=UTC).tz_localize(None).floor("s"),
        sections=sections,
        refresh=list(refreshed or []),
    )
    step("checking the thesis")
    report.thesis, report.thesis_error, report.thesis_file = _thesis(store, as_of, thesis_path)
    step("running the backtest")
    report.backtest, report.backtest_error = _backtest(store, as_of, rules_path)
    step("drawing charts")
    for s in sections:
        sec.decorate(s, store, as_of, failed)
    report.backtest_section = sec.backtest_section(report.backtest, report.backtest_error)
    report.seconds = time.perf_counter() - started
    return report


def _thesis(
    store: Store, as_of: pd.Timestamp | None, path: Path | None
) -> tuple[dict[str, Any] | None, str | None, str | None]:
    try:
        from smallcaps import thesis as th

        load, evaluate, default = th.load, th.evaluate, th.default_thesis_path
    except (ImportError, AttributeError):
        return None, "the thesis checker (smallcaps.thesis) is not installed in this version", None
    try:
        path = Path(path) if path is not None else default()
        result = evaluate(load(path), store, as_of=as_of)
    except SmallcapsError as exc:
        return None, str(exc), None if path is None else str(path)
    return jsonready(result.to_dict()), None, str(path)


def _backtest(
    store: Store, as_of: pd.Timestamp | None, path: Path | None
) -> tuple[dict[str, Any] | None, str | None]:
    try:
        from smallcaps import backtest as bt

        run_file, default = bt.run_file, bt.default_rules_path
    except (ImportError, AttributeError):
        return None, "the backtester (smallcaps.backtest) is not installed in this version"
    try:
        path = Path(path) if path is not None else default()
        result = run_file(path, store, as_of=as_of)
    except SmallcapsError as exc:
        return None, str(exc)
    return jsonready(result.to_dict()), None
