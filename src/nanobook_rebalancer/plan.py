"""The plan: current holdings + quotes + target weights -> a list of orders.

Pure functions on integers (cents, shares) and exact fractions; no I/O.

For each symbol in targets ∪ holdings, with equity ``E`` (cents), mid price
``p`` (cents), held quantity ``q`` (shares) and target weight ``w``:

* current weight ``q·p / E``;
* if ``w == 0`` (or the symbol is held but not targeted): **close**, trade
  ``-q`` exactly (no lot rounding, no minimum, no band: a close is a close);
* otherwise the exact trade is ``t* = E·w / p − q`` shares (``w`` taken as
  the decimal it was written as, see :func:`weight_fraction`), rounded to a
  multiple of the symbol's lot ``L``: ``down`` truncates toward zero (never
  overshoots the target, the default), ``nearest`` rounds half to even (so a
  second plan after a perfect fill is empty);
* skipped when ``t == 0`` (noted "below one lot (L)" when ``|t*| >= 1``),
  when ``|w − q·p/E| < band_bps / 10⁴`` (the no-trade band), or when
  ``|t|·p`` is below the minimum order value.

Orders are sorted sells first, then buys, each group by symbol: sells free
cash before buys need it.  Limit prices are ``mid ± mid·offset_bps/10⁴``,
rounded to the tick away from the mid, so the order is at least as
aggressive as configured (an offset below one tick still moves the limit by
one tick, else a limit at the mid of a one-tick-wide market never fills).  The cost estimate per order is
``max(|t|·commission_per_share, commission_min) + |t|·p·commission_bps/10⁴``
plus slippage ``|t|·p·slippage_bps/10⁴``, in cents, half-up.

Quantities are integers in units of ``1/quantity_scale`` of the instrument
(1 for shares; ``10**8`` for Binance's default 8 decimals), prices are cents
per whole instrument, so a notional is ``qty·p/quantity_scale``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Mapping, Sequence

from nanobook.validate import integer

__all__ = [
    "PlanParams",
    "PlannedOrder",
    "SymbolRow",
    "Plan",
    "round_to_lot",
    "weight_fraction",
    "limit_price",
    "estimate_cost",
    "build_plan",
]


@dataclass(frozen=True)
class PlanParams:
    """Everything :func:`build_plan` needs besides market data.

    Money in dollars where the config uses dollars; converted to cents here.
    """

    lot_size: int = 1
    lot_sizes: Mapping[str, int] = field(default_factory=dict)
    rounding: str = "down"
    min_order_value_cents: int = 10_000
    no_trade_band_bps: float = 0.0
    tick_size_cents: int = 1
    order_type: str = "limit"
    limit_offset_bps: float = 5.0
    commission_per_share: float = 0.0035
    commission_min: float = 0.35
    commission_bps: float = 0.0
    slippage_bps: float = 5.0
    quantity_scale: int = 1

    def __post_init__(self) -> None:
        integer(self.lot_size, "lot_size", gt=0, expect="a positive integer")
        for sym, lot in self.lot_sizes.items():
            integer(lot, f"lot_sizes[{sym!r}]", gt=0, expect="a positive integer")
        integer(self.quantity_scale, "quantity_scale", gt=0, expect="a positive integer")
        if self.rounding not in ("down", "nearest"):
            raise ValueError(f"rounding must be 'down' or 'nearest', got {self.rounding!r}")
        if self.order_type not in ("limit", "market"):
            raise ValueError(f"order_type must be 'limit' or 'market', got {self.order_type!r}")
        if not isinstance(self.min_order_value_cents, int) or self.min_order_value_cents < 0:
            raise ValueError(f"min_order_value_cents must be a non-negative integer, "
                             f"got {self.min_order_value_cents!r}")
        if not isinstance(self.tick_size_cents, int) or self.tick_size_cents <= 0:
            raise ValueError(f"tick_size_cents must be a positive integer, got {self.tick_size_cents!r}")
        for name in ("no_trade_band_bps", "limit_offset_bps", "commission_per_share",
                     "commission_min", "commission_bps", "slippage_bps"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be finite and non-negative, got {v!r}")

    def lot(self, symbol: str) -> int:
        return self.lot_sizes.get(symbol, self.lot_size)


@dataclass(frozen=True)
class PlannedOrder:
    """One order of the plan. Quantities in shares, money in cents."""

    symbol: str
    side: str                  # "buy" | "sell"
    quantity: int              # > 0
    mid_cents: int
    limit_cents: int | None    # None for market orders
    notional_cents: int        # quantity * mid / quantity_scale
    est_commission_cents: int
    est_slippage_cents: int
    current_qty: int
    target_qty: int            # current_qty +/- quantity
    current_weight: float
    target_weight: float
    action: str                # e.g. "buy (open long)", "sell (close long)"

    @property
    def signed_quantity(self) -> int:
        return self.quantity if self.side == "buy" else -self.quantity

    @property
    def est_cost_cents(self) -> int:
        return self.est_commission_cents + self.est_slippage_cents

    @property
    def is_close(self) -> bool:
        return self.target_qty == 0


@dataclass(frozen=True)
class SymbolRow:
    """One line of the plan table (every symbol in targets ∪ holdings)."""

    symbol: str
    current_qty: int
    mid_cents: int
    current_weight: float
    target_weight: float
    trade_qty: int             # signed; 0 if no order
    post_qty: int
    post_weight: float
    note: str                  # why there is no order, or the action


@dataclass(frozen=True)
class Plan:
    """The result of :func:`build_plan`."""

    equity_cents: int
    orders: Sequence[PlannedOrder]
    rows: Sequence[SymbolRow]

    @property
    def buy_notional_cents(self) -> int:
        return sum(o.notional_cents for o in self.orders if o.side == "buy")

    @property
    def sell_notional_cents(self) -> int:
        return sum(o.notional_cents for o in self.orders if o.side == "sell")

    @property
    def est_cost_cents(self) -> int:
        return sum(o.est_cost_cents for o in self.orders)

    @property
    def post_gross_weight(self) -> float:
        return math.fsum(abs(r.post_weight) for r in self.rows)


# --------------------------------------------------------------------------
def round_to_lot(shares: Fraction, lot: int, rounding: str = "down") -> int:
    """Round an exact share count to a multiple of ``lot``.

    ``down`` truncates toward zero; ``nearest`` rounds half to even (in lots).
    """
    if lot <= 0:
        raise ValueError(f"lot must be positive, got {lot!r}")
    lots = Fraction(shares) / lot
    if rounding == "down":
        n = math.trunc(lots)
    elif rounding == "nearest":
        n = round(lots)
    else:
        raise ValueError(f"rounding must be 'down' or 'nearest', got {rounding!r}")
    return int(n) * lot


def limit_price(mid_cents: int, side: str, offset_bps: float, tick_cents: int = 1) -> int:
    """``mid ± mid·offset_bps/10⁴`` rounded to the tick away from the mid (>= 1 tick)."""
    if mid_cents <= 0:
        raise ValueError(f"mid_cents must be positive, got {mid_cents!r}")
    offset = Fraction(mid_cents) * Fraction(offset_bps) / 10_000
    if side == "buy":
        px = math.ceil((mid_cents + offset) / tick_cents) * tick_cents
    elif side == "sell":
        px = math.floor((mid_cents - offset) / tick_cents) * tick_cents
    else:
        raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")
    return max(int(px), tick_cents)


def weight_fraction(w: float) -> Fraction:
    """The weight as the decimal it was written as: ``0.3`` -> ``3/10``.

    ``Fraction(0.3)`` is the binary double ``0.29999999999999998889...``,
    which would truncate a 300-share target to 299; the shortest repr of a
    float is the decimal the user typed.
    """
    return Fraction(repr(float(w)))


def _half_up(x: Fraction) -> int:
    return int(math.floor(x + Fraction(1, 2)))


def estimate_cost(quantity: int, notional_cents: int, params: PlanParams) -> tuple[int, int]:
    """(commission, slippage) in cents for one order; see module docstring."""
    q = abs(quantity)
    n = abs(notional_cents)
    per_share = Fraction(params.commission_per_share) * 100 * Fraction(q, params.quantity_scale)
    commission = max(per_share, Fraction(params.commission_min) * 100)
    commission += Fraction(n) * Fraction(params.commission_bps) / 10_000
    slippage = Fraction(n) * Fraction(params.slippage_bps) / 10_000
    return _half_up(commission), _half_up(slippage)


def _action(current: int, post: int, side: str) -> str:
    if post == 0:
        return f"{side} (close {'long' if current > 0 else 'short'})"
    if current == 0:
        return f"{side} (open {'long' if post > 0 else 'short'})"
    if (current > 0) != (post > 0):
        return f"{side} (flip to {'long' if post > 0 else 'short'})"
    grows = abs(post) > abs(current)
    return f"{side} ({'increase' if grows else 'decrease'} {'long' if post > 0 else 'short'})"


def build_plan(equity_cents: int, positions: Mapping[str, int], prices: Mapping[str, int],
               targets: Mapping[str, float], params: PlanParams) -> Plan:
    """Compute the orders that move ``positions`` to ``targets``.

    Parameters
    ----------
    equity_cents : int
        Account equity (net liquidation value), > 0.
    positions : Mapping[str, int]
        Held quantity per symbol (signed shares; zeros are ignored).
    prices : Mapping[str, int]
        Mid price in cents (> 0) of every symbol in targets ∪ held symbols.
    targets : Mapping[str, float]
        Target weight per symbol (finite; negative = short; 0 = close).
    params : PlanParams

    Returns
    -------
    Plan

    Raises
    ------
    ValueError
        Non-positive equity, a missing or non-positive price, a non-finite
        weight.
    """
    integer(equity_cents, "equity_cents", gt=0, expect="a positive integer")
    held = {s: int(q) for s, q in positions.items() if q}
    symbols = sorted(set(targets) | set(held))
    E = Fraction(equity_cents)
    orders: list[PlannedOrder] = []
    rows: list[SymbolRow] = []
    band = Fraction(params.no_trade_band_bps) / 10_000
    scale = params.quantity_scale
    for sym in symbols:
        w = targets.get(sym, 0.0)
        if not (isinstance(w, (int, float)) and math.isfinite(w)):
            raise ValueError(f"targets[{sym!r}] must be a finite number, got {w!r}")
        price = prices.get(sym)
        integer(price, f"prices[{sym!r}]", gt=0, expect="a positive integer (cents)")
        q = held.get(sym, 0)
        cur_w_exact = Fraction(q * price, scale) / E
        cur_w = float(cur_w_exact)
        note = ""
        if w == 0:
            trade = -q
        else:
            wf = weight_fraction(w)
            exact = E * wf * scale / price - q
            trade = round_to_lot(exact, params.lot(sym), params.rounding)
            if trade == 0 and abs(exact) >= 1:
                note = f"below one lot ({params.lot(sym)})"  # a whole unit or more, but under a lot
            if trade and abs(wf - cur_w_exact) < band:
                note = "within no-trade band"
                trade = 0
            elif trade and Fraction(abs(trade) * price, scale) < params.min_order_value_cents:
                note = "below minimum order value"
                trade = 0
        if trade == 0:
            post = q
            note = note or ("at target" if q or w else "")
            rows.append(SymbolRow(sym, q, price, cur_w, float(w), 0, post,
                                  float(Fraction(post * price, scale) / E), note))
            continue
        side = "buy" if trade > 0 else "sell"
        qty = abs(trade)
        post = q + trade
        notional = _half_up(Fraction(qty * price, scale))
        comm, slip = estimate_cost(qty, notional, params)
        limit = (limit_price(price, side, params.limit_offset_bps, params.tick_size_cents)
                 if params.order_type == "limit" else None)
        action = _action(q, post, side)
        orders.append(PlannedOrder(sym, side, qty, price, limit, notional, comm, slip,
                                   q, post, cur_w, float(w), action))
        rows.append(SymbolRow(sym, q, price, cur_w, float(w), trade, post,
                              float(Fraction(post * price, scale) / E), action))
    orders.sort(key=lambda o: (o.side != "sell", o.symbol))
    return Plan(equity_cents=equity_cents, orders=tuple(orders), rows=tuple(rows))
