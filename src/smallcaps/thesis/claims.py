"""A thesis as data: load a TOML file of claims, evaluate each to a verdict with its evidence.

A claim names a measurement of :mod:`smallcaps.registry` and its parameters, the figures it
reads from the result (paths, :mod:`smallcaps.thesis.paths`) and one or more checks written in
the test language of :mod:`smallcaps.thesis.grammar`. Each check passes, fails, or lacks data; a
stated figure outside its tolerance fails its check even when its direction holds, and a failed
check says how it misses (:func:`smallcaps.thesis.grammar.miss`): overstated, understated, wrong
sign, wrong date, or contradicted. The claim's verdict:

- **supported**: every check passes;
- **partly supported**: some checks pass, others fail or lack data;
- **overstated**, **understated**, **wrong sign**, **wrong date**: no check passes and every
  failed check misses the same way (the finding says by how much);
- **contradicted**: no check passes and the failed checks miss in different ways (or one
  misses in no measurable way, e.g. a different label);
- **insufficient data**: no check has data (a series is missing or not yet public, a vendor
  file was not supplied); the claim says how to supply it;
- **not testable**: ``kind = "not-testable"``, with its reason.

The thesis score is (supported + 0.5 x partly supported) / (claims judged), claims judged being
those with any verdict but the last two.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from smallcaps import registry, tomlfile
from smallcaps.errors import (
    ConfigError,
    InsufficientDataError,
    SmallcapsError,
    UnknownClaimError,
    UnknownSeriesError,
)
from smallcaps.results import Result
from smallcaps.study import Study
from smallcaps.thesis import shorthand
from smallcaps.thesis.grammar import MISS_KINDS, Miss, MissingFigureError, Test, miss, parse
from smallcaps.thesis.paths import PathError, Step, parse_path, resolve

WRONG = ("overstated", "understated", "wrong sign", "wrong date", "contradicted")
VERDICTS = ("supported", "partly supported", *WRONG, "insufficient data", "not testable")
UNJUDGED = ("insufficient data", "not testable")
KINDS = ("testable", "vendor-data", "not-testable")
PILLARS = (
    "structural cycles", "concentration", "valuation gap", "macro and fed", "vehicle and risks",
    "other",
)  # fmt: skip
SCORE_DEFINITION = (
    "score = (supported + 0.5 x partly supported) / claims judged (every verdict but "
    "insufficient data and not testable)"
)
PARTIAL_GONE = (
    "'partial' is no longer part of the format: a stated figure outside its tolerance fails its "
    "check; write a weaker bar as its own [[claims.checks]] (a claim whose checks partly pass is "
    "partly supported)"
)

_THESIS_KEYS = {"title", "as_of", "source", "claims", "summary"}
_SOURCE_KEYS = {"author", "publisher", "date", "url"}
_CLAIM_KEYS = {
    "id", "quote", "pillar", "kind", "stated", "measure", "params", "figures", "test", "partial",
    "checks", "reason", "supply", "note", *shorthand.SHORTHAND_KEYS,
}  # fmt: skip
_CHECK_KEYS = {"label", "test", "partial", "measure", "params", "figures"}
MAX_CLAIMS = 200


@dataclass(frozen=True, slots=True)
class Check:
    """One test of a claim against one measurement's result."""

    label: str
    measure: str
    params: Mapping[str, Any]
    figures: Mapping[str, tuple[Step, ...]]
    paths: Mapping[str, str]
    test: Test


@dataclass(frozen=True, slots=True)
class Claim:
    """A quoted claim of the thesis and how it is tested."""

    id: str
    quote: str
    pillar: str
    kind: str
    stated: str
    checks: tuple[Check, ...]
    reason: str = ""
    supply: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Thesis:
    """A thesis file: title, source, the date it was written (``as_of``) and its claims."""

    title: str
    source: Mapping[str, str]
    as_of: pd.Timestamp | None
    claims: tuple[Claim, ...]
    path: str = ""
    summary: str = ""

    def claim(self, claim_id: str) -> Claim:
        """The claim with ``claim_id``; an unknown id lists the known ones."""
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise UnknownClaimError(claim_id, [c.id for c in self.claims], thesis=self.path or None)


# -- loading -------------------------------------------------------------------------------------


