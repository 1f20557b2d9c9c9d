"""The switching sweep in one pass per variant: metrics and robustness statistics, compiled.

A grid whose every variant holds all of one leg or all of the other (:func:`engine.all_in`,
the usual rotation rule) is the case a sweep of a million variants is made of. numpy runs it
as a dozen passes over ``(variants, days)`` arrays (conditions, holdings, returns, wealth,
peaks, each metric), and the SPA's bootstrap means as a ``(reps, days) @ (days, variants)``
product: 137 GFLOP for the 10,901 daily variants. This module runs each variant compiled
(numba, ``nogil`` so the scheduler's threads run chunks side by side): one pass for its
holdings, one over its days for the growth of 1 and its drawdowns, and the sums each
statistic needs from each leg's running totals over the stretches the variant holds it. It
gets the SPA's bootstrap sums from the variant's switches alone:

``d_t = net_t - b_t`` is ``gl_t - 1 - b_t`` plus ``gs_t - gl_t`` while small caps are held,
plus ``g_t (f - 1)`` on a day the position changes (``f`` the round trip's cost factor), so
with ``W`` the bootstrap's resampling counts and ``Q`` the running sums of ``W (gs - gl)``,
``sum_t W[r, t] d_t`` is ``W @ (gl - 1 - b)`` plus one table row per switch
(:func:`spa_tables`): 167 switches a variant on the daily grid instead of 6,542 days. The
numbers are the numpy path's (kernels.simulate, metrics, robustness) up to summation order,
about 1e-15 relative (tests/backtest/test_fused.py). :func:`cscv` does the same for PBO's
12,870 half-splits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

# columns of the metrics matrix the kernel fills
M_CAGR, M_VOL, M_SHARPE, M_SORTINO, M_DD, M_DD_LEN, M_SWITCHES, M_SMALL, M_HIT, M_END = range(10)
# columns of the sums matrix: Sharpe over cash and over the benchmark, the SPA's mean and variance
S_CASH, SS_CASH, SHIFT_CASH, S_BENCH, SS_BENCH, SHIFT_BENCH, D_MEAN, D_VAR = range(8)
_TINY = 1e-250  # powers below this are 0 (never subnormal: those are slow), as in robustness


@njit(nogil=True, cache=True, error_model="numpy")
def _held(values, signal, op, thr, v, t):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Whether every condition of variant ``v`` holds at column ``t`` (NaN: False)."""
    for j in range(signal.shape[1]):
        if signal[v, j] < 0:  # a variant with fewer conditions than the widest
            continue
        x = values[signal[v, j], t]
        th = thr[v, j]
        o = op[v, j]
        if o == 0:
            ok = x > th
        elif o == 1:
            ok = x >= th
        elif o == 2:
            ok = x < th
        else:
            ok = x <= th
        if not ok:
            return False
    return True


