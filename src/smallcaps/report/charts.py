"""Plotly figures of the report: one function per chart, results (or result dicts) in.

Every figure uses the same light layout, readable at a laptop width; series are thinned
(monthly or weekly) and rounded so the page stays small. No user text goes into a figure.

Figures are plain plotly dicts (:data:`Figure`: traces, shapes and axes in the form plotly's own
``add_*``/``update_*`` calls produce them): building ``go.Figure`` objects, with plotly's
validators and the deep copy of the layout behind every ``add_hline``, cost over a second of
every report. :attr:`smallcaps.report.model.Chart.figure` makes a ``go.Figure`` when one is
wanted.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

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
    from smallcaps.analytics.valuation import LevelInHistory, ValuationReport
    from smallcaps.analytics.vehicle import VehicleReport
    from smallcaps.backtest import BacktestResult, SharpeGrid

SMALL = "#c2410c"  # small caps: burnt orange
LARGE = "#1d4ed8"  # large caps: blue
GREY = "#6b7280"
GREEN = "#15803d"
RED = "#b91c1c"
PALETTE = ("#1d4ed8", "#c2410c", "#15803d", "#7c3aed", "#0e7490", "#b45309", "#be185d", GREY)
GROUP_COLOURS = {"soft landing": GREEN, "recession": RED, "pending": "#7c3aed"}
#: A plotly figure as a dict: ``{"data": [trace, ...], "layout": {...}}``.
Figure = dict[str, Any]
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

# where add_hline's annotation_position puts the text: x, xanchor, yanchor
_ANNOTATION_AT = {
    "bottom left": (0, "left", "top"),
    "bottom right": (1, "right", "top"),
    "top left": (0, "left", "bottom"),
    "top right": (1, "right", "bottom"),
}


@cache
def _template() -> dict[str, Any]:
    """plotly_white as a dict, read once from plotly's package data (as ``pio.templates`` does)."""
    import json
    import pkgutil

    data = pkgutil.get_data("plotly", "package_data/templates/plotly_white.json")
    if data is None:  # pragma: no cover - a plotly without its templates
        import plotly.io as pio

        return dict(pio.templates["plotly_white"].to_plotly_json())
    return dict(json.loads(data))


def _trace(kind: str, **props: Any) -> dict[str, Any]:
    """A trace dict; ``None`` means unset, as in plotly's constructors."""
    return {"type": kind, **{k: v for k, v in props.items() if v is not None}}


