"""Type stubs of the dense backtest kernel (nanobook/portfolio/_kernel.pyx).

``inputs`` is a ``nanobook.portfolio._layout.DenseInputs``: price arrays
are int64 cents (-1 = absent) or float64 currency (NaN = absent); weights
are float64 with any strides.
"""
from typing import Any, final

import numpy as np
import numpy.typing as npt

_F64 = npt.NDArray[np.float64]

@final
class IntegerRules:
    """The settings of one integer-convention run (cents, micro-shares)."""

    initial_cash: int
    commission_bps: float
    slippage_bps: float
    min_commission: int
    quantity_step: int
    min_order_value: int
    max_order_value: int
    no_trade_band_bps: float
    max_trades: int
    day_ordinals: npt.NDArray[np.int64] | None
    month_ordinals: npt.NDArray[np.int64] | None
    max_trades_per_day: int
    max_trades_per_month: int
    max_traded_value_per_month: int
    budgets_active: bool
    stop_fixed: float
    stop_trailing: float
    stop_atr_multiple: float
    stop_atr_period: int
    hold_unpriced: bool
    # keyword-only at runtime: one keyword per field above, initial_cash required
    def __init__(self, *args: Any, **kwargs: Any) -> None: ...

@final
class FloatRules:
    """The settings of one float-convention run (float cents)."""

    initial_cash: float
    commission_bps: float
    slippage_bps: float
    min_commission: float
    cash_limited: bool
    hold_unpriced: bool
    # keyword-only at runtime: one keyword per field above, initial_cash required
    def __init__(self, *args: Any, **kwargs: Any) -> None: ...

@final
class KernelRun:
    """What one run produced (see the module's ``KernelRun`` docstring)."""

    equity: npt.NDArray[np.int64] | npt.NDArray[np.float64]
    returns: _F64
    holdings: _F64
    skipped: npt.NDArray[np.uint8]
    final_cash: int | float
    error: tuple[int, int, int] | None
    stop_events: list[tuple[int, int, int, int, int]]
    skips: npt.NDArray[np.int64]
    overflow_period: int
    traded: _F64
    costs: _F64

def run_dense(inputs: Any, rules: IntegerRules) -> KernelRun: ...
def to_cents_2d(x: _F64, scale: float = ...) -> npt.NDArray[np.int64]: ...
def run_float(inputs: Any, rules: FloatRules) -> KernelRun: ...
def scan_weights(W: _F64) -> tuple[npt.NDArray[np.uint8], int, int]: ...
def scan_prices(
    x: _F64, scale: float, limit: float, check_grid: bool
) -> tuple[npt.NDArray[np.uint8], tuple[int, int], tuple[int, int], tuple[int, int], int, float]: ...
