"""Bridge to :mod:`nanobook_risk`: build the engine from ``[risk]``, check a plan."""
from __future__ import annotations

import datetime as _dt
from typing import Any, Iterable, Mapping

from .errors import ConfigError
from .plan import Plan

__all__ = ["build_risk_engine", "check_plan"]


def build_risk_engine(table: Mapping[str, Any], quantity_scale: int = 1) -> Any:
    """A ``nanobook_risk.RiskEngine`` from the ``[risk]`` table.

    With ``quantity_scale > 1`` (quantities in fractions of a unit, e.g.
    Binance's 10⁻⁸), the engine works in "cents × scale": the money limits
    are multiplied by the scale here and the equity by :func:`check_plan`, so
    every ratio and every cap compares like with like (the detail strings
    then show dollar amounts multiplied by the scale).

    Raises
    ------
    ConfigError
        Unknown key, wrong type or out-of-range limit (the risk engine's
        message, prefixed with ``[risk]``).
    """
    from nanobook_risk import RiskConfig, RiskEngine

    try:
        cfg = RiskConfig.from_mapping(dict(table))
        if quantity_scale != 1:
            m = cfg.to_mapping()
            for key in ("max_order_value_cents", "max_batch_value_cents"):
                m[key] = m[key] * quantity_scale
            m["max_trade_usd"] = m["max_trade_usd"] * quantity_scale
            cfg = RiskConfig.from_mapping(m)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ConfigError(f"[risk]: {exc}") from exc
    return RiskEngine.from_config(cfg)


def check_plan(engine: Any, plan: Plan, positions: Mapping[str, int], targets: Mapping[str, float],
               *, open_orders: int = 0, quantity_scale: int = 1,
               equity_marks: Iterable[tuple[int, str]] = ()) -> Any:
    """Run the batch risk checks on a plan; returns a ``nanobook_risk.RiskReport``.

    The orders are checked at their limit price (mid for market orders) with
    the mid as the collar's reference.  Every held symbol without an order is
    added as a zero-quantity pseudo-order at its mid, so leverage and short
    exposure include the positions the plan leaves alone.  ``equity_marks``
    (``(equity_cents, ISO day)`` from earlier runs, oldest first) feed the
    drawdown and daily-loss limits, then the current equity is marked.
    """
    k = quantity_scale
    for equity, day in equity_marks:
        engine.mark_equity(int(equity) * k, day)
    engine.mark_equity(plan.equity_cents * k, _dt.datetime.now(_dt.timezone.utc).date())
    orders = [(o.symbol, o.side, o.quantity, o.limit_cents if o.limit_cents is not None else o.mid_cents)
              for o in plan.orders]
    traded = {o.symbol for o in plan.orders}
    mids = {r.symbol: r.mid_cents for r in plan.rows}
    for sym, qty in sorted(positions.items()):
        if qty and sym not in traded and sym in mids:
            orders.append((sym, "buy", 0, mids[sym]))
    return engine.evaluate_batch(
        orders, plan.equity_cents * k, sorted((s, int(q)) for s, q in positions.items() if q),
        sorted(targets.items()), reference_prices=mids, open_orders=open_orders)
