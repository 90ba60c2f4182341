"""Engine selection and the dense layout.

The dense engine (``_kernel.run_dense``, Cython) runs one ``(periods x
symbols)`` layout: columns are the symbols in ascending order, weights are
NaN where a symbol is not a target, prices are integer cents with -1 where a
symbol has no bar (or float currency with NaN, converted in the kernel). It
handles every option, stops included; duplicate symbols inside one period or
duplicate bars, or a missing compiled kernel, use the list engine
(``_listengine``), which is the oracle both are tested against.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ._listengine import StopConfig
from .portfolio import CostModel
from .result import DenseData, lazy

try:  # the compiled kernel is optional: without it the list engine runs
    from . import _kernel
except ImportError:  # pragma: no cover - exercised only in unbuilt checkouts
    _kernel = None

__all__ = ["run_any", "run_dense_arrays", "kernel_available"]


def kernel_available() -> bool:
    """True when the compiled dense kernel is importable."""
    return _kernel is not None


class DenseInputs:
    """Validated dense inputs for the kernel.

    ``close`` and ``fill`` are int64 cents (-1 = absent; scales 1) or float
    arrays converted by the kernel with ``round(x * scale)`` (NaN = absent),
    so a float input needs no cents copy. Period ``t`` fills at row
    ``t + fill_shift`` of ``fill``; ``has_fill[t]`` says whether it has a
    fill bar at all.
    """

    __slots__ = ("symbols", "W", "order", "order_len", "active", "close", "fill", "has_fill", "index",
                 "fill_shift", "close_scale", "fill_scale")

    def __init__(self, symbols, W, order, order_len, active, close, fill, has_fill, index=None,
                 fill_shift=0, close_scale=1.0, fill_scale=1.0):
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

    def close_cents(self) -> np.ndarray:
        """Closes as int64 cents (-1 = absent)."""
        return _as_cents(self.close, self.close_scale)

    def fill_cents(self) -> np.ndarray:
        """Fill prices per period as int64 cents, the shift applied (-1 = absent)."""
        f = _as_cents(self.fill, self.fill_scale)
        if self.fill_shift == 0:
            return f
        T = self.W.shape[0]
        out = np.full((T, f.shape[1]), -1, dtype=np.int64)
        k = self.fill_shift
        if T > k:
            out[: T - k] = f[k:T]
        return out


def _as_cents(a: np.ndarray, scale: float) -> np.ndarray:
    if a.dtype == np.int64:
        return a
    from .frames import to_cents

    return to_cents(a, scale)


def fill_prices(policy: str, o: np.ndarray, h: np.ndarray, l: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Fill prices of the bars (-1 where absent): open, typical ``(h+l+c)//3`` or close."""
    if policy == "NextBarOpen":
        return o
    if policy == "NextBarTypical":
        absent = c < 0
        typ = (h + l + c) // 3
        typ[absent] = -1
        return typ
    return c


