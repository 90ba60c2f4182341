"""Step 3 of the pipeline: one engine per semantics, both in the compiled kernel.

* :func:`run_integer` — the reference's exact integer-cent rules
  (``convention="integer"``, every list input): ``_kernel.run_dense``;
* :func:`run_float` — fractional shares on prices as given
  (``convention="fractional"`` / ``"cash_limited"``): ``_kernel.run_float``.

Both take a :class:`~._layout.DenseInputs` (built by ``lists.py`` or
``frames.py``) and return the raw result pieces plus the :class:`DenseData`
the result's views are built from. A run whose integer arithmetic would
leave the exact int64 range raises ``ValueError`` here, never a clamped
number. The Python transcriptions that serve as the test oracles of these
kernels (``_listengine.py`` for the integer rules, ``conventions.py`` for the
float ones) are never called from here.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ._args import AMOUNT_LIMIT, StopConfig, budgets_of
from ._arith import I64_MAX
from ._layout import DenseInputs, _kernel, require_kernel
from .portfolio import CostModel
from .result import DenseData, lazy

__all__ = ["run_integer", "run_float", "kernel_available", "SKIP_REASONS"]

#: The ``reason`` of a skipped target, by the kernel's code.
SKIP_REASONS = ("no price", "no price, position held at its last price")
_STOP_REASONS = ("fixed", "trailing", "atr")


def kernel_available() -> bool:
    """True when the compiled dense kernel is importable."""
    return _kernel is not None


def _unpriced(d: DenseInputs, err: tuple[int, int, int], list_input: bool) -> ValueError:
    phase, t, j = err
    where = "fill" if phase == 0 else "close"
    sym = d.symbols[j]
    if list_input:  # the reference's message, kept exactly
        return ValueError(f"unpriced holding {sym} at period {t} ({where})")
    at = f"period {t} ({where})" if d.index is None else f"{d.label(t)} (period {t}, {where})"
    return ValueError(
        f"unpriced holding {sym} at {at}: missing_prices='raise' stops here; missing_prices='hold' keeps "
        f"the position at its last price and reports the skipped targets"
    )


def _overflow(d: DenseInputs, t: int, cash: int, equity: Any) -> ValueError:
    prev = int(equity[t]) if t < len(equity) else 0
    return ValueError(
        f"the integer arithmetic leaves the exact int64 range at {d.label(t)}: an amount or a quantity "
        f"exceeds {I64_MAX} cents or micro-shares (equity before it: {prev} cents, initial_cash={cash} "
        f"cents; the limit for initial_cash is {AMOUNT_LIMIT} cents, and leverage or growth shrink it); "
        f"use a smaller initial_cash or a float convention (pandas/numpy input)"
    )


def _dense_data(d: DenseInputs, run: Any, exact: bool = False) -> DenseData:
    skips = run.skips
    t, j, code = skips[:, 0], skips[:, 1], skips[:, 2]
    w = np.asarray(d.W)[t, j] if len(skips) else np.zeros(0)
    w = np.where(np.isnan(w), 0.0, w)  # a held position with no target: wanted 0 (closed)
    return DenseData(symbols=d.symbols, close=d.close, holdings=run.holdings, index=d.index,
                     close_scale=d.close_scale, skips=(t, j, w, code), exact_prices=exact, traded=run.traded,
                     costs=run.costs)


def integer_rules(cash: int, cost_model: CostModel, opts: Mapping[str, Any], stop: StopConfig | None = None,
                  hold_unpriced: bool = False) -> Any:
    """The kernel's :class:`~._kernel.IntegerRules` of one run (validated options in)."""
    k = require_kernel()
    b = budgets_of(opts)
    mt = opts.get("max_trades_per_rebalance")
    step = opts.get("quantity_step")
    band = opts.get("no_trade_band_bps")
    st = stop if stop is not None and stop.enabled else None
    return k.IntegerRules(
        initial_cash=int(cash),
        commission_bps=cost_model.commission_bps,
        slippage_bps=cost_model.slippage_bps,
        min_commission=cost_model.min_commission,
        quantity_step=1_000_000 if step is None else int(step),
        min_order_value=int(opts.get("min_order_value") or 0),
        max_order_value=int(opts.get("max_order_value") or 0),
        no_trade_band_bps=0.0 if band is None else float(band),
        max_trades=-1 if mt is None else int(mt),
        day_ordinals=b["day_ord"],
        month_ordinals=b["month_ord"],
        max_trades_per_day=-1 if b["per_day"] is None else int(b["per_day"]),
        max_trades_per_month=-1 if b["per_month"] is None else int(b["per_month"]),
        max_traded_value_per_month=-1 if b["value_month"] is None else int(b["value_month"]),
        budgets_active=bool(b["active"]),
        stop_fixed=0.0 if st is None else st.fixed,
        stop_trailing=0.0 if st is None else st.trailing,
        stop_atr_multiple=0.0 if st is None else st.atr_multiple,
        stop_atr_period=14 if st is None else int(st.atr_period),
        hold_unpriced=bool(hold_unpriced),
    )


def run_integer(d: DenseInputs, cash: int, cost_model: CostModel, opts: Mapping[str, Any],
                stop: StopConfig | None = None, hold_unpriced: bool = False,
                list_input: bool = False) -> tuple[dict[str, Any], DenseData]:
    """The integer convention on a layout; raises the unpriced-holding and range errors."""
    run = require_kernel().run_dense(d, integer_rules(cash, cost_model, opts, stop, hold_unpriced))
    if run.error is not None:
        raise _unpriced(d, run.error, list_input)
    if run.overflow_period >= 0:
        raise _overflow(d, run.overflow_period, cash, run.equity)
    dense = _dense_data(d, run)
    syms = d.symbols
    stop_events = [
        {"period_index": t, "symbol": syms[j], "trigger_price": level, "exit_price": px,
         "reason": _STOP_REASONS[reason]}
        for t, j, level, px, reason in run.stop_events
    ]
    return _raw(run, int(run.final_cash), dense, stop_events), dense


def run_float(d: DenseInputs, cash0: float, cm: CostModel, convention: str,
              hold_unpriced: bool = False) -> tuple[dict[str, Any], DenseData]:
    """A float convention (``"fractional"`` or ``"cash_limited"``) on a layout, in
    float cents; ``cash0`` in cents."""
    k = require_kernel()
    rules = k.FloatRules(initial_cash=float(cash0), commission_bps=cm.commission_bps,
                         slippage_bps=cm.slippage_bps, min_commission=float(cm.min_commission),
                         cash_limited=convention == "cash_limited", hold_unpriced=bool(hold_unpriced))
    run = k.run_float(d, rules)
    if run.error is not None:
        raise _unpriced(d, run.error, False)
    dense = _dense_data(d, run, exact=True)
    return _raw(run, float(run.final_cash), dense, []), dense


def _raw(run: Any, final_cash: Any, dense: DenseData, stop_events: list) -> dict[str, Any]:
    """The reference's dict values of one run, in its key order (lists built lazily)."""
    return {
        "returns": run.returns.tolist(),
        "equity_curve": run.equity.tolist(),
        "final_cash": final_cash,
        "skipped_rebalances": np.flatnonzero(run.skipped).tolist(),
        "holdings": lazy(dense.holdings_lists),
        "symbol_returns": lazy(dense.symbol_returns_lists),
        "stop_events": stop_events,
    }