@njit(nogil=True, cache=True, error_model="numpy")
def _one_condition(x, o, th, flag, lag, h):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Holdings from one condition: ``h[t] = (x[t - lag] <op> th) == flag`` (NaN: False).

    ``flag`` says whether the condition holding means small caps; the first ``lag``
    columns repeat the first decision, as :func:`kernels.held` does. The operator is
    hoisted out of the loops, so each compiles to vector instructions.
    """
    t_all = x.shape[0]
    if o == 0:
        for t in range(lag, t_all):
            h[t] = (x[t - lag] > th) == flag
    elif o == 1:
        for t in range(lag, t_all):
            h[t] = (x[t - lag] >= th) == flag
    elif o == 2:
        for t in range(lag, t_all):
            h[t] = (x[t - lag] < th) == flag
    else:
        for t in range(lag, t_all):
            h[t] = (x[t - lag] <= th) == flag
    first = h[lag] if lag < t_all else False
    if lag >= t_all and t_all:
        first = _compare(x[0], o, th) == flag
    for t in range(min(lag, t_all)):
        h[t] = first


@njit(nogil=True, cache=True, error_model="numpy")
def _compare(a, o, th):  # type: ignore[no-untyped-def]  # pragma: no cover
    if o == 0:
        return a > th
    if o == 1:
        return a >= th
    if o == 2:
        return a < th
    return a <= th


@njit(nogil=True, cache=True, error_model="numpy")
def _variance(x, bench, mean, n, a, pw):  # type: ignore[no-untyped-def]  # pragma: no cover
    """:func:`robustness.stationary_variance` of one row ``x - bench - mean``, in one pass.

    The near pairs ``sum_{t<s} x_t x_s (1 - (s-t)/T) a^(s-t)`` through the two running sums a
    recursive filter carries (``y_s = sum_{t<s} a^(s-t) x_t``, ``z_s = sum_{t<s} (s-t)
    a^(s-t) x_t``); the wrapped pairs ``(s-t)/T a^(T-(s-t))`` factor as ``a^t a^(T-s)``
    (``pw[i] = a^i``, 0 below 1e-250).
    """
    g0 = 0.0
    near = 0.0
    y = 0.0
    z = 0.0
    f = 0.0
    g = 0.0
    wrap = 0.0
    for s in range(n):
        xs = x[s] - bench[s] - mean
        g0 += xs * xs
        near += xs * (y - z / n)
        wrap += xs * pw[n - s] * (s * f - g)
        y = a * (y + xs)
        z = a * z + y
        f += xs * pw[s]
        g += s * xs * pw[s]
    return (g0 + 2.0 * (near + wrap / n)) / n


# sums the kernel reads from each leg's running totals (prefix sums over the periods): the
# net return held without a switch x, the return over cash e, its square and the square of
# its negative part, whether it beat cash, the return over the benchmark d; then x, e and d
# less the leg's first value (u), and their squares, for the squared deviations
Q_X, Q_E, Q_E2, Q_DOWN, Q_HIT, Q_D, Q_UX, Q_UX2, Q_UE, Q_UE2, Q_UD, Q_UD2 = range(12)
N_SUMS = 6  # rows added into a variant's sums as they are
N_Q = 12


@njit(nogil=True, cache=True, error_model="numpy")
def _deviation(q, leg, j, a, b, delta):  # type: ignore[no-untyped-def]  # pragma: no cover
    """``sum_{a<=p<b} (u_p + delta)^2`` from leg ``leg``'s running totals of ``u`` and ``u^2``.

    ``u`` is the leg's value less its first value and ``delta`` that first value less the
    variant's first value, so a variant whose values are all its first value adds exact 0s.
    """
    s1 = q[leg, b, j] - q[leg, a, j]
    s2 = q[leg, b, j + 1] - q[leg, a, j + 1]
    return s2 + delta * (2.0 * s1 + (b - a) * delta)


@njit(nogil=True, cache=True, error_model="numpy")
def _earned(grow_s, grow_l, h, fee, t):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Column ``t``'s net return: the leg held the column before, less the cost on a switch."""
    g = grow_s[t] if h[t - 1] else grow_l[t]
    if h[t] != h[t - 1]:
        g *= fee
    return g - 1.0


@njit(nogil=True, cache=True, error_model="numpy")
def _mark(growth, p, peak, trough, low, last, longest):  # type: ignore[no-untyped-def]  # pragma: no cover
    """The drawdown state after period ``p``, whose growth of 1 is ``growth``.

    The peak, the trough under it, the lowest ratio of a trough to its peak so far and the
    most periods strictly between two peaks.
    """
    if growth >= peak:
        r = trough / peak  # min(w / peak) = min(w) / peak: division is monotone
        if r < low:
            low = r
        if p - last > longest:
            longest = p - last
        return growth, growth, low, p + 1, longest
    if growth < trough:
        trough = growth
    return peak, trough, low, last, longest


@njit(nogil=True, cache=True, error_model="numpy")
def _advance(grow, h, k, p, stop, growth, peak, trough, low, last, longest):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Periods ``p`` to before ``stop`` held in one leg (growth ``grow``), up to a switch.

    Returns the period it stopped at (``stop``, or the next switch) and the state of
    :func:`_mark` there.
    """
    while p < stop:
        t = k + p
        if h[t] != h[t - 1]:
            break
        # metrics multiplies by 1 + (g - 1): g itself, as g is a rounded y + 1, so g - 1 is exact
        growth *= grow[t]
        peak, trough, low, last, longest = _mark(growth, p, peak, trough, low, last, longest)
        p += 1
    return p, growth, peak, trough, low, last, longest


@njit(nogil=True, cache=True, error_model="numpy")
def _flush(out_s, out_ss, edges, b, i, s1, s2):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Variant ``i``'s sums of block ``b`` into ``out_s``/``out_ss``; the next block's state.

    Returns the next block, its empty sums and its end (-1 after the last).
    """
    out_s[b, i] = s1
    out_ss[b, i] = s2
    b += 1
    return b, 0.0, 0.0, edges[b + 1] if b < edges.shape[0] - 1 else -1


