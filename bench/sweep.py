"""Sweep >= 10,000 IWM/SPY rotation variants with smallcaps, check a subset against vectorbt.

Rule of every variant (N, b): at each close, hold IWM when IWM/SPY (adjusted closes, total
return) is above its N-day simple average by more than the band b, i.e. ratio > MA_N * (1 + b),
else SPY (and SPY until N days exist). Trade at that same close (lag 0), 5 bps a leg on each
switch. N runs over every integer 10..1000, b over eleven bands 0..5%: 10,901 variants.

Conventions, chosen so both engines model the same thing (and checked to 1e-9 relative):

* both start in cash and buy at the first close, paying one leg (vectorbt's ``init_cash``);
* a switch sells the whole holding (5 bps of its value) and buys the other fund with the
  proceeds (5 bps of what is bought): value x (1 - f) / (1 + f), vectorbt's shared-cash
  arithmetic with ``call_seq="auto"`` (sells first) and smallcaps' per-leg cost model;
* orders are sent only at switches (size NaN elsewhere), so vectorbt does not re-trade drift;
* cash earns nothing (vectorbt's cash), expense ratios are 0;
* Sharpe = mean / std (ddof 1) of the daily returns of the value, first bar included (the
  entry fee), x sqrt(252): vectorbt's ``sharpe_ratio`` with ``year_freq = 252 days`` and
  ``freq = 1 day``.

Run ``python bench/sweep.py`` (needs SMALLCAPS_MIRROR or shared/data next to the repo).
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from smallcaps.backtest import kernels, metrics
from smallcaps.sources.catalog import mirror_series

DATA = Path(
    os.environ.get("SMALLCAPS_MIRROR") or Path(__file__).resolve().parents[2] / "shared/data"
)
WINDOWS = np.arange(10, 1001)
BANDS = np.linspace(0.0, 0.05, 11)
FEE = 0.0005  # 5 bps a leg
PPY = 252
CHUNK = 1024  # variants per pass: (1024, 6500) float64 arrays are 53 MB each
VBT_SUBSET = 1000
VBT_CHUNK = 250


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    data = mirror_series(DATA, ["yahoo:IWM", "yahoo:SPY"])
    both = pd.concat(
        {"iwm": data["price/IWM/adj_close"], "spy": data["price/SPY/adj_close"]},
        axis=1,
        join="inner",
    ).dropna()
    return pd.DatetimeIndex(both.index), both["iwm"].to_numpy(), both["spy"].to_numpy()


def moving_averages(ratio: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """(len(windows), T) trailing means; NaN before a full window."""
    c = np.r_[0.0, np.cumsum(ratio)]
    t = len(ratio)
    out = np.full((len(windows), t), np.nan)
    for i, n in enumerate(windows):
        out[i, n - 1 :] = (c[n:] - c[: t - n + 1]) / n
    return out


def grid() -> tuple[np.ndarray, np.ndarray]:
    """Window index and band of each variant (windows outer, bands inner)."""
    wi, bi = np.meshgrid(np.arange(len(WINDOWS)), np.arange(len(BANDS)), indexing="ij")
    return wi.ravel(), BANDS[bi.ravel()]


def positions(ratio: np.ndarray, ma: np.ndarray, wi: np.ndarray, band: np.ndarray) -> np.ndarray:
    """1.0 where the variant holds IWM (NaN averages compare False: SPY)."""
    with np.errstate(invalid="ignore"):
        return (excess_over_average(ratio, ma[wi]) > band[:, None]).astype(float)


def excess_over_average(ratio: np.ndarray, ma: np.ndarray) -> np.ndarray:
    """ratio / MA - 1 per window: the variant holds IWM where this exceeds its band.

    ``ratio > MA * (1 + b)`` and ``ratio / MA - 1 > b`` can differ in the last bit of a tie;
    :func:`positions` (used for vectorbt) is computed the second way too, so both engines see
    identical positions.
    """
    return ratio / ma - 1.0


def smallcaps_sweep(
    z: np.ndarray, r_iwm: np.ndarray, r_spy: np.ndarray, bands: np.ndarray = BANDS
) -> tuple[np.ndarray, np.ndarray]:
    """Total return and Sharpe of every variant (windows outer, bands inner), in blocks.

    ``z`` is :func:`excess_over_average`, one row per window. A block takes whole windows,
    compares each with every band into a reused bool buffer, and hands it to
    :func:`smallcaps.backtest.kernels.switch_stats` with reused float buffers: memory stays
    at a few blocks whatever the grid size.
    """
    nw, t = z.shape
    nb = len(bands)
    per = max(1, CHUNK // nb)  # windows per block
    total = np.empty(nw * nb)
    sharpe = np.empty(nw * nb)
    held = np.empty((per * nb, t), dtype=bool)
    work = (np.empty((per * nb, t)), np.empty((per * nb, t - 1)))
    for w0 in range(0, nw, per):
        w1 = min(nw, w0 + per)
        n = (w1 - w0) * nb
        block = held[:n].reshape(w1 - w0, nb, t)
        with np.errstate(invalid="ignore"):  # NaN (no full window yet) compares False: SPY
            np.greater(z[w0:w1, None, :], bands[None, :, None], out=block)
        st = kernels.switch_stats(
            held[:n], r_iwm, r_spy, lag=0, cost=FEE, start_in_cash=True, work=work
        )
        total[w0 * nb : w1 * nb] = np.expm1(st.log_growth)
        sharpe[w0 * nb : w1 * nb] = metrics.sharpe_from_sums(st.total, st.total_sq, st.n, PPY)
    return total, sharpe


def vectorbt_sweep(
    idx: pd.DatetimeIndex,
    iwm: np.ndarray,
    spy: np.ndarray,
    ratio: np.ndarray,
    ma: np.ndarray,
    rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The same variants with vectorbt: two assets per variant, shared cash, target percent."""
    import vectorbt as vbt

    wi, band = grid()
    total = np.empty(len(rows))
    sharpe = np.empty(len(rows))
    for lo in range(0, len(rows), VBT_CHUNK):
        sel = rows[lo : lo + VBT_CHUNK]
        n = len(sel)
        pos = positions(ratio, ma, wi[sel], band[sel]).T  # (T, n)
        change = np.vstack([np.ones((1, n), bool), np.diff(pos, axis=0) != 0])
        size = np.empty((len(idx), 2 * n))
        size[:, 0::2] = np.where(change, pos, np.nan)  # IWM target percent at switches only
        size[:, 1::2] = np.where(change, 1.0 - pos, np.nan)  # SPY
        close = np.empty((len(idx), 2 * n))
        close[:, 0::2] = iwm[:, None]
        close[:, 1::2] = spy[:, None]
        pf = vbt.Portfolio.from_orders(
            close=pd.DataFrame(close, index=idx),
            size=size,
            size_type="targetpercent",
            fees=FEE,
            init_cash=1.0,
            group_by=np.repeat(np.arange(n), 2),
            cash_sharing=True,
            call_seq="auto",
            freq="1D",
        )
        total[lo : lo + n] = pf.total_return().to_numpy()
        sharpe[lo : lo + n] = pf.sharpe_ratio(year_freq="252 days").to_numpy()
        del pf, size, close, pos, change
        gc.collect()  # vectorbt keeps memory across chunks otherwise
    return total, sharpe


