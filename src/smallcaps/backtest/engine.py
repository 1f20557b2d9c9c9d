"""From a rules file to a judged sweep: aligned arrays, chunks of variants, metrics, robustness.

:func:`run_file` loads a rules file (:mod:`smallcaps.backtest.rules`), reads the two legs and
cash through the as-of door (an :class:`smallcaps.access.StoreView`: the engine never opens the
store itself, and the result keeps the provenance of every read), builds every rule's condition
rows once
(:mod:`smallcaps.backtest.signals`: each value known only from data published by its date),
evaluates the variants in chunks (:mod:`smallcaps.backtest.kernels`, on a
:class:`~smallcaps.backtest.scheduler.LocalScheduler` or a Dask cluster), and judges the best
variant with the Deflated Sharpe Ratio, PBO, Hansen's SPA and a walk-forward
(:mod:`smallcaps.backtest.robustness`). The result is a :class:`BacktestResult`.

Asset returns that score positions are realised returns (the vintage current at ``as_of``);
signals see only what was published by each decision date.
"""

from __future__ import annotations

import importlib
import importlib.resources
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import pandas as pd

from smallcaps import access
from smallcaps.analytics._jsonready import jsonready
from smallcaps.backtest import kernels, metrics, robustness, signals
from smallcaps.backtest.robustness import Robustness
from smallcaps.backtest.rules import OPS, RuleGrid, RuleSet, Variant, load_rules
from smallcaps.backtest.scheduler import LocalScheduler, Progress, Scheduler
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.results import Result

if TYPE_CHECKING:
    from smallcaps.backtest import fused

PERIODS_PER_YEAR = {"M": 12, "D": 252}
CHUNK_ELEMENTS = 2_000_000  # variants x periods per chunk: ~16 MB per (V, T) float64 array
SUB_ELEMENTS = 262_144  # variants x periods per sub-block of a chunk (2 MB arrays, in cache)
COMPILED_FROM = 2_000_000  # variants x periods from which a switching grid runs compiled
_FUSED = "smallcaps.backtest.fused"
FUSED_CHUNK = 2048  # variants per chunk on the compiled switching path (fused.py)
TOP = 10
KEEP_ALL = 256  # up to this many variants every return series is kept on the result
NAMED = 100_000  # up to this many, the table has each variant's name and parameters
BENCHMARK_NAMES = {"small": "buy and hold small", "large": "buy and hold large"}


# ---- legs --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Legs:
    """Realised returns of small, large and cash on the decision calendar.

    ``r_*[j]`` is the return from date ``j - 1`` to date ``j``; ``r_*[0]`` is NaN-free but unused.
    """

    dates: pd.DatetimeIndex
    r_small: np.ndarray
    r_large: np.ndarray
    r_cash: np.ndarray
    kinds: dict[str, str]
    notes: tuple[str, ...] = ()


def _kind(view: access.StoreView, series_id: str) -> str:
    units = view.meta(series_id).units.lower()
    return "returns" if "return" in units else "prices"


def _returns_on_stamps(values: pd.Series, kind: str, frequency: str) -> pd.Series:
    s = values.dropna().astype(float).sort_index()
    if kind == "prices":
        if frequency == "M":
            s = s.groupby(s.index.to_period("M")).tail(1)
        return s.pct_change().iloc[1:]
    return s


