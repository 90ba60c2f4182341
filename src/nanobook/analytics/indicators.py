"""Technical indicators with TA-Lib conventions (docs/analytics.md, "Indicators").

Every function keeps the reference's name, signature, warm-up and edge rules
(NaN during the warm-up, all-NaN for period 0 or short input, ``[]`` for
``obv``/``ad`` on bad lengths), and its floating-point operation order, so
the results are bit-identical to nanobook 0.19.  Two things differ:

* the stochastic family raises ``ValueError("input too short for stoch: need
  at least F values, got n")`` where the reference panics;
* the output container follows the input: a list gives a list, a numpy array
  gives an array, a pandas Series gives a Series on the same index, and a
  DataFrame (single-input indicators) gives a DataFrame computed column by
  column.

The loops live in the Cython module ``_kernels``; this module converts and
validates arguments once and dispatches.  For list input the kernels build
the output list directly (``as_list``), with no intermediate array.
"""
from __future__ import annotations

import numpy as np

from . import _kernels as _k
from ._convert import Shape, as_float, as_uint, float_vector, frame_columns

__all__ = [
    "sma", "ema", "rsi", "macd", "bbands", "bollinger", "atr", "wilder_atr", "natr",
    "trange", "stoch", "stochf", "stochrsi", "plus_di", "minus_di", "dx", "adx", "cci",
    "willr", "ultosc", "mom", "roc", "rocp", "rocr", "obv", "ad", "adosc",
    "sma_panel", "sma_panel_by_column", "ema_panel", "ema_panel_by_column", "rsi_panel",
    "macd_panel", "bbands_panel", "atr_panel", "list_supported_indicators",
]


# ---------------------------------------------------------------------------
# container plumbing
# ---------------------------------------------------------------------------

def _per_column(func, frame, *params):
    """Apply a single-input indicator to each DataFrame column."""
    import pandas as pd

    cols = {}
    multi = None
    for name in frame.columns:
        res = func(frame[name].to_numpy(dtype=np.float64), *params)
        if isinstance(res, tuple):
            multi = len(res)
        cols[name] = res
    if multi is None:
        return pd.DataFrame(cols, index=frame.index)
    return tuple(
        pd.DataFrame({k: v[j] for k, v in cols.items()}, index=frame.index) for j in range(multi)
    )


def _single(x, name="close"):
    return Shape(x), float_vector(x, name)


def _as_list(shape):
    """True when the kernel should build the output list itself."""
    return shape.kind == "list"


def _check_len(*arrays):
    n = arrays[0].shape[0]
    return all(a.shape[0] == n for a in arrays[1:])


_INPUT_NAMES = ("high", "low", "close", "volume")


def _require_same_len(*arrays, names=_INPUT_NAMES):
    """Raise where the reference would panic or silently truncate."""
    if not _check_len(*arrays):
        got = ", ".join(f"{nm}={a.shape[0]}" for nm, a in zip(names, arrays))
        raise ValueError(f"input lengths differ: {got}")


# ---------------------------------------------------------------------------
# overlap studies
# ---------------------------------------------------------------------------

def sma(close, period):
    """Simple moving average.

    Parameters
    ----------
    close : sequence of float, numpy array, pandas Series or DataFrame
    period : int
        Window length; ``0`` or a series shorter than ``period`` gives all NaN.

    Returns
    -------
    Same container as ``close``; NaN for the first ``period - 1`` entries.
    Cost O(n): running-sum update.
    """
    period = as_uint(period, "period")
    f = frame_columns(close)
    if f is not None:
        return _per_column(sma, f, period)
    shape, x = _single(close)
    return shape.wrap(_k.sma(x, period, _as_list(shape)))


def ema(close, period):
    """Exponential moving average, ``k = 2/(period+1)``, seeded with the SMA of
    the first ``period`` values (first value at ``period - 1``)."""
    period = as_uint(period, "period")
    f = frame_columns(close)
    if f is not None:
        return _per_column(ema, f, period)
    shape, x = _single(close)
    return shape.wrap(_k.ema(x, period, _as_list(shape)))


