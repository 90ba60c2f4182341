"""``backtest_weights``: what would have happened to a schedule of target weights.

Two call styles are accepted:

* nanobook 0.19: ``backtest_weights(weights, prices, initial_cash, CostModel(...),
  FillPolicy.X, periods_per_year, risk_free, stop_cfg, fill_schedule, **options)``
  with ``prices`` as ``[(sym, BarPrices)]`` per period;
* the seed's: ``backtest_weights(weights, prices, initial_cash, cost_bps,
  periods_per_year, risk_free, stop_cfg)`` with ``cost_bps`` a number and
  prices as integer-cent closes ``[(sym, cents)]``.

Both return the reference's dict (as a :class:`BacktestWeightsResult`, a
``dict`` subclass with pandas views). Pandas/numpy input (dense, float
currency) is handled in :mod:`nanobook.portfolio.frames`.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from ._arith import fmt_float
from ._listengine import StopConfig, run_lists
from ._types import BarPrices, FillPolicy
from .metrics import compute_metrics
from .portfolio import CostModel, Portfolio, check_symbol
from .result import BacktestWeightsResult

__all__ = ["backtest_weights", "py_backtest_weights", "parse_stop_cfg"]

_OPTION_NAMES = (
    "quantity_step",
    "min_order_value",
    "no_trade_band_bps",
    "max_trades_per_rebalance",
    "max_order_value",
    "max_trades_per_day",
    "max_trades_per_month",
    "max_traded_value_per_month",
    "period_day_ordinal",
    "period_month_ordinal",
)


def _is_number(x: Any) -> bool:
    if isinstance(x, bool):
        return True
    try:
        import numbers

        return isinstance(x, numbers.Real)
    except Exception:  # pragma: no cover
        return False


def _real(x: Any, name: str) -> float:
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    try:
        return float(x)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}") from None


def _uint(x: Any, name: str) -> int:
    if isinstance(x, float):
        raise TypeError(f"{name} must be an integer, got float {x!r}")
    try:
        v = int(x.__index__())
    except AttributeError:
        raise TypeError(f"{name} must be an integer, got {type(x).__name__}") from None
    if v < 0:
        raise ValueError(f"{name} must be non-negative, got {v}")
    return v


def _int(x: Any, name: str) -> int:
    if isinstance(x, float):
        raise TypeError(f"{name} must be an integer (cents), got float {x!r}")
    try:
        return int(x.__index__())
    except AttributeError:
        raise TypeError(f"{name} must be an integer, got {type(x).__name__}") from None


def parse_stop_cfg(stop_cfg: Any) -> StopConfig | None:
    """Validate ``stop_cfg`` (spec 5.1): a dict with optional ``fixed_stop_pct``,
    ``trailing_stop_pct`` (``0 <= x < 1``), ``atr_multiple`` (> 0) and
    ``atr_period`` (>= 1, default 14). Returns None when no rule is active."""
    if stop_cfg is None:
        return None
    if not isinstance(stop_cfg, dict):
        raise TypeError(f"stop_cfg must be a dict, got {type(stop_cfg).__name__}")
    fixed = trailing = atr_m = 0.0
    period = 14
    if "fixed_stop_pct" in stop_cfg:
        fixed = _real(stop_cfg["fixed_stop_pct"], "fixed_stop_pct")
        if not (math.isfinite(fixed) and 0.0 <= fixed < 1.0):
            raise ValueError("fixed_stop_pct must be finite and in (0, 1)")
    if "trailing_stop_pct" in stop_cfg:
        trailing = _real(stop_cfg["trailing_stop_pct"], "trailing_stop_pct")
        if not (math.isfinite(trailing) and 0.0 <= trailing < 1.0):
            raise ValueError("trailing_stop_pct must be finite and in (0, 1)")
    if "atr_multiple" in stop_cfg:
        atr_m = _real(stop_cfg["atr_multiple"], "atr_multiple")
        if not (math.isfinite(atr_m) and atr_m > 0.0):
            raise ValueError("atr_multiple must be finite and > 0")
    if "atr_period" in stop_cfg:
        period = _uint(stop_cfg["atr_period"], "atr_period")
        if period < 1:
            raise ValueError("atr_period must be >= 1")
    cfg = StopConfig(fixed, trailing, atr_m, period)
    return cfg if cfg.enabled else None


def _split_args(cost_model: Any, args: tuple[Any, ...], kw: dict[str, Any]) -> dict[str, Any]:
    """Resolve the two positional call styles into one set of named parameters."""
    p: dict[str, Any] = {
        "fill_policy": None,
        "periods_per_year": 252.0,
        "risk_free": 0.0,
        "stop_cfg": None,
        "fill_schedule": None,
    }
    seed_style = (cost_model is not None and not isinstance(cost_model, CostModel)) or (
        args and args[0] is not None and _is_number(args[0])
    )
    if "cost_bps" in kw:
        if cost_model is not None:
            raise TypeError("give either cost_model or cost_bps, not both")
        cost_model = kw.pop("cost_bps")
        seed_style = True
    order = (
        ("periods_per_year", "risk_free", "stop_cfg")
        if seed_style and not (args and isinstance(args[0], (FillPolicy, str)))
        else ("fill_policy", "periods_per_year", "risk_free", "stop_cfg", "fill_schedule")
    )
    if len(args) > len(order):
        raise TypeError(f"backtest_weights takes at most {4 + len(order)} positional arguments")
    for name, v in zip(order, args):
        p[name] = v
    for name in list(kw):
        if name in p:
            if name in order[: len(args)]:
                raise TypeError(f"backtest_weights got multiple values for argument '{name}'")
            p[name] = kw.pop(name)
    if cost_model is None:
        cost_model = CostModel.zero()
    elif not isinstance(cost_model, CostModel):
        if not _is_number(cost_model):
            raise TypeError(f"cost_model must be a CostModel or a number of bps, got {type(cost_model).__name__}")
        cost_model = CostModel(commission_bps=float(cost_model))
    p["cost_model"] = cost_model
    p["options"] = kw
    return p


def _validate_options(opts: dict[str, Any], n: int) -> dict[str, Any]:
    """The reference's option checks, in its order, then the v2 input checks follow."""
    unknown = set(opts) - set(_OPTION_NAMES) - {"convention", "engine"}
    if unknown:
        raise TypeError(f"backtest_weights got an unexpected keyword argument '{sorted(unknown)[0]}'")
    o = dict(opts)
    qs = o.get("quantity_step")
    if qs is not None:
        qs = _int(qs, "quantity_step")
        if qs <= 0:
            raise ValueError(f"quantity_step must be positive, got {qs}")
    for name in ("min_order_value", "max_order_value"):
        v = o.get(name)
        if v is not None:
            v = _int(v, name)
            if v < 0:
                raise ValueError(f"{name} must be non-negative, got {v}")
            o[name] = v
    band = o.get("no_trade_band_bps")
    if band is not None:
        band = _real(band, "no_trade_band_bps")
        if not math.isfinite(band) or band < 0.0:
            raise ValueError(f"no_trade_band_bps must be finite and non-negative, got {fmt_float(band)}")
    mv = o.get("max_traded_value_per_month")
    if mv is not None:
        mv = _int(mv, "max_traded_value_per_month")
        if mv < 0:
            raise ValueError(f"max_traded_value_per_month must be non-negative, got {mv}")
    for name in ("max_trades_per_rebalance", "max_trades_per_day", "max_trades_per_month"):
        if o.get(name) is not None:
            v = _int(o[name], name)
            if v < 0:
                raise OverflowError("can't convert negative int to unsigned")
            o[name] = v
    for name in ("period_day_ordinal", "period_month_ordinal"):
        v = o.get(name)
        if v is not None:
            v = [_int(x, name) for x in v]
            if len(v) != n:
                raise ValueError(f"{name} length ({len(v)}) must match weight_schedule length ({n})")
            o[name] = v
    o["quantity_step"] = qs
    o["no_trade_band_bps"] = band
    o["max_traded_value_per_month"] = mv
    return o


