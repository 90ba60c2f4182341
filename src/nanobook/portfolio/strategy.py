"""Callback-driven backtests: ``run_backtest`` and ``sweep_equal_weight`` (the reference's API)."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from .metrics import Metrics
from .portfolio import CostModel, Portfolio, _targets, price_map

__all__ = ["BacktestResult", "run_backtest", "sweep_equal_weight"]


class BacktestResult:
    """Result of :func:`run_backtest`: the final ``portfolio`` and its ``metrics``."""

    __slots__ = ("portfolio", "metrics")

    def __init__(self, portfolio: Portfolio, metrics: Metrics | None) -> None:
        self.portfolio = portfolio
        self.metrics = metrics

    def __repr__(self) -> str:
        s = "None" if self.metrics is None else repr(self.metrics.sharpe)
        return f"BacktestResult(returns={len(self.portfolio._returns)}, sharpe={s})"


def run_backtest(
    strategy: Callable[[int, dict[str, int], Portfolio], Any],
    price_series: Sequence[Mapping[str, int]],
    initial_cash: int,
    cost_model: CostModel | None = None,
    periods_per_year: float = 252.0,
    risk_free: float = 0.0,
) -> BacktestResult:
    """Run ``strategy`` bar by bar and rebalance to the weights it returns.

    For each bar ``i`` (a dict ``{symbol: cents}``), ``strategy(i, prices,
    portfolio_copy)`` returns target weights as ``[(symbol, weight)]`` or a
    dict; the portfolio rebalances at the bar's prices (held symbols not
    targeted are closed) and records the bar's return.

    Differences from the reference, on purpose: an exception raised by the
    strategy propagates (the reference printed it and closed every position),
    and a return value that is not a sequence of ``(str, float)`` pairs raises
    ``TypeError`` naming the bar (the reference treated it as "close all").

    Raises
    ------
    TypeError
        ``price_series`` entries that are not dicts, or bad strategy output.
    """
    if isinstance(price_series, (str, bytes, Mapping)):
        raise TypeError(f"price_series must be a sequence of dicts, got {type(price_series).__name__}")
    pf = Portfolio(initial_cash, cost_model)
    for i, bar in enumerate(price_series):
        if not isinstance(bar, Mapping):
            raise TypeError(f"price_series[{i}] must be a dict {{symbol: cents}}, got {type(bar).__name__}")
        pm = price_map(bar, f"price_series[{i}]")
        out = strategy(i, dict(pm), pf.copy())
        if out is None:
            raise TypeError(f"strategy returned None at bar {i}; return [] to hold no positions")
        try:
            targets = _targets(out)
        except TypeError as exc:
            raise TypeError(f"strategy output at bar {i}: {exc}") from None
        pf._rebalance(targets, pm)
        pf._record(pm)
    return BacktestResult(pf, pf.compute_metrics(periods_per_year, risk_free))


def sweep_equal_weight(
    n_params: int,
    price_series: Sequence[Sequence[tuple[str, int]]],
    initial_cash: int,
    periods_per_year: float = 12.0,
    risk_free: float = 0.0,
) -> list[Metrics | None]:
    """``n_params`` copies of the metrics of a zero-cost equal-weight backtest.

    Each bar targets ``1/len(bar)`` for every symbol in it (bar order). The
    reference runs the same backtest ``n_params`` times (the parameter is not
    used); we run it once and repeat the result. Empty ``price_series`` gives
    ``[None] * n_params``.
    """
    if isinstance(n_params, float) or not hasattr(n_params, "__index__"):
        raise TypeError(f"n_params must be an integer, got {type(n_params).__name__}")
    n = int(n_params.__index__())
    if n < 0:
        raise ValueError(f"n_params must be non-negative, got {n}")
    if len(price_series) == 0:
        return [None] * n
    pf = Portfolio(initial_cash, CostModel.zero())
    for i, bar in enumerate(price_series):
        pm = price_map(list(bar), f"price_series[{i}]")
        k = len(bar)
        targets = [(s, 1.0 / k) for s, _ in bar] if k else []
        pf._rebalance(targets, pm)
        pf._record(pm)
    m = pf.compute_metrics(periods_per_year, risk_free)
    return [m] * n
