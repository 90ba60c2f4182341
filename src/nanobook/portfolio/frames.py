"""pandas / numpy input -> the dense layout, with its policies.

* ``weights``: DataFrame (index = periods, columns = symbols) or 2-D array
  of floats. NaN = no target for that symbol (a held symbol with NaN in a
  rebalancing row is closed, like a symbol missing from a list); a row that
  is entirely NaN means *no rebalance that period* (everything is held).
  Targets are processed in the weights' column order.
* ``prices``: DataFrame/array of closes, or a mapping with ``open``,
  ``high``, ``low``, ``close`` frames/arrays, in **currency units**. NaN = no
  price that period.
* ``initial_cash``: currency units.

Policies applied here (documented in ``docs/portfolio.md``):

* **Alignment.** Both indexes must be unique and increasing. Weights whose
  index is a subset of the prices' index (monthly weights on daily prices)
  rebalance at their dates and hold in between; any other mismatch is an
  error that says how to align.
* **Missing prices** (``missing_prices=``): ``"hold"`` (default, as vectorbt)
  keeps a held position that has no price at its last price and does not
  trade it; ``"raise"`` stops at the first held position without a price
  (the reference's rule, always used for list input). Either way a target on
  a symbol without a price is not traded and is reported
  (``res.skipped_targets``).
* **Prices as given** by the float conventions (``"fractional"``,
  ``"cash_limited"``); the integer convention (the reference's rules, the
  default) trades in whole cents, so it rounds each price to the cent and
  warns, with a count, when that changes any price.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Mapping

import numpy as np

from ._args import AMOUNT_LIMIT, parse_stop_cfg, split_args, validate_options
from ..fmt import display
from ._checks import real_arg
from ._layout import DenseInputs, require_kernel, to_cents

__all__ = ["frames_to_layout", "to_cents", "CONVENTIONS", "MISSING_PRICES", "DenseCall"]

CONVENTIONS = ("integer", "fractional", "cash_limited")
MISSING_PRICES = ("hold", "raise")
_INTEGER_ONLY = ("quantity_step", "min_order_value", "max_order_value", "no_trade_band_bps",
                 "max_trades_per_rebalance", "max_trades_per_day", "max_trades_per_month",
                 "max_traded_value_per_month")


class DenseCall:
    """Everything one pandas/numpy call resolved to: the layout and the run's parameters."""

    __slots__ = ("layout", "cash", "cost_model", "opts", "stop", "convention", "hold", "ppy", "rf")

    def __init__(self, **kw: Any) -> None:
        for k, v in kw.items():
            setattr(self, k, v)


def _frame_parts(x: Any, name: str) -> tuple[np.ndarray, list[str] | None, Any]:
    """(float values, columns, index) of a DataFrame or 2-D array; rejects non-numeric data."""
    if hasattr(x, "columns") and hasattr(x, "index") and hasattr(x, "to_numpy"):
        cols = x.columns.tolist()
        dtypes = x.dtypes.tolist()
        if any(getattr(dt, "kind", "O") not in "fiu" for dt in set(dtypes)):
            col, dt = next((c, d) for c, d in zip(cols, dtypes) if getattr(d, "kind", "O") not in "fiu")
            raise TypeError(f"{name} column {col!r} must hold numbers, got dtype {dt}")
        vals = x.to_numpy(dtype=np.float64, na_value=np.nan)
        return vals, [c if type(c) is str else str(c) for c in cols], x.index
    if hasattr(x, "dtype") and getattr(x.dtype, "kind", "O") not in "fiu":
        raise TypeError(f"{name} must hold numbers, got dtype {x.dtype}")
    if isinstance(x, (str, bytes, dict)) or x is None:
        raise TypeError(f"{name} must be a DataFrame or a 2-D array, got {type(x).__name__}")
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must hold numbers, got {type(x).__name__}") from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (periods x symbols), got shape {arr.shape}")
    return arr, None, None


def _label(v: Any) -> str:
    s = v.isoformat() if hasattr(v, "isoformat") else str(v)
    return s[:-9] if s.endswith("T00:00:00") else s


