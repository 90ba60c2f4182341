"""Limit-order-book features, vectorised over snapshot arrays.

Conventions: ``bid_px``, ``bid_qty``, ``ask_px``, ``ask_qty`` are arrays of
shape ``(n,)`` (top of book) or ``(n, L)`` (``L`` levels, best first), one
row per snapshot, as produced by :attr:`ItchBook.snapshots`,
:func:`replay_binance` or the LOBSTER loader.  An empty level has quantity 0.
Outputs are float64 arrays of length ``n``; rows where a feature is undefined
(empty side, not enough history) are NaN.  Formulas and references:
``docs/feeds.md``.
"""
from __future__ import annotations

import numpy as np

from ..validate import integer

__all__ = [
    "mid_price",
    "spread",
    "microprice",
    "book_imbalance",
    "book_depth",
    "order_flow_imbalance",
    "rolling_sum",
    "tick_rule",
    "trade_sign_imbalance",
    "vpin",
    "realized_volatility",
    "feature_tensor",
]


def _arr(x, name: str, ndim=(1, 2)) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimensions, got shape {a.shape}")
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise TypeError(f"{name} must be numeric, got dtype {a.dtype}")
    return a


def _same_shape(**arrays) -> None:
    shapes = {k: v.shape for k, v in arrays.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"arrays must have the same shape, got {shapes}")


def _top(a: np.ndarray) -> np.ndarray:
    return (a[:, 0] if a.ndim == 2 else a).astype(np.float64)


def mid_price(bid_px, ask_px) -> np.ndarray:
    """(best bid + best ask) / 2; NaN where a side is empty (price <= 0)."""
    b, a = _arr(bid_px, "bid_px"), _arr(ask_px, "ask_px")
    _same_shape(bid_px=b, ask_px=a)
    b, a = _top(b), _top(a)
    out = (b + a) / 2.0
    out[(b <= 0) | (a <= 0)] = np.nan
    return out


def spread(bid_px, ask_px, *, relative: bool = False) -> np.ndarray:
    """best ask - best bid, or divided by the mid when ``relative``."""
    if not isinstance(relative, bool):
        raise TypeError(f"relative must be a bool, got {relative!r}")
    b, a = _arr(bid_px, "bid_px"), _arr(ask_px, "ask_px")
    _same_shape(bid_px=b, ask_px=a)
    b, a = _top(b), _top(a)
    out = a - b
    if relative:
        out = out / ((a + b) / 2.0)
    out[(b <= 0) | (a <= 0)] = np.nan
    return out


def microprice(bid_px, bid_qty, ask_px, ask_qty) -> np.ndarray:
    """Size-weighted mid: (ask * bid_qty + bid * ask_qty) / (bid_qty + ask_qty).

    The price leans toward the side with less queued quantity (the side more
    likely to be consumed next).  NaN where both queues are empty.
    """
    bp, bq, ap, aq = (_top(_arr(x, n)) for x, n in ((bid_px, "bid_px"), (bid_qty, "bid_qty"),
                                                  (ask_px, "ask_px"), (ask_qty, "ask_qty")))
    tot = bq + aq
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (ap * bq + bp * aq) / tot
    out[(tot <= 0) | (bp <= 0) | (ap <= 0)] = np.nan
    return out


def book_imbalance(bid_qty, ask_qty, *, levels: int = 1, weights=None) -> np.ndarray:
    """(sum_k w_k b_k - sum_k w_k a_k) / (sum_k w_k b_k + sum_k w_k a_k) over
    the best ``levels`` levels, in [-1, 1]; ``weights`` default to 1."""
    b, a = _arr(bid_qty, "bid_qty"), _arr(ask_qty, "ask_qty")
    _same_shape(bid_qty=b, ask_qty=a)
    b2 = b.reshape(len(b), -1).astype(np.float64)
    a2 = a.reshape(len(a), -1).astype(np.float64)
    L = _levels(levels, b2.shape[1])
    w = np.ones(L) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (L,):
        raise ValueError(f"weights must have length levels={L}, got shape {w.shape}")
    sb, sa = b2[:, :L] @ w, a2[:, :L] @ w
    tot = sb + sa
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (sb - sa) / tot
    out[tot <= 0] = np.nan
    return out


