"""pandas / numpy input for ``backtest_weights``: one dense (periods x symbols) layout.

* ``weights``: DataFrame (index = periods, columns = symbols) or 2-D array.
  NaN = no target for that symbol (as if absent from the period's list, so a
  held symbol with NaN is closed); a row that is entirely NaN means *no
  rebalance that period* (everything is held), which the list form cannot
  express. Targets are processed in the weights' column order.
* ``prices``: DataFrame/array of closes, or a mapping with ``open``, ``high``,
  ``low``, ``close`` frames/arrays, in **currency units** (floats); converted
  to integer cents by rounding half away from zero. NaN = no bar.
* ``initial_cash``: currency units.

The result is the same dict as for lists (``equity_curve``/``final_cash`` in
cents) with pandas views in currency units (``.equity``, ``.returns``,
``.holdings``). ``convention`` selects the execution rules:

* ``"integer"`` (default): the reference's exact integer-cent, whole-step rules;
* ``"fractional"``: fractional shares, every target reached exactly, costs
  paid from cash (cvxportfolio's convention);
* ``"cash_limited"``: fractional shares, sells first, then buys from the
  smallest order value, each buy cut to the cash left including its
  commission (vectorbt's ``call_seq='auto'`` convention).
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ._arith import fmt_float
from ._types import FillPolicy
from .portfolio import CostModel
from .result import BacktestWeightsResult

__all__ = ["backtest_frames", "to_cents"]

CONVENTIONS = ("integer", "fractional", "cash_limited")


def to_cents(x: np.ndarray, scale: float = 100.0) -> np.ndarray:
    """Currency floats -> int64 cents (``round(x * scale)``, half away from zero); NaN -> -1 (absent)."""
    from .engine import _kernel

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


def _frame_parts(x: Any, name: str) -> tuple[np.ndarray, list[str] | None, Any]:
    """(values, columns, index) of a DataFrame or 2-D array."""
    if hasattr(x, "columns") and hasattr(x, "index") and hasattr(x, "to_numpy"):
        vals = x.to_numpy(dtype=np.float64, na_value=np.nan)
        cols = [str(c) for c in x.columns]
        return vals, cols, x.index
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (periods x symbols), got shape {arr.shape}")
    return arr, None, None


def _check_index(a: Any, b: Any, what: str) -> None:
    if a is not None and b is not None and not a.equals(b):
        raise ValueError(f"{what} index must equal the weights index")


def backtest_frames(
    weights: Any,
    prices: Any,
    initial_cash: Any,
    cost_model: Any = None,
    *args: Any,
    **kwargs: Any,
) -> BacktestWeightsResult:
    """Dense-input backtest; see the module docstring and :func:`backtest_weights`."""
    from .backtest import _finish, _real, _split_args, _validate_options, parse_stop_cfg

    symbols_kw = kwargs.pop("symbols", None)
    p = _split_args(cost_model, args, kwargs)
    policy = FillPolicy.coerce(p["fill_policy"]).name
    ppy = _real(p["periods_per_year"], "periods_per_year")
    rf = _real(p["risk_free"], "risk_free")
    cm: CostModel = p["cost_model"]

    Wv, wcols, widx = _frame_parts(weights, "weights")
    T = Wv.shape[0]
    opts = _validate_options(p["options"], T)
    convention = opts.pop("convention", "integer")
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {', '.join(CONVENTIONS)}, got {convention!r}")
    if p["fill_schedule"] is not None:
        raise ValueError("fill_schedule is only supported with list input; use NextBarOpen/NextBarTypical")
    stop = parse_stop_cfg(p["stop_cfg"])

    if isinstance(prices, Mapping):
        missing = [k for k in ("open", "high", "low", "close") if k not in prices]
        if missing:
            raise ValueError(f"prices mapping must have open, high, low and close, missing {missing}")
        parts = {k: _frame_parts(prices[k], f"prices[{k!r}]") for k in ("open", "high", "low", "close")}
        Cv, pcols, pidx = parts["close"]
        for k in ("open", "high", "low"):
            if parts[k][0].shape != Cv.shape or parts[k][1] != pcols:
                raise ValueError(f"prices[{k!r}] must have the shape and columns of prices['close']")
        Ov, Hv, Lv = parts["open"][0], parts["high"][0], parts["low"][0]
    else:
        Cv, pcols, pidx = _frame_parts(prices, "prices")
        Ov = Hv = Lv = Cv

    if Cv.shape[0] != T:
        raise ValueError(f"price_schedule length ({Cv.shape[0]}) must match weight_schedule length ({T})")
    _check_index(pidx, widx, "prices")
    cash_f = _real(initial_cash, "initial_cash")
    if not math.isfinite(cash_f) or cash_f <= 0:
        raise ValueError(f"initial_cash must be positive, got {fmt_float(cash_f)}")
    cash = int(to_cents(np.array([cash_f]))[0])
    if cash <= 0:
        raise ValueError(f"initial_cash must be positive, got {fmt_float(cash_f)}")

    # symbols: frame columns, or given, or generated for arrays
    if wcols is None:
        wcols = list(symbols_kw) if symbols_kw is not None else (pcols or [f"S{j}" for j in range(Wv.shape[1])])
    if pcols is None:
        pcols = list(symbols_kw) if symbols_kw is not None else wcols
    if len(wcols) != Wv.shape[1] or len(pcols) != Cv.shape[1]:
        raise ValueError("symbols must name every column of weights and prices")
    if len(set(wcols)) != len(wcols) or len(set(pcols)) != len(pcols):
        raise ValueError("weights and prices columns must be unique symbols")
    symbols = sorted(set(wcols) | set(pcols), key=lambda s: s.encode("utf-8"))
    col = {s: j for j, s in enumerate(symbols)}
    N = len(symbols)
    wmap = np.array([col[s] for s in wcols], dtype=np.intp)
    pmap = np.array([col[s] for s in pcols], dtype=np.intp)
    same_w = wcols == symbols
    same_p = pcols == symbols

    # weights: finite or NaN
    bad = np.isinf(Wv)
    if bad.any():
        t, j = np.argwhere(bad)[0]
        raise ValueError(f"weight_schedule[{t}]: weight for {wcols[j]} must be finite, got {fmt_float(Wv[t, j])}")
    if same_w:
        W = Wv  # used in place, any strides (a DataFrame's F-ordered values are not copied)
    else:
        W = np.full((T, N), np.nan)
        W[:, wmap] = Wv

    # Prices stay float currency: the kernel converts each one to cents as it
    # reads it (round half away from zero, NaN = absent), so no int64 copy of
    # the price panel is ever alive.
    def place(a: np.ndarray) -> np.ndarray:
        if same_p:
            return a
        out = np.full((T, N), np.nan)
        out[:, pmap] = a
        return out

    _validate_prices(Cv, Ov, Hv, Lv, pcols)
    C = place(Cv)
    active = (~np.all(np.isnan(W), axis=1)).astype(np.uint8)
    order = np.ascontiguousarray(wmap.astype(np.int32).reshape(1, -1)) if len(wmap) else np.zeros((1, 1), np.int32)
    order_len = np.array([len(wmap)], dtype=np.int32)
    has_bar = (~np.all(np.isnan(C), axis=1)).astype(np.uint8)

    from .engine import DenseInputs, run_dense_arrays

    fill, shift, fscale, has_fill = C, 0, 100.0, has_bar
    if policy != "SignalBarClose":
        shift = 1
        has_fill = np.zeros(T, dtype=np.uint8)
        has_fill[:-1] = has_bar[1:]
        if policy == "NextBarOpen":
            fill = C if Ov is Cv else place(Ov)
        else:  # NextBarTypical: (h + l + c) // 3 in integer cents, kept as exact floats
            cc = to_cents(C)
            typ = (to_cents(place(Hv)) + to_cents(place(Lv)) + cc) // 3
            fill = typ.astype(np.float64)
            fill[cc < 0] = np.nan
            fscale = 1.0
            del cc, typ
    d = DenseInputs(symbols, W, order, order_len, active, C, fill, has_fill,
                    widx if widx is not None else pidx, fill_shift=shift, close_scale=100.0, fill_scale=fscale)

    if convention != "integer":
        if stop is not None:
            raise ValueError(f"stop_cfg is only supported with convention='integer', got {convention!r}")
        from .conventions import run_float

        raw, dense = run_float(d, cash, cm, convention)
        return _finish(raw, ppy, rf, dense)
    raw, dense = run_dense_arrays(d, cash, cm, opts, stop)
    return _finish(raw, ppy, rf, dense)


def _validate_prices(C: np.ndarray, O: np.ndarray, H: np.ndarray, L: np.ndarray, cols: list[str]) -> None:
    neg = C < 0
    for x in {id(O): O, id(H): H, id(L): L}.values():
        if x is not C:
            neg |= x < 0
    if neg.any():
        t, j = np.argwhere(neg)[0]
        raise ValueError(
            f"price_schedule[{t}]: bar for {cols[j]} has a negative price "
            f"(open={O[t, j]!r}, high={H[t, j]!r}, low={L[t, j]!r}, close={C[t, j]!r})"
        )
    if H is not L:
        hl = H < L
        if hl.any():
            t, j = np.argwhere(hl)[0]
            raise ValueError(f"price_schedule[{t}]: bar for {cols[j]} has high < low (high={H[t, j]!r}, low={L[t, j]!r})")