def default_thesis_path() -> Path:
    """The shipped seed thesis, ``theses/small-cap-renaissance-2026.toml``."""
    shipped = resources.files("smallcaps").joinpath("theses/small-cap-renaissance-2026.toml")
    return Path(str(shipped))


def shipped_theses() -> dict[str, Path]:
    """Shipped thesis files by name (file stem)."""
    folder = resources.files("smallcaps").joinpath("theses")
    return {Path(f.name).stem: Path(str(f)) for f in folder.iterdir() if f.name.endswith(".toml")}


def find_thesis(name_or_path: str | Path) -> Path:
    """A thesis file from a path, or the name of a shipped thesis (``small-cap-renaissance-2026``).

    Raises
    ------
    ConfigError
        Neither a file nor a shipped name; the shipped names are listed.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_theses()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    names = ", ".join(sorted(shipped))
    raise ConfigError(f"{name_or_path}: no such thesis file (shipped theses: {names})")


def load(path: str | Path) -> Thesis:
    """Read and validate a thesis file; see :func:`loads`."""
    path = find_thesis(path)
    text = tomlfile.read_text(path, what="thesis file")  # size, folder, encoding guards
    return loads(text, origin=str(path))


def loads(text: str, *, origin: str = "<thesis>") -> Thesis:
    """Parse and validate a thesis from TOML text.

    Every claim is checked before anything runs: measurement names, parameter names and types,
    figure paths and tests. Nothing in the file is evaluated as code.

    Raises
    ------
    ConfigError
        Broken TOML (with line and column), a missing or unknown field, an unknown measurement
        or parameter (the valid ones are listed), a malformed test or path; the message names the
        file and the claim.
    """
    doc = tomlfile.parse(text, origin=origin)  # syntax and nesting depth guards
    _unknown_keys(doc, _THESIS_KEYS, f"{origin}: top level")
    title = _string(doc, "title", origin, required=True)
    source = doc.get("source", {})
    if not isinstance(source, dict):
        raise ConfigError(f"{origin}: [source] must be a table")
    _unknown_keys(source, _SOURCE_KEYS, f"{origin}: [source]")
    src = {k: _text_value(v, f"{origin}: source.{k}") for k, v in source.items()}
    as_of = _as_of(doc.get("as_of"), origin)
    raw = doc.get("claims")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{origin}: no claims; add [[claims]] tables")
    if len(raw) > MAX_CLAIMS:
        raise ConfigError(f"{origin}: {len(raw)} claims; the limit is {MAX_CLAIMS}")
    measures = registry.load_all()
    claims = []
    for i, item in enumerate(raw, start=1):
        claims.append(_claim(item, i, origin, measures))
    ids = [c.id for c in claims]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"{origin}: claim ids used twice: {', '.join(dupes)}")
    summary = _string(doc, "summary", origin)
    return Thesis(title, src, as_of, tuple(claims), path=origin, summary=summary)


def _claim(item: Any, index: int, origin: str, measures: Mapping[str, Any]) -> Claim:
    where = f"{origin}: claim {index}"
    item = shorthand.expand(item, where)  # compare/sleeve/over/expect -> measure/params/test
    if not isinstance(item, dict):
        raise ConfigError(f"{where} must be a table")
    cid = _string(item, "id", where, required=True)
    if not cid.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"{where}: id {cid!r} may use only letters, digits, '-' and '_'")
    where = f"{origin}: claim {cid!r}"
    _unknown_keys(item, _CLAIM_KEYS, where)
    kind = _string(item, "kind", where) or "testable"
    if kind not in KINDS:
        raise ConfigError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    pillar = _string(item, "pillar", where) or "other"
    if pillar not in PILLARS:
        raise ConfigError(f"{where}: pillar {pillar!r} is not one of {', '.join(PILLARS)}")
    quote = _string(item, "quote", where, required=True)
    reason = _string(item, "reason", where)
    common = dict(
        id=cid, quote=quote, pillar=pillar, kind=kind, stated=_string(item, "stated", where),
        reason=reason, supply=_string(item, "supply", where), note=_string(item, "note", where),
    )  # fmt: skip
    if kind == "not-testable":
        if not reason:
            raise ConfigError(f"{where}: a not-testable claim needs a reason")
        extra = sorted(k for k in ("measure", "test", "checks") if k in item)
        if extra:
            raise ConfigError(f"{where}: a not-testable claim has no {', '.join(extra)}")
        return Claim(checks=(), **common)
    if kind == "vendor-data" and not common["supply"]:
        raise ConfigError(f"{where}: a vendor-data claim needs 'supply' (how to provide the data)")
    base = {k: item[k] for k in ("measure", "params", "figures") if k in item}
    if "partial" in item:
        raise ConfigError(f"{where}: {PARTIAL_GONE}")
    if "checks" in item:
        if "test" in item:
            raise ConfigError(f"{where}: give either 'test' or [[claims.checks]], not both")
        raw = item["checks"]
        if not isinstance(raw, list) or not raw:
            raise ConfigError(f"{where}: 'checks' must be a list of tables")
        checks = tuple(
            _check(c, base, f"{where} check {j}", measures) for j, c in enumerate(raw, start=1)
        )
    else:
        if "test" not in item:
            raise ConfigError(f"{where}: no 'test' (e.g. test = \"share >= 85%\")")
        one = {"test": item["test"]}
        checks = (_check(one, base, where, measures),)
    return Claim(checks=checks, **common)


def _check(item: Any, base: Mapping[str, Any], where: str, measures: Mapping[str, Any]) -> Check:
    if not isinstance(item, dict):
        raise ConfigError(f"{where} must be a table")
    _unknown_keys(item, _CHECK_KEYS, where)
    if "partial" in item:
        raise ConfigError(f"{where}: {PARTIAL_GONE}")
    merged = {**base, **item}
    name = merged.get("measure")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: no 'measure' (one of: {', '.join(sorted(measures))})")
    if name not in measures:
        close = difflib.get_close_matches(name, list(measures), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(
            f"{where}: unknown measurement {name!r}{hint} (valid: {', '.join(sorted(measures))})"
        )
    raw_params = merged.get("params", {})
    if not isinstance(raw_params, dict):
        raise ConfigError(f"{where}: 'params' must be a table")
    try:
        params = registry.coerce_params(measures[name], _plain_params(raw_params, where))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    raw_figures = merged.get("figures", {})
    if not isinstance(raw_figures, dict):
        raise ConfigError(f"{where}: 'figures' must be a table of name = \"path\"")
    paths = {str(k): _text_value(v, f"{where}: figures.{k}") for k, v in raw_figures.items()}
    try:
        test = parse(_text_value(merged.get("test"), f"{where}: test"))
        for n in test.names:
            paths.setdefault(n, n)
        figures = {n: parse_path(p) for n, p in paths.items()}
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    label = _text_value(item.get("label", test.text), f"{where}: label")
    return Check(label, name, params, figures, paths, test)


def _plain_params(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Refuse tables and nested lists; the registry converts the rest to each declared type."""
    for k, v in raw.items():
        if isinstance(v, dict):
            raise ConfigError(f"{where}: params.{k} must be a value, not a table")
        if isinstance(v, list) and not all(
            isinstance(x, str | int | float) and not isinstance(x, bool) for x in v
        ):
            raise ConfigError(f"{where}: params.{k} must be a list of plain values")
    return dict(raw)