@njit(nogil=True, cache=True, error_model="numpy")
def sweep(  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    idx,
    values,
    signal,
    op,
    thr,
    on_small,
    off_small,
    grow_s,
    grow_l,
    rc,
    fee,
    lag,
    k,
    bench,
    pre,
    first,
    pbo_edges,
    wf_edges,
    want_var,
    spa_block,
    pw,
    metrics_out,
    sums_out,
    pbo_s,
    pbo_ss,
    seg_s,
    seg_ss,
    events,
    event_end,
    net_out,
):
    """Every variant of ``idx``: its holdings, then one pass over its days (module notes).

    The day loop (:func:`_advance`) carries only what must go day by day: the growth of 1,
    its peaks and troughs. Everything else is read from each leg's running totals
    ``pre[leg, :, Q_*]`` over the stretches the variant holds that leg (``first[leg]``: the
    leg's first x, e and d, from which the ``Q_U*`` columns are taken), and taken day by
    day only on a switch (the cost): a few operations per switch and per block edge. A
    stretch never crosses a block edge, so a block's sums add only that block's stretches:
    variants with the same returns in a block have the same sums there, bit for bit (PBO's
    ties). Fills ``metrics_out`` (M_* columns; switches counted, not annualised),
    ``sums_out`` (S_* columns), the block sums ``pbo_s``/``pbo_ss``/``seg_s``/``seg_ss``
    (``(B, n)``) and the net returns ``net_out`` (when it has rows); records each switch
    from period ``k`` on as ``2 (t - k) + (1 if into small)`` in ``events`` (when not
    empty), ``event_end[i]`` marking where variant ``i``'s end.
    """
    t_all = values.shape[1]
    n = t_all - k
    ins = np.empty(t_all, dtype=np.bool_)
    h = np.empty(t_all, dtype=np.bool_)
    x = np.empty(n)
    has_bench = bench.shape[0] > 0
    record = events.shape[0] > 0
    keep = net_out.shape[0] > 0
    n_pbo = pbo_edges.shape[0] - 1
    n_wf = wf_edges.shape[0] - 1
    a_var = 1.0 - 1.0 / spa_block
    n_events = 0
    sums = np.zeros(N_SUMS)
    for i in range(idx.shape[0]):
        v = idx[i]
        single = True
        for j in range(1, signal.shape[1]):
            single = single and signal[v, j] < 0
        if on_small[v] == off_small[v]:  # the same leg either way
            h[:] = on_small[v]
        elif single and signal[v, 0] >= 0:  # one condition: one pass the compiler vectorises
            _one_condition(values[signal[v, 0]], op[v, 0], thr[v, 0], on_small[v], lag, h)
        else:
            for t in range(t_all):
                ins[t] = on_small[v] if _held(values, signal, op, thr, v, t) else off_small[v]
            for t in range(lag, t_all):
                h[t] = ins[t - lag]
            for t in range(min(lag, t_all)):
                h[t] = ins[0]
        switches = 0
        for t in range(1, k):  # switches before the first decided period: turnover only
            if h[t] != h[t - 1]:
                switches += 1
        sums[:] = 0.0
        small = 0
        growth = 1.0
        peak = 1.0
        trough = 1.0
        low = 1.0
        last = 0
        longest = 0
        pb = 0
        p1 = 0.0
        p2 = 0.0
        next_pb = pbo_edges[1] if n_pbo > 0 else -1
        wb = 0
        w1 = 0.0
        w2 = 0.0
        next_wb = wf_edges[1] if n_wf > 0 else -1
        seg = 0
        cur = 1 if h[k - 1] else 0
        # the first day's values, from which the squared deviations are taken (exact 0s for
        # a constant series; no cancellation worth a bit: the first day is a few deviations
        # off at most)
        c_x = 0.0
        c_e = 0.0
        c_d = 0.0
        if n > 0:
            c_x = _earned(grow_s, grow_l, h, fee, k)
            c_e = c_x - rc[k]
            c_d = c_x - bench[0] if has_bench else 0.0
        sxx = 0.0
        see = 0.0
        sdd = 0.0
        p = 0
        while p < n:
            # the days up to the next switch, block edge or the end, in a loop of their own
            # (with the stretch and switch work inside it, the growth spilled to memory and
            # every day paid for it); then what is due there
            stop = n
            if 0 < next_pb < stop:
                stop = next_pb
            if 0 < next_wb < stop:
                stop = next_wb
            p, growth, peak, trough, low, last, longest = _advance(
                grow_s if cur else grow_l, h, k, p, stop, growth, peak, trough, low, last, longest
            )
            # close the stretch [seg, p) held in leg cur
            if p > seg:
                # (indexed whole, not through views: a view costs a reference count)
                for j in range(N_SUMS):
                    sums[j] += pre[cur, p, j] - pre[cur, seg, j]
                sxx += _deviation(pre, cur, Q_UX, seg, p, first[cur, 0] - c_x)
                see += _deviation(pre, cur, Q_UE, seg, p, first[cur, 1] - c_e)
                if has_bench:
                    sdd += _deviation(pre, cur, Q_UD, seg, p, first[cur, 2] - c_d)
                if cur:
                    small += p - seg
                de = pre[cur, p, Q_E] - pre[cur, seg, Q_E]
                de2 = pre[cur, p, Q_E2] - pre[cur, seg, Q_E2]
                p1 += de
                p2 += de2
                w1 += de
                w2 += de2
                seg = p
            if p < stop:  # the switch day itself, with its cost
                t = k + p
                xp = _earned(grow_s, grow_l, h, fee, t)
                growth *= 1.0 + xp  # as metrics does: not g itself when g * fee < 0.5
                peak, trough, low, last, longest = _mark(
                    growth, p, peak, trough, low, last, longest
                )
                switches += 1
                if record:
                    events[n_events] = 2 * p + (1 if h[t] else 0)
                    n_events += 1
                e = xp - rc[t]
                dn = min(e, 0.0)
                db = xp - bench[p] if has_bench else 0.0
                sums[Q_X] += xp
                sums[Q_E] += e
                sums[Q_E2] += e * e
                sums[Q_DOWN] += dn * dn
                sums[Q_HIT] += 1.0 if xp > rc[t] else 0.0
                sums[Q_D] += db
                sxx += (xp - c_x) * (xp - c_x)
                see += (e - c_e) * (e - c_e)
                sdd += (db - c_d) * (db - c_d)
                small += cur
                p1 += e
                p2 += e * e
                w1 += e
                w2 += e * e
                p += 1
                seg = p
                cur = 1 - cur
            if p == next_pb:
                pb, p1, p2, next_pb = _flush(pbo_s, pbo_ss, pbo_edges, pb, i, p1, p2)
            if p == next_wb:
                wb, w1, w2, next_wb = _flush(seg_s, seg_ss, wf_edges, wb, i, w1, w2)
        r = trough / peak
        if r < low:
            low = r
        if n - last > longest:
            longest = n - last
        mean = sums[Q_X] / n
        mean_e = sums[Q_E] / n
        mean_d = sums[Q_D] / n
        if keep or (has_bench and want_var and mean_d < 0.0):
            for p in range(n):  # the net returns day by day: kept, or for the SPA's variance
                x[p] = _earned(grow_s, grow_l, h, fee, k + p)
        if keep:
            for p in range(n):
                net_out[i, p] = x[p]
        dev = max(sxx - n * (mean - c_x) ** 2, 0.0)
        dev_e = max(see - n * (mean_e - c_e) ** 2, 0.0)
        dev_d = max(sdd - n * (mean_d - c_d) ** 2, 0.0)
        c_s = sums[Q_E] - n * mean_e  # the deviations' sum: 0 up to rounding
        b_s = sums[Q_D] - n * mean_d
        m = metrics_out[i]  # annualised by the caller
        m[M_CAGR] = growth
        m[M_VOL] = math.sqrt(dev / (n - 1))
        sd_e = math.sqrt(dev_e / (n - 1))
        m[M_SHARPE] = mean_e / sd_e if sd_e > 0 else np.nan
        dd = math.sqrt(sums[Q_DOWN] / n)
        m[M_SORTINO] = mean_e / dd if dd > 0 else np.nan
        m[M_DD] = low - 1.0
        m[M_DD_LEN] = longest
        m[M_SWITCHES] = switches
        m[M_SMALL] = small / (t_all - k)
        m[M_HIT] = sums[Q_HIT] / n
        m[M_END] = 1.0 if h[t_all - 1] else 0.0
        if record:
            event_end[i] = n_events
        sm = sums_out[i]
        sm[S_CASH] = c_s
        sm[SS_CASH] = dev_e
        sm[SHIFT_CASH] = mean_e
        if has_bench:
            sm[S_BENCH] = b_s
            sm[SS_BENCH] = dev_d
            sm[SHIFT_BENCH] = mean_d
            sm[D_MEAN] = mean_d
            if want_var and mean_d < 0.0:
                sm[D_VAR] = _variance(x, bench, mean_d, n, a_var, pw)
            else:
                sm[D_VAR] = np.nan
    return n_events