def main() -> int:
    """Print one ``name: value`` line per figure; exit 1 only when vectorbt disagrees."""
    idx, iwm, spy = load()
    r_iwm = np.r_[0.0, iwm[1:] / iwm[:-1] - 1.0]
    r_spy = np.r_[0.0, spy[1:] / spy[:-1] - 1.0]
    ratio = iwm / spy
    n_variants = len(WINDOWS) * len(BANDS)
    print(f"first_close: {idx[0]:%Y-%m-%d}")
    print(f"last_close: {idx[-1]:%Y-%m-%d}")
    print(f"closes: {len(idx)}")
    print(f"variants: {n_variants}")

    wi, band = grid()
    smallcaps_sweep(excess_over_average(ratio, moving_averages(ratio, WINDOWS[:2])), r_iwm, r_spy)
    t0 = time.perf_counter()  # timed: moving averages, signals, positions, kernel, metrics
    ma = moving_averages(ratio, WINDOWS)
    total, sharpe = smallcaps_sweep(excess_over_average(ratio, ma), r_iwm, r_spy)
    t_sc = time.perf_counter() - t0
    rss_sc = rss_mb()
    sc_rate = n_variants / t_sc
    best = int(np.nanargmax(sharpe))
    print(f"smallcaps_seconds: {t_sc:.2f}")
    print(f"smallcaps_variants_per_s: {sc_rate:.0f}")
    print(f"smallcaps_peak_rss_mb: {rss_sc:.0f}")
    print(f"best_sharpe: {sharpe[best]:.3f}")
    print(f"best_window: {WINDOWS[wi[best]]}")
    print(f"best_band: {band[best]:.3f}")
    print(f"best_total_return: {total[best]:.4f}")

    rows = np.random.default_rng(0).choice(n_variants, size=VBT_SUBSET, replace=False)
    rows.sort()
    vectorbt_sweep(idx, iwm, spy, ratio, ma, rows[:4])  # warm-up: numba compiles
    gc.collect()
    t0 = time.perf_counter()
    vt, vs = vectorbt_sweep(idx, iwm, spy, ratio, ma, rows)
    t_vb = time.perf_counter() - t0
    vb_rate = len(rows) / t_vb
    print(f"vectorbt_variants: {len(rows)}")
    print(f"vectorbt_seconds: {t_vb:.2f}")
    print(f"vectorbt_variants_per_s: {vb_rate:.0f}")
    print(f"vectorbt_peak_rss_mb: {rss_mb():.0f}")
    ratio_speed = sc_rate / vb_rate
    print(f"ratio_vs_vectorbt: {ratio_speed:.1f}")

    rel_total = np.abs(total[rows] - vt) / np.maximum(np.abs(vt), 1e-300)
    rel_sharpe = np.abs(sharpe[rows] - vs) / np.maximum(np.abs(vs), 1e-300)
    ok = bool(rel_total.max() <= 1e-9 and rel_sharpe.max() <= 1e-9)
    print(f"max_rel_diff_total_return: {rel_total.max():.1e}")
    print(f"max_rel_diff_sharpe: {rel_sharpe.max():.1e}")
    print(f"equal_to_vectorbt: {'yes' if ok else 'no'}")
    targets = {
        "smallcaps_variants_per_s": (10_000, sc_rate >= 10_000),
        "ratio_vs_vectorbt": (20, ratio_speed >= 20),
        "smallcaps_peak_rss_mb": (1024, rss_sc < 1024),
    }
    for name, (target, met) in targets.items():
        print(f"{name}_target: {target}")
        print(f"{name}_met: {'yes' if met else 'no'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
