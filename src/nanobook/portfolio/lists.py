"""List input (the reference's form) -> the dense layout.

``weight_schedule[i] = [(sym, w), ...]``, ``price_schedule[i] = [(sym,
BarPrices or int cents), ...]``. :func:`lists_to_layout` first tries a
vectorised conversion (a few C-level passes; the common case of well-formed
input); anything unusual (a bad type, a non-finite weight, a negative or
too large price, a symbol twice in a period) sends the call through the
entry-by-entry validation, which raises the exact error, then the general
conversion. Both produce the same :class:`~._layout.DenseInputs`.
"""
from __future__ import annotations

import math
from itertools import chain
from typing import Any, Sequence

import numpy as np

from ..validate import SYMBOL_MAX_BYTES
from ._args import AMOUNT_LIMIT
from ..fmt import display
from ._checks import check_symbol, real_arg
from ._layout import DenseInputs, fill_prices, shift_fills
from ._types import BarPrices

__all__ = ["lists_to_layout", "normalize_lists", "check_list_inputs"]

_chain = chain.from_iterable
_NUMBER_TYPES = {float, int, np.float64, np.float32, np.int64, np.int32}


def lists_to_layout(weight_schedule: Any, price_schedule: Any, fill_schedule: Any, policy: str,
                    cash: int) -> DenseInputs:
    """Validate list inputs and lay them out densely (raises on bad input)."""
    d = fast_lists_to_dense(weight_schedule, price_schedule, fill_schedule, policy) if cash > 0 else None
    if d is not None:
        return d
    weights, bars, fills = normalize_lists(weight_schedule, price_schedule, fill_schedule)
    check_list_inputs(weights, bars, cash, fills)
    return _lists_to_dense(weights, bars, fills, policy)


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


def normalize_lists(
    weight_schedule: Any, price_schedule: Any, fill_schedule: Any
) -> tuple[list[list[tuple[str, float]]], list[list[tuple[str, tuple[int, int, int, int]]]], Any]:
    for name, s in (("weight_schedule", weight_schedule), ("price_schedule", price_schedule)):
        if isinstance(s, (str, bytes, dict)) or s is None:
            raise TypeError(f"{name} must be a sequence of periods, got {type(s).__name__}")
    def rows(schedule: Any, name: str, what: str, conv: Any) -> list:
        out = []
        for i, period in enumerate(schedule):
            out.append([(check_symbol(sym), conv(v, f"{name}[{i}] {what} for {sym}"))
                        for sym, v in _norm_period_pairs(period, f"{name}[{i}]")])
        return out

    weights = rows(weight_schedule, "weight_schedule", "weight", real_arg)
    bars = rows(price_schedule, "price_schedule", "bar", _norm_bar)
    fills = None if fill_schedule is None else rows(fill_schedule, "fill_schedule", "bar", _norm_bar)
    return weights, bars, fills


def check_list_inputs(weights: list, bars: list, initial_cash: int, fills: list | None = None) -> None:
    """v2 input checks (SCHEMA.md fix 5), first failure wins; then ours: prices
    within the exact range and at most one entry per symbol and period."""
    if len(bars) != len(weights):
        raise ValueError(f"price_schedule length ({len(bars)}) must match weight_schedule length ({len(weights)})")
    if initial_cash <= 0:
        raise ValueError(f"initial_cash must be positive, got {initial_cash}")
    for i in range(len(weights)):
        for sym, w in weights[i]:
            if not math.isfinite(w):
                raise ValueError(f"weight_schedule[{i}]: weight for {sym} must be finite, got {display(w)}")
        for sym, (o, h, lo, c) in bars[i]:
            if o < 0 or h < 0 or lo < 0 or c < 0:
                raise ValueError(
                    f"price_schedule[{i}]: bar for {sym} has a negative price "
                    f"(open={o}, high={h}, low={lo}, close={c})"
                )
            if h < lo:
                raise ValueError(f"price_schedule[{i}]: bar for {sym} has high < low (high={h}, low={lo})")
    for name, sched in (("price_schedule", bars), ("fill_schedule", fills or [])):
        for i, row in enumerate(sched):
            for sym, b in row:
                if max(b) > AMOUNT_LIMIT or min(b) < -AMOUNT_LIMIT:
                    v = max(b) if max(b) > AMOUNT_LIMIT else min(b)
                    raise ValueError(f"{name}[{i}]: bar for {sym} has a price of {v} cents, beyond the exact "
                                     f"range (|price| <= {AMOUNT_LIMIT} cents)")
    for name, sched in (("weight_schedule", weights), ("price_schedule", bars), ("fill_schedule", fills or [])):
        for i, row in enumerate(sched):
            seen: set[str] = set()
            for sym, _ in row:
                if sym in seen:
                    raise ValueError(f"{name}[{i}] lists {sym} twice; give each symbol once per period")
                seen.add(sym)


