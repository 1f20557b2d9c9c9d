"""Fill each :class:`~smallcaps.report.model.Section` with charts, headline numbers and tables.

One function per measurement turns its result into what a reader sees; :func:`backtest_section`
does the same from a typed ``BacktestResult``. Every headline number carries the provenance of
the measurement it comes from as a tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from smallcaps.errors import SmallcapsError, UnknownSeriesError
from smallcaps.report import charts
from smallcaps.report.model import Chart, Fact, Section, Table, feeds
from smallcaps.study import Run, Study

if TYPE_CHECKING:
    from smallcaps.analytics.concentration import Concentration
    from smallcaps.analytics.credit import CreditRegimes
    from smallcaps.analytics.cycles import SizeCycles
    from smallcaps.analytics.event_paths import EventPaths
    from smallcaps.analytics.event_study import EventStudy
    from smallcaps.analytics.fed import EasingCycles, FedPath
    from smallcaps.analytics.macro import MacroRegime
    from smallcaps.analytics.premium import SizePremium
    from smallcaps.analytics.rates import RateSensitivity
    from smallcaps.analytics.valuation import ValuationReport
    from smallcaps.analytics.vehicle import VehicleReport
    from smallcaps.backtest import BacktestResult
    from smallcaps.update import Outcome


def pct(x: Any, fmt: str = "+.1%") -> str:
    """A number as a percentage; ``n/a`` when missing."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if math.isnan(v) else format(v, fmt)


