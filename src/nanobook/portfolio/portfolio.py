"""Cost model, positions and the integer-exact portfolio (``docs/portfolio.md``,
"Units and arithmetic").

Money is integer cents, quantities integer micro-shares (1 share =
1 000 000). Every rule below reproduces nanobook 0.19 exactly (truncation
toward zero, half-away rounding, 128-bit intermediates clamped to i64), with
one deliberate difference: iterations over held positions (closing symbols
dropped from the targets, listings) run in ascending symbol order, where the
reference walks a hash map.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ..fmt import display
from ._arith import (
    MICRO,
    clamp,
    f2i,
    mul_div_trunc,
    round_half_away,
    sat_add,
    sat_sub,
    tdiv,
)
from ._checks import band_arg, check_symbol, int_arg, max_trades_arg, nonneg_int_arg, real_arg, step_arg
from .metrics import Metrics, compute_metrics

__all__ = ["CostModel", "Position", "Portfolio", "check_symbol"]


# --------------------------------------------------------------------------- the settings' defaults
# (the rules are ``_checks``'; a Portfolio also checks the signed 64-bit range)


def _nonneg_int(x: Any, name: str) -> int:
    return 0 if x is None else nonneg_int_arg(x, name, i64=True)


def _pos_step(x: Any) -> int:
    return MICRO if x is None else step_arg(x, i64=True)


def _band(x: Any) -> float:
    return 0.0 if x is None else band_arg(x)


def _max_trades(x: Any) -> int | None:
    return None if x is None else max_trades_arg(x, "max_trades_per_rebalance", i64=True)


def price_map(prices: Any, name: str = "prices") -> dict[str, int]:
    """``[(sym, cents), ...]`` (or a mapping) -> dict; later duplicates win."""
    if isinstance(prices, Mapping):
        items: Iterable[Any] = prices.items()
    elif isinstance(prices, (str, bytes)) or prices is None:
        raise TypeError(f"{name} must be a sequence of (symbol, price) tuples, got {type(prices).__name__}")
    else:
        items = prices
    out: dict[str, int] = {}
    for item in items:
        if not isinstance(item, tuple) or len(item) != 2:
            raise TypeError(f"{name} entries must be (symbol, price) tuples, got {item!r}")
        out[check_symbol(item[0])] = int_arg(item[1], f"price of {item[0]}", i64=True)
    return out


def _targets(targets: Any) -> list[tuple[str, float]]:
    if isinstance(targets, Mapping):
        items: Iterable[Any] = targets.items()
    elif isinstance(targets, (str, bytes)) or targets is None:
        raise TypeError(f"targets must be a sequence of (symbol, weight) tuples, got {type(targets).__name__}")
    else:
        items = targets
    out = []
    for item in items:
        if not isinstance(item, tuple) or len(item) != 2:
            raise TypeError(f"targets entries must be (symbol, weight) tuples, got {item!r}")
        out.append((check_symbol(item[0]), real_arg(item[1], f"weight of {item[0]}")))
    return out


# --------------------------------------------------------------------------- CostModel


class CostModel:
    """Commission and slippage model.

    Parameters
    ----------
    commission_bps : float, default 0.0
        Commission in basis points of the fill's notional.
    slippage_bps : float, default 0.0
        Price impact in basis points: buys pay ``price * (1 + s)``, sells
        receive ``price * (1 - s)``, rounded half away from zero to cents.
    min_commission : int, default 0
        Minimum commission per fill, in cents (applies to every fill).

    Notes
    -----
    ``compute_cost(N) = max(round(|N| * commission_bps / 10000), min_commission)``
    (f64, half away from zero). Like the reference, values are not validated
    (negative or NaN bps are accepted).
    """

    __slots__ = ("_commission_bps", "_slippage_bps", "_min_commission")

    def __init__(self, commission_bps: float = 0.0, slippage_bps: float = 0.0, min_commission: int = 0) -> None:
        self._commission_bps = real_arg(commission_bps, "commission_bps")
        self._slippage_bps = real_arg(slippage_bps, "slippage_bps")
        self._min_commission = int_arg(min_commission, "min_commission", i64=True)

    @staticmethod
    def zero() -> "CostModel":
        """A model with no commission, no slippage and no minimum."""
        return CostModel()

    @property
    def commission_bps(self) -> float:
        return self._commission_bps

    @property
    def slippage_bps(self) -> float:
        return self._slippage_bps

    @property
    def min_commission(self) -> int:
        return self._min_commission

    def compute_cost(self, notional: int) -> int:
        """Commission in cents for a fill of ``notional`` cents."""
        n = abs(int_arg(notional, "notional", i64=True))
        c = f2i(round_half_away(float(n) * self._commission_bps / 10000.0))
        return c if c > self._min_commission else self._min_commission

    def _cost(self, n: int) -> int:  # unchecked fast path, n >= 0
        c = f2i(round_half_away(float(n) * self._commission_bps / 10000.0))
        return c if c > self._min_commission else self._min_commission

    def to_dict(self) -> dict[str, Any]:
        return {
            "commission_bps": self._commission_bps,
            "slippage_bps": self._slippage_bps,
            "min_commission": self._min_commission,
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CostModel) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().values()))

    def __repr__(self) -> str:
        return (
            f"CostModel(commission_bps={display(self._commission_bps)}, "
            f"slippage_bps={display(self._slippage_bps)}, min_commission={self._min_commission})"
        )


# --------------------------------------------------------------------------- Position


class Position:
    """One symbol's holding: signed micro-shares, VWAP entry, cost basis, realised P&L.

    Read-only for users; returned by :meth:`Portfolio.position` /
    :meth:`Portfolio.positions` as a snapshot copy.
    """

    __slots__ = ("symbol", "quantity_micro", "avg_entry_price", "total_cost", "realized_pnl")

    def __init__(
        self,
        symbol: str,
        quantity_micro: int = 0,
        avg_entry_price: int = 0,
        total_cost: int = 0,
        realized_pnl: int = 0,
    ) -> None:
        self.symbol = symbol
        self.quantity_micro = quantity_micro
        self.avg_entry_price = avg_entry_price
        self.total_cost = total_cost
        self.realized_pnl = realized_pnl

    @property
    def quantity(self) -> float:
        """Quantity in shares (float)."""
        return self.quantity_micro / 1e6

    @property
    def quantity_whole(self) -> int:
        """Whole shares, truncated toward zero."""
        return tdiv(self.quantity_micro, MICRO)

    def is_flat(self) -> bool:
        return self.quantity_micro == 0

    def unrealized_pnl(self, price: int) -> int:
        """Unrealised P&L in cents at ``price``: ``trunc(q * (price - avg) / 1e6)``."""
        if self.quantity_micro == 0:
            return 0
        return mul_div_trunc(self.quantity_micro, int_arg(price, "price", i64=True) - self.avg_entry_price)

    def _recompute_avg(self) -> None:
        self.avg_entry_price = clamp(tdiv(self.total_cost * MICRO, self.quantity_micro))

    def apply_fill(self, q: int, price: int) -> None:
        """Book a fill of ``q`` micro-shares at ``price`` cents: VWAP entry while the
        position grows, realised P&L on the closed part, a flip re-enters at ``price``."""
        cur = self.quantity_micro
        if q == 0:
            return
        if cur == 0:
            self.quantity_micro = q
            self.avg_entry_price = price
            self.total_cost = mul_div_trunc(q, price)
        elif (cur > 0) == (q > 0):
            self.total_cost = sat_add(self.total_cost, mul_div_trunc(q, price))
            self.quantity_micro = clamp(cur + q)
            self._recompute_avg()
        else:
            closed = min(abs(q), abs(cur))
            if cur > 0:
                pnl = mul_div_trunc(closed, price - self.avg_entry_price)
            else:
                pnl = mul_div_trunc(closed, self.avg_entry_price - price)
            self.realized_pnl = sat_add(self.realized_pnl, pnl)
            net = cur + q
            if net == 0:
                self.quantity_micro = 0
                self.avg_entry_price = 0
                self.total_cost = 0
            elif (net > 0) == (cur > 0):
                self.total_cost = sat_sub(self.total_cost, mul_div_trunc(closed, self.avg_entry_price))
                self.quantity_micro = net
                self._recompute_avg()
            else:
                self.quantity_micro = net
                self.avg_entry_price = price
                self.total_cost = mul_div_trunc(net, price)

    def copy(self) -> "Position":
        return Position(self.symbol, self.quantity_micro, self.avg_entry_price, self.total_cost, self.realized_pnl)

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "quantity": self.quantity_micro,
            "avg_entry_price": self.avg_entry_price,
            "realized_pnl": self.realized_pnl,
            "total_cost": self.total_cost,
        }

    def __repr__(self) -> str:
        return (
            f"Position(symbol={self.symbol}, qty={display(self.quantity)}, "
            f"avg_price={self.avg_entry_price}, realized_pnl={self.realized_pnl})"
        )


# --------------------------------------------------------------------------- Portfolio


@dataclass(slots=True)
class _Order:
    symbol: str
    qty: int  # signed micro-shares
    price: int
    drift: float
    notional: int


class Portfolio:
    """Cash plus positions, rebalanced to target weights with exact integer rules.

    Parameters
    ----------
    initial_cash : int
        Starting cash in cents (any value is accepted, as in the reference).
    cost_model : CostModel, optional
        Defaults to :meth:`CostModel.zero`.
    quantity_step : int, optional
        Order quantities are multiples of this many micro-shares
        (default 1 000 000 = whole shares). Must be positive.
    min_order_value, max_order_value, max_rebalance_notional : int, optional
        Order-size limits in cents; 0 or None disables them. Non-negative.
    no_trade_band_bps : float, optional
        Skip orders whose drift (|value change| / equity, in bps) is at most
        the band. Finite and non-negative.
    max_trades_per_rebalance : int or None
        Cap on the number of orders per rebalance (None = no cap).

    Raises
    ------
    ValueError
        For a non-positive ``quantity_step``, a negative limit or an invalid band.
    """

    def __init__(
        self,
        initial_cash: int,
        cost_model: CostModel | None = None,
        quantity_step: int | None = None,
        min_order_value: int | None = None,
        max_order_value: int | None = None,
        no_trade_band_bps: float | None = None,
        max_trades_per_rebalance: int | None = None,
        max_rebalance_notional: int | None = None,
    ) -> None:
        cash = int_arg(initial_cash, "initial_cash", i64=True)
        if cost_model is None:
            cost_model = CostModel.zero()
        if not isinstance(cost_model, CostModel):
            raise TypeError(f"cost_model must be a CostModel, got {type(cost_model).__name__}")
        self._quantity_step = _pos_step(quantity_step)
        self._min_order_value = _nonneg_int(min_order_value, "min_order_value")
        self._max_order_value = _nonneg_int(max_order_value, "max_order_value")
        self._no_trade_band_bps = _band(no_trade_band_bps)
        self._max_trades = _max_trades(max_trades_per_rebalance)
        self._max_notional = _nonneg_int(max_rebalance_notional, "max_rebalance_notional")
        self._cost_model = cost_model
        self._cash = cash
        self._positions: dict[str, Position] = {}
        self._returns: list[float] = []
        self._equity_curve: list[int] = [cash]
        self._prev_equity = cash
        self._last_count = 0
        self._last_notional = 0

    # ------------------------------------------------------------------ settings
    @property
    def cost_model(self) -> CostModel:
        return self._cost_model

    @property
    def quantity_step(self) -> int:
        return self._quantity_step

    @quantity_step.setter
    def quantity_step(self, v: int) -> None:
        self._quantity_step = _pos_step(v)

    def set_quantity_step_fraction(self, fraction: float) -> None:
        """Set the step in shares (e.g. 0.001); rounded half away to micro-shares."""
        f = real_arg(fraction, "fraction")
        if not math.isfinite(f):
            raise ValueError("quantity_step fraction must be finite")
        self.quantity_step = f2i(round_half_away(f * 1e6))

    @property
    def min_order_value(self) -> int:
        return self._min_order_value

    @min_order_value.setter
    def min_order_value(self, v: int) -> None:
        self._min_order_value = _nonneg_int(v, "min_order_value")

    @property
    def max_order_value(self) -> int:
        return self._max_order_value

    @max_order_value.setter
    def max_order_value(self, v: int) -> None:
        self._max_order_value = _nonneg_int(v, "max_order_value")

    @property
    def no_trade_band_bps(self) -> float:
        return self._no_trade_band_bps

    @no_trade_band_bps.setter
    def no_trade_band_bps(self, v: float) -> None:
        self._no_trade_band_bps = _band(v)

    @property
    def max_trades_per_rebalance(self) -> int | None:
        return self._max_trades

    @max_trades_per_rebalance.setter
    def max_trades_per_rebalance(self, v: int | None) -> None:
        self._max_trades = _max_trades(v)

    @property
    def max_rebalance_notional(self) -> int:
        return self._max_notional

    @max_rebalance_notional.setter
    def max_rebalance_notional(self, v: int) -> None:
        self._max_notional = _nonneg_int(v, "max_rebalance_notional")

    # ------------------------------------------------------------------ state
    @property
    def cash(self) -> int:
        """Cash in cents."""
        return self._cash

    @property
    def last_rebalance_order_count(self) -> int:
        return self._last_count

    @property
    def last_rebalance_notional(self) -> int:
        return self._last_notional

    def position(self, symbol: str) -> Position | None:
        """A copy of ``symbol``'s position (flat positions included), or None."""
        p = self._positions.get(symbol)
        return None if p is None else p.copy()

    def positions(self) -> dict[str, Position]:
        """Copies of every position (flat ones included), in ascending symbol order."""
        return {s: self._positions[s].copy() for s in sorted(self._positions)}

    def returns(self) -> list[float]:
        return list(self._returns)

    def equity_curve(self) -> list[int]:
        return list(self._equity_curve)

    def copy(self) -> "Portfolio":
        """An independent deep copy."""
        p = Portfolio.__new__(Portfolio)
        for k in (
            "_quantity_step", "_min_order_value", "_max_order_value", "_no_trade_band_bps",
            "_max_trades", "_max_notional", "_cost_model", "_cash", "_prev_equity",
            "_last_count", "_last_notional",
        ):
            setattr(p, k, getattr(self, k))
        p._positions = {s: q.copy() for s, q in self._positions.items()}
        p._returns = list(self._returns)
        p._equity_curve = list(self._equity_curve)
        return p

    # ------------------------------------------------------------------ valuation
    def _equity(self, pm: Mapping[str, int]) -> int:
        eq = self._cash
        for s, p in self._positions.items():
            if p.quantity_micro:
                eq = sat_add(eq, mul_div_trunc(p.quantity_micro, pm.get(s, 0)))
        return eq

    def total_equity(self, prices: Any) -> int:
        """Cash plus market value (``trunc(q * price / 1e6)``); unpriced holdings count 0."""
        return self._equity(price_map(prices))

    def _weights(self, pm: Mapping[str, int]) -> list[tuple[str, float]]:
        eq = self._equity(pm)
        if eq == 0:
            return []
        feq = float(eq)
        return [
            (s, mul_div_trunc(p.quantity_micro, pm.get(s, 0)) / feq)
            for s, p in sorted(self._positions.items())
            if p.quantity_micro
        ]

    def current_weights(self, prices: Any) -> list[tuple[str, float]]:
        """``[(sym, market_value / equity)]`` of non-flat positions, by symbol; ``[]`` if equity is 0."""
        return self._weights(price_map(prices))

    def snapshot(self, prices: Any) -> dict[str, Any]:
        """Cash, equity, number of open positions, total realised P&L and weights."""
        pm = price_map(prices)
        realized = 0
        for p in self._positions.values():
            realized = sat_add(realized, p.realized_pnl)
        return {
            "cash": self._cash,
            "equity": self._equity(pm),
            "num_positions": sum(1 for p in self._positions.values() if p.quantity_micro),
            "total_realized_pnl": realized,
            "weights": dict(self._weights(pm)),
        }

    # ------------------------------------------------------------------ trading
    def _execute_fill(self, sym: str, q: int, price: int) -> None:
        """Fill ``q`` micro-shares at ``price`` after slippage and costs (the fill rule of
        ``docs/portfolio.md``, "Units and arithmetic")."""
        cm = self._cost_model
        sign = 1.0 if q > 0 else -1.0
        e = f2i(round_half_away(float(price) * (1.0 + sign * cm._slippage_bps / 10000.0)))
        cash = self._cash
        if q > 0:
            n = clamp((q * e) // MICRO)
            if n + cm._cost(abs(n)) > cash:
                if cash <= 0:  # the reference never trims a buy when no cash is left
                    return
                step = self._quantity_step
                lo, hi = 0, q // step
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    qq = mid * step
                    nn = clamp((qq * e) // MICRO)
                    if nn + cm._cost(abs(nn)) <= cash:
                        lo = mid
                    else:
                        hi = mid - 1
                q = lo * step
                if q == 0:
                    return
        notional = clamp(abs(q) * abs(e) // MICRO)
        cost = cm._cost(notional)
        delta = mul_div_trunc(q, e)
        if q < 0 and cash - (delta + cost) < 0:
            return
        pos = self._positions.get(sym)
        if pos is None:
            pos = self._positions[sym] = Position(sym)
        pos.apply_fill(q, e)
        self._cash = clamp(cash - (delta + cost))

    def _limit_order(self, sym: str, q: int, price: int, drift: float, orders: list[_Order]) -> None:
        step = self._quantity_step
        ap = abs(price)
        notional = clamp(abs(q) * ap // MICRO)
        if self._max_order_value > 0 and notional > self._max_order_value:
            if ap == 0:
                return
            mq = (self._max_order_value * MICRO // ap) // step * step
            mq = min(mq, abs(q))
            if mq == 0:
                return
            q = mq if q > 0 else -mq
            notional = clamp(mq * ap // MICRO)
        if self._min_order_value > 0 and notional < self._min_order_value:
            return
        orders.append(_Order(sym, q, price, drift, notional))

    def _plan(self, targets: list[tuple[str, float]], pm: Mapping[str, int], equity: int) -> list[_Order]:
        orders: list[_Order] = []
        band = self._no_trade_band_bps
        feq = float(equity)
        step = self._quantity_step
        tset = {s for s, _ in targets}
        for sym in sorted(self._positions):
            pos = self._positions[sym]
            if not pos.quantity_micro or sym in tset or sym not in pm:
                continue
            price = pm[sym]
            value = mul_div_trunc(pos.quantity_micro, price)
            drift = abs(value) / feq * 10000.0
            if band > 0.0 and drift <= band:
                continue
            self._limit_order(sym, -pos.quantity_micro, price, drift, orders)
        for sym, w in targets:
            price = pm.get(sym)
            if price is None or price <= 0:
                continue
            pos = self._positions.get(sym)
            cur = mul_div_trunc(pos.quantity_micro, price) if pos is not None and pos.quantity_micro else 0
            target = f2i(feq * w)
            diff = sat_sub(target, cur)
            drift = abs(diff) / feq * 10000.0
            if band > 0.0 and drift <= band:
                continue
            q = (abs(diff) * MICRO // price) // step * step
            if q == 0:
                continue
            self._limit_order(sym, q if diff > 0 else -q, price, drift, orders)
        return orders

    def _apply_caps(self, orders: list[_Order]) -> list[_Order]:
        cap = self._max_trades
        budget = self._max_notional
        if cap is None and budget <= 0:
            return orders
        ranked = sorted(orders, key=lambda o: o.symbol.encode("utf-8"))
        ranked.sort(key=lambda o: -o.drift if o.drift == o.drift else math.inf)
        admitted: list[_Order] = []
        used = 0
        step = self._quantity_step
        for o in ranked:
            if cap is not None and len(admitted) >= cap:
                break
            if budget > 0:
                remaining = budget - used
                if o.notional > remaining:
                    ap = abs(o.price)
                    mq = 0 if ap == 0 or remaining <= 0 else (remaining * MICRO // ap) // step * step
                    mq = min(mq, abs(o.qty))
                    if mq > 0:
                        n = clamp(mq * ap // MICRO)
                        if not (self._min_order_value > 0 and n < self._min_order_value):
                            admitted.append(_Order(o.symbol, mq if o.qty > 0 else -mq, o.price, o.drift, n))
                    break
                used += o.notional
            admitted.append(o)
        return admitted

    def _rebalance(self, targets: list[tuple[str, float]], pm: Mapping[str, int]) -> None:
        self._last_count = 0
        self._last_notional = 0
        equity = self._equity(pm)
        if equity <= 0:
            return
        orders = self._apply_caps(self._plan(targets, pm, equity))
        self._last_count = len(orders)
        tot = 0
        for o in orders:
            tot = sat_add(tot, o.notional)
        self._last_notional = tot
        for o in orders:
            self._execute_fill(o.symbol, o.qty, o.price)

    def rebalance_simple(self, targets: Any, prices: Any) -> None:
        """Trade toward ``targets`` (``[(sym, weight)]``) at ``prices`` (``[(sym, cents)]``).

        Held symbols absent from ``targets`` (and priced) are closed first, in
        ascending symbol order; then each target in the given order. Buys are
        trimmed to the cash left; sells are skipped if the commission cannot
        be paid. See the module documentation for every rule. O(k log k) for
        k positions and targets.
        """
        self._rebalance(_targets(targets), price_map(prices))

    def record_return(self, prices: Any) -> None:
        """Value the portfolio at ``prices`` and append to returns and the equity curve."""
        self._record(price_map(prices))

    def _record(self, pm: Mapping[str, int]) -> int:
        eq = self._equity(pm)
        prev = self._prev_equity
        if prev > 0:
            self._returns.append(float(eq - prev) / float(prev))
        elif self._returns:
            self._returns.append(0.0)
        self._equity_curve.append(eq)
        self._prev_equity = eq
        return eq

    def compute_metrics(self, periods_per_year: float, risk_free: float) -> Metrics | None:
        """:func:`compute_metrics` over the recorded returns."""
        return compute_metrics(self._returns, periods_per_year, risk_free)

    # ------------------------------------------------------------------ LOB
    def rebalance_lob(self, targets: Any, exchanges: Any) -> None:
        """Rebalance by sending market orders into a ``MultiExchange``.

        Prices are the books' mids (``bid + (ask - bid) // 2``, or the one side
        present); each resulting trade is booked with costs, slippage and
        affordability trimming. Step, band and order limits are not used here,
        and no return is recorded (as in the reference).
        """
        tg = _targets(targets)
        pm: dict[str, int] = {}
        for sym, bid, ask in exchanges.best_prices():
            if bid is not None and ask is not None:
                pm[sym] = bid + (ask - bid) // 2
            elif bid is not None:
                pm[sym] = bid
            elif ask is not None:
                pm[sym] = ask
        equity = self._equity(pm)
        if equity <= 0:
            return
        tset = {s for s, _ in tg}
        for sym in sorted(self._positions):
            pos = self._positions[sym]
            if not pos.quantity_micro or sym in tset:
                continue
            whole = abs(tdiv(pos.quantity_micro, MICRO))
            if whole == 0:
                continue
            side = "sell" if pos.quantity_micro > 0 else "buy"
            self._book_trades(sym, side, exchanges.submit_market(sym, side, whole))
        feq = float(equity)
        for sym, w in tg:
            price = pm.get(sym)
            if price is None or price <= 0:
                continue
            pos = self._positions.get(sym)
            cur = mul_div_trunc(pos.quantity_micro, price) if pos is not None and pos.quantity_micro else 0
            diff = sat_sub(f2i(feq * w), cur)
            shares = tdiv(abs(diff), price)
            if shares == 0:
                continue
            side = "buy" if diff > 0 else "sell"
            self._book_trades(sym, side, exchanges.submit_market(sym, side, shares))

    def _book_trades(self, sym: str, side: str, result: Any) -> None:
        for t in getattr(result, "trades", []):
            q = int(t.quantity) * MICRO
            self._execute_fill(sym, q if side == "buy" else -q, int(t.price))

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        return {
            "cash": self._cash,
            "positions": [[s, self._positions[s].to_dict()] for s in sorted(self._positions)],
            "cost_model": self._cost_model.to_dict(),
            "returns": list(self._returns),
            "equity_curve": list(self._equity_curve),
            "prev_equity": self._prev_equity,
            "quantity_step": self._quantity_step,
            "min_order_value": self._min_order_value,
            "max_order_value": self._max_order_value,
            "no_trade_band_bps": self._no_trade_band_bps,
            "max_trades_per_rebalance": self._max_trades,
            "max_rebalance_notional": self._max_notional,
        }

    def save_json(self, path: str | os.PathLike[str]) -> None:
        """Write the full state as pretty-printed JSON (the reference's layout)."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2)

    @staticmethod
    def load_json(path: str | os.PathLike[str]) -> "Portfolio":
        """Restore a portfolio written by :meth:`save_json`.

        Raises
        ------
        OSError
            If the file cannot be read, is not JSON, or lacks ``cash``.
        """
        try:
            with open(path, encoding="utf-8") as f:
                d = json.load(f)
        except json.JSONDecodeError as exc:
            raise OSError(f"invalid portfolio JSON in {os.fspath(path)!r}: {exc}") from exc
        if not isinstance(d, dict) or "cash" not in d:
            raise OSError(f"missing field `cash` in {os.fspath(path)!r}")
        try:
            cm = d.get("cost_model") or {}
            p = Portfolio(
                d["cash"],
                CostModel(cm.get("commission_bps", 0.0), cm.get("slippage_bps", 0.0), cm.get("min_commission", 0)),
                d.get("quantity_step"),
                d.get("min_order_value"),
                d.get("max_order_value"),
                d.get("no_trade_band_bps"),
                d.get("max_trades_per_rebalance"),
                d.get("max_rebalance_notional"),
            )
            for sym, pd in d.get("positions", []):
                p._positions[sym] = Position(
                    sym, int(pd["quantity"]), int(pd["avg_entry_price"]), int(pd["total_cost"]), int(pd["realized_pnl"])
                )
            p._returns = [float(x) for x in d.get("returns", [])]
            p._equity_curve = [int(x) for x in d.get("equity_curve", [p._cash])]
            p._prev_equity = int(d.get("prev_equity", p._equity_curve[-1] if p._equity_curve else p._cash))
        except (TypeError, ValueError, KeyError) as exc:
            raise OSError(f"invalid portfolio JSON in {os.fspath(path)!r}: {exc}") from exc
        return p

    def __repr__(self) -> str:
        c = self._cash
        sign = "-" if c < 0 else ""
        return f"Portfolio(cash=${sign}{abs(c) // 100}.{abs(c) % 100:02d}, returns={len(self._returns)})"
