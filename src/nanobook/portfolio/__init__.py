"""nanobook.portfolio: portfolio simulation, weight backtests and performance metrics.

Pure Python on numpy; pandas and matplotlib are imported lazily inside the
functions that need them.
"""
from ._types import BarPrices, FillPolicy
from ..datasets import load_sp100
from .attribution import decompose_backtest, py_decompose_backtest, py_tear_sheet, tear_sheet
from .backtest import SkippedTargetsWarning, backtest_weights, py_backtest_weights
from .portfolio import CostModel, Portfolio, Position
from .result import BacktestWeightsResult
from .strategy import BacktestResult, run_backtest, sweep_equal_weight
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
    "BacktestResult",
    "BacktestWeightsResult",
    "BarPrices",
    "CostModel",
    "FillPolicy",
    "Portfolio",
    "Position",
    "SkippedTargetsWarning",
    "backtest_weights",
    "load_sp100",
    "decompose_backtest",
    "py_decompose_backtest",
    "py_tear_sheet",
    "run_backtest",
    "sweep_equal_weight",
    "tear_sheet",
    "py_backtest_weights",
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
