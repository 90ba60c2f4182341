"""``backtest_weights``: what would have happened to a schedule of target weights.

The entry point of one pipeline, each step in its own module (imports only
point to the right)::

    backtest.py -> lists.py / frames.py -> engine.py -> result.py -> _layout.py
    entry point    inputs -> one dense      one kernel    the dict     the layout
                   layout + its policies    per semantics + views

Two call styles are accepted:

* nanobook 0.19: ``backtest_weights(weights, prices, initial_cash, CostModel(...),
  FillPolicy.X, periods_per_year, risk_free, stop_cfg, fill_schedule, **options)``
  with ``prices`` as ``[(sym, BarPrices)]`` per period;
* the seed's: ``backtest_weights(weights, prices, initial_cash, cost_bps,
  periods_per_year, risk_free, stop_cfg)`` with ``cost_bps`` a number and
  prices as integer-cent closes ``[(sym, cents)]``.

Both return the reference's dict (as a :class:`BacktestWeightsResult`, a
``dict`` subclass with pandas views). Pandas/numpy input (float currency)
is laid out by :mod:`nanobook.portfolio.frames`, lists by
:mod:`nanobook.portfolio.lists`.
"""
from __future__ import annotations

import warnings
from typing import Any

from ._args import AMOUNT_LIMIT, parse_stop_cfg, split_args, validate_options
from ._checks import int_arg
from .engine import run_float, run_integer
from .frames import frames_to_layout
from .lists import lists_to_layout
from .result import BacktestWeightsResult, build_result

__all__ = ["backtest_weights", "py_backtest_weights", "SkippedTargetsWarning"]


class SkippedTargetsWarning(UserWarning):
    """Some targets could not be executed (no price); see ``res.skipped_targets``."""


def _is_dense(x: Any) -> bool:
    mod = type(x).__module__
    return mod.startswith("pandas") or mod.startswith("numpy")


def backtest_weights(
    weight_schedule: Any,
    price_schedule: Any,
    initial_cash: Any,
    cost_model: Any = None,
    *args: Any,
    **kwargs: Any,
) -> BacktestWeightsResult:
    """Simulate trading to a schedule of target weights, period by period.

    Parameters
    ----------
    weight_schedule : list of lists of (str, float), or DataFrame / ndarray
        Target weights per period (fractions of equity; negative = short).
        A held symbol missing from a period's list is closed.
    price_schedule : list of lists of (str, BarPrices or int), or DataFrame / ndarray
        Integer-cent bars (or closes) per period. DataFrames and arrays are in
        float currency (see :mod:`nanobook.portfolio.frames`).
    initial_cash : int
        Starting cash in cents (> 0). Float currency for dense input.
    cost_model : CostModel or float, optional
        A :class:`CostModel`, or the commission in bps (the seed's ``cost_bps``).
    fill_policy : FillPolicy or str, optional
        Default ``FillPolicy.SignalBarClose``.
    periods_per_year : float, default 252.0
    risk_free : float, default 0.0
        Per-period risk-free rate for the metrics.
    stop_cfg : dict, optional
        ``fixed_stop_pct``, ``trailing_stop_pct``, ``atr_multiple``, ``atr_period``.
    fill_schedule : list of lists of (str, BarPrices), optional
        Explicit next-bar fill bars per period (an empty list = no fill).
    **options
        ``quantity_step``, ``min_order_value``, ``no_trade_band_bps``,
        ``max_trades_per_rebalance``, ``max_order_value``,
        ``max_trades_per_day``, ``max_trades_per_month``,
        ``max_traded_value_per_month``, ``period_day_ordinal``,
        ``period_month_ordinal``; ``convention`` (dense input only).

    Returns
    -------
    BacktestWeightsResult
        A ``dict`` with ``returns``, ``equity_curve``, ``final_cash``,
        ``metrics``, ``skipped_rebalances``, ``holdings``, ``symbol_returns``,
        ``stop_events``, plus pandas views (``.equity``, ``.holdings`` ...).

    Raises
    ------
    ValueError
        Invalid options, schedules of different lengths, ``initial_cash <= 0``,
        non-finite weights, negative prices, ``high < low`` (message names the
        period and symbol), or a held symbol without a positive price.
    TypeError
        Wrong argument types.
    """
    if _is_dense(weight_schedule) or _is_dense(price_schedule):
        call = frames_to_layout(weight_schedule, price_schedule, initial_cash, cost_model, *args, **kwargs)
        if call.convention == "integer":
            raw, dense = run_integer(call.layout, call.cash, call.cost_model, call.opts, call.stop, call.hold)
        else:
            raw, dense = run_float(call.layout, call.cash, call.cost_model, call.convention, call.hold)
        return _warn_skipped(build_result(raw, call.ppy, call.rf, dense))
    p = split_args(cost_model, args, kwargs)
    policy, ppy, rf = p["fill_policy"], p["periods_per_year"], p["risk_free"]
    cash = int_arg(initial_cash, "initial_cash")
    try:
        n_w = len(weight_schedule)
    except TypeError:
        raise TypeError(f"weight_schedule must be a sequence of periods, got {type(weight_schedule).__name__}") from None
    opts = validate_options(p["options"], n_w)
    if opts.get("convention", "integer") != "integer":
        raise ValueError(
            f"convention {opts['convention']!r} needs DataFrame or numpy input; list input uses 'integer'"
        )
    if opts.get("missing_prices", "raise") != "raise":
        raise ValueError(f"missing_prices {opts['missing_prices']!r} needs DataFrame or numpy input; "
                         f"list input keeps the reference's rule ('raise')")
    if cash > AMOUNT_LIMIT:
        raise ValueError(f"initial_cash must be at most {AMOUNT_LIMIT} cents (the exact range of the "
                         f"integer arithmetic), got {cash}")
    fs = p["fill_schedule"]
    if fs is not None and len(fs) != n_w:
        raise ValueError(f"fill_schedule length ({len(fs)}) must match weight_schedule length ({n_w})")
    stop = parse_stop_cfg(p["stop_cfg"])
    d = lists_to_layout(weight_schedule, price_schedule, fs, policy.name, cash)
    raw, dense = run_integer(d, cash, p["cost_model"], opts, stop, list_input=True)
    return _warn_skipped(build_result(raw, ppy, rf, dense))


def _warn_skipped(res: BacktestWeightsResult) -> BacktestWeightsResult:
    n = len(res._skips()[0])
    if n:
        warnings.warn(f"backtest_weights: {n} targets could not be executed (no price that period); "
                      f"they are listed in result.skipped_targets", SkippedTargetsWarning, stacklevel=3)
    return res


def py_backtest_weights(*args: Any, **kwargs: Any) -> BacktestWeightsResult:
    """Alias of :func:`backtest_weights`."""
    return backtest_weights(*args, **kwargs)
