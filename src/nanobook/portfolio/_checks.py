"""The argument checks of the portfolio, each rule written once.

Every public entry point of the package (``CostModel``, ``Portfolio`` and
its setters, ``BarPrices``, ``backtest_weights`` through ``_args``) checks
its arguments with these helpers, in the order of its parameters, before it
changes any state. Each helper returns the checked value or raises a builtin
exception whose message names the parameter and the value:

* a wrong type (a float where an integer is due, a string where a number is
  due) -> ``TypeError``;
* a value outside the rule -> ``ValueError``; outside the signed 64-bit
  range of the integer engine -> ``OverflowError``.

The option rules (``quantity_step``, the order-value limits, the band, the
trade cap) are shared by ``Portfolio`` and ``backtest_weights``; ``i64``
says whether the caller also checks the signed 64-bit range here (both
do for these options, so a value the kernel cannot hold is an
``OverflowError`` that names the option). The symbol rule is the
core's :func:`nanobook.validate.symbol`. Imports nothing above ``_arith``
and ``nanobook.validate``.
"""
from __future__ import annotations

import math
from typing import Any

from ..validate import symbol as check_symbol  # the core's one symbol rule
from ..fmt import display
from ._arith import I64_MAX

__all__ = ["check_symbol", "int_arg", "real_arg", "nonneg_int_arg", "step_arg", "band_arg", "max_trades_arg"]

_I64_MIN = -(1 << 63)


def int_arg(x: Any, name: str, *, unit: str = " (cents)", i64: bool = False) -> int:
    """``x`` as an ``int`` (anything with ``__index__``, as the reference takes it).

    A float is a TypeError naming ``unit`` (an amount in cents by default);
    with ``i64`` a value outside the signed 64-bit range is an OverflowError.
    """
    if isinstance(x, float):
        raise TypeError(f"{name} must be an integer{unit}, got float {x!r}")
    try:
        v = int(x.__index__())
    except AttributeError:
        raise TypeError(f"{name} must be an integer, got {type(x).__name__}") from None
    if i64 and (v > I64_MAX or v < _I64_MIN):
        raise OverflowError(f"{name} out of the signed 64-bit range, got {v}")
    return v


def real_arg(x: Any, name: str) -> float:
    """``x`` as a float, or a TypeError naming ``name`` (strings and None are not numbers)."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    try:
        return float(x)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}") from None


def nonneg_int_arg(x: Any, name: str, *, unit: str = " (cents)", i64: bool = False) -> int:
    """An integer >= 0 (an order-value limit, a budget, a count)."""
    v = int_arg(x, name, unit=unit, i64=i64)
    if v < 0:
        raise ValueError(f"{name} must be non-negative, got {v}")
    return v


def step_arg(x: Any, name: str = "quantity_step", *, i64: bool = False) -> int:
    """``quantity_step``: a positive number of micro-shares."""
    v = int_arg(x, name, i64=i64)
    if v <= 0:
        raise ValueError(f"{name} must be positive, got {v}")
    return v


def band_arg(x: Any, name: str = "no_trade_band_bps") -> float:
    """``no_trade_band_bps``: finite and non-negative."""
    v = real_arg(x, name)
    if not math.isfinite(v) or v < 0.0:
        raise ValueError(f"{name} must be finite and non-negative, got {display(v)}")
    return v


def max_trades_arg(x: Any, name: str, *, i64: bool = False) -> int:
    """A cap on a number of trades: an integer >= 0 (the reference's unsigned
    conversion error, kept word for word, for a negative one)."""
    v = int_arg(x, name, i64=i64)
    if v < 0:
        raise OverflowError("can't convert negative int to unsigned")
    return v
