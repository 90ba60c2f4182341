"""Target vs actual: weights and shares per symbol, and the tracking error.

``actual_weight = qty·mid / equity``; ``target_qty = E·w / mid`` rounded like
the plan; ``tracking error = sqrt(mean((actual_w − target_w)²))`` over the
union of targeted and held symbols (sorted), reported in percent.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Mapping, Sequence

from .plan import PlanParams, round_to_lot, weight_fraction

__all__ = ["ReconcileRow", "reconcile", "tracking_error"]


@dataclass(frozen=True)
class ReconcileRow:
    symbol: str
    target_weight: float
    actual_weight: float
    target_qty: int
    actual_qty: int

    @property
    def diff_weight(self) -> float:
        return self.actual_weight - self.target_weight


def reconcile(equity_cents: int, positions: Mapping[str, int], prices: Mapping[str, int],
              targets: Mapping[str, float], params: PlanParams) -> list[ReconcileRow]:
    """One row per symbol in targets ∪ holdings (see module docstring)."""
    if equity_cents <= 0:
        raise ValueError(f"equity_cents must be positive, got {equity_cents!r}")
    rows = []
    for sym in sorted(set(targets) | {s for s, q in positions.items() if q}):
        w = float(targets.get(sym, 0.0))
        q = int(positions.get(sym, 0))
        px = prices.get(sym)
        if not px or px <= 0:
            raise ValueError(f"prices[{sym!r}] must be a positive integer (cents), got {px!r}")
        scale = params.quantity_scale
        tq = round_to_lot(Fraction(equity_cents) * weight_fraction(w) * scale / px, params.lot(sym),
                          params.rounding)
        rows.append(ReconcileRow(sym, w, float(Fraction(q * px, scale) / equity_cents), tq, q))
    return rows


def tracking_error(rows: Sequence[ReconcileRow]) -> float:
    """``sqrt(mean(diff_weight²))`` (a fraction; 0 for no rows)."""
    if not rows:
        return 0.0
    return math.sqrt(math.fsum(r.diff_weight ** 2 for r in rows) / len(rows))