def _check_index(idx: Any, name: str) -> None:
    """Unique and increasing, or a ValueError naming the first offending label."""
    if idx is None or type(idx).__name__ == "RangeIndex" and idx.step > 0:
        return
    if idx.has_duplicates:
        raise ValueError(f"{name} index has duplicated dates (first: {_label(idx[idx.duplicated()][0])}); "
                         f"keep one row per date, e.g. {name}[~{name}.index.duplicated(keep='last')]")
    if not idx.is_monotonic_increasing:
        a = np.asarray(idx)
        try:
            t = int(np.flatnonzero(a[1:] < a[:-1])[0]) + 1
            first = f" (first: {_label(idx[t])} after {_label(idx[t - 1])})"
        except TypeError:
            first = ""
        raise ValueError(f"{name} index must be increasing{first}; sort it first: {name}.sort_index()")


def _align(Wv: np.ndarray, widx: Any, pidx: Any, T: int) -> np.ndarray:
    """Weights laid on the prices' periods (mixed frequency), or a ValueError saying how to align."""
    if widx is None or pidx is None:
        if Wv.shape[0] != T:
            raise ValueError(f"price_schedule length ({T}) must match weight_schedule length ({Wv.shape[0]}); "
                             f"give DataFrames with dates to rebalance at some of the price dates only")
        return Wv
    if widx.equals(pidx):
        return Wv
    try:
        pos = pidx.get_indexer(widx)
    except (TypeError, ValueError):
        pos = np.full(len(widx), -1)
    missing = np.flatnonzero(pos < 0)
    if len(missing):
        raise ValueError(
            f"weights index has {len(missing)} of {len(widx)} dates that are not in the prices index "
            f"(first: {_label(widx[missing[0]])}); weights rebalance on price dates only. Align them "
            f"explicitly, e.g. move each to the last price date on or before it: "
            f"weights.index = prices.index[prices.index.searchsorted(weights.index, side='right') - 1] "
            f"(then drop duplicated dates), or reindex the prices to include those dates"
        )
    out = np.full((T, Wv.shape[1]), np.nan)
    out[pos] = Wv  # periods between two weight dates: all NaN = hold
    return out


def _choice(v: Any, name: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(v, str) or v not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(repr(a) for a in allowed)}, got {v!r}")
    return v


