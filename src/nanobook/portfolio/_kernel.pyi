"""Type stubs of the dense backtest kernel (nanobook/portfolio/_kernel.pyx).

Price arrays are int64 cents (-1 = absent) or float64 currency (NaN =
absent); weights are float64 with any strides.
"""
from typing import Any

import numpy as np
import numpy.typing as npt

_F64 = npt.NDArray[np.float64]
_Prices = npt.NDArray[np.int64] | npt.NDArray[np.float64]

def run_dense(
    W: _F64,
    order: npt.NDArray[np.int32],
    order_len: npt.NDArray[np.int32],
    active: npt.NDArray[np.uint8],
    close: _Prices,
    fill: _Prices,
    has_fill: npt.NDArray[np.uint8],
    fill_shift: int,
    close_scale: float,
    fill_scale: float,
    initial_cash: int,
    commission_bps: float,
    slippage_bps: float,
    min_commission: int,
    step: int,
    min_order_value: int,
    max_order_value: int,
    band: float,
    max_trades: int,
    day_ord: Any,
    month_ord: Any,
    per_day: int,
    per_month: int,
    value_month: int,
    budgets_active: bool,
    stop_fixed: float = ...,
    stop_trailing: float = ...,
    stop_atr_multiple: float = ...,
    stop_atr_period: int = ...,
    hold_unpriced: bool = ...,
) -> tuple[Any, ...]: ...
def to_cents_2d(x: _F64, scale: float = ...) -> npt.NDArray[np.int64]: ...
def run_float(
    W: _F64,
    order: npt.NDArray[np.int32],
    active: npt.NDArray[np.uint8],
    close: _Prices,
    fill: _Prices,
    has_fill: npt.NDArray[np.uint8],
    fill_shift: int,
    close_scale: float,
    fill_scale: float,
    cash0: float,
    commission_bps: float,
    slippage_bps: float,
    min_commission: float,
    cash_limited: bool,
    hold_unpriced: bool = ...,
) -> tuple[Any, ...]: ...
def scan_weights(W: _F64) -> tuple[npt.NDArray[np.uint8], int, int]: ...
def scan_prices(
    x: _F64, scale: float, limit: float, check_grid: bool
) -> tuple[npt.NDArray[np.uint8], tuple[int, int], tuple[int, int], tuple[int, int], int, float]: ...