def shift_fills(policy: str, bars_fill: np.ndarray, has_bar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Next-bar fills: period i fills at bar i+1 (none for the last period)."""
    T, N = bars_fill.shape
    fill = np.full((T, N), -1, dtype=np.int64)
    has = np.zeros(T, dtype=np.uint8)
    if T > 1:
        fill[:-1] = bars_fill[1:]
        has[:-1] = has_bar[1:]
    return fill, has


def _lists_to_dense(
    weights: Sequence[Sequence[tuple[str, float]]],
    bars: Sequence[Sequence[tuple[str, tuple[int, int, int, int]]]],
    fills: Any,
    policy: str,
) -> DenseInputs | None:
    """List inputs -> dense arrays, or None when a period repeats a symbol."""
    T = len(weights)
    allsyms: set[str] = set()
    for row in weights:
        allsyms.update(s for s, _ in row)
    for row in bars:
        allsyms.update(s for s, _ in row)
    if fills is not None:
        for row in fills:
            allsyms.update(s for s, _ in row)
    symbols = sorted(allsyms, key=lambda s: s.encode("utf-8"))
    col = {s: j for j, s in enumerate(symbols)}
    N = len(symbols)
    W = np.full((T, N), np.nan)
    order = np.zeros((T, max(N, 1)), dtype=np.int32)
    order_len = np.zeros(T, dtype=np.int32)
    getcol = col.__getitem__
    for t, row in enumerate(weights):
        if not row:
            continue
        syms, ws = zip(*row)
        idx = list(map(getcol, syms))
        if len(set(idx)) != len(idx):
            return None
        W[t, idx] = ws
        order[t, : len(idx)] = idx
        order_len[t] = len(idx)

    def bar_arrays(rows: Sequence) -> tuple[np.ndarray, ...] | None:
        O = np.full((T, N), -1, dtype=np.int64)
        H = O.copy()
        L = O.copy()
        C = O.copy()
        has = np.zeros(T, dtype=np.uint8)
        for t, row in enumerate(rows):
            if not row:
                continue
            syms, bs = zip(*row)
            idx = list(map(getcol, syms))
            if len(set(idx)) != len(idx):
                return None
            arr = np.array(bs, dtype=np.int64).reshape(len(bs), 4)
            O[t, idx] = arr[:, 0]
            H[t, idx] = arr[:, 1]
            L[t, idx] = arr[:, 2]
            C[t, idx] = arr[:, 3]
            has[t] = 1
        return O, H, L, C, has

    b = bar_arrays(bars)
    if b is None:
        return None
    O, H, L, C, has_bar = b
    if policy == "SignalBarClose":
        fill, has_fill = C, has_bar
    elif fills is not None:
        fb = bar_arrays(fills)
        if fb is None:
            return None
        fill = fill_prices(policy, *fb[:4])
        has_fill = fb[4]
    else:
        fill, has_fill = shift_fills(policy, fill_prices(policy, O, H, L, C), has_bar)
    active = np.ones(T, dtype=np.uint8)
    return DenseInputs(symbols, W, order, order_len, active, C, np.ascontiguousarray(fill), has_fill)


def run_dense_arrays(
    d: DenseInputs, cash: int, cost_model: CostModel, opts: Mapping[str, Any], stop: StopConfig | None = None
) -> tuple[dict[str, Any], DenseData]:
    """Run the kernel on dense inputs; raises the unpriced-holding ValueError."""
    from .backtest import budgets_of

    b = budgets_of(opts)
    mt = opts.get("max_trades_per_rebalance")
    step = opts.get("quantity_step")
    band = opts.get("no_trade_band_bps")
    st = stop if stop is not None and stop.enabled else None
    equity, rets, hold, skipped, final_cash, err, events = _kernel.run_dense(
        d.W, d.order, d.order_len, d.active, d.close, d.fill, d.has_fill,
        int(d.fill_shift), float(d.close_scale), float(d.fill_scale),
        int(cash), cost_model.commission_bps, cost_model.slippage_bps, cost_model.min_commission,
        1_000_000 if step is None else int(step),
        int(opts.get("min_order_value") or 0),
        int(opts.get("max_order_value") or 0),
        0.0 if band is None else float(band),
        -1 if mt is None else int(mt),
        b["day_ord"], b["month_ord"],
        -1 if b["per_day"] is None else int(b["per_day"]),
        -1 if b["per_month"] is None else int(b["per_month"]),
        -1 if b["value_month"] is None else int(b["value_month"]),
        bool(b["active"]),
        0.0 if st is None else st.fixed,
        0.0 if st is None else st.trailing,
        0.0 if st is None else st.atr_multiple,
        14 if st is None else int(st.atr_period),
    )
    if err is not None:
        phase, t, j = err
        raise ValueError(f"unpriced holding {d.symbols[j]} at period {t} ({'fill' if phase == 0 else 'close'})")
    dense = DenseData(d.symbols, d.close, hold, d.index, close_scale=d.close_scale)
    syms = d.symbols
    raw = {
        "returns": rets.tolist(),
        "equity_curve": equity.tolist(),
        "final_cash": int(final_cash),
        "skipped_rebalances": np.flatnonzero(skipped).tolist(),
        "holdings": lazy(dense.holdings_lists),
        "symbol_returns": lazy(dense.symbol_returns_lists),
        "stop_events": [
            {"period_index": t, "symbol": syms[j], "trigger_price": level, "exit_price": px,
             "reason": _REASONS[reason]}
            for t, j, level, px, reason in events
        ],
    }
    return raw, dense


_REASONS = ("fixed", "trailing", "atr")


def run_any(
    weights: list, bars: list, cash: int, cost_model: CostModel, policy: str,
    fills: Any, stop: StopConfig | None, opts: Mapping[str, Any],
) -> tuple[dict[str, Any], DenseData | None]:
    """Run list inputs on the dense engine when possible, else on the list engine.

    ``opts["engine"]`` may force ``"dense"`` or ``"list"`` (tests use this to
    run both engines on the same inputs).
    """
    from .backtest import run_general

    engine = opts.get("engine", "auto")
    if engine not in ("auto", "dense", "list"):
        raise ValueError(f"engine must be 'auto', 'dense' or 'list', got {engine!r}")
    if engine != "list" and _kernel is not None:
        d = _lists_to_dense(weights, bars, fills, policy)
        if d is not None:
            return run_dense_arrays(d, cash, cost_model, opts, stop)
    if engine == "dense":
        raise ValueError("engine='dense' needs the compiled kernel and at most one entry per symbol and period")
    return run_general(weights, bars, cash, cost_model, policy, fills, stop, opts), None


def _split_rows(rows: Any) -> tuple[list, set] | None:
    """Per period ``(symbols, values)`` tuples and the set of symbols, or None if unusual."""
    out = []
    allsyms: set = set()
    tup = tuple
    for row in rows:
        if type(row) is not list and type(row) is not tuple:
            return None
        if not row:
            out.append(((), ()))
            continue
        if set(map(type, row)) != {tup}:
            return None
        try:
            syms, vals = zip(*row)
        except ValueError:
            return None
        allsyms.update(syms)
        out.append((syms, vals))
    return out, allsyms


def fast_lists_to_dense(weight_schedule: Any, price_schedule: Any, fill_schedule: Any,
                        policy: str) -> DenseInputs | None:
    """List inputs -> dense arrays with vectorised checks.

    Returns None whenever anything is unusual (invalid values, duplicate
    symbols in a period, mixed bar types, ...): the caller then takes the
    general path, which validates entry by entry and raises the exact error.
    """
    if isinstance(weight_schedule, (str, bytes, dict)) or isinstance(price_schedule, (str, bytes, dict)):
        return None
    try:
        T = len(weight_schedule)
        if len(price_schedule) != T or (fill_schedule is not None and len(fill_schedule) != T):
            return None
    except TypeError:
        return None
    wsplit = _split_rows(weight_schedule)
    psplit = _split_rows(price_schedule)
    if wsplit is None or psplit is None:
        return None
    fsplit = None
    if fill_schedule is not None:
        fsplit = _split_rows(fill_schedule)
        if fsplit is None:
            return None
    allsyms = wsplit[1] | psplit[1] | (fsplit[1] if fsplit else set())
    for s in allsyms:
        if type(s) is not str or len(s.encode("utf-8")) > 8:
            return None
    symbols = sorted(allsyms, key=lambda s: s.encode("utf-8"))
    col = {s: j for j, s in enumerate(symbols)}
    getcol = col.__getitem__
    N = len(symbols)
    W = np.full((T, N), np.nan)
    order = np.zeros((T, max(N, 1)), dtype=np.int32)
    order_len = np.zeros(T, dtype=np.int32)
    bulk = _bulk_layout(wsplit[0], psplit[0], fsplit[0] if fsplit else None, getcol)
    if bulk is not None:
        return _bulk_dense(bulk, wsplit[0], psplit[0], fsplit[0] if fsplit else None, symbols, T, N, policy)
    prev_syms: tuple = ()
    idx_arr = np.zeros(0, dtype=np.intp)
    for t, (syms, vals) in enumerate(wsplit[0]):
        if not syms:
            continue
        if syms != prev_syms:  # same universe as the previous period: reuse its columns
            idx = list(map(getcol, syms))
            if len(set(idx)) != len(idx):
                return None
            idx_arr = np.array(idx, dtype=np.intp)
            prev_syms = syms
        if not set(map(type, vals)) <= _NUMBER_TYPES:
            return None
        v = np.array(vals, dtype=np.float64)
        if not np.isfinite(v).all():
            return None
        W[t, idx_arr] = v
        order[t, : len(idx_arr)] = idx_arr
        order_len[t] = len(idx_arr)

    def bars_of(split: list) -> tuple[np.ndarray, ...] | None:
        O = np.full((T, N), -1, dtype=np.int64)
        H = O.copy()
        L = O.copy()
        C = O.copy()
        M = np.zeros((T, N), dtype=bool)
        has = np.zeros(T, dtype=np.uint8)
        prev: tuple = ()
        ia = np.zeros(0, dtype=np.intp)
        for t, (syms, bs) in enumerate(split):
            if not syms:
                continue
            if syms != prev:
                idx = list(map(getcol, syms))
                if len(set(idx)) != len(idx):
                    return None
                ia = np.array(idx, dtype=np.intp)
                prev = syms
            M[t, ia] = True
            kinds = set(map(type, bs))
            if kinds == {BarPrices}:
                try:
                    a = np.fromiter(_chain(bs), dtype=np.int64, count=4 * len(bs)).reshape(len(bs), 4)
                except (OverflowError, ValueError):
                    return None
                O[t, ia] = a[:, 0]
                H[t, ia] = a[:, 1]
                L[t, ia] = a[:, 2]
                C[t, ia] = a[:, 3]
            elif kinds == {int}:
                try:
                    a = np.array(bs, dtype=np.int64)
                except OverflowError:
                    return None
                O[t, ia] = a
                H[t, ia] = a
                L[t, ia] = a
                C[t, ia] = a
            else:
                return None
            has[t] = 1
        return O, H, L, C, has, M

    b = bars_of(psplit[0])
    if b is None:
        return None
    O, H, L, C, has_bar, M = b
    # negative components or high < low: let the general path raise the message
    if (((O < 0) | (H < 0) | (L < 0) | (C < 0) | (H < L)) & M).any():
        return None
    if policy == "SignalBarClose":
        fill, has_fill = C, has_bar
    elif fsplit is not None:
        fb = bars_of(fsplit[0])
        if fb is None:
            return None
        fill = fill_prices(policy, *fb[:4])
        has_fill = fb[4]
    else:
        fill, has_fill = shift_fills(policy, fill_prices(policy, O, H, L, C), has_bar)
    active = np.ones(T, dtype=np.uint8)
    return DenseInputs(symbols, W, order, order_len, active, C, np.ascontiguousarray(fill), has_fill)


def _bulk_layout(wrows: list, prows: list, frows: list | None, getcol: Any) -> np.ndarray | None:
    """Column indices when every period lists the same symbols in the same order
    (weights, bars and fill bars alike, no empty period), else None."""
    first = wrows[0][0] if wrows else ()
    if not first or len(set(first)) != len(first):
        return None
    for rows in (wrows, prows) + ((frows,) if frows is not None else ()):
        for syms, _ in rows:
            if syms is not first and syms != first:
                return None
    return np.array(list(map(getcol, first)), dtype=np.intp)


def _bulk_dense(idx: np.ndarray, wrows: list, prows: list, frows: list | None, symbols: list[str],
                T: int, N: int, policy: str) -> DenseInputs | None:
    """Whole-schedule conversion for a fixed universe: a few C-level passes."""
    n = len(idx)
    vals = [v for _, v in wrows]
    if not set(map(type, _chain(vals))) <= _NUMBER_TYPES:
        return None
    Wb = np.fromiter(_chain(vals), dtype=np.float64, count=T * n).reshape(T, n)
    if not np.isfinite(Wb).all():
        return None
    W = np.full((T, N), np.nan)
    W[:, idx] = Wb
    order = np.ascontiguousarray(idx.astype(np.int32).reshape(1, n))
    order_len = np.array([n], dtype=np.int32)

    def bars(rows: list) -> tuple[np.ndarray, ...] | None:
        bs = [b for _, b in rows]
        kinds = set(map(type, _chain(bs)))
        try:
            if kinds == {BarPrices}:
                a = np.fromiter(_chain(_chain(bs)), dtype=np.int64, count=T * n * 4).reshape(T, n, 4)
                parts = [a[:, :, k] for k in range(4)]
            elif kinds == {int}:
                a = np.fromiter(_chain(bs), dtype=np.int64, count=T * n).reshape(T, n)
                parts = [a, a, a, a]
            else:
                return None
        except (OverflowError, ValueError):
            return None
        if any((p < 0).any() for p in parts) or (parts[1] < parts[2]).any():
            return None
        out = []
        for p in parts:
            full = np.full((T, N), -1, dtype=np.int64)
            full[:, idx] = p
            out.append(full)
        return tuple(out)

    b = bars(prows)
    if b is None:
        return None
    O, H, L, C = b
    has_bar = np.ones(T, dtype=np.uint8)
    if policy == "SignalBarClose":
        fill, has_fill = C, has_bar
    elif frows is not None:
        fb = bars(frows)
        if fb is None:  # unusual fill bars: the general conversion handles them
            return None
        fill, has_fill = fill_prices(policy, *fb), np.ones(T, dtype=np.uint8)
    else:
        fill, has_fill = shift_fills(policy, fill_prices(policy, O, H, L, C), has_bar)
    return DenseInputs(symbols, W, order, order_len, np.ones(T, dtype=np.uint8), C,
                       np.ascontiguousarray(fill), has_fill)


from ._types import BarPrices  # noqa: E402  (kept at the end: used only by the fast path)

from itertools import chain as _chain_mod  # noqa: E402

_chain = _chain_mod.from_iterable
_NUMBER_TYPES = {float, int, np.float64, np.float32, np.int64, np.int32}
