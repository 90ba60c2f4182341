"""Float execution conventions for dense input (``convention=`` of ``backtest_weights``).

Both work in float cents with fractional shares, on the same dense layout and
fill prices as the integer engine:

``"fractional"`` (cvxportfolio's convention)
    Every target is reached exactly: ``h* = w * E / p`` with ``E`` the
    pre-trade equity at the fill prices; trade ``u = h* - h``; slippage moves
    the execution price to ``p * (1 + sign(u) * s)``; commission
    ``max(|u| * p_exec * c, min_commission)`` per traded symbol is paid from
    cash, so cash absorbs costs (weights end slightly below target).

``"cash_limited"`` (vectorbt's ``call_seq='auto'`` convention)
    Same targets, but orders execute by ascending order value
    ``w * E - h * p`` (at the unslipped price; ties in the weights' column
    order), so every sell comes first, largest first, then the buys from
    the smallest; each buy is cut to the cash left (including its
    commission), later buys get nothing once cash is exhausted. Cash never
    goes negative through buys.

``benches/peers/check_conventions.py`` runs both against the peers on the
S&P 100 panel (equity curves agree to ~1e-14 relative); the modelling choices
needed for that are listed in ``docs/portfolio.md``.

A held symbol with NaN weight in an active row is closed; an all-NaN row holds.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .portfolio import CostModel
from .result import DenseData, lazy

__all__ = ["run_float"]


def run_float(d: Any, cash0: int, cm: CostModel, convention: str,
              use_kernel: bool = True) -> tuple[dict[str, Any], DenseData]:
    """Run a float convention on dense inputs: the compiled kernel when
    available, else (or with ``use_kernel=False``) the numpy loop below, which
    is the kernel's test oracle."""
    from .engine import _kernel

    if use_kernel and _kernel is not None and hasattr(_kernel, "run_float"):
        order = np.ascontiguousarray(d.order[0, : d.order_len[0]], dtype=np.int32)
        equity, rets, hold, skipped, final_cash, err = _kernel.run_float(
            d.W, order, d.active, d.close, d.fill, d.has_fill,
            int(d.fill_shift), float(d.close_scale), float(d.fill_scale), float(cash0),
            cm.commission_bps, cm.slippage_bps, float(cm.min_commission), convention == "cash_limited")
        if err is not None:
            phase, t, j = err
            raise ValueError(f"unpriced holding {d.symbols[j]} at period {t} ({'fill' if phase == 0 else 'close'})")
        dense = DenseData(d.symbols, d.close, hold, d.index, close_scale=d.close_scale)
        raw = {
            "returns": rets.tolist(),
            "equity_curve": equity.tolist(),
            "final_cash": float(final_cash),
            "skipped_rebalances": np.flatnonzero(skipped).tolist(),
            "holdings": lazy(dense.holdings_lists),
            "symbol_returns": lazy(dense.symbol_returns_lists),
            "stop_events": [],
        }
        return raw, dense
    return _run_float_numpy(d, cash0, cm, convention)


def _run_float_numpy(d: Any, cash0: int, cm: CostModel, convention: str) -> tuple[dict[str, Any], DenseData]:
    T, N = d.W.shape
    close_c = d.close_cents()
    fill_c = d.fill_cents()
    c = cm.commission_bps / 10000.0
    s = cm.slippage_bps / 10000.0
    mc = float(cm.min_commission)
    cash = float(cash0)
    h = np.zeros(N)
    equity = np.empty(T + 1)
    equity[0] = cash
    rets = np.empty(T)
    hold = np.full((T, N), np.nan)
    skipped = []
    order = d.order[0, : d.order_len[0]]
    prev = cash
    for t in range(T):
        if d.has_fill[t] and d.active[t]:
            p = fill_c[t].astype(np.float64)
            held = h != 0
            bad = held & (p <= 0)
            if bad.any():
                j = int(np.flatnonzero(bad)[0])
                raise ValueError(f"unpriced holding {d.symbols[j]} at period {t} (fill)")
            priced = p > 0
            E = cash + float(np.dot(h[priced], p[priced]))
            if E > 0:
                w = d.W[t]
                tgt = h.copy()
                sel = priced & ~np.isnan(w)
                tgt[sel] = w[sel] * E / p[sel]
                tgt[priced & np.isnan(w)] = 0.0
                u = tgt - h
                pe = p * (1.0 + np.sign(u) * s)
                traded = u != 0
                val = u * pe
                fee = np.where(traded, np.maximum(np.abs(val) * c, mc), 0.0)
                if convention == "fractional":
                    cash -= float(val.sum() + fee.sum())
                    h = tgt
                else:
                    sells = traded & (u < 0)
                    cash -= float(val[sells].sum() + fee[sells].sum())
                    h = h + np.where(sells, u, 0.0)
                    # buys by ascending order value u * p (stable in column order):
                    # vectorbt's call_seq="auto" sorts the whole group this way
                    buys_cols = [j for j in order.tolist() if traded[j] and u[j] > 0]
                    oset = set(order.tolist())
                    buys_cols += [j for j in np.flatnonzero(traded & (u > 0)).tolist() if j not in oset]
                    # order value as vectorbt computes it (w * E - h * p): ties between
                    # equal new targets must stay exact ties, broken by column order
                    ov = np.where(sel, np.nan_to_num(w) * E, 0.0) - h * p
                    buys_cols.sort(key=lambda j: ov[j])
                    for j in buys_cols:
                        need = val[j] + fee[j]
                        if need <= cash:
                            cash -= need
                            h[j] += u[j]
                        else:
                            # largest affordable fraction, commission included
                            q = max(cash, 0.0) / (pe[j] * (1.0 + c)) if pe[j] > 0 else 0.0
                            if q > 0 and q * pe[j] * c < mc:
                                q = max(cash - mc, 0.0) / pe[j]
                            if q > 0:
                                v = q * pe[j]
                                cash -= v + max(v * c, mc)
                                h[j] += q
                            break
        elif not d.has_fill[t]:
            skipped.append(t)
        cl = close_c[t].astype(np.float64)
        held = h != 0
        bad = held & (cl <= 0)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(f"unpriced holding {d.symbols[j]} at period {t} (close)")
        mv = np.where(held, h * cl, 0.0)
        E = cash + float(mv.sum())
        rets[t] = (E - prev) / prev if prev > 0 else 0.0
        equity[t + 1] = E
        prev = E
        if E != 0:
            hold[t] = np.where(held, mv / E, np.nan)
    dense = DenseData(d.symbols, close_c, hold, d.index)
    raw = {
        "returns": rets.tolist(),
        "equity_curve": equity.tolist(),
        "final_cash": cash,
        "skipped_rebalances": skipped,
        "holdings": lazy(dense.holdings_lists),
        "symbol_returns": lazy(dense.symbol_returns_lists),
        "stop_events": [],
    }
    return raw, dense