def rsi(close, period=14):
    """Relative strength index with Wilder smoothing (first value at
    ``period``; 0.0 when average gain and loss are both 0, 100.0 when the
    average loss is 0)."""
    period = as_uint(period, "period")
    f = frame_columns(close)
    if f is not None:
        return _per_column(rsi, f, period)
    shape, x = _single(close)
    return shape.wrap(_k.rsi(x, period, _as_list(shape)))


def _macd_arrays(x, fast, slow, signal, as_list=False):
    return _k.macd(x, fast, slow, signal, as_list)


def macd(close, fast_period=12, slow_period=26, signal_period=9):
    """MACD: ``(macd, signal, hist)``.

    The fast EMA is seeded on ``close[slow-fast:]`` so both EMAs start at
    ``slow - 1``; the signal is the EMA of the MACD line; all outputs are NaN
    before ``slow + signal - 2`` except the MACD line itself (from
    ``slow - 1``).  All NaN when ``n < slow``, a period is 0 or
    ``fast >= slow``.
    """
    fast = as_uint(fast_period, "fast_period")
    slow = as_uint(slow_period, "slow_period")
    signal = as_uint(signal_period, "signal_period")
    f = frame_columns(close)
    if f is not None:
        return _per_column(macd, f, fast, slow, signal)
    shape, x = _single(close)
    return tuple(shape.wrap(a) for a in _macd_arrays(x, fast, slow, signal, _as_list(shape)))


def _bbands_arrays(x, period, up, dn, as_list=False):
    return _k.bbands(x, period, up, dn, as_list)


def bbands(close, period=20, num_std_up=2.0, num_std_dn=2.0):
    """Bollinger bands ``(upper, middle, lower)``: SMA +/- k population
    standard deviations (Welford recomputed per window)."""
    period = as_uint(period, "period")
    up = as_float(num_std_up, "num_std_up")
    dn = as_float(num_std_dn, "num_std_dn")
    f = frame_columns(close)
    if f is not None:
        return _per_column(bbands, f, period, up, dn)
    shape, x = _single(close)
    return tuple(shape.wrap(a) for a in _bbands_arrays(x, period, up, dn, _as_list(shape)))


bollinger = bbands


def _hlc(high, low, close):
    shape = Shape(close)
    return shape, float_vector(high, "high"), float_vector(low, "low"), float_vector(close, "close")


def atr(high, low, close, period=14):
    """Average true range with Wilder smoothing (first value at ``period``,
    seeded with the mean of TR[1..=period]; NaN on length mismatch)."""
    period = as_uint(period, "period")
    shape, h, l, c = _hlc(high, low, close)
    if not _check_len(h, l, c):
        return Shape(high).wrap(np.full(h.shape[0], np.nan))
    return shape.wrap(_k.atr(h, l, c, period, _as_list(shape)))


wilder_atr = atr


def natr(high, low, close, period=14):
    """Normalised ATR: ``ATR * 100 / close`` (0 where close == 0)."""
    period = as_uint(period, "period")
    shape, h, l, c = _hlc(high, low, close)
    if not _check_len(h, l, c):
        return Shape(high).wrap(np.full(h.shape[0], np.nan))
    return shape.wrap(_k.natr(h, l, c, period, _as_list(shape)))


def trange(high, low, close):
    """True range ``max(h-l, |h-c[-1]|, |l-c[-1]|)``; index 0 is NaN."""
    shape, h, l, c = _hlc(high, low, close)
    if not _check_len(h, l, c):
        return Shape(high).wrap(np.full(h.shape[0], np.nan))
    return shape.wrap(_k.trange(h, l, c, _as_list(shape)))


# ---------------------------------------------------------------------------
# momentum
# ---------------------------------------------------------------------------

def _too_short(name, need, n):
    return ValueError(f"input too short for {name}: need at least {need} values, got {n}")