def _norm_bar(b: Any, where: str) -> tuple[int, int, int, int]:
    if isinstance(b, BarPrices):
        return b
    if isinstance(b, bool) or b is None:
        raise TypeError(f"{where} must be BarPrices or integer cents, got {type(b).__name__}")
    if isinstance(b, float):
        raise TypeError(f"{where} must be BarPrices or integer cents, got float {b!r}")
    if hasattr(b, "__index__"):
        c = int(b.__index__())
        return (c, c, c, c)
    raise TypeError(f"{where} must be BarPrices or integer cents, got {type(b).__name__}")


def _norm_period_pairs(period: Any, where: str) -> list[tuple[Any, Any]]:
    if isinstance(period, (str, bytes, dict)) or period is None:
        raise TypeError(f"{where} must be a sequence of (symbol, value) tuples, got {type(period).__name__}")
    out = []
    for item in period:
        if not isinstance(item, tuple) or len(item) != 2:
            raise TypeError(f"{where} entries must be (symbol, value) tuples, got {item!r}")
        out.append(item)
    return out


def _normalize_lists(
    weight_schedule: Any, price_schedule: Any, fill_schedule: Any
) -> tuple[list[list[tuple[str, float]]], list[list[tuple[str, tuple[int, int, int, int]]]], Any]:
    for name, s in (("weight_schedule", weight_schedule), ("price_schedule", price_schedule)):
        if isinstance(s, (str, bytes, dict)) or s is None:
            raise TypeError(f"{name} must be a sequence of periods, got {type(s).__name__}")
    weights = []
    for i, period in enumerate(weight_schedule):
        row = []
        for sym, w in _norm_period_pairs(period, f"weight_schedule[{i}]"):
            row.append((check_symbol(sym), _real(w, f"weight_schedule[{i}] weight for {sym}")))
        weights.append(row)
    bars = []
    for i, period in enumerate(price_schedule):
        row = []
        for sym, b in _norm_period_pairs(period, f"price_schedule[{i}]"):
            row.append((check_symbol(sym), _norm_bar(b, f"price_schedule[{i}] bar for {sym}")))
        bars.append(row)
    fills = None
    if fill_schedule is not None:
        fills = []
        for i, period in enumerate(fill_schedule):
            row = []
            for sym, b in _norm_period_pairs(period, f"fill_schedule[{i}]"):
                row.append((check_symbol(sym), _norm_bar(b, f"fill_schedule[{i}] bar for {sym}")))
            fills.append(row)
    return weights, bars, fills