def load_legs(
    ruleset: RuleSet,
    view: access.StoreView,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> Legs:
    """Read the legs (and cash) through ``view`` (as of its date) and put them on one calendar.

    The calendar is the dates where both legs have a return (for ``frequency = "M"`` on daily
    prices: each month's last trading day), cut to ``start``/``end``. Cash is the rules' cash
    series: returns (French RF, a decimal per period) are matched by date, a missing day taking
    the last known rate; a rate in percent per year is converted to a period return.

    Raises
    ------
    ConfigError
        A daily rules file on monthly legs.
    InsufficientDataError
        Fewer than 24 periods in the window.
    """
    freq = ruleset.frequency
    kinds = {sid: _kind(view, sid) for sid in (ruleset.small, ruleset.large)}
    notes: list[str] = []
    legs = {}
    for sid in (ruleset.small, ruleset.large):
        meta_freq = view.meta(sid).frequency
        if freq == "D" and meta_freq != "D":
            raise ConfigError(
                f"{ruleset.path.name}: frequency 'D' but {sid!r} is {meta_freq!r}; use "
                "frequency = 'M' or daily series (price/IWM/adj_close)"
            )
        legs[sid] = _returns_on_stamps(view.read(sid).values, kinds[sid], freq)
    both = pd.concat({"s": legs[ruleset.small], "l": legs[ruleset.large]}, axis=1, join="inner")
    both = both.dropna()
    if start is not None:
        both = both[both.index >= start]
    if end is not None:
        both = both[both.index <= end]
    if len(both) < 24:
        raise InsufficientDataError(
            f"{ruleset.path.name}: only {len(both)} periods where both {ruleset.small!r} and "
            f"{ruleset.large!r} have returns between {start} and {end}; need at least 24"
        )
    dates = pd.DatetimeIndex(both.index, name="date")
    cash_raw = view.read(ruleset.cash).values.dropna().astype(float).sort_index()
    units = view.meta(ruleset.cash).units.lower()
    ppy = PERIODS_PER_YEAR[freq]
    if "return" in units:
        if freq == "M":
            key = cash_raw.index.to_period("M")
            cash = pd.Series(cash_raw.to_numpy(), index=key).groupby(level=0).last()
            rc = cash.reindex(dates.to_period("M"))
        else:
            rc = cash_raw.reindex(dates)
    else:  # a rate in percent per year, known at the previous date
        rate = cash_raw.reindex(dates.union(cash_raw.index)).ffill().reindex(dates)
        rc = (rate.shift(1) / 100.0 / ppy).set_axis(dates)
        notes.append(f"cash: {ruleset.cash} in percent a year, earned over the next period")
    rc = pd.Series(np.asarray(rc, dtype=float), index=dates)
    missing = rc.isna()
    if missing.any():
        n = int(missing.sum())
        rc = rc.ffill().fillna(0.0)
        notes.append(
            f"cash: {n} of {len(dates)} periods have no {ruleset.cash} value "
            f"(after {cash_raw.index[-1]:%Y-%m-%d} or before its start); they earn the last "
            "known rate (0 before the first)"
        )
    return Legs(
        dates,
        both["s"].to_numpy(float),
        both["l"].to_numpy(float),
        rc.to_numpy(float),
        kinds,
        tuple(notes),
    )


def view_panel(
    ruleset: RuleSet, view: access.StoreView, dates: pd.DatetimeIndex, kinds: Mapping[str, str]
) -> signals.Panel:
    """A signal panel that loads each series through ``view`` (as of its date), once."""

    def loader(series_id: str) -> tuple[pd.Series, access.ReleaseRule]:
        return view.read(series_id).values, view.release_rule(series_id)

    return signals.Panel(dates, ruleset.small, ruleset.large, dict(kinds), loader)


# ---- conditions and positions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Design:
    """The condition bank and each variant's row indices and allocations."""

    bank: np.ndarray  # (K, T) bool
    index: np.ndarray  # (V, M) int, -1 pads
    on: np.ndarray  # (V, 2)
    off: np.ndarray  # (V, 2)


def _test(values: np.ndarray, op: str, threshold: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if op == ">":
            out = values > threshold
        elif op == ">=":
            out = values >= threshold
        elif op == "<":
            out = values < threshold
        elif op == "<=":
            out = values <= threshold
        else:  # pragma: no cover - rules.py checks
            raise ConfigError(f"op must be one of {OPS}")
    return out & ~np.isnan(values)


def design(variants: Sequence[Variant], panel: signals.Panel) -> Design:
    """Compute every distinct condition once and index the variants into the bank."""
    rows: dict[tuple[Any, ...], int] = {}
    bank: list[np.ndarray] = []
    m = max(len(v.conditions) for v in variants)
    index = np.full((len(variants), m), -1, dtype=np.int64)
    for i, v in enumerate(variants):
        for j, c in enumerate(v.conditions):
            key = (c.signal, c.params, c.op, c.threshold)
            if key not in rows:
                values = signals.compute(panel, c.signal, c.params)
                rows[key] = len(bank)
                bank.append(_test(values, c.op, c.threshold))
            index[i, j] = rows[key]
    on = np.array([v.on for v in variants], dtype=float)
    off = np.array([v.off for v in variants], dtype=float)
    return Design(np.array(bank, dtype=bool), index, on, off)


def positions(variants: Sequence[Variant], panel: signals.Panel) -> np.ndarray:
    """Decided weights ``(V, T, 2)`` (small, large) of the variants on the panel's calendar."""
    d = design(variants, panel)
    ws, wl = kernels.positions_from_conditions(d.bank, d.index, d.on, d.off)
    return np.stack([ws, wl], axis=-1)


# ---- the chunk function (module level: a Dask worker imports it) -------------------------------


_COMPARE = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}


def _all_true(
    values: np.ndarray, signal: np.ndarray, op: np.ndarray, thr: np.ndarray
) -> np.ndarray:
    """Where every condition of each variant holds, ``(n, T)`` bool (a NaN signal is False).

    Each signal row is compared with the thresholds of the variants that use it by
    broadcasting (no ``(n, T)`` copy of the signal values); a comparison with NaN is False.
    """
    n, m = signal.shape
    out = np.ones((n, values.shape[1]), dtype=bool)
    first = True
    for j in range(m):
        col = signal[:, j]
        key = np.where(col >= 0, col * len(OPS) + op[:, j], -1)
        for k in np.unique(key):
            if k < 0:
                continue
            rows = np.flatnonzero(key == k)
            compare = _COMPARE[OPS[int(k) % len(OPS)]]
            row = values[int(k) // len(OPS)][None, :]
            if first and len(rows) == n:
                compare(row, thr[rows, j][:, None], out=out)
            elif len(rows) == n:
                out &= compare(row, thr[rows, j][:, None])
            else:
                out[rows] &= compare(row, thr[rows, j][:, None])
        first = False
    return out


def all_in(on: np.ndarray, off: np.ndarray) -> bool:
    """Whether every variant holds all of one leg or all of the other (no cash, no mix)."""
    legs = np.concatenate([on, off])
    return bool(np.all(((legs[:, 0] == 1.0) & (legs[:, 1] == 0.0))
                       | ((legs[:, 0] == 0.0) & (legs[:, 1] == 1.0))))  # fmt: skip


def evaluate_chunk(
    rows: tuple[int, int] | np.ndarray,
    *,
    values: np.ndarray,
    signal: np.ndarray,
    op: np.ndarray,
    threshold: np.ndarray,
    on: np.ndarray,
    off: np.ndarray,
    r_small: np.ndarray,
    r_large: np.ndarray,
    r_cash: np.ndarray,
    lag: int,
    cost: float,
    expense_small: float,
    expense_large: float,
    periods_per_year: int,
    r_bench: np.ndarray | None = None,
    pbo_edges: np.ndarray | None = None,
    wf_windows: list[tuple[int, int, int]] | None = None,
    spa_weights: np.ndarray | None = None,
    spa_block: int = 1,
    spa_tables: fused.SpaTables | None = None,
    keep: bool = False,
    switching: bool = False,
) -> dict[str, Any]:
    """Metrics and the robustness statistics of variants ``rows`` (a ``(lo, hi)`` span or rows).

    Returns per-variant metrics, the per-period Sharpe over cash (``sr_cash``) and over the
    benchmark (``sr_bench``), the CSCV block sums of the returns over cash (``pbo_s``,
    ``pbo_ss``, ``(S, n)``), each walk-forward fold's best variant in the chunk and its train
    Sharpe, and the SPA maxima (:func:`smallcaps.backtest.robustness.spa_chunk`); the net
    returns (from the first decided period) only when ``keep``. What it returns does not grow
    with the number of periods, except for ``keep``. ``switching`` (every variant all in one
    leg or the other, :func:`all_in`) takes the compiled road of
    :mod:`smallcaps.backtest.fused` to the same numbers; ``spa_tables`` are its SPA tables
    (:func:`fused.spa_tables`, built here from ``spa_weights`` when not given).
    """
    idx = np.arange(*rows) if isinstance(rows, tuple) else np.asarray(rows, dtype=np.int64)
    lo = rows[0] if isinstance(rows, tuple) else 0
    k = kernels.first_period(lag)
    n_periods = len(r_cash) - k
    edges = None if wf_windows is None else robustness.window_edges(wf_windows, n_periods)
    if switching:
        from smallcaps.backtest import fused  # numba: imported only when a sweep needs it

        if spa_weights is not None and spa_tables is None and r_bench is not None:
            spa_tables = switching_spa_tables(
                spa_weights, r_small=r_small, r_large=r_large, r_cash=r_cash, r_bench=r_bench,
                lag=lag, cost=cost, expense_small=expense_small, expense_large=expense_large,
            )  # fmt: skip
        got = fused.switching_chunk(
            idx, values=values, signal=signal, op=op, threshold=threshold, on=on, off=off,
            r_small=r_small, r_large=r_large, r_cash=r_cash, lag=lag, cost=cost,
            expense_small=expense_small, expense_large=expense_large,
            periods_per_year=periods_per_year, r_bench=r_bench, pbo_edges=pbo_edges,
            wf_edges=edges, spa_tables=spa_tables,
            spa_block=spa_block, keep=keep,
        )  # fmt: skip
        for key, name in (("cash_sums", "sr_cash"), ("bench_sums", "sr_bench")):
            if key in got:
                s_, ss_, shift = got.pop(key)
                got[name] = robustness._sharpe_from_sums(s_, ss_, n_periods, shift)
        if "spa_boot" in got:
            got["spa"] = robustness.spa_maxima(
                got.pop("spa_mean"), got.pop("spa_var"), got.pop("spa_boot").T, n_periods
            )
        return _walk_forward_picks(got, wf_windows, edges, lo)
    # the element-wise work in sub-blocks that stay in cache; the SPA's product on the chunk
    size = max(1, SUB_ELEMENTS // max(len(r_cash), 1))
    over = np.empty((len(idx), n_periods)) if spa_weights is not None else None
    parts = []
    for a in range(0, len(idx), size):
        b = min(len(idx), a + size)
        sel = slice(idx[a], idx[b - 1] + 1) if isinstance(rows, tuple) else idx[a:b]
        part = _block(
            sel, values=values, signal=signal, op=op, threshold=threshold, on=on, off=off,
            r_small=r_small, r_large=r_large, r_cash=r_cash, lag=lag, cost=cost,
            expense_small=expense_small, expense_large=expense_large,
            periods_per_year=periods_per_year, keep=keep,
            r_bench=r_bench, pbo_edges=pbo_edges, wf_edges=edges,
            over=None if over is None else over[a:b],
        )  # fmt: skip
        parts.append(part)
    out: dict[str, Any] = {}
    for key in parts[0]:
        axis = 1 if key in ("pbo_s", "pbo_ss", "seg_s", "seg_ss") else 0
        out[key] = (
            parts[0][key] if len(parts) == 1 else np.concatenate([p[key] for p in parts], axis=axis)
        )
    del parts
    if over is not None and spa_weights is not None:
        out["spa"] = robustness.spa_chunk(over, spa_weights, spa_block)
    return _walk_forward_picks(out, wf_windows, edges, lo)


def _walk_forward_picks(
    out: dict[str, Any],
    wf_windows: list[tuple[int, int, int]] | None,
    edges: np.ndarray | None,
    lo: int,
) -> dict[str, Any]:
    """Replace a chunk's walk-forward segment sums by each fold's best variant and Sharpe."""
    if wf_windows is not None and edges is not None:
        seg_s, seg_ss = out.pop("seg_s"), out.pop("seg_ss")
        sr = robustness.train_sharpes(seg_s, seg_ss, edges, wf_windows)
        pick = np.argmax(sr, axis=1)
        out["wf_sr"] = sr[np.arange(len(pick)), pick]
        out["wf_pick"] = pick + lo
    return out


_TABLE_KEYS = ("r_small", "r_large", "r_cash", "lag", "cost", "expense_small", "expense_large")


def switching_spa_tables(
    resampled: np.ndarray,
    *,
    r_small: np.ndarray,
    r_large: np.ndarray,
    r_cash: np.ndarray,
    r_bench: np.ndarray,
    lag: int,
    cost: float,
    expense_small: float,
    expense_large: float,
) -> fused.SpaTables:
    """:func:`fused.spa_tables` for a switching grid: built once per sweep, shared by chunks."""
    from smallcaps.backtest import fused

    grow_s, grow_l, fee = fused.growths(
        r_small, r_large, r_cash, cost=cost, expense_small=expense_small,
        expense_large=expense_large,
    )  # fmt: skip
    return fused.spa_tables(resampled, grow_s, grow_l, r_bench, fee, kernels.first_period(lag))


def _block(
    sel: slice | np.ndarray,
    *,
    values: np.ndarray,
    signal: np.ndarray,
    op: np.ndarray,
    threshold: np.ndarray,
    on: np.ndarray,
    off: np.ndarray,
    r_small: np.ndarray,
    r_large: np.ndarray,
    r_cash: np.ndarray,
    lag: int,
    cost: float,
    expense_small: float,
    expense_large: float,
    periods_per_year: int,
    keep: bool,
    r_bench: np.ndarray | None,
    pbo_edges: np.ndarray | None,
    wf_edges: np.ndarray | None,
    over: np.ndarray | None,
) -> dict[str, Any]:
    """:func:`evaluate_chunk` on a few variants: everything but the SPA's product.

    Writes the returns over the benchmark into ``over`` (when given) and returns the
    walk-forward's segment sums (``seg_s``, ``seg_ss``) instead of its choices.
    """
    held = _all_true(values, signal[sel], op[sel], threshold[sel])
    k = kernels.first_period(lag)
    ws = np.where(held, on[sel, :1], off[sel, :1])
    wl = np.where(held, on[sel, 1:2], off[sel, 1:2])
    del held
    sim = kernels.simulate(
        ws, r_small, r_large, r_cash, w_large=wl, lag=lag, cost=cost,
        expense_small=expense_small, expense_large=expense_large,
    )  # fmt: skip
    del ws, wl
    full, turnover = sim.net, sim.turnover
    time_small = sim.held_small[:, k - 1 : -1].mean(axis=1)
    del sim
    net = full[:, k:]
    rf = r_cash[k:]
    excess = net - rf
    out: dict[str, Any] = metrics.summarise(
        net, periods_per_year=periods_per_year, rf=rf, turnover=turnover,
        time_small=time_small, excess=excess,
    )  # fmt: skip
    if keep:
        out["net"] = net
    excess_t = excess.T  # (n_periods, n) view
    out["sr_cash"] = robustness._period_sharpe(excess_t)
    if pbo_edges is not None:
        out["pbo_s"], out["pbo_ss"] = robustness.block_sums(excess_t, pbo_edges)
    if wf_edges is not None:
        out["seg_s"], out["seg_ss"] = robustness.block_sums(excess_t, wf_edges)
    del excess, excess_t
    if r_bench is not None:
        diff = np.subtract(net, r_bench, out=over)
        out["sr_bench"] = robustness._period_sharpe(diff.T)
    return out


STAT_KEYS = ("net", "sr_cash", "sr_bench", "pbo_s", "pbo_ss", "wf_sr", "wf_pick", "spa")


# ---- result ------------------------------------------------------------------------------------


METRICS = tuple(metrics.DEFINITIONS)[:-1]  # every metric of a row; "excess" is per benchmark


@dataclass(frozen=True, slots=True)
class Performance(Result):
    """The metrics of one benchmark (or variant) over the evaluated periods.

    Definitions are in :data:`smallcaps.backtest.metrics.DEFINITIONS`.
    """

    name: str
    cagr: float
    vol: float
    sharpe: float
    sortino: float
    max_dd: float
    max_dd_periods: float  # whole periods (a float in the benchmark rows, an int for variants)
    turnover: float
    time_small: float
    hit_rate: float

    def summary(self) -> str:
        """One line: CAGR, Sharpe, maximum drawdown and time in small caps."""
        return (
            f"{self.name}: CAGR {self.cagr:.2%}, Sharpe {self.sharpe:.2f}, max DD "
            f"{self.max_dd:.1%}, time in small {self.time_small:.0%}"
        )


@dataclass(frozen=True, slots=True)
class VariantRow(Performance):
    """A variant's metrics, with its rule, parameters and CAGR over each benchmark's."""

    rule: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    excess: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``variant, rule, params``, the metrics, then ``excess``."""
        doc: dict[str, Any] = {"variant": self.name, "rule": self.rule, "params": self.params}
        doc.update({m: getattr(self, m) for m in METRICS})
        doc["excess"] = dict(self.excess)
        return jsonready(doc)


def _metric_values(row: pd.Series) -> dict[str, Any]:
    """A table row's metrics as Python numbers (ints stay ints)."""
    return {m: row[m].item() if hasattr(row[m], "item") else row[m] for m in METRICS}


@dataclass(frozen=True, slots=True, eq=False)
class SharpeGrid(Result):
    """Sharpe ratios of one rule over two of its grid axes (the best over any other axes).

    ``sharpe[i, j]`` is for ``y = y_values[i]`` and ``x = x_values[j]``; NaN where no variant
    has a finite Sharpe.
    """

    rule: str
    x: str
    y: str
    x_values: tuple[Any, ...]
    y_values: tuple[Any, ...]
    sharpe: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """The grid: rows ``y`` values, columns ``x`` values."""
        return pd.DataFrame(
            self.sharpe,
            index=pd.Index(self.y_values, name=self.y),
            columns=pd.Index(self.x_values, name=self.x),
        )

    def summary(self) -> str:
        """One line: the grid's size and its best cell."""
        head = f"Sharpe of {self.rule} over {self.x} x {self.y}"
        if not np.isfinite(self.sharpe).any():
            return f"{head}: no finite value"
        i, j = np.unravel_index(np.nanargmax(self.sharpe), self.sharpe.shape)
        return (
            f"{head} ({len(self.x_values)} x {len(self.y_values)}): best "
            f"{self.sharpe[i, j]:.2f} at {self.x}={self.x_values[j]}, {self.y}={self.y_values[i]}"
        )


def sharpe_grids(ruleset: RuleSet, table: pd.DataFrame) -> tuple[SharpeGrid, ...]:
    """A :class:`SharpeGrid` per rule with two or more grid axes (the first two).

    Each variant's place on the grid comes from its number (last axis fastest), so the table
    needs no parameters column.
    """
    out = []
    sharpe = table["sharpe"].to_numpy(dtype=float)
    offset = 0
    for rule in ruleset.rules:
        count = rule.count()
        axes = rule.axes()
        names = list(axes)
        if len(names) >= 2:
            x, y = names[0], names[1]
            sizes = [len(axes[name]) for name in names]
            local = np.arange(count)
            dx = (local // math.prod(sizes[1:])) % sizes[0]
            dy = (local // math.prod(sizes[2:])) % sizes[1]
            grid = np.full((sizes[1], sizes[0]), np.nan)
            s = sharpe[offset : offset + count]
            ok = np.isfinite(s)
            np.fmax.at(grid, (dy[ok], dx[ok]), s[ok])
            out.append(SharpeGrid(rule.name, x, y, tuple(axes[x]), tuple(axes[y]), grid))
        offset += count
    return tuple(out)


def _curves(
    dates: pd.DatetimeIndex, nets: Mapping[str, np.ndarray]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Growth of 1 and drawdown from the running peak of each named return series."""
    wealth = {name: np.cumprod(1.0 + net) for name, net in nets.items()}
    drawdown = {name: metrics.drawdown_path(net) for name, net in nets.items()}
    return pd.DataFrame(wealth, index=dates), pd.DataFrame(drawdown, index=dates)


@dataclass(frozen=True, slots=True, eq=False)
class BacktestResult(Result):
    """A judged sweep of rotation rules.

    Attributes
    ----------
    ruleset : RuleSet
    dates : DatetimeIndex
        Periods evaluated (the end of each period).
    variants : list of Variant
    table : DataFrame
        One row per variant (file order): ``variant, rule, params``, the metrics and
        ``excess[<benchmark>]``.
    benchmarks : DataFrame
        One row per benchmark (indexed by name), the same metrics.
    returns : ndarray (T, K)
        Net returns of the variants ``kept`` (every variant up to :data:`KEEP_ALL`, else
        the best ten and the walk-forward's choices).
    bench_returns : dict
        Net returns of each benchmark.
    robustness : Robustness or None
        DSR, PBO, SPA and walk-forward of the best variant and the verdict; None when the
        sweep was not judged.
    best : int
        Position (in file order) of the variant with the highest Sharpe.
    top : tuple of VariantRow
        The best variants by Sharpe (at most ``TOP``), best first.
    benchmark_rows : tuple of Performance
        The rows of ``benchmarks``.
    equity, drawdown : DataFrame
        Growth of 1 and drawdown of the best variant and of each benchmark, on ``dates``.
    grids : tuple of SharpeGrid
        A Sharpe heatmap per rule with two or more grid axes.
    sources : list of str
        Every series read.
    provenance : list of dict
        One record per series read (vintage, payload hash, URL, fetch time, release rule), as
        :meth:`smallcaps.access.StoreView.provenance` gives them.
    notes : list of str
    """

    ruleset: RuleSet
    dates: pd.DatetimeIndex
    variants: Sequence[Variant]
    table: pd.DataFrame
    benchmarks: pd.DataFrame
    returns: np.ndarray
    bench_returns: dict[str, np.ndarray]
    robustness: Robustness | None
    best: int
    top: tuple[VariantRow, ...]
    benchmark_rows: tuple[Performance, ...]
    equity: pd.DataFrame
    drawdown: pd.DataFrame
    grids: tuple[SharpeGrid, ...]
    sources: list[str]
    provenance: list[dict[str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kept: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def frequency(self) -> str:
        """``"M"`` or ``"D"``."""
        return self.ruleset.frequency

    @property
    def best_row(self) -> VariantRow:
        """The metrics of the best variant."""
        return self.top[0]

    @property
    def survives(self) -> bool:
        """Whether the best variant passes every robustness test (False when not judged)."""
        return self.robustness is not None and self.robustness.survives

    @property
    def definitions(self) -> dict[str, str]:
        """One-line definition of each metric (:data:`smallcaps.backtest.metrics.DEFINITIONS`)."""
        return dict(metrics.DEFINITIONS)

    @property
    def verdict(self) -> str:
        """``"survives"``, ``"does not survive"`` or ``"not judged"``."""
        return "not judged" if self.robustness is None else self.robustness.word

    def to_frame(self) -> pd.DataFrame:
        """One row per variant, metric columns, sorted by Sharpe (best first)."""
        return _ranked(self.table)

    def summary(self) -> str:
        """A few lines: window, variants, the best variant and the verdict."""
        b = self.best_row
        lines = [
            f"{self.ruleset.title}: {len(self.variants)} variants, {self.frequency} "
            f"{self.dates[0]:%Y-%m-%d}..{self.dates[-1]:%Y-%m-%d} "
            f"({self.ruleset.costs.bps:g} bps a leg, lag {self.ruleset.costs.lag})",
            f"best {b.summary()}",
        ]
        lines += [f"  {row.name}: CAGR {row.cagr:.2%}, Sharpe {row.sharpe:.2f}"
                  for row in self.benchmark_rows]  # fmt: skip
        if self.robustness is None:
            lines.append("the best variant was not judged (no robustness tests)")
        else:
            lines.append(f"the best variant {self.robustness.word} the robustness tests:")
            lines += [f"  - {r}" for r in self.robustness.reasons]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the document of ``smallcaps backtest --json`` and the report's JSON).

        The provenance records are not part of it (they are on the result).
        """
        dates = [f"{d:%Y-%m-%d}" for d in self.dates]

        def curves(frame: pd.DataFrame) -> dict[str, Any]:
            return {"dates": dates, "series": {str(c): frame[c].tolist() for c in frame}}

        return jsonready(
            {
                "rules_file": str(self.ruleset.path),
                "title": self.ruleset.title,
                "frequency": self.frequency,
                "start": dates[0],
                "end": dates[-1],
                "n_variants": len(self.variants),
                "costs": self.ruleset.costs.to_dict(),
                "benchmarks": [row.to_dict() for row in self.benchmark_rows],
                "best": [row.to_dict() for row in self.top],
                "robustness": None if self.robustness is None else self.robustness.to_dict(),
                "equity": curves(self.equity),
                "drawdown": curves(self.drawdown),
                "grids": [g.to_dict() for g in self.grids],
                "definitions": self.definitions,
                "sources": list(self.sources),
                "notes": list(self.notes),
            }
        )


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values("sharpe", ascending=False, kind="stable").reset_index(drop=True)


# ---- running -----------------------------------------------------------------------------------


def _chunks(n: int, periods: int, elements: int | None = None) -> list[tuple[int, int]]:
    size = max(1, (elements or CHUNK_ELEMENTS) // max(periods, 1))
    return [(lo, min(n, lo + size)) for lo in range(0, n, size)]


class VariantList(Sequence[Variant]):
    """The variants of a rules file, each built when asked for (a sweep may hold millions)."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self._n = ruleset.n_variants

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> Variant: ...
    @overload
    def __getitem__(self, i: slice) -> list[Variant]: ...
    def __getitem__(self, i: int | slice) -> Variant | list[Variant]:
        if isinstance(i, slice):
            return [self.ruleset.variant(k) for k in range(*i.indices(self._n))]
        if not -self._n <= i < self._n:
            raise IndexError(f"variant {i} out of range")
        return self.ruleset.variant(i % self._n)


def _windows(ruleset: RuleSet, n: int, ppy: int) -> tuple[int, int, int, list[str]]:
    rob = ruleset.robustness
    notes = []
    train = rob.get("train") or 10 * ppy
    test = rob.get("test") or ppy
    if train + test > n:
        train, test = max(2, n // 2), max(1, n // 10)
        notes.append(f"walk-forward windows shortened to train {train}, test {test} periods")
    splits = rob.get("pbo_splits", 16)
    splits = min(splits, 2 * (n // 4)) if n < 4 * splits else splits
    return train, test, max(2, splits), notes


def compiled_grid(grid: RuleGrid, periods: int) -> bool:
    """Whether a grid runs compiled (:mod:`smallcaps.backtest.fused`).

    Every variant must hold one leg or the other, and the grid must have at least
    :data:`COMPILED_FROM` variant-periods: enough to repay the compiled path's start-up
    (about a second to load, and a one-time compilation of about 20 s on a new install).
    """
    return all_in(grid.on, grid.off) and len(grid.on) * periods >= COMPILED_FROM


def chunk_inputs(
    ruleset: RuleSet, view: access.StoreView, legs: Legs, grid: RuleGrid | None = None
) -> tuple[signals.Panel, dict[str, Any]]:
    """The signal panel and the arguments every :func:`evaluate_chunk` call shares.

    Each distinct signal is computed once (a row of ``values``); the variants are the rule
    grid's arrays (``grid``, else :meth:`RuleSet.grid`), never expanded into objects.
    ``switching`` says whether the chunks run compiled (:func:`compiled_grid`).
    """
    grid = ruleset.grid() if grid is None else grid
    panel = view_panel(ruleset, view, legs.dates, legs.kinds)
    values = np.array([signals.compute(panel, name, params) for name, params in grid.signals])
    shared: dict[str, Any] = {
        "values": values, "signal": grid.signal, "op": grid.op, "threshold": grid.threshold,
        "on": grid.on, "off": grid.off, **leg_inputs(ruleset, legs),
        "switching": compiled_grid(grid, len(legs.dates)),
    }  # fmt: skip
    return panel, shared


def leg_inputs(ruleset: RuleSet, legs: Legs) -> dict[str, Any]:
    """The legs' returns and the costs, as :func:`evaluate_chunk` takes them."""
    ppy = PERIODS_PER_YEAR[ruleset.frequency]
    costs = ruleset.costs
    return {
        "r_small": legs.r_small, "r_large": legs.r_large, "r_cash": legs.r_cash,
        "lag": costs.lag, "cost": costs.bps / 1e4,
        "expense_small": costs.expense_small / ppy, "expense_large": costs.expense_large / ppy,
        "periods_per_year": ppy,
    }  # fmt: skip


def _bootstrap(
    n: int, reps: int, seed: int, compiled: bool, r_bench: np.ndarray, inputs: dict[str, Any]
) -> tuple[robustness.SpaPlan, dict[str, Any]]:
    """The SPA's plan and what the chunks take of it: the compiled path's tables, or counts."""
    plan = robustness.spa_plan(n, reps=reps, seed=seed)
    if compiled:
        tables = switching_spa_tables(
            plan.indices, r_bench=r_bench, **{key: inputs[key] for key in _TABLE_KEYS}
        )
        return plan, {"spa_tables": tables, "spa_block": plan.block_size}
    return plan, {"spa_weights": plan.weights, "spa_block": plan.block_size}


def run_rules(
    ruleset: RuleSet,
    view: access.StoreView,
    *,
    start: Any = None,
    end: Any = None,
    scheduler: Scheduler | None = None,
    progress: Progress | None = None,
) -> BacktestResult:
    """Evaluate every variant of ``ruleset`` on what ``view`` reads and judge the best.

    The variants run in chunks (on ``scheduler``); each chunk returns its metrics and the
    statistics the robustness tests need (block sums for PBO and the walk-forward, Sharpe
    ratios for the DSR, bootstrap maxima for the SPA), never its return series, so memory
    grows with the variants only by those statistics. A second pass re-runs the few variants
    the result shows (the best ten, the walk-forward's choices; every variant when there are
    at most :data:`KEEP_ALL`) for their return series.

    Parameters
    ----------
    ruleset : RuleSet
    view : StoreView
        The as-of door (:class:`smallcaps.access.StoreView`): every series is read through it,
        as of its date (None: the latest vintages); signals in any case see only rows published
        by each decision date. Its provenance records of the series read go on the result.
    start, end : date-like, optional
        Evaluation window (default: the rules file's, else all the legs' common history).
    scheduler : Scheduler, optional
        Where the chunks run (default: this process); results are identical on any.
    progress : callable, optional
        ``progress(done_chunks, total_chunks)``.

    Returns
    -------
    BacktestResult
    """
    n_variants = ruleset.check_size()  # refused before anything is built
    if n_variants * 1000 >= COMPILED_FROM:  # likely compiled: load numba while the data loads
        threading.Thread(target=importlib.import_module, args=(_FUSED,), daemon=True).start()
    start_ts = _ts(start if start is not None else ruleset.start)
    end_ts = _ts(end if end is not None else ruleset.end)
    legs = load_legs(ruleset, view, start=start_ts, end=end_ts)
    ppy = PERIODS_PER_YEAR[ruleset.frequency]
    costs = ruleset.costs
    k = kernels.first_period(costs.lag)
    dates = legs.dates[k:]
    n = len(dates)
    rob = ruleset.robustness
    inputs = leg_inputs(ruleset, legs)
    rf = legs.r_cash[k:]
    # benchmarks through the same kernel: constant weights, so no trades and no costs
    bench_w = {
        BENCHMARK_NAMES["small"]: (1.0, 0.0),
        BENCHMARK_NAMES["large"]: (0.0, 1.0),
        f"{ruleset.mix:.0%}/{1 - ruleset.mix:.0%} small/large": (ruleset.mix, 1.0 - ruleset.mix),
    }
    t = len(legs.dates)
    bench_returns = {}
    rows = {}
    for name, (s, lw) in bench_w.items():
        one = {**inputs, "values": np.ones((1, t)), "signal": np.zeros((1, 1), np.int64),
               "op": np.zeros((1, 1), np.int8), "threshold": np.zeros((1, 1)),
               "on": np.array([[s, lw]]), "off": np.array([[s, lw]])}  # fmt: skip
        got = evaluate_chunk((0, 1), **one, keep=True)
        bench_returns[name] = got.pop("net")[0]
        rows[name] = {m: float(got[m][0]) for m in METRICS}
    benchmarks = pd.DataFrame.from_dict(rows, orient="index")
    spa_name = {"small": BENCHMARK_NAMES["small"], "large": BENCHMARK_NAMES["large"]}.get(
        ruleset.benchmark, list(bench_w)[2]
    )
    grid = ruleset.grid()
    compiled = compiled_grid(grid, t)
    # the SPA's bootstrap (numpy's generator and the compiled tables release the GIL) while
    # the signals compute
    pool = ThreadPoolExecutor(1)
    drawn = pool.submit(
        _bootstrap, n, rob.get("spa_reps", 1000), rob.get("seed", 0), compiled,
        bench_returns[spa_name], inputs,
    )  # fmt: skip
    pool.shutdown(wait=False)
    panel, shared = chunk_inputs(ruleset, view, legs, grid)
    if n_variants < 2:
        raise InsufficientDataError(
            f"{ruleset.path.name}: PBO needs at least two variants; widen a grid"
        )
    train, test, splits, rob_notes = _windows(ruleset, n, ppy)
    windows = robustness.walk_forward_windows(n, train, test, test)
    plan, spa_inputs = drawn.result()
    stats = {
        "r_bench": bench_returns[spa_name], "pbo_edges": robustness.pbo_edges(n, splits),
        "wf_windows": windows, **spa_inputs,
    }  # fmt: skip
    # the compiled switching path holds O(1) per variant-day: bigger chunks read its SPA
    # tables fewer times (once per chunk)
    chunks = _chunks(n_variants, t, FUSED_CHUNK * t if shared["switching"] else None)
    sched = scheduler if scheduler is not None else LocalScheduler()
    parts = sched.map_chunks(evaluate_chunk, chunks, {**shared, **stats}, progress)
    table = pd.DataFrame({m: _gather(parts, m) for m in METRICS})
    sr_cash = _gather(parts, "sr_cash")
    sr_bench = _gather(parts, "sr_bench")
    pbo_s = _gather(parts, "pbo_s", axis=1)
    pbo_ss = _gather(parts, "pbo_ss", axis=1)
    wf_sr = np.full(len(windows), -np.inf)
    wf_pick = np.zeros(len(windows), dtype=np.int64)
    for p in parts:  # in chunk order; strictly better: an earlier variant keeps a tie
        better = p["wf_sr"] > wf_sr
        wf_sr[better], wf_pick[better] = p["wf_sr"][better], p["wf_pick"][better]
    spa_result = robustness.spa_from_stats([p["spa"] for p in parts], plan)
    del parts
    for name in benchmarks.index:
        table[f"excess[{name}]"] = table["cagr"] - benchmarks.loc[name, "cagr"]
    rule_names = np.array([r.name for r in ruleset.rules], dtype=object)
    table.insert(0, "rule", rule_names[ruleset.rule_of()])
    if n_variants <= NAMED:
        labels = ruleset.labels()
        table.insert(1, "params", [params for _name, params in labels])
        table.insert(0, "variant", [name for name, _params in labels])
    best = _best(table["sharpe"].to_numpy())
    ranked = _rank(table["sharpe"].to_numpy())[:TOP]
    # second pass: the return series of the variants shown
    kept = (
        np.arange(n_variants)
        if n_variants <= KEEP_ALL
        else np.unique(np.r_[ranked, best, wf_pick]).astype(np.int64)
    )
    again = evaluate_chunk(kept, **shared, keep=True)
    returns = np.ascontiguousarray(again["net"].T)  # (n, K)
    col = {int(v): j for j, v in enumerate(kept)}
    bench = bench_returns[spa_name]
    dsr = robustness.deflated_sharpe_of(
        sr_cash, returns[:, col[best]] - rf, best=best, periods_per_year=ppy
    )
    dsr_bench = robustness.deflated_sharpe_of(
        sr_bench, returns[:, col[best]] - bench, best=best, periods_per_year=ppy
    )
    pbo_result = robustness.pbo_from_blocks(
        pbo_s, pbo_ss, np.diff(stats["pbo_edges"]), periods_per_year=ppy
    )
    wf = robustness.walk_forward_chosen(
        returns - rf[:, None], [col[int(v)] for v in wf_pick], wf_sr, windows,
        periods_per_year=ppy, train=train, test=test, step=test, labels=kept,
    )  # fmt: skip
    judged = robustness.judge(
        dsr, pbo_result, spa_result, wf, spa_benchmark=spa_name, dsr_benchmark=dsr_bench
    )
    sources = list(dict.fromkeys([ruleset.small, ruleset.large, ruleset.cash, *sorted(panel.data)]))
    notes = [
        *legs.notes,
        *rob_notes,
        "decisions at each close use only rows published by then (release rules of "
        "smallcaps.access); trades happen lag closes later; returns are realised returns",
        "signals read the vintage current at the as-of date with each row's publication "
        "date; revisions between vintages are not replayed",
        f"benchmarks hold constant weights (the mix is rebalanced every period at no cost); "
        f"SPA and the second DSR test against {spa_name}; the first DSR, PBO and the "
        "walk-forward rank returns over cash",
        "expense ratios accrue per period on the equity held, whatever the legs are (on the "
        "French size portfolios they stand for the cost of an ETF on each)",
    ]
    bench_names = list(benchmarks.index)
    variants = VariantList(ruleset)
    top = tuple(_variant_row(variants[int(i)], table.iloc[int(i)], bench_names) for i in ranked)
    bench_rows = tuple(
        Performance(name=str(name), **_metric_values(row)) for name, row in benchmarks.iterrows()
    )
    equity, drawdown = _curves(dates, {variants[best].name: returns[:, col[best]], **bench_returns})
    return BacktestResult(
        ruleset=ruleset,
        dates=dates,
        variants=variants,
        table=table,
        benchmarks=benchmarks,
        returns=returns,
        bench_returns=bench_returns,
        robustness=judged,
        best=best,
        top=top,
        benchmark_rows=bench_rows,
        equity=equity,
        drawdown=drawdown,
        grids=sharpe_grids(ruleset, table),
        sources=sources,
        provenance=view.provenance(sources),
        notes=notes,
        kept=kept,
    )


def _gather(parts: list[dict[str, Any]], key: str, axis: int = 0) -> np.ndarray:
    """One statistic of every chunk, joined, and removed from the chunks.

    Memory then holds the chunks plus one statistic, not two copies of everything.
    """
    return np.concatenate([p.pop(key) for p in parts], axis=axis)


def _variant_row(v: Variant, row: pd.Series, bench_names: list[str]) -> VariantRow:
    return VariantRow(
        name=v.name,
        rule=v.rule,
        params=dict(v.params),
        excess={n: float(row[f"excess[{n}]"]) for n in bench_names},
        **_metric_values(row),
    )


def _rank(sharpe: np.ndarray) -> np.ndarray:
    """Variant numbers by Sharpe, best first (NaN last, ties in file order)."""
    key = np.nan_to_num(np.asarray(sharpe, float), nan=-np.inf)
    return np.argsort(-key, kind="stable")


def _best(sharpe: np.ndarray) -> int:
    """The highest Sharpe (NaN, a flat variant, never wins; ties: the first)."""
    return int(np.argmax(np.nan_to_num(np.asarray(sharpe, float), nan=-np.inf)))


def _ts(value: Any) -> pd.Timestamp | None:
    if value is None or value == "":
        return None
    try:
        return pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ConfigError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def run_file(
    path: Path | str,
    source: access.Source,
    *,
    start: Any = None,
    end: Any = None,
    as_of: Any = None,
    scheduler: Scheduler | None = None,
    progress: Progress | None = None,
) -> BacktestResult:
    """Load a rules file and run it (see :func:`run_rules`).

    ``source`` is a :class:`smallcaps.access.StoreView` or, for convenience, the store, read
    through a new view as of ``as_of`` (:func:`smallcaps.access.view_of`).
    """
    ruleset = load_rules(path)
    view = access.view_of(source, as_of)
    return run_rules(
        ruleset, view, start=start, end=end, scheduler=scheduler, progress=progress
    )  # fmt: skip


def default_rules_path() -> Path:
    """The shipped ``rules/rotation.toml``."""
    ref = importlib.resources.files("smallcaps") / "rules" / "rotation.toml"
    return Path(str(ref))


def shipped_rules() -> dict[str, Path]:
    """Shipped rules files by name (file stem): ``rotation``, ``rotation-daily``."""
    folder = importlib.resources.files("smallcaps") / "rules"
    return {Path(f.name).stem: Path(str(f)) for f in folder.iterdir() if f.name.endswith(".toml")}


def find_rules(name_or_path: str | Path) -> Path:
    """A rules file from a path, or the name of a shipped one (``rotation-daily``).

    A name that is neither is returned as a path, so loading it says the file is missing.
    """
    path = Path(name_or_path)
    if path.exists() or path.suffix == ".toml" or len(path.parts) > 1:
        return path
    return shipped_rules().get(str(name_or_path), path)


# ---- no look-ahead -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LookAheadCheck(Result):
    """Outcome of :func:`check_no_lookahead`."""

    ok: bool
    cuts: tuple[str, ...]  # decision dates after which the data were changed
    violations: tuple[str, ...]  # "date: n variants moved at or before it"

    def summary(self) -> str:
        """One line."""
        if self.ok:
            return f"no look-ahead: positions unchanged up to each of {len(self.cuts)} cuts"
        return "look-ahead: " + "; ".join(self.violations)


def check_no_lookahead(
    positions_of: Callable[[signals.Panel], np.ndarray],
    panel: signals.Panel,
    *,
    n_cuts: int = 5,
    seed: int = 0,
) -> LookAheadCheck:
    """Change every value published after ``t`` and check that positions up to ``t`` stay put.

    Parameters
    ----------
    positions_of : callable
        ``panel -> array`` whose axis 1 is the panel's calendar (e.g. ``lambda p:
        positions(variants, p)``).
    panel : Panel
        Loads its series on the first call; the perturbed copies hold the same series.
    n_cuts : int, default 5
        Random decision dates ``t`` to test (from the middle 80% of the calendar).
    seed : int, default 0

    Returns
    -------
    LookAheadCheck
    """
    rng = np.random.default_rng(seed)
    base = np.asarray(positions_of(panel))
    cal = np.asarray(panel.calendar.values.astype("datetime64[ns]"))
    lo, hi = int(0.1 * len(cal)), max(int(0.9 * len(cal)), int(0.1 * len(cal)) + 1)
    cuts = np.sort(rng.choice(np.arange(lo, hi), size=min(n_cuts, hi - lo), replace=False))
    violations = []
    for i in cuts:
        t = cal[i]
        data = {}
        for sid, s in panel.data.items():
            later = panel.published(sid) > t
            v = s.to_numpy(dtype=float).copy()
            scale = np.nanstd(v) if np.isfinite(np.nanstd(v)) and np.nanstd(v) > 0 else 1.0
            k = int(later.sum())
            v[later] = v[later] * rng.uniform(0.5, 1.5, k) + rng.normal(0.0, scale, k)
            data[sid] = pd.Series(v, index=s.index, name=s.name)
        moved = np.asarray(positions_of(panel.with_data(data)))
        diff = ~np.isclose(moved[:, : i + 1], base[:, : i + 1], rtol=0, atol=0)
        bad = diff.reshape(diff.shape[0], -1).any(axis=1)
        if bad.any():
            violations.append(
                f"{pd.Timestamp(t):%Y-%m-%d}: {int(bad.sum())} variants moved at or before it"
            )
    return LookAheadCheck(
        ok=not violations,
        cuts=tuple(f"{pd.Timestamp(cal[i]):%Y-%m-%d}" for i in cuts),
        violations=tuple(violations),
    )
