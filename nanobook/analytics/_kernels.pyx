# cython: language_level=3
"""Loop-bound indicator kernels.

Every kernel takes contiguous float64 memoryviews, validates nothing (the
Python layer in ``indicators.py`` does that once), writes into a freshly
allocated output array and runs its loop without the GIL.  Floating-point
operations are performed in the reference's order (left-to-right sums,
the same update formulas), so results are bit-identical to nanobook 0.19.
"""
import numpy as np
cimport numpy as cnp
from libc.math cimport INFINITY, NAN, fabs, sqrt, isnan

cnp.import_array()

ctypedef const double[::1] cvec
ctypedef double[::1] vec


cdef inline double _fmax(double a, double b) noexcept nogil:
    # Rust f64::max: NaN-ignoring
    if isnan(a):
        return b
    if isnan(b):
        return a
    return a if a >= b else b


cdef inline double _fmin(double a, double b) noexcept nogil:
    if isnan(a):
        return b
    if isnan(b):
        return a
    return a if a <= b else b


cdef inline object _nan_array(Py_ssize_t n):
    out = np.empty(n, dtype=np.float64)
    out.fill(np.nan)
    return out


# ---------------------------------------------------------------------------
# moving averages
# ---------------------------------------------------------------------------

cdef void _sma_into(const double* x, Py_ssize_t n, Py_ssize_t p, double* out) noexcept nogil:
    """out[p-1:] = running-sum SMA of x (caller pre-fills NaN)."""
    cdef Py_ssize_t i
    cdef double s = -0.0
    cdef double dp = <double>p
    if p == 0 or n < p:
        return
    for i in range(p):
        s += x[i]
    out[p - 1] = s / dp
    for i in range(p, n):
        s += x[i] - x[i - p]
        out[i] = s / dp


cdef void _sma_win_into(const double* x, Py_ssize_t n, Py_ssize_t p, double* out) noexcept nogil:
    """out[p-1:] = SMA of x with the window sum recomputed per window."""
    cdef Py_ssize_t i, j
    cdef double s
    cdef double dp = <double>p
    if p == 0 or n < p:
        return
    for i in range(p - 1, n):
        s = -0.0
        for j in range(i + 1 - p, i + 1):
            s += x[j]
        out[i] = s / dp


cdef void _ema_into(const double* x, Py_ssize_t n, Py_ssize_t p, double* out) noexcept nogil:
    cdef Py_ssize_t i
    cdef double s = -0.0
    cdef double k
    if p == 0 or n < p:
        return
    for i in range(p):
        s += x[i]
    out[p - 1] = s / <double>p
    k = 2.0 / (<double>p + 1.0)
    for i in range(p, n):
        out[i] = (x[i] - out[i - 1]) * k + out[i - 1]


def sma(cvec x, Py_ssize_t p):
    cdef Py_ssize_t n = x.shape[0]
    out = _nan_array(n)
    cdef vec o = out
    if n:
        with nogil:
            _sma_into(&x[0], n, p, &o[0])
    return out


def ema(cvec x, Py_ssize_t p):
    cdef Py_ssize_t n = x.shape[0]
    out = _nan_array(n)
    cdef vec o = out
    if n:
        with nogil:
            _ema_into(&x[0], n, p, &o[0])
    return out


def rolling_std_pop(cvec x, Py_ssize_t p):
    """Population std of each full window, Welford recomputed per window."""
    cdef Py_ssize_t n = x.shape[0]
    cdef Py_ssize_t i, j, cnt
    cdef double mean, m2, d, v
    cdef double k = <double>p
    out = _nan_array(n)
    cdef vec o = out
    if p == 0 or n < p:
        return out
    with nogil:
        for i in range(p - 1, n):
            mean = 0.0
            m2 = 0.0
            cnt = 0
            for j in range(i + 1 - p, i + 1):
                cnt += 1
                v = x[j]
                d = v - mean
                mean += d / <double>cnt
                m2 += d * (v - mean)
            v = m2 / k
            if not (v >= 0.0):  # Rust f64::max(v, 0.0): NaN and negatives give 0
                v = 0.0
            o[i] = sqrt(v)
    return out


# ---------------------------------------------------------------------------
# RSI family
# ---------------------------------------------------------------------------

