"""The oracle of the integer engine: a period loop over a :class:`Portfolio`.

A straightforward transcription of the period loop and the stop rules of
``docs/portfolio.md`` ("Units and arithmetic"; with our corrections: ascending symbol order, errors instead of empty results), entry
by entry over Python dicts. **It is used only by the tests**, as the oracle
the compiled kernel (``_kernel.run_dense``, behind ``engine.run_integer``)
is checked against: the conformance corpus and Hypothesis run both. No
production path calls it. :func:`backtest_lists` takes the same arguments
as ``backtest_weights`` (list input) and validates them the same way.
"""
from __future__ import annotations

import math
from typing import Any

from ._args import StopConfig, budgets_of, parse_stop_cfg, split_args, validate_options
from ._arith import f2i, round_half_away
from ._checks import int_arg
from .portfolio import CostModel, Portfolio

__all__ = ["run_lists", "backtest_lists"]


class _Tracker:
    __slots__ = ("side", "entry", "reference", "last", "changes")

    def __init__(self, side: int, price: int) -> None:
        self.side = side
        self.entry = price
        self.reference = price
        self.last = price
        self.changes: list[int] = []


def stop_level(tr: _Tracker, cfg: StopConfig) -> tuple[int, str] | None:
    """The tracker's active stop level and its reason, or None (the stop rules of
    ``docs/portfolio.md``)."""
    cands: list[tuple[int, str]] = []
    s = float(tr.side)
    if cfg.fixed > 0.0:
        cands.append((max(1, f2i(round_half_away(tr.entry * (1.0 - s * cfg.fixed)))), "fixed"))
    if cfg.trailing > 0.0:
        cands.append((max(1, f2i(round_half_away(tr.reference * (1.0 - s * cfg.trailing)))), "trailing"))
    if cfg.atr_multiple > 0.0 and tr.changes:
        k = min(cfg.atr_period, len(tr.changes))
        acc = 0.0
        for c in tr.changes[len(tr.changes) - k:]:
            acc += c
        atr = acc / k
        cands.append(
            (max(1, f2i(round_half_away(tr.reference - s * cfg.atr_multiple * atr))), "atr")
        )
    if not cands:
        return None
    best = cands[0]
    for c in cands[1:]:
        if tr.side > 0:
            if c[0] >= best[0]:
                best = c
        elif c[0] < best[0]:
            best = c
    return best


def run_stops(
    pf: Portfolio,
    trackers: dict[str, _Tracker],
    closes: dict[str, int],
    cfg: StopConfig,
    period: int,
    events: list[dict[str, Any]],
) -> None:
    """One period's stop pass over the open positions, in ascending symbol order."""
    positions = pf._positions
    for sym in [s for s in trackers if s not in positions or not positions[s].quantity_micro]:
        del trackers[sym]
    hist = 6 * cfg.atr_period
    for sym in sorted(positions):
        pos = positions[sym]
        q = pos.quantity_micro
        if not q:
            continue
        price = closes.get(sym)
        if price is None or price <= 0:
            continue
        side = 1 if q > 0 else -1
        tr = trackers.get(sym)
        if tr is None or tr.side != side:
            tr = trackers[sym] = _Tracker(side, price)
        else:
            tr.changes.append(abs(price - tr.last))
            if len(tr.changes) > hist:
                del tr.changes[: len(tr.changes) - hist]
            tr.last = price
            if side > 0:
                if price > tr.reference:
                    tr.reference = price
            elif price < tr.reference:
                tr.reference = price
        lv = stop_level(tr, cfg)
        if lv is None:
            continue
        level, reason = lv
        if (side > 0 and price <= level) or (side < 0 and price >= level):
            pf._execute_fill(sym, -q, price)
            events.append(
                {"period_index": period, "symbol": sym, "trigger_price": level, "exit_price": price, "reason": reason}
            )
            del trackers[sym]