def book_depth(bid_qty, ask_qty, *, levels: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Total quantity on the best ``levels`` levels of each side (bid, ask)."""
    b, a = _arr(bid_qty, "bid_qty"), _arr(ask_qty, "ask_qty")
    _same_shape(bid_qty=b, ask_qty=a)
    b2, a2 = b.reshape(len(b), -1), a.reshape(len(a), -1)
    L = _levels(levels, b2.shape[1])
    return b2[:, :L].sum(axis=1).astype(np.float64), a2[:, :L].sum(axis=1).astype(np.float64)


def _levels(levels, available: int) -> int:
    return integer(levels, "levels", ge=1, le=available, numpy=True)


def order_flow_imbalance(bid_px, bid_qty, ask_px, ask_qty, *, levels: int = 1,
                         window: int | None = None) -> np.ndarray:
    """Order-flow imbalance of Cont, Kukanov & Stoikov (2014), per level.

    For level m and snapshot n::

        e_n = 1{Pb_n >= Pb_{n-1}} qb_n - 1{Pb_n <= Pb_{n-1}} qb_{n-1}
            - 1{Pa_n <= Pa_{n-1}} qa_n + 1{Pa_n >= Pa_{n-1}} qa_{n-1}

    Returns shape ``(n,)`` for ``levels=1`` else ``(n, levels)`` (the
    multi-level OFI of Xu, Gould & Howison 2018); row 0 is NaN.  With
    ``window``, each value is the sum over the last ``window`` events
    (NaN until ``window`` events exist).
    """
    arrs = [_arr(x, n) for x, n in ((bid_px, "bid_px"), (bid_qty, "bid_qty"),
                                   (ask_px, "ask_px"), (ask_qty, "ask_qty"))]
    _same_shape(bid_px=arrs[0], bid_qty=arrs[1], ask_px=arrs[2], ask_qty=arrs[3])
    bp, bq, ap, aq = (x.reshape(len(x), -1).astype(np.float64) for x in arrs)
    L = _levels(levels, bp.shape[1])
    bp, bq, ap, aq = bp[:, :L], bq[:, :L], ap[:, :L], aq[:, :L]
    e = np.full(bp.shape, np.nan)
    e[1:] = ((bp[1:] >= bp[:-1]) * bq[1:] - (bp[1:] <= bp[:-1]) * bq[:-1]
             - (ap[1:] <= ap[:-1]) * aq[1:] + (ap[1:] >= ap[:-1]) * aq[:-1])
    if window is not None:
        e = rolling_sum(e, window)
    return e[:, 0] if L == 1 else e


def rolling_sum(x, window: int) -> np.ndarray:
    """Sum over the last ``window`` rows (NaN where fewer rows, or any NaN, lie
    in the window); works on 1-D and 2-D arrays along axis 0."""
    integer(window, "window", ge=1, numpy=True, expect="a positive int")
    a = np.asarray(x, dtype=np.float64)
    out = np.full(a.shape, np.nan)
    if len(a) < window:
        return out
    nan = np.isnan(a)
    c = np.cumsum(np.where(nan, 0.0, a), axis=0)
    cn = np.cumsum(nan, axis=0)
    zero = np.zeros((1,) + a.shape[1:])
    c = np.concatenate([zero, c])
    cn = np.concatenate([zero, cn])
    out[window - 1:] = c[window:] - c[:-window]
    bad = (cn[window:] - cn[:-window]) > 0
    out[window - 1:][bad] = np.nan
    return out


def tick_rule(price) -> np.ndarray:
    """Trade signs by the tick rule: +1 on an uptick, -1 on a downtick, the
    previous sign on a zero tick (0 until the first non-zero tick)."""
    p = _arr(price, "price", (1,)).astype(np.float64)
    d = np.sign(np.diff(p, prepend=p[:1]))
    idx = np.where(d != 0, np.arange(len(d)), 0)
    np.maximum.accumulate(idx, out=idx)
    return d[idx].astype(np.int8)


def trade_sign_imbalance(signs, window: int) -> np.ndarray:
    """Rolling mean of trade signs (buy +1, sell -1) over ``window`` trades."""
    s = _arr(signs, "signs", (1,)).astype(np.float64)
    return rolling_sum(s, window) / window


def vpin(price, volume, *, bucket_volume: float, n_buckets: int = 50,
         classification: str = "bulk", sigma: float | None = None) -> np.ndarray:
    """Volume-synchronised probability of informed trading (Easley, López de
    Prado & O'Hara 2012).

    Trades (or bars) are poured into consecutive buckets of ``bucket_volume``
    (a trade that overflows a bucket is split).  Buy volume per trade is
    ``V * Phi(dP / sigma)`` with bulk classification (``sigma`` defaults to the
    standard deviation of the price changes) or ``V`` / 0 by the tick rule.
    VPIN of bucket tau is ``sum_{last n_buckets} |V_buy - V_sell| / (n_buckets
    * bucket_volume)``.

    Returns
    -------
    numpy.ndarray
        One value per completed bucket (NaN for the first ``n_buckets - 1``).
    """
    p = _arr(price, "price", (1,)).astype(np.float64)
    v = _arr(volume, "volume", (1,)).astype(np.float64)
    _same_shape(price=p, volume=v)
    if not bucket_volume > 0:
        raise ValueError(f"bucket_volume must be positive, got {bucket_volume!r}")
    integer(n_buckets, "n_buckets", ge=1, expect="a positive int")
    if (v < 0).any():
        raise ValueError("volume must be non-negative")
    if classification == "bulk":
        dp = np.diff(p, prepend=p[:1])
        sd = float(np.std(dp[1:])) if sigma is None else float(sigma)
        if not sd > 0:
            frac = np.full(len(p), 0.5)
        else:
            from scipy.special import ndtr

            frac = ndtr(dp / sd)
    elif classification == "tick":
        frac = (tick_rule(p) > 0).astype(np.float64)
        frac[tick_rule(p) == 0] = 0.5
    else:
        raise ValueError(f"classification must be 'bulk' or 'tick', got {classification!r}")
    buy = v * frac
    # cumulative volume positions of the bucket boundaries, split trades exactly
    cv = np.concatenate([[0.0], np.cumsum(v)])
    cb = np.concatenate([[0.0], np.cumsum(buy)])
    nb = int(cv[-1] // bucket_volume)
    if nb == 0:
        return np.empty(0)
    edges = bucket_volume * np.arange(nb + 1)
    # buy volume up to each edge: interpolate inside the trade containing it
    j = np.clip(np.searchsorted(cv, edges, side="right") - 1, 0, len(v) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        inside = np.where(v[j] > 0, (edges - cv[j]) / v[j], 0.0)
    buy_at = cb[j] + inside * buy[j]
    vb = np.diff(buy_at)
    imb = np.abs(2 * vb - bucket_volume)
    out = rolling_sum(imb, n_buckets) / (n_buckets * bucket_volume)
    return out


def realized_volatility(price, window: int, *, annualization: float | None = None) -> np.ndarray:
    """sqrt(sum of squared log returns) over the last ``window`` returns,
    times sqrt(annualization / window) when given (per-period scaling)."""
    p = _arr(price, "price", (1,)).astype(np.float64)
    if (p <= 0).any():
        raise ValueError("price must be positive for log returns")
    r = np.full(len(p), np.nan)
    r[1:] = np.diff(np.log(p))
    out = np.sqrt(rolling_sum(r * r, window))
    if annualization is not None:
        out = out * np.sqrt(annualization / window)
    return out


def feature_tensor(features, seq_len: int, *, step: int = 1) -> np.ndarray:
    """Rolling windows ``(m, seq_len, F)`` over a ``(n, F)`` feature matrix,
    for sequence models; window i covers rows ``[i*step, i*step + seq_len)``.

    The result is a read-only view (no copy); ``np.ascontiguousarray`` it
    before handing it to a framework that needs owned memory.
    """
    x = np.asarray(features)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"features must be 1-D or 2-D, got shape {x.shape}")
    integer(seq_len, "seq_len", ge=1, le=len(x))
    integer(step, "step", ge=1, expect="a positive int")
    w = np.lib.stride_tricks.sliding_window_view(x, seq_len, axis=0)  # (m, F, seq_len)
    return w.transpose(0, 2, 1)[::step]