cdef inline double _rsi_val(double g, double l) noexcept nogil:
    if g == 0.0 and l == 0.0:
        return 0.0
    if l == 0.0:
        return 100.0
    return 100.0 - 100.0 / (1.0 + g / l)


cdef void _rsi_into(const double* c, Py_ssize_t n, Py_ssize_t p, double* out) noexcept nogil:
    cdef Py_ssize_t i
    cdef double g = 0.0, l = 0.0, d, gain, loss
    cdef double dp = <double>p
    if p == 0 or n <= p:
        return
    for i in range(1, p + 1):
        d = c[i] - c[i - 1]
        if d > 0.0:
            g += d
        else:
            l -= d
    g /= dp
    l /= dp
    out[p] = _rsi_val(g, l)
    for i in range(p + 1, n):
        d = c[i] - c[i - 1]
        gain = d if d > 0.0 else 0.0
        loss = -d if d < 0.0 else 0.0
        g = (g * (dp - 1.0) + gain) / dp
        l = (l * (dp - 1.0) + loss) / dp
        out[i] = _rsi_val(g, l)


def rsi(cvec c, Py_ssize_t p):
    cdef Py_ssize_t n = c.shape[0]
    out = _nan_array(n)
    cdef vec o = out
    if n:
        with nogil:
            _rsi_into(&c[0], n, p, &o[0])
    return out


# ---------------------------------------------------------------------------
# ATR family
# ---------------------------------------------------------------------------

def trange(cvec h, cvec l, cvec c):
    cdef Py_ssize_t n = h.shape[0]
    cdef Py_ssize_t i
    out = _nan_array(n)
    cdef vec o = out
    with nogil:
        for i in range(1, n):
            o[i] = _fmax(_fmax(h[i] - l[i], fabs(h[i] - c[i - 1])), fabs(l[i] - c[i - 1]))
    return out


def atr(cvec h, cvec l, cvec c, Py_ssize_t p):
    """Wilder ATR; TR0 = h0 - l0; seed = mean(TR[1..=p]) at index p."""
    cdef Py_ssize_t n = h.shape[0]
    cdef Py_ssize_t i
    cdef double s = 0.0, dp = <double>p, tr, prev
    out = _nan_array(n)
    cdef vec o = out
    if p == 0 or n <= p:
        return out
    with nogil:
        for i in range(1, p + 1):
            s += _fmax(_fmax(h[i] - l[i], fabs(h[i] - c[i - 1])), fabs(l[i] - c[i - 1]))
        prev = s / dp
        o[p] = prev
        for i in range(p + 1, n):
            tr = _fmax(_fmax(h[i] - l[i], fabs(h[i] - c[i - 1])), fabs(l[i] - c[i - 1]))
            prev = (prev * (dp - 1.0) + tr) / dp
            o[i] = prev
    return out


def natr(cvec h, cvec l, cvec c, Py_ssize_t p):
    """ATR of the true range, as a percentage of the close (0 when close == 0)."""
    cdef Py_ssize_t n = h.shape[0]
    cdef Py_ssize_t i
    out = atr(h, l, c, p)
    cdef vec o = out
    with nogil:
        for i in range(p, n):
            if c[i] != 0.0:
                o[i] = o[i] / c[i] * 100.0
            else:
                o[i] = 0.0
    return out


# ---------------------------------------------------------------------------
# stochastic family
# ---------------------------------------------------------------------------

cdef void _raw_k(const double* h, const double* l, const double* c, Py_ssize_t n,
                 Py_ssize_t fk, double flat, double* out) noexcept nogil:
    """out[i - fk + 1] = raw %K at i for i >= fk - 1 (window max/min scan)."""
    cdef Py_ssize_t i, j, ws
    cdef double hh, ll, r
    for i in range(fk - 1, n):
        ws = i + 1 - fk
        hh = -INFINITY
        ll = INFINITY
        for j in range(ws, i + 1):
            hh = _fmax(hh, h[j])
            ll = _fmin(ll, l[j])
        r = hh - ll
        if r != 0.0:
            out[i - fk + 1] = (c[i] - ll) / r * 100.0
        else:
            out[i - fk + 1] = flat


