"""The one normalised layout every input is turned into before an engine runs.

Pipeline of ``backtest_weights`` (each module imports only the ones to its
right)::

    backtest.py  ->  lists.py / frames.py  ->  engine.py  ->  result.py  ->  _layout.py
    (entry point)    (inputs -> layout,        (one kernel    (the dict +
                      their policies)           per semantics)  views)

A :class:`DenseInputs` is a ``(periods x symbols)`` layout: columns are the
symbols in ascending UTF-8 order (so "ascending symbol order" is column
order), weights are float64 with NaN where a symbol is not a target, prices
are either int64 cents (-1 = absent; list input) or the caller's float
currency arrays (NaN = absent; pandas/numpy input), read in place. Period
``t`` fills at row ``t + fill_shift`` of ``fill``; ``has_fill[t]`` says
whether it has a fill bar at all and ``active[t]`` whether it rebalances
(an all-NaN weight row holds).
"""
from __future__ import annotations

from typing import Any

import numpy as np

try:  # the compiled kernel: built with the package (``setup.py build_ext``)
    from . import _kernel
except ImportError:  # pragma: no cover - only in an unbuilt checkout
    _kernel = None

__all__ = ["DenseInputs", "to_cents", "fill_prices", "shift_fills", "require_kernel"]


def require_kernel() -> Any:
    """The compiled kernel module, or a clear error when the package was not built."""
    if _kernel is None:  # pragma: no cover
        raise ImportError("nanobook.portfolio._kernel is not built; run `python setup.py build_ext --inplace`")
    return _kernel


class DenseInputs:
    """Validated dense inputs for the engine (see the module docstring).

    ``close_scale`` / ``fill_scale`` convert float currency to cents
    (``100``; ``1`` when a float array already holds cents). ``dates`` is the
    period index (a pandas Index) or None; ``order`` lists the weights'
    columns in the order their targets are processed (one row, or one row per
    period for list input).
    """

    __slots__ = ("symbols", "W", "order", "order_len", "active", "close", "fill", "has_fill", "index",
                 "fill_shift", "close_scale", "fill_scale")

    def __init__(self, *, symbols: list[str], W: np.ndarray, order: np.ndarray, order_len: np.ndarray,
                 active: np.ndarray, close: np.ndarray, fill: np.ndarray, has_fill: np.ndarray, index: Any = None,
                 fill_shift: int = 0, close_scale: float = 1.0, fill_scale: float = 1.0) -> None:
        self.symbols = symbols
        self.W = W
        self.order = order
        self.order_len = order_len
        self.active = active
        self.close = close
        self.fill = fill
        self.has_fill = has_fill
        self.index = index
        self.fill_shift = fill_shift
        self.close_scale = close_scale
        self.fill_scale = fill_scale

    def label(self, t: int) -> str:
        """The period ``t`` as a user sees it: its date (index label) or ``period t``."""
        if self.index is not None and 0 <= t < len(self.index):
            v = self.index[t]
            s = v.isoformat() if hasattr(v, "isoformat") else str(v)
            return s[:-9] if s.endswith("T00:00:00") else s
        return f"period {t}"

    def close_values(self) -> np.ndarray:
        """Closes in (float) cents as given, NaN = absent (no rounding)."""
        return _as_float_cents(self.close, self.close_scale)

    def fill_values(self) -> np.ndarray:
        """Fill prices per period in (float) cents as given, shift applied, NaN = absent."""
        f = _as_float_cents(self.fill, self.fill_scale)
        if self.fill_shift == 0:
            return f
        T = self.W.shape[0]
        out = np.full((T, f.shape[1]), np.nan)
        k = self.fill_shift
        if T > k:
            out[: T - k] = f[k:T]
        return out


def _as_float_cents(a: np.ndarray, scale: float) -> np.ndarray:
    if a.dtype == np.int64:
        out = a.astype(np.float64)
        out[a < 0] = np.nan
        return out
    return np.asarray(a, dtype=np.float64) * scale


def to_cents(x: np.ndarray, scale: float = 100.0) -> np.ndarray:
    """Currency floats -> int64 cents (``round(x * scale)``, half away from zero); NaN -> -1 (absent)."""
    a = np.asarray(x, dtype=np.float64)
    if _kernel is not None and a.ndim == 2:
        return _kernel.to_cents_2d(a, scale)  # any strides, one pass, no float temporaries
    y = a * scale
    nan = np.isnan(y)
    t = np.trunc(y)
    frac = y - t
    r = t + np.where(np.abs(frac) >= 0.5, np.sign(y), 0.0)
    r[nan] = -1.0
    return r.astype(np.int64)


def fill_prices(policy: str, o: np.ndarray, h: np.ndarray, l: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Fill prices of integer-cent bars (-1 where absent): open, typical ``(h+l+c)//3`` or close."""
    if policy == "NextBarOpen":
        return o
    if policy == "NextBarTypical":
        absent = c < 0
        typ = (h + l + c) // 3
        typ[absent] = -1
        return typ
    return c


def shift_fills(bars_fill: np.ndarray, has_bar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Next-bar fills of integer-cent bars: period i fills at bar i+1 (none for the last period)."""
    T, N = bars_fill.shape
    fill = np.full((T, N), -1, dtype=np.int64)
    has = np.zeros(T, dtype=np.uint8)
    if T > 1:
        fill[:-1] = bars_fill[1:]
        has[:-1] = has_bar[1:]
    return fill, has