def _check_inputs(weights: list, bars: list, initial_cash: int) -> None:
    """v2 input checks (SCHEMA.md fix 5), first failure wins."""
    if len(bars) != len(weights):
        raise ValueError(f"price_schedule length ({len(bars)}) must match weight_schedule length ({len(weights)})")
    if initial_cash <= 0:
        raise ValueError(f"initial_cash must be positive, got {initial_cash}")
    for i in range(len(weights)):
        for sym, w in weights[i]:
            if not math.isfinite(w):
                raise ValueError(f"weight_schedule[{i}]: weight for {sym} must be finite, got {fmt_float(w)}")
        for sym, (o, h, lo, c) in bars[i]:
            if o < 0 or h < 0 or lo < 0 or c < 0:
                raise ValueError(
                    f"price_schedule[{i}]: bar for {sym} has a negative price "
                    f"(open={o}, high={h}, low={lo}, close={c})"
                )
            if h < lo:
                raise ValueError(f"price_schedule[{i}]: bar for {sym} has high < low (high={h}, low={lo})")


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
        from .frames import backtest_frames

        return backtest_frames(weight_schedule, price_schedule, initial_cash, cost_model, *args, **kwargs)
    p = _split_args(cost_model, args, kwargs)
    policy = FillPolicy.coerce(p["fill_policy"])
    ppy = _real(p["periods_per_year"], "periods_per_year")
    rf = _real(p["risk_free"], "risk_free")
    cash = _int(initial_cash, "initial_cash")
    try:
        n_w = len(weight_schedule)
    except TypeError:
        raise TypeError(f"weight_schedule must be a sequence of periods, got {type(weight_schedule).__name__}") from None
    opts = _validate_options(p["options"], n_w)
    if opts.get("convention", "integer") != "integer":
        raise ValueError(
            f"convention {opts['convention']!r} needs DataFrame or numpy input; list input uses 'integer'"
        )
    fs = p["fill_schedule"]
    if fs is not None and len(fs) != n_w:
        raise ValueError(f"fill_schedule length ({len(fs)}) must match weight_schedule length ({n_w})")
    stop = parse_stop_cfg(p["stop_cfg"])
    if opts.get("engine", "auto") != "list":
        from .engine import fast_lists_to_dense, kernel_available, run_dense_arrays

        if kernel_available() and cash > 0:
            d = fast_lists_to_dense(weight_schedule, price_schedule, fs, policy.name)
            if d is not None:
                raw, dense = run_dense_arrays(d, cash, p["cost_model"], opts, stop)
                return _finish(raw, ppy, rf, dense)
    weights, bars, fills = _normalize_lists(weight_schedule, price_schedule, fs)
    _check_inputs(weights, bars, cash)

    from .engine import run_any

    raw, dense = run_any(weights, bars, cash, p["cost_model"], policy.name, fills, stop, opts)
    return _finish(raw, ppy, rf, dense)