def run_lists(
    weights: list[list[tuple[str, float]]],
    bars: list[list[tuple[str, tuple[int, int, int, int]]]],
    initial_cash: int,
    portfolio: Portfolio,
    policy: str,
    fills: list[list[tuple[str, tuple[int, int, int, int]]]] | None,
    stop: StopConfig | None,
    budgets: dict[str, Any],
    hold: bool = False,
) -> dict[str, Any]:
    """Run validated list inputs; returns the raw result pieces (no metrics).

    ``hold`` is ``missing_prices="hold"`` (pandas input): a held symbol without
    a positive price is not traded and is valued at its last close (before its
    first close, the price of the order that opened it)."""
    last: dict[str, int] = {}
    n = len(weights)
    pf = portfolio
    holdings: list[list[tuple[str, float]]] = []
    symbol_returns: list[list[tuple[str, float]]] = []
    skipped: list[int] = []
    events: list[dict[str, Any]] = []
    trackers: dict[str, _Tracker] = {}
    prev_close: dict[str, int] = {}
    base_cap = pf._max_trades
    use_budgets = budgets["active"]
    day_ord = budgets["day_ord"]
    month_ord = budgets["month_ord"]
    day_used = month_trades = month_value = 0
    last_day = last_month = None
    stops_on = stop is not None and stop.enabled

    for i in range(n):
        bar_i = bars[i]
        closes: dict[str, int] = {}
        for sym, b in bar_i:
            closes[sym] = b[3]
        sr = []
        for sym, b in bar_i:
            c = b[3]
            p = prev_close.get(sym)
            if p is None or p <= 0 or c <= 0:
                sr.append((sym, math.nan))
            else:
                sr.append((sym, float(c - p) / float(p)))
        sr.sort(key=lambda t: t[0].encode("utf-8"))
        symbol_returns.append(sr)

        if use_budgets:
            if day_ord is not None and day_ord[i] != last_day:
                day_used = 0
                last_day = day_ord[i]
            if month_ord is not None and month_ord[i] != last_month:
                month_trades = 0
                month_value = 0
                last_month = month_ord[i]
            cap = base_cap
            if budgets["per_day"] is not None and day_ord is not None:
                left = max(budgets["per_day"] - day_used, 0)
                cap = left if cap is None else min(cap, left)
            if budgets["per_month"] is not None and month_ord is not None:
                left = max(budgets["per_month"] - month_trades, 0)
                cap = left if cap is None else min(cap, left)
            notional_cap = 0
            if budgets["value_month"] is not None and month_ord is not None:
                rem = budgets["value_month"] - month_value
                if rem <= 0:
                    cap = 0
                else:
                    notional_cap = rem
            pf._max_trades = cap
            pf._max_notional = notional_cap

        if policy == "SignalBarClose":
            fill_bars = bar_i
        elif fills is not None:
            fill_bars = fills[i]
        elif i + 1 < n:
            fill_bars = bars[i + 1]
        else:
            fill_bars = []
        if fill_bars:
            fp: dict[str, int] = {}
            if policy == "NextBarTypical":
                for sym, b in fill_bars:
                    fp[sym] = (b[1] + b[2] + b[3]) // 3
            elif policy == "NextBarOpen":
                for sym, b in fill_bars:
                    fp[sym] = b[0]
            else:
                fp = closes
            frozen = {s for s, p in pf._positions.items() if p.quantity_micro and fp.get(s, 0) <= 0}
            if not hold:
                for sym in sorted(frozen):
                    raise ValueError(f"unpriced holding {sym} at period {i} (fill)")
                pf._rebalance(weights[i], fp)
            else:
                _rebalance_holding(pf, weights[i], fp, frozen, last)
            if use_budgets:
                day_used += pf._last_count
                month_trades += pf._last_count
                month_value += pf._last_notional
        else:
            skipped.append(i)

        if stops_on:
            run_stops(pf, trackers, closes, stop, i, events)  # type: ignore[arg-type]

        valued = closes
        if hold:
            valued = dict(closes)
            for sym, pos in pf._positions.items():
                if not pos.quantity_micro:
                    continue
                if closes.get(sym, 0) <= 0:
                    valued[sym] = last.get(sym, 0)
                else:
                    last[sym] = closes[sym]
            for sym in [s for s in last if s not in pf._positions or not pf._positions[s].quantity_micro]:
                del last[sym]
        for sym in sorted(pf._positions):
            if pf._positions[sym].quantity_micro and valued.get(sym, 0) <= 0 and not hold:
                raise ValueError(f"unpriced holding {sym} at period {i} (close)")
        pf._record(valued)
        holdings.append(pf._weights(valued))
        prev_close = closes

    return {
        "returns": pf._returns,
        "equity_curve": pf._equity_curve,
        "final_cash": pf._cash,
        "skipped_rebalances": skipped,
        "holdings": holdings,
        "symbol_returns": symbol_returns,
        "stop_events": events,
    }




def _rebalance_holding(pf: Portfolio, targets: list, fp: dict, frozen: set, last: dict) -> None:
    """``Portfolio._rebalance`` with the frozen (held, unpriced) symbols valued at
    their last price and left out of the planning."""
    pf._last_count = 0
    pf._last_notional = 0
    trade_pm = {s: p for s, p in fp.items() if s not in frozen}
    equity = pf._equity({**trade_pm, **{s: last.get(s, 0) for s in frozen}})
    if equity <= 0:
        return
    orders = pf._apply_caps(pf._plan(targets, trade_pm, equity))
    pf._last_count = len(orders)
    for o in orders:
        pf._last_notional += o.notional
        pf._execute_fill(o.symbol, o.qty, o.price)
        if last.get(o.symbol, 0) <= 0:
            last[o.symbol] = o.price


def backtest_lists(weight_schedule: Any, price_schedule: Any, initial_cash: Any, cost_model: Any = None,
                   *args: Any, **kwargs: Any) -> Any:
    """``backtest_weights`` on list input, run by this oracle instead of the kernel
    (``_hold=True``: the pandas input's ``missing_prices="hold"``)."""
    hold = bool(kwargs.pop("_hold", False))
    from .lists import check_list_inputs, normalize_lists
    from .result import build_result

    p = split_args(cost_model, args, kwargs)
    policy, ppy, rf = p["fill_policy"].name, p["periods_per_year"], p["risk_free"]
    cash = int_arg(initial_cash, "initial_cash")
    opts = validate_options(p["options"], len(weight_schedule))
    fs = p["fill_schedule"]
    if fs is not None and len(fs) != len(weight_schedule):
        raise ValueError(f"fill_schedule length ({len(fs)}) must match weight_schedule length ({len(weight_schedule)})")
    stop = parse_stop_cfg(p["stop_cfg"])
    weights, bars, fills = normalize_lists(weight_schedule, price_schedule, fs)
    check_list_inputs(weights, bars, cash, fills)
    cm: CostModel = p["cost_model"]
    pf = Portfolio(cash, cm, quantity_step=opts.get("quantity_step"), min_order_value=opts.get("min_order_value"),
                   max_order_value=opts.get("max_order_value"), no_trade_band_bps=opts.get("no_trade_band_bps"),
                   max_trades_per_rebalance=opts.get("max_trades_per_rebalance"))
    raw = run_lists(list(weights), list(bars), cash, pf, policy, fills, stop, budgets_of(opts), hold)
    return build_result(raw, ppy, rf)