def stoch(high, low, close, fastk_period=5, slowk_period=3, slowd_period=3):
    """Slow stochastic ``(slowk, slowd)`` with SMA smoothing.

    Raw %K is 50 when the window's range is 0.  First output at
    ``fastk + slowk + slowd - 3``.

    Raises
    ------
    ValueError
        When ``fastk_period <= n < fastk + slowk + slowd - 3`` (the reference
        panics there).
    """
    fk = as_uint(fastk_period, "fastk_period")
    sk = as_uint(slowk_period, "slowk_period")
    sd = as_uint(slowd_period, "slowd_period")
    shape, h, l, c = _hlc(high, low, close)
    n = h.shape[0]
    _require_same_len(h, l, c)
    first = fk + sk + sd - 3
    if fk >= 1 and sk >= 1 and sd >= 1 and fk <= n < first:
        raise _too_short("stoch", first, n)
    k, d = _k.stoch(h, l, c, fk, sk, sd, _as_list(shape))
    return shape.wrap(k), shape.wrap(d)


def stochf(high, low, close, fastk_period=5, fastd_period=3):
    """Fast stochastic ``(fastk, fastd)``; first output at ``fastk + fastd - 2``.

    Raises
    ------
    ValueError
        When ``fastk_period <= n < fastk + fastd - 2``.
    """
    fk = as_uint(fastk_period, "fastk_period")
    fd = as_uint(fastd_period, "fastd_period")
    shape, h, l, c = _hlc(high, low, close)
    n = h.shape[0]
    _require_same_len(h, l, c)
    first = fk + fd - 2
    if fk >= 1 and fd >= 1 and fk <= n < first:
        raise _too_short("stochf", first, n)
    k, d = _k.stochf(h, l, c, fk, fd, _as_list(shape))
    return shape.wrap(k), shape.wrap(d)


def stochrsi(close, timeperiod=14, fastk_period=5, fastd_period=3):
    """Stochastic of the RSI ``(fastk, fastd)``; first output at
    ``timeperiod + fastk + fastd - 2``.

    Raises
    ------
    ValueError
        When ``1 <= n < timeperiod + fastk + fastd - 2``.
    """
    tp = as_uint(timeperiod, "timeperiod")
    fk = as_uint(fastk_period, "fastk_period")
    fd = as_uint(fastd_period, "fastd_period")
    f = frame_columns(close)
    if f is not None:
        return _per_column(stochrsi, f, tp, fk, fd)
    shape, x = _single(close)
    n = x.shape[0]
    first = tp + fk + fd - 2
    if fk >= 1 and fd >= 1 and 1 <= n < first:
        raise _too_short("stochrsi", first, n)
    k, d = _k.stochrsi(x, tp, fk, fd, _as_list(shape))
    return shape.wrap(k), shape.wrap(d)


def _dmi_call(high, low, close, period, which):
    period = as_uint(period, "period")
    shape, h, l, c = _hlc(high, low, close)
    if not _check_len(h, l, c):
        return Shape(high).wrap(np.full(h.shape[0], np.nan))
    return shape.wrap(_k.dmi(h, l, c, period, which, _as_list(shape)))


def plus_di(high, low, close, period=14):
    """+DI: ``100 * smoothed(+DM) / smoothed(TR)`` (Wilder sums, TA-Lib style)."""
    return _dmi_call(high, low, close, period, 0)


def minus_di(high, low, close, period=14):
    """-DI: ``100 * smoothed(-DM) / smoothed(TR)``."""
    return _dmi_call(high, low, close, period, 1)


def dx(high, low, close, period=14):
    """DX: ``100 * |+DI - -DI| / (+DI + -DI)`` (0 when the sum is 0)."""
    return _dmi_call(high, low, close, period, 2)


def adx(high, low, close, period=14):
    """ADX: Wilder average of DX; first value at ``2*period - 1``."""
    return _dmi_call(high, low, close, period, 3)


def cci(high, low, close, period=14):
    """Commodity channel index on the typical price ``(h+l+c)/3``."""
    period = as_uint(period, "period")
    shape, h, l, c = _hlc(high, low, close)
    _require_same_len(h, l, c)
    return shape.wrap(_k.cci(h, l, c, period, _as_list(shape)))


def willr(high, low, close, period=14):
    """Williams %R in [-100, 0] (0 when the window range is 0)."""
    period = as_uint(period, "period")
    shape, h, l, c = _hlc(high, low, close)
    _require_same_len(h, l, c)
    return shape.wrap(_k.willr(h, l, c, period, _as_list(shape)))


