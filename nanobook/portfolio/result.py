"""The backtest result: the reference's dict, plus pandas views and plots."""
from __future__ import annotations

from typing import Any

__all__ = ["BacktestWeightsResult"]


class BacktestWeightsResult(dict):
    """The ``backtest_weights`` result dict with convenience views.

    It *is* the reference's dict (keys ``returns``, ``equity_curve``,
    ``final_cash``, ``metrics``, ``skipped_rebalances``, ``holdings``,
    ``symbol_returns``, ``stop_events``), so ``res["returns"]`` works as before.
    """
