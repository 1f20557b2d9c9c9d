"""Vectorised kernels: target weights in, net returns out, for many variants at once.

Arrays are ``(V, T)``: V variants (rows) by T dates (columns), float64. Conventions:

* ``w_small[v, t]`` (and ``w_large``; by default ``1 - w_small``) is the allocation *decided* at
  the close of date ``t`` from what was public then. The trade is executed ``lag`` closes later,
  at the close of ``t + lag``, so the weights earn the returns of period ``t + lag + 1`` (from
  close ``t + lag`` to close ``t + lag + 1``). ``lag = 0`` trades at the decision's own close.
* The rest, ``1 - w_small - w_large``, sits in cash and earns ``r_cash``.
* Costs are paid per leg on the value traded (``cost`` is a decimal, 5 bps = 0.0005): sales
  pay ``cost`` on what is sold, and purchases, financed from what is in hand, pay ``cost`` on
  what is bought. A trade at a close therefore multiplies the portfolio's value by
  ``(1 - cost * sells) / (1 + cost * buys)``, with ``sells`` and ``buys`` the falls and rises of
  the two equity weights (cash carries no fee). To first order that is ``1 - cost * turnover``,
  with turnover ``sum |dw|``; for a full switch from one fund to the other it is
  ``(1 - cost) / (1 + cost)``, exactly what a broker's account (and vectorbt with shared cash)
  gives.
* Weights are held at their targets between trades (drift is not traded and not charged).
* Expense ratios are charged per period on the equity held: pass ``expense / periods_per_year``.

The returned ``net[v, j]`` is the return of period ``j`` (close ``j - 1`` to close ``j``) including
the trade made at close ``j``; ``net[:, 0]`` only carries an entry trade. Columns before
``lag + 1`` precede the first decision's trade; callers evaluate from there (see
:func:`first_period`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

Float2D = np.ndarray  # (V, T) float64
Float1D = np.ndarray  # (T,) float64


class Simulation(NamedTuple):
    """Net returns and trading totals of a block of variants."""

    net: Float2D  # (V, T) net periodic returns, see the module docstring
    turnover: Float1D  # (V,) sum over all trades of sum |dw| over the two equity legs
    held_small: Float2D  # (V, T) weight of small caps held over period j (close j-1 to j)


def first_period(lag: int) -> int:
    """Index of the first period whose holdings come from a decision (``lag + 1``)."""
    return lag + 1


def held(positions: Float2D, lag: int, start: Float1D | None = None) -> Float2D:
    """Weights in force after each close: ``held[:, k] = positions[:, k - lag]``.

    Before the first trade (``k < lag``) the weights are ``start`` (default: the first
    decision's, so no entry trade is counted).
    """
    v, t = positions.shape
    out = np.empty((v, t))
    out[:, lag:] = positions[:, : t - lag]
    if lag:
        first = positions[:, :1] if start is None else np.asarray(start, float).reshape(-1, 1)
        out[:, :lag] = first
    return out


def simulate(
    w_small: Float2D,
    r_small: Float1D,
    r_large: Float1D,
    r_cash: Float1D | None = None,
    *,
    w_large: Float2D | None = None,
    lag: int = 1,
    cost: float = 0.0,
    expense_small: float = 0.0,
    expense_large: float = 0.0,
    start_in_cash: bool = False,
) -> Simulation:
    """Net returns of every variant (rows) from target weights.

    Parameters
    ----------
    w_small : ndarray, shape (V, T)
        Decided weight of small caps at each close.
    r_small, r_large : ndarray, shape (T,)
        Period returns of the two legs (``r[j]``: close ``j - 1`` to close ``j``).
    r_cash : ndarray, shape (T,), optional
        Period return of cash (default 0).
    w_large : ndarray, shape (V, T), optional
        Decided weight of large caps; default ``1 - w_small`` (always fully invested).
    lag : int, default 1
        Closes between decision and trade.
    cost : float
        Fee per leg as a decimal of the value traded.
    expense_small, expense_large : float
        Expense per period of each fund, as a decimal.
    start_in_cash : bool, default False
        Start from cash, so the first trade (at close ``lag``) buys in and pays for it;
        otherwise the first decided weights are taken as already held.

    Returns
    -------
    Simulation
    """
    if lag < 0:
        raise ValueError(f"lag must be >= 0, got {lag}")
    ws = np.asarray(w_small, dtype=float)
    if ws.ndim != 2:
        raise ValueError(f"w_small must be 2-D (variants x dates), got shape {ws.shape}")
    v, t = ws.shape
    rs = np.asarray(r_small, float) - expense_small
    rl = np.asarray(r_large, float) - expense_large
    rc = np.zeros(t) if r_cash is None else np.asarray(r_cash, float)
    if not (len(rs) == len(rl) == len(rc) == t):
        raise ValueError(f"returns must have {t} periods like the weights")
    hs = held(ws, lag)
    net = np.empty((v, t))
    if w_large is None:
        # fully invested: return = rl + h * (rs - rl); a trade moves both legs by |dh|
        net[:, 0] = 0.0
        np.multiply(hs[:, :-1], (rs - rl)[1:], out=net[:, 1:])
        net[:, 1:] += rl[1:]
        dh = np.diff(hs, axis=1, prepend=hs[:, :1])
        np.abs(dh, out=dh)
        turnover = 2.0 * dh.sum(axis=1)
        net += 1.0
        if cost:
            dh *= cost
            net *= 1.0 - dh
            dh += 1.0
            net /= dh
        entry_weight = np.ones(v)
    else:
        wl = np.asarray(w_large, dtype=float)
        hl = held(wl, lag)
        net[:, 0] = 0.0
        net[:, 1:] = hs[:, :-1] * (rs - rc)[1:] + hl[:, :-1] * (rl - rc)[1:] + rc[1:]
        ds = np.diff(hs, axis=1, prepend=hs[:, :1])
        dl = np.diff(hl, axis=1, prepend=hl[:, :1])
        sells = np.maximum(-ds, 0.0) + np.maximum(-dl, 0.0)
        buys = np.maximum(ds, 0.0) + np.maximum(dl, 0.0)
        turnover = (sells + buys).sum(axis=1)
        net += 1.0
        if cost:
            net *= (1.0 - cost * sells) / (1.0 + cost * buys)
        entry_weight = hs[:, lag] + hl[:, lag] if t > lag else np.zeros(v)
    if start_in_cash and t > lag:
        # periods up to the first trade earn cash; the first trade buys the equity weights
        net[:, 1 : lag + 1] = 1.0 + rc[1 : lag + 1]
        net[:, lag] /= 1.0 + cost * entry_weight
        turnover = turnover + entry_weight
    net -= 1.0
    return Simulation(net, turnover, hs)


def positions_from_conditions(
    conditions: np.ndarray,
    index: np.ndarray,
    on: np.ndarray,
    off: np.ndarray,
) -> tuple[Float2D, Float2D]:
    """Weights of small and large caps for variants that AND a few boolean conditions.

    Parameters
    ----------
    conditions : ndarray of bool, shape (K, T)
        A bank of condition rows (a NaN signal is False).
    index : ndarray of int, shape (V, M)
        Rows of ``conditions`` each variant ANDs; ``-1`` pads (always true).
    on, off : ndarray, shape (V, 2)
        Weights (small, large) when all conditions hold and otherwise.

    Returns
    -------
    (w_small, w_large) : ndarrays, shape (V, T)
    """
    v, m = index.shape
    all_true = np.ones((v, conditions.shape[1]), dtype=bool)
    for j in range(m):
        col = index[:, j]
        use = col >= 0
        if use.any():
            all_true[use] &= conditions[col[use]]
    w_small = np.where(all_true, on[:, :1], off[:, :1])
    w_large = np.where(all_true, on[:, 1:2], off[:, 1:2])
    return w_small, w_large


class SwitchStats(NamedTuple):
    """Sums over periods of a block of all-in switching variants (see :func:`switch_stats`)."""

    n: int  # periods summed
    total: Float1D  # (V,) sum of net returns
    total_sq: Float1D  # (V,) sum of squared net returns
    log_growth: Float1D  # (V,) sum of log(1 + net return)
    trades: Float1D  # (V,) switches (and the entry, if started in cash)


def switch_stats(
    in_small: np.ndarray,
    r_small: Float1D,
    r_large: Float1D,
    *,
    lag: int = 1,
    cost: float = 0.0,
    expense_small: float = 0.0,
    expense_large: float = 0.0,
    start_in_cash: bool = False,
    work: tuple[Float2D, Float2D] | None = None,
) -> SwitchStats:
    """The sums behind growth and Sharpe for variants all in small or all in large caps.

    Same model and the same numbers as :func:`simulate` with ``w_small`` in {0, 1} and no
    cash, summed over periods ``lag + 1 ..`` (from period 0 when ``start_in_cash``), without
    building the ``(V, T)`` net returns. With a 0/1 decision path ``p`` the return of period
    ``j`` is ``rl + p[j-1-lag] * (rs - rl)``; a switch (``s_m = |p[m+1] - p[m]|``, charged to
    period ``m + 1 + lag``) multiplies that period's growth by ``F = (1 - cost) / (1 + cost)``.
    Every sum (returns, squares, logs, switches) is then linear in ``p[m]``, ``p[m+1]`` and
    ``q[m] = p[m] p[m+1]`` (``s = p[m] + p[m+1] - 2q``; a switch out of small caps is
    ``p[m] - q``), so three matrix products with a few columns give them all: about five passes
    over the block and no ``(V, T)`` temporaries.

    Parameters
    ----------
    in_small : ndarray of bool, shape (V, T)
        True where the decision at close ``t`` is "all in small caps".
    r_small, r_large, lag, cost, expense_small, expense_large, start_in_cash
        As for :func:`simulate` (``start_in_cash`` needs ``lag = 0``).
    work : pair of float64 arrays of shape at least (V, T), optional
        Buffers to reuse from block to block (fresh pages cost more than the arithmetic).

    Returns
    -------
    SwitchStats
    """
    pos = np.asarray(in_small, dtype=bool)
    v, t = pos.shape
    if start_in_cash and lag:
        raise ValueError("start_in_cash is supported with lag 0 only")
    if t < lag + 2:
        raise ValueError(f"need at least lag + 2 = {lag + 2} dates, got {t}")
    rs = np.asarray(r_small, float) - expense_small
    rl = np.asarray(r_large, float) - expense_large
    d = rs - rl
    p = np.empty((v, t)) if work is None else work[0][:v, :t]
    np.copyto(p, pos)
    # periods j = lag+1 .. t-1 hold decision m = j-1-lag = 0 .. t-2-lag; a switch between
    # decisions m and m+1 is charged to period m+1+lag, the same range
    k = np.arange(lag + 1, t)
    m0, m1 = 0, t - 1 - lag  # decision columns m0 .. m1-1
    rl_k, d_k, rs_k = rl[k], d[k], rs[k]
    log_l = np.log1p(rl_k)
    f = (1.0 - cost) / (1.0 + cost)
    u0 = 1.0 + rl_k  # growth when holding large; holding small adds d
    a1, b1 = (f - 1.0) * u0, (f - 1.0) * d_k  # change of the return
    a2 = (f * f - 1.0) * u0 * u0 - 2.0 * (f - 1.0) * u0  # change of the squared return
    b2 = (f * f - 1.0) * (2.0 * d_k * u0 + d_k * d_k) - 2.0 * (f - 1.0) * d_k
    ones = np.ones(len(k))
    cols_m = np.stack([d_k, 2.0 * rl_k * d_k + d_k * d_k, np.log1p(rs_k) - log_l,
                       a1 + b1, a2 + b2, ones], axis=1)  # fmt: skip
    got = p[:, m0:m1] @ cols_m
    s1 = rl_k.sum() + got[:, 0]
    s2 = (rl_k * rl_k).sum() + got[:, 1]
    lg = log_l.sum() + got[:, 2]
    q = np.empty((v, t - 1)) if work is None else work[1][:v, : t - 1]
    np.multiply(p[:, :-1], p[:, 1:], out=q)
    nxt = p[:, m0 + 1 : m1 + 1] @ np.stack([a1, a2, ones], axis=1)
    both = q[:, m0:m1] @ np.stack([2.0 * a1 + b1, 2.0 * a2 + b2, 2.0 * ones], axis=1)
    s1 += got[:, 3] + nxt[:, 0] - both[:, 0]
    s2 += got[:, 4] + nxt[:, 1] - both[:, 1]
    trades = got[:, 5] + nxt[:, 2] - both[:, 2]
    lg += np.log(f) * trades
    n = len(k)
    if start_in_cash:
        entry = 1.0 / (1.0 + cost) - 1.0  # period 0: the first close buys in
        s1 += entry
        s2 += entry * entry
        lg += np.log1p(entry)
        trades += 1.0
        n += 1
    return SwitchStats(n, s1, s2, lg, trades)