def ultosc(high, low, close, period1=7, period2=14, period3=28):
    """Ultimate oscillator; the three periods are sorted; first value at the
    largest period."""
    ps = sorted((as_uint(period1, "period1"), as_uint(period2, "period2"),
                 as_uint(period3, "period3")))
    shape, h, l, c = _hlc(high, low, close)
    _require_same_len(h, l, c)
    return shape.wrap(_k.ultosc(h, l, c, ps[0], ps[1], ps[2], _as_list(shape)))


_LAGGED_OPS = {"mom": 0, "roc": 1, "rocp": 2, "rocr": 3}


def _lagged(close, period, op):
    """mom/roc/rocp/rocr: one kernel, ``op`` picks the formula; a DataFrame
    goes column by column."""
    f = frame_columns(close)
    if f is not None:
        return _per_column(lambda col, p: _lagged(col, p, op), f, period)
    period = as_uint(period, "period")
    shape, x = _single(close)
    return shape.wrap(_k.lagged(x, period, _LAGGED_OPS[op], _as_list(shape)))


def mom(close, period=10):
    """Momentum ``x[i] - x[i-period]``."""
    return _lagged(close, period, "mom")


def roc(close, period=10):
    """Rate of change ``100 * (x - prev) / prev`` (0 when prev == 0)."""
    return _lagged(close, period, "roc")


def rocp(close, period=10):
    """Rate of change as a fraction ``(x - prev) / prev`` (0 when prev == 0)."""
    return _lagged(close, period, "rocp")


def rocr(close, period=10):
    """Rate of change ratio ``x / prev`` (0 when prev == 0)."""
    return _lagged(close, period, "rocr")


# ---------------------------------------------------------------------------
# volume
# ---------------------------------------------------------------------------

def obv(close, volume):
    """On-balance volume seeded with ``volume[0]``; ``[]`` when empty or the
    lengths differ."""
    shape = Shape(close)
    c = float_vector(close, "close")
    v = float_vector(volume, "volume")
    if c.shape[0] == 0 or c.shape[0] != v.shape[0]:
        return shape.wrap(np.empty(0))
    return shape.wrap(_k.obv(c, v, _as_list(shape)))


def ad(high, low, close, volume):
    """Chaikin accumulation/distribution line (0 contribution when h == l);
    ``[]`` on length mismatch."""
    shape, h, l, c = _hlc(high, low, close)
    v = float_vector(volume, "volume")
    if not _check_len(h, l, c, v):
        return shape.wrap(np.empty(0)) if shape.kind != "series" else np.empty(0)
    return shape.wrap(_k.ad(h, l, c, v, _as_list(shape)))


def adosc(high, low, close, volume, fast_period=3, slow_period=10):
    """Chaikin oscillator: EMA(fast) - EMA(slow) of the AD line, both seeded
    with AD[0]; first value at ``max(fast, slow) - 1``; needs both >= 2."""
    fast = as_uint(fast_period, "fast_period")
    slow = as_uint(slow_period, "slow_period")
    shape, h, l, c = _hlc(high, low, close)
    v = float_vector(volume, "volume")
    _require_same_len(h, l, c, v)
    return shape.wrap(_k.adosc(h, l, c, v, fast, slow, _as_list(shape)))


# ---------------------------------------------------------------------------
# panels: flat row-major (time x names) layout
# ---------------------------------------------------------------------------

def _panel_apply(flat_inputs, n_names, func, n_out):
    """Apply ``func(*columns) -> tuple of n_out arrays`` to every column."""
    x0 = flat_inputs[0]
    total = x0.shape[0]
    outs = [np.full(total, np.nan) for _ in range(n_out)]
    if n_names == 0 or total % n_names != 0 or any(a.shape[0] != total for a in flat_inputs):
        return outs
    for j in range(n_names):
        cols = [np.ascontiguousarray(a[j::n_names]) for a in flat_inputs]
        res = func(*cols)
        for o, r in zip(outs, res):
            o[j::n_names] = r
    return outs


