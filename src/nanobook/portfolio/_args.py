"""Arguments of ``backtest_weights`` shared by every input style.

Step 1 of the pipeline (``backtest.py`` -> **``_args``** -> ``lists`` / ``frames``
-> ``_layout`` -> ``engine`` -> ``result``): the two positional call styles
resolved into named parameters, the reference's option checks (in its
order), ``stop_cfg`` and the exact-range limits. Imports nothing above it.
"""
from __future__ import annotations

import math
from functools import partial
from typing import Any, Mapping

from ._arith import I64_MAX, MICRO
from ._checks import band_arg, int_arg, max_trades_arg, nonneg_int_arg, real_arg, step_arg
from ._types import FillPolicy
from .portfolio import CostModel

__all__ = ["is_number", "StopConfig", "parse_stop_cfg", "split_args", "validate_options", "budgets_of", "AMOUNT_LIMIT"]

#: Largest amount in cents (cash, a price) the integer engine accepts: a
#: quantity in micro-shares is ``value * 1e6 / price``, so every quantity
#: bought with at most this much fits in a signed 64-bit integer.
AMOUNT_LIMIT = I64_MAX // MICRO


class StopConfig:
    """Validated ``stop_cfg``: fixed / trailing percentages, ATR multiple and period."""

    __slots__ = ("fixed", "trailing", "atr_multiple", "atr_period")

    def __init__(self, fixed: float, trailing: float, atr_multiple: float, atr_period: int) -> None:
        self.fixed = fixed
        self.trailing = trailing
        self.atr_multiple = atr_multiple
        self.atr_period = atr_period

    @property
    def enabled(self) -> bool:
        return self.fixed > 0.0 or self.trailing > 0.0 or self.atr_multiple > 0.0


OPTION_NAMES = (
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


def is_number(x: Any) -> bool:
    if isinstance(x, bool):
        return True
    try:
        import numbers

        return isinstance(x, numbers.Real)
    except Exception:  # pragma: no cover
        return False


def parse_stop_cfg(stop_cfg: Any) -> StopConfig | None:
    """Validate ``stop_cfg`` (the stops of ``docs/portfolio.md``): a dict with optional ``fixed_stop_pct``,
    ``trailing_stop_pct`` (``0 <= x < 1``), ``atr_multiple`` (> 0) and
    ``atr_period`` (>= 1, default 14). Returns None when no rule is active."""
    if stop_cfg is None:
        return None
    if not isinstance(stop_cfg, dict):
        raise TypeError(f"stop_cfg must be a dict, got {type(stop_cfg).__name__}")
    fixed = trailing = atr_m = 0.0
    period = 14
    if "fixed_stop_pct" in stop_cfg:
        fixed = real_arg(stop_cfg["fixed_stop_pct"], "fixed_stop_pct")
        if not (math.isfinite(fixed) and 0.0 <= fixed < 1.0):
            raise ValueError("fixed_stop_pct must be finite and in (0, 1)")
    if "trailing_stop_pct" in stop_cfg:
        trailing = real_arg(stop_cfg["trailing_stop_pct"], "trailing_stop_pct")
        if not (math.isfinite(trailing) and 0.0 <= trailing < 1.0):
            raise ValueError("trailing_stop_pct must be finite and in (0, 1)")
    if "atr_multiple" in stop_cfg:
        atr_m = real_arg(stop_cfg["atr_multiple"], "atr_multiple")
        if not (math.isfinite(atr_m) and atr_m > 0.0):
            raise ValueError("atr_multiple must be finite and > 0")
    if "atr_period" in stop_cfg:
        period = nonneg_int_arg(stop_cfg["atr_period"], "atr_period", unit="")
        if period < 1:
            raise ValueError("atr_period must be >= 1")
    cfg = StopConfig(fixed, trailing, atr_m, period)
    return cfg if cfg.enabled else None


def split_args(cost_model: Any, args: tuple[Any, ...], kw: dict[str, Any]) -> dict[str, Any]:
    """Resolve the two positional call styles into one set of named parameters,
    then check the ones every input style shares (``fill_policy`` as a
    :class:`FillPolicy`, ``periods_per_year``, ``risk_free``); the caller checks
    the rest in the order of its parameters."""
    p: dict[str, Any] = {
        "fill_policy": None,
        "periods_per_year": 252.0,
        "risk_free": 0.0,
        "stop_cfg": None,
        "fill_schedule": None,
    }
    seed_style = (cost_model is not None and not isinstance(cost_model, CostModel)) or (
        args and args[0] is not None and is_number(args[0])
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
        if not is_number(cost_model):
            raise TypeError(f"cost_model must be a CostModel or a number of bps, got {type(cost_model).__name__}")
        cost_model = CostModel(commission_bps=float(cost_model))
    p["cost_model"] = cost_model
    p["options"] = kw
    p["fill_policy"] = FillPolicy.coerce(p["fill_policy"])
    p["periods_per_year"] = real_arg(p["periods_per_year"], "periods_per_year")
    p["risk_free"] = real_arg(p["risk_free"], "risk_free")
    return p


#: The options' rules (``_checks``), in the order the reference checks them.
#: The integer ones check the signed 64-bit range here (``i64``), so a value
#: the kernel cannot hold is an OverflowError that names the option.
_OPTION_RULES = (
    ("quantity_step", partial(step_arg, i64=True)),
    ("min_order_value", partial(nonneg_int_arg, i64=True)),
    ("max_order_value", partial(nonneg_int_arg, i64=True)),
    ("no_trade_band_bps", band_arg),
    ("max_traded_value_per_month", partial(nonneg_int_arg, i64=True)),
    ("max_trades_per_rebalance", partial(max_trades_arg, i64=True)),
    ("max_trades_per_day", partial(max_trades_arg, i64=True)),
    ("max_trades_per_month", partial(max_trades_arg, i64=True)),
)


def validate_options(opts: dict[str, Any], n: int) -> dict[str, Any]:
    """The reference's option checks, in its order, then the v2 input checks follow."""
    unknown = set(opts) - set(OPTION_NAMES) - {"convention", "missing_prices"}
    if unknown:
        raise TypeError(f"backtest_weights got an unexpected keyword argument '{sorted(unknown)[0]}'")
    o = dict(opts)
    for name, rule in _OPTION_RULES:
        v = o.get(name)
        if v is not None:
            o[name] = rule(v, name)
    for name in ("period_day_ordinal", "period_month_ordinal"):
        v = o.get(name)
        if v is not None:
            v = [int_arg(x, name, i64=True) for x in v]
            if len(v) != n:
                raise ValueError(f"{name} length ({len(v)}) must match weight_schedule length ({n})")
            o[name] = v
    for name in ("quantity_step", "no_trade_band_bps", "max_traded_value_per_month"):
        o.setdefault(name, None)
    return o


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