def running_totals(
    grow_s: np.ndarray, grow_l: np.ndarray, rc: np.ndarray, bench: np.ndarray | None, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each leg's running totals over the periods, and its first x, e and d.

    ``(2, n + 1, N_Q)`` and ``(2, 3)``, leg 1 small, 0 large. Column ``Q_*`` of a leg sums,
    from period 0 to before period ``p``, its net return held without a switch ``x = g - 1``
    (as the kernel computes it), the return over cash ``e``, its square and the square of
    its negative part, whether it beat cash, and the return over the benchmark ``d``; the
    ``Q_U*`` columns sum x, e and d less their first values, and the squares of those.
    """
    n = len(rc) - k
    out = np.zeros((2, n + 1, N_Q))  # a period's totals side by side: one cache line a switch
    first = np.zeros((2, 3))
    cash = rc[k:]
    for leg, grow in ((0, grow_l), (1, grow_s)):
        x = grow[k:] - 1.0
        e = x - cash
        d = x - bench if bench is not None else np.zeros(n)
        rows: list[np.ndarray] = [x, e, e * e, np.minimum(e, 0.0) ** 2, (x > cash) * 1.0, d]
        for col, series in enumerate((x, e, d)):
            u = series - series[0] if n else series
            first[leg, col] = series[0] if n else 0.0
            rows += [u, u * u]
        for j, q in enumerate(rows):
            np.cumsum(q, out=out[leg, 1:, j])
    return out, first


GROUP = 256  # replications per pass of bootstrap_sums (measured: 4 to 1,000, 256 best)


@njit(nogil=True, cache=True, error_model="numpy")
def bootstrap_sums(  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    events, event_end, table, base, q_end, held_end, boot
):
    """Each variant's bootstrap sums ``boot`` (``(variants, groups * GROUP)``) from its switches.

    ``base`` for every variant, plus the table row of each switch (``table[g, code]`` holds
    replications ``g * GROUP`` to ``g * GROUP + GROUP - 1`` of the row for switch ``code``),
    plus ``q_end`` where small caps are held at the end (``held_end``). The chunk's switches
    are sorted by date (a counting sort, stable: each variant's still add in date order), then
    taken a group of replications at a time: the group's table streams through once while
    the chunk's sums stay in cache. Read a whole 1,000-replication row per switch instead,
    variant after variant, and the 105 MB of tables come from memory at every switch.
    """
    v = event_end.shape[0]
    m = event_end[v - 1] if v else 0
    groups, n_codes, width = table.shape
    count = np.zeros(n_codes + 1, dtype=np.int64)
    for j in range(m):
        count[events[j] + 1] += 1
    for c in range(n_codes):
        count[c + 1] += count[c]
    code = np.empty(m, dtype=np.int32)
    row = np.empty(m, dtype=np.int32)
    start = 0
    for i in range(v):
        for j in range(start, event_end[i]):
            c = events[j]
            code[count[c]] = c
            row[count[c]] = i
            count[c] += 1
        start = event_end[i]
    acc = np.empty((v, width))
    for g in range(groups):
        tab = table[g]
        for i in range(v):
            for r in range(width):
                acc[i, r] = base[g, r] + q_end[g, r] if held_end[i] else base[g, r]
        for j in range(m):
            src = tab[code[j]]
            dst = acc[row[j]]
            for r in range(width):
                dst[r] += src[r]
        boot[:, g * width : (g + 1) * width] = acc


@dataclass(frozen=True, slots=True, eq=False)
class SpaTables:
    """:func:`spa_tables`: a switching sweep's bootstrap tables, shared by its chunks."""

    base: np.ndarray  # (G, GROUP)
    table: np.ndarray  # (G, 2 n, GROUP)
    end: np.ndarray  # (G, GROUP)
    reps: int


def spa_tables(
    resampled: np.ndarray,
    grow_s: np.ndarray,
    grow_l: np.ndarray,
    bench: np.ndarray,
    fee: float,
    k: int,
) -> SpaTables:
    """What the kernel adds to a variant's bootstrap sums: a base, a row per switch, an end.

    ``resampled`` is the plan's ``(reps, n)`` row indices (int) or resampling counts
    (float) over the ``n`` evaluated periods (full-grid columns ``k`` on). With ``W`` the
    counts and ``Q`` the running sums of ``W (gs - gl)``, a switch into large on period ``t``
    adds ``Q[:, t] + (f - 1) gs_t W[:, t]`` and one into small ``-Q[:, t] + (f - 1) gl_t
    W[:, t]``; every variant starts from ``W @ (gl - 1 - b)`` and adds ``Q[:, n - 1]`` when it
    holds small caps at the end. Kept by groups of :data:`GROUP` replications (zero-padded):
    ``table[g, 2 t]`` the switch into large, ``table[g, 2 t + 1]`` the one into small (the
    codes :func:`sweep` records).
    """
    x = np.asarray(resampled)
    reps, n = x.shape
    groups = -(-reps // GROUP)
    base = np.zeros((groups, GROUP))
    end = np.zeros((groups, GROUP))
    table = np.empty((groups, 2 * n, GROUP))  # every row is written; the padding is zeroed
    table[-1, :, reps - (groups - 1) * GROUP :] = 0.0
    gs = _c(grow_s[k:], np.float64)
    gl = _c(grow_l[k:], np.float64)
    b = _c(bench, np.float64)
    fee = float(fee)
    if np.issubdtype(x.dtype, np.integer):
        _fill_tables(_c(x, np.int64), np.empty((0, 0)), gs, gl, b, fee,
                     base, table, end)  # fmt: skip
    else:
        _fill_tables(np.empty((0, 0), dtype=np.int64), _c(x, np.float64),
                     gs, gl, b, fee, base, table, end)  # fmt: skip
    return SpaTables(base, table, end, reps)


@njit(nogil=True, cache=True, error_model="numpy")
def _fill_tables(idx, w, gs, gl, bench, fee, base, table, end):  # type: ignore[no-untyped-def]  # pragma: no cover
    """:func:`spa_tables`' arrays, one replication at a time (counts from ``idx`` or ``w``)."""
    reps = idx.shape[0] if idx.shape[0] > 0 else w.shape[0]
    n = gs.shape[0]
    width = table.shape[2]
    counts = np.zeros(n)
    for r in range(reps):
        g, rr = divmod(r, width)
        if idx.shape[0] > 0:
            counts[:] = 0.0
            for j in range(n):
                counts[idx[r, j]] += 1.0
        else:
            counts[:] = w[r]
        acc = 0.0
        q = 0.0
        for t in range(n):
            c = counts[t]
            acc += c * (gl[t] - 1.0 - bench[t])
            q += c * (gs[t] - gl[t])
            table[g, 2 * t, rr] = q + (fee - 1.0) * gs[t] * c
            table[g, 2 * t + 1, rr] = (fee - 1.0) * gl[t] * c - q
        base[g, rr] = acc
        end[g, rr] = q


def growths(
    r_small: np.ndarray,
    r_large: np.ndarray,
    r_cash: np.ndarray,
    *,
    cost: float,
    expense_small: float,
    expense_large: float,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Each leg's growth per period and the factor a switch applies (1 without costs).

    The general kernel's expression (:func:`kernels.simulate`) with weights ``(1, 0)`` and
    ``(0, 1)``, so the numbers are its own bit for bit; column 0 is 1 (no period yet).
    """
    rs = np.asarray(r_small, float) - expense_small
    rl = np.asarray(r_large, float) - expense_large
    rc = _c(r_cash, np.float64)
    grow_s = np.r_[1.0, ((rs - rc)[1:] + rc[1:]) + 1.0]
    grow_l = np.r_[1.0, ((rl - rc)[1:] + rc[1:]) + 1.0]
    fee = (1.0 - cost * 1.0) / (1.0 + cost * 1.0) if cost else 1.0
    return grow_s, grow_l, fee


def powers(block_size: int, n: int) -> np.ndarray:
    """``a ** i`` for ``i`` in ``0..n`` with ``a = 1 - 1/block_size``, 0 below 1e-250."""
    a = 1.0 - 1.0 / block_size
    pw = a ** np.arange(n + 1, dtype=np.float64)
    pw[pw < _TINY] = 0.0
    return pw


def _c(a: Any, dtype: Any) -> np.ndarray:
    """``a`` as a C-ordered, writable array of ``dtype`` (copied only when it is not).

    numba compiles, and caches, one machine code per argument type, and a read-only array
    is a type of its own: every call passes writable arrays, so one code serves them all
    (a second would cost a compilation of about 20 s).
    """
    return np.require(a, dtype=dtype, requirements=["C", "W"])


_EMPTY_F = np.empty(0)
_EMPTY_I = np.zeros(1, dtype=np.int64)


def switching_chunk(
    idx: np.ndarray,
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
    wf_edges: np.ndarray | None = None,
    spa_tables: SpaTables | None = None,
    spa_block: int = 1,
    keep: bool = False,
) -> dict[str, Any]:
    """The switching variants ``idx``: what :func:`engine.evaluate_chunk` returns for them.

    Metrics, the centred sums of the returns over cash and over the benchmark
    (``cash_sums``, ``bench_sums``: sum, sum of squares, centre), the block sums (``pbo_s``,
    ``pbo_ss``, ``seg_s``, ``seg_ss``), the SPA's mean differences, variances (NaN where
    the mean is not negative) and bootstrap sums (``spa_mean``, ``spa_var``, ``spa_boot``)
    and, when ``keep``, the net returns from the first decided period.
    """
    idx = _c(idx, np.int64)
    k = lag + 1
    t_all = len(r_cash)
    n = t_all - k
    rc = _c(r_cash, np.float64)
    grow_s, grow_l, fee = growths(
        r_small, r_large, rc, cost=cost, expense_small=expense_small, expense_large=expense_large
    )
    v = len(idx)
    pe = _c(pbo_edges if pbo_edges is not None else _EMPTY_I, np.int64)
    we = _c(wf_edges if wf_edges is not None else _EMPTY_I, np.int64)
    bench = _EMPTY_F if r_bench is None else _c(r_bench, np.float64)
    spa = spa_tables is not None
    pw = powers(spa_block, n) if spa else _EMPTY_F
    metrics_out = np.empty((v, 10))
    sums_out = np.full((v, 8), np.nan)
    pbo_s = np.empty((len(pe) - 1, v))
    pbo_ss = np.empty((len(pe) - 1, v))
    seg_s = np.empty((len(we) - 1, v))
    seg_ss = np.empty((len(we) - 1, v))
    # room for every possible switch: np.empty only commits the pages the switches use
    events = np.empty(v * n if spa else 0, dtype=np.int32)
    event_end = np.empty(v if spa else 0, dtype=np.int64)
    net_out = np.empty((v if keep else 0, n))
    sweep(
        idx, _c(values, np.float64), _c(signal, np.int64), _c(op, np.int64),
        _c(threshold, np.float64), _c(on[:, 0] == 1.0, np.bool_), _c(off[:, 0] == 1.0, np.bool_),
        grow_s, grow_l, rc, float(fee), int(lag), int(k), bench,
        *running_totals(grow_s, grow_l, rc, None if r_bench is None else bench, k),
        pe, we, bool(spa), int(spa_block), pw,
        metrics_out, sums_out, pbo_s, pbo_ss, seg_s, seg_ss, events, event_end, net_out,
    )  # fmt: skip
    ppy = periods_per_year
    root = math.sqrt(ppy)
    years = n / ppy
    growth = metrics_out[:, M_CAGR]
    with np.errstate(invalid="ignore", divide="ignore"):
        cagr = np.where(growth > 0, growth ** (1.0 / years) - 1.0, -1.0)
    out: dict[str, Any] = {
        "cagr": cagr,
        "vol": metrics_out[:, M_VOL] * root,
        "sharpe": metrics_out[:, M_SHARPE] * root,
        "sortino": metrics_out[:, M_SORTINO] * root,
        "max_dd": metrics_out[:, M_DD].copy(),
        "max_dd_periods": metrics_out[:, M_DD_LEN].astype(np.int64),
        "turnover": 2.0 * metrics_out[:, M_SWITCHES] / years,
        "time_small": metrics_out[:, M_SMALL].copy(),
        "hit_rate": metrics_out[:, M_HIT].copy(),
    }
    if keep:
        out["net"] = net_out
    out["cash_sums"] = sums_out[:, [S_CASH, SS_CASH, SHIFT_CASH]].T
    if pbo_edges is not None:
        out["pbo_s"], out["pbo_ss"] = pbo_s, pbo_ss
    if wf_edges is not None:
        out["seg_s"], out["seg_ss"] = seg_s, seg_ss
    if r_bench is not None:
        out["bench_sums"] = sums_out[:, [S_BENCH, SS_BENCH, SHIFT_BENCH]].T
    if spa_tables is not None:
        tables = spa_tables
        boot = np.empty((v, tables.base.size))
        bootstrap_sums(
            events, event_end, tables.table, tables.base, tables.end,
            metrics_out[:, M_END] == 1.0, boot,
        )  # fmt: skip
        boot = boot[:, : tables.reps]
        out["spa_mean"] = sums_out[:, D_MEAN].copy()
        out["spa_var"] = sums_out[:, D_VAR].copy()
        out["spa_boot"] = boot
    return out


STACK_BYTES = 64 * 2**20  # partial sums cscv keeps per thread (to 262,144 variants at S = 16)


@njit(nogil=True, cache=True, error_model="numpy")
def _half_sums(bs, bss, blocks, prev, stack, stack2):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Sums over ``blocks`` (in their order) into ``stack[-1]``, reusing earlier partial sums.

    ``prev`` is the previous half's blocks (``prev[0] < 0``: none); ``stack[j]`` holds each
    variant's sum of the first ``j + 1`` blocks, added one after another from 0, so the
    result is the plain sequential sum, bit for bit. Halves taken in lexicographic order
    share their first blocks with the previous one, whose sums are kept. Loops run over the
    variants innermost (``bs`` is ``(S, N)``) and compile to vector instructions.
    """
    n = bs.shape[1]
    m = blocks.shape[0]
    if stack.shape[0] < m:  # no room for the partial sums: add every block into one row
        out = stack[0]
        out2 = stack2[0]
        for v in range(n):
            out[v] = 0.0
            out2[v] = 0.0
        for j in range(m):
            row = bs[blocks[j]]
            row2 = bss[blocks[j]]
            for v in range(n):
                out[v] += row[v]
                out2[v] += row2[v]
        return
    j0 = 0
    if prev[0] >= 0:
        while j0 < m and blocks[j0] == prev[j0]:
            j0 += 1
    for j in range(j0, m):
        row = bs[blocks[j]]
        row2 = bss[blocks[j]]
        out = stack[j]
        out2 = stack2[j]
        if j == 0:
            for v in range(n):
                out[v] = 0.0 + row[v]
                out2[v] = 0.0 + row2[v]
        else:
            last = stack[j - 1]
            last2 = stack2[j - 1]
            for v in range(n):
                out[v] = last[v] + row[v]
                out2[v] = last2[v] + row2[v]


@njit(nogil=True, cache=True, error_model="numpy")
def _sharpes(s, ss, n_obs, flat, out):  # type: ignore[no-untyped-def]  # pragma: no cover
    """:func:`robustness.sharpe_from_raw_sums` of every variant from its sums."""
    for v in range(s.shape[0]):
        mean = s[v] / n_obs
        var = (ss[v] - s[v] * mean) / (n_obs - 1.0)
        out[v] = 0.0 if var <= mean * mean * flat else mean / math.sqrt(var)


@njit(nogil=True, cache=True, error_model="numpy")
def cscv(  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    bs,
    bss,
    members,
    others,
    n_in,
    n_out,
    flat_in,
    flat_out,
    lo,
    hi,
    chosen,
    is_sr,
    oos_sr,
    rank,
):
    """PBO's half-splits ``lo:hi`` from the per-block sums ``bs``/``bss`` (``(S, N)``).

    Split ``h`` takes blocks ``members[h]`` in sample and ``others[h]`` out; its mirror
    (``H + h``) the other way round. For each: the in-sample winner (lowest variant on
    ties), its in- and out-of-sample Sharpe ratios and the winner's out-of-sample rank among
    all variants (ties averaged). A half's sums add its own blocks in order, so variants with
    the same returns there tie exactly. numpy needed four ``(splits, S) @ (S, N)`` products
    and a dozen ``(splits, N)`` temporaries for what this does in a few passes over ``N``
    per split (the halves, in lexicographic order, reuse each other's partial sums).
    """
    n = bs.shape[1]
    n_half = members.shape[0]
    m = members.shape[1]
    sr_a = np.empty(n)
    sr_b = np.empty(n)
    # running sums of the in-sample and out-of-sample blocks, kept for the next half when
    # they fit in STACK_BYTES (else one row each: a million variants would need 256 MB)
    levels = m if 4 * m * n * 8 <= STACK_BYTES else 1
    stacks = np.empty((4, levels, n))
    none = np.full(m, -1, dtype=np.int64)
    for h in range(lo, hi):
        before = none if h == lo else members[h - 1]
        _half_sums(bs, bss, members[h], before, stacks[0], stacks[1])
        before = none if h == lo else others[h - 1]
        _half_sums(bs, bss, others[h], before, stacks[2], stacks[3])
        _sharpes(stacks[0, levels - 1], stacks[1, levels - 1], n_in[h], flat_in[h], sr_a)
        _sharpes(stacks[2, levels - 1], stacks[3, levels - 1], n_out[h], flat_out[h], sr_b)
        for side in range(2):
            sr_in = sr_a if side == 0 else sr_b
            sr_out = sr_b if side == 0 else sr_a
            star = 0
            top = sr_in[0]
            for v in range(1, n):
                if sr_in[v] > top:
                    star = v
                    top = sr_in[v]
            target = sr_out[star]
            below = 0
            equal = 0
            for v in range(n):
                below += sr_out[v] < target
                equal += sr_out[v] == target
            at = h + side * n_half
            chosen[at] = star
            is_sr[at] = sr_in[star]
            oos_sr[at] = target
            rank[at] = below + (equal + 1) / 2.0