def _finish(raw: dict[str, Any], ppy: float, rf: float, dense: Any = None) -> BacktestWeightsResult:
    metrics = compute_metrics(raw["returns"], ppy, rf) if raw["returns"] else None
    return BacktestWeightsResult(
        returns=raw["returns"],
        equity_curve=raw["equity_curve"],
        final_cash=raw["final_cash"],
        metrics=metrics,
        skipped_rebalances=raw["skipped_rebalances"],
        holdings=raw["holdings"],
        symbol_returns=raw["symbol_returns"],
        stop_events=raw["stop_events"],
        dense=dense,
    )


def py_backtest_weights(*args: Any, **kwargs: Any) -> BacktestWeightsResult:
    """Alias of :func:`backtest_weights`."""
    return backtest_weights(*args, **kwargs)


def make_portfolio(cash: int, cost_model: CostModel, opts: Mapping[str, Any]) -> Portfolio:
    return Portfolio(
        cash,
        cost_model,
        quantity_step=opts.get("quantity_step"),
        min_order_value=opts.get("min_order_value"),
        max_order_value=opts.get("max_order_value"),
        no_trade_band_bps=opts.get("no_trade_band_bps"),
        max_trades_per_rebalance=opts.get("max_trades_per_rebalance"),
    )


def budgets_of(opts: Mapping[str, Any]) -> dict[str, Any]:
    day_ord = opts.get("period_day_ordinal")
    month_ord = opts.get("period_month_ordinal")
    per_day = opts.get("max_trades_per_day")
    per_month = opts.get("max_trades_per_month")
    value_month = opts.get("max_traded_value_per_month")
    active = (per_day is not None and day_ord is not None) or (
        month_ord is not None and (per_month is not None or value_month is not None)
    )
    return {
        "active": active,
        "day_ord": day_ord,
        "month_ord": month_ord,
        "per_day": per_day,
        "per_month": per_month,
        "value_month": value_month,
    }


def run_general(
    weights: Sequence, bars: Sequence, cash: int, cost_model: CostModel, policy: str,
    fills: Any, stop: StopConfig | None, opts: Mapping[str, Any],
) -> dict[str, Any]:
    """The list engine over a fresh Portfolio."""
    pf = make_portfolio(cash, cost_model, opts)
    return run_lists(list(weights), list(bars), cash, pf, policy, fills, stop, budgets_of(opts))
