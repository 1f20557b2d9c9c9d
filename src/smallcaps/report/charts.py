"""Plotly figures of the report: one function per chart, results (or result dicts) in.

Every figure uses the same light layout, readable at a laptop width; series are thinned
(monthly or weekly) and rounded so the page stays small. No user text goes into a figure.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

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
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


@cache
def _template() -> Any:
    """plotly_white, built once: naming it by string rebuilds it for every figure."""
    import plotly.io as pio

    return pio.templates["plotly_white"]


def _layout(fig: go.Figure, *, height: int = 380, **kw: Any) -> go.Figure:
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
    fig.update_layout(**{**base, **kw})
    return fig


def _dates(index: pd.Index) -> list[str]:
    return [f"{d:%Y-%m-%d}" for d in pd.DatetimeIndex(index)]


def _vals(values: Any, digits: int = 5) -> np.ndarray:
    return np.round(np.asarray(values, dtype=float), digits)


def thin(s: pd.Series | pd.DataFrame, rule: str = "W-FRI") -> pd.Series | pd.DataFrame:
    """Last value per period (``W-FRI`` weekly, ``ME`` monthly) when a series is long and daily."""
    if len(s) < 1500:
        return s
    return s.resample(rule).last().dropna(how="all")


# -- structural cycles -----------------------------------------------------------------------


def wealth_chart(cycles: SizeCycles) -> go.Figure:
    """Relative wealth of small versus large on a log scale, leadership cycles shaded.

    ``cycles`` is a :class:`smallcaps.analytics.cycles.SizeCycles`.
    """
    w = cycles.wealth.dropna()
    fig = go.Figure()

    def band(x0: object, x1: object, leader: str, opacity: float) -> dict[str, object]:
        colour = SMALL if leader == "small" else LARGE
        return {"type": "rect", "xref": "x", "yref": "y domain", "x0": x0, "x1": x1,
                "y0": 0, "y1": 1, "fillcolor": colour, "opacity": opacity,
                "line": {"width": 0}, "layer": "above"}  # fmt: skip

    # one layout update for every band: add_vrect per cycle deep-copies the layout each time
    # (about 2 s for the 30-odd cycles since 1926)
    shapes = [band(r.start, r.end, r.leader, 0.08) for r in cycles.cycles.itertuples()]
    shapes.append(band(cycles.start, cycles.last_date, cycles.leader, 0.22))
    fig.update_layout(shapes=shapes)
    fig.add_annotation(
        x=cycles.start,
        y=1.0,
        yref="paper",
        xanchor="right",
        yanchor="top",
        showarrow=False,
        bgcolor="rgba(255,255,255,0.85)",
        font={"size": 12},
        text=(
            f"now: {cycles.leader} caps lead since {cycles.start:%Y-%m} "
            f"({cycles.age_months:.0f} months, {cycles.move:+.0%}) →"
        ),
    )
    fig.add_trace(
        go.Scatter(
            x=_dates(w.index),
            y=_vals(w),
            name=f"small / large ({cycles.small_name} / {cycles.large_name})",
            line={"color": "#111827", "width": 1.6},
            hovertemplate="%{x|%Y-%m}: %{y:.3g}<extra></extra>",
        )
    )
    for leader, colour in (("small", SMALL), ("large", LARGE)):
        fig.add_trace(  # legend entries for the shading
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"size": 12, "color": colour, "opacity": 0.35, "symbol": "square"},
                name=f"{leader} caps lead",
            )
        )
    _layout(fig, height=420)
    fig.update_xaxes(range=[f"{w.index[0]:%Y-%m-%d}", f"{w.index[-1]:%Y-%m-%d}"])
    fig.update_yaxes(type="log", title_text="relative wealth (log)")
    return fig


def premium_chart(premium: SizePremium) -> go.Figure:
    """Rolling annualised size premium (e.g. 10 years), per series, with a zero line."""
    roll = premium.rolling.dropna(how="all")
    fig = go.Figure()
    for i, col in enumerate(roll.columns):
        s = roll[col].dropna()
        fig.add_trace(
            go.Scatter(
                x=_dates(s.index),
                y=_vals(s),
                name=str(col),
                line={"color": PALETTE[i % len(PALETTE)], "width": 1.5},
                hovertemplate="%{y:+.1%}",
            )
        )
    fig.add_hline(y=0, line_color=GREY, line_width=1)
    _layout(fig, height=320)
    fig.update_yaxes(tickformat="+.0%", title_text=f"rolling {premium.window // 12}y, per year")
    return fig


# -- valuation -------------------------------------------------------------------------------


def valuation_chart(val: ValuationReport) -> go.Figure:
    """Small caps' P/B discount over time, today's level and percentile, the claimed level.

    ``val`` is a :class:`smallcaps.analytics.valuation.ValuationReport`.
    """
    gap = val.gap
    d = gap.discounts.dropna()
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=_dates(d.index),
            y=_vals(d, 4),
            name=f"{gap.ratio} discount of small vs large (June ratios)",
            line={"color": SMALL, "width": 1.6},
            hovertemplate="%{y:.0%}",
        )
    )
    if val.updated is not None:
        u = val.updated.discounts.dropna()
        fig.add_trace(
            go.Scatter(
                x=_dates(u.index),
                y=_vals(u, 4),
                name="rolled forward with returns (estimate)",
                line={"color": GREY, "width": 1, "dash": "dot"},
                hovertemplate="%{y:.0%}",
            )
        )
    fig.add_hline(
        y=gap.discount,
        line_color=SMALL,
        line_dash="dash",
        line_width=1,
        annotation_text=f"{gap.date:%Y-%m}: {gap.discount:.0%}, percentile {gap.percentile:.0%}",
        annotation_position="bottom left",
    )
    if val.claim_discount is not None:
        fig.add_hline(
            y=val.claim_discount,
            line_color=GREY,
            line_dash="dot",
            line_width=1,
            annotation_text=f"claimed {val.claim_discount:.0%}",
            annotation_position="top right",
        )
    _layout(fig)
    fig.update_yaxes(tickformat=".0%", title_text="P/B discount")
    return fig


def cape_chart(cape: LevelInHistory) -> go.Figure:
    """Shiller CAPE of the S&P composite with its median."""
    s = cape.series.dropna()
    fig = go.Figure(
        go.Scatter(
            x=_dates(s.index),
            y=_vals(s, 2),
            name="CAPE",
            line={"color": LARGE, "width": 1.4},
            hovertemplate="%{y:.1f}",
        )
    )
    fig.add_hline(
        y=cape.median,
        line_dash="dot",
        line_color=GREY,
        annotation_text=f"median {cape.median:.1f}",
        annotation_position="bottom right",
    )
    _layout(fig, height=300, showlegend=False)
    fig.update_yaxes(title_text="CAPE (large caps)")
    return fig


# -- concentration ---------------------------------------------------------------------------


def concentration_chart(conc: Concentration) -> go.Figure:
    """Each top name's share of the index's gain (bars), their total and the claimed share."""
    t = conc.table.sort_values("share", ascending=True)
    fig = go.Figure(
        go.Bar(
            x=_vals(t["share"], 4),
            y=[str(n) for n in t.index],
            orientation="h",
            marker_color=LARGE,
            text=[f"{v:.1%}" for v in t["share"]],
            textposition="outside",
            hovertemplate="%{y}: %{x:.1%} of the gain<extra></extra>",
            name="share of the index's gain",
        )
    )
    _layout(
        fig,
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
    )
    fig.update_xaxes(tickformat=".0%", title_text="share of the index's gain")
    return fig


# -- macro and Fed ---------------------------------------------------------------------------


def fed_chart(path: FedPath, cycles: EasingCycles | None = None) -> go.Figure:
    """Fed funds target (step line), first cuts of easing cycles marked."""
    p = path.path
    col = p["target"].astype(float)
    keep = col.ne(col.shift()) | (np.arange(len(col)) == len(col) - 1)
    s = col[keep].dropna()
    fig = go.Figure(
        go.Scatter(
            x=_dates(s.index),
            y=_vals(s, 3),
            name="target (upper limit since 2008)",
            line={"color": LARGE, "width": 1.5, "shape": "hv"},
            hovertemplate="%{x|%Y-%m-%d}: %{y:.2f}%<extra></extra>",
        )
    )
    if cycles is not None and len(cycles.cycles):
        c = cycles.cycles
        first = pd.DatetimeIndex(c["first_cut"])
        level = col.reindex(first, method="ffill")
        colours = [GROUP_COLOURS.get(str(o), GREY) for o in c.get("outcome", [""] * len(c))]
        fig.add_trace(
            go.Scatter(
                x=_dates(first),
                y=_vals(level, 3),
                mode="markers",
                marker={"color": colours, "size": 9, "symbol": "triangle-down"},
                name="first cut (green soft landing, red recession, purple pending)",
                text=[str(o) for o in c.get("outcome", [""] * len(c))],
                hovertemplate="first cut %{x|%Y-%m-%d}: %{text}<extra></extra>",
            )
        )
    _layout(fig, height=320, hovermode="closest")
    fig.update_yaxes(title_text="percent")
    return fig


def _band(fig: go.Figure, x: list[Any], low: Any, high: Any, colour: str, name: str) -> None:
    """A shaded band between ``low`` and ``high`` (two traces, the second filled to the first)."""
    fig.add_trace(go.Scatter(x=x, y=_vals(high), line={"width": 0}, showlegend=False,
                             hoverinfo="skip"))  # fmt: skip
    fig.add_trace(go.Scatter(x=x, y=_vals(low), fill="tonexty", fillcolor=colour,
                             line={"width": 0}, name=name, hoverinfo="skip"))  # fmt: skip


def event_chart(paths: EventPaths, study: EventStudy | None = None) -> go.Figure:
    """Small-minus-large around each first cut: events, mean, its interval, placebo band."""
    x = paths.offsets.tolist()
    fig = go.Figure()
    conf = f"{paths.conf:.0%}"
    _band(fig, x, paths.placebo_low, paths.placebo_high, "rgba(107,114,128,0.18)",
          f"placebo {conf} band")  # fmt: skip
    for d in paths.paths.columns:
        g = str(paths.groups.get(d, ""))
        fig.add_trace(
            go.Scatter(
                x=x,
                y=_vals(paths.paths[d]),
                mode="lines",
                line={"color": GROUP_COLOURS.get(g, GREY), "width": 0.9},
                opacity=0.45,
                name=f"{d:%Y-%m-%d} ({g})",
                legendgroup="events",
                showlegend=False,
                hovertemplate=f"{d:%Y-%m-%d} ({g}) day %{{x}}: %{{y:+.1%}}<extra></extra>",
            )
        )
    _band(fig, x, paths.ci_low, paths.ci_high, "rgba(194,65,12,0.20)",
          f"{conf} interval of the mean")  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=x,
            y=_vals(paths.mean),
            line={"color": SMALL, "width": 2.5},
            name=f"mean of {paths.paths.shape[1]} first cuts",
            hovertemplate="day %{x}: mean %{y:+.1%}<extra></extra>",
        )
    )
    for g, colour in GROUP_COLOURS.items():
        if g in set(paths.groups.astype(str)):
            fig.add_trace(
                go.Scatter(x=[None], y=[None], mode="lines", line={"color": colour}, name=g)
            )
    fig.add_hline(y=0, line_color=GREY, line_width=1)
    fig.add_vline(x=0, line_color=GREY, line_width=1, line_dash="dot")
    _layout(fig, height=460, hovermode="closest")
    fig.update_xaxes(title_text="trading days from the last close before the announcement")
    fig.update_yaxes(tickformat="+.0%", title_text="small minus large")
    return fig


def macro_chart(macro: MacroRegime) -> go.Figure:
    """Four panels: unemployment and the Sahm gap; GDP growth; HY spread and NFCI; 2s10s."""
    h = macro.history
    fig = make_subplots(
        rows=2,
        cols=2,
        shared_xaxes=False,
        vertical_spacing=0.14,
        horizontal_spacing=0.08,
        subplot_titles=(
            "unemployment rate and Sahm gap (pp)",
            "real GDP growth (y/y, q/q annualised)",
            "HY spread (pp) and NFCI",
            "10-year minus 2-year yield (pp)",
        ),
    )
    panels = [
        (1, 1, "unrate", "unemployment", LARGE, 3),
        (1, 1, "sahm", "Sahm gap", RED, 3),
        (1, 2, "gdp_yoy", "GDP y/y", GREEN, 3),
        (1, 2, "gdp_qoq_ann", "GDP q/q ann.", GREY, 3),
        (2, 1, "hy_oas", "HY OAS", SMALL, 3),
        (2, 1, "nfci", "NFCI", "#7c3aed", 3),
        (2, 2, "curve_2s10s", "2s10s", "#0e7490", 3),
    ]
    for row, col, name, label, colour, digits in panels:
        if name not in h:
            continue
        s = h[name].dropna()
        if s.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=_dates(s.index),
                y=_vals(s, digits),
                name=label,
                line={"color": colour, "width": 1.3},
                hovertemplate=f"{label} %{{x|%Y-%m}}: %{{y:.2f}}<extra></extra>",
            ),
            row=row,
            col=col,
        )
    for row, col in ((1, 1), (1, 2), (2, 1), (2, 2)):
        fig.add_hline(y=0, line_color=GREY, line_width=0.8, row=row, col=col)
    _layout(
        fig,
        height=580,
        hovermode="closest",
        margin={"l": 50, "r": 20, "t": 40, "b": 70},
        legend={"orientation": "h", "yanchor": "top", "y": -0.08, "x": 0},
    )
    fig.update_annotations(font_size=13)
    return fig


def rates_chart(rates: RateSensitivity) -> go.Figure:
    """Rolling coefficient of small-minus-large on a parallel +100 bp shift, with +-2 s.e."""
    r = rates.rolling.dropna(subset=["parallel_coef"])
    x = _dates(pd.DatetimeIndex(r["end"]))
    coef = r["parallel_coef"].to_numpy(dtype=float)
    se = np.abs(coef / r["parallel_t"].to_numpy(dtype=float))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x, y=_vals(coef + 2 * se), line={"width": 0}, showlegend=False, hoverinfo="skip"
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=_vals(coef - 2 * se),
            fill="tonexty",
            fillcolor="rgba(29,78,216,0.15)",
            line={"width": 0},
            name="+-2 HAC standard errors",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=_vals(coef),
            name=f"rolling {rates.window}-period coefficient: parallel +100 bp",
            line={"color": LARGE, "width": 1.8},
            hovertemplate="%{x|%Y-%m}: %{y:+.2%}<extra></extra>",
        )
    )
    fig.add_hline(y=0, line_color=GREY, line_width=1)
    _layout(fig, height=340, hovermode="closest")
    fig.update_yaxes(tickformat="+.1%", title_text="small minus large per +100 bp")
    return fig


def credit_chart(credit: CreditRegimes) -> go.Figure:
    """Annualised small-minus-large by HY-spread regime (bars)."""
    t = credit.table
    labels = [f"{s}: {g}" for s, g in zip(t["split"], t["regime"], strict=True)]
    vals = t["sml_annual"].to_numpy(dtype=float)
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=_vals(vals, 4),
            marker_color=[GREEN if v >= 0 else RED for v in vals],
            text=[f"{v:+.1%} (t={tt:+.1f})" for v, tt in zip(vals, t["sml_t"], strict=True)],
            textposition="outside",
            hovertemplate="%{x}: %{y:+.1%} per year<extra></extra>",
        )
    )
    _layout(fig, height=320, showlegend=False, hovermode="closest")
    fig.update_yaxes(tickformat="+.0%", title_text="small minus large, per year")
    return fig


# -- vehicle ---------------------------------------------------------------------------------


def tracking_chart(veh: VehicleReport) -> go.Figure:
    """IWM minus the index by calendar year (bars), full years solid."""
    t = veh.tracking
    full = t["full"].astype(bool).to_numpy()
    td = t["tracking_difference"].to_numpy(dtype=float)
    fig = go.Figure(
        go.Bar(
            x=[str(y) for y in t.index],
            y=_vals(td, 5),
            marker_color=[LARGE if f else "#93c5fd" for f in full],
            hovertemplate="%{x}: %{y:+.2%}<extra></extra>",
            name="tracking difference",
        )
    )
    fig.add_hline(
        y=-veh.expense_ratio,
        line_dash="dot",
        line_color=RED,
        annotation_text=f"- expense ratio {veh.expense_ratio:.2%}",
        annotation_position="bottom right",
    )
    _layout(fig, height=320, showlegend=False, hovermode="closest")
    fig.update_yaxes(
        tickformat="+.1%", title_text=f"{veh.fund_name} total - {veh.index_name} price"
    )
    return fig


def beta_chart(veh: VehicleReport) -> go.Figure:
    """Rolling beta of the fund to the market, weekly."""
    b = thin(veh.beta.dropna())
    fig = go.Figure(
        go.Scatter(
            x=_dates(b.index),
            y=_vals(b, 3),
            name=f"rolling {veh.window}-day beta to {veh.market_name}",
            line={"color": SMALL, "width": 1.4},
            hovertemplate="%{x|%Y-%m-%d}: %{y:.2f}<extra></extra>",
        )
    )
    fig.add_hline(y=1, line_color=GREY, line_width=1)
    _layout(fig, height=300, hovermode="closest")
    return fig


# -- backtest (from a BacktestResult) ------------------------------------------------------------


def _curves(frame: pd.DataFrame, *, width: float, hover: str) -> go.Figure:
    """One line per column of a frame of curves on dates (thinned for the page)."""
    f = thin(frame.astype(float))
    fig = go.Figure()
    for i, col in enumerate(f.columns):
        s = f[col].dropna()
        fig.add_trace(
            go.Scatter(
                x=_dates(s.index),
                y=_vals(s, 4),
                name=str(col),
                line={"color": PALETTE[i % len(PALETTE)], "width": width},
                hovertemplate=hover,
            )
        )
    return fig


def equity_chart(bt: BacktestResult) -> go.Figure:
    """Equity curves of the best variant and the benchmarks (log scale)."""
    fig = _curves(bt.equity, width=1.5, hover="%{y:.3g}")
    _layout(fig, height=400)
    fig.update_yaxes(type="log", title_text="growth of 1 (log)")
    return fig


def drawdown_chart(bt: BacktestResult) -> go.Figure:
    """Drawdowns of the same curves."""
    fig = _curves(bt.drawdown, width=1.2, hover="%{y:.0%}")
    _layout(fig, height=300)
    fig.update_yaxes(tickformat=".0%", title_text="drawdown")
    return fig


def grid_chart(grid: SharpeGrid) -> go.Figure:
    """Heatmap of Sharpe ratios over a rule's two-parameter grid."""
    z = np.asarray(grid.sharpe, dtype=float)
    xs = [str(v) for v in grid.x_values]
    ys = [str(v) for v in grid.y_values]
    finite = z[np.isfinite(z)] if z.size else z
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    both_signs = lo < 0 < hi  # diverging around 0 only when the grid has both signs
    fig = go.Figure(
        go.Heatmap(
            z=np.round(z, 3),
            x=xs,
            y=ys,
            colorscale="RdBu" if both_signs else "Viridis",
            zmid=0 if both_signs else None,
            texttemplate="%{z:.2f}",
            colorbar={"title": {"text": "Sharpe"}},
            hovertemplate=(f"{grid.x}=%{{x}}, {grid.y}=%{{y}}: Sharpe %{{z:.2f}}<extra></extra>"),
        )
    )
    _layout(fig, height=300, hovermode="closest")
    fig.update_xaxes(title_text=grid.x, type="category")
    fig.update_yaxes(title_text=grid.y, type="category")
    return fig