def _unknown_keys(table: Mapping[str, Any], known: set[str], where: str) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"{where}: unknown field {key!r}{hint}; known: {', '.join(sorted(known))}"
            )


def _string(table: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    if key not in table:
        if required:
            raise ConfigError(f"{where}: missing field {key!r}")
        return ""
    return _text_value(table[key], f"{where}: {key}")


def _text_value(value: Any, where: str) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, not {type(value).__name__}")
    if len(value) > 20_000:
        raise ConfigError(f"{where} is {len(value):,} characters long; the limit is 20,000")
    return value


def _as_of(value: Any, origin: str) -> pd.Timestamp | None:
    """The thesis date: the end of that day (UTC), or None for 'latest'."""
    if value is None:
        return None
    if isinstance(value, date | datetime):
        value = value.isoformat()
    if not isinstance(value, str):
        raise ConfigError(f'{origin}: as_of must be a date (YYYY-MM-DD) or "latest"')
    try:
        return as_of_time(value)
    except ConfigError as exc:
        raise ConfigError(f"{origin}: as_of: {exc}") from None


def as_of_time(text: str) -> pd.Timestamp | None:
    """``"latest"`` (or now, today) -> None; otherwise :func:`smallcaps.access.end_of_day`."""
    if text in ("latest", "now", "today"):
        return None
    from smallcaps.access import end_of_day

    return end_of_day(text)


# -- evaluation ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A check's outcome: ``pass``, ``fail`` or ``missing``, with its figures and finding."""

    label: str
    test: str
    outcome: str
    figures: Mapping[str, Any]
    percent: frozenset[str]  # figures shown as percents
    missing: str = ""
    finding: str = ""  # how a failed check misses, in words (describe_miss)
    miss: str | None = None  # its kind, one of grammar.MISS_KINDS

    def shown(self, name: str) -> str:
        """A figure formatted as a person reads it."""
        return format_value(self.figures.get(name), name in self.percent)

    def headline(self) -> str:
        """The check's first figure; a list shows its mean and how many values it has."""
        name = next(iter(self.figures))
        value = self.figures[name]
        if isinstance(value, list):
            numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
            if numbers and len(numbers) == len(value):
                mean = format_value(math.fsum(numbers) / len(numbers), name in self.percent)
                return f"mean {mean} of {len(numbers)}"
        return self.shown(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "label": self.label, "test": self.test,
            "outcome": self.outcome, "figures": dict(self.figures), "missing": self.missing,
            "finding": self.finding, "miss": self.miss,
            "shown": {k: self.shown(k) for k in self.figures},
        }  # fmt: skip


@dataclass(frozen=True, slots=True, eq=False)
class ClaimResult(Result):
    """A claim's verdict with its evidence."""

    claim: Claim
    verdict: str
    reason: str
    checks: tuple[CheckResult, ...]
    provenance: tuple[Mapping[str, Any], ...]
    as_of: pd.Timestamp | None
    summaries: Mapping[str, str] = field(default_factory=dict)

    @property
    def figures(self) -> dict[str, Any]:
        """Every figure read by the claim's checks."""
        out: dict[str, Any] = {}
        for c in self.checks:
            out.update(c.figures)
        return out

    @property
    def headline(self) -> str:
        """What the data says as one formatted figure ("" when no check has data).

        The first figure of the first failed check when the claim misses, else of the first
        judged check; a list of values shows its mean and count.
        """
        judged = [c for c in self.checks if c.outcome != "missing" and c.figures]
        failed = [c for c in judged if c.outcome == "fail"]
        for c in failed or judged:
            return c.headline()
        return ""

    @property
    def finding(self) -> str:
        """How the claim is wrong and by how much, in words ("" when it holds or lacks data)."""
        return "; ".join(c.finding for c in self.checks if c.finding)

    def summary(self) -> str:
        """The verdict, the claim as stated, and why."""
        return f"{self.claim.id}: {self.verdict} ({self.claim.stated}). {self.reason}"

    def to_frame(self) -> pd.DataFrame:
        """One row per check: label, test, outcome, figures."""
        return pd.DataFrame(
            [{"check": c.label, "test": c.test, "outcome": c.outcome,
              "figures": ", ".join(f"{k} = {c.shown(k)}" for k in c.figures)}
             for c in self.checks],
            columns=["check", "test", "outcome", "figures"],
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (the report and ``smallcaps check --json`` print these)."""
        c = self.claim
        first = c.checks[0] if c.checks else None
        return {
            "id": c.id, "quote": c.quote, "pillar": c.pillar, "kind": c.kind,
            "verdict": self.verdict, "reason": self.reason, "stated": c.stated, "note": c.note,
            "headline": self.headline, "finding": self.finding,
            "supply": c.supply if any(x.outcome == "missing" for x in self.checks) else "",
            "measure": first.measure if first else None,
            "params": dict(first.params) if first else {},
            "figures": self.figures, "checks": [x.to_dict() for x in self.checks],
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "measurements": dict(self.summaries), "provenance": [dict(p) for p in self.provenance],
        }  # fmt: skip


@dataclass(frozen=True, slots=True, eq=False)
class ThesisResult(Result):
    """Every claim's verdict and the thesis score."""

    thesis: Thesis
    as_of: pd.Timestamp | None
    claims: tuple[ClaimResult, ...]

    @property
    def counts(self) -> dict[str, int]:
        """How many claims got each verdict."""
        return {v: sum(1 for c in self.claims if c.verdict == v) for v in VERDICTS}

    @property
    def score(self) -> float | None:
        """(supported + 0.5 x partly) / judged; None when no claim could be judged."""
        n = self.counts
        judged = sum(v for k, v in n.items() if k not in UNJUDGED)
        if judged == 0:
            return None
        return (n["supported"] + 0.5 * n["partly supported"]) / judged

    def claim(self, claim_id: str) -> ClaimResult:
        """The result of one claim; an unknown id lists the known ones."""
        for c in self.claims:
            if c.claim.id == claim_id:
                return c
        raise UnknownClaimError(claim_id, [c.claim.id for c in self.claims])

    def summary(self) -> str:
        """One line: counts and score."""
        n = self.counts
        when = "latest data" if self.as_of is None else f"as of {self.as_of:%Y-%m-%d}"
        score = "n/a" if self.score is None else f"{self.score:.2f}"
        parts = ", ".join(f"{k} {v}" for k, v in n.items() if v)
        return f"{self.thesis.title} ({when}): {len(self.claims)} claims: {parts}; score {score}"

    def to_frame(self) -> pd.DataFrame:
        """One row per claim: id, pillar, verdict, stated, reason."""
        rows = [
            {"id": c.claim.id, "pillar": c.claim.pillar, "verdict": c.verdict,
             "stated": c.claim.stated, "reason": c.reason}
            for c in self.claims
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=["id", "pillar", "verdict", "stated", "reason"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: title, source, as_of, score (counts and definition) and every claim."""
        n = self.counts
        return {
            "title": self.thesis.title,
            "source": dict(self.thesis.source),
            "path": self.thesis.path,
            "summary": self.thesis.summary,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "score": {
                "value": self.score,
                **n,
                "total": len(self.claims),
                "definition": SCORE_DEFINITION,
            },
            "claims": [c.to_dict() for c in self.claims],
        }


def evaluate(
    thesis: Thesis,
    source: Any,
    *,
    as_of: pd.Timestamp | str | None = "thesis",
    on_claim: Callable[[Claim], None] | None = None,
) -> ThesisResult:
    """Evaluate every claim of ``thesis``.

    Parameters
    ----------
    thesis : Thesis
    source : Study, Store or callable
        A :class:`smallcaps.study.Study` to share measurements with (a report's), a
        :class:`smallcaps.store.Store` (read through :class:`smallcaps.access.StoreView`, so
        each series is read as it was public at ``as_of``), or a callable ``as_of -> View``
        (e.g. a :class:`smallcaps.registry.MemoryView` factory in tests).
    as_of : Timestamp, None or "thesis"
        "thesis" (default): the thesis's own date, so claims are judged on what was public
        when it was written; None: the newest data; a Timestamp: that time.
    on_claim : callable, optional
        Called with each claim before it is evaluated (progress).

    Returns
    -------
    ThesisResult
        Never raises for missing data: such claims get *insufficient data*.
    """
    when = thesis.as_of if isinstance(as_of, str) and as_of == "thesis" else as_of
    if isinstance(when, str):
        when = as_of_time(when)
    study = source if isinstance(source, Study) else Study(source, as_of=when)
    results = []
    for claim in thesis.claims:
        if on_claim is not None:
            on_claim(claim)
        results.append(_evaluate_claim(claim, study, when))
    return ThesisResult(thesis, when, tuple(results))


def _evaluate_claim(claim: Claim, study: Study, when: pd.Timestamp | None) -> ClaimResult:
    if claim.kind == "not-testable":
        return ClaimResult(claim, "not testable", claim.reason, (), (), when)
    outcomes: list[CheckResult] = []
    provenance: dict[str, Mapping[str, Any]] = {}
    summaries: dict[str, str] = {}
    for check in claim.checks:
        try:
            run = study.run(check.measure, as_of=when, **check.params)
            run.unwrap()  # a failed run raises its error here
            prov = run.provenance
        except (InsufficientDataError, UnknownSeriesError) as exc:
            outcomes.append(_missing(check, str(exc)))
            continue
        except SmallcapsError as exc:  # a measurement refused its inputs: say so, don't crash
            outcomes.append(_missing(check, f"{type(exc).__name__}: {exc}"))
            continue
        summaries[check.measure] = study.summary(run)
        for p in prov:
            provenance.setdefault(str(p.get("series_id")), p)
        doc = study.document(run)
        figures: dict[str, Any] = {}
        try:
            for name, steps in check.figures.items():
                figures[name] = _plain(resolve(doc, steps, path=check.paths[name]))
            missed = miss(check.test, figures)
        except PathError as exc:
            outcomes.append(_missing(check, f"{check.measure}: {exc}", figures))
            continue
        except MissingFigureError as exc:
            outcomes.append(_missing(check, f"{check.measure} gave no value for {exc.name!r}",
                                     figures))  # fmt: skip
            continue
        except ConfigError as exc:
            raise ConfigError(f"claim {claim.id!r}: {exc}") from None
        percent = check.test.percent_names
        outcomes.append(
            CheckResult(
                check.label,
                check.test.text,
                "pass" if missed is None else "fail",
                figures,
                percent,
                finding="" if missed is None else describe_miss(missed, percent),
                miss=None if missed is None else missed.kind,
            )
        )
    verdict = _verdict(outcomes)
    reason = _reason(claim, verdict, outcomes)
    return ClaimResult(claim, verdict, reason, tuple(outcomes), tuple(provenance.values()), when,
                       summaries)  # fmt: skip


def _missing(check: Check, why: str, figures: Mapping[str, Any] | None = None) -> CheckResult:
    return CheckResult(check.label, check.test.text, "missing", dict(figures or {}),
                       check.test.percent_names, why)  # fmt: skip


def _verdict(outcomes: Sequence[CheckResult]) -> str:
    """The claim's verdict from its checks (rules in the module docstring)."""
    judged = [o for o in outcomes if o.outcome != "missing"]
    if not judged:
        return "insufficient data"
    if all(o.outcome == "pass" for o in outcomes):
        return "supported"
    if any(o.outcome == "pass" for o in judged):
        return "partly supported"
    kinds = {o.miss for o in judged}
    if len(kinds) == 1 and (kind := kinds.pop()) in MISS_KINDS:
        return str(kind)
    return "contradicted"


def describe_miss(m: Miss, percent: frozenset[str] = frozenset()) -> str:
    """A miss in words: ``overstated by 40.7 pp (44.3% against at least 85%)``."""
    pct = m.figure in percent

    def show(v: Any) -> str:
        if isinstance(v, pd.Timestamp):
            return f"{v:%Y-%m}" if v.day == 1 or v.is_month_end else f"{v:%Y-%m-%d}"
        if isinstance(v, str):
            return f'"{v}"'
        if pct and isinstance(v, float):
            return f"{100 * v:.1f}".removesuffix(".0") + "%"
        return format_value(v, pct)

    words, values = m.bar
    if words == "within":
        bar = f"{show(values[0])} ± {show(values[1])}"
    elif words == "between":
        bar = f"between {show(values[0])} and {show(values[1])}"
    elif words == "not":
        bar = "the claim"
    else:
        bar = f"{words} {' '.join(show(v) for v in values)}".strip()
    size = ""
    if m.by is not None and m.kind == "wrong date":
        years = m.by / 365.25
        size = f" by {years:.1f} years" if years >= 1 else f" by {m.by:.0f} days"
    elif m.by is not None and m.kind in ("overstated", "understated"):
        size = f" by {100 * m.by:.1f} pp" if pct else f" by {m.by:.3g}"
    return f"{m.kind}{size} ({show(m.actual)} against {bar})"


def _reason(claim: Claim, verdict: str, outcomes: Sequence[CheckResult]) -> str:
    parts = []
    for o in outcomes:
        if o.outcome == "missing":
            parts.append(f"{o.label}: no data ({o.missing})")
            continue
        shown = ", ".join(o.shown(k) for k in o.figures)
        if o.outcome == "pass":
            parts.append(f"{o.label}: {shown}, holds")
        else:
            parts.append(f"{o.label}: {o.finding}")
    text = "; ".join(parts)
    if claim.supply and any(o.outcome == "missing" for o in outcomes):
        text += f". To supply it: {claim.supply}"
    if claim.note:
        text += f". {claim.note}"
    return text


def _plain(value: Any) -> Any:
    """Numbers, strings, None and lists of them; numpy scalars become Python ones."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            return value.item()
        except (TypeError, ValueError):
            return value
    return value


def format_value(value: Any, percent: bool = False) -> str:
    """A figure as a person reads it: 0.443 -> ``44.3%`` when ``percent``, else 4 digits."""
    if isinstance(value, list):
        inner = ", ".join(format_value(v, percent) for v in value[:8])
        return f"[{inner}{', ...' if len(value) > 8 else ''}]"
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            return "n/a"
        if percent:
            return f"{100 * value:.1f}%"
        return f"{value:.4g}"
    return str(value)
