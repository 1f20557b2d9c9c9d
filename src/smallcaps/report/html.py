"""Render a :class:`~smallcaps.report.model.Report` as one self-contained HTML file.

Plotly's JavaScript is inlined once in ``<head>`` (no CDN), so the file opens offline. Each
figure is embedded as JSON in a ``<script type="application/json">`` block, with ``<``, ``>``
and ``&`` escaped, and drawn by one loader at the end of the page. The page comes from a jinja2
template with autoescaping on: every user string (thesis title, quotes, file names) is escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from smallcaps.analytics._jsonready import jsonready
from smallcaps.report.model import MEASURE_SECTION, PILLARS, Report, Section

VERDICTS = (
    "supported", "partly supported", "overstated", "understated", "wrong sign", "wrong date",
    "contradicted", "not testable", "insufficient data",
)  # fmt: skip
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d"]}
NAV_NAMES = {  # the navigation bar's short names of the sections, to keep it on one line
    "cycles": "Cycles",
    "valuation": "Valuation",
    "concentration": "Concentration",
    "macro": "Macro and Fed",
    "vehicle": "Vehicle and risks",
    "backtest": "Backtest",
}
_PILLAR_WORDS = {
    "cycles": ("cycle", "structural", "size"),
    "valuation": ("valu", "discount", "cheap"),
    "concentration": ("concentr", "mag", "top"),
    "macro": ("macro", "fed", "rate", "cut"),
    "vehicle": ("vehicle", "risk", "iwm", "credit"),
}


@cache
def environment() -> jinja2.Environment:
    """The jinja2 environment of the package's templates, autoescaping HTML."""
    try:  # the compiled template, kept between runs as Python keeps .pyc files (~0.2 s)
        compiled: jinja2.BytecodeCache | None = jinja2.FileSystemBytecodeCache(
            pattern="smallcaps-%s.cache"
        )
    except (OSError, RuntimeError):  # no private temporary directory: compile every time
        compiled = None
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("smallcaps.report", "templates"),
        bytecode_cache=compiled,
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["anchor"] = anchor
    env.filters["link"] = link_url
    env.filters["chip"] = chip_class
    env.filters["ticks"] = ticks
    env.filters["words"] = words
    env.globals["figure_json"] = figure_json
    env.globals["check_words"] = check_words
    return env


def link_url(url: Any) -> str:
    """``url`` if it is an http(s) address, else ``""`` (no ``javascript:`` links)."""
    text = str(url or "").strip()
    return text if re.match(r"(?i)^https?://[^\s]+$", text) else ""


def anchor(claim_id: Any) -> str:
    """The HTML id of a claim's evidence block: ``claim-`` and a safe slug of its id."""
    return "claim-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", str(claim_id)).strip("-") or "x")


def ticks(text: Any) -> Markup:
    """Text with each `backticked` span (a command to run) as ``<code>``, the rest escaped."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: show the text as it is
        return Markup.escape(str(text))
    return Markup("").join(
        Markup("<code>{}</code>").format(p) if i % 2 else Markup.escape(p)
        for i, p in enumerate(parts)
    )


def words(name: Any) -> str:
    """A measurement or parameter name in words: ``fed.event_study`` -> ``fed event study``."""
    return re.sub(r"[._]+", " ", str(name)).strip()


def safe_url(url: Any) -> str:
    """``url`` when it is http(s), else "" (a ``javascript:`` or ``data:`` link is never made)."""
    text = str(url or "").strip()
    return text if re.match(r"(?i)https?://", text) else ""


def chip_class(verdict: Any) -> str:
    """The CSS class of a verdict's colour chip."""
    v = str(verdict)
    return "v-" + (v.replace(" ", "-") if v in VERDICTS else "unknown")


def _plain(obj: Any) -> Any:
    """A figure's dicts and lists copied, arrays as plotly's typed-array spec.

    What ``go.Figure.to_dict`` gives, without first deep-copying every value and visiting
    every element of every list (a quarter of a second over the report's figures).
    """
    from _plotly_utils.basevalidators import is_homogeneous_array
    from _plotly_utils.utils import is_skipped_key, to_typed_array_spec

    def walk(o: Any) -> Any:
        if isinstance(o, dict):
            return {
                k: v
                if is_skipped_key(k)
                else to_typed_array_spec(v)
                if is_homogeneous_array(v)
                else walk(v)
                for k, v in o.items()
            }
        if isinstance(o, list | tuple):
            return [walk(v) if isinstance(v, dict | list | tuple) else v for v in o]
        return o

    return walk(obj)