def _hline(
    y: Any,
    *,
    axis: str = "",
    text: str | None = None,
    position: str = "top right",
    **line: Any,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A horizontal line across a subplot (``axis`` "", "2", ...) and its label, as add_hline."""
    shape = {"type": "line", "x0": 0, "x1": 1, "xref": f"x{axis} domain", "y0": y, "y1": y,
             "yref": f"y{axis}", "line": line}  # fmt: skip
    if text is None:
        return shape, None
    x, xanchor, yanchor = _ANNOTATION_AT[position]
    note = {"showarrow": False, "text": text, "x": x, "xanchor": xanchor,
            "xref": f"x{axis} domain", "y": y, "yanchor": yanchor, "yref": f"y{axis}"}  # fmt: skip
    return shape, note


def _figure(
    data: list[dict[str, Any]],
    *,
    height: int = 380,
    shapes: list[dict[str, Any]] | None = None,
    annotations: list[dict[str, Any]] | None = None,
    **layout: Any,
) -> Figure:
    """One figure in the report's light layout; ``layout`` keys replace the defaults."""
    base: dict[str, Any] = {
        "template": _template(),
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
        "font": {"family": FONT, "size": 13, "color": "#1f2937"},
        "legend": {
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.02,
            "x": 0,
            "font": {"size": 12},
        },
        "hovermode": "x unified",
    }
    if shapes:
        base["shapes"] = shapes
    if annotations:
        base["annotations"] = annotations
    return {"data": data, "layout": {**base, **layout}}


def _lines(*pairs: tuple[dict[str, Any], dict[str, Any] | None]) -> dict[str, Any]:
    """``shapes`` and ``annotations`` layout keys of some :func:`_hline` results."""
    out: dict[str, Any] = {"shapes": [s for s, _ in pairs]}
    notes = [n for _, n in pairs if n is not None]
    if notes:
        out["annotations"] = notes
    return out


def _dates(index: pd.Index) -> list[str]:
    return list(pd.DatetimeIndex(index).strftime("%Y-%m-%d"))  # vectorised: 30x a loop


def _vals(values: Any, digits: int = 5) -> np.ndarray:
    return np.round(np.asarray(values, dtype=float), digits)


def thin(s: pd.Series | pd.DataFrame, rule: str = "W-FRI") -> pd.Series | pd.DataFrame:
    """Last value per period (``W-FRI`` weekly, ``ME`` monthly) when a series is long and daily."""
    if len(s) < 1500:
        return s
    return s.resample(rule).last().dropna(how="all")


# -- structural cycles -----------------------------------------------------------------------


def wealth_chart(cycles: SizeCycles) -> Figure:
    """Relative wealth of small versus large on a log scale, leadership cycles shaded.

    ``cycles`` is a :class:`smallcaps.analytics.cycles.SizeCycles`.
    """
    w = cycles.wealth.dropna()

    def band(x0: object, x1: object, leader: str, opacity: float) -> dict[str, object]:
        colour = SMALL if leader == "small" else LARGE
        return {"type": "rect", "xref": "x", "yref": "y domain", "x0": x0, "x1": x1,
                "y0": 0, "y1": 1, "fillcolor": colour, "opacity": opacity,
                "line": {"width": 0}, "layer": "above"}  # fmt: skip

    shapes = [band(r.start, r.end, r.leader, 0.08) for r in cycles.cycles.itertuples()]
    shapes.append(band(cycles.start, cycles.last_date, cycles.leader, 0.22))
    note = {
        "x": cycles.start,
        "y": 1.0,
        "yref": "paper",
        "xanchor": "right",
        "yanchor": "top",
        "showarrow": False,
        "bgcolor": "rgba(255,255,255,0.85)",
        "font": {"size": 12},
        "text": (
            f"now: {cycles.leader} caps lead since {cycles.start:%Y-%m} "
            f"({cycles.age_months:.0f} months, {cycles.move:+.0%}) →"
        ),
    }
    data = [
        _trace(
            "scatter",
            x=_dates(w.index),
            y=_vals(w),
            name=f"small / large ({cycles.small_name} / {cycles.large_name})",
            line={"color": "#111827", "width": 1.6},
            hovertemplate="%{x|%Y-%m}: %{y:.3g}<extra></extra>",
        )
    ]
    data += [  # legend entries for the shading
        _trace(
            "scatter",
            x=[None],
            y=[None],
            mode="markers",
            marker={"size": 12, "color": colour, "opacity": 0.35, "symbol": "square"},
            name=f"{leader} caps lead",
        )
        for leader, colour in (("small", SMALL), ("large", LARGE))
    ]
    return _figure(
        data,
        height=420,
        shapes=shapes,
        annotations=[note],
        xaxis={
            "range": [f"{w.index[0]:%Y-%m-%d}", f"{w.index[-1]:%Y-%m-%d}"],
            "title": {"text": "month"},
        },
        yaxis={"type": "log", "title": {"text": "small / large, growth of 1 (log scale)"}},
    )


def premium_chart(premium: SizePremium) -> Figure:
    """Rolling annualised size premium (e.g. 10 years), per series, with a zero line."""
    roll = premium.rolling.dropna(how="all")
    data = []
    for i, col in enumerate(roll.columns):
        s = roll[col].dropna()
        data.append(
            _trace(
                "scatter",
                x=_dates(s.index),
                y=_vals(s),
                name=str(col),
                line={"color": PALETTE[i % len(PALETTE)], "width": 1.5},
                hovertemplate="%{y:+.1%}",
            )
        )
    return _figure(
        data,
        height=320,
        **_lines(_hline(0, color=GREY, width=1)),
        xaxis={"title": {"text": "end of the rolling window (month)"}},
        yaxis={
            "tickformat": "+.0%",
            "title": {"text": f"small minus large, % a year ({premium.window // 12}y rolling)"},
        },
    )


# -- valuation -------------------------------------------------------------------------------


def valuation_chart(val: ValuationReport) -> Figure:
    """Small caps' P/B discount over time, today's level and percentile, the claimed level.

    ``val`` is a :class:`smallcaps.analytics.valuation.ValuationReport`.
    """
    gap = val.gap
    d = gap.discounts.dropna()
    data = [
        _trace(
            "scatter",
            x=_dates(d.index),
            y=_vals(d, 4),
            name=f"{gap.ratio} discount of small vs large (June ratios)",
            line={"color": SMALL, "width": 1.6},
            hovertemplate="%{y:.0%}",
        )
    ]
    if val.updated is not None:
        u = val.updated.discounts.dropna()
        data.append(
            _trace(
                "scatter",
                x=_dates(u.index),
                y=_vals(u, 4),
                name="rolled forward with returns (estimate)",
                line={"color": GREY, "width": 1, "dash": "dot"},
                hovertemplate="%{y:.0%}",
            )
        )
    lines = [_hline(gap.discount, color=SMALL, dash="dash", width=1)]
    now = {  # the label sits on the last point, where its figure is
        "x": f"{d.index[-1]:%Y-%m-%d}",
        "y": float(d.iloc[-1]),
        "xref": "x",
        "yref": "y",
        "text": f"{gap.date:%Y-%m}: {gap.discount:.0%}, percentile {gap.percentile:.0%}",
        "showarrow": True,
        "arrowhead": 0,
        "ax": -60,
        "ay": -28,
        "xanchor": "right",
        "bgcolor": "rgba(255,255,255,0.85)",
        "font": {"size": 12},
    }
    if val.claim_discount is not None:
        lines.append(
            _hline(
                val.claim_discount,
                color=GREY,
                dash="dot",
                width=1,
                text=f"claimed {val.claim_discount:.0%}",
                position="top right",
            )
        )
    drawn = _lines(*lines)
    drawn["annotations"] = [*drawn.get("annotations", []), now]
    return _figure(
        data,
        **drawn,
        xaxis={"title": {"text": "month"}},
        yaxis={
            "tickformat": ".0%",
            "title": {
                "text": f"{'P/B' if gap.ratio == 'B/M' else 'P/E'} discount of small to large caps"
            },
        },
    )


def cape_chart(cape: LevelInHistory) -> Figure:
    """Shiller CAPE of the S&P composite with its median."""
    s = cape.series.dropna()
    trace = _trace(
        "scatter",
        x=_dates(s.index),
        y=_vals(s, 2),
        name="CAPE",
        line={"color": LARGE, "width": 1.4},
        hovertemplate="%{y:.1f}",
    )
    median = _hline(
        cape.median,
        dash="dot",
        color=GREY,
        text=f"median {cape.median:.1f}",
        position="bottom right",
    )
    return _figure(
        [trace],
        height=300,
        showlegend=False,
        **_lines(median),
        xaxis={"title": {"text": "month"}},
        yaxis={"title": {"text": "CAPE, S&P composite (times earnings)"}},
    )


# -- concentration ---------------------------------------------------------------------------


def concentration_chart(conc: Concentration) -> Figure:
    """Each top name's share of the index's gain (bars), their total and the claimed share."""
    t = conc.table.sort_values("share", ascending=True)
    bars = _trace(
        "bar",
        x=_vals(t["share"], 4),
        y=[str(n) for n in t.index],
        orientation="h",
        marker={"color": LARGE},
        text=[f"{v:.1%}" for v in t["share"]],
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{y}: %{x:.1%} of the gain<extra></extra>",
        name="share of the index's gain",
    )
    return _figure(
        [bars],
        height=340,
        showlegend=False,
        hovermode="closest",
        title={
            "text": (
                f"together {conc.share:.0%} of {conc.index_name}'s {conc.index_return:+.0%} "
                f"({conc.start:%Y-%m-%d} to {conc.end:%Y-%m-%d})"
            ),
            "font": {"size": 14},
            "x": 0,
        },
        xaxis={
            "tickformat": ".0%",
            "title": {"text": "share of the index's gain (%)"},
            "range": [0, round(float(t["share"].max()) * 1.15, 4)],
        },
        yaxis={"title": {"text": "company (ticker)"}},
    )


# -- macro and Fed ---------------------------------------------------------------------------


def fed_chart(path: FedPath, cycles: EasingCycles | None = None) -> Figure:
    """Fed funds target (step line), first cuts of easing cycles marked."""
    p = path.path
    col = p["target"].astype(float)
    keep = col.ne(col.shift()) | (np.arange(len(col)) == len(col) - 1)
    s = col[keep].dropna()
    data = [
        _trace(
            "scatter",
            x=_dates(s.index),
            y=_vals(s, 3),
            name="target (upper limit since 2008)",
            line={"color": LARGE, "width": 1.5, "shape": "hv"},
            hovertemplate="%{x|%Y-%m-%d}: %{y:.2f}%<extra></extra>",
        )
    ]
    if cycles is not None and len(cycles.cycles):
        c = cycles.cycles
        first = pd.DatetimeIndex(c["first_cut"])
        level = col.reindex(first, method="ffill")
        colours = [GROUP_COLOURS.get(str(o), GREY) for o in c.get("outcome", [""] * len(c))]
        data.append(
            _trace(
                "scatter",
                x=_dates(first),
                y=_vals(level, 3),
                mode="markers",
                marker={"color": colours, "size": 9, "symbol": "triangle-down"},
                name="first cut (green soft landing, red recession, purple pending)",
                text=[str(o) for o in c.get("outcome", [""] * len(c))],
                hovertemplate="first cut %{x|%Y-%m-%d}: %{text}<extra></extra>",
            )
        )
    return _figure(
        data,
        height=320,
        hovermode="closest",
        xaxis={"title": {"text": "date"}},
        yaxis={"title": {"text": "fed funds target (% a year)"}},
    )


def _band(x: list[Any], low: Any, high: Any, colour: str, name: str) -> list[dict[str, Any]]:
    """A shaded band between ``low`` and ``high`` (two traces, the second filled to the first)."""
    return [
        _trace("scatter", x=x, y=_vals(high), line={"width": 0}, showlegend=False,
               hoverinfo="skip"),
        _trace("scatter", x=x, y=_vals(low), fill="tonexty", fillcolor=colour,
               line={"width": 0}, name=name, hoverinfo="skip"),
    ]  # fmt: skip


def event_chart(paths: EventPaths, study: EventStudy | None = None) -> Figure:
    """Small-minus-large around each first cut: events, mean, its interval, placebo band."""
    x = paths.offsets.tolist()
    conf = f"{paths.conf:.0%}"
    data = _band(x, paths.placebo_low, paths.placebo_high, "rgba(107,114,128,0.18)",
                 f"placebo {conf} band")  # fmt: skip
    for d in paths.paths.columns:
        g = str(paths.groups.get(d, ""))
        data.append(
            _trace(
                "scatter",
                x=x,
                y=_vals(paths.paths[d]),
                mode="lines",
                line={"color": GROUP_COLOURS.get(g, GREY), "width": 0.7},
                opacity=0.22,
                name=f"{d:%Y-%m-%d} ({g})",
                showlegend=False,
                hovertemplate=f"{d:%Y-%m-%d} ({g}) day %{{x}}: %{{y:+.1%}}<extra></extra>",
            )
        )
    data += _band(x, paths.ci_low, paths.ci_high, "rgba(194,65,12,0.20)",
                  f"{conf} interval of the mean")  # fmt: skip
    data.append(
        _trace(
            "scatter",
            x=x,
            y=_vals(paths.mean),
            line={"color": SMALL, "width": 2.5},
            name=f"mean of {paths.paths.shape[1]} first cuts",
            hovertemplate="day %{x}: mean %{y:+.1%}<extra></extra>",
        )
    )
    groups = set(paths.groups.astype(str))
    data += [
        _trace(
            "scatter",
            x=[None],
            y=[None],
            mode="lines",
            opacity=0.4,
            line={"color": colour, "width": 1},
            name=f"one first cut ({g})",
        )
        for g, colour in GROUP_COLOURS.items()
        if g in groups
    ]
    zero, _ = _hline(0, color=GREY, width=1)
    start = {"type": "line", "x0": 0, "x1": 0, "xref": "x", "y0": 0, "y1": 1,
             "yref": "y domain", "line": {"color": GREY, "width": 1, "dash": "dot"}}  # fmt: skip
    bands = np.concatenate(
        [np.asarray(b, dtype=float) for b in (paths.ci_low, paths.ci_high, paths.placebo_low,
                                               paths.placebo_high, paths.mean)]
    )  # fmt: skip
    bands = bands[np.isfinite(bands)]
    yrange = {}
    if bands.size:  # zoom on the mean and its bands; single events run off the scale, faint
        lo, hi = float(bands.min()), float(bands.max())
        pad = max(0.5 * (hi - lo), 0.01)
        yrange = {"range": [round(lo - pad, 4), round(hi + pad, 4)]}
    return _figure(
        data,
        height=440,
        hovermode="closest",
        shapes=[zero, start],
        xaxis={"title": {"text": "trading days from the last close before the announcement"}},
        yaxis={
            "tickformat": "+.0%",
            "title": {"text": "small minus large, cumulative (%)"},
            **yrange,
        },
    )


def _grid_domains(
    rows: int, cols: int, hspace: float, vspace: float
) -> list[tuple[list[float], list[float]]]:
    """Domains (x, y) of a grid's cells, row by row from the top, as make_subplots has them."""
    widths = [(1.0 - hspace * (cols - 1)) / cols] * cols
    heights = [(1.0 - vspace * (rows - 1)) / rows] * rows
    out = []
    for r in range(rows):
        up = rows - 1 - r  # rows below this one
        y0 = sum(heights[:up]) + up * vspace
        y1 = y0 + heights[-1 - r]
        for c in range(cols):
            x0 = sum(widths[:c]) + c * hspace
            out.append(([x0, x0 + widths[c]], [max(y0, 0.0), min(y1, 1.0)]))
    return out


def macro_chart(macro: MacroRegime) -> Figure:
    """Four panels with units: unemployment, GDP growth, the HY spread and the 2s10s curve.

    GDP's axis is clipped (2020 would flatten every other quarter); the HY spread has its own
    panel and span (FRED serves three years of it). NFCI stays in the indicators table.
    """
    h = macro.history
    titles = (
        ("unemployment rate and Sahm gap", "month", "percent / pp"),
        ("real GDP growth (2020 off the scale)", "quarter", "% (y/y; q/q annualised)"),
        ("high-yield spread (ICE BofA OAS)", "day", "pp over Treasuries"),
        ("10-year minus 2-year Treasury yield", "day", "pp"),
    )
    axes: dict[str, Any] = {}
    notes = []
    for i, ((xd, yd), (title, xunit, yunit)) in enumerate(
        zip(_grid_domains(2, 2, 0.09, 0.2), titles, strict=True)
    ):
        n = "" if i == 0 else str(i + 1)
        small = {"font": {"size": 11}, "standoff": 4}
        axes[f"xaxis{n}"] = {"anchor": f"y{n}", "domain": xd, "title": {"text": xunit, **small}}
        axes[f"yaxis{n}"] = {"anchor": f"x{n}", "domain": yd, "title": {"text": yunit, **small}}
        notes.append({"font": {"size": 13}, "showarrow": False, "text": title,
                      "x": sum(xd) / 2.0, "xanchor": "center", "xref": "paper",
                      "y": yd[1], "yanchor": "bottom", "yref": "paper"})  # fmt: skip
    panels = [
        (1, "unrate", "unemployment (%)", LARGE, 3),
        (1, "sahm", "Sahm gap (pp)", RED, 3),
        (2, "gdp_yoy", "GDP y/y (%)", GREEN, 3),
        (2, "gdp_qoq_ann", "GDP q/q annualised (%)", GREY, 3),
        (3, "hy_oas", "HY spread (pp)", SMALL, 3),
        (4, "curve_2s10s", "2s10s (pp)", "#0e7490", 3),
    ]
    data = []
    for panel, name, label, colour, digits in panels:
        if name not in h:
            continue
        s = h[name].dropna()
        if s.empty:
            continue
        n = "" if panel == 1 else str(panel)
        data.append(
            _trace(
                "scatter",
                x=_dates(s.index),
                y=_vals(s, digits),
                name=label,
                line={"color": colour, "width": 1.3 if panel != 2 or "yoy" in name else 0.8},
                hovertemplate=f"{label} %{{x|%Y-%m}}: %{{y:.2f}}<extra></extra>",
                xaxis=f"x{n}",
                yaxis=f"y{n}",
            )
        )
    growth = [h[c].dropna() for c in ("gdp_yoy", "gdp_qoq_ann") if c in h]
    growth = [g for g in growth if not g.empty]
    if growth:  # 2020's -28% and +35% would flatten every other quarter: clip the axis
        both = pd.concat(growth).to_numpy(dtype=float)
        lo, hi = np.nanpercentile(both, [1, 99])
        pad = 0.1 * (hi - lo)
        axes["yaxis2"]["range"] = [round(float(lo - pad), 1), round(float(hi + pad), 1)]
    zeros = [_hline(0, axis="" if p == 1 else str(p), color=GREY, width=0.8)[0] for p in (1, 2, 4)]
    return _figure(
        data,
        height=600,
        hovermode="closest",
        margin={"l": 60, "r": 20, "t": 40, "b": 80},
        legend={"orientation": "h", "yanchor": "top", "y": -0.1, "x": 0},
        shapes=zeros,
        annotations=notes,
        **axes,
    )


def rates_chart(rates: RateSensitivity) -> Figure:
    """Rolling coefficient of small-minus-large on a parallel +100 bp shift, with +-2 s.e."""
    r = rates.rolling.dropna(subset=["parallel_coef"])
    x = _dates(pd.DatetimeIndex(r["end"]))
    coef = r["parallel_coef"].to_numpy(dtype=float)
    se = np.abs(coef / r["parallel_t"].to_numpy(dtype=float))
    data = [
        _trace(
            "scatter", x=x, y=_vals(coef + 2 * se), line={"width": 0}, showlegend=False,
            hoverinfo="skip",
        ),
        _trace(
            "scatter",
            x=x,
            y=_vals(coef - 2 * se),
            fill="tonexty",
            fillcolor="rgba(29,78,216,0.15)",
            line={"width": 0},
            name="+-2 HAC standard errors",
            hoverinfo="skip",
        ),
        _trace(
            "scatter",
            x=x,
            y=_vals(coef),
            name=f"rolling {rates.window}-period coefficient: parallel +100 bp",
            line={"color": LARGE, "width": 1.8},
            hovertemplate="%{x|%Y-%m}: %{y:+.2%}<extra></extra>",
        ),
    ]  # fmt: skip
    return _figure(
        data,
        height=340,
        hovermode="closest",
        **_lines(_hline(0, color=GREY, width=1)),
        xaxis={"title": {"text": "end of the rolling window"}},
        yaxis={"tickformat": "+.1%", "title": {"text": "small minus large per +100 bp (%)"}},
    )


def credit_chart(credit: CreditRegimes) -> Figure:
    """Annualised small-minus-large by HY-spread regime (bars)."""
    t = credit.table
    labels = [f"{s}: {g}" for s, g in zip(t["split"], t["regime"], strict=True)]
    vals = t["sml_annual"].to_numpy(dtype=float)
    bars = _trace(
        "bar",
        x=labels,
        y=_vals(vals, 4),
        marker={"color": [GREEN if v >= 0 else RED for v in vals]},
        text=[f"{v:+.1%} (t={tt:+.1f})" for v, tt in zip(vals, t["sml_t"], strict=True)],
        textposition="outside",
        hovertemplate="%{x}: %{y:+.1%} per year<extra></extra>",
    )
    return _figure(
        [bars],
        height=320,
        showlegend=False,
        hovermode="closest",
        xaxis={"title": {"text": "HY-spread regime (split: regime)"}},
        yaxis={"tickformat": "+.0%", "title": {"text": "small minus large, % a year"}},
    )


# -- vehicle ---------------------------------------------------------------------------------


def tracking_chart(veh: VehicleReport) -> Figure:
    """IWM minus the index by calendar year (bars), full years solid."""
    t = veh.tracking
    full = t["full"].astype(bool).to_numpy()
    td = t["tracking_difference"].to_numpy(dtype=float)
    bars = _trace(
        "bar",
        x=[str(y) for y in t.index],
        y=_vals(td, 5),
        marker={"color": [LARGE if f else "#93c5fd" for f in full]},
        hovertemplate="%{x}: %{y:+.2%}<extra></extra>",
        name="tracking difference",
    )
    fee = _hline(
        -veh.expense_ratio,
        dash="dot",
        color=RED,
        text=f"- expense ratio {veh.expense_ratio:.2%}",
        position="bottom right",
    )
    return _figure(
        [bars],
        height=320,
        showlegend=False,
        hovermode="closest",
        **_lines(fee),
        xaxis={"title": {"text": "calendar year (light: part of a year)"}},
        yaxis={
            "tickformat": "+.1%",
            "title": {"text": f"{veh.fund_name} total return - {veh.index_name} price (%)"},
        },
    )


def beta_chart(veh: VehicleReport) -> Figure:
    """Rolling beta of the fund to the market, weekly."""
    b = thin(veh.beta.dropna())
    trace = _trace(
        "scatter",
        x=_dates(b.index),
        y=_vals(b, 3),
        name=f"rolling {veh.window}-day beta to {veh.market_name}",
        line={"color": SMALL, "width": 1.4},
        hovertemplate="%{x|%Y-%m-%d}: %{y:.2f}<extra></extra>",
    )
    return _figure(
        [trace],
        height=300,
        hovermode="closest",
        **_lines(_hline(1, color=GREY, width=1)),
        xaxis={"title": {"text": "date (weekly)"}},
        yaxis={"title": {"text": f"beta to {veh.market_name}"}},
    )


# -- backtest (from a BacktestResult) ------------------------------------------------------------


def _curves(
    frame: pd.DataFrame, *, width: float, hover: str, names: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """One line per column of a frame of curves on dates (thinned for the page).

    ``names`` gives a column's legend name (a variant's rule and parameters in words).
    """
    f = thin(frame.astype(float))
    names = names or {}
    data = []
    for i, col in enumerate(f.columns):
        s = f[col].dropna()
        data.append(
            _trace(
                "scatter",
                x=_dates(s.index),
                y=_vals(s, 4),
                name=names.get(str(col), str(col)),
                line={"color": PALETTE[i % len(PALETTE)], "width": width},
                hovertemplate=hover,
            )
        )
    return data


def equity_chart(bt: BacktestResult, names: dict[str, str] | None = None) -> Figure:
    """Equity curves of the best variant and the benchmarks (log scale)."""
    return _figure(
        _curves(bt.equity, width=1.5, hover="%{y:.3g}", names=names),
        height=400,
        xaxis={"title": {"text": "date"}},
        yaxis={"type": "log", "title": {"text": "growth of 1 (log scale)"}},
    )


def drawdown_chart(bt: BacktestResult, names: dict[str, str] | None = None) -> Figure:
    """Drawdowns of the same curves."""
    return _figure(
        _curves(bt.drawdown, width=1.2, hover="%{y:.0%}", names=names),
        height=300,
        xaxis={"title": {"text": "date"}},
        yaxis={"tickformat": ".0%", "title": {"text": "drawdown from the high (%)"}},
    )


def _axis_words(name: str) -> str:
    """A grid axis in words: ``valuation_z.threshold`` -> ``valuation z: threshold``."""
    head, _, tail = str(name).rpartition(".")
    words = tail.replace("_", " ")
    return f"{head.replace('_', ' ')}: {words}" if head else words


@cache
def _colorscale(name: str) -> list[Any]:
    """A named plotly colour scale as the [position, colour] pairs plotly writes for it."""
    from _plotly_utils.basevalidators import ColorscaleValidator

    return list(ColorscaleValidator("colorscale", "heatmap").validate_coerce(name))


def grid_chart(grid: SharpeGrid) -> Figure:
    """Heatmap of Sharpe ratios over a rule's two-parameter grid."""
    z = np.asarray(grid.sharpe, dtype=float)
    xs = [str(v) for v in grid.x_values]
    ys = [str(v) for v in grid.y_values]
    finite = z[np.isfinite(z)] if z.size else z
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    both_signs = lo < 0 < hi  # diverging around 0 only when the grid has both signs
    heat = _trace(
        "heatmap",
        z=np.round(z, 3),
        x=xs,
        y=ys,
        colorscale=_colorscale("RdBu" if both_signs else "Viridis"),
        zmid=0 if both_signs else None,
        texttemplate="%{z:.2f}",
        colorbar={"title": {"text": "Sharpe"}},
        hovertemplate=(f"{grid.x}=%{{x}}, {grid.y}=%{{y}}: Sharpe %{{z:.2f}}<extra></extra>"),
    )
    return _figure(
        [heat],
        height=300,
        hovermode="closest",
        xaxis={"title": {"text": _axis_words(grid.x)}, "type": "category"},
        yaxis={"title": {"text": _axis_words(grid.y)}, "type": "category"},
    )
