"""The report's data: pillars, sections, charts, facts, tables and the :class:`Report` itself.

Plain typed containers with no logic beyond their JSON form, so that :mod:`.build` (which
fills them), :mod:`.sections` (which turns results into charts and tables) and :mod:`.html`
(which renders them) all import this module and none imports another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smallcaps import publishers
from smallcaps.analytics._jsonready import jsonready
from smallcaps.results import Result
from smallcaps.study import Run

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from smallcaps.backtest.engine import BacktestResult
    from smallcaps.thesis.claims import ThesisResult
    from smallcaps.thesis.judgement import Judgement
    from smallcaps.update import Outcome


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
    """One interactive figure with a caption naming its sources.

    ``spec`` is the plotly figure as a dict (``{"data": [...], "layout": {...}}``), which is
    what the page embeds; :attr:`figure` builds the ``go.Figure`` of it when one is wanted.
    """

    id: str
    title: str
    spec: dict[str, Any]
    caption: str = ""
    short: str = ""  # a few words naming the chart in a fold's summary (default: the title)

    def __post_init__(self) -> None:
        if not self.short:
            self.short = self.title

    @property
    def figure(self) -> go.Figure:
        """The figure as a plotly ``go.Figure`` (built on each access, not validated again)."""
        import plotly.graph_objects as go

        return go.Figure(self.spec, _validate=False)


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

    @property
    def short(self) -> str:
        """The title up to its first parenthesis (for a fold's summary)."""
        return self.title.split(" (")[0]


@dataclass(eq=False)
class Section:
    """One section of the page."""

    id: str
    title: str
    question: str = ""
    measurements: list[Run] = field(default_factory=list)
    support: list[Run] = field(default_factory=list)  # runs behind charts, not headline figures
    charts: list[Chart] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    definitions: list[tuple[str, str]] = field(default_factory=list)
    takeaways: list[str] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)  # typed results; "_" keys stay out of JSON
    answer: str = ""  # the section's one-sentence answer to its question (default: 1st takeaway)
    lead: str = ""  # id of the chart shown open (default: the first)
    nav: str = ""  # a short name for the page's navigation bar (default: the title)

    @property
    def lead_chart(self) -> Chart | None:
        """The one chart shown with the answer; the others fold."""
        return next((c for c in self.charts if c.id == self.lead), None) or next(
            iter(self.charts), None
        )

    @property
    def other_charts(self) -> list[Chart]:
        """The charts behind the section's "more" fold."""
        lead = self.lead_chart
        return [c for c in self.charts if c is not lead]

    @property
    def provenance(self) -> list[dict[str, Any]]:
        """Every series read by the section's measurements and supporting runs, once each."""
        return merge_provenance(m.provenance for m in [*self.measurements, *self.support])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: measurements, provenance, what is missing, extra results."""
        return {
            "id": self.id,
            "title": self.title,
            "measurements": {m.name: m.to_dict() for m in self.measurements},
            "provenance": self.provenance,
            "missing": self.missing,
            **{
                k: v.to_dict() if isinstance(v, Result) else v
                for k, v in self.extras.items()
                if not k.startswith("_")
            },
        }


@dataclass(eq=False)
class Report(Result):
    """Everything the page shows, typed, before rendering; :meth:`to_dict` is the JSON export.

    ``print(report)`` gives the summary; in Jupyter the report renders as that summary.
    ``judgement`` is the thesis judged as of its own date and as of the report's; ``thesis``
    is its "now" side (the verdicts as of the report's date).
    """

    as_of: pd.Timestamp | None
    generated_at: pd.Timestamp
    sections: list[Section]
    thesis: ThesisResult | None = None
    judgement: Judgement | None = None
    thesis_error: str | None = None
    thesis_file: str | None = None
    backtest: BacktestResult | None = None
    backtest_error: str | None = None
    backtest_section: Section | None = None
    refresh: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[Outcome]:
        """Specs whose refresh failed."""
        return [o for o in self.refresh if o.failed]

    @property
    def runs(self) -> list[Run]:
        """Every measurement behind the sections, in page order."""
        return [m for s in self.sections for m in s.measurements]

    @property
    def provenance(self) -> list[dict[str, Any]]:
        """Every series read by any section or claim, once each."""
        claims = [*(self.thesis.claims if self.thesis is not None else ())]
        if self.judgement is not None and self.judgement.then is not None:
            claims += self.judgement.then.claims
        return merge_provenance(
            [s.provenance for s in self.sections] + [c.provenance for c in claims]
        )

    def summary(self) -> str:
        """The verdict score, the backtest verdict, and a line per section."""
        when = "newest data" if self.as_of is None else f"{self.as_of:%Y-%m-%d %H:%M}"
        lines = [f"smallcaps report as of {when}"]
        if self.judgement is not None:
            lines.append(self.judgement.sentence())
        elif self.thesis is not None:
            lines.append(self.thesis.summary().splitlines()[0])
        elif self.thesis_error:
            lines.append(f"thesis not checked: {self.thesis_error}")
        for s in self.sections:
            first = s.answer or "; ".join(s.missing[:1]) or "no result"
            lines.append(f"- {s.title}: {first}")
        if self.backtest is not None:
            lines.append(f"- Backtest: {self.backtest.summary().splitlines()[0]}")
        elif self.backtest_error:
            lines.append(f"- Backtest: {self.backtest_error}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """One JSON-ready document with every section's results and provenance."""
        return jsonready(
            {
                "as_of": self.as_of,
                "generated_at": self.generated_at,
                "seconds": round(self.seconds, 2),
                "refresh": [o.to_dict() for o in self.refresh],
                "thesis": None if self.thesis is None else self.thesis.to_dict(),
                "judgement": None if self.judgement is None else self._judgement_dict(),
                "thesis_error": self.thesis_error,
                "thesis_file": self.thesis_file,
                "sections": [s.to_dict() for s in self.sections],
                "backtest": None if self.backtest is None else self.backtest.to_dict(),
                "backtest_error": self.backtest_error,
                "provenance": self.provenance,
            }
        )

    def _judgement_dict(self) -> dict[str, Any]:
        """The sentence, the dates, the then/now rows and the "then" verdicts ("now" is thesis)."""
        j = self.judgement
        assert j is not None
        return {
            "sentence": j.sentence(),
            "then_as_of": None if j.then is None else j.then.as_of,
            "now_as_of": j.now.as_of,
            "rows": [r.to_dict() for r in j.rows],
            "then": None if j.then is None else j.then.to_dict(),
        }


def merge_provenance(groups: Iterable[Iterable[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Provenance records once per (series, vintage), in first-seen order."""
    seen: dict[tuple[Any, Any], dict[str, Any]] = {}
    for group in groups:
        for rec in group:
            seen.setdefault((rec.get("series_id"), rec.get("vintage_id")), dict(rec))
    return list(seen.values())


def feeds(spec_kind: str, spec_name: str, series_id: str) -> bool:
    """Whether a fetched spec (``kind:name``) stores ``series_id`` (its publisher says)."""
    return publishers.feeds(spec_kind, spec_name, series_id)