def figure_json(fig: Any) -> Markup:
    """A figure as JSON safe inside ``<script>``: ``<``, ``>`` and ``&`` as unicode escapes."""
    import plotly.io as pio

    if isinstance(fig, dict):  # a figure dict (Chart.spec)
        fig = _plain(fig)
    elif hasattr(fig, "_data") and hasattr(fig, "_layout"):  # a go.Figure: its plain dicts
        fig = _plain({"data": fig._data, "layout": fig._layout})
    text = pio.to_json(fig, validate=False, pretty=False, engine="json")
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def route_claims(thesis: Mapping[str, Any] | None) -> dict[str, list[Mapping[str, Any]]]:
    """Each claim's section id: its measurement's pillar, else by its pillar name, else 'other'."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for claim in (thesis or {}).get("claims", []) or []:
        where = MEASURE_SECTION.get(str(claim.get("measure") or ""))
        if where is None:
            text = str(claim.get("pillar") or "").lower()
            where = next(
                (pid for pid, words in _PILLAR_WORDS.items() if any(w in text for w in words)),
                "other",
            )
        out.setdefault(where, []).append(claim)
    return out


def verdict_counts(thesis: Mapping[str, Any]) -> list[tuple[str, int]]:
    """``(verdict, count)`` for every verdict, from the score (or counted from the claims)."""
    score = thesis.get("score") or {}
    claims = thesis.get("claims") or []
    return [
        (v, int(score.get(v, sum(1 for c in claims if c.get("verdict") == v)))) for v in VERDICTS
    ]


def render_verdicts(thesis: Mapping[str, Any]) -> Markup:
    """The claims table (one date) and summary box of a ``ThesisResult.to_dict()`` (HTML)."""
    module = environment().get_template("report.html.j2").make_module({})
    table = module.then_now(claim_rows(thesis), "", "verdict")  # type: ignore[attr-defined]
    box = module.verdicts(thesis, verdict_counts(thesis))  # type: ignore[attr-defined]
    return Markup(table) + Markup(box)


def render_section(section: Section, claims: Sequence[Mapping[str, Any]] = ()) -> Markup:
    """One section (charts, numbers, tables, claims, provenance) as an HTML fragment."""
    module = environment().get_template("report.html.j2").make_module({})
    return Markup(module.section(section, list(claims)))  # type: ignore[attr-defined]


def freshness(report: Report) -> dict[str, Any]:
    """Counts and ages of the data read: series, oldest and newest fetch, newest observation."""
    prov = report.provenance
    if not prov:
        return {"n": 0}
    fetched = pd.to_datetime([str(p["fetched_at"])[:19] for p in prov])
    last = [str(p["last_date"]) for p in prov if p.get("last_date")]
    now = report.generated_at
    return {
        "n": len({p["series_id"] for p in prov}),
        "oldest_fetch": f"{fetched.min():%Y-%m-%d}",
        "oldest_age_days": int((now - fetched.min()).days),
        "newest_fetch": f"{fetched.max():%Y-%m-%d}",
        "newest_obs": max(last) if last else "",
        "not_real_time": sum(1 for p in prov if not p.get("real_time", True)),
    }


def source_groups(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Provenance grouped by dataset (a French file, a ticker, a FRED series, a fund)."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in records:
        parts = str(r.get("series_id", "")).split("/")
        key = (
            "/".join(parts[:2])
            if parts[0] in ("french", "price", "ishares", "events")
            else parts[0]
        )
        groups.setdefault(key, []).append(r)
    out = []
    for key, rs in groups.items():
        fetched = sorted(str(r.get("fetched_at") or "")[:10] for r in rs)
        last = sorted(str(r.get("last_date") or "") for r in rs)
        out.append(
            {
                "dataset": key,
                "n": len(rs),
                "vintages": len({r.get("vintage_id") for r in rs}),
                "fetched": fetched[0]
                if fetched[0] == fetched[-1]
                else f"{fetched[0]} to {fetched[-1]}",
                "last_date": last[-1],
                "not_real_time": sum(1 for r in rs if not r.get("real_time", True)),
                "url": str(rs[0].get("url", "")),
            }
        )
    return out


def check_words(claim: Mapping[str, Any], index: int) -> str:
    """The label of a claim's check ``index`` in words.

    Its own label, or the claim's statement when the label is only the test expression
    (``share >= 85%`` is test grammar, not something to read).
    """
    checks = claim.get("checks") or []
    k = checks[index]
    label = str(k.get("label") or "")
    if not label or label == k.get("test"):
        label = str(claim.get("stated") or "") if len(checks) == 1 else f"check {index + 1}"
    return label


def then_now(
    report: Report, thesis: Mapping[str, Any] | None
) -> tuple[str, list[dict[str, Any]], str, str]:
    """The verdict sentence, the rows of the then/now table, and its two column labels.

    Rows hold the claim's id, quote and statement, the headline figure and verdict now (and
    then, when the thesis has a date), and the finding. A report without a judgement (only a
    thesis result) gets the table with its one date.
    """
    now_label = "now: " + ("latest data" if report.as_of is None else f"{report.as_of:%Y-%m-%d}")
    if thesis is None:
        return "", [], "", now_label
    j = report.judgement
    then: dict[str, Any] = {}
    then_label = ""
    if j is not None and j.then is not None:
        then = {c.claim.id: c for c in j.then.claims}
        then_label = "then: " + (
            "latest data" if j.then.as_of is None else f"{j.then.as_of:%Y-%m-%d}"
        )
    rows = claim_rows(thesis, then)
    if j is not None:
        sentence = j.sentence()
    elif report.thesis is not None:
        sentence = report.thesis.summary().splitlines()[0]
    else:
        sentence = ""
    return sentence, rows, then_label, now_label


def claim_rows(
    thesis: Mapping[str, Any], then: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Rows of the claims table from a thesis dict and, optionally, the "then" ClaimResults."""
    then = then or {}
    rows = []
    for c in thesis.get("claims") or []:
        t = then.get(c.get("id"))
        rows.append(
            {
                "id": c.get("id"),
                "quote": c.get("quote", ""),
                "stated": c.get("stated") or c.get("quote", ""),
                "figure": c.get("headline") or "",
                "finding": c.get("finding") or "",
                "tip": c.get("note") or "",
                "now": c.get("verdict", ""),
                "then": None if t is None else t.verdict,
                "then_figure": None if t is None else t.headline,
            }
        )
    return rows


