"""Float execution conventions for dense input (``convention=`` of ``backtest_weights``):
the numpy transcription that is the **test oracle** of ``_kernel.run_float``.

No production path calls this module: ``engine.run_float`` runs the compiled
kernel, and the tests check it against :func:`run_float_oracle` (Hypothesis,
to 1e-9). Both work in float cents with fractional shares on the prices as
given (never rounded), on the same dense layout as the integer engine:

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
With ``hold_unpriced`` a held symbol without a price is kept at its last
price and not traded; targets without a price are listed as skipped.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .portfolio import CostModel
from .result import DenseData, lazy

__all__ = ["run_float_oracle"]


def run_float_oracle(d: Any, cash0: float, cm: CostModel, convention: str,
                     hold_unpriced: bool = False) -> tuple[dict[str, Any], DenseData]:
    """The float conventions in numpy, period by period (``cash0`` in cents)."""
    T, N = d.W.shape
    close_c = d.close_values()
    fill_c = d.fill_values()
    c = cm.commission_bps / 10000.0
    s = cm.slippage_bps / 10000.0
    mc = float(cm.min_commission)
    cash = float(cash0)
    h = np.zeros(N)
    last = np.zeros(N)
    equity = np.empty(T + 1)
    equity[0] = cash
    rets = np.empty(T)
    hold = np.full((T, N), np.nan)
    skipped = []
    skips: list[tuple[int, int, int]] = []
    order = d.order[0, : d.order_len[0]]
    prev = cash
    for t in range(T):
        if d.has_fill[t] and d.active[t]:
            p = np.where(np.isnan(fill_c[t]), -1.0, fill_c[t])
            held = h != 0
            bad = held & (p <= 0)
            if bad.any() and not hold_unpriced:
                j = int(np.flatnonzero(bad)[0])
                raise ValueError(f"unpriced holding {d.symbols[j]} at period {t} (fill)")
            priced = p > 0
            E = cash + float(np.dot(h[priced], p[priced])) + float(np.dot(h[bad], last[bad]))
            w = d.W[t]
            last = np.where(priced & (last <= 0), p, last)
            if E > 0:  # (no equity: nothing trades, nothing is reported)
                for j in np.flatnonzero(~priced & (held | ~np.isnan(w))).tolist():
                    skips.append((t, j, 1 if held[j] else 0))
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
        cl = np.where(np.isnan(close_c[t]), -1.0, close_c[t])
        held = h != 0
        bad = held & (cl <= 0)
        if bad.any() and not hold_unpriced:
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(f"unpriced holding {d.symbols[j]} at period {t} (close)")
        px = np.where(bad, last, cl)
        last = np.where(held, px, 0.0)
        mv = np.where(held, h * px, 0.0)
        E = cash + float(mv.sum())
        rets[t] = (E - prev) / prev if prev > 0 else 0.0
        equity[t + 1] = E
        prev = E
        if E != 0:
            hold[t] = np.where(held, mv / E, np.nan)
    sk = np.array(skips, dtype=np.int64).reshape(-1, 3)
    w_sk = np.nan_to_num(np.asarray(d.W)[sk[:, 0], sk[:, 1]]) if len(sk) else np.zeros(0)
    dense = DenseData(symbols=d.symbols, close=d.close, holdings=hold, index=d.index, close_scale=d.close_scale,
                      skips=(sk[:, 0], sk[:, 1], w_sk, sk[:, 2]), exact_prices=True)
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