def _lists_to_dense(
    weights: Sequence[Sequence[tuple[str, float]]],
    bars: Sequence[Sequence[tuple[str, tuple[int, int, int, int]]]],
    fills: Any,
    policy: str,
) -> DenseInputs:
    """Validated list inputs (one entry per symbol and period) -> dense arrays."""
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
        W[t, idx] = ws
        order[t, : len(idx)] = idx
        order_len[t] = len(idx)

    def bar_arrays(rows: Sequence) -> tuple[np.ndarray, ...]:
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
            arr = np.array(bs, dtype=np.int64).reshape(len(bs), 4)
            O[t, idx] = arr[:, 0]
            H[t, idx] = arr[:, 1]
            L[t, idx] = arr[:, 2]
            C[t, idx] = arr[:, 3]
            has[t] = 1
        return O, H, L, C, has

    O, H, L, C, has_bar = bar_arrays(bars)
    fb = bar_arrays(fills) if fills is not None and policy != "SignalBarClose" else None
    fill, has_fill = _fill_rows(policy, (O, H, L, C), has_bar, fb)
    active = np.ones(T, dtype=np.uint8)
    return DenseInputs(symbols=symbols, W=W, order=order, order_len=order_len, active=active, close=C,
                       fill=np.ascontiguousarray(fill), has_fill=has_fill)


def _fill_rows(policy: str, bars: tuple[np.ndarray, ...], has_bar: np.ndarray,
               fill_bars: tuple[np.ndarray, ...] | None) -> tuple[np.ndarray, np.ndarray]:
    """Fill prices and their presence per period: the closes, the explicit fill
    bars ``(O, H, L, C, has)``, or the next bar's."""
    if policy == "SignalBarClose":
        return bars[3], has_bar
    if fill_bars is not None:
        return fill_prices(policy, *fill_bars[:4]), fill_bars[4]
    return shift_fills(fill_prices(policy, *bars), has_bar)


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
        if type(s) is not str or len(s.encode("utf-8")) > SYMBOL_MAX_BYTES:
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
    if (((O < 0) | (H < 0) | (L < 0) | (C < 0) | (H < L) | (H > AMOUNT_LIMIT) | (O > AMOUNT_LIMIT)
         | (C > AMOUNT_LIMIT)) & M).any():
        return None
    fb = None
    if fsplit is not None and policy != "SignalBarClose":
        fb = bars_of(fsplit[0])
        if fb is None or any((x > AMOUNT_LIMIT).any() for x in fb[:4]):
            return None
    fill, has_fill = _fill_rows(policy, (O, H, L, C), has_bar, fb)
    active = np.ones(T, dtype=np.uint8)
    return DenseInputs(symbols=symbols, W=W, order=order, order_len=order_len, active=active, close=C,
                       fill=np.ascontiguousarray(fill), has_fill=has_fill)


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
        if any((p < 0).any() | (p > AMOUNT_LIMIT).any() for p in parts) or (parts[1] < parts[2]).any():
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
    fb = None
    if frows is not None and policy != "SignalBarClose":
        fb4 = bars(frows)
        if fb4 is None:  # unusual fill bars: the general conversion handles them
            return None
        fb = (*fb4, np.ones(T, dtype=np.uint8))
    fill, has_fill = _fill_rows(policy, (O, H, L, C), has_bar, fb)
    return DenseInputs(symbols=symbols, W=W, order=order, order_len=order_len, active=np.ones(T, dtype=np.uint8),
                       close=C, fill=np.ascontiguousarray(fill), has_fill=has_fill)