def num(x: Any, fmt: str = ".2f") -> str:
    """A number; ``n/a`` when missing."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if math.isnan(v) else format(v, fmt)


def day(x: Any) -> str:
    """``YYYY-MM-DD``; empty when missing."""
    if x is None or (not isinstance(x, str) and pd.isna(x)):
        return ""
    return f"{pd.Timestamp(x):%Y-%m-%d}"


def provenance_tip(records: Sequence[Mapping[str, Any]], limit: int = 6) -> str:
    """One line per series read (vintage, fetch time, last date, as-of), for a title tooltip."""
    lines = []
    for r in records[:limit]:
        flag = "" if r.get("real_time", True) else ", not real-time"
        lines.append(
            f"{r.get('series_id')}: vintage {r.get('vintage_id')} fetched "
            f"{str(r.get('fetched_at', ''))[:16]}, data to {r.get('last_date')}{flag}"
        )
    if len(records) > limit:
        lines.append(f"... and {len(records) - limit} more series (see the sources list)")
    as_of = next((r.get("as_of") for r in records if r.get("as_of")), None)
    lines.append(f"as of {str(as_of)[:16]}" if as_of else "as of: newest data")
    return "\n".join(lines)


def caption(m: Run, limit: int = 3, *, only: str = "", publisher: str = "") -> str:
    """A chart caption naming the publisher, the measurement and its first series and vintages.

    ``only`` keeps the series whose id starts with it (the CAPE chart names Shiller's series,
    not the French files the same measurement also reads).
    """
    recs = [r for r in m.provenance if str(r["series_id"]).startswith(only)] or m.provenance
    ids = [f"{r['series_id']} (v{r['vintage_id']}, to {r['last_date']})" for r in recs]
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    who = f"{publisher}, " if publisher else ""
    return f"Source: {who}{m.name} on " + "; ".join(ids[:limit]) + more + "."


def _fact(m: Run, label: str, value: str) -> Fact:
    return Fact(label, value, provenance_tip(m.provenance))


def _table(
    title: str, frame: pd.DataFrame, formats: Mapping[str, Callable[[Any], str]], note: str = ""
) -> Table:
    cols = [c for c in formats if c in frame.columns or c == frame.index.name]
    f = frame.reset_index() if frame.index.name in cols else frame
    rows = tuple(
        tuple(formats[c](v) for c, v in zip(cols, row, strict=True))
        for row in f[cols].itertuples(index=False)
    )
    return Table(title, tuple(cols), rows, note)


def _text(x: Any) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)


# -- per measurement ---------------------------------------------------------------------------


def _size_cycles(s: Section, m: Run, r: SizeCycles, **_: Any) -> None:
    s.charts.append(
        Chart(
            "chart-cycles",
            f"Relative wealth of small vs large caps since {r.wealth.index[0]:%Y} "
            "(log scale; shading = leadership cycles)",
            charts.wealth_chart(r),
            caption(m, publisher="Ken French Data Library"),
            short="relative wealth since 1926",
        )
    )
    if r.leader == "large":
        s.answer = (
            f"No rotation yet: large caps have led since {r.start:%Y-%m} ({r.age_months:.0f} "
            f"months; small caps {r.move:+.0%} against them); small caps are "
            f"{r.rebound:+.0%} off their low, short of the +{r.threshold:.0%} that turns the "
            "cycle."
        )
    else:
        s.answer = (
            f"Small caps have led since {r.start:%Y-%m} ({r.age_months:.0f} months, "
            f"{r.move:+.0%} against large caps)."
        )
    s.facts += [
        _fact(m, "leading now", f"{r.leader} caps since {r.start:%Y-%m}"),
        _fact(m, "current cycle", f"{r.age_months:.0f} months, {r.move:+.0%}"),
        _fact(m, "small caps off the low", f"{r.rebound:+.0%} (needs +{r.threshold:.0%})"),
        _fact(m, "completed cycles", f"{len(r.cycles)}"),
    ]


def _size_premium(s: Section, m: Run, r: SizePremium, **_: Any) -> None:
    s.charts.append(
        Chart(
            "chart-premium",
            f"Rolling {r.window // 12}-year size premium",
            charts.premium_chart(r),
            caption(m, publisher="Ken French Data Library"),
            short="rolling size premium",
        )
    )
    s.tables.append(
        _table(
            "Size premium by period (annualised; Newey-West t)",
            r.table,
            {
                "series": _text,
                "period": _text,
                "n": lambda v: f"{int(v)}",
                "mean": pct,
                "vol": lambda v: pct(v, ".1%"),
                "t_nw": lambda v: num(v, "+.2f"),
            },
        )
    )


def _valuation(s: Section, m: Run, r: ValuationReport, **_: Any) -> None:
    g = r.gap
    s.charts.append(
        Chart(
            "chart-valuation",
            f"Small caps' {'P/B' if g.ratio == 'B/M' else 'P/E'} discount to large caps, "
            f"{g.gap.index[0]:%Y}-{g.date:%Y}",
            charts.valuation_chart(r),
            caption(m, only="french", publisher="Ken French Data Library"),
            short="discount since 1926",
        )
    )
    wide = f"{g.last_as_wide:%Y-%m}" if g.last_as_wide is not None else "never before"
    s.answer = (
        f"Small caps trade at a {g.discount:.0%} {'P/B' if g.ratio == 'B/M' else 'P/E'} "
        f"discount to large caps ({g.date:%Y-%m}), at the {g.percentile:.0%} percentile of "
        f"their history since {g.gap.index[0]:%Y}; last as wide: {wide}."
    )
    s.facts += [
        _fact(m, f"discount ({g.date:%Y-%m})", pct(g.discount, ".0%")),
        _fact(m, "percentile in history", pct(g.percentile, ".0%")),
        _fact(m, "z-score", num(g.zscore, "+.2f")),
        _fact(
            m,
            "last as wide",
            f"{g.last_as_wide:%Y-%m}" if g.last_as_wide is not None else "never before",
        ),
    ]
    if r.cape is not None:
        s.facts.append(_fact(m, f"Shiller CAPE ({r.cape.date:%Y-%m})", num(r.cape.last, ".1f")))
        s.charts.append(
            Chart(
                "chart-cape",
                "Large-cap context: Shiller CAPE of the S&P composite",
                charts.cape_chart(r.cape),
                caption(m, only="shiller", publisher="Robert Shiller's online data"),
                short="Shiller CAPE",
            )
        )


def _concentration(s: Section, m: Run, r: Concentration, **_: Any) -> None:
    s.charts.append(
        Chart(
            "chart-concentration",
            "Each top name's share of the index's gain",
            charts.concentration_chart(r),
            caption(m, publisher="iShares holdings and Yahoo Finance prices"),
        )
    )
    s.answer = (
        f"The top {len(r.table)} names made {r.share:.0%} of {r.index_name}'s "
        f"{r.index_return:+.0%} gain from {r.start:%Y-%m} to {r.end:%Y-%m}."
    )
    s.facts += [
        _fact(m, "top names' share of the gain", pct(r.share, ".0%")),
        _fact(m, f"{r.index_name} return", pct(r.index_return, "+.0%")),
        _fact(m, "equal minus cap weight, per year", pct(r.spread_annual)),
    ]
    if r.claim_share is not None:
        s.facts.append(_fact(m, "claimed share", pct(r.claim_share, ".0%")))


def _fed_path(s: Section, m: Run, r: FedPath, *, study: Study, **_: Any) -> None:
    cyc = cast("EasingCycles | None", study.run("fed.cycles", as_of=m.as_of).result)
    s.charts.append(
        Chart(
            "chart-fed",
            "Fed funds target and the first cut of each easing cycle",
            charts.fed_chart(r, cyc),
            caption(m, publisher="FRED and the Fed's announcements"),
            short="Fed funds target",
        )
    )
    now = r.path.dropna(subset=["target"]).iloc[-1]
    s.facts.append(_fact(m, f"fed funds target ({day(r.path.index[-1])})", num(now["target"])))


def _fed_cycles(s: Section, m: Run, r: EasingCycles, **_: Any) -> None:
    c = r.cycles
    s.tables.append(
        _table(
            "Easing cycles (first cut announced; depth and targets in pp; recession: NBER peak "
            "within 12 months)",
            c,
            {
                "announced": day,
                "outcome": _text,
                "n_cuts": lambda v: f"{int(v)}",
                "depth": lambda v: num(v, ".2f"),
                "target_before": num,
                "target_after": num,
            },
        )
    )


def _event_study(s: Section, m: Run, r: EventStudy, *, study: Study, **_: Any) -> None:
    run = study.run("fed.event_paths", as_of=m.as_of)
    if run.result is None:
        s.missing.append(f"event paths: {run.error}")
        return
    paths = cast("EventPaths", run.result)
    s.support.append(run)
    s.extras["event_paths"] = paths
    s.charts.append(
        Chart(
            "chart-events",
            f"Small minus large around each first cut ({paths.paths.shape[1]} cuts, daily)",
            charts.event_chart(paths, r),
            caption(m, publisher="Fed announcements, FRED and Yahoo Finance")
            + " Bands: "
            + paths.method
            + ".",
            short="small minus large after first cuts",
        )
    )
    s.lead = "chart-events"
    t = r.table
    t = t[(t["group"] == "all")]
    s.tables.append(
        _table(
            f"First-cut event study ({r.unit}; {r.conf:.0%} bootstrap interval; placebo of "
            f"{r.placebo_draws} random-date means)",
            t,
            {
                "leg": lambda v: str(v).replace("_", " "),
                "window": _text,
                "n": lambda v: f"{int(v)}",
                "mean": pct,
                "ci_low": pct,
                "ci_high": pct,
                "placebo_p05": pct,
                "placebo_p95": pct,
                "placebo_percentile": lambda v: pct(v, ".0%"),
            },
        )
    )
    main = r.focus_window or "0..+21"
    mean = r.stat("small_minus_large", main)
    s.answer = (
        f"After the {r.n_events} first cuts since {paths.paths.columns[0]:%Y}, small caps beat "
        f"large caps by {pct(mean)} on average over trading days {main} "
        f"({r.conf:.0%} interval {pct(r.stat('small_minus_large', main, column='ci_low'))} to "
        f"{pct(r.stat('small_minus_large', main, column='ci_high'))})."
    )
    s.facts.append(
        _fact(
            m,
            f"small minus large {main}, mean of {r.n_events}",
            pct(r.stat("small_minus_large", main)),
        )
    )


def _macro(s: Section, m: Run, r: MacroRegime, **_: Any) -> None:
    s.charts.append(
        Chart(
            "chart-macro",
            "Macro panel: unemployment, growth, credit and the yield curve",
            charts.macro_chart(r),
            caption(m, publisher="FRED"),
            short="macro panel",
        )
    )
    s.facts.append(_fact(m, "macro regime", str(r.regime)))
    if s.answer:
        s.answer += f" The macro regime is {r.regime}."
    s.tables.append(
        _table(
            "Macro indicators (signal against its thresholds)",
            r.indicators,
            {
                "indicator": _text,
                "value": lambda v: num(v, ".2f"),
                "date": day,
                "signal": _text,
                "definition": _text,
            },
        )
    )


def _rates(s: Section, m: Run, r: RateSensitivity, **_: Any) -> None:
    s.charts.append(
        Chart(
            "chart-rates",
            "Rate sensitivity: small minus large per +100 bp parallel shift in yields",
            charts.rates_chart(r),
            caption(m),
            short="rate sensitivity",
        )
    )
    c = r.coefficients
    c = c[(c["y"] == "sml") & (c["term"] != "const")]
    s.tables.append(
        _table(
            "Small minus large on yield (and HY spread) changes, per +1 pp (HAC t)",
            c,
            {
                "model": _text,
                "term": _text,
                "coef": lambda v: pct(v, "+.2%"),
                "t": lambda v: num(v, "+.1f"),
                "n": lambda v: f"{int(v)}",
                "start": day,
                "end": day,
            },
        )
    )
    s.facts.append(
        _fact(
            m,
            "small minus large per +100 bp (parallel)",
            pct(r.coef("parallel", "parallel"), "+.2%"),
        )
    )


def _credit(s: Section, m: Run, r: CreditRegimes, **_: Any) -> None:
    s.charts.append(
        Chart(
            "chart-credit",
            "Credit sensitivity: small minus large by HY-spread regime",
            charts.credit_chart(r),
            caption(m, publisher="FRED (ICE BofA HY spread) and Ken French"),
            short="credit sensitivity",
        )
    )
    diff = r.contrasts["diff_annual"].iloc[0]
    s.facts.append(_fact(m, "widening minus tightening, per year", pct(diff)))
    if s.answer:
        s.answer += (
            f" Small minus large is {pct(diff)} a year when HY spreads widen against when "
            "they tighten."
        )


def _vehicle(s: Section, m: Run, r: VehicleReport, **_: Any) -> None:
    s.charts.append(
        Chart(
            "chart-vehicle",
            f"{r.fund_name} total return minus the {r.index_name} price index, by year "
            "(the gap is mostly the dividends a price index leaves out)",
            charts.tracking_chart(r),
            caption(m, publisher="Yahoo Finance and iShares"),
            short="tracking by year",
        )
    )
    s.charts.append(
        Chart(
            "chart-beta",
            f"{r.fund_name}: rolling beta to {r.market_name}",
            charts.beta_chart(r),
            caption(m, publisher="Yahoo Finance"),
            short=f"rolling beta to {r.market_name}",
        )
    )
    full = r.full_years()
    td = full["tracking_difference"].mean()
    s.answer = (
        f"{r.fund_name} returned {pct(td, '+.2%')} a year more than the {r.index_name} price "
        f"index over {len(full)} full years: its total return counts dividends, the index's "
        f"price return does not (expense ratio {pct(r.expense_ratio, '.2%')}); it is "
        f"{pct(r.current_drawdown)} from its high."
    )
    s.facts += [
        _fact(m, "total return minus index price return, per year", pct(td, "+.2%")),
        _fact(m, "expense ratio", pct(r.expense_ratio, ".2%")),
        _fact(m, "from the high now", pct(r.current_drawdown)),
        _fact(m, f"beta to {r.market_name} (last year)", num(r.beta.iloc[-1])),
    ]
    s.tables.append(
        _table(
            f"Deepest drawdowns of {r.fund_name}",
            r.drawdowns,
            {
                "peak": day,
                "trough": day,
                "depth": lambda v: pct(v, ".0%"),
                "recovered": day,
                "days_to_recover": lambda v: "" if pd.isna(v) else f"{int(v)}",
            },
        )
    )


DECORATORS: dict[str, Callable[..., None]] = {
    "size.cycles": _size_cycles,
    "size.premium": _size_premium,
    "valuation.gap": _valuation,
    "concentration.top": _concentration,
    "fed.path": _fed_path,
    "fed.cycles": _fed_cycles,
    "fed.event_study": _event_study,
    "macro.regime": _macro,
    "rates.sensitivity": _rates,
    "risk.credit": _credit,
    "vehicle.tracking": _vehicle,
}


def decorate(s: Section, study: Study, failed: Sequence[Outcome] = ()) -> Section:
    """Add charts, facts, tables, takeaways and what is missing to a measured section.

    ``failed`` are the refresh outcomes that failed: a section using a series one of them
    feeds says so, with the age of the stored data and the fix (the exception's hint).
    """
    for m in s.measurements:
        for o in failed:
            used = [r for r in m.provenance if feeds(o.spec.kind, o.spec.name, str(r["series_id"]))]
            if used:
                fetched = min(str(r["fetched_at"])[:10] for r in used)
                s.missing.append(
                    f"{o.spec} could not be refreshed ({o.status}); using the stored data "
                    f"fetched {fetched}. To update: {o.hint}."
                )
        if m.result is None:
            s.missing.append(f"{m.name}: {m.error}")
            wanted = m.error.name if isinstance(m.error, UnknownSeriesError) else None
            s.missing.extend(
                f"{o.spec} could not be fetched: {o.status}. To supply it: {o.hint}."
                for o in failed
                if wanted is not None and feeds(o.spec.kind, o.spec.name, wanted)
            )
            continue
        summary = m.result.summary()
        lines = [x for x in summary.splitlines() if x.strip()]
        s.takeaways.append(lines[0] if lines else "")
        s.details.append((m.name, summary))
        method = getattr(m.result, "method", "")
        if method:
            s.definitions.append((m.name, method))
        try:
            DECORATORS[m.name](s, m, m.result, study=study)
        except SmallcapsError as exc:
            s.missing.append(f"{m.name}: {exc}")
    if not s.answer and s.takeaways:
        s.answer = s.takeaways[0]
    return s


# -- backtest ------------------------------------------------------------------------------

OPS_WORDS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "==": "equal to"}


def _words(name: str) -> str:
    return name.replace("_", " ").replace(".", " ").strip()


def variant_words(bt: BacktestResult) -> dict[str, str]:
    """Each variant's name (``rule[k=v,...]``) in words: the rule and its conditions.

    ``first_cut_when_cheap[periods_since_first_cut.threshold=24,valuation_z.threshold=0]``
    becomes "first cut when cheap (periods since first cut below 24, valuation z at least 0)".
    """
    out = {}
    for v in bt.variants:
        conds = []
        for c in v.conditions:
            varied = {k.split(".")[-1] for k in v.params}  # the grid's parameters, not defaults
            extra = "".join(f", {_words(k)} {_num_words(x)}" for k, x in c.params if k in varied)
            op = OPS_WORDS.get(c.op, c.op)
            conds.append(f"{_words(c.signal)} {op} {_num_words(c.threshold)}{extra}")
        out[v.name] = f"{_words(v.rule)} ({'; '.join(conds)})" if conds else _words(v.rule)
    return out


def _num_words(x: Any) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


FREQ = {"M": "monthly", "D": "daily"}


def backtest_section(bt: BacktestResult | None, error: str | None = None) -> Section:
    """The backtest section from a :class:`~smallcaps.backtest.BacktestResult` (or why not)."""
    s = Section(
        "backtest",
        "Backtest: acting on the thesis",
        "Would rotating between small caps, large caps and cash on these rules have paid, "
        "after costs and allowing for the many variants tried?",
    )
    if bt is None:
        s.missing.append(f"backtest: {error or 'not run'}")
        return s
    costs = bt.ruleset.costs
    s.takeaways.append(
        f"{bt.ruleset.title}: {len(bt.variants)} variants, "
        f"{FREQ.get(bt.frequency, bt.frequency)} from {bt.dates[0]:%Y-%m-%d} to "
        f"{bt.dates[-1]:%Y-%m-%d}; costs {float(costs.bps)} bp per trade, signal lag "
        f"{costs.lag}."
    )
    rob = bt.robustness
    names = variant_words(bt)
    best = bt.best_row
    s.answer = (
        f"The best of {len(bt.variants)} variants, {names.get(best.name, best.name)}, made "
        f"{pct(best.cagr)} a year (Sharpe {num(best.sharpe)}); it "
        f"{'was not judged' if rob is None else rob.word} the overfitting checks."
    )
    s.extras["_verdict"] = "n/a" if rob is None else rob.word
    s.extras["_reasons"] = [] if rob is None else list(rob.reasons)
    more = f" and {len(bt.sources) - 3} more series" if len(bt.sources) > 3 else ""
    tip = f"rules file {bt.ruleset.path}; " + "; ".join(bt.sources[:3]) + more
    read = f"rules file {bt.ruleset.path}\n" + provenance_tip(bt.provenance)
    s.facts += [
        Fact("robustness verdict", s.extras["_verdict"], read),
        Fact("deflated Sharpe ratio", num(None if rob is None else rob.dsr.dsr), read),
        Fact("probability of overfitting", pct(None if rob is None else rob.pbo.pbo, ".0%"), read),
        Fact(
            "SPA p-value",
            num(None if rob is None or rob.spa is None else rob.spa.p_consistent, ".3f"),
            read,
        ),
        Fact(
            "walk-forward out-of-sample Sharpe",
            num(None if rob is None else rob.walk_forward.oos_sharpe),
            read,
        ),
    ]
    metrics: dict[str, Callable[[float], str]] = {
        "cagr": pct,
        "vol": lambda v: pct(v, ".1%"),
        "sharpe": num,
        "max_dd": pct,
        "turnover": lambda v: num(v, ".1f"),
        "time_small": lambda v: pct(v, ".0%"),
    }
    rows = [
        (b.name, "benchmark", *(f(getattr(b, k)) for k, f in metrics.items()))
        for b in bt.benchmark_rows
    ] + [
        (names.get(b.name, b.name), b.rule, *(f(getattr(b, k)) for k, f in metrics.items()))
        for b in bt.top
    ]
    s.tables.append(Table("Best variants and benchmarks", ("name", "rule", *metrics), tuple(rows)))
    if not bt.equity.empty:
        s.charts.append(
            Chart(
                "chart-equity",
                "Growth of 1 invested: the best variant against the benchmarks",
                charts.equity_chart(bt, names),
                "Source: " + tip,
                short="equity curves",
            )
        )
    if not bt.drawdown.empty:
        s.charts.append(
            Chart(
                "chart-drawdown",
                "Drawdowns from the previous high",
                charts.drawdown_chart(bt, names),
                "Source: " + tip,
                short="drawdowns",
            )
        )
    for i, grid in enumerate(bt.grids):
        s.charts.append(
            Chart(
                f"chart-grid-{i}",
                f"Sharpe ratio over the parameter grid of the rule {_words(grid.rule)}",
                charts.grid_chart(grid),
                "Each cell is one variant; a robust rule shows a broad area of good cells, "
                "not an isolated peak.",
                short=f"Sharpe grid of {_words(grid.rule)}",
            )
        )
    s.definitions += list(bt.definitions.items())
    s.details += [("note", n) for n in bt.notes]
    return s