cdef void _raw_k_nanprop(const double* x, Py_ssize_t n, Py_ssize_t fk,
                         double* out) noexcept nogil:
    """Stochastic of a single series; a NaN anywhere in the window gives NaN."""
    cdef Py_ssize_t i, j
    cdef double hh, ll, r, v
    for i in range(fk - 1, n):
        hh = -INFINITY
        ll = INFINITY
        for j in range(i + 1 - fk, i + 1):
            v = x[j]
            if isnan(v):
                hh = NAN
                ll = NAN
                break
            if v > hh:
                hh = v
            if v < ll:
                ll = v
        r = hh - ll
        if r != 0.0:
            out[i - fk + 1] = (x[i] - ll) / r * 100.0
        else:
            out[i - fk + 1] = 50.0


def stoch(cvec h, cvec l, cvec c, Py_ssize_t fk, Py_ssize_t sk, Py_ssize_t sd):
    cdef Py_ssize_t n = h.shape[0]
    cdef Py_ssize_t i, m, first
    slowk = _nan_array(n)
    slowd = _nan_array(n)
    if n == 0 or fk == 0 or sk == 0 or sd == 0 or n < fk:
        return slowk, slowd
    m = n - fk + 1
    raw = np.empty(m, dtype=np.float64)
    k1 = _nan_array(m)
    d1 = _nan_array(m)
    cdef vec r = raw
    cdef vec vk = k1
    cdef vec vd = d1
    cdef vec ok = slowk
    cdef vec od = slowd
    first = fk + sk + sd - 3
    with nogil:
        _raw_k(&h[0], &l[0], &c[0], n, fk, 50.0, &r[0])
        _sma_win_into(&r[0], m, sk, &vk[0])
        if m >= sk:
            _sma_win_into(&vk[sk - 1], m - sk + 1, sd, &vd[sk - 1])
        for i in range(first, n):
            ok[i] = vk[i - fk + 1]
            od[i] = vd[i - fk + 1]
    return slowk, slowd


def stochf(cvec h, cvec l, cvec c, Py_ssize_t fk, Py_ssize_t fd):
    cdef Py_ssize_t n = h.shape[0]
    cdef Py_ssize_t i, m, first
    fastk = _nan_array(n)
    fastd = _nan_array(n)
    if n == 0 or fk == 0 or fd == 0 or n < fk:
        return fastk, fastd
    m = n - fk + 1
    raw = np.empty(m, dtype=np.float64)
    d1 = _nan_array(m)
    cdef vec r = raw
    cdef vec vd = d1
    cdef vec ok = fastk
    cdef vec od = fastd
    first = fk + fd - 2
    with nogil:
        _raw_k(&h[0], &l[0], &c[0], n, fk, 50.0, &r[0])
        _sma_win_into(&r[0], m, fd, &vd[0])
        for i in range(first, n):
            ok[i] = r[i - fk + 1]
            od[i] = vd[i - fk + 1]
    return fastk, fastd


def stochrsi(cvec c, Py_ssize_t tp, Py_ssize_t fk, Py_ssize_t fd):
    cdef Py_ssize_t n = c.shape[0]
    cdef Py_ssize_t i, m, first
    fastk = _nan_array(n)
    fastd = _nan_array(n)
    if n == 0 or fk == 0 or fd == 0:
        return fastk, fastd
    r = rsi(c, tp)
    first = tp + fk + fd - 2
    if n <= first:
        return fastk, fastd
    cdef vec rv = r
    m = n - tp - fk + 1
    raw = np.empty(m, dtype=np.float64)
    d1 = _nan_array(m)
    cdef vec rk = raw
    cdef vec vd = d1
    cdef vec ok = fastk
    cdef vec od = fastd
    with nogil:
        _raw_k_nanprop(&rv[tp], n - tp, fk, &rk[0])
        _sma_win_into(&rk[0], m, fd, &vd[0])
        for i in range(first, n):
            ok[i] = rk[i - tp - fk + 1]
            od[i] = vd[i - tp - fk + 1]
    return fastk, fastd


# ---------------------------------------------------------------------------
# directional movement
# ---------------------------------------------------------------------------

