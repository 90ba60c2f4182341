"""Engine selection: the dense engine when the inputs allow it, else the list engine."""
from __future__ import annotations

from typing import Any, Mapping

from ._listengine import StopConfig
from .portfolio import CostModel

__all__ = ["run_any"]


def run_any(
    weights: list, bars: list, cash: int, cost_model: CostModel, policy: str,
    fills: Any, stop: StopConfig | None, opts: Mapping[str, Any], engine: str = "auto",
) -> dict[str, Any]:
    from .backtest import run_general

    return run_general(weights, bars, cash, cost_model, policy, fills, stop, opts)