def render_html(report: Report) -> str:
    """The whole page."""
    from plotly.offline import get_plotlyjs

    # the template reads the thesis in its JSON form (the same document --format json writes)
    thesis = None if report.thesis is None else jsonready(report.thesis.to_dict())
    routed = route_claims(thesis)
    known = {p.id for p in PILLARS}
    other = [c for k, cs in routed.items() if k not in known for c in cs]
    sections = [*report.sections]
    if report.backtest_section is not None:
        sections.append(report.backtest_section)
    sentence, rows, then_label, now_label = then_now(report, thesis)
    template = environment().get_template("report.html.j2")
    return template.render(
        report=report,
        thesis=thesis,
        sentence=sentence,
        rows=rows,
        then_label=then_label,
        now_label=now_label,
        nav_names=NAV_NAMES,
        source_url=safe_url(((thesis or {}).get("source") or {}).get("url")),
        counts=verdict_counts(thesis) if thesis else [],
        sections=sections,
        routed=routed,
        other_claims=other,
        fresh=freshness(report),
        groups=source_groups(report.provenance),
        failures=refresh_failures(report.refresh),
        plotly_js=Markup(get_plotlyjs()),
        plotly_config=Markup(json.dumps(PLOTLY_CONFIG)),
        as_of=("newest data" if report.as_of is None else f"{report.as_of:%Y-%m-%d %H:%M} UTC"),
    )


def check_out(path: Path) -> Path:
    """``path`` if a file can be written there: its folder exists (none is ever created).

    Raises
    ------
    ConfigError
        The folder does not exist, or ``path`` is a folder.
    """
    from smallcaps.errors import ConfigError

    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; give a file name to write the report to")
    if not path.parent.is_dir():
        raise ConfigError(
            f"{path}: the folder {path.parent} does not exist; create it or write elsewhere"
        )
    return path


def write_html(report: Report, path: Path) -> Path:
    """Render and write the page (UTF-8); returns the path. The folder must exist."""
    path = check_out(path)
    path.write_text(render_html(report), encoding="utf-8")
    return path


def write_json(report: Report, path: Path) -> Path:
    """Write :meth:`Report.to_dict` as one JSON document (NaN as null). The folder must exist."""
    path = check_out(path)
    path.write_text(json.dumps(report.to_dict(), indent=1, default=str), encoding="utf-8")
    return path


def refresh_failures(outcomes: Any) -> list[Any]:
    """Failed fetches grouped by publisher and cause: one line and one fix each."""
    from smallcaps.update import failures  # the fetch loop's grouping, imported only when drawn

    return failures(outcomes)