def dmi(cvec h, cvec l, cvec c, Py_ssize_t p):
    """Return (plus_di, minus_di, dx, adx), Wilder-summed TA-Lib style."""
    cdef Py_ssize_t n = h.shape[0]
    cdef Py_ssize_t i
    cdef double trs = 0.0, ps = 0.0, ms = 0.0, dp = <double>p
    cdef double hd, ld, tr, pdm, mdm, pdi, mdi, s, adxs
    pdi_a = _nan_array(n)
    mdi_a = _nan_array(n)
    dx_a = _nan_array(n)
    adx_a = _nan_array(n)
    if p == 0 or n <= p:
        return pdi_a, mdi_a, dx_a, adx_a
    cdef vec opd = pdi_a
    cdef vec omd = mdi_a
    cdef vec odx = dx_a
    cdef vec oad = adx_a
    with nogil:
        for i in range(1, n):
            hd = h[i] - h[i - 1]
            ld = l[i - 1] - l[i]
            pdm = hd if (hd > ld and hd > 0.0) else 0.0
            mdm = ld if (ld > hd and ld > 0.0) else 0.0
            tr = _fmax(_fmax(h[i] - l[i], fabs(h[i] - c[i - 1])), fabs(l[i] - c[i - 1]))
            if i < p:
                trs += tr
                ps += pdm
                ms += mdm
                continue
            trs = trs - trs / dp + tr
            ps = ps - ps / dp + pdm
            ms = ms - ms / dp + mdm
            if trs != 0.0:
                pdi = 100.0 * ps / trs
                mdi = 100.0 * ms / trs
                s = pdi + mdi
                opd[i] = pdi
                omd[i] = mdi
                odx[i] = 100.0 * fabs(pdi - mdi) / s if s != 0.0 else 0.0
            else:
                opd[i] = 0.0
                omd[i] = 0.0
                odx[i] = 0.0
        if p >= 2 and n >= 2 * p:
            adxs = 0.0
            for i in range(p, 2 * p):
                adxs += odx[i]
            adxs /= dp
            oad[2 * p - 1] = adxs
            for i in range(2 * p, n):
                adxs = (adxs * (dp - 1.0) + odx[i]) / dp
                oad[i] = adxs
    return pdi_a, mdi_a, dx_a, adx_a


# ---------------------------------------------------------------------------
# oscillators on a window
# ---------------------------------------------------------------------------

def cci(cvec h, cvec l, cvec c, Py_ssize_t p):
    cdef Py_ssize_t n = h.shape[0]
    cdef Py_ssize_t i, j
    cdef double avg, md, d
    out = _nan_array(n)
    if p < 2 or n < p:
        return out
    tp_a = np.empty(n, dtype=np.float64)
    cdef vec tp = tp_a
    cdef vec o = out
    with nogil:
        for i in range(n):
            tp[i] = (h[i] + l[i] + c[i]) / 3.0
        for i in range(p - 1, n):
            avg = 0.0
            for j in range(i + 1 - p, i + 1):
                avg += tp[j]
            avg /= <double>p
            md = 0.0
            for j in range(i + 1 - p, i + 1):
                md += fabs(tp[j] - avg)
            d = tp[i] - avg
            if d != 0.0 and md != 0.0:
                o[i] = d / (0.015 * (md / <double>p))
            else:
                o[i] = 0.0
    return out


def willr(cvec h, cvec l, cvec c, Py_ssize_t p):
    cdef Py_ssize_t n = h.shape[0]
    cdef Py_ssize_t i, j
    cdef double hh, ll, r
    out = _nan_array(n)
    if p < 2 or n < p:
        return out
    cdef vec o = out
    with nogil:
        for i in range(p - 1, n):
            hh = -INFINITY
            ll = INFINITY
            for j in range(i + 1 - p, i + 1):
                hh = _fmax(hh, h[j])
                ll = _fmin(ll, l[j])
            r = hh - ll
            if r != 0.0:
                o[i] = -100.0 * (hh - c[i]) / r
            else:
                o[i] = 0.0
    return out