def _panel_1(close, n_names, func, n_out=1):
    n_names = as_uint(n_names, "n_names")
    shape = Shape(close)
    if frame_columns(close) is not None:
        raise TypeError("panel functions take a flat time x names sequence; "
                        "pass a DataFrame to the single-series function instead")
    x = float_vector(close, "close")
    outs = _panel_apply([x], n_names, func, n_out)
    wrapped = [shape.wrap(o) for o in outs]
    return wrapped[0] if n_out == 1 else tuple(wrapped)


def sma_panel(close, n_names, period):
    """SMA of each column of a flat row-major ``time x n_names`` panel."""
    period = as_uint(period, "period")
    return _panel_1(close, n_names, lambda c: (_k.sma(c, period),))


sma_panel_by_column = sma_panel


def ema_panel(close, n_names, period):
    """EMA of each column of a flat row-major panel."""
    period = as_uint(period, "period")
    return _panel_1(close, n_names, lambda c: (_k.ema(c, period),))


ema_panel_by_column = ema_panel


def rsi_panel(close, n_names, period=14):
    """RSI of each column of a flat row-major panel."""
    period = as_uint(period, "period")
    return _panel_1(close, n_names, lambda c: (_k.rsi(c, period),))


def macd_panel(close, n_names, fast_period=12, slow_period=26, signal_period=9):
    """MACD of each column of a flat row-major panel -> 3 flat outputs."""
    fast = as_uint(fast_period, "fast_period")
    slow = as_uint(slow_period, "slow_period")
    signal = as_uint(signal_period, "signal_period")
    return _panel_1(close, n_names, lambda c: _macd_arrays(c, fast, slow, signal), 3)


def bbands_panel(close, n_names, period=20, num_std_up=2.0, num_std_dn=2.0):
    """Bollinger bands of each column of a flat row-major panel -> 3 outputs."""
    period = as_uint(period, "period")
    up = as_float(num_std_up, "num_std_up")
    dn = as_float(num_std_dn, "num_std_dn")
    return _panel_1(close, n_names, lambda c: _bbands_arrays(c, period, up, dn), 3)


def atr_panel(high, low, close, n_names, period=14):
    """ATR of each column of flat row-major high/low/close panels."""
    n_names = as_uint(n_names, "n_names")
    period = as_uint(period, "period")
    shape = Shape(close)
    h = float_vector(high, "high")
    l = float_vector(low, "low")
    c = float_vector(close, "close")
    if not _check_len(h, l, c):
        return shape.wrap(np.full(c.shape[0], np.nan))
    (out,) = _panel_apply([h, l, c], n_names, lambda a, b, d: (_k.atr(a, b, d, period),), 1)
    return shape.wrap(out)


# ---------------------------------------------------------------------------
# listing
# ---------------------------------------------------------------------------

_LISTING = [
    ("sma", "overlap", "close"), ("ema", "overlap", "close"), ("rsi", "momentum", "close"),
    ("macd", "momentum", "close"), ("bbands", "overlap", "close"),
    ("atr", "volatility", "ohlc"), ("stoch", "momentum", "ohlc"), ("stochf", "momentum", "ohlc"),
    ("stochrsi", "momentum", "close"), ("adx", "momentum", "ohlc"),
    ("plus_di", "momentum", "ohlc"), ("minus_di", "momentum", "ohlc"), ("dx", "momentum", "ohlc"),
    ("cci", "momentum", "ohlc"), ("willr", "momentum", "ohlc"), ("ultosc", "momentum", "ohlc"),
    ("mom", "momentum", "close"), ("roc", "momentum", "close"), ("rocp", "momentum", "close"),
    ("rocr", "momentum", "close"), ("obv", "volume", "close_volume"),
    ("ad", "volume", "ohlcv"), ("adosc", "volume", "ohlcv"), ("natr", "volatility", "ohlc"),
    ("trange", "volatility", "ohlc"),
]


def list_supported_indicators():
    """The 25 indicators as dicts ``{"name", "category", "input_type",
    "rust_fn", "has_parity"}`` in the reference's order."""
    return [
        {"name": n, "category": cat, "input_type": it, "rust_fn": n, "has_parity": True}
        for n, cat, it in _LISTING
    ]
