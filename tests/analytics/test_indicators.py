"""Indicators: container round trips, argument errors and algebraic properties.

Exact values against the reference are covered by the conformance corpus
(test_conformance_analytics.py); here we check what the corpus cannot:
numpy/pandas in -> same type out, clear errors, and how each indicator
transforms under shifted or scaled prices (Hypothesis).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nanobook
from nanobook import analytics as A

pd = pytest.importorskip("pandas")


def _ohlcv(n=120, seed=0):
    rng = np.random.default_rng(seed)
    c = 100 + np.cumsum(rng.normal(0, 1, n))
    h = c + np.abs(rng.normal(0, 1, n))
    lo = c - np.abs(rng.normal(0, 1, n))
    v = rng.uniform(1e3, 1e5, n)
    return h, lo, c, v


CLOSE_FNS = {
    "sma": (10,), "ema": (10,), "rsi": (14,), "mom": (10,), "roc": (10,), "rocp": (10,),
    "rocr": (10,), "macd": (12, 26, 9), "bbands": (20, 2.0, 2.0), "stochrsi": (14, 5, 3),
}
HLC_FNS = {
    "atr": (14,), "natr": (14,), "trange": (), "stoch": (5, 3, 3), "stochf": (5, 3),
    "plus_di": (14,), "minus_di": (14,), "dx": (14,), "adx": (14,), "cci": (14,),
    "willr": (14,), "ultosc": (7, 14, 28),
}


def _same(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def _parts(res):
    return res if isinstance(res, tuple) else (res,)


@pytest.mark.parametrize("name,params", list(CLOSE_FNS.items()))
def test_close_indicators_containers(name, params):
    _, _, c, _ = _ohlcv()
    f = getattr(A, name)
    ref = _parts(f(c.tolist(), *params))
    assert all(type(x) is list and all(type(v) is float for v in x) for x in ref)
    arr = _parts(f(c, *params))
    assert all(isinstance(x, np.ndarray) for x in arr)
    idx = pd.date_range("2024-01-01", periods=c.size, freq="D")
    ser = _parts(f(pd.Series(c, index=idx, name="px"), *params))
    assert all(isinstance(x, pd.Series) and x.index.equals(idx) for x in ser)
    frame = pd.DataFrame({"a": c, "b": c[::-1].copy()}, index=idx)
    fr = _parts(f(frame, *params))
    assert all(isinstance(x, pd.DataFrame) and list(x.columns) == ["a", "b"] for x in fr)
    for r, a, s, d in zip(ref, arr, ser, fr):
        assert _same(r, a) and _same(r, s.to_numpy()) and _same(r, d["a"].to_numpy())
    rev = _parts(f(c[::-1].tolist(), *params))
    for r, d in zip(rev, fr):
        assert _same(r, d["b"].to_numpy())


@pytest.mark.parametrize("name,params", list(HLC_FNS.items()))
def test_hlc_indicators_containers(name, params):
    h, lo, c, _ = _ohlcv()
    f = getattr(A, name)
    ref = _parts(f(h.tolist(), lo.tolist(), c.tolist(), *params))
    arr = _parts(f(h, lo, c, *params))
    ser = _parts(f(pd.Series(h), pd.Series(lo), pd.Series(c), *params))
    for r, a, s in zip(ref, arr, ser):
        assert type(r) is list and isinstance(a, np.ndarray) and isinstance(s, pd.Series)
        assert _same(r, a) and _same(r, s.to_numpy())


def test_volume_indicators_containers():
    h, lo, c, v = _ohlcv()
    assert _same(A.obv(c.tolist(), v.tolist()), A.obv(c, v))
    assert _same(A.ad(h, lo, c, v), A.ad(h.tolist(), lo.tolist(), c.tolist(), v.tolist()))
    assert _same(A.adosc(h, lo, c, v, 3, 10), A.adosc(*(x.tolist() for x in (h, lo, c, v))))
    assert A.obv([], []) == [] and A.obv([1.0, 2.0], [1.0]) == []
    assert A.ad([1.0], [1.0], [1.0, 2.0], [1.0]) == []


def test_panel_matches_single_series():
    _, _, c, _ = _ohlcv(60)
    c2 = c[::-1].copy()
    flat = np.column_stack([c, c2]).ravel().tolist()
    out = A.sma_panel(flat, 2, 5)
    assert _same(out[0::2], A.sma(c, 5)) and _same(out[1::2], A.sma(c2, 5))
    m, s, hst = A.macd_panel(flat, 2)
    assert _same(m[1::2], A.macd(c2)[0]) and _same(hst[0::2], A.macd(c)[2])
    assert all(math.isnan(v) for v in A.rsi_panel(flat[:-1], 2))  # ragged -> NaN
    assert all(math.isnan(v) for v in A.ema_panel(flat, 0, 3))


def test_reference_aliases_are_exported():
    for name in list(CLOSE_FNS) + list(HLC_FNS) + ["obv", "ad", "adosc", "bollinger"]:
        assert getattr(nanobook, "py_" + name) is getattr(A, name)
    assert nanobook.sma is A.sma and nanobook.wilder_atr is A.atr
    names = [d["name"] for d in nanobook.list_supported_indicators()]
    assert len(names) == 25 and all(hasattr(A, n) for n in names)


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------

def test_argument_errors_name_the_problem():
    with pytest.raises(OverflowError, match="negative int to unsigned"):
        A.sma([1.0, 2.0], -1)
    with pytest.raises(TypeError, match="'float' object cannot be interpreted as an integer"):
        A.rsi([1.0, 2.0], 2.5)
    with pytest.raises(TypeError, match="must be real number, not str"):
        A.ema([1.0, "x"], 2)
    with pytest.raises(TypeError, match="'None' is not an instance of 'Sequence'"):
        A.mom(None)
    with pytest.raises(TypeError, match="Can't extract `str` to `Vec`"):
        A.sma("123", 2)
    with pytest.raises(ValueError, match="1-dimensional"):
        A.sma(np.ones((3, 3)), 2)


@pytest.mark.parametrize("fn,args,need", [
    (A.stoch, (5, 3, 3), 8), (A.stochf, (5, 3), 6),
])
def test_stochastic_short_input_raises_instead_of_panicking(fn, args, need):
    h, lo, c, _ = _ohlcv(need - 1)
    with pytest.raises(ValueError, match=f"need at least {need} values, got {need - 1}"):
        fn(h, lo, c, *args)
    h, lo, c, _ = _ohlcv(need)
    assert all(math.isnan(v) for v in fn(h, lo, c, *args)[0])  # n == first index: all NaN


def test_stochrsi_short_input():
    with pytest.raises(ValueError, match="input too short for stochrsi: need at least 20"):
        A.stochrsi([1.0, 2.0, 3.0])
    assert A.stochrsi([]) == ([], [])


@pytest.mark.parametrize("name", ["stoch", "cci", "willr", "ultosc"])
def test_length_mismatch_raises(name):
    h, lo, c, _ = _ohlcv(40)
    with pytest.raises(ValueError, match="input lengths differ: high=40, low=40, close=39"):
        getattr(A, name)(h, lo, c[:-1])


def test_atr_length_mismatch_keeps_reference_nan():
    h, lo, c, _ = _ohlcv(30)
    assert all(math.isnan(v) for v in A.atr(h.tolist(), lo.tolist(), c[:-1].tolist()))


# ---------------------------------------------------------------------------
# properties under shifted / scaled prices
# ---------------------------------------------------------------------------

prices = st.lists(st.floats(1.0, 1000.0), min_size=40, max_size=80).map(np.array)
scales = st.sampled_from([0.5, 2.0, 4.0, 10.0])
shifts = st.sampled_from([1.0, 8.0, 64.0])


def _close(a, b, rel=1e-9, abs_=1e-7):
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    both = np.isnan(a) & np.isnan(b)
    return bool(np.all(both | np.isclose(a, b, rtol=rel, atol=abs_)))


@settings(max_examples=40, deadline=None)
@given(prices, scales)
def test_scale_invariant_oscillators(c, k):
    """RSI, ROC family, stochastics, Williams %R, CCI and DX do not change when
    every price is multiplied by k; SMA/EMA/ATR/MOM scale by k."""
    h, lo = c * 1.01, c * 0.99
    for f, args in [(A.rsi, (14,)), (A.rocp, (5,)), (A.rocr, (5,)), (A.roc, (5,))]:
        assert _close(f(c * k, *args), f(c, *args), abs_=1e-6)
    for f, args in [(A.willr, (14,)), (A.cci, (14,)), (A.dx, (14,)), (A.ultosc, (7, 14, 28))]:
        assert _close(f(h * k, lo * k, c * k, *args), f(h, lo, c, *args), abs_=1e-6)
    assert _close(A.stochf(h * k, lo * k, c * k)[0], A.stochf(h, lo, c)[0], abs_=1e-6)
    for f, args in [(A.sma, (10,)), (A.ema, (10,)), (A.mom, (10,))]:
        assert _close(f(c * k, *args), np.asarray(f(c, *args)) * k)
    assert _close(A.atr(h * k, lo * k, c * k), np.asarray(A.atr(h, lo, c)) * k)


@settings(max_examples=40, deadline=None)
@given(prices, shifts)
def test_shift_behaviour(c, s):
    """Adding s to every price shifts SMA/EMA/Bollinger by s and leaves
    MOM, ATR, TRANGE, band width, MACD and the stochastics unchanged."""
    h, lo = c + 2.0, c - 2.0
    assert _close(A.sma(c + s, 10), np.asarray(A.sma(c, 10)) + s)
    assert _close(A.ema(c + s, 10), np.asarray(A.ema(c, 10)) + s)
    up, mid, dn = A.bbands(c + s, 20)
    up0, mid0, dn0 = A.bbands(c, 20)
    assert _close(np.asarray(up) - np.asarray(dn), np.asarray(up0) - np.asarray(dn0), abs_=1e-6)
    assert _close(A.mom(c + s, 10), A.mom(c, 10), abs_=1e-9)
    assert _close(A.atr(h + s, lo + s, c + s), A.atr(h, lo, c), abs_=1e-9)
    assert _close(A.macd(c + s)[0], A.macd(c)[0], abs_=1e-7)
    assert _close(A.stoch(h + s, lo + s, c + s)[1], A.stoch(h, lo, c)[1], abs_=1e-6)
    assert _close(A.rsi(c + s), A.rsi(c), abs_=1e-6)


@settings(max_examples=40, deadline=None)
@given(prices)
def test_bounds(c):
    h, lo = c * 1.02, c * 0.98
    for arr, lo_b, hi_b in [(A.rsi(c), 0, 100), (A.willr(h, lo, c), -100, 0),
                            (A.stochf(h, lo, c)[0], 0, 100), (A.adx(h, lo, c), 0, 100),
                            (A.ultosc(h, lo, c), 0, 100)]:
        a = np.asarray(arr)
        a = a[~np.isnan(a)]
        assert np.all(a >= lo_b - 1e-9) and np.all(a <= hi_b + 1e-9)


# ---------------------------------------------------------------------------
# list in / list out: built by the kernels in place, same bits as the arrays
# ---------------------------------------------------------------------------

ALL_FNS = {
    **{k: ("c", v) for k, v in CLOSE_FNS.items()},
    **{k: ("hlc", v) for k, v in HLC_FNS.items()},
    "obv": ("cv", ()), "ad": ("hlcv", ()), "adosc": ("hlcv", (3, 10)),
}
SHORT_PARAMS = {  # small periods so that short inputs still produce values
    "sma": (3,), "ema": (3,), "rsi": (2,), "mom": (2,), "roc": (2,), "rocp": (2,), "rocr": (2,),
    "macd": (2, 4, 2), "bbands": (3, 2.0, 1.5), "stochrsi": (2, 2, 2), "atr": (2,), "natr": (2,),
    "trange": (), "stoch": (2, 2, 2), "stochf": (2, 2), "plus_di": (2,), "minus_di": (2,),
    "dx": (2,), "adx": (2,), "cci": (2,), "willr": (2,), "ultosc": (1, 2, 3), "obv": (),
    "ad": (), "adosc": (2, 3),
}


def _bits(x):
    return np.asarray(x, dtype=np.float64).view(np.uint64)


def _call_all(cols, params=None):
    """Every indicator on ``cols`` (dict of h/l/c/v); stochastic short-input
    errors are returned as values so both paths can be compared."""
    out = {}
    for name, (kind, default) in ALL_FNS.items():
        try:
            out[name] = _parts(getattr(A, name)(*(cols[k] for k in kind),
                                                *(params or {}).get(name, default)))
        except ValueError as e:
            out[name] = str(e)
    return out


special = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0])
values = st.one_of(st.floats(-1e6, 1e6), special)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(values, values, values, values), min_size=0, max_size=40),
       st.booleans())
def test_list_path_is_bit_identical_to_array_path(rows, short):
    """Lists are computed by the kernels straight into the output list; the
    floats must carry exactly the bits of the array path (NaN sign and
    payload, -0.0), for inputs with NaN, infinities and zeros."""
    cols = {k: [r[i] for r in rows] for i, k in enumerate("hlcv")}
    params = SHORT_PARAMS if short else None
    got = _call_all(cols, params)
    ref = _call_all({k: np.array(v, dtype=np.float64) for k, v in cols.items()}, params)
    for name in ALL_FNS:
        if isinstance(ref[name], str):
            assert got[name] == ref[name], name
            continue
        for g, r in zip(got[name], ref[name]):
            assert type(g) is list and all(type(v) is float for v in g), name
            assert np.array_equal(_bits(g), _bits(r)), name


def test_list_results_are_ordinary_lists():
    """Fresh float objects (no sharing), and the list is tracked by the
    garbage collector again once built (it is untracked while the kernel
    writes doubles into its slots)."""
    import gc

    h, lo, c, v = (x.tolist() for x in _ohlcv(200))
    for name, (kind, params) in ALL_FNS.items():
        for res in _parts(getattr(A, name)(*({"h": h, "l": lo, "c": c, "v": v}[k] for k in kind),
                                           *params)):
            assert type(res) is list and len(res) == 200 and gc.is_tracked(res), name
            assert len({id(x) for x in res}) == 200, name
    res = A.sma([1.0, 2.0, 3.0], 2)
    res.append(res)  # a cycle through the result is collectable
    del res
    gc.collect()


def test_list_input_with_ints_converts_like_float():
    """Exact ints in a float list take the one-pass C conversion and round as
    ``float(i)`` does (2**53 + 1 is not representable); ints beyond a double,
    bools, numpy scalars and float subclasses give the same values too."""

    class F(float):
        pass

    for xs in ([1.0, 2, 2**53 + 1, 4.5, -7, 10**20, 3],
               [True, 2.0, np.float32(3.5), np.int64(4), F(1.5), 2**64 + 1, False]):
        as_floats = [float(x) for x in xs]
        for name in ("sma", "ema", "mom", "rocr"):
            got = getattr(A, name)(xs, 2)
            assert type(got) is list
            assert np.array_equal(_bits(got), _bits(getattr(A, name)(as_floats, 2))), name
    with pytest.raises(OverflowError):
        A.sma([1.0, 10**400], 1)


def test_pooled_conversion_buffers_are_never_shared():
    """Long float lists are converted into reused buffers (``_kernels._buffer``):
    a buffer still referenced is not handed out again, lengths may change
    from call to call, and the pool stays bounded."""
    from nanobook.analytics import _convert, _kernels

    n = 1 << 15  # above the pooling threshold
    h, lo, c, v = _ohlcv(n, seed=3)
    arrays = {"h": h, "l": lo, "c": c, "v": v}
    lists = {k: a.tolist() for k, a in arrays.items()}
    expect = _call_all(arrays)
    for _ in range(2):  # second pass runs on reused buffers
        got = _call_all(lists)
        for name in ALL_FNS:
            for g, r in zip(got[name], expect[name]):
                assert np.array_equal(_bits(g), _bits(r)), name
    held = _convert.float_vector(lists["c"])
    other = _convert.float_vector(lists["h"])
    assert held is not other and np.array_equal(held, c) and np.array_equal(other, h)
    assert np.array_equal(_bits(A.sma(lists["v"], 5)), _bits(A.sma(v, 5)))
    assert np.array_equal(held, c)  # untouched while held
    short = lists["c"][: n // 2]
    assert np.array_equal(_bits(A.ema(short, 7)), _bits(A.ema(c[: n // 2], 7)))
    count, nbytes = _kernels.pool_info()
    assert count <= 4 and nbytes <= 4 * 8 * (1 << 21)


def test_indicators_from_threads_agree():
    """Kernels run without the GIL while list outputs are under construction
    and buffers are pooled: concurrent calls must not see each other's data."""
    from concurrent.futures import ThreadPoolExecutor

    series = [(x.tolist() for x in _ohlcv(1 << 15, seed=s)) for s in range(6)]
    series = [tuple(s) for s in series]

    def work(cols):
        h, lo, c, v = cols
        return [A.bbands(c, 20), A.willr(h, lo, c, 14), A.adx(h, lo, c, 14), A.sma(c, 9),
                A.adosc(h, lo, c, v)]

    serial = [work(s) for s in series]
    with ThreadPoolExecutor(4) as ex:
        for _ in range(2):
            for got, exp in zip(ex.map(work, series), serial):
                for g, e in zip(got, exp):
                    for gi, ei in zip(_parts(g), _parts(e)):
                        assert np.array_equal(_bits(gi), _bits(ei))


def test_list_path_does_not_leak():
    """Floats written into the output lists, pooled buffers and abandoned
    intermediate outputs are all released: repeated calls keep memory flat
    and leave the inputs' reference counts alone."""
    import gc
    import sys
    import tracemalloc

    h, lo, c, v = (x.tolist() for x in _ohlcv(1 << 14, seed=5))

    def once():
        for name, (kind, params) in ALL_FNS.items():
            getattr(A, name)(*({"h": h, "l": lo, "c": c, "v": v}[k] for k in kind), *params)

    once()
    once()
    gc.collect()
    refs = (sys.getrefcount(c), sys.getrefcount(c[7]))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(3):
            once()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 1024, grown  # one leaked float per output call would be > 2 KB
    assert (sys.getrefcount(c), sys.getrefcount(c[7])) == refs