def ultosc(cvec h, cvec l, cvec c, Py_ssize_t p1, Py_ssize_t p2, Py_ssize_t p3):
    """Ultimate oscillator; p1 <= p2 <= p3 (sorted by the caller).

    Buying pressure ``c - min(l, c[-1])`` and true range
    ``max(h-l, |h-c[-1]|, |l-c[-1]|)`` are kept in running window sums
    (add the newest, emit, drop the oldest), as TA-Lib does.
    """
    cdef Py_ssize_t n = h.shape[0]
    cdef Py_ssize_t i, j, k
    cdef double tl, t, a, b, acc
    cdef double A[3]
    cdef double B[3]
    cdef Py_ssize_t P[3]
    out = _nan_array(n)
    if p1 == 0 or n <= p3:
        return out
    bp_a = np.zeros(n, dtype=np.float64)
    tr_a = np.zeros(n, dtype=np.float64)
    cdef vec bp = bp_a
    cdef vec tr = tr_a
    cdef vec o = out
    P[0] = p1
    P[1] = p2
    P[2] = p3
    with nogil:
        for i in range(1, n):
            tl = _fmin(l[i], c[i - 1])
            bp[i] = c[i] - tl
            t = h[i] - l[i]
            a = fabs(h[i] - c[i - 1])
            b = fabs(l[i] - c[i - 1])
            if a > t:
                t = a
            if b > t:
                t = b
            tr[i] = t
        for k in range(3):
            A[k] = 0.0
            B[k] = 0.0
            for j in range(p3 - P[k] + 1, p3):
                A[k] += bp[j]
                B[k] += tr[j]
        for i in range(p3, n):
            acc = 0.0
            for k in range(3):
                A[k] += bp[i]
                B[k] += tr[i]
                t = A[k] / B[k] if B[k] != 0.0 else 0.0
                if k == 0:
                    acc = 4.0 * t
                elif k == 1:
                    acc = acc + 2.0 * t
                else:
                    acc = acc + t
                A[k] -= bp[i - P[k] + 1]
                B[k] -= tr[i - P[k] + 1]
            o[i] = 100.0 * (acc / 7.0)
    return out


# ---------------------------------------------------------------------------
# volume
# ---------------------------------------------------------------------------

def obv(cvec c, cvec v):
    cdef Py_ssize_t n = c.shape[0]
    cdef Py_ssize_t i
    cdef double acc
    out = np.empty(n, dtype=np.float64)
    cdef vec o = out
    if n == 0:
        return out
    with nogil:
        acc = v[0]
        o[0] = acc
        for i in range(1, n):
            if c[i] > c[i - 1]:
                acc += v[i]
            elif c[i] < c[i - 1]:
                acc -= v[i]
            o[i] = acc
    return out


def ad(cvec h, cvec l, cvec c, cvec v):
    cdef Py_ssize_t n = h.shape[0]
    cdef Py_ssize_t i
    cdef double acc = 0.0, r
    out = np.empty(n, dtype=np.float64)
    cdef vec o = out
    with nogil:
        for i in range(n):
            r = h[i] - l[i]
            if r > 0.0:
                acc += ((c[i] - l[i]) - (h[i] - c[i])) / r * v[i]
            o[i] = acc
    return out


def adosc(cvec h, cvec l, cvec c, cvec v, Py_ssize_t fast, Py_ssize_t slow):
    cdef Py_ssize_t n = h.shape[0]
    cdef Py_ssize_t i, start
    cdef double kf, ks, ef, es, x
    out = _nan_array(n)
    if fast < 2 or slow < 2:
        return out
    start = (fast if fast > slow else slow) - 1
    if n <= start:
        return out
    adv = ad(h, l, c, v)
    cdef vec a = adv
    cdef vec o = out
    kf = 2.0 / (<double>fast + 1.0)
    ks = 2.0 / (<double>slow + 1.0)
    with nogil:
        ef = a[0]
        es = a[0]
        for i in range(1, n):
            x = a[i]
            ef = kf * x + (1.0 - kf) * ef
            es = ks * x + (1.0 - ks) * es
            if i >= start:
                o[i] = ef - es
    return out


# ---------------------------------------------------------------------------
# list <-> array conversion (the reference's calling convention is lists)
# ---------------------------------------------------------------------------

from cpython.float cimport PyFloat_AS_DOUBLE, PyFloat_CheckExact
from cpython.list cimport PyList_GET_ITEM
from cpython.ref cimport PyObject


def list_to_f64(list x):
    """Fast path: a list of exact Python floats -> float64 array, or None when
    any element is something else (the caller then validates element-wise)."""
    cdef Py_ssize_t n = len(x)
    cdef Py_ssize_t i
    cdef PyObject* item
    out = np.empty(n, dtype=np.float64)
    cdef double[::1] o = out
    for i in range(n):
        item = PyList_GET_ITEM(x, i)
        if not PyFloat_CheckExact(<object>item):
            return None
        o[i] = PyFloat_AS_DOUBLE(<object>item)
    return out