def frames_to_layout(weights: Any, prices: Any, initial_cash: Any, cost_model: Any = None,
                     *args: Any, **kwargs: Any) -> DenseCall:
    """Validate pandas/numpy inputs and lay them out densely (raises on bad input, inputs untouched)."""
    k = require_kernel()
    symbols_kw = kwargs.pop("symbols", None)
    p = split_args(cost_model, args, kwargs)
    policy, ppy, rf = p["fill_policy"].name, p["periods_per_year"], p["risk_free"]
    opts_in = p["options"]
    convention = _choice(opts_in.get("convention", "integer"), "convention", CONVENTIONS)
    missing = _choice(opts_in.get("missing_prices", "hold"), "missing_prices", MISSING_PRICES)
    if p["fill_schedule"] is not None:
        raise ValueError("fill_schedule is only supported with list input; use NextBarOpen/NextBarTypical")

    Wv, wcols, widx = _frame_parts(weights, "weights")
    if isinstance(prices, Mapping):
        unknown = sorted(set(prices) - {"open", "high", "low", "close"})
        lacking = [k_ for k_ in ("open", "high", "low", "close") if k_ not in prices]
        if lacking or unknown:
            raise ValueError(f"prices mapping must have exactly open, high, low and close, "
                             f"missing {lacking}, unexpected {unknown}")
        parts = {k_: _frame_parts(prices[k_], f"prices[{k_!r}]") for k_ in ("open", "high", "low", "close")}
        Cv, pcols, pidx = parts["close"]
        for k_ in ("open", "high", "low"):
            if parts[k_][0].shape != Cv.shape or parts[k_][1] != pcols:
                raise ValueError(f"prices[{k_!r}] must have the shape and columns of prices['close']")
            if pidx is not None and not parts[k_][2].equals(pidx):
                raise ValueError(f"prices[{k_!r}] must have the index of prices['close']")
        Ov, Hv, Lv = parts["open"][0], parts["high"][0], parts["low"][0]
    else:
        Cv, pcols, pidx = _frame_parts(prices, "prices")
        Ov = Hv = Lv = Cv
    _check_index(widx, "weights")
    _check_index(pidx, "prices")
    T = Cv.shape[0]
    Wv = _align(Wv, widx, pidx, T)
    index = pidx if pidx is not None else widx
    opts = validate_options(opts_in, T)
    opts.pop("convention", None)
    opts.pop("missing_prices", None)
    stop = parse_stop_cfg(p["stop_cfg"])
    if convention != "integer":
        used = [n for n in _INTEGER_ONLY if opts.get(n) is not None] + (["stop_cfg"] if stop is not None else [])
        if used:
            raise ValueError(f"{used[0]} needs convention='integer' (the float conventions trade fractional "
                             f"shares without steps, caps or stops), got convention={convention!r}")

    cash_f = real_arg(initial_cash, "initial_cash")
    if not math.isfinite(cash_f) or cash_f <= 0:
        raise ValueError(f"initial_cash must be positive and finite, got {display(cash_f)}")
    if convention == "integer":
        if cash_f * 100.0 > AMOUNT_LIMIT:
            raise ValueError(f"initial_cash must be at most {AMOUNT_LIMIT / 100.0:.2f} (currency units; "
                             f"{AMOUNT_LIMIT} cents, the exact range of the integer convention), "
                             f"got {cash_f!r}")
        cash: float | int = int(to_cents(np.array([cash_f]))[0])
        if cash <= 0:
            raise ValueError(f"initial_cash must be at least one cent, got {display(cash_f)}")
    else:
        cash = cash_f * 100.0

    # symbols: frame columns, or given, or generated for arrays
    if symbols_kw is not None:
        if isinstance(symbols_kw, (str, bytes)) or not all(isinstance(s, str) for s in symbols_kw):
            raise TypeError(f"symbols must be a list of str, got {symbols_kw!r}"[:200])
        if wcols is not None and pcols is not None:
            raise ValueError("symbols= names the columns of arrays; with DataFrames the columns are the "
                             "symbols (rename them instead)")
        symbols_kw = list(symbols_kw)
    if wcols is None:
        wcols = symbols_kw if symbols_kw is not None else (pcols or [f"S{j}" for j in range(Wv.shape[1])])
    if pcols is None:
        pcols = symbols_kw if symbols_kw is not None else wcols
    if len(wcols) != Wv.shape[1] or len(pcols) != Cv.shape[1]:
        raise ValueError(f"symbols must name every column: weights have {Wv.shape[1]} columns and prices "
                         f"{Cv.shape[1]}, given {len(wcols)} and {len(pcols)} names")
    for name, cols in (("weights", wcols), ("prices", pcols)):
        if len(set(cols)) != len(cols):
            dup = next(c for c in cols if cols.count(c) > 1)
            raise ValueError(f"{name} columns must be unique symbols, {dup!r} appears twice")
    pset = set(pcols)
    lacking = [s for s in wcols if s not in pset]
    if lacking:
        raise ValueError(f"weights column {lacking[0]!r} has no price column ({len(lacking)} such columns); "
                         f"add its prices (NaN where unknown) or drop the column")
    symbols = sorted(pset, key=lambda s: s.encode("utf-8"))
    col = {s: j for j, s in enumerate(symbols)}
    N = len(symbols)
    wmap = np.array([col[s] for s in wcols], dtype=np.intp)
    pmap = np.array([col[s] for s in pcols], dtype=np.intp)

    # weights: finite or NaN; an all-NaN row holds
    active, bt, bj = k.scan_weights(Wv)
    if bt >= 0:
        raise ValueError(f"weight_schedule[{bt}]: weight for {wcols[bj]} must be finite, "
                         f"got {display(Wv[bt, bj])}" + (f" (at {_label(index[bt])})" if index is not None else ""))
    if wcols == symbols:
        W = Wv  # used in place, any strides (a DataFrame's F-ordered values are not copied)
    else:
        W = np.full((T, N), np.nan)
        W[:, wmap] = Wv

    # prices: validated in one pass each, used in place (the kernel converts each one as it reads it)
    limit = AMOUNT_LIMIT / 100.0 if convention == "integer" else math.inf
    has_bar, off, worst = _scan_prices(k, Cv, Ov, Hv, Lv, pcols, index, limit, convention == "integer")
    if off:
        warnings.warn(
            f"convention='integer' trades in whole cents: {off} prices are not whole cents and were rounded "
            f"(largest change {worst:.2%}); use convention='fractional' or 'cash_limited' to use them as "
            f"given, or round them yourself to silence this", UserWarning, stacklevel=3)

    def place(a: np.ndarray) -> np.ndarray:
        if pcols == symbols:
            return a
        out = np.full((T, N), np.nan)
        out[:, pmap] = a
        return out

    C = place(Cv)
    order = np.ascontiguousarray(wmap.astype(np.int32).reshape(1, -1)) if len(wmap) else np.zeros((1, 1), np.int32)
    order_len = np.array([len(wmap)], dtype=np.int32)
    fill, shift, fscale, has_fill = C, 0, 100.0, has_bar
    if policy != "SignalBarClose":
        shift = 1
        has_fill = np.zeros(T, dtype=np.uint8)
        has_fill[:-1] = has_bar[1:]
        if policy == "NextBarOpen":
            fill = C if Ov is Cv else place(Ov)
        elif convention == "integer":  # (h + l + c) // 3 in integer cents, kept as exact floats
            cc = to_cents(C)
            typ = (to_cents(place(Hv)) + to_cents(place(Lv)) + cc) // 3
            fill = typ.astype(np.float64)
            fill[cc < 0] = np.nan
            fscale = 1.0
            del cc, typ
        else:  # the typical price as given
            fill = (place(Hv) + place(Lv) + C) / 3.0
    d = DenseInputs(symbols=symbols, W=W, order=order, order_len=order_len, active=active, close=C, fill=fill,
                    has_fill=has_fill, index=index, fill_shift=shift, close_scale=100.0, fill_scale=fscale)
    return DenseCall(layout=d, cash=cash, cost_model=p["cost_model"], opts=opts, stop=stop,
                     convention=convention, hold=missing == "hold", ppy=ppy, rf=rf)


