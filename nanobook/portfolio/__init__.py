"""nanobook.portfolio: portfolio simulation, weight backtests and performance metrics.

Pure Python on numpy; pandas and matplotlib are imported lazily inside the
functions that need them.
"""
from .metrics import (
    Metrics,
    compute_metrics,
    drawdown_series,
    py_compute_metrics,
    py_drawdown_series,
    py_rolling_max_drawdown,
    py_rolling_sharpe,
    py_rolling_volatility,
    rolling_max_drawdown,
    rolling_sharpe,
    rolling_volatility,
)

__all__ = [
    "Metrics",
    "compute_metrics",
    "drawdown_series",
    "py_compute_metrics",
    "py_drawdown_series",
    "py_rolling_max_drawdown",
    "py_rolling_sharpe",
    "py_rolling_volatility",
    "rolling_max_drawdown",
    "rolling_sharpe",
    "rolling_volatility",
]