def _scan_prices(k: Any, C: np.ndarray, O: np.ndarray, H: np.ndarray, L: np.ndarray, cols: list[str], index: Any,
                 limit: float, check_grid: bool) -> tuple[np.ndarray, int, float]:
    """Negative, infinite and too large prices raise (first in row-major order, naming the date and the
    symbol); returns the closes' row presence, and how many prices rounding to cents changes."""
    has = None
    off = 0
    worst = 0.0
    for x in {id(C): C, id(O): O, id(H): H, id(L): L}.values():
        h, neg, inf, big, n_off, w = k.scan_prices(x, 100.0, limit, check_grid)
        if has is None:
            has = h
        at = (lambda t: f" (at {_label(index[t])})" if index is not None else "")
        if neg[0] >= 0:
            t, j = neg
            raise ValueError(
                f"price_schedule[{t}]: bar for {cols[j]} has a negative price "
                f"(open={O[t, j]!r}, high={H[t, j]!r}, low={L[t, j]!r}, close={C[t, j]!r}){at(t)}"
            )
        if inf[0] >= 0:
            t, j = inf
            raise ValueError(f"price_schedule[{t}]: price for {cols[j]} must be finite (NaN = no price), "
                             f"got {float(x[t, j])!r}{at(t)}")
        if big[0] >= 0:
            t, j = big
            raise ValueError(f"price_schedule[{t}]: price for {cols[j]} is {float(x[t, j])!r}, above the "
                             f"limit {limit:.2f} of convention='integer' ({AMOUNT_LIMIT} cents){at(t)}")
        off += n_off
        worst = max(worst, w)
    if H is not L:
        with np.errstate(invalid="ignore"):
            hl = H < L
        if hl.any():
            t, j = np.argwhere(hl)[0]
            raise ValueError(f"price_schedule[{t}]: bar for {cols[j]} has high < low "
                             f"(high={H[t, j]!r}, low={L[t, j]!r})")
    assert has is not None
    return has, off, worst
